"""The recall list: clients whose next session of a series is due this week or overdue, leaving out
those an active contraindication blocks; exported as CSV (spreadsheets) and .ics (calendars)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QVBoxLayout,
)

from desktop.ical import calendar
from desktop.models import _RowsModel
from desktop.records import fmt_date
from desktop.series import RecallEntry, recall, recall_csv, recall_events, week_end
from desktop.store import Store, StoreError
from desktop.ui import error_box, plain
from desktop.widgets import read_only_table, title


class RecallTableModel(_RowsModel):
    COLUMNS = ("Name", "Phone", "Email", "Session", "Due", "Last session")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[RecallEntry] = []

    def set_entries(self, entries: list[RecallEntry]) -> None:
        self.beginResetModel()
        self._rows = entries
        self.endResetModel()

    def entry(self, row: int) -> RecallEntry:
        return self._rows[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.ForegroundRole and col == 4 and e.overdue_days:
            return QColor("#b00020")
        if role == Qt.ItemDataRole.ToolTipRole and col == 5:
            return self.last_column(e)  # the whole reason, where the column is too narrow
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        c = e.candidate
        if col == 0:
            return f"{c.last_name}, {c.first_name}" if c.first_name else c.last_name
        if col == 1:
            return c.phone
        if col == 2:
            return c.email
        if col == 3:
            return e.session_text
        if col == 4:
            return fmt_date(e.due) + (f" ({e.overdue_days} d overdue)" if e.overdue_days else "")
        return self.last_column(e)

    def last_column(self, e: RecallEntry) -> str:
        last = e.candidate.progress.last
        return fmt_date(last) if last else "—"


class LeftOutTableModel(RecallTableModel):
    """Those left out, with the contraindication that blocks them."""

    COLUMNS = (*RecallTableModel.COLUMNS[:5], "Why not now")

    def last_column(self, e: RecallEntry) -> str:
        return e.blocked_text


def write_atomically(path: Path, text: str, encoding: str) -> None:
    """Write the whole file or nothing: a full disk never leaves half a list where the old one was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RecallDialog(QDialog):
    open_client = Signal(int)

    def __init__(self, store: Store, parent=None, today: dt.date | None = None):
        super().__init__(parent)
        self.store = store
        self.today = today or dt.date.today()
        self.setWindowTitle("Recall list")
        self.resize(1100, 640)
        self.horizon = QComboBox()
        self.horizon.addItem(f"this week (to {fmt_date(week_end(self.today))})", 0)
        self.horizon.addItem(f"this week and next (to {fmt_date(week_end(self.today, 1))})", 1)
        self.horizon.currentIndexChanged.connect(self.select)
        self.summary = plain()
        self.model = RecallTableModel(self)
        self.view = read_only_table(self.model)
        self.view.activated.connect(
            lambda i: self.open_client.emit(self.model.entry(i.row()).candidate.client_id)
        )
        self.left_out_label = plain("", "Hint")
        self.left_out_model = LeftOutTableModel(self)
        self.left_out_view = read_only_table(self.left_out_model)
        self.left_out_view.setMaximumHeight(160)
        for view, stretch in ((self.view, 2), (self.left_out_view, 5)):
            header = view.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        self.left_out_view.activated.connect(
            lambda i: self.open_client.emit(self.left_out_model.entry(i.row()).candidate.client_id)
        )
        self.csv_button = QPushButton("Export CSV…")
        self.ics_button = QPushButton("Export calendar (.ics)…")
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        self.ics_button.clicked.connect(lambda: self.export("ics"))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        top = QHBoxLayout()
        top.addWidget(title("Recall", "PageTitle"))
        top.addStretch(1)
        top.addWidget(plain("Due by", wrap=False))
        top.addWidget(self.horizon)
        bottom = QHBoxLayout()
        bottom.addWidget(self.csv_button)
        bottom.addWidget(self.ics_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.left_out_label)
        lay.addWidget(self.left_out_view)
        lay.addLayout(bottom)
        self.refresh()

    def refresh(self) -> None:
        """Read the open series once; changing the horizon only selects again."""
        self.candidates = self.store.recall_candidates()
        self.rules = self.store.screening_rules()
        self.select()

    def until(self) -> dt.date:
        return week_end(self.today, self.horizon.currentData())

    def select(self) -> None:
        self.entries, self.left_out = recall(self.candidates, self.rules, self.today, self.until())
        self.model.set_entries(self.entries)
        self.left_out_model.set_entries(self.left_out)
        n = len(self.entries)
        overdue = sum(1 for e in self.entries if e.overdue_days)
        self.summary.setText(
            f"{n} client{'s' if n != 1 else ''} to call"
            + (f", {overdue} of them overdue" if overdue else "")
            + f". Due by {fmt_date(self.until())}; most overdue first. Double-click to open a client."
            if n
            else f"Nobody is due by {fmt_date(self.until())}."
        )
        m = len(self.left_out)
        self.left_out_label.setText(
            f"Left out: {m} client{'s' if m != 1 else ''} an active contraindication blocks on the day "
            "they would come."
        )
        self.left_out_label.setVisible(bool(m))
        self.left_out_view.setVisible(bool(m))
        for b in (self.csv_button, self.ics_button):
            b.setEnabled(bool(n))

    # -- export --------------------------------------------------------------------------------------
    def export_text(self, kind: str) -> tuple[str, str]:
        """(text, encoding) of the list as CSV or iCalendar."""
        if kind == "csv":
            return recall_csv(self.entries), "utf-8-sig"  # the BOM makes spreadsheets read accents right
        events = recall_events(self.entries, self.today, self.store.database_id())
        return calendar(events, dt.datetime.now().astimezone()), "utf-8"

    def export(self, kind: str, path: str | os.PathLike | None = None) -> Path | None:
        if path is None:
            name = f"recall-{self.today.isoformat()}.{kind}"
            filters = "CSV (*.csv)" if kind == "csv" else "Calendar (*.ics)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export the recall list", name, filters)
            if not chosen:
                return None
            path = chosen
        path = Path(path)
        try:
            text, encoding = self.export_text(kind)
            write_atomically(path, text, encoding)
        except (OSError, StoreError) as exc:
            self.error = error_box(
                self, "Not exported", f"The recall list could not be written to {path}:\n{exc}"
            )
            return None
        self.summary.setText(f"{self.summary.text()}  Exported to {path}.")
        return path
