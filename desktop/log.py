"""Abrasio's log file: errors, handpiece link states, recoveries, backups — never client data.

``abrasio.log`` in the data folder (beside the clinic file), rotated at 1 MB with 5 old files kept,
private (0600). Python's ``faulthandler`` writes a hard crash's traceback into it too; an exception
nobody caught is logged and shown in a dialog that gives the log's path (``install_excepthook``).

Write with ``logging.getLogger("abrasio.<part>")``; say what happened to which record id, never a
name, a date of birth or a note.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

LOG_NAME = "abrasio.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

log = logging.getLogger("abrasio")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are 0600, and which keeps ``faulthandler`` on the current file."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if os.name == "posix":
            os.chmod(self.baseFilename, 0o600)
        stream = open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        if self.faults:  # a rollover: hard crashes go on into the new file
            faulthandler.enable(file=stream, all_threads=True)
        return stream

    faults = False  # set once faulthandler writes into this handler's file


def setup(folder: Path, level: int = logging.INFO) -> Path:
    """Log into ``folder/abrasio.log`` (created private); faulthandler into the same file.

    Where the folder cannot be written (a read-only clinic folder), the log goes to the per-user log
    folder instead. Returns the log file's path. Calling it again replaces the previous handler.
    """
    path = _writable_log(folder)
    shutdown()
    handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    global _faults_before
    _faults_before = faulthandler.is_enabled()
    faulthandler.enable(file=handler.stream, all_threads=True)
    handler.faults = True
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    log.info("Abrasio started (pid %d, Python %s)", os.getpid(), sys.version.split()[0])
    return path


_faults_before = False


def shutdown() -> None:
    """Close the log file; faulthandler goes back to stderr if it wrote there before ``setup``."""
    for h in list(log.handlers):
        if getattr(h, "faults", False):
            if _faults_before and sys.__stderr__ is not None:
                faulthandler.enable(file=sys.__stderr__, all_threads=True)
            else:
                faulthandler.disable()
            h.faults = False
        log.removeHandler(h)
        h.close()


def path() -> Path | None:
    for h in log.handlers:
        if isinstance(h, logging.FileHandler):
            return Path(h.baseFilename)
    return None


def _writable_log(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK | os.X_OK):
            target = folder / LOG_NAME
            if not target.exists() or os.access(target, os.W_OK):
                return target
    except OSError:
        pass
    import platformdirs

    fallback = Path(platformdirs.user_log_dir("Abrasio", "Abrasio"))
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback / LOG_NAME


def install_excepthook(show: Callable[[str], None]) -> Callable[[], None]:
    """Log every uncaught exception (main thread and others) and call ``show(text)`` for the user
    (``show`` is only called from the main thread; another thread's error is logged and shown by the
    main thread's next call). Returns the function that puts the previous hooks back."""
    previous, previous_thread = sys.excepthook, threading.excepthook

    def hook(kind, value, tb):
        log.critical("Uncaught exception", exc_info=(kind, value, tb))
        try:
            show(f"{kind.__name__}: {value}")
        except Exception:  # the dialog itself failed: the log has the error
            log.exception("Could not show the error dialog")

    def thread_hook(args):
        if args.exc_type is SystemExit:
            return
        log.critical(
            "Uncaught exception in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = hook
    threading.excepthook = thread_hook

    def undo():
        sys.excepthook, threading.excepthook = previous, previous_thread

    return undo
