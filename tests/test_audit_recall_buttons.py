"""Issue #13: the recall list is exportable as CSV and .ics from its own buttons: each opens a save
dialog (suggesting recall-<date>.<kind>) and writes the file chosen in it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from desktop.recall_window import RecallDialog
from tests.test_series_gui import make_recall_data
from tests.test_series_recall import parse


def _answer_the_save_dialog(target, seen: list) -> QTimer:
    """Like a person: wait for the save dialog, type the file name, save."""
    timer = QTimer(interval=20)

    def look():
        dlg = QApplication.activeModalWidget()
        if isinstance(dlg, QFileDialog):
            timer.stop()
            seen.append((dlg.acceptMode(), dlg.selectedFiles()[0], dlg.nameFilters()))
            dlg.setDirectory(str(target.parent))
            dlg.findChild(QLineEdit, "fileNameEdit").setText(target.name)  # typed over the suggestion
            dlg.accept()

    timer.timeout.connect(look)
    timer.start()
    return timer


def test_the_export_buttons_ask_where_then_write_csv_and_ics(qtbot, window, store, tmp_path):
    make_recall_data(store)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dlg = window.findChild(RecallDialog)
    qtbot.waitExposed(dlg)
    for button, name, kind in ((dlg.csv_button, "recall.csv", "csv"), (dlg.ics_button, "recall.ics", "ics")):
        seen: list = []
        timer = _answer_the_save_dialog(tmp_path / name, seen)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        timer.stop()
        [(mode, suggested, filters)] = seen
        assert mode == QFileDialog.AcceptMode.AcceptSave
        assert suggested.endswith(f"recall-{dlg.today.isoformat()}.{kind}")
        assert any(f"*.{kind}" in f for f in filters)
        assert (tmp_path / name).exists() and f"Exported to {tmp_path / name}" in dlg.summary.text()
    assert (tmp_path / "recall.csv").read_text(encoding="utf-8-sig").startswith("Last name")
    events = parse((tmp_path / "recall.ics").read_bytes().decode("utf-8"))
    assert len(events) == 2
