"""Small shared widgets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, QEvent, QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QDateEdit, QHeaderView, QLabel, QTableView

# "No date" is the widget's minimum, year 100: no date a clinic records is anywhere near it (a date of
# birth is at most 120 years back), so 1 Jan 1900 — or any date before — is kept as the date it is.
EMPTY_DATE = QDate(100, 1, 1)


class OptionalDateEdit(QDateEdit):
    """A date picker that may be left empty (shown as "—"); its calendar opens on today when empty."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("d MMM yyyy")
        self.setMinimumDate(EMPTY_DATE)
        self.setMaximumDate(QDate(2200, 1, 1))
        self.setSpecialValueText("—")
        self.setDate(EMPTY_DATE)
        self.calendarWidget().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.calendarWidget() and event.type() == QEvent.Type.Show and self.value() is None:
            today = QDate.currentDate()
            obj.setCurrentPage(today.year(), today.month())
        return super().eventFilter(obj, event)

    def value(self) -> dt.date | None:
        d = self.date()
        return None if d == EMPTY_DATE else dt.date(d.year(), d.month(), d.day())

    def set_value(self, value: dt.date | None) -> None:
        self.setDate(QDate(value.year, value.month, value.day) if value else EMPTY_DATE)


def title(text: str, name: str = "PageTitle") -> QLabel:
    """A title; plain text, as every label showing what someone typed (a name is never markup)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setObjectName(name)
    return label


def set_invalid(widget, invalid: bool) -> None:
    widget.setProperty("invalid", "true" if invalid else "false")
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def read_only_table(model) -> QTableView:
    """A table view over ``model``: whole rows, no editing, columns filling the width."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return view


def enable(controls, enabled: bool, reason: str = "") -> None:
    """Enable or disable write controls (widgets, actions); a disabled one says why in its tooltip."""
    for c in controls:
        c.setEnabled(enabled)
        c.setToolTip("" if enabled else reason)


def follow_access(store, owner: QObject, apply: Callable[[bool, str], None]) -> None:
    """Apply the store's read-only mode now and whenever it changes, for as long as ``owner`` lives:
    ``apply(writable, reason)``. The listener is removed when ``owner`` is destroyed, and it holds
    ``owner``'s controls only through ``apply``."""
    apply(store.writable, store.access.reason)
    remove = store.on_access_changed(lambda access: apply(access.writable, access.reason))
    owner.destroyed.connect(lambda *_: remove())


def scaled_font(font: QFont, factor: float) -> QFont:
    """``font`` ``factor`` times larger, whether the stylesheet gave it in pixels or in points."""
    font = QFont(font)
    if font.pixelSize() > 0:
        font.setPixelSize(max(1, round(font.pixelSize() * factor)))
    else:
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * factor)
    return font
