"""The series plan on the client page, and the dialog that plans (or changes) a series."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.discard import AskBeforeDiscarding
from desktop.fields import DateField
from desktop.series import (
    DEFAULT_PLANNED_SESSIONS,
    MAX_INTERVAL_DAYS,
    MAX_PLANNED_SESSIONS,
    SeriesPlan,
    SeriesProgress,
    number_sessions,
    progress,
    validate_plan,
)
from desktop.store import SessionRow, Store, StoreError
from desktop.store.sessions import NO_SAMPLES
from desktop.ui import ask, error_box, field_error, plain, show_errors


class SeriesPlanDialog(AskBeforeDiscarding, QDialog):
    """Plan a new series, or change the current one's length, interval or note."""

    saved = Signal(int)

    def __init__(
        self, store: Store, client_id: int, plan: SeriesPlan | None, who: str, today: dt.date, parent=None
    ):
        super().__init__(parent)
        self.store, self.client_id, self.plan, self.who, self.today = store, client_id, plan, who, today
        self.setWindowTitle("Change the series plan" if plan else "New series")
        self.started = DateField(today=lambda: today)  # typed as the clinic writes dates, or picked
        self.started.set_value(plan.started_on if plan else today)
        self.planned = QSpinBox(minimum=1, maximum=MAX_PLANNED_SESSIONS, suffix=" sessions")
        self.planned.setValue(
            plan.planned_sessions
            if plan
            else int(store.setting("series_planned_sessions", DEFAULT_PLANNED_SESSIONS))
        )
        self.interval = QSpinBox(minimum=1, maximum=MAX_INTERVAL_DAYS, suffix=" days")
        self.interval.setValue(plan.interval_days if plan else int(store.setting("series_interval_days", 14)))
        self.note = QLineEdit(plan.note if plan else "")
        self.note.setPlaceholderText("e.g. acne scars on both cheeks; review after session 3")
        self.errors = {k: field_error() for k in ("started_on", "planned_sessions", "interval_days")}
        self.fields = {
            "started_on": self.started,
            "planned_sessions": self.planned,
            "interval_days": self.interval,
        }
        form = QFormLayout()
        for key, label in (
            ("started_on", "Starts on"),
            ("planned_sessions", "Sessions"),
            ("interval_days", "Every"),
        ):
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.addWidget(self.fields[key])
            col.addWidget(self.errors[key])
            form.addRow(label, box)
        form.addRow("Note", self.note)
        hint = (
            "Changing the plan renumbers nothing that happened: sessions are counted from the start date."
            if plan
            else "The client's current series, if any, ends the day before this one starts."
        )
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(plain(hint, "Hint"))
        lay.addWidget(self.buttons)
        self._as_opened = self._entered()

    def _entered(self) -> tuple:
        return (self.started.text(), self.planned.value(), self.interval.value(), self.note.text())

    def has_changes(self) -> bool:
        """Esc, Cancel or closing asks first when something was changed (AskBeforeDiscarding)."""
        return self._entered() != self._as_opened

    def value(self) -> SeriesPlan:
        return SeriesPlan(
            self.client_id,
            self.started.value(),
            self.planned.value(),
            self.interval.value(),
            self.plan.ended_on if self.plan else None,
            self.note.text(),
            self.plan.id if self.plan else None,
        )

    def save(self) -> None:
        plan = self.value()
        if plan.started_on is None:  # empty, or not a date: said at the field, the text kept
            errors = {"started_on": self.started.error() or "Enter the date the series starts."}
            show_errors(errors, self.errors, self.fields)
            return
        errors = validate_plan(plan, self.today, int(self.store.setting("minimum_interval_days", 0)))
        if not errors:
            try:
                sid = self.store.save_series(plan, self.who)
            except ValueError as exc:
                errors = {"started_on": str(exc)}
            except StoreError as exc:
                self.error = error_box(self, "Not saved", f"The series was not saved:\n{exc}")
                return
        show_errors(errors, self.errors, self.fields)
        if errors:
            return
        self.saved.emit(sid)
        self.accept()


class SeriesSection(QWidget):
    """The client's current series: "4 of 6 done; session 5 due 12 Apr", with New / Change / End."""

    changed = Signal()

    def __init__(self, store: Store, who_fn, today_fn=dt.date.today, parent=None):
        super().__init__(parent)
        self.store, self.who, self.today = store, who_fn, today_fn
        self.client_id: int | None = None
        self.current: SeriesProgress | None = None
        self.text = plain("", "SectionTitle")
        self.new_button = QPushButton("New series…")
        self.change_button = QPushButton("Change plan…")
        self.end_button = QPushButton("End series")
        self.new_button.clicked.connect(lambda: self.edit(new=True))
        self.change_button.clicked.connect(lambda: self.edit(new=False))
        self.end_button.clicked.connect(self.end)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        for b in (self.new_button, self.change_button, self.end_button):
            row.addWidget(b)

    def show_client(
        self, client_id: int, sessions: list[SessionRow], archived: bool = False, fallback: str = ""
    ) -> dict:
        """Show the series (``fallback`` when there is none); returns {session id: "4 of 6"}."""
        self.client_id = client_id
        plans = self.store.series_plans(client_id)
        days = [(s.id, s.started.date()) for s in sessions if s.status != NO_SAMPLES]  # not a treatment
        numbers = number_sessions(days, plans)
        latest = plans[-1] if plans else None
        self.current = progress(latest, [d for _, d in days], plans) if latest else None
        if self.current:
            self.text.setText(self.current.text(self.today()))
        else:
            self.text.setText(fallback or "No series planned.")
        live = self.current is not None and self.current.open
        self.change_button.setVisible(live)
        self.end_button.setVisible(live)
        for b in (self.new_button, self.change_button, self.end_button):
            b.setEnabled(not archived)
        return {sid: n.text for sid, n in numbers.items()}

    def edit(self, new: bool) -> SeriesPlanDialog:
        plan = None if new or self.current is None else self.current.plan
        dlg = SeriesPlanDialog(self.store, self.client_id, plan, self.who(), self.today(), self)
        dlg.saved.connect(lambda _id: self.changed.emit())
        dlg.open()
        return dlg

    def end(self) -> QMessageBox | None:
        """Ask first: an ended series leaves the recall list and cannot be reopened."""
        if self.current is None:
            return None
        return ask(
            self,
            "End series",
            f"End this series today, {self.current.done} of {self.current.plan.planned_sessions} "
            "sessions done? The client leaves the recall list.",
            QMessageBox.StandardButton.Yes,
            self._end,
        )

    def _end(self) -> None:
        try:
            self.store.end_series(self.current.plan.id, self.today(), self.who())
        except StoreError as exc:
            self.error = error_box(self, "Not changed", str(exc))
            return
        self.changed.emit()
