"""Opening the clinic file at start-up, and what the user is asked when it cannot simply be opened.

- An empty file (0 bytes): restore a backup, or start a new clinic file there — never silently new.
- A file too damaged to be read at all: restore the latest good backup (or another one).
- Damaged but readable, or read-only: opened read-only (the main window's banner says why).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.store import DamagedError, DatabaseFileError, EmptyFileError, Store, StoreBugError, backups

log = logging.getLogger("abrasio.startup")


class Choice(enum.Enum):
    RESTORE = "restore"
    NEW_FILE = "new"
    QUIT = "quit"


@dataclass
class FileProblem:
    path: Path
    message: str
    empty: bool  # True: the file is empty; False: it cannot be read
    latest: backups.Backup | None
    backups: list[backups.Backup] = field(default_factory=list)


Ask = Callable[[FileProblem], tuple[Choice, Path | None]]


def open_clinic_file(
    path: Path, demo: bool, ask: Ask | None, *, key: bytes | None = None, full_check: bool = False
) -> tuple[Store | None, str | None]:
    """Open the clinic file for the app: (store, None) or (None, what to tell the user).

    ``key``: the database key (unwrapped at login) of an encrypted file; the store keeps it, and the
    backups offered and restored here are read with it. A key that does not open the file is said
    in words (``WrongKeyError``), never offered as damage to restore over.

    ``ask`` is put the question when the file is empty or unreadable (None: no one to ask — refuse).
    The store comes back with writes held (``checking``) until the main window's background check,
    or (``full_check``: a command that has no window) checked as a whole before it returns."""
    new = not path.exists()
    try:
        store = Store.open(path, full_check=full_check, key=key)
    except EmptyFileError as exc:
        store, error = _problem(path, str(exc), True, ask, key)
        if store is None:
            return None, error
    except DamagedError as exc:
        store, error = _problem(path, str(exc), False, ask, key)
        if store is None:
            return None, error
    except StoreBugError as exc:
        log.error("Upgrading the clinic file failed: %s", exc)
        return None, (
            f"Abrasio could not upgrade the database (this is a fault in Abrasio, please "
            f"report it). The database was left as it was.\n\n{exc}"
        )
    except DatabaseFileError as exc:
        log.error("The clinic file cannot be opened: %s", exc)
        return None, str(exc)
    log.info("Opened %s (%s)", path, store.access.kind)
    if demo and new:
        from desktop.demo import create_demo

        create_demo(store)
    if store.backup_path:
        log.info("Upgraded %s; the copy from before is %s", path, store.backup_path)
    return store, None


def _open(path: Path, replace_empty: bool = False, key: bytes | None = None) -> Store:
    return Store.open(path, full_check=False, replace_empty=replace_empty, key=key)


def _problem(
    path: Path, message: str, empty: bool, ask: Ask | None, key: bytes | None = None
) -> tuple[Store | None, str | None]:
    found = backups.list_backups(path, key=key)
    latest = backups.latest_good(path, key=key)
    problem = FileProblem(path, message, empty, latest, found)
    log.error("The clinic file needs a decision: %s", "empty" if empty else "unreadable")
    if ask is None:
        hint = f" The latest good backup is {latest.path}." if latest else " No backup was found."
        return None, f"{message}{hint} Restore it with: abrasio --restore FILE"
    choice, chosen = ask(problem)
    if choice is Choice.QUIT:
        return None, None
    try:
        if choice is Choice.NEW_FILE and empty:
            log.warning("Starting a new clinic file in place of the empty one (user's choice)")
            return _open(path, replace_empty=True, key=key), None
        if choice is Choice.RESTORE and chosen:
            kept = backups.restore_file(path, chosen, key=key)
            log.warning("Restored %s into %s (the file as it was: %s)", chosen.name, path, kept)
            return _open(path, key=key), None
    except DatabaseFileError as exc:
        return None, str(exc)
    return None, None


class FileProblemDialog(QMessageBox):
    """Asks what to do with an empty or unreadable clinic file. ``choice``/``chosen`` after it closes."""

    def __init__(self, problem: FileProblem, parent: QWidget | None = None):
        super().__init__(parent)
        self.problem = problem
        self.choice, self.chosen = Choice.QUIT, None
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("The clinic file is empty" if problem.empty else "The clinic file is damaged")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(problem.message)
        latest = problem.latest
        self.setInformativeText(
            f"The latest good backup is from {backups.describe(latest)} ({latest.clients} clients)."
            if latest
            else "No backup of this file was found beside it."
        )
        self.restore_latest = None
        if latest:
            self.restore_latest = self.addButton(
                f"Restore the backup of {backups.describe(latest)}", QMessageBox.ButtonRole.AcceptRole
            )
        self.choose = self.addButton("Choose a backup…", QMessageBox.ButtonRole.ActionRole)
        self.new_file = None
        if problem.empty:
            self.new_file = self.addButton(
                "Start a new clinic file here", QMessageBox.ButtonRole.DestructiveRole
            )
        self.quit = self.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        self.setEscapeButton(self.quit)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button) -> None:
        if button is self.restore_latest:
            self.choice, self.chosen = Choice.RESTORE, self.problem.latest.path
        elif button is self.new_file:
            self.choice = Choice.NEW_FILE
        elif button is self.choose:
            name, _ = QFileDialog.getOpenFileName(
                self, "Choose a backup", str(backups.folder_for(self.problem.path)), "Abrasio backups (*.db)"
            )
            self.choice, self.chosen = (Choice.RESTORE, Path(name)) if name else (Choice.QUIT, None)


def ask_with_dialog(problem: FileProblem) -> tuple[Choice, Path | None]:
    dlg = FileProblemDialog(problem)
    dlg.exec()
    return dlg.choice, dlg.chosen
