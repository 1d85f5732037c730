"""Qt models over the store: the client list (paged, lazily fetched) and a client's sessions."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from desktop.records import areas_text, fmt_date
from desktop.store import ClientSummary, SessionRow, Store, StoreError

_Index = QModelIndex | QPersistentModelIndex


def _date(text: str | None) -> str:
    return fmt_date(dt.date.fromisoformat(text[:10])) if text else ""


class _RowsModel(QAbstractTableModel):
    """A read-only table over a Python list ``_rows``, with fixed ``COLUMNS``."""

    COLUMNS: tuple[str, ...] = ()
    _rows: list

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


class ClientTableModel(_RowsModel):
    """Clients matching the search, last visit first. Rows are fetched a page at a time as the view
    scrolls (``canFetchMore``/``fetchMore``), so 100,000 clients cost one page per keystroke."""

    PAGE = 100
    COLUMNS = ("Name", "Phone", "Email", "Date of birth", "Last visit")
    IdRole = Qt.ItemDataRole.UserRole + 1
    error_changed = Signal(str)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.query = ""
        self.archived = False
        self.error = ""  # why the list is incomplete (the file is damaged), or ""
        self._rows: list[ClientSummary] = []
        self._more = False
        self.refresh()

    def set_filter(self, query: str, archived: bool | None = None) -> None:
        self.query = query
        if archived is not None:
            self.archived = archived
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self.error = ""
        try:
            self._rows = self.store.search_clients(self.query, self.archived, limit=self.PAGE + 1)
        except StoreError as exc:  # a damaged file: say so where the count goes, show what was read
            self._rows, self.error = [], str(exc)
        self._more = len(self._rows) > self.PAGE
        del self._rows[self.PAGE :]
        self.endResetModel()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or not self._more:
            return
        try:
            rows = self.store.search_clients(
                self.query, self.archived, limit=self.PAGE + 1, offset=len(self._rows)
            )
        except StoreError as exc:
            self._more, self.error = False, str(exc)
            self.error_changed.emit(self.error)
            return
        self._more = len(rows) > self.PAGE
        rows = rows[: self.PAGE]
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(rows) - 1)
        self._rows += rows
        self.endInsertRows()

    def client_id(self, row: int) -> int:
        return self._rows[row].id

    def data(self, index: _Index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        if role == self.IdRole:
            return r.id
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        col = index.column()
        if col == 0:
            return r.list_name
        if col == 1:
            return r.phone
        if col == 2:
            return r.email
        if col == 3:
            return fmt_date(r.date_of_birth)
        return fmt_date(r.last_visit) or "—"


class SessionTableModel(_RowsModel):
    COLUMNS = ("Date", "Series", "Status", "Duration", "Areas", "Set-point", "Peak", "Practitioner")
    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, sessions: list[SessionRow], unit_fmt, parent=None):
        super().__init__(parent)
        self._rows = sessions
        self._fmt = unit_fmt
        self._numbers: dict[int, str] = {}

    def set_sessions(self, sessions: list[SessionRow], numbers: dict[int, str] | None = None) -> None:
        """``numbers``: each session's place in its series ("4 of 6"), by session id."""
        self.beginResetModel()
        self._rows = sessions
        self._numbers = numbers or {}
        self.endResetModel()

    def session_id(self, row: int) -> int:
        return self._rows[row].id

    def data(self, index: _Index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        s = self._rows[index.row()]
        if role == self.IdRole:
            return s.id
        if role == Qt.ItemDataRole.ForegroundRole and s.status in ("interrupted", "recording"):
            return QColor("#b00020")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        col = index.column()
        if col == 0:
            return f"{_date(s.started_at)} {s.started_at[11:16]}"
        if col == 1:
            return self._numbers.get(s.id, "—")
        col -= 1
        if col == 1:
            return s.status
        if col == 2:
            secs = s.summary.get("duration_s")
            return f"{int(secs) // 60} min" if secs else "—"
        if col == 3:  # what the notes say was treated; the plan only while nothing is recorded
            if s.treated_areas:
                return areas_text(s.treated_areas, s.passes)
            return f"planned: {areas_text(s.areas)}" if s.areas else "—"
        if col == 4:
            return self._fmt(s.set_point_kpa) if s.set_point_kpa else "—"
        if col == 5:
            peak = s.summary.get("peak_kpa")
            return self._fmt(peak) if peak else "—"
        return s.practitioner
