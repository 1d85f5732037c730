"""Consent on screen: the client signs a form the practitioner witnesses; the client page lists every
consent given; the session start warns when consent is missing or expired; the clinic edits its forms.

Every name and every form's text is shown as plain text.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.consent import (
    DEFAULT_VALIDITY_MONTHS,
    SIGNED,
    Consent,
    ConsentStatus,
    ConsentTemplate,
    consent_status,
    signature_problem,
    valid_until,
    validate_template,
)
from desktop.discard import AskBeforeDiscarding
from desktop.erasure import DEFAULT_RETENTION_YEARS, MAX_RETENTION_YEARS
from desktop.models import _RowsModel
from desktop.records import fmt_date
from desktop.series import DEFAULT_PLANNED_SESSIONS, MAX_PLANNED_SESSIONS
from desktop.signature_pad import SignaturePad
from desktop.store import Store, StoreError, now_iso
from desktop.ui import error_box, field_error, plain, show_errors
from desktop.widgets import enable, follow_access, read_only_table, scaled_font, title

RED = "color:#b00020; font-weight:600;"
AMBER = "color:#8a6500; font-weight:600;"
EXPIRES_SOON_DAYS = 30


def status_style(status: ConsentStatus) -> str:
    if not status.ok:
        return RED
    return AMBER if (status.days_left or 0) < EXPIRES_SOON_DAYS or status.latest.legacy else ""


# -- signing ---------------------------------------------------------------------------------------


class ConsentDialog(QDialog):
    """The client reads the form and signs in the box; the person using Abrasio witnesses."""

    signed = Signal(int)

    def __init__(self, store: Store, client_id: int, who_fn, parent=None, today: dt.date | None = None):
        super().__init__(parent)
        self.store, self.who = store, who_fn
        self.client = store.client(client_id)
        self.today = today or dt.date.today()
        self.templates = store.consent_templates()
        self.setWindowTitle(f"Consent — {self.client.name}")
        self.resize(900, 700)  # fits a 1366×768 screen with its task bar

        self.form = QComboBox()
        for t in self.templates:
            self.form.addItem(t.label, t.id)
        self.form.setVisible(len(self.templates) > 1)
        self.heading = plain("", "PageTitle")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(scaled_font(self.text.font(), 1.25))
        self.who_line = plain(f"Client: {self.client.name} · {fmt_date(self.today)}")
        self.pad = SignaturePad()
        self.clear_button = QPushButton("Clear signature")
        self.clear_button.clicked.connect(self.pad.clear)
        self.pad_error = field_error()
        self.witness = plain()
        self.witness_error = field_error()
        self.pad.changed.connect(lambda: self.pad.is_empty() or self.pad_error.setVisible(False))

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button = self.buttons.addButton("Sign and save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setObjectName("Primary")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        pad_row = QHBoxLayout()
        pad_row.addWidget(plain("Client's signature:"))
        pad_row.addStretch(1)
        pad_row.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.form)
        lay.addWidget(self.heading)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.who_line)
        lay.addLayout(pad_row)
        lay.addWidget(self.pad)
        lay.addWidget(self.pad_error)
        lay.addWidget(self.witness)
        lay.addWidget(self.witness_error)
        lay.addWidget(self.buttons)
        self.form.currentIndexChanged.connect(self._show_form)
        if not self.templates:
            self.heading.setText("No consent form is offered")
            self.text.setPlainText("Add or re-offer a consent form in Settings → Consent forms and records.")
            self.sign_button.setEnabled(False)
            self.pad.setEnabled(False)
        else:
            self._show_form()
        self._show_witness()

    def template(self) -> ConsentTemplate | None:
        return self.templates[self.form.currentIndex()] if self.templates else None

    def _show_form(self) -> None:
        t = self.template()
        self.heading.setText(t.title)
        self.text.setPlainText(t.body)

    def _show_witness(self) -> None:
        who = self.who().strip()
        self.witness.setText(f"Witnessed by: {who}" if who else "Witnessed by: —")

    def problems(self) -> dict[str, str]:
        out = {}
        problem = signature_problem(self.pad.strokes())
        if problem:
            out["signature"] = problem
        if not self.who().strip():
            out["witness"] = (
                "No one is logged in: the witness is the person logged in to Abrasio. Log in, then "
                "witness this signature."
            )
        return out

    def save(self) -> None:
        self._show_witness()
        problems = self.problems()
        show_errors(
            problems, {"signature": self.pad_error, "witness": self.witness_error}, {"signature": self.pad}
        )
        t = self.template()
        if problems or t is None:
            return
        consent = Consent(
            client_id=self.client.id,
            kind=SIGNED,
            signed_on=self.today,
            witnessed_by=self.who().strip(),
            title=t.title,
            text=t.body,
            template_code=t.code,
            template_version=t.version,
            signed_at=now_iso(),
            signer_name=self.client.name,
            signature_png=self.pad.png(),
            strokes=self.pad.strokes(),
            pad_size=self.pad.pad_size(),
        )
        try:
            cid = self.store.add_consent(consent, self.who().strip())
        except (StoreError, ValueError) as exc:
            self.error = error_box(
                self,
                "Consent not saved",
                f"The consent was not saved:\n{exc}\n\nThe signature is still in the box: try again.",
            )
            return
        self.consent_id = cid
        self.signed.emit(cid)
        self.accept()


class ConsentViewer(QDialog):
    """One consent as it was given: the exact text, the signature, who witnessed, when."""

    def __init__(self, consent: Consent, parent=None):
        super().__init__(parent)
        self.consent = c = consent
        self.setWindowTitle(f"Consent {fmt_date(c.signed_on)}")
        self.resize(820, 720)
        lay = QVBoxLayout(self)
        if c.legacy:
            lay.addWidget(plain("Consent recorded before signed consent existed", "PageTitle"))
            self.meta = plain(
                f"Dated {fmt_date(c.signed_on)}, witnessed by {c.witnessed_by or 'no one recorded'}.\n"
                "This record was typed in by hand before Abrasio kept signed consent forms: the text the "
                "client agreed to and their signature were not kept in Abrasio."
            )
            lay.addWidget(self.meta)
        else:
            lay.addWidget(plain(c.title, "PageTitle"))
            when = c.signed_at[:16].replace("T", " ") if c.signed_at else fmt_date(c.signed_on)
            self.meta = plain(
                f"Signed by {c.signer_name} on {when} · witnessed by {c.witnessed_by} · "
                f"form version {c.template_version}"
            )
            lay.addWidget(self.meta)
            self.text = QPlainTextEdit(c.text)
            self.text.setReadOnly(True)
            lay.addWidget(self.text, 1)
            self.signature = QLabel()
            pix = QPixmap()
            if c.signature_png and pix.loadFromData(c.signature_png, "PNG"):
                self.signature.setPixmap(
                    pix.scaledToWidth(min(pix.width(), 640), Qt.TransformationMode.SmoothTransformation)
                )
            else:
                self.signature.setText("The signature image cannot be read.")
            lay.addWidget(plain("Signature:"))
            lay.addWidget(self.signature)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


# -- the client page's list ----------------------------------------------------------------------


class ConsentTableModel(_RowsModel):
    COLUMNS = ("Date", "Form", "Witnessed by", "Valid until")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Consent] = []
        self.months = 12
        self.today = dt.date.today()

    def set_consents(self, consents: list[Consent], months: int, today: dt.date) -> None:
        self.beginResetModel()
        self._rows, self.months, self.today = consents, months, today
        self.endResetModel()

    def consent(self, row: int) -> Consent:
        return self._rows[row]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        c = self._rows[index.row()]
        col = index.column()
        if col == 0:
            return fmt_date(c.signed_on)
        if col == 1:
            return c.form_label
        if col == 2:
            return c.witnessed_by or "—"
        until = valid_until(c.signed_on, self.months)
        if index.row() > 0:
            return f"{fmt_date(until)} (superseded)"
        return fmt_date(until) + (" (expired)" if until < self.today else "")


class ConsentSection(QWidget):
    """The client page's consent: today's status, every consent given, and signing a new one."""

    changed = Signal()

    def __init__(self, store: Store, who_fn, today_fn=dt.date.today, parent=None):
        super().__init__(parent)
        self.store, self.who, self.today = store, who_fn, today_fn
        self.client_id: int | None = None
        self.status_label = plain()
        self.sign_button = QPushButton("Sign consent…")
        self.sign_button.clicked.connect(self.sign)
        self.model = ConsentTableModel(self)
        self.view = read_only_table(self.model)
        self.view.activated.connect(lambda i: self.open_consent(i.row()))
        head = QHBoxLayout()
        head.addWidget(title("Consent", "SectionTitle"))
        head.addWidget(self.status_label, 1)
        head.addWidget(self.sign_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.view)

    def show_client(self, client_id: int, archived: bool = False) -> None:
        self.client_id = client_id
        today = self.today()
        consents = self.store.consents(client_id)
        months = self.store.consent_validity_months()
        self.status = status = consent_status(consents, today, months)
        self.status_label.setText(status.message())
        self.status_label.setStyleSheet(status_style(status))
        self.model.set_consents(consents, months, today)
        self.view.setVisible(bool(consents))
        rows = min(len(consents), 3)  # as tall as its rows (three at most, then it scrolls)
        self.view.setFixedHeight(
            self.view.horizontalHeader().sizeHint().height()
            + rows * self.view.verticalHeader().defaultSectionSize()
            + 4
        )
        self.sign_button.setEnabled(not archived)

    def sign(self) -> ConsentDialog:
        dlg = ConsentDialog(self.store, self.client_id, self.who, self, today=self.today())
        dlg.signed.connect(lambda _id: self.show_client(self.client_id))
        dlg.signed.connect(lambda _id: self.changed.emit())
        dlg.open()
        return dlg

    def open_consent(self, row: int) -> ConsentViewer:
        try:
            consent = self.store.consent(self.model.consent(row).id)
        except (StoreError, ValueError) as exc:
            self.error = error_box(self, "Cannot show the consent", str(exc))
            return None
        viewer = ConsentViewer(consent, self)
        viewer.open()
        return viewer


# -- the session start -----------------------------------------------------------------------------


class ConsentCheck(QWidget):
    """The consent part of starting a session: nothing to do while consent is valid; a warning, an
    acknowledgement and "Sign consent now…" when it is missing or expired (a warning: it never blocks)."""

    def __init__(self, store: Store, client_id: int, who_fn, today: dt.date, parent=None):
        super().__init__(parent)
        self.store, self.client_id, self.who, self.today = store, client_id, who_fn, today
        self.label = plain()
        self.ack = QCheckBox("I have the client's consent for today's treatment.")
        self.sign_button = QPushButton("Sign consent now…")
        self.sign_button.clicked.connect(self.sign)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.ack, 1)
        row.addWidget(self.sign_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        self.status = self.store.consent_status(self.client_id, self.today)
        text = self.status.message()
        self.label.setText(text if self.status.ok else "** " + text)
        self.label.setStyleSheet(status_style(self.status))
        for w in (self.ack, self.sign_button):
            w.setVisible(not self.status.ok)

    @property
    def acknowledged(self) -> bool:
        return not self.status.ok and self.ack.isChecked()

    def problem(self) -> str | None:
        if self.status.ok or self.ack.isChecked():
            return None
        what = "No consent on file" if self.status.state == "missing" else "Consent has expired"
        return f"{what}: have the client sign, or acknowledge that you have their consent for today."

    def sign(self) -> ConsentDialog:
        dlg = ConsentDialog(self.store, self.client_id, self.who, self, today=self.today)
        dlg.signed.connect(lambda _id: self.refresh())
        dlg.open()
        return dlg


# -- clinic settings -------------------------------------------------------------------------------


class TemplateEditor(AskBeforeDiscarding, QDialog):
    """Write a consent form, or its next version. Versions already signed stay as they were."""

    saved = Signal(object)

    def __init__(self, store: Store, template: ConsentTemplate | None, who: str, parent=None):
        super().__init__(parent)
        self.store, self.template, self.who = store, template, who
        self.setWindowTitle(f"Consent form — {template.title}" if template else "New consent form")
        self.resize(820, 700)
        self.title = QLineEdit(template.title if template else "")
        self.body = QPlainTextEdit(template.body if template else "")
        self.title_error, self.body_error = field_error(), field_error()
        note = (
            f"Saving makes version {template.version + 1}. Version {template.version} and earlier stay "
            "exactly as they are, with the consents signed on them."
            if template
            else "The form clients will read and sign."
        )
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(plain("Title"))
        lay.addWidget(self.title)
        lay.addWidget(self.title_error)
        lay.addWidget(plain("Text"))
        lay.addWidget(self.body, 1)
        lay.addWidget(self.body_error)
        lay.addWidget(plain(note, "Hint"))
        lay.addWidget(self.buttons)
        self._as_opened = (self.title.text(), self.body.toPlainText())

    def has_changes(self) -> bool:
        """Esc, Cancel or closing asks before a typed form is thrown away (AskBeforeDiscarding)."""
        return (self.title.text(), self.body.toPlainText()) != self._as_opened

    def save(self) -> None:
        errors = validate_template(self.title.text(), self.body.toPlainText())
        show_errors(
            errors,
            {"title": self.title_error, "body": self.body_error},
            {"title": self.title, "body": self.body},
        )
        if errors:
            return
        try:
            saved = self.store.save_consent_template(
                self.template.code if self.template else None,
                self.title.text(),
                self.body.toPlainText(),
                self.who,
            )
        except (StoreError, ValueError) as exc:
            self.error = error_box(
                self, "Not saved", f"The form was not saved:\n{exc}\n\nYour text is still here."
            )
            return
        self.saved.emit(saved)
        self.accept()


class ConsentSettingsDialog(QDialog):
    """Settings → Consent forms and records: the forms, how long consent lasts, how long records are
    kept, and the usual length of a series."""

    def __init__(self, store: Store, who: str = "", parent=None):
        super().__init__(parent)
        self.store, self.who = store, who
        self.setWindowTitle("Consent forms and records")
        self.resize(760, 560)
        self.forms = QListWidget()
        self.forms.itemActivated.connect(lambda _i: self.edit_button.isEnabled() and self.edit())
        self.new_button = QPushButton("New form…")
        self.edit_button = QPushButton("Edit…")
        self.retire_button = QPushButton()
        self.new_button.clicked.connect(lambda: self.edit(new=True))
        self.edit_button.clicked.connect(lambda: self.edit())
        self.retire_button.clicked.connect(self.toggle_offered)
        self.forms.currentRowChanged.connect(self._selected)

        self.validity = QSpinBox(minimum=1, maximum=60, suffix=" months")
        self.validity.setValue(store.consent_validity_months())
        self.retention = QSpinBox(
            minimum=1, maximum=MAX_RETENTION_YEARS, suffix=" years after the last treatment"
        )
        self.retention.setValue(int(store.setting("retention_years", DEFAULT_RETENTION_YEARS)))
        self.planned = QSpinBox(minimum=1, maximum=MAX_PLANNED_SESSIONS, suffix=" sessions")
        self.planned.setValue(int(store.setting("series_planned_sessions", DEFAULT_PLANNED_SESSIONS)))
        form = QFormLayout()
        form.addRow("Consent is valid for", self.validity)
        form.addRow("Keep clinical records for", self.retention)
        form.addRow(
            "",
            plain(
                "The law of your country decides (it may differ for clients treated as children). "
                "Erasing a client keeps their clinical record until then.",
                "Hint",
            ),
        )
        form.addRow("A new series plans", self.planned)

        side = QVBoxLayout()
        for b in (self.new_button, self.edit_button, self.retire_button):
            side.addWidget(b)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.forms, 1)
        row.addLayout(side)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        lay = QVBoxLayout(self)
        lay.addWidget(title("Consent forms", "SectionTitle"))
        lay.addWidget(
            plain("Clients sign the forms offered here. Editing a form makes a new version.", "Hint")
        )
        lay.addLayout(row, 1)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.reload()
        follow_access(store, self, self._follow_access)

    def _follow_access(self, writable: bool, why: str) -> None:
        """A read-only file: the forms and settings can be read, not changed (disabled, saying why)."""
        enable(
            (self.new_button, self.save_button, self.validity, self.retention, self.planned), writable, why
        )
        self._selected()

    def reload(self, select_code: str | None = None) -> None:
        self.templates = self.store.consent_templates(include_retired=True)
        self.forms.clear()
        for t in self.templates:
            item = QListWidgetItem(t.label + ("" if t.active else " — not offered"))
            self.forms.addItem(item)
        codes = [t.code for t in self.templates]
        self.forms.setCurrentRow(codes.index(select_code) if select_code in codes else 0)
        self._selected()

    def _selected(self, *_):
        t = self.current()
        writable = self.store.writable
        for b in (self.edit_button, self.retire_button):
            b.setEnabled(t is not None and writable)
            b.setToolTip("" if writable else self.store.access.reason)
        self.retire_button.setText("Offer again" if t and not t.active else "Stop offering")

    def current(self) -> ConsentTemplate | None:
        row = self.forms.currentRow()
        return self.templates[row] if 0 <= row < len(self.templates) else None

    def edit(self, new: bool = False) -> TemplateEditor:
        dlg = TemplateEditor(self.store, None if new else self.current(), self.who, self)
        dlg.saved.connect(lambda t: self.reload(t.code))
        dlg.open()
        return dlg

    def toggle_offered(self) -> None:
        t = self.current()
        if t is None:
            return
        try:
            self.store.set_consent_template_active(t.code, not t.active, self.who)
        except StoreError as exc:
            self.error = error_box(self, "Not changed", str(exc))
            return
        self.reload(t.code)

    def save(self) -> None:
        s = self.store
        changed = {
            key: spin.value()
            for key, spin, default in (
                ("consent_validity_months", self.validity, DEFAULT_VALIDITY_MONTHS),
                ("retention_years", self.retention, DEFAULT_RETENTION_YEARS),
                ("series_planned_sessions", self.planned, DEFAULT_PLANNED_SESSIONS),
            )
            if spin.value() != int(s.setting(key, default))
        }
        try:
            s.save_settings(changed, who=self.who)
        except StoreError as exc:
            self.error = error_box(self, "Not saved", f"The settings were not saved:\n{exc}")
            return
        self.accept()
