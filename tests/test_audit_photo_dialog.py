"""Issue #13: photos are imported from a file dialog as well as by drag and drop and a watched folder.
The Add button's dialog, used as a person would: pick a file, confirm, then the import dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop.photos import metadata_segments
from tests.helpers.photos import two_colour, with_metadata
from tests.test_photos_gui import DEADLINE_MS, client_with_sessions, import_dialog, open_client


def test_add_button_opens_a_file_dialog_and_the_chosen_file_is_imported(qtbot, window, store, tmp_path):
    cid, _ = client_with_sessions(store)
    path = tmp_path / "front.jpg"
    path.write_bytes(with_metadata(two_colour(64, 48)))
    panel = open_client(qtbot, window, cid)
    assert panel.add_button.isEnabled()
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.findChild(QFileDialog) is not None, timeout=DEADLINE_MS)
    files = panel.findChild(QFileDialog)
    assert files.fileMode() == QFileDialog.FileMode.ExistingFiles  # several at once
    assert "*.jpg" in " ".join(files.nameFilters())
    files.setDirectory(str(tmp_path))
    files.selectFile(str(path))
    files.accept()
    dlg = import_dialog(qtbot, panel)
    assert dlg.paths == [str(path)]
    with qtbot.waitSignal(dlg.imported, timeout=DEADLINE_MS):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=DEADLINE_MS)
    [photo] = store.photos_for_client(cid)
    assert metadata_segments(store.photo_image(photo.id)) == []
