"""Issue #13, the dialogs a person goes through: photos from the Add button's file dialog (besides drag
and drop and the watched folder), and the client export from its one menu item with its folder dialog."""

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


def test_the_clients_menu_item_opens_the_export_and_browse_picks_the_folder(qtbot, window, store, tmp_path):
    from desktop.export_ui import ExportClientDialog

    cid, _ = client_with_sessions(store)
    window.show_client(cid)
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    [item] = [a for m in menus for a in m.actions() if a.text() == "E&xport client record…"]
    item.trigger()
    qtbot.waitUntil(lambda: window.findChild(ExportClientDialog) is not None, timeout=DEADLINE_MS)
    dlg = window.findChild(ExportClientDialog)
    assert dlg.isVisible() and dlg.client_id == cid
    dlg._browse()
    qtbot.waitUntil(lambda: dlg.findChild(QFileDialog) is not None, timeout=DEADLINE_MS)
    folders = dlg.findChild(QFileDialog)
    assert folders.fileMode() == QFileDialog.FileMode.Directory
    folders.setDirectory(str(tmp_path))
    folders.selectFile(str(tmp_path))
    folders.accept()
    qtbot.waitUntil(lambda: dlg.parent_dir.text() == str(tmp_path), timeout=DEADLINE_MS)
    dlg.close()
