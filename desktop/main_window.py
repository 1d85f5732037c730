"""The main window: client list ⇄ client page, menus, shortcuts, and what a killed session left behind."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
from desktop.resources import resource_path
from desktop.screen_fit import fit_to_screen
from desktop.settings_dialog import SettingsDialog
from desktop.store import Store, StoreError
from device.units import format_vacuum


class MainWindow(QMainWindow):
    def __init__(self, store: Store, handpiece_url: str = "sim://?rate=500&auto=1"):
        super().__init__()
        self.store = store
        self.handpiece_url = handpiece_url
        self.session_windows: list = []  # live sessions running (or writing their end)
        self._quitting = False
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
        self.banner_button = QPushButton("Review")
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.banner_button)
        self.banner.hide()
        self.banner_button.clicked.connect(self._review_interrupted)

        central = QWidget()
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
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
        self.recover_interrupted()
        self.list_page.focus_search()  # a keyboard user starts typing a name

    # -- helpers -----------------------------------------------------------------------------------
    def who(self) -> str:
        return self.practitioner.currentText().strip()

    def unit(self) -> str:
        return self.store.setting("display_unit", "kPa")

    def fmt(self, kpa: float) -> str:
        return format_vacuum(kpa, self.unit())

    def _practitioner_changed(self) -> None:
        name = self.who()
        if name and name not in self.store.practitioners():
            self.store.add_practitioner(name)
        if name != self.store.setting("current_practitioner", ""):
            self.store.set_setting("current_practitioner", name, name)

    def _menus(self) -> None:
        bar = self.menuBar()
        clients = bar.addMenu("&Clients")
        for text, keys, slot in (
            ("&New client…", QKeySequence.StandardKey.New, self.new_client),
            ("&Find client", QKeySequence.StandardKey.Find, self.find_client),
        ):
            act = QAction(text, self, shortcut=keys, triggered=slot)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            clients.addAction(act)
            self.addAction(act)
        self.settings_action = QAction("Clinic &settings…", self, triggered=self.open_settings)
        settings = bar.addMenu("&Settings")
        settings.addAction(self.settings_action)
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
            QMessageBox.warning(self, "Cannot open client", str(exc))
            return
        self.stack.setCurrentWidget(self.client_page)
        self.client_page.start_button.setFocus()

    def new_client(self) -> ClientDialog:
        return self._client_form(None)

    def edit_client(self, client_id: int) -> ClientDialog:
        return self._client_form(self.store.client(client_id))

    def _client_form(self, client) -> ClientDialog:
        dlg = ClientDialog(self.store, client, who=self.who(), parent=self)
        dlg.saved.connect(self.show_client)
        dlg.saved.connect(lambda _id: self.list_page.refresh())
        dlg.open()
        return dlg

    def open_settings(self) -> SettingsDialog:
        dlg = SettingsDialog(self.store, self.who(), self)
        dlg.accepted.connect(lambda: self.client_page.client and self.show_client(self.client_page.client.id))
        dlg.accepted.connect(self._display_unit_changed)
        dlg.open()
        return dlg

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

        win = SessionReviewWindow(self.store, session_id, self.who, parent=self)
        win.amended.connect(lambda: self.client_page.client and self.show_client(self.client_page.client.id))
        fit_to_screen(win)
        win.show()
        return win

    def recover_interrupted(self) -> None:
        """Sessions still 'recording' were cut off (the app was killed): mark them and say so."""
        for s in self.store.unfinished_sessions():
            if s.status == "recording":
                self.store.mark_interrupted(s.id)
        self.interrupted = [s for s in self.store.unfinished_sessions() if s.status == "interrupted"]
        if self.interrupted:
            names = ", ".join(
                f"{self.store.client(s.client_id).name} ({s.started_at[:16].replace('T', ' ')})"
                for s in self.interrupted[:3]
            )
            n = len(self.interrupted)
            self.banner_label.setText(
                f"<b>{n} treatment session{'s were' if n > 1 else ' was'} interrupted</b> and "
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
        super().closeEvent(event)

    def _end_all_and_quit(self) -> None:
        self._quitting = True
        for win in list(self.session_windows):
            win.end_session()
