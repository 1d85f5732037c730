"""Issue #13: records are printed through the system print dialog. The review window's Print opens a
QPrintDialog (it raised a TypeError and showed nothing: PySide6 binds only QPrintDialog's two-argument
open()); what is accepted in it is printed and recorded, and a print that could not start is said."""

from __future__ import annotations

import pytest
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import QLineEdit

from tests.helpers.pdf import pdf_text
from tests.helpers.sessions import recorded_client
from tests.test_session_outputs import DEADLINE_MS, review


def _print_dialog(qtbot, win, kind: str) -> QPrintDialog:
    win.outputs.print_document(kind)
    qtbot.waitUntil(lambda: win.findChild(QPrintDialog) is not None, timeout=DEADLINE_MS)
    dialog = win.findChild(QPrintDialog)
    assert dialog.isVisible()
    return dialog


def test_print_shows_the_system_print_dialog_and_prints_what_it_accepts(qtbot, store, tmp_path):
    _cid, (sid, _), _n = recorded_client(store)
    win = review(qtbot, store, sid)
    dialog = _print_dialog(qtbot, win, "record")
    assert dialog.windowTitle() == "Print — Treatment session record"
    # no printer is installed here: print to a file, typed into the dialog as a person would
    dialog.findChild(QLineEdit, "filename").setText(str(tmp_path / "printed.pdf"))
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        dialog.accept()
    text = " ".join(pdf_text(tmp_path / "printed.pdf").split())
    assert "Treatment session record" in text and "Vacuum above the ceiling" in text
    assert store.change_log("session", sid)[-1].action == "print record"


@pytest.mark.qt_log_ignore("QPainter::begin")
def test_a_print_that_cannot_start_is_said_and_not_recorded(qtbot, store, tmp_path):
    _cid, (sid, _), _n = recorded_client(store)
    win = review(qtbot, store, sid)
    before = len(store.change_log("session", sid))
    dialog = _print_dialog(qtbot, win, "aftercare")
    dialog.findChild(QLineEdit, "filename").setText(str(tmp_path / "no-such-folder" / "a.pdf"))
    messages: list[str] = []
    win.outputs.failed.connect(messages.append)
    with qtbot.waitSignal(win.outputs.failed, timeout=DEADLINE_MS):
        dialog.accept()
    assert messages[0].startswith("Nothing was printed")
    assert win.outputs.message_box.isVisible()
    assert len(store.change_log("session", sid)) == before  # no print recorded that never happened
    win.outputs.message_box.close()


@pytest.mark.parametrize(
    ("action", "suffix", "check"),
    [
        ("Save the session record as PDF…", "-record.pdf", "Treatment session record"),
        ("Save the aftercare sheet as PDF…", "-aftercare.pdf", "Aftercare"),
        ("Export the whole trace as CSV…", "-trace.csv", "session_time_s,device_time_s"),
        ("Export the visible range as CSV…", "-trace-visible.csv", "session_time_s,device_time_s"),
    ],
)
def test_each_menu_item_opens_a_save_dialog_and_writes_there(qtbot, store, tmp_path, action, suffix, check):
    from PySide6.QtWidgets import QFileDialog

    _cid, (sid, _), _n = recorded_client(store)
    win = review(qtbot, store, sid)
    [item] = [a for a in win.outputs.button.menu().actions() if a.text() == action]
    assert item.isEnabled()
    item.trigger()
    qtbot.waitUntil(lambda: win.findChild(QFileDialog) is not None, timeout=DEADLINE_MS)
    files = win.findChild(QFileDialog)
    assert files.isVisible() and files.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    assert files.selectedFiles()[0].endswith(suffix)  # a suggested name the clinic can keep
    target = tmp_path / f"out{suffix}"
    files.selectFile(str(target))
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        files.accept()
    text = pdf_text(target) if suffix.endswith(".pdf") else target.read_text()
    assert check in text
