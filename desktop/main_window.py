"""The main window: client list ⇄ client page, menus, shortcuts, and what a killed session left behind."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
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

    def check(self, path) -> bool:
        from desktop.store.opening import full_check

        return self._start("file check", lambda: self._emit(self.check_done, path, full_check(path)))

    def backup(self, path, second) -> bool:
        from desktop.store import StoreError, backups

        def run():
            try:
                self._emit(self.backup_done, backups.take_backup(path, second), "")
            except StoreError as exc:
                self._emit(self.backup_done, None, str(exc))

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
    def __init__(self, store: Store, handpiece_url: str = "sim://?rate=500&auto=1", startup: bool = False):
        """``startup``: the app's start (``abrasio``): check the whole file in the background with
        writes held, then recover what a crash left and back up automatically. Without it (tests,
        tools) the file is used as opened."""
        super().__init__()
        self.store = store
        self.handpiece_url = handpiece_url
        self.session_windows: list = []  # live sessions running (or writing their end)
        self._quitting = False
        self._unit: str | None = None
        self.setWindowTitle(f"Abrasio — {store.path.name}")
        self.setWindowIcon(QIcon(str(resource_path("icons/abrasio.svg"))))
        fit_to_screen(self, 1200, 800)

        tools = QToolBar("Practitioner")
        tools.setMovable(False)
        self.practitioner = QComboBox()
        self.practitioner.setEditable(True)
        self.practitioner.setMinimumWidth(260)
        self.practitioner.addItems(store.practitioners())
        last = store.setting("current_practitioner", "")
        if last:
            self.practitioner.setCurrentText(last)
        self.practitioner.lineEdit().setPlaceholderText("Your name")
        self.practitioner.lineEdit().editingFinished.connect(self._practitioner_changed)
        self.practitioner.activated.connect(self._practitioner_changed)
        tools.addWidget(QLabel("  Practitioner: "))
        tools.addWidget(self.practitioner)
        self.addToolBar(tools)

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

        self.list_page.open_client.connect(self.show_client)
        self.list_page.new_client.connect(self.new_client)
        self.client_page.back.connect(self.show_list)
        self.client_page.edit.connect(self.edit_client)
        self.client_page.start_session.connect(self.start_session)
        self.client_page.open_session.connect(self.open_session)
        self.client_page.archived_changed.connect(lambda _id: self.list_page.refresh())
        self._menus()
        self._media_menus()
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
            self._background.check(store.path)
        elif store.writable:
            self._file_ready()
        self.list_page.focus_search()  # a keyboard user starts typing a name
        # the first session's code (pyqtgraph, the outputs), off the GUI thread before Start is pressed
        QTimer.singleShot(0, preload_session_views)

    # -- helpers -----------------------------------------------------------------------------------
    def who(self) -> str:
        return self.practitioner.currentText().strip()

    def unit(self) -> str:
        """The display unit, read once (and again when the settings change): the tables format with
        it on every paint, which must not query the file."""
        if self._unit is None:
            self._unit = self.store.setting("display_unit", "kPa")
        return self._unit

    def fmt(self, kpa: float) -> str:
        return format_vacuum(kpa, self.unit())

    def _practitioner_changed(self) -> None:
        name = self.who()
        if not self.store.writable:  # who is using Abrasio is not saved into a read-only file
            return
        try:
            if name and name not in self.store.practitioners():
                self.store.add_practitioner(name)
            if name != self.store.setting("current_practitioner", ""):
                self.store.set_setting("current_practitioner", name, name)
        except StoreError as exc:
            log.error("The current practitioner was not saved: %s", exc)
            self.statusBar().showMessage(f"The practitioner was not saved: {exc}")

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
        settings = bar.addMenu("&Settings")
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
        self.stack.currentChanged.connect(
            lambda _i: self.erase_action.setEnabled(self.stack.currentWidget() is self.client_page)
        )
        self.erase_action.setEnabled(False)
        for act in (self.recall_action, self.erase_action):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            clients.addAction(act)
            self.addAction(act)
        self.consent_settings_action = QAction(
            "&Consent forms and records…", self, triggered=self.open_consent_settings
        )
        settings.addAction(self.consent_settings_action)

    def open_recall(self):
        from desktop.recall_window import RecallDialog

        dlg = RecallDialog(self.store, self)
        dlg.open_client.connect(self.show_client)
        dlg.open()
        return dlg

    def erase_client(self):
        from desktop.erasure_dialog import EraseClientDialog

        if self.client_page.client is None:
            return None
        dlg = EraseClientDialog(self.store, self.client_page.client.id, self.who, self)
        dlg.erased.connect(lambda cid, full: self.show_list() if full else self.show_client(cid))
        dlg.open()
        return dlg

    def open_consent_settings(self):
        from desktop.consent_dialogs import ConsentSettingsDialog

        dlg = ConsentSettingsDialog(self.store, self.who(), self)
        dlg.accepted.connect(lambda: self.client_page.client and self.show_client(self.client_page.client.id))
        dlg.open()
        return dlg

    def _media_menus(self) -> None:
        """Photos (watched folder, comparison) and the client export (photo_views.py, export_ui.py)."""
        from desktop.photo_views import WatchedFolder

        self.watched_folder = WatchedFolder(self.store.setting("photo_watch_folder", ""), self)
        self.watched_folder.pending.connect(self.client_page.photos.set_inbox)
        self.watched_folder.problem.connect(lambda text: text and self.statusBar().showMessage(text))
        photos = self.menuBar().addMenu("&Photos")
        photos.addAction(QAction("&Watched folder…", self, triggered=self.choose_watched_folder))
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
        dlg = ExportClientDialog(self.store, self.client_page.client.id, self.who(), self)
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
        self.stack.setCurrentWidget(self.client_page)
        self.client_page.start_button.setFocus()

    def new_client(self) -> ClientDialog | None:
        if not self.store.writable:
            self.statusBar().showMessage(self.store.access.reason, 10_000)
            return None
        return self._client_form(None)

    def edit_client(self, client_id: int) -> ClientDialog | None:
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

        try:
            win = SessionReviewWindow(self.store, session_id, self.who, parent=self)
        except StoreError as exc:
            self.warn("Cannot open the session", str(exc))
            return None
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
        super().closeEvent(event)

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
        enable((self.list_page.new_button, self.new_client_action), writable, access.reason)
        if writable and self.client_page.client is not None:
            self.show_client(self.client_page.client.id)  # its buttons as the record allows
        else:
            self.client_page.apply_access()
        self.practitioner.setToolTip("" if writable else "Not saved while the file is read-only.")
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

            latest = backups.latest_good(self.store.path, self.store.second_backup_folder())
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
        return self._background.backup(self.store.path, self.store.second_backup_folder())

    def _backup_done(self, dest, error) -> None:
        if error:
            log.error("Automatic backup failed: %s", error)
            self.statusBar().showMessage(f"The automatic backup failed: {error}")
        else:
            log.info("Automatic backup written: %s", dest)
            self.statusBar().showMessage(f"Backed up to {dest}", 10_000)

    def open_backups(self):
        from desktop.backups_dialog import BackupsDialog

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
            self._background.check(self.store.path)
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
