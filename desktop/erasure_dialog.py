"""Erase a client at their request: what goes now, what the clinic must keep and until when."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QVBoxLayout,
)

from desktop.erasure import describe
from desktop.records import fmt_date
from desktop.store import Store, StoreError, backups
from desktop.ui import error_box, field_error, plain, show_errors
from desktop.widgets import enable, follow_access, title


class EraseClientDialog(QDialog):
    erased = Signal(int, bool)  # client id, whether nothing of them is left

    def __init__(self, store: Store, client_id: int, who_fn, parent=None, today: dt.date | None = None):
        super().__init__(parent)
        self.store, self.client_id, self.who = store, client_id, who_fn
        self.today = today or dt.date.today()
        self.client = store.client(client_id)
        self.plan = store.erasure_plan(client_id, self.today)
        counts = store.erasure_counts(client_id)
        gone, kept = describe(self.plan, _named(counts))
        self.setWindowTitle(f"Erase — {self.client.name}")
        self.resize(720, 560)

        self.summary = plain(self.plan.summary())
        self.gone = plain("Erased now:\n" + "\n".join(f"  • {x}" for x in gone))
        self.kept = plain(
            (f"Kept until {fmt_date(self.plan.keep_until)}, then it can be erased too:\n" if kept else "")
            + "\n".join(f"  • {x}" for x in kept)
        )
        self.kept.setVisible(bool(kept))
        self.copies = plain(
            f"Abrasio's backups ({backups.FOLDER}/ beside the database, and a second backup folder if one is "
            f"set) still hold the record: the last of them is replaced within {backups.KEEP_MONTHLY} months. "
            "Restoring a backup taken before today brings the client back: erase them again afterwards. "
            f"Copies taken before upgrades ({store.path.name}.v…bak) and any other copies stay until "
            "someone deletes them.",
            "Hint",
        )
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("How the request came, e.g. “letter of 3 May, identity checked”")
        self.reason_error = field_error()
        self.confirm = QCheckBox(f"I have checked that the request comes from {self.client.name}.")
        self.confirm_error = field_error()
        for e in (self.reason_error, self.confirm_error):
            e.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.erase_button = self.buttons.addButton("Erase", QDialogButtonBox.ButtonRole.AcceptRole)
        self.erase_button.setObjectName("Danger")
        self.buttons.accepted.connect(self.erase)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(title(f"Erase {self.client.name}", "SectionTitle"))
        for w in (self.summary, self.gone, self.kept, self.copies):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(plain("Request"))
        lay.addWidget(self.reason)
        lay.addWidget(self.reason_error)
        lay.addWidget(self.confirm)
        lay.addWidget(self.confirm_error)
        lay.addWidget(self.buttons)
        follow_access(
            store,
            self,
            lambda writable, why: enable((self.erase_button, self.reason, self.confirm), writable, why),
        )

    def erase(self) -> None:
        problems = {}
        if not self.reason.text().strip():
            problems["reason"] = "Record how the request came: the erasure record keeps it."
        if not self.confirm.isChecked():
            problems["confirm"] = "Confirm that the request is the client's own."
        if not self.who().strip():
            problems["confirm"] = (
                "No one is logged in: the erasure is recorded as the logged-in person's. Log in first."
            )
        show_errors(
            problems, {"reason": self.reason_error, "confirm": self.confirm_error}, {"reason": self.reason}
        )
        if problems:
            return
        try:
            outcome = self.store.erase_client(
                self.client_id, self.today, self.who().strip(), self.reason.text()
            )
        except (StoreError, ValueError) as exc:
            self.error = error_box(self, "Not erased", f"Nothing was erased:\n{exc}")
            return
        if not outcome.log_emptied:  # said, not hidden: the window behind shows the result meanwhile
            self.note = error_box(
                self.parentWidget() or self,
                "Erased",
                "The client is erased. Another window is using the database (a session being recorded?), "
                "so some erased bytes stay in its log file until that ends or Abrasio closes.",
            )
            self.note.setIcon(self.note.Icon.Information)
        self.erased.emit(self.client_id, outcome.full)
        self.accept()


_NAMES = {
    "treatment_sessions": "sessions",
    "consents": "consents",
    "screening_questionnaires": "questionnaires",
    "treatment_series": "series",
}
_PARTS_OF_A_SESSION = {"session_notes", "vacuum_trace_chunks", "markers", "alarms", "screening_answers"}


def _named(counts: dict[str, int]) -> dict[str, int]:
    """Table counts in the words ``describe`` uses; a session's parts are told with the session."""
    out = {}
    for table, n in counts.items():
        if table in _PARTS_OF_A_SESSION:
            continue
        name = _NAMES.get(table, table.replace("_", " ").rstrip("s"))
        out[name] = out.get(name, 0) + n
    return out
