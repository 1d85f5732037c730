"""New / edit client: what a microdermabrasion practitioner records, validated beside each field."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.discard import AskBeforeDiscarding
from desktop.fields import DateField, VacuumSpinBox
from desktop.records import (
    CONCERNS,
    FITZPATRICK,
    SENSITIVITIES,
    Client,
    ScreeningAnswer,
    ScreeningRule,
    fmt_date,
    validate_client,
)
from desktop.screen_fit import fit_to_screen
from desktop.store import Store, StoreError
from desktop.widgets import enable, follow_access, set_invalid
from device.units import format_vacuum

CEILING_RANGE_KPA = (5.0, 90.0)  # what records.validate_client accepts


class ScreeningEditor(QWidget):
    """One row per screening item: applies?, since, ended (empty = ongoing), note."""

    def __init__(self, rules: list[ScreeningRule], parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for col, text in enumerate(("Item", "Since", "Ended (empty: ongoing)", "Note")):
            head = QLabel(f"<b>{text}</b>")
            grid.addWidget(head, 0, col)
        self.rows: dict[str, tuple[QCheckBox, DateField, DateField, QLineEdit]] = {}
        for i, rule in enumerate(rules, start=1):
            box = QCheckBox(rule.label)
            box.setToolTip(
                f"{'Blocks' if rule.effect == 'block' else 'Warns'} a treatment {rule.period_text()}"
            )
            since, ended, note = DateField(), DateField(), QLineEdit()
            for w in (since, ended, note):
                w.setEnabled(False)
                box.toggled.connect(w.setEnabled)
            grid.addWidget(box, i, 0)
            grid.addWidget(since, i, 1)
            grid.addWidget(ended, i, 2)
            grid.addWidget(note, i, 3)
            self.rows[rule.code] = (box, since, ended, note)

    def set_answers(self, answers: list[ScreeningAnswer]) -> None:
        for a in answers:
            if a.code in self.rows:
                box, since, ended, note = self.rows[a.code]
                box.setChecked(True)
                since.set_value(a.since)
                ended.set_value(a.ended)
                note.setText(a.note)

    def date_errors(self) -> list[tuple[DateField, str]]:
        """Dates typed in ticked rows that are not dates: (field, "Item, ended: why")."""
        out = []
        for box, since, ended, _note in self.rows.values():
            for field, which in ((since, "since"), (ended, "ended")):
                set_invalid(field, False)
                if box.isChecked() and field.error():
                    out.append((field, f"{box.text()}, {which}: {field.error()}"))
        return out

    def answers(self) -> list[ScreeningAnswer]:
        return [
            ScreeningAnswer(code, since.value(), ended.value(), note.text().strip())
            for code, (box, since, ended, note) in self.rows.items()
            if box.isChecked()
        ]


class ClientDialog(AskBeforeDiscarding, QDialog):
    DISCARD_QUESTION = "You changed this client's record. Discard the changes?"

    saved = Signal(int)

    def __init__(
        self,
        store: Store,
        client: Client | None = None,
        who: str = "",
        parent=None,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.store = store
        self.who = who
        self.today = today or dt.date.today()
        self.client = client or Client()
        self.ceiling_defaults = store.setting("ceiling_defaults_kpa", {})
        self.setWindowTitle("Edit client" if self.client.id else "New client")
        fit_to_screen(self, 900, 760)
        self.errors: dict[str, QLabel] = {}
        self.fields: dict[str, QWidget] = {}

        self.first_name, self.last_name = QLineEdit(), QLineEdit()
        self.date_of_birth = DateField(birth=True)
        self.phone, self.email = QLineEdit(), QLineEdit()
        self.phone.setPlaceholderText("+44 7700 900123")
        self.email.setPlaceholderText("name@example.com")
        self.fitzpatrick = QComboBox()
        self.fitzpatrick.addItem("Not assessed", None)
        for n, roman in FITZPATRICK.items():
            self.fitzpatrick.addItem(f"Type {roman}", n)
        self.sensitivity = QComboBox()
        for key, label in SENSITIVITIES.items():
            self.sensitivity.addItem(label, key)
        self.unit = store.setting("display_unit", "kPa")
        self.ceiling = VacuumSpinBox(self.unit, 0.0, 90.0)
        self.ceiling_hint = QLabel()
        self.ceiling_hint.setObjectName("Hint")
        self.concerns = {key: QCheckBox(label) for key, label in CONCERNS.items()}
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(70)
        self.screening = ScreeningEditor(store.screening_rules())

        form = QFormLayout()
        for key, label, widget in (
            ("first_name", "First name", self.first_name),
            ("last_name", "Last name *", self.last_name),
            ("date_of_birth", "Date of birth", self.date_of_birth),
            ("phone", "Phone", self.phone),
            ("email", "Email", self.email),
            ("fitzpatrick", "Fitzpatrick skin type", self.fitzpatrick),
            ("sensitivity", "Skin sensitivity", self.sensitivity),
            ("vacuum_ceiling_kpa", "Vacuum ceiling", self._with(self.ceiling, self.ceiling_hint)),
        ):
            self.fields[key] = widget
            form.addRow(label, self._with_error(key, widget))
        concern_box = QWidget()
        grid = QGridLayout(concern_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, box in enumerate(self.concerns.values()):
            grid.addWidget(box, i // 4, i % 4)
        form.addRow("Skin concerns", self._with_error("concerns", concern_box))
        self.fields["notes"] = self.notes
        form.addRow("Notes", self._with_error("notes", self.notes))

        screening_group = QGroupBox("Contraindication screening (ask before each series)")
        QVBoxLayout(screening_group).addWidget(self._with_error("screening", self.screening))

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.addLayout(form)
        lay.addWidget(screening_group)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        follow_access(store, self, lambda writable, why: enable((self.save_button,), writable, why))
        self.duplicates_box: QMessageBox | None = None
        outer = QVBoxLayout(self)
        outer.addWidget(scroll)
        outer.addWidget(self.buttons)

        self._load(self.client)
        self.sensitivity.currentIndexChanged.connect(self._sensitivity_changed)
        self.ceiling.valueChanged.connect(self._update_ceiling_hint)
        self._update_ceiling_hint()
        self.first_name.setFocus()
        self._loaded = self._snapshot()

    @staticmethod
    def _with(widget: QWidget, extra: QWidget) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget)
        row.addWidget(extra, 1)
        return box

    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(1)
        col.addWidget(widget)
        err = QLabel()
        err.setObjectName("FieldError")
        err.setVisible(False)
        col.addWidget(err)
        self.errors[key] = err
        return box

    def _load(self, c: Client) -> None:
        self.first_name.setText(c.first_name)
        self.last_name.setText(c.last_name)
        self.date_of_birth.set_value(c.date_of_birth)
        self.phone.setText(c.phone)
        self.email.setText(c.email)
        self.fitzpatrick.setCurrentIndex(max(self.fitzpatrick.findData(c.fitzpatrick), 0))
        self.sensitivity.setCurrentIndex(max(self.sensitivity.findData(c.sensitivity), 0))
        self.ceiling.set_kpa(c.vacuum_ceiling_kpa if c.id else self._default_ceiling(c.sensitivity))
        for key, box in self.concerns.items():
            box.setChecked(key in c.concerns)
        self.notes.setPlainText(c.notes)
        if c.id:
            self.screening.set_answers(self.store.screening(c.id))

    def _default_ceiling(self, sensitivity: str) -> float:
        return float(self.ceiling_defaults.get(sensitivity, 45.0))

    def _sensitivity_changed(self) -> None:
        # The ceiling follows the sensitivity unless the practitioner has set it by hand.
        old_defaults = {self._default_ceiling(k) for k in SENSITIVITIES}
        if any(abs(self.ceiling.kpa() - d) < 0.05 for d in old_defaults):
            self.ceiling.set_kpa(self._default_ceiling(self.sensitivity.currentData()))
        self._update_ceiling_hint()

    def _update_ceiling_hint(self) -> None:
        default = self._default_ceiling(self.sensitivity.currentData())
        same = abs(self.ceiling.kpa() - default) < 0.05
        self.ceiling_hint.setText(
            f"default for {self.sensitivity.currentText().lower()} skin"
            if same
            else f"set by hand (default {format_vacuum(default, self.unit)})"
        )

    def value(self) -> Client:
        c = self.client
        return Client(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            date_of_birth=self.date_of_birth.value(),
            phone=self.phone.text(),
            email=self.email.text(),
            fitzpatrick=self.fitzpatrick.currentData(),
            sensitivity=self.sensitivity.currentData(),
            concerns=[k for k, box in self.concerns.items() if box.isChecked()],
            vacuum_ceiling_kpa=round(self.ceiling.kpa(), 2),
            notes=self.notes.toPlainText(),
            archived=c.archived,
            id=c.id,
            last_visit=c.last_visit,
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, label in self.errors.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
            if key in self.fields:
                set_invalid(self.fields[key], key in errors)

    def save(self, confirmed_duplicates: bool = False) -> None:
        client = self.value()
        errors = validate_client(client, self.today)
        if client.date_of_birth and client.date_of_birth == self.client.date_of_birth:
            errors.pop("date_of_birth", None)  # a date already on record is kept, however old
        if "vacuum_ceiling_kpa" in errors and self.unit != "kPa":  # in the unit the practitioner reads
            low, high = (format_vacuum(k, self.unit) for k in CEILING_RANGE_KPA)
            errors["vacuum_ceiling_kpa"] = f"The vacuum ceiling must be {low} to {high}."
        for key in ("date_of_birth",):  # a typed non-date is an error, not "no date"
            if self.fields[key].error():
                errors[key] = self.fields[key].error()
        bad_dates = self.screening.date_errors()
        for field, _msg in bad_dates:
            set_invalid(field, True)
        if bad_dates:
            errors["screening"] = "\n".join(msg for _f, msg in bad_dates)
        self.show_errors(errors)
        if errors:
            first = next(k for k in self.errors if k in errors)
            if first in self.fields:
                self.fields[first].setFocus()
            elif first == "screening":
                bad_dates[0][0].setFocus()
            return
        if not confirmed_duplicates:
            try:
                same = self.store.find_duplicates(client)
            except StoreError as exc:
                self._not_saved(exc)
                return
            if same:
                self._ask_about(same)
                return
        try:
            cid = self.store.save_client_record(client, self.screening.answers(), self.who)
        except StoreError as exc:
            self._not_saved(exc)
            return
        self.client = self.store.client(cid)
        self.saved.emit(cid)
        self.accept()

    def _not_saved(self, exc: Exception) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "Not saved", "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"The client was not saved:\n{exc}\n\nEverything you typed is still in the form.")
        box.open()
        self.error_box = box

    def _ask_about(self, same: list) -> None:
        """Another client has the same name and date of birth, phone or email: list them and ask."""
        lines = []
        for m in same[:10]:
            born = f", born {fmt_date(m.date_of_birth)}" if m.date_of_birth else ""
            contact = " · ".join(x for x in (m.phone, m.email) if x)
            lines.append(f"• {m.first_name} {m.last_name}{born}{' · ' + contact if contact else ''}".strip())
        more = f"\n…and {len(same) - 10} more" if len(same) > 10 else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Is this client already recorded?", "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            f"{'This client matches' if len(same) == 1 else 'These clients match'} the name and date of "
            "birth, the phone number or the email address:\n\n" + "\n".join(lines) + more
        )
        box.setInformativeText("Save this as a separate client anyway?")
        self.save_anyway = box.addButton("Save as a separate client", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.finished.connect(lambda _r: box.clickedButton() is self.save_anyway and self.save(True))
        self.duplicates_box = box
        box.open()

    # -- Esc / Cancel / closing: never throw typed work away without asking --------------------------
    def _snapshot(self):
        return (
            self.value(),
            self.screening.answers(),
            [w.text() for w in self.findChildren(DateField)],  # a half-typed date counts too
        )

    def has_changes(self) -> bool:
        return self._snapshot() != self._loaded
