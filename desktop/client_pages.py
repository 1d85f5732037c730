"""The client list (instant search) and a client's page (screening for today, sessions, next due)."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.models import ClientTableModel, SessionTableModel
from desktop.records import CONCERNS, FITZPATRICK, SENSITIVITIES, Client, evaluate, fmt_date, next_due
from desktop.store import SessionRow, Store
from desktop.store.clients import MAX_QUERY
from desktop.store.sessions import VISITS
from desktop.widgets import read_only_table, title

# Keys in the search box that move the selection in the list (rows per press).
_STEPS = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -10, Qt.Key.Key_PageDown: 10}


class ClientListPage(QWidget):
    open_client = Signal(int)
    new_client = Signal()

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, phone or email  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMaxLength(MAX_QUERY)  # a pasted page cannot freeze the list
        self.archived = QCheckBox("Archived clients")
        self.count = QLabel()
        self.count.setObjectName("Hint")
        self.count.setTextFormat(Qt.TextFormat.PlainText)
        self.count.setWordWrap(True)
        self.new_button = new = QPushButton("New client  (Ctrl+N)")
        new.setObjectName("Primary")
        new.clicked.connect(self.new_client)

        self.model = ClientTableModel(store, self)
        self.model.error_changed.connect(self._show_error)
        self.view = read_only_table(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.activated.connect(self._activated)  # Enter or double-click

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.archived)
        top.addWidget(new)
        lay = QVBoxLayout(self)
        lay.addWidget(title("Clients"))
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.count)

        # Search as you type; a short coalescing delay keeps fast typists from queueing queries.
        self._debounce = QTimer(self, singleShot=True, interval=60)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.archived.toggled.connect(self.apply_filter)
        self.search.returnPressed.connect(self._open_selected)
        self.search.installEventFilter(self)  # Up/Down/Page keys move the list's selection
        self.apply_filter()

    def apply_filter(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.search.text(), self.archived.isChecked())
        n = self.model.rowCount()
        more = "+" if self.model.canFetchMore() else ""
        what = "archived client" if self.archived.isChecked() else "client"
        self.count.setText(f"{n}{more} {what}{'s' if n != 1 or more else ''}")
        self._show_error(self.model.error)
        if n:
            self.view.selectRow(0)

    def refresh(self) -> None:
        self.apply_filter()

    def _show_error(self, error: str) -> None:
        if error:
            self.count.setText(f"{self.count.text()} — not every client could be read: {error}")
        self.count.setObjectName("FieldError" if error else "Hint")
        self.count.style().unpolish(self.count)
        self.count.style().polish(self.count)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _open_selected(self) -> None:
        """Enter in the search box opens the selected client (the first match unless Up/Down
        moved the selection); text typed but not yet searched is searched first."""
        if self._debounce.isActive():
            self.apply_filter()
        idx = self.view.currentIndex()
        row = idx.row() if idx.isValid() else 0
        if self.model.rowCount():
            self.open_client.emit(self.model.client_id(row))

    # -- keyboard: the search box keeps the focus while Up/Down move through the matches ----------
    def eventFilter(self, obj, event) -> bool:
        if (
            obj is self.search
            and event.type() == QEvent.Type.KeyPress
            and event.key() in _STEPS
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.move_selection(_STEPS[event.key()])
            return True
        return super().eventFilter(obj, event)

    def move_selection(self, step: int) -> None:
        if self._debounce.isActive():
            self.apply_filter()
        n = self.model.rowCount()
        if not n:
            return
        idx = self.view.currentIndex()
        row = (idx.row() if idx.isValid() else -1) + step
        if row >= n and self.model.canFetchMore():
            self.model.fetchMore()
            n = self.model.rowCount()
        row = max(0, min(row, n - 1))
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0))

    def _activated(self, index: QModelIndex) -> None:
        self.open_client.emit(self.model.client_id(index.row()))


class ClientPage(QWidget):
    back = Signal()
    edit = Signal(int)
    start_session = Signal(int)
    open_session = Signal(int)
    archived_changed = Signal(int)

    def __init__(self, store: Store, unit_fmt, who_fn, parent=None):
        super().__init__(parent)
        self.store = store
        self.fmt = unit_fmt
        self.who = who_fn
        self.client: Client | None = None
        self.today = dt.date.today
        self.name = title("")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.screening_box = QFrame()
        self.screening_label = QLabel()
        self.screening_label.setWordWrap(True)
        self.screening_label.setTextFormat(Qt.TextFormat.RichText)
        QVBoxLayout(self.screening_box).addWidget(self.screening_label)

        self.back_button = QPushButton("← Clients  (Esc)")
        self.edit_button = QPushButton("Edit  (Ctrl+E)")
        self.archive_button = QPushButton()
        self.start_button = QPushButton("Start session  (Ctrl+Enter)")
        self.start_button.setObjectName("Primary")
        self.back_button.clicked.connect(self.back)
        self.edit_button.clicked.connect(lambda: self.client and self.edit.emit(self.client.id))
        self.archive_button.clicked.connect(self.toggle_archive)
        self.start_button.clicked.connect(lambda: self.client and self.start_session.emit(self.client.id))

        self.sessions = SessionTableModel([], unit_fmt, self)
        self.sessions_view = read_only_table(self.sessions)
        self.sessions_view.activated.connect(
            lambda i: self.open_session.emit(self.sessions.session_id(i.row()))
        )
        self.no_sessions = QLabel("No treatment sessions yet.")
        self.no_sessions.setObjectName("Hint")

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.archive_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.start_button)
        outer = QVBoxLayout(self)
        outer.addLayout(buttons)  # always in view; what is below scrolls on a small screen
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(_scrolling(body), 1)
        self.sessions_view.setMinimumHeight(150)  # a few sessions even when the page must scroll
        lay.addWidget(self.name)
        lay.addWidget(self.details)
        self.refused = QLabel()
        self.refused.setObjectName("ClinicalRefused")
        self.refused.setTextFormat(Qt.TextFormat.PlainText)
        self.refused.setWordWrap(True)
        self.refused.hide()
        lay.addWidget(self.refused)
        # everything below is the clinical record: shown only to a person who may see it
        self.clinical = QWidget()
        clinical = QVBoxLayout(self.clinical)
        clinical.setContentsMargins(0, 0, 0, 0)
        self._records_sections(clinical)
        clinical.addWidget(title("Treatment sessions", "SectionTitle"))
        clinical.addWidget(self.no_sessions)
        clinical.addWidget(self.sessions_view, 1)
        self._add_photo_section(clinical)
        lay.addWidget(self.clinical, 1)
        self.may_see_clinical = True
        self.may_edit_contacts = True
        self.may_run = True

    def _add_photo_section(self, lay: QVBoxLayout) -> None:
        """Before/after photos (desktop/photo_views.py): thumbnails, import, comparison."""
        from desktop.photo_views import PhotoPanel

        self.photos = PhotoPanel(self.store, self.who)
        lay.addWidget(self.photos)

    def set_permissions(self, person) -> None:
        """What the logged-in person may see and do here (``accounts.PERMISSIONS``)."""
        from desktop.accounts import Permission

        self.may_see_clinical = person.may(Permission.CLINICAL_VIEW)
        self.may_edit_contacts = person.may(Permission.CONTACTS_EDIT)
        self.may_run = person.may(Permission.SESSION_RUN)
        self.clinical.setVisible(self.may_see_clinical)
        self.refused.setVisible(not self.may_see_clinical)
        self.refused.setText(
            ""
            if self.may_see_clinical
            else f"{person.name} ({person.roles_label}) sees this client's contact details only. The "
            "clinical record — screening, ceiling, sessions, notes, traces and photos — is for practitioners."
        )
        self.start_button.setVisible(self.may_run)
        self.edit_button.setVisible(self.may_edit_contacts)
        self.archive_button.setVisible(self.may_edit_contacts)
        if not self.may_see_clinical:
            self.sessions.set_sessions([], {})

    def show_client(self, client_id: int) -> None:
        if not self.may_see_clinical:
            self._show_contacts(client_id)
            return
        self.client = c = self.store.client(client_id)
        today = self.today()
        self.name.setText(c.name + ("  (archived)" if c.archived else ""))
        age = ""
        if c.date_of_birth:
            years = (
                today.year
                - c.date_of_birth.year
                - ((today.month, today.day) < (c.date_of_birth.month, c.date_of_birth.day))
            )
            age = f"born {fmt_date(c.date_of_birth)} ({years})"
        concerns = ", ".join(CONCERNS[k] for k in c.concerns) or "none recorded"
        fitz = f"Fitzpatrick {FITZPATRICK[c.fitzpatrick]}" if c.fitzpatrick else "Fitzpatrick not assessed"
        contact = " · ".join(_esc(x) for x in (age, c.phone, c.email) if x)
        self.details.setText(
            f"{contact}<br>{fitz} · {SENSITIVITIES[c.sensitivity]} skin · vacuum ceiling "
            f"<b>{self.fmt(c.vacuum_ceiling_kpa)}</b><br>Concerns: {concerns}"
            + (f"<br><i>{_esc(c.notes)}</i>" if c.notes else "")
        )
        self._show_screening(c, today)
        sessions = self.store.sessions_for_client(client_id)
        self.no_sessions.setVisible(not sessions)
        self.photos.set_client(client_id)
        self.archive_button.setText("Restore from archive" if c.archived else "Archive")
        self.sessions.set_sessions(sessions, self._show_records(c, sessions, today))
        self.apply_access()

    def _show_contacts(self, client_id: int) -> None:
        """The front desk's view: name and contact details; nothing clinical is read."""
        self.client = c = self.store.client(client_id)
        self.name.setText(c.name + ("  (archived)" if c.archived else ""))
        born = f"born {fmt_date(c.date_of_birth)}" if c.date_of_birth else ""
        contact = " · ".join(_esc(x) for x in (born, c.phone, c.email) if x)
        self.details.setText(contact or "No contact details recorded.")
        self.archive_button.setText("Restore from archive" if c.archived else "Archive")
        self._erased = bool(self.store.erasures(c.id))
        self.apply_access()

    def apply_access(self) -> None:
        """While the file is read-only, every write control on the page is disabled and says why
        (when it is writable again, the main window shows the client afresh: the buttons the record
        decides are set by ``_show_records``, the others enabled here)."""
        if self.store.writable:
            erased = getattr(self, "_erased", False)  # an erased client's record is kept, not edited
            for button in (self.edit_button, self.archive_button, self.photos.add_button):
                button.setEnabled(button is self.photos.add_button or not erased)
                button.setToolTip("")
            return
        buttons = [self.edit_button, self.archive_button, self.start_button, self.client_screening_button]
        buttons += [self.consent_section.sign_button, self.photos.add_button]
        buttons += [self.series_section.new_button, self.series_section.change_button]
        buttons += [self.series_section.end_button]
        for button in buttons:
            button.setEnabled(False)
            button.setToolTip(self.store.access.reason)

    def _show_screening(self, c: Client, today: dt.date) -> None:
        statuses = evaluate(self.store.screening(c.id), self.store.screening_rules(), today)
        lines = []
        for s in statuses:
            if s.blocks:
                lines.append(f"<span style='color:#b00020'><b>*** {_esc(s.message())}</b></span>")
            elif s.active:
                lines.append(f"<span style='color:#8a6500'><b>** {_esc(s.message())}</b></span>")
            else:
                lines.append(f"<span style='color:#5b6b70'>{_esc(s.message())}</span>")
        if c.pih_risk:
            lines.append(
                "<span style='color:#8a6500'>* Fitzpatrick IV–VI: risk of post-inflammatory "
                "hyperpigmentation — gentler settings.</span>"
            )
        if not lines:
            lines = ["No contraindications recorded."]
        self.screening_label.setText("<br>".join(lines))
        name = (
            "ScreeningBlock"
            if any(s.blocks for s in statuses)
            else "ScreeningWarn"
            if any(s.active for s in statuses) or c.pih_risk
            else "ScreeningClear"
        )
        self.screening_box.setObjectName(name)
        self.screening_box.style().unpolish(self.screening_box)
        self.screening_box.style().polish(self.screening_box)
        self.screening_statuses = statuses

    def _next_due(self, sessions: list[SessionRow], today: dt.date) -> str:
        """Last visit and next due; the due date never falls inside an active block."""
        done = [s for s in sessions if s.status in VISITS]
        if not done:
            return "First session: not yet treated."
        last = done[0].started.date()
        interval = int(self.store.setting("series_interval_days", 14))
        minimum = int(self.store.setting("minimum_interval_days", 10))
        due, due_text = next_due(last, interval, getattr(self, "screening_statuses", []))
        text = f"Last session {fmt_date(last)} · next due {due_text}"
        if today < last + dt.timedelta(days=minimum):
            text += f" (sooner than {minimum} days after the last is too soon)"
        elif due is not None and today > due:
            text += f" — {(today - due).days} days overdue"
        return text

    # -- consent, the client's own screening answers, series, erasure (issue #13) -------------------
    def _records_sections(self, lay: QVBoxLayout) -> None:
        from desktop.consent_dialogs import ConsentSection
        from desktop.series_widgets import SeriesSection
        from desktop.ui import plain

        self.erased_note = plain("", "FieldError")
        self.erased_note.setVisible(False)
        self.consent_section = ConsentSection(self.store, self.who, lambda: self.today())
        self.series_section = SeriesSection(self.store, self.who, lambda: self.today())
        self.client_screening_button = QPushButton("Client answers the questions…")
        self.client_screening_button.setToolTip("The client reads and answers the screening on this screen")
        self.client_screening_button.clicked.connect(self.client_screening)
        for section in (self.consent_section, self.series_section):
            section.changed.connect(lambda: self.client and self.show_client(self.client.id))
        head = QHBoxLayout()
        head.addWidget(title("Screening for today", "SectionTitle"), 1)
        head.addWidget(self.client_screening_button)
        lay.addWidget(self.erased_note)
        lay.addWidget(self.consent_section)
        lay.addLayout(head)
        lay.addWidget(self.screening_box)
        lay.addWidget(self.series_section)

    def _show_records(self, c: Client, sessions: list[SessionRow], today: dt.date) -> dict[int, str]:
        """Consent, series and erasure for ``c``; returns the sessions' numbers in their series."""
        erasures = self.store.erasures(c.id)
        if erasures:
            last = erasures[-1]
            self.erased_note.setText(
                f"Erased at the client's request on {fmt_date(last.erased_on)} by {last.erased_by}: "
                "contact details removed; the clinical record is kept"
                + (f" until {fmt_date(last.keep_until)}." if last.keep_until else ".")
            )
        self.erased_note.setVisible(bool(erasures))
        self._erased = bool(erasures)
        for b in (self.edit_button, self.archive_button):
            b.setEnabled(not erasures)
        self.start_button.setEnabled(not c.archived and not erasures)
        # archived, or the file is read-only (damaged, permissions, being checked): nothing to write
        frozen = c.archived or not self.store.writable
        self.client_screening_button.setEnabled(not frozen)
        self.consent_section.show_client(c.id, archived=frozen)
        return self.series_section.show_client(
            c.id, sessions, archived=frozen, fallback=self._next_due(sessions, today)
        )

    def client_screening(self):
        from desktop.screening_mode import ClientScreeningDialog

        dlg = ClientScreeningDialog(self.store, self.client.id, self.who, self, today=self.today())
        dlg.saved.connect(lambda _id: self.show_client(self.client.id))
        dlg.showMaximized()
        return dlg

    def toggle_archive(self) -> None:
        if self.client is None:
            return
        self.store.set_archived(self.client.id, not self.client.archived, self.who())
        self.show_client(self.client.id)
        self.archived_changed.emit(self.client.id)


def _scrolling(body: QWidget) -> QScrollArea:
    """``body`` filling the page when there is room, scrolling at its minimum size when not."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(body)
    return scroll


def _esc(text: str) -> str:
    """User text inside a rich-text label: shown as typed, never as markup."""
    return html.escape(text, quote=False)
