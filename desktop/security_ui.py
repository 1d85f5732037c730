"""The windows of accounts and locking: first-start wizard, login dialog, lock overlay.

The logic is in ``desktop/accounts.py``; here it is drawn. The slow step of each (argon2id, ~0.2 s) runs
on a worker thread so the GUI thread — and a running treatment's graph and alarms — never waits on it;
SQLite connections stay on the GUI thread (the worker only unwraps keys and checks hashes).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QFont, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStatusBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop import accounts
from desktop.accounts import AccountError, Clinic, Person
from desktop.keys import KeyFileError
from desktop.store import StoreError
from desktop.ui import passphrase_field, plain, recovery_key_label

USER_ERRORS = (AccountError, KeyFileError, StoreError)


def _in_words(exc: BaseException) -> str:
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    return f"Abrasio failed unexpectedly (please report it): {exc!r}"


class Background(QObject):
    """One slow call at a time on a worker thread; its result or error arrives on the GUI thread."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.busy = False

    def run(self, fn, *args) -> None:
        self.busy = True

        def work():
            try:
                result = fn(*args)
            except Exception as exc:  # delivered to the window, which shows it in words
                self.failed.emit(exc)
            else:
                self.done.emit(result)

        threading.Thread(target=work, name="abrasio-argon2", daemon=True).start()


# -- login ----------------------------------------------------------------------------------------------
def _recover_worker(path, recovery_key, admin, new_passphrase):
    clinic = accounts.recover(path, recovery_key, admin, new_passphrase)
    clinic.close()  # this thread's connection; the window reopens on its own thread with the key
    return clinic.keyfile, clinic.database_key, clinic.person.name


class LoginDialog(QDialog):
    """Name and passphrase; or, for an administrator who lost theirs, the recovery key."""

    def __init__(self, path: str | os.PathLike, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.clinic: Clinic | None = None
        self.setWindowTitle("Abrasio — log in")
        self.setObjectName("LoginDialog")
        self.bg = Background(self)
        self.bg.done.connect(self._unlocked)
        self.bg.failed.connect(self._failed)

        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.addItems(accounts.known_names(self.path))
        self.name.setCurrentIndex(-1)
        self.name.lineEdit().setPlaceholderText("Your name")
        self.passphrase = passphrase_field("Your passphrase")
        self.problem = plain("", "Problem")
        self.login_button = QPushButton("Log in")
        self.login_button.setDefault(True)
        self.login_button.clicked.connect(self.attempt)
        self.recovery_button = QPushButton("Lost passphrase? Use the recovery key…")
        self.recovery_button.setFlat(True)
        self.recovery_button.clicked.connect(self.show_recovery)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Passphrase", self.passphrase)

        self.recovery = QFrame()
        self.recovery.setFrameShape(QFrame.Shape.StyledPanel)
        self.recovery_key = QLineEdit()
        self.recovery_key.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.recovery_key.setFont(QFont("monospace"))
        self.recovery_admin = QLineEdit()
        self.new_passphrase = passphrase_field("At least 10 characters")
        self.new_passphrase2 = passphrase_field("The same again")
        self.recover_button = QPushButton("Recover and set the new passphrase")
        self.recover_button.clicked.connect(self.attempt_recovery)
        rform = QFormLayout(self.recovery)
        rform.addRow(plain("Emergency access: the recovery key printed when the clinic was set up."))
        rform.addRow("Recovery key", self.recovery_key)
        rform.addRow("Administrator", self.recovery_admin)
        rform.addRow("New passphrase", self.new_passphrase)
        rform.addRow("Repeat it", self.new_passphrase2)
        rform.addRow(self.recover_button)
        self.recovery.hide()

        col = QVBoxLayout(self)
        col.addWidget(plain(f"Log in to {self.path.name}", "PageTitle"))
        col.addLayout(form)
        col.addWidget(self.problem)
        row = QHBoxLayout()
        row.addWidget(self.recovery_button)
        row.addStretch(1)
        row.addWidget(self.login_button)
        col.addLayout(row)
        col.addWidget(self.recovery)
        self.setMinimumWidth(460)
        (self.passphrase if self.name.count() == 1 else self.name).setFocus()
        if self.name.count() == 1:
            self.name.setCurrentIndex(0)

    def _busy(self, busy: bool, text: str = "") -> None:
        for w in (self.login_button, self.recover_button, self.name, self.passphrase):
            w.setEnabled(not busy)
        self.problem.setText(text)

    def attempt(self) -> None:
        name, passphrase = self.name.currentText().strip(), self.passphrase.text()
        if not name or not passphrase:
            self.problem.setText("Enter your name and your passphrase.")
            return
        self._name = name
        self._busy(True, "Checking…")
        self.bg.run(accounts.unlock_key, self.path, name, passphrase)

    def show_recovery(self) -> None:
        self.recovery.show()
        self.recovery_key.setFocus()

    def attempt_recovery(self) -> None:
        if self.new_passphrase.text() != self.new_passphrase2.text():
            self.problem.setText("The two new passphrases are not the same.")
            return
        self._busy(True, "Checking the recovery key…")
        self.bg.run(
            _recover_worker,
            self.path,
            self.recovery_key.text(),
            self.recovery_admin.text(),
            self.new_passphrase.text(),
        )

    @Slot(object)
    def _unlocked(self, result) -> None:
        if len(result) == 3:  # recovery: (keyfile, key, name)
            keyfile, key, self._name = result
            action = "login after recovery"
        else:
            (keyfile, key), action = result, "login"
        try:
            self.clinic = accounts.open_as(self.path, keyfile, key, self._name, action, full_check=False)
        except USER_ERRORS as exc:
            self._failed(exc)
            return
        self.bg.busy = False
        self.accept()

    @Slot(object)
    def _failed(self, exc) -> None:
        self.bg.busy = False
        self._busy(False, _in_words(exc))
        self.passphrase.clear()
        self.passphrase.setFocus()


# -- first start ----------------------------------------------------------------------------------------
def _create_worker(path, name, passphrase, practitioner):
    setup = accounts.create_clinic(path, name, passphrase, practitioner)
    setup.clinic.close()
    return setup.recovery_key, setup.clinic.keyfile, setup.clinic.database_key, setup.clinic.person.name


def _protect_worker(path, name, passphrase, practitioner):
    """An unprotected (plaintext) clinic file becomes encrypted, with its administrator."""
    setup = accounts.convert_plaintext(path, name, passphrase)
    setup.clinic.close()
    return setup.recovery_key, setup.clinic.keyfile, setup.clinic.database_key, setup.clinic.person.name


def recovery_sheet(path: Path, admin: str, recovery_key: str) -> str:
    today = dt.date.today().isoformat()
    return (
        f"Abrasio — recovery key\n\nDatabase: {path}\nSet up on {today} by {admin}\n\n"
        f"    {recovery_key}\n\n"
        "With this key an administrator can open the clinic's database when every passphrase is lost "
        "(Log in → Lost passphrase? Use the recovery key). Anyone holding it and the database file can read "
        "every record: keep it locked away, never beside the computer.\n"
    )


class _AdminPage(QWizardPage):
    def __init__(self, wizard: FirstStartWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Set up the clinic's administrator")
        self.setSubTitle(
            "Abrasio keeps every record encrypted. You are the first person: the administrator, who adds "
            "the others. Choose a passphrase only you know — a few words are easiest to remember."
        )
        self.name = QLineEdit()
        self.name.setPlaceholderText("Your full name")
        self.passphrase = passphrase_field("At least 10 characters")
        self.passphrase2 = passphrase_field("The same again")
        self.practitioner = QCheckBox("I also treat clients (practitioner)")
        self.practitioner.setChecked(True)
        self.problem = plain("", "Problem")
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("Repeat it", self.passphrase2)
        form.addRow(self.practitioner)
        form.addRow(self.problem)
        for edit in (self.name, self.passphrase, self.passphrase2):
            edit.textChanged.connect(self.completeChanged)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create the clinic")

    def isComplete(self) -> bool:
        return bool(self.name.text().strip() and self.passphrase.text() and self.passphrase2.text())

    def validatePage(self) -> bool:
        if self.w.created is not None:
            return True
        if self.w.bg.busy:
            return False
        name, p1 = self.name.text().strip(), self.passphrase.text()
        problem = accounts.passphrase_problem(p1, name)
        if p1 != self.passphrase2.text():
            problem = "The two passphrases are not the same."
        if problem:
            self.problem.setText(problem)
            return False
        self.problem.setText(
            "Encrypting the clinic's records…" if self.w.protect else "Creating the encrypted database…"
        )
        self.w.button(QWizard.WizardButton.CommitButton).setEnabled(False)
        worker = _protect_worker if self.w.protect else _create_worker
        self.w.bg.run(worker, self.w.path, name, p1, self.practitioner.isChecked())
        return False


class _RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstStartWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Your recovery key")
        self.setSubTitle(
            "If every passphrase is lost, this key is the only way into the clinic's records. Print it or "
            "save it to a USB stick now, and keep it locked away. It is shown only this once."
        )
        self.key = recovery_key_label()
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.w.print_dialog)
        self.save_button = QPushButton("Save to a file…")
        self.save_button.clicked.connect(self.w.save_dialog)
        self.kept = QCheckBox("I have printed or saved the recovery key and will keep it safe")
        self.registerField("kept*", self.kept)
        self.status = plain("")
        col = QVBoxLayout(self)
        col.addWidget(self.key)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.print_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        col.addLayout(row)
        col.addWidget(self.status)
        col.addStretch(1)
        col.addWidget(self.kept)

    def initializePage(self) -> None:
        self.key.setText(self.w.created[0])


class FirstStartWizard(QWizard):
    """A new clinic file: the administrator, then the recovery key. Ends logged in (``clinic``)."""

    def __init__(self, path: str | os.PathLike, parent=None, protect: bool = False):
        """``protect``: the file exists unencrypted (from before accounts): the same pages protect it."""
        super().__init__(parent)
        self.path = Path(path)
        self.protect = protect
        self.created = None  # (recovery_key, keyfile, database_key, name) once the file exists
        self.clinic: Clinic | None = None
        self.setWindowTitle("Abrasio — first start")
        self.setObjectName("FirstStartWizard")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.bg = Background(self)
        self.bg.done.connect(self._created)
        self.bg.failed.connect(self._failed)
        self.admin_page = _AdminPage(self)
        if protect:
            self.setWindowTitle("Abrasio — protect this clinic's records")
            self.admin_page.setTitle("Protect this clinic's records")
            self.admin_page.setSubTitle(
                f"{self.path.name} is not encrypted yet. From now on every record is encrypted and each "
                "person logs in with their own name and passphrase. You are the administrator, who adds the "
                "others. A backup of the file is taken first."
            )
            self.admin_page.setButtonText(QWizard.WizardButton.CommitButton, "Protect the records")
        self.recovery_page = _RecoveryPage(self)
        self.addPage(self.admin_page)
        self.addPage(self.recovery_page)
        self.setMinimumSize(620, 440)

    @property
    def recovery_key(self) -> str:
        return self.created[0] if self.created else ""

    @Slot(object)
    def _created(self, result) -> None:
        self.bg.busy = False
        self.created = result
        self.setOption(QWizard.WizardOption.NoCancelButton, True)  # the file exists: no way back
        self.next()

    @Slot(object)
    def _failed(self, exc) -> None:
        self.bg.busy = False
        self.admin_page.problem.setText(_in_words(exc))
        self.button(QWizard.WizardButton.CommitButton).setEnabled(True)

    def sheet(self) -> str:
        return recovery_sheet(self.path, self.created[3], self.recovery_key)

    def save_recovery(self, path: str | os.PathLike) -> None:
        path = Path(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.sheet())
        self.recovery_page.status.setText(f"Saved to {path}.")

    def print_recovery(self, printer) -> None:
        doc = QTextDocument()
        doc.setPlainText(self.sheet())
        font = QFont("monospace")
        font.setPointSize(12)
        doc.setDefaultFont(font)
        doc.print_(printer)
        self.recovery_page.status.setText("Sent to the printer.")

    def save_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the recovery key", str(Path.home() / "abrasio-recovery-key.txt"), "Text (*.txt)"
        )
        if name:
            try:
                self.save_recovery(name)
            except OSError as exc:
                self.recovery_page.status.setText(f"Could not save to {name}: {exc.strerror}.")

    def print_dialog(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        dlg = QPrintDialog(printer, self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.print_recovery(printer)

    def reject(self) -> None:
        if self.created is None:  # nothing was written yet
            super().reject()

    def accept(self) -> None:
        _key, keyfile, database_key, name = self.created
        try:
            self.clinic = accounts.open_as(self.path, keyfile, database_key, name, full_check=False)
        except USER_ERRORS as exc:
            self.recovery_page.status.setText(_in_words(exc))
            return
        super().accept()


# -- the lock ---------------------------------------------------------------------------------------------
_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


LOCK_KEY = QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_L)


class LockOverlay(QWidget):
    """Covers the whole main window (menus and toolbars included) while Abrasio is locked."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.setObjectName("LockOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#LockOverlay { background: #263238; } #LockPanel { background: white; border-radius: 8px; }"
            " #LockTitle { font-size: 20pt; font-weight: bold; }"
        )
        panel = QFrame()
        panel.setObjectName("LockPanel")
        panel.setFixedWidth(480)
        panel.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        self.title = plain("Abrasio is locked", "LockTitle")
        self.reason = plain("")
        self.treatment = plain("", "LockTreatment")
        self.name = QComboBox()
        self.name.setEditable(True)
        self.passphrase = passphrase_field("Passphrase")
        self.problem = plain("", "Problem")
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Passphrase", self.passphrase)
        self.panel = panel
        col = QVBoxLayout(panel)
        col.setContentsMargins(28, 24, 28, 24)
        col.addWidget(self.title)
        col.addWidget(self.reason)
        col.addWidget(self.treatment)
        col.addLayout(form)
        col.addWidget(self.problem)
        col.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignRight)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.passphrase.returnPressed.connect(self.unlock_button.click)
        window.installEventFilter(self)
        self.hide()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(obj.rect())
        return False

    def cover(self) -> None:
        # the wrapped texts change with each lock: size the panel for them (a layout alone undersizes it)
        self.panel.setMinimumHeight(self.panel.layout().totalHeightForWidth(self.panel.width()))
        self.setGeometry(self.parent().rect())
        self.show()
        self.raise_()
        self.passphrase.clear()
        self.problem.setText("")
        self.passphrase.setFocus()


class LockController(QObject):
    """Locks ``window`` after ``idle_ms`` without keyboard or mouse input, or on Ctrl+L.

    Locked: the overlay covers the main window, its actions and shortcuts are off, and every other
    window of the app (client forms, past-session reviews, settings) is hidden — except the treatment
    windows ``treatment_windows()`` returns: their graph, readouts and alarms stay visible and audible,
    and their own keys (A acknowledges) keep working; those that have ``set_locked(bool)`` are told, so
    their notes wait for the unlock. Hidden windows come back when the same person unlocks.
    """

    locked_changed = Signal(bool)

    def __init__(
        self, window: QMainWindow, clinic: Clinic, idle_ms: int = 5 * 60 * 1000, treatment_windows=list
    ):
        super().__init__(window)
        self.window = window
        self.clinic = clinic
        self.treatment_windows = treatment_windows
        self.locked = False
        self.locked_at: dt.datetime | None = None
        self._disabled: list = []
        self._parked: dict[int, list[QWidget]] = {}
        self.overlay = LockOverlay(window)
        self.overlay.unlock_button.clicked.connect(self.attempt_unlock)
        self.bg = Background(self)
        self.bg.done.connect(self._verified)
        self.bg.failed.connect(self._failed)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(lambda: self.lock("idle"))
        self.set_idle_ms(idle_ms)
        QApplication.instance().installEventFilter(self)

    def set_idle_ms(self, ms: int) -> None:
        self.timer.setInterval(ms)
        if not self.locked:
            self.timer.start()

    def eventFilter(self, obj, event) -> bool:
        """Every input event of the app passes here: it restarts the idle timer, and Ctrl+L locks from
        any window — a QShortcut on the main window would not fire while a dialog is modal over it."""
        kind = event.type()
        if kind not in _ACTIVITY:
            return False
        if kind == QEvent.Type.KeyPress and event.keyCombination() == LOCK_KEY:
            self.lock("Ctrl+L")
            return True
        if not self.locked:
            self.timer.start()
        return False

    # -- locking -------------------------------------------------------------------------------------
    def lock(self, why: str = "Ctrl+L") -> None:
        if self.locked:
            return
        self.locked = True
        self.locked_at = dt.datetime.now()
        self.timer.stop()
        keep = set(map(id, self.treatment_windows()))
        parked = [
            w
            for w in QApplication.topLevelWidgets()
            if w.isVisible()
            and w is not self.window
            and id(w) not in keep
            and self._inside(w, [self.window])  # this window's forms, reviews, settings, messages
            and w.windowType() in (Qt.WindowType.Window, Qt.WindowType.Dialog)
        ]
        for w in parked:
            w.hide()
        self._parked.setdefault(self.clinic.person.id, []).extend(parked)
        self._disable_window()
        for w in self.treatment_windows():
            if hasattr(w, "set_locked"):
                w.set_locked(True)
        when = self.locked_at.strftime("%H:%M")
        self.overlay.reason.setText(
            f"Locked at {when} ({'no activity' if why == 'idle' else why}). {self.clinic.person.name} "
            "or anyone else can unlock it with their own passphrase."
        )
        n = len(self.treatment_windows())
        self.overlay.treatment.setText(
            "A treatment is running in its own window: its vacuum, alarms and alarm sound stay on "
            "(A acknowledges). Its notes wait for the unlock."
            if n
            else ""
        )
        self.overlay.treatment.setVisible(bool(n))
        self.overlay.name.clear()
        self.overlay.name.addItems([p.name for p in self.clinic.people() if p.active])
        self.overlay.name.setCurrentText(self.clinic.person.name)
        self.overlay.cover()
        treatments = self.treatment_windows()
        if treatments:  # the treatment stays in front and keeps the keyboard: A acknowledges, one key
            treatments[-1].activateWindow()
        self.clinic.audit("lock", "person", self.clinic.person.id, why=why)
        self.locked_changed.emit(True)

    def _disable_window(self) -> None:
        w = self.window
        targets = [w.centralWidget(), w.menuBar(), *w.findChildren(QToolBar), *w.findChildren(QStatusBar)]
        targets += [a for a in w.findChildren(QAction)]
        targets += list(w.findChildren(QShortcut))
        keep = [self.overlay, *self.treatment_windows()]  # treatment windows are children of the window
        self._disabled = [t for t in targets if t is not None and t.isEnabled() and not self._inside(t, keep)]
        for t in self._disabled:
            t.setEnabled(False)

    @staticmethod
    def _inside(obj, keep: list) -> bool:
        while obj is not None:
            if any(obj is k for k in keep):
                return True
            obj = obj.parent()
        return False

    # -- unlocking -----------------------------------------------------------------------------------
    def attempt_unlock(self) -> None:
        if self.bg.busy:
            return
        name, passphrase = self.overlay.name.currentText(), self.overlay.passphrase.text()
        if not name.strip() or not passphrase:
            self.overlay.problem.setText("Enter your name and your passphrase.")
            return
        try:
            self._candidate, stored = self.clinic.passphrase_hash(name)
        except USER_ERRORS as exc:
            self.overlay.problem.setText(_in_words(exc))
            return
        self.overlay.problem.setText("Checking…")
        self.overlay.unlock_button.setEnabled(False)
        self.bg.run(accounts.check_passphrase, stored, passphrase, self._candidate.name)

    @Slot(object)
    def _verified(self, _none) -> None:
        self.bg.busy = False
        self.overlay.unlock_button.setEnabled(True)
        self.unlock(self.clinic.switch_to_verified(self._candidate))

    @Slot(object)
    def _failed(self, exc) -> None:
        self.bg.busy = False
        self.overlay.unlock_button.setEnabled(True)
        self.overlay.problem.setText(_in_words(exc))
        self.overlay.passphrase.clear()
        self.overlay.passphrase.setFocus()

    def unlock(self, person: Person) -> None:
        for t in self._disabled:
            t.setEnabled(True)
        self._disabled = []
        self.overlay.hide()
        self.locked = False
        for w in self.treatment_windows():
            if hasattr(w, "set_locked"):
                w.set_locked(False)
        for w in self._parked.pop(person.id, []):
            if shiboken6.isValid(w):  # a parked window may have been closed and deleted meanwhile
                w.show()
        self.timer.start()
        self.locked_changed.emit(False)
