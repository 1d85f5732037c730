"""Issue #13: the client-facing screening is in large text. Every control the client reads or types
in on the question page is large, the date of a last dose included (it was the app's normal 9 pt:
the page's style still named QDateEdit, which the date field no longer is)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo

from desktop.records import Client
from tests.test_screening_mode import open_mode


def test_every_field_the_client_uses_is_in_large_text(qtbot, window, store):
    cid = store.add_client(Client("Lara", "Large"))
    dlg = open_mode(qtbot, window, store, cid)
    qtbot.mouseClick(dlg.begin_button, Qt.MouseButton.LeftButton)
    for widget in (dlg.question, dlg.still_label, dlg.when_label, dlg.when, dlg.detail, dlg.next_button):
        widget.ensurePolished()
        size = QFontInfo(widget.font()).pointSizeF()  # as drawn, whether set in points or pixels
        assert size >= 15, (widget, size)  # 16-24 pt set; drawn in whole pixels
    # and the date field is tall enough for its text
    assert dlg.when.sizeHint().height() >= dlg.when.fontMetrics().height() + 8
    dlg.stop()
