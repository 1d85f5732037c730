"""The live alarm list: every alarm of the session, newest first (start, duration, peak, acknowledged)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop.session.alarms import COLOUR
from desktop.session.run import AlarmView
from device.units import format_vacuum

HEADERS = ("Alarm", "Started", "Lasted", "Peak", "Acknowledged")


class AlarmListModel(QAbstractTableModel):
    def __init__(self, unit: str, wall_started: float, parent=None):
        super().__init__(parent)
        self.unit = unit
        self.wall_started = wall_started
        self.rows: tuple[AlarmView, ...] = ()
        self.now = 0.0
        self.version = -1

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def update(self, alarms: tuple[AlarmView, ...], version: int, now: float) -> None:
        """From a snapshot: reset when the alarms changed, else only the running durations."""
        self.now = now
        if version != self.version:
            self.beginResetModel()
            self.rows = tuple(reversed(alarms))
            self.version = version
            self.endResetModel()
        elif any(a.active for a in self.rows):
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.rows) - 1, 2))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        a = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return a.text
            if col == 1:
                return dt.datetime.fromtimestamp(self.wall_started + a.started).strftime("%H:%M:%S")
            if col == 2:
                lasted = (a.ended if a.ended is not None else self.now) - a.started
                return f"{lasted:.1f} s" + ("" if a.ended is not None else " (active)")
            if col == 3:
                return format_vacuum(a.peak_kpa, self.unit) if a.peak_kpa is not None else ""
            if col == 4:
                return (a.acknowledged_by or "yes") if a.acknowledged else ""
        if role == Qt.ItemDataRole.ForegroundRole and col == 0 and a.priority == "high":
            return QBrush(QColor(COLOUR["high"]))
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return a.text
        return None
