"""Administrator → Audit: who read or changed what, when; filters, CSV export, and the chain's check.

The trail is loaded once when the window opens (``security.audit_entries``) and filtered in memory by
client, person and date. "Verify" walks the whole chain and every record seal on a worker thread (its
own connection to the file) and names the first broken entry; the check itself is recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import threading
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.accounts import Clinic
from desktop.audit import AuditEntry
from desktop.store import StoreError, security

log = logging.getLogger("abrasio.audit")

COLUMNS = ("#", "When", "Person", "Action", "Record", "Client", "Details")


def _details(text: str) -> str:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return text
    if not isinstance(data, dict):
        return str(data)
    return ", ".join(f"{k}: {v}" for k, v in data.items())


class AuditModel(QAbstractTableModel):
    """The loaded entries; ``set_filter`` chooses which rows show (no query per paint)."""

    def __init__(self, entries: list[AuditEntry], client_names: dict[int, str], parent=None):
        super().__init__(parent)
        self.entries = entries
        self.client_names = client_names
        self.rows = list(entries)

    def set_filter(self, client_id=None, person_id=None, since: str | None = None, until: str | None = None):
        self.beginResetModel()
        self.rows = [
            e
            for e in self.entries
            if (client_id is None or e.client_id == client_id)
            and (person_id is None or e.person_id == person_id)
            and (since is None or e.at >= since)
            and (until is None or e.at < until)
        ]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def row_values(self, e: AuditEntry) -> list[str]:
        record = e.record_type + (f" #{e.record_id}" if e.record_id is not None else "")
        client = ""
        if e.client_id is not None:
            client = f"{self.client_names.get(e.client_id, '')} #{e.client_id}".strip()
        return [
            str(e.id),
            e.at[:19].replace("T", " "),
            e.person,
            e.action,
            record,
            client,
            _details(e.details),
        ]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.row_values(self.rows[index.row()])[index.column()]

    def row_of(self, entry_id: int) -> int | None:
        return next((i for i, e in enumerate(self.rows) if e.id == entry_id), None)


class _Relay(QObject):
    verified = Signal(object, object)  # AuditVerdict, list[SealProblem]
    failed = Signal(str)


class AuditWindow(QWidget):
    """The audit screen (a window of its own, owned by the main window)."""

    def __init__(self, clinic: Clinic, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.clinic = clinic
        self.store = clinic.store
        self.setWindowTitle("Audit trail")
        self.setObjectName("AuditWindow")
        entries = security.audit_entries(self.store.db)
        names: dict[int, str] = {}
        for cid in sorted({e.client_id for e in entries if e.client_id is not None}):
            try:
                names[cid] = self.store.client(cid).name
            except StoreError:  # erased or never there: the number alone
                names[cid] = ""
        self.model = AuditModel(entries, names, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((60, 170, 170, 120, 170, 200)):
            self.table.setColumnWidth(col, width)

        self.client = QComboBox()
        self.client.addItem("Every client", None)
        for cid, name in names.items():
            self.client.addItem(f"{name} #{cid}" if name else f"#{cid}", cid)
        self.person = QComboBox()
        self.person.addItem("Everyone", None)
        for p in clinic.people():
            self.person.addItem(p.name + ("" if p.active else " (deactivated)"), p.id)
        first = dt.date.fromisoformat(entries[0].at[:10]) if entries else dt.date.today()
        self.since = QDateEdit(QDate(first.year, first.month, first.day))
        self.until = QDateEdit(QDate.currentDate())
        for d in (self.since, self.until):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.dateChanged.connect(self.apply_filter)
        self.client.currentIndexChanged.connect(self.apply_filter)
        self.person.currentIndexChanged.connect(self.apply_filter)
        self.count = QLabel()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.choose_csv)
        self.verify_button = QPushButton("Verify the chain")
        self.verify_button.setObjectName("Primary")
        self.verify_button.clicked.connect(self.verify)
        self.verdict = QLabel()
        self.verdict.setObjectName("AuditVerdict")
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setWordWrap(True)

        filters = QHBoxLayout()
        for label, widget in (("Client", self.client), ("Person", self.person)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, 1)
        filters.addWidget(QLabel("From"))
        filters.addWidget(self.since)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.until)
        actions = QHBoxLayout()
        actions.addWidget(self.count, 1)
        actions.addWidget(self.export_button)
        actions.addWidget(self.verify_button)
        col = QVBoxLayout(self)
        col.addLayout(filters)
        col.addWidget(self.table, 1)
        col.addWidget(self.verdict)
        col.addLayout(actions)

        self._relay = _Relay(self)
        self._relay.verified.connect(self._verified)
        self._relay.failed.connect(self._verify_failed)
        self.apply_filter()

    # -- filters -----------------------------------------------------------------------------------
    def apply_filter(self) -> None:
        since = self.since.date().toPython()
        until = self.until.date().toPython() + dt.timedelta(days=1)  # the "to" day included
        self.model.set_filter(
            self.client.currentData(), self.person.currentData(), since.isoformat(), until.isoformat()
        )
        n, total = self.model.rowCount(), len(self.model.entries)
        self.count.setText(f"{n} of {total} entries")

    def select_client(self, client_id: int) -> None:
        i = self.client.findData(client_id)
        if i >= 0:
            self.client.setCurrentIndex(i)

    def select_person(self, person_id: int) -> None:
        i = self.person.findData(person_id)
        if i >= 0:
            self.person.setCurrentIndex(i)

    # -- CSV ---------------------------------------------------------------------------------------
    def csv_text(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["id", "at", "person", "action", "record", "client", "details"])
        for e in self.model.rows:
            v = self.model.row_values(e)
            w.writerow([e.id, e.at, e.person, e.action, v[4], v[5], e.details])
        return out.getvalue()

    def choose_csv(self) -> QFileDialog:
        stamp = dt.date.today().isoformat()
        dlg = QFileDialog(self, "Export the audit trail", str(Path.home() / f"abrasio-audit-{stamp}.csv"))
        dlg.setNameFilter("CSV (*.csv)")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.fileSelected.connect(lambda name: self.export_csv(Path(name)))
        dlg.open()
        self.file_dialog = dlg
        return dlg

    def export_csv(self, path: Path) -> bool:
        """The rows shown, to ``path`` (0600: the trail names clients). The export is audited."""
        data = self.csv_text().encode("utf-8")
        try:
            if path.exists():
                path.unlink()  # the save dialog asked before replacing it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            self.verdict.setText(
                f"The audit trail was not exported: {path} could not be written ({exc.strerror})."
            )
            return False
        rows = self.model.rowCount()
        try:
            self.clinic.audit("export", "audit trail", file=str(path), rows=rows)
        except Exception as exc:
            log.error("The audit export was not recorded: %s", exc)
        self.verdict.setText(f"Exported {rows} entries to {path}.")
        return True

    # -- verification -------------------------------------------------------------------------------
    def verify(self) -> None:
        """The chain and every seal, on a worker thread with its own connection."""
        self.verify_button.setEnabled(False)
        self.verdict.setText("Verifying the audit trail and every record's seal…")
        store, protection, relay = self.store, self.store.protection, self._relay

        def work():
            try:
                other = store.reopen()
                try:
                    verdict = security.verify_audit(other.db, protection)
                    problems = security.verify_records(other.db)
                finally:
                    other.close()
            except Exception as exc:
                log.exception("Verifying the audit trail failed")
                relay.failed.emit(f"The check could not run: {exc}")
                return
            relay.verified.emit(verdict, problems)

        threading.Thread(target=work, name="audit verify", daemon=True).start()

    def _verified(self, verdict, problems) -> None:
        self.verify_button.setEnabled(True)
        self.last_verdict, self.last_problems = verdict, problems
        lines = []
        if verdict.ok:
            lines.append(
                f"The audit trail is intact: {verdict.entries} entries, each sealed to the one before."
            )
        else:
            lines.append(verdict.message)
            if verdict.first_broken is not None:
                lines.append(f"First broken entry: #{verdict.first_broken}.")
                row = self.model.row_of(verdict.first_broken)
                if row is not None:
                    self.table.selectRow(row)
                    self.table.scrollTo(self.model.index(row, 0))
        if problems:
            lines += [p.describe() for p in problems[:5]]
            if len(problems) > 5:
                lines.append(f"… and {len(problems) - 5} more records.")
        else:
            lines.append("Every record matches its seal: nothing was changed outside Abrasio.")
        self.verdict.setText("\n".join(lines))
        self.verdict.setProperty("broken", not verdict.ok or bool(problems))
        self.verdict.setStyleSheet("color:#b00020; font-weight:bold;" if (not verdict.ok or problems) else "")
        try:
            self.clinic.audit(
                "verify",
                "audit trail",
                ok=verdict.ok and not problems,
                first_broken=verdict.first_broken,
                record_problems=len(problems),
            )
        except Exception as exc:
            log.error("The verification was not recorded: %s", exc)

    def _verify_failed(self, message: str) -> None:
        self.verify_button.setEnabled(True)
        self.verdict.setText(message)
