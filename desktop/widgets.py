"""Small shared widgets."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView

from desktop.fields import DateField

# Dates are entered with desktop.fields.DateField (typed in the locale's format, ISO or with a month
# name, visibly empty, no sentinel date). The old name is kept for code written against it.
OptionalDateEdit = DateField


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
