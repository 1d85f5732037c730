"""The main window: client list ⇄ client page, menus, shortcuts, and what a killed session left behind."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.accounts import Clinic, Permission, Person
from desktop.client_form import ClientDialog
from desktop.client_pages import ClientListPage, ClientPage
from desktop.preload import preload_session_views
from desktop.resources import resource_path
from desktop.screen_fit import fit_to_screen
from desktop.settings_dialog import SettingsDialog
from desktop.store import Store, StoreError
from desktop.widgets import enable, follow_access
from device.units import format_vacuum

log = logging.getLogger("abrasio.window")


class BackgroundWork(QObject):
    """The whole-file check and backups, on worker threads; results come back as signals (queued to
    the GUI thread). One at a time."""

    check_done = Signal(object, object)  # path, CheckResult
    backup_done = Signal(object, str)  # path of the copy (or None), error ("" when well)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self, name: str, target) -> bool:
        if self.busy:
            return False
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()
        return True

    @property
    def backing_up(self) -> bool:
        return self.busy and self._thread.name == "backup"

    def check(self, path, key: bytes | None = None) -> bool:
        from desktop.store.opening import full_check

        return self._start("file check", lambda: self._emit(self.check_done, path, full_check(path, key)))

    def backup(self, path, second, key: bytes | None = None) -> bool:
        from desktop.store import StoreError, backups

        def run():
            try:
                self._emit(self.backup_done, backups.take_backup(path, second, key=key), "")
            except StoreError as exc:
                self._emit(self.backup_done, None, str(exc))
            except Exception as exc:  # a fault in Abrasio: said in words, and logged with its trace
                log.exception("The backup failed")
                self._emit(
                    self.backup_done, None, f"Abrasio failed while backing up (please report it): {exc}"
                )

        return self._start("backup", run)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window went away meanwhile (quitting): nobody to tell
            log.info("A background result arrived after its window closed")

    def wait(self, timeout: float) -> None:
        """At quit: a backup is let finish (its copy is only kept once checked); a check is not
        waited for (it only reads)."""
        if self.backing_up:
            self._thread.join(timeout)


class MainWindow(QMainWindow):
    def __init__(
        self,
        clinic: Clinic | Store,
        handpiece_url: str = "sim://?rate=500&auto=1",
        startup: bool = False,
        *,
        person: Person | None = None,
        demo: bool = False,
    ):
        """``clinic``: the open clinic with its logged-in person (``accounts.Clinic``); every record and
        audit entry is theirs. A bare ``Store`` with a ``person`` is a file not protected yet (no audit
        trail, no lock): the file-layer tests and tools until every file is encrypted.
        ``startup``: the app's start (``abrasio``): check the whole file in the background with
        writes held, then recover what a crash left and back up automatically. Without it (tests,
        tools) the file is used as opened. ``demo``: the title bar says so."""
        super().__init__()
        if isinstance(clinic, Clinic):
            self.clinic, store, self._person = clinic, clinic.store, None
        else:
            if person is None:
                raise ValueError("a store without a clinic needs the person using it")
            self.clinic, store, self._person = None, clinic, person
        self.store = store
        self.demo = demo
        self.handpiece_url = handpiece_url
        self.session_windows: list = []  # live sessions running (or writing their end)
        self._quitting = False
        self._unit: str | None = None
        self.setWindowIcon(QIcon(str(resource_path("icons/abrasio.svg"))))
        fit_to_screen(self, 1200, 800)

        tools = QToolBar("Logged in")
        tools.setObjectName("PersonBar")
        tools.setMovable(False)
        self.person_label = QLabel()
        self.person_label.setTextFormat(Qt.TextFormat.PlainText)
        self.person_label.setObjectName("PersonLabel")
        tools.addWidget(self.person_label)
        self.addToolBar(tools)
        self.person_bar = tools

        self.list_page = ClientListPage(store)
        self.client_page = ClientPage(store, self.fmt, self.who)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list_page)
        self.stack.addWidget(self.client_page)

        self.banner = QWidget()
        self.banner.setStyleSheet("background:#fff5d6; border-bottom:1px solid #b38600;")
        self.banner_label = QLabel()
        self.banner_label.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_label.setWordWrap(True)
        self.banner_button = QPushButton("Review")
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.banner_button)
        self.banner.hide()
        self.banner_button.clicked.connect(self._review_interrupted)

        self._build_file_banner()
        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.file_banner)
        col.addWidget(self.banner)
        col.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._audited_open = None  # (client, person, what) of the last "open" recorded, while shown
        self.stack.currentChanged.connect(
            lambda _i: self.stack.currentWidget() is self.list_page and setattr(self, "_audited_open", None)
        )

        self.list_page.open_client.connect(self.show_client)
        self.list_page.new_client.connect(self.new_client)
        self.client_page.back.connect(self.show_list)
        self.client_page.edit.connect(self.edit_client)
        self.client_page.start_session.connect(self.start_session)
        self.client_page.open_session.connect(self.open_session)
        self.client_page.archived_changed.connect(lambda _id: self.list_page.refresh())
        self._menus()
        self._media_menus()
        self._security_menus()
        self.statusBar().showMessage(f"Database: {store.path}")
        self._startup = startup
        self._background = BackgroundWork(self)
        self._background.check_done.connect(self._check_done)
        self._background.backup_done.connect(self._backup_done)
        self._backup_timer = QTimer(self, timeout=self.backup_now)
        self._recovery_timer = QTimer(self, singleShot=True, timeout=self.recover_interrupted)
        self._unlisten = store.on_access_changed(self._access_changed)
        self._error_box: QMessageBox | None = None
        self._access_changed(store.access)
        if store.access.kind == "checking":
            self._background.check(store.path, store.key)
        elif store.writable:
            self._file_ready()
        self._person_changed()
        self.list_page.focus_search()  # a keyboard user starts typing a name
        # the first session's code (pyqtgraph, the outputs), off the GUI thread before Start is pressed
        QTimer.singleShot(0, preload_session_views)

    # -- who is using Abrasio ------------------------------------------------------------------------
    @property
    def person(self) -> Person:
        return self.clinic.person if self.clinic is not None else self._person

    def who(self) -> str:
        """The logged-in person's name: what every record and change-log entry says (never typed)."""
        return self.person.name

    def may(self, permission: Permission) -> bool:
        return self.person.may(permission)

    def refuse(self, what: str, permission: Permission) -> bool:
        """True (and says so in words, in the status bar and a message) if the person may not."""
        if self.may(permission):
            return False
        p = self.person
        self.warn(
            "Not permitted", f"{p.name} ({p.roles_label}) may not {what}. Ask the clinic's administrator."
        )
        return True

    def audit(self, action: str, record_type: str, record_id=None, client_id=None, **details) -> None:
        """One entry in the clinic's audit trail (reads of clinical records: open, review, export,
        print). A failure to record is logged and shown; it never stops the work."""
        if self.clinic is None:
            return
        try:
            self.clinic.audit(action, record_type, record_id, client_id=client_id, **details)
        except Exception as exc:
            log.error("Audit entry %s %s #%s not written: %s", action, record_type, record_id, exc)
            self.statusBar().showMessage(f"The audit trail could not record this: {exc}", 10_000)

    def _title(self) -> str:
        parts = ["Abrasio", *(["demo"] if self.demo else []), self.store.path.name, self.person.name]
        return " — ".join(parts)

    def _person_changed(self) -> None:
        """After login or an unlock (the same or another person): the title, the toolbar, what the
        menus and the client page offer."""
        p = self.person
        self.setWindowTitle(self._title())
        self.person_label.setText(f"  {p.name} ({p.roles_label})" + ("  ·  demo" if self.demo else ""))
        clinical = self.may(Permission.CLINICAL_VIEW)
        for act, allowed in (
            (self.settings_action, self.may(Permission.SETTINGS_EDIT)),
            (self.consent_settings_action, self.may(Permission.SETTINGS_EDIT)),
            (self.backups_action, self.may(Permission.BACKUPS)),
            (self.export_action, self.may(Permission.EXPORT_PRINT)),
            (self.erase_action, self.may(Permission.CLINICAL_EDIT)),
            (self.new_client_action, self.may(Permission.CONTACTS_EDIT)),
            (self.recall_action, self.may(Permission.RECALL_LIST)),
            (self.compare_action, clinical),
            (self.watched_folder_action, clinical),
            (self.people_action, self.clinic is not None and self.may(Permission.PEOPLE_MANAGE)),
            (self.recovery_key_action, self.clinic is not None and self.may(Permission.PEOPLE_MANAGE)),
            (self.audit_action, self.clinic is not None and self.may(Permission.AUDIT_VIEW)),
            (self.lock_action, self.clinic is not None),
            (self.passphrase_action, self.clinic is not None),
        ):
            act.setVisible(allowed)
        self.admin_menu.menuAction().setVisible(
            any(a.isVisible() for a in (self.people_action, self.audit_action, self.recovery_key_action))
        )
        self.photos_menu.menuAction().setVisible(clinical)
        self.settings_menu.menuAction().setVisible(
            any(
                a.isVisible()
                for a in (self.settings_action, self.consent_settings_action, self.backups_action)
            )
        )
        self.list_page.new_button.setVisible(self.may(Permission.CONTACTS_EDIT))
        self.client_page.set_permissions(self.person)

    def unit(self) -> str:
        """The display unit, read once (and again when the settings change): the tables format with
        it on every paint, which must not query the file."""
        if self._unit is None:
            self._unit = self.store.setting("display_unit", "kPa")
        return self._unit

    def fmt(self, kpa: float) -> str:
        return format_vacuum(kpa, self.unit())

    def _menus(self) -> None:
        bar = self.menuBar()
        clients = bar.addMenu("&Clients")
        actions = []
        for text, keys, slot in (
            ("&New client…", QKeySequence.StandardKey.New, self.new_client),
            ("&Find client", QKeySequence.StandardKey.Find, self.find_client),
        ):
            act = QAction(text, self, shortcut=keys, triggered=slot)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            clients.addAction(act)
            self.addAction(act)
            actions.append(act)
        self.new_client_action = actions[0]
        self.settings_action = QAction("Clinic &settings…", self, triggered=self.open_settings)
        settings = self.settings_menu = bar.addMenu("&Settings")
        settings.addAction(self.settings_action)
        self.backups_action = QAction("&Backups…", self, triggered=self.open_backups)
        settings.addAction(self.backups_action)
        self._records_menus(clients, settings)
        bar.addMenu("&Help").addAction(QAction("&About Abrasio", self, triggered=self.about))
        QShortcut(
            QKeySequence("Ctrl+E"),
            self.client_page,
            activated=lambda: self.client_page.client and self.edit_client(self.client_page.client.id),
        )
        for key in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(key), self.client_page, activated=self.client_page.start_button.click)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.client_page, activated=self.show_list)

    def _records_menus(self, clients, settings) -> None:
        """Recall list, erasure, consent forms (issue #13)."""
        clients.addSeparator()
        self.recall_action = QAction("&Recall list…", self, shortcut=QKeySequence("Ctrl+R"))
        self.recall_action.triggered.connect(self.open_recall)
        self.erase_action = QAction("&Erase client…", self, triggered=self.erase_client)
        self.stack.currentChanged.connect(lambda _i: self._erase_action_follows())
        self.erase_action.setEnabled(False)
        for act in (self.recall_action, self.erase_action):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            clients.addAction(act)
            self.addAction(act)
        self.consent_settings_action = QAction(
            "&Consent forms and records…", self, triggered=self.open_consent_settings
        )
        settings.addAction(self.consent_settings_action)

    def _security_menus(self) -> None:
        """Account (lock, own passphrase) and Administrator (people, audit, recovery key); the lock."""
        from desktop.security_ui import LockController

        bar = self.menuBar()
        account = self.account_menu = bar.addMenu("&Account")
        # Ctrl+L itself is caught app-wide by the LockController (it works over modal dialogs too)
        self.lock_action = QAction("&Lock Abrasio\tCtrl+L", self, triggered=lambda: self.lock_now())
        self.passphrase_action = QAction("&Change my passphrase…", self, triggered=self.change_passphrase)
        account.addAction(self.lock_action)
        account.addAction(self.passphrase_action)
        admin = self.admin_menu = bar.addMenu("A&dministrator")
        self.people_action = QAction("&People…", self, triggered=self.open_people)
        self.audit_action = QAction("&Audit…", self, triggered=self.open_audit)
        self.recovery_key_action = QAction("New &recovery key…", self, triggered=self.new_recovery_key)
        for act in (self.people_action, self.audit_action, self.recovery_key_action):
            admin.addAction(act)
        help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
        if help_menu is not None:  # Help stays last
            bar.removeAction(help_menu)
            bar.addAction(help_menu)
        self.lock = None
        if self.clinic is not None:
            self.lock = LockController(self, self.clinic, self.lock_after_ms(), lambda: self.session_windows)
            self.lock.locked_changed.connect(self._lock_changed)
        self._locked_person = None

    def lock_after_ms(self) -> int:
        try:
            minutes = float(self.store.setting("lock_after_minutes", 5) or 5)
        except StoreError as exc:
            log.error("The lock time could not be read (5 minutes used): %s", exc)
            minutes = 5
        return int(max(1.0, minutes) * 60_000)

    def lock_now(self) -> None:
        if self.lock is not None:
            self.lock.lock("Ctrl+L")

    def _lock_changed(self, locked: bool) -> None:
        if locked:
            self._locked_person = self.person.id
            return
        if self._locked_person != self.person.id:  # another person: they start from the client list
            self.show_list()
        self._person_changed()
        if not self.may(Permission.CLINICAL_EDIT):  # a running treatment's notes are not theirs to write
            for w in self.session_windows:
                w.set_locked(True)

    def open_people(self):
        from desktop.people_dialog import PeopleDialog

        if self.clinic is None or self.refuse("manage people", Permission.PEOPLE_MANAGE):
            return None
        dlg = PeopleDialog(self.clinic, self)
        dlg.finished.connect(lambda _r: self._person_changed())
        dlg.open()
        self.people_dialog = dlg
        return dlg

    def open_audit(self):
        from desktop.audit_window import AuditWindow

        if self.clinic is None or self.refuse("see the audit trail", Permission.AUDIT_VIEW):
            return None
        win = AuditWindow(self.clinic, self)
        fit_to_screen(win, 1100, 700)
        win.show()
        self.audit_window = win
        return win

    def change_passphrase(self):
        from desktop.people_dialog import ChangePassphraseDialog

        if self.clinic is None:
            return None
        dlg = ChangePassphraseDialog(self.clinic, self)
        dlg.open()
        self.passphrase_dialog = dlg
        return dlg

    def new_recovery_key(self):
        from desktop.people_dialog import NewRecoveryKeyDialog

        if self.clinic is None or self.refuse("replace the recovery key", Permission.PEOPLE_MANAGE):
            return None
        dlg = NewRecoveryKeyDialog(self.clinic, self)
        dlg.open()
        self.recovery_dialog = dlg
        return dlg

    def open_recall(self):
        from desktop.recall_window import RecallDialog

        if self.refuse("see the recall list", Permission.RECALL_LIST):
            return None
        try:
            dlg = RecallDialog(self.store, self)
        except StoreError as exc:
            self.warn("Cannot show the recall list", str(exc))
            return None
        dlg.open_client.connect(self.show_client)
        dlg.open()
        return dlg

    def _erase_action_follows(self) -> None:
        """Erasing needs a client on screen and a writable file (read-only: disabled, saying why)."""
        writable = self.store.writable
        self.erase_action.setEnabled(writable and self.stack.currentWidget() is self.client_page)
        self.erase_action.setToolTip("" if writable else self.store.access.reason)

    def erase_client(self):
        from desktop.erasure_dialog import EraseClientDialog

        if self.client_page.client is None or self.refuse("erase a client", Permission.CLINICAL_EDIT):
            return None
        if not self.store.writable:
            self.statusBar().showMessage(self.store.access.reason, 10_000)
            return None
        try:
            dlg = EraseClientDialog(self.store, self.client_page.client.id, self.who, self)
        except StoreError as exc:
            self.warn("Cannot erase the client", str(exc))
            return None
        dlg.erased.connect(lambda cid, full: self.show_list() if full else self.show_client(cid))
        dlg.open()
        return dlg

    def open_consent_settings(self):
        from desktop.consent_dialogs import ConsentSettingsDialog

        if self.refuse("change the clinic's settings", Permission.SETTINGS_EDIT):
            return None
        try:
            dlg = ConsentSettingsDialog(self.store, self.who(), self)
        except StoreError as exc:
            self.warn("Cannot show the consent forms", str(exc))
            return None
        dlg.accepted.connect(lambda: self.client_page.client and self.show_client(self.client_page.client.id))
        dlg.open()
        return dlg

    def _media_menus(self) -> None:
        """Photos (watched folder, comparison) and the client export (photo_views.py, export_ui.py)."""
        from desktop.photo_views import WatchedFolder

        self.watched_folder = WatchedFolder(self.store.setting("photo_watch_folder", ""), self)
        self.watched_folder.pending.connect(self.client_page.photos.set_inbox)
        self.watched_folder.problem.connect(lambda text: text and self.statusBar().showMessage(text))
        photos = self.photos_menu = self.menuBar().addMenu("&Photos")
        self.watched_folder_action = QAction("&Watched folder…", self, triggered=self.choose_watched_folder)
        photos.addAction(self.watched_folder_action)
        self.compare_action = QAction("&Compare this client's photos…", self, triggered=self._compare_photos)
        photos.addAction(self.compare_action)
        self.export_action = QAction("E&xport client record…", self, triggered=self.export_client)
        clients = next(a.menu() for a in self.menuBar().actions() if a.text() == "&Clients")
        clients.addAction(self.export_action)

    def choose_watched_folder(self):
        from PySide6.QtWidgets import QFileDialog

        dlg = QFileDialog(self, "Folder where the clinic's phone or camera saves photos")
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly)
        current = self.store.setting("photo_watch_folder", "")
        if current:
            dlg.setDirectory(current)
        dlg.fileSelected.connect(self._set_watched_folder)
        dlg.open()
        return dlg

    def _set_watched_folder(self, folder: str) -> None:
        try:
            self.store.set_setting("photo_watch_folder", folder, self.who())
        except StoreError as exc:
            QMessageBox.warning(self, "Watched folder not saved", str(exc))
            return
        self.watched_folder.set_folder(folder)

    def _compare_photos(self):
        return self.client_page.photos.compare() if self.stack.currentWidget() is self.client_page else None

    def export_client(self):
        from desktop.export_ui import ExportClientDialog

        if self.stack.currentWidget() is not self.client_page or self.client_page.client is None:
            QMessageBox.information(self, "Export client record", "Open a client's page first.")
            return None
        if self.refuse("export a client's record", Permission.EXPORT_PRINT):
            return None
        cid = self.client_page.client.id
        try:
            dlg = ExportClientDialog(self.store, cid, self.who(), self)
        except StoreError as exc:
            self.warn("Cannot export the client record", str(exc))
            return None
        dlg.audit = lambda folder: self.audit("export", "client", cid, client_id=cid, folder=folder)
        dlg.open()
        return dlg

    # -- navigation ------------------------------------------------------------------------------
    def show_list(self) -> None:
        self.stack.setCurrentWidget(self.list_page)
        self.list_page.refresh()
        self.list_page.focus_search()

    def find_client(self) -> None:
        self.stack.setCurrentWidget(self.list_page)
        self.list_page.focus_search()

    def show_client(self, client_id: int) -> None:
        try:
            self.client_page.show_client(client_id)
        except StoreError as exc:
            self.warn("Cannot open client", str(exc))
            return
        # a read of the client's record: the clinical page, or (front desk) the contact details only;
        # once per opening (the page shown afresh after an edit or a setting is the same read)
        what = "client" if self.may(Permission.CLINICAL_VIEW) else "contact details"
        if self._audited_open != (client_id, self.person.id, what):
            self._audited_open = (client_id, self.person.id, what)
            self.audit("open", what, client_id, client_id=client_id)
        self.stack.setCurrentWidget(self.client_page)
        self.client_page.start_button.setFocus()

    def new_client(self) -> ClientDialog | None:
        if self.refuse("add clients", Permission.CONTACTS_EDIT):
            return None
        if not self.store.writable:
            self.statusBar().showMessage(self.store.access.reason, 10_000)
            return None
        return self._client_form(None)

    def edit_client(self, client_id: int) -> ClientDialog | None:
        if self.refuse("change a client's details", Permission.CONTACTS_EDIT):
            return None
        if not self.store.writable:
            self.statusBar().showMessage(self.store.access.reason, 10_000)
            return None
        try:
            return self._client_form(self.store.client(client_id))
        except StoreError as exc:
            self.warn("Cannot edit the client", str(exc))
            return None

    def warn(self, title: str, text: str) -> QMessageBox:
        """A problem the user must read, in words, without blocking the window (plain text)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(text)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.last_warning = box
        return box

    def _client_form(self, client) -> ClientDialog:
        dlg = ClientDialog(self.store, client, who=self.who(), parent=self)
        dlg.saved.connect(self.show_client)
        dlg.saved.connect(lambda _id: self.list_page.refresh())
        dlg.open()
        return dlg

    def open_settings(self) -> SettingsDialog | None:
        if self.refuse("change the clinic's settings", Permission.SETTINGS_EDIT):
            return None
        try:
            dlg = SettingsDialog(self.store, self.who(), self)
        except StoreError as exc:
            self.warn("Cannot open the settings", str(exc))
            return None
        dlg.accepted.connect(self._settings_changed)
        dlg.open()
        return dlg

    def _settings_changed(self) -> None:
        self._unit = None  # read again: the unit may have changed
        if self.lock is not None:
            self.lock.set_idle_ms(self.lock_after_ms())
        if self.client_page.client:
            self.show_client(self.client_page.client.id)
        self._display_unit_changed()

    def _display_unit_changed(self) -> None:
        """Open session windows, a running one included, show vacuum in the unit just chosen."""
        from desktop.session.review import SessionReviewWindow

        unit = self.unit()
        for win in [*self.session_windows, *self.findChildren(SessionReviewWindow)]:
            if win.unit != unit:
                win.set_unit(unit)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Abrasio",
            f"Abrasio {__version__}\nRecords and live handpiece monitoring for medical "
            f"microdermabrasion.\n\nDatabase: {self.store.path}",
        )

    # -- sessions --------------------------------------------------------------------------------
    def start_session(self, client_id: int):
        """One running session per client (and, through the dialog, per handpiece port)."""
        from desktop.session.start_dialog import StartSessionDialog

        if self.refuse("run a treatment session", Permission.SESSION_RUN):
            return None
        if not self.store.writable:
            self.statusBar().showMessage(self.store.access.reason, 10_000)
            return None
        running = self.running_session(client_id=client_id)
        if running is not None:
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Session already running",
                f"A treatment session for {running.client.name} is already running.",
                parent=self,
            )
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
            self.running_box = box
            running.raise_()
            running.activateWindow()
            return None
        dlg = StartSessionDialog(self.store, client_id, self.who(), self.handpiece_url, parent=self)
        dlg.ports_in_use = {
            w.link_spec["url"]: w.client.name
            for w in self.session_windows
            if not w.link_spec["url"].startswith("sim://")  # each sim:// is a simulator of its own
        }
        dlg.started.connect(self._open_live)
        fit_to_screen(dlg)
        dlg.open()
        return dlg

    def running_session(self, client_id: int | None = None):
        return next((w for w in self.session_windows if w.client.id == client_id and not w.ended), None)

    def _open_live(self, session_id: int, link_spec: dict):
        from desktop.session.live import LiveSessionWindow

        win = LiveSessionWindow(self.store, session_id, link_spec, self.who, parent=self)
        win.finished.connect(self._session_ended)
        self.session_windows.append(win)
        fit_to_screen(win)
        win.show()
        return win

    def _session_ended(self, session_id: int) -> None:
        """A live window finished writing its session: it closes; the session's review opens."""
        win = next((w for w in self.session_windows if w.session_id == session_id), None)
        if win is None:
            return
        self.session_windows.remove(win)
        if self.client_page.client:
            self.show_client(self.client_page.client.id)
        if self._quitting:
            if not self.session_windows:
                self.close()
            return
        review = self.open_session(session_id)
        review.show_save_problem(win.save_error)

    def open_session(self, session_id: int):
        from desktop.session.review import SessionReviewWindow

        if self.refuse("see treatment sessions", Permission.CLINICAL_VIEW):
            return None
        try:
            win = SessionReviewWindow(self.store, session_id, self.who, parent=self)
        except StoreError as exc:
            self.warn("Cannot open the session", str(exc))
            return None
        cid = win.client.id if getattr(win, "client", None) is not None else None
        self.audit("review", "session", session_id, client_id=cid)
        if self.clinic is not None:
            win.outputs.audit = lambda action, **d: self.audit(
                action, "session", session_id, client_id=cid, **d
            )
        win.amended.connect(lambda: self.client_page.client and self.show_client(self.client_page.client.id))
        buttons = (win.amend_button, win.save_button, win.close_session_button)
        follow_access(self.store, win, lambda writable, why: enable(buttons, writable, why))
        fit_to_screen(win)
        win.show()
        return win

    def recover_interrupted(self) -> None:
        """Sessions still 'recording' whose process is gone (killed, power cut) and whose heartbeat
        is over 10 s old are marked interrupted, and the banner says so. One recorded by a live
        process (another Abrasio on this file) is left alone; one whose heartbeat is still fresh is
        looked at again in a few seconds."""
        if not self.store.writable:
            return
        try:
            _marked, waiting = self.store.recover_orphans()
            self.interrupted = [s for s in self.store.unfinished_sessions() if s.status == "interrupted"]
            names = ", ".join(
                f"{self.store.client(s.client_id).name} ({s.started_at[:16].replace('T', ' ')})"
                for s in self.interrupted[:3]
            )
        except StoreError as exc:
            log.error("Recovering interrupted sessions failed: %s", exc)
            self.statusBar().showMessage(f"Interrupted sessions could not be checked: {exc}")
            return
        if waiting:  # look again once their heartbeats may have gone stale
            from desktop.store.owner import STALE_AFTER_S

            self._recovery_timer.start(int(1000 * min(5.0, max(0.5, STALE_AFTER_S / 2))))
        if self.interrupted:
            n = len(self.interrupted)
            self.banner_label.setText(
                f"{n} treatment session{'s were' if n > 1 else ' was'} interrupted and "
                f"need{'' if n > 1 else 's'} closing with notes: {names}"
            )
            self.banner.show()
        else:
            self.banner.hide()

    def _review_interrupted(self):
        if self.interrupted:
            win = self.open_session(self.interrupted[0].id)
            win.amended.connect(self.recover_interrupted)
            return win
        return None

    def closeEvent(self, event) -> None:
        """Quitting with sessions running asks first, then ends each and quits once all are saved."""
        running = [w for w in self.session_windows if not w.ended]
        if running and not self._quitting:
            names = ", ".join(w.client.name for w in running)
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Sessions running",
                f"{len(running)} treatment session{'s are' if len(running) > 1 else ' is'} still "
                f"recording ({names}). End {'them' if len(running) > 1 else 'it'} and quit?",
                QMessageBox.StandardButton.NoButton,
                self,
            )
            box.setTextFormat(Qt.TextFormat.PlainText)
            yes = box.addButton("End and quit", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Keep recording", QMessageBox.ButtonRole.RejectRole)
            box.finished.connect(lambda _r: box.clickedButton() is yes and self._end_all_and_quit())
            box.open()
            self.quit_box = box
            event.ignore()
            return
        if running:
            event.ignore()  # ending: the last one to finish closes this window
            return
        self._backup_timer.stop()
        self._recovery_timer.stop()
        self._stop_lock()
        super().closeEvent(event)

    def _stop_lock(self) -> None:
        """A closed window neither locks itself later nor watches the app's input."""
        if self.lock is not None:
            self.lock.timer.stop()
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self.lock)

    # -- the clinic file: read-only mode, banners, background check, backups ----------------------
    def _build_file_banner(self) -> None:
        self.file_banner = QWidget()
        self.file_banner.setObjectName("FileBanner")
        self.file_banner_label = QLabel()
        self.file_banner_label.setTextFormat(Qt.TextFormat.PlainText)
        self.file_banner_label.setWordWrap(True)
        self.file_banner_button = QPushButton()
        self.file_banner_button.clicked.connect(self._file_banner_clicked)
        row = QHBoxLayout(self.file_banner)
        row.addWidget(self.file_banner_label, 1)
        row.addWidget(self.file_banner_button)
        self.file_banner.hide()
        self._offered_backup = None

    def _access_changed(self, access) -> None:
        """The one place the main window follows the file's read-only mode."""
        writable = access.writable
        enable(
            (self.list_page.new_button, self.new_client_action, self.watched_folder_action),
            writable,
            access.reason,
        )
        self._erase_action_follows()
        if writable and self.client_page.client is not None:
            self.show_client(self.client_page.client.id)  # its buttons as the record allows
        else:
            self.client_page.apply_access()
        self._offered_backup = None
        if writable:
            self.file_banner.hide()
            return
        background, text = {
            "damaged": ("#b00020", "white"),
            "read_only": ("#fff5d6", "#3d2e00"),
            "checking": ("#e8f1f8", "#12324a"),
        }.get(access.kind, ("#fff5d6", "#3d2e00"))
        self.file_banner.setStyleSheet(
            f"QWidget#FileBanner {{ background: {background}; }} "
            f"QWidget#FileBanner QLabel {{ color: {text}; font-weight: bold; }}"
        )
        self.file_banner_label.setText(access.reason)
        self.file_banner_button.hide()
        if access.kind == "damaged":
            from desktop.store import backups

            latest = backups.latest_good(
                self.store.path, self.store.second_backup_folder(), key=self.store.key
            )
            if latest:
                self._offered_backup = latest.path
                self.file_banner_button.setText(f"Restore the backup of {backups.describe(latest)}…")
            else:
                self.file_banner_button.setText("No backup found — Backups…")
            self.file_banner_button.show()
        self.file_banner.show()

    def _file_banner_clicked(self) -> None:
        dlg = self.open_backups()
        if self._offered_backup:
            dlg.select(self._offered_backup)

    def _check_done(self, path, result) -> None:
        if path != self.store.path:
            return
        log.info("Whole-file check: %s", "ok" if result.ok else f"damaged ({', '.join(result.affected)})")
        self.store.finish_check(result)
        if self.store.writable:
            self._file_ready()

    def _file_ready(self) -> None:
        """The file is sound and writable: write what a full disk left in spill files, recover what a
        crash left, and (at start-up) back up."""
        from desktop.store import spill

        problems = spill.replay_all(self.store)
        if problems:
            self.warn("Held session data not written yet", "\n".join(problems))
        self.recover_interrupted()
        if self._startup:
            self.backup_now()
            self.restart_backup_timer()

    def restart_backup_timer(self) -> None:
        """Automatic backups while open, every ``backup_every_hours`` (Settings → Backups; 0: off)."""
        self._backup_timer.stop()
        hours = float(self.store.setting("backup_every_hours", 4) or 0)
        if self._startup and hours > 0:
            self._backup_timer.start(int(hours * 3600 * 1000))

    def backup_now(self) -> bool:
        """An automatic backup on the worker thread (not while the file is read-only or one runs)."""
        if not self.store.writable:
            return False
        return self._background.backup(self.store.path, self.store.second_backup_folder(), self.store.key)

    def _backup_done(self, dest, error) -> None:
        if error:
            log.error("Automatic backup failed: %s", error)
            self.statusBar().showMessage(f"The automatic backup failed: {error}")
        else:
            log.info("Automatic backup written: %s", dest)
            self.statusBar().showMessage(f"Backed up to {dest}", 10_000)

    def open_backups(self):
        from desktop.backups_dialog import BackupsDialog

        if self.refuse("manage backups", Permission.BACKUPS):
            return None
        dlg = BackupsDialog(self.store, self, self.who())
        dlg.restored.connect(self._restored)
        dlg.open()
        self.last_backups_dialog = dlg
        return dlg

    def can_restore(self) -> str | None:
        """Why a backup cannot be restored now, or None."""
        if self.session_windows:
            return "A treatment session is open: end it before restoring a backup."
        if self._background.busy:
            return "A backup or check is running; try again in a moment."
        return None

    def _restored(self) -> None:
        """The file was replaced by a backup: everything shown is read again."""
        log.warning("The clinic file was restored from a backup")
        self._unit = None
        if self.store.access.kind == "checking":
            self._background.check(self.store.path, self.store.key)
        self.show_list()
        if self.store.writable:
            self.recover_interrupted()

    def bring_forward(self) -> None:
        """Another launch on this file asked for this window."""
        log.info("Brought the window forward for another launch")
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def show_error(self, text: str, log_path) -> None:
        """An error nobody caught: say so, and where the details are (one dialog at a time)."""
        if self._error_box is not None and self._error_box.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Abrasio: unexpected error", "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            f"Something went wrong in Abrasio: {text}\n\nWhat you had saved is safe. The details are "
            f"in the log file:\n{log_path}"
        )
        box.setWindowModality(Qt.WindowModality.NonModal)
        self._error_box = box
        box.open()

    def stop_background_work(self) -> None:
        self._backup_timer.stop()
        self._recovery_timer.stop()
        self._background.wait(30)

    def _end_all_and_quit(self) -> None:
        self._quitting = True
        for win in list(self.session_windows):
            win.end_session()
