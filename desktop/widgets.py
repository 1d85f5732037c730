"""Small shared widgets."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QDateEdit, QHeaderView, QLabel, QTableView

EMPTY_DATE = QDate(1900, 1, 1)


class OptionalDateEdit(QDateEdit):
    """A date picker that may be left empty (shown as "—")."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("d MMM yyyy")
        self.setMinimumDate(EMPTY_DATE)
        self.setMaximumDate(QDate(2200, 1, 1))
        self.setSpecialValueText("—")
        self.setDate(EMPTY_DATE)

    def value(self) -> dt.date | None:
        d = self.date()
        return None if d == EMPTY_DATE else dt.date(d.year(), d.month(), d.day())

    def set_value(self, value: dt.date | None) -> None:
        self.setDate(QDate(value.year, value.month, value.day) if value else EMPTY_DATE)


def title(text: str, name: str = "PageTitle") -> QLabel:
    label = QLabel(text)
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


def scaled_font(font: QFont, factor: float) -> QFont:
    """``font`` ``factor`` times larger, whether the stylesheet gave it in pixels or in points."""
    font = QFont(font)
    if font.pixelSize() > 0:
        font.setPixelSize(max(1, round(font.pixelSize() * factor)))
    else:
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * factor)
    return font
