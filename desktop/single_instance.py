"""One Abrasio per clinic file on a PC: a lock file beside it, and a file-based "show yourself" signal.

Vorta's single-application guard uses QtNetwork's ``QLocalServer``. Abrasio's bundle leaves QtNetwork
out (build.spec: ~4 MB, and the bundle is over its size aim already), and a listening socket is one
more thing a clinic's firewall may ask about. Everything here is QtCore:

- ``QLockFile`` ``abrasio.db.lock`` (pid, host and application inside, kept locked while Abrasio runs).
  A lock left by a process that is gone (a crash, a power cut) is stale and taken over; the time-based
  staleness is off (``setStaleLockTime(0)``), so a long-running Abrasio is never "stale".
- A second launch on the same file writes ``abrasio.db.show``; the first, watching the folder with
  ``QFileSystemWatcher``, deletes it (the acknowledgement), brings its window forward, and the second
  exits. If nobody acknowledges within a few seconds, the second launch says so instead of waiting.

A lock held from another computer (the file on a network share) is never taken over: SQLite's WAL
cannot be shared between computers, so that launch is refused with a message naming the computer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QLockFile, QObject, Signal

log = logging.getLogger("abrasio.instance")
ACK_TIMEOUT_S = 5.0


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def show_request_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".show")


class SingleInstance(QObject):
    """``acquire()`` once at start-up; ``show_requested`` fires when another launch asks for us."""

    show_requested = Signal()

    def __init__(self, db_path: Path, parent=None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.lock = QLockFile(str(lock_path(self.db_path)))
        self.lock.setStaleLockTime(0)  # stale only when its process is gone, never because it is old
        self.owner: tuple[int, str, str] | None = None  # (pid, host, app) of the holder, when refused
        self._watcher: QFileSystemWatcher | None = None

    def acquire(self) -> bool:
        """Take the lock (taking over a stale one). False: another live Abrasio holds it (``owner``)."""
        stale_from = self._holder()
        if self.lock.tryLock(0):
            if stale_from:
                log.warning("Took over the lock of process %s on %s, which is gone", *stale_from[:2])
            self._watch()
            return True
        self.owner = self._holder()
        return False

    def _holder(self) -> tuple[int, str, str] | None:
        ok, pid, host, app = _lock_info(self.lock)
        return (pid, host, app) if ok else None

    def _watch(self) -> None:
        request = show_request_path(self.db_path)
        with contextlib.suppress(FileNotFoundError):
            request.unlink()  # a request nobody answered before a crash
        self._watcher = QFileSystemWatcher([str(self.db_path.parent)], self)
        self._watcher.directoryChanged.connect(self._folder_changed)

    def _folder_changed(self, _folder: str) -> None:
        request = show_request_path(self.db_path)
        if request.exists():
            with contextlib.suppress(FileNotFoundError):
                request.unlink()
            log.info("Another launch on this file asked this window to come forward")
            self.show_requested.emit()

    def release(self) -> None:
        if self._watcher:
            self._watcher.removePaths(self._watcher.directories())
            self._watcher = None
        self.lock.unlock()

    # -- the second launch -----------------------------------------------------------------------
    def on_another_computer(self) -> bool:
        return bool(self.owner and self.owner[1] and self.owner[1] != socket.gethostname())

    def ask_owner_to_show(self, timeout: float = ACK_TIMEOUT_S) -> bool:
        """Ask the running Abrasio to bring its window forward; True once it has acknowledged.

        Runs before this launch has any window: a short wait (at most ``timeout``) on a file."""
        request = show_request_path(self.db_path)
        try:
            fd = os.open(request, os.O_CREAT | os.O_WRONLY, 0o600)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
        except OSError as exc:
            log.warning("Could not ask the running Abrasio to come forward: %s", exc.strerror)
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not request.exists():
                return True
            time.sleep(0.05)
        with contextlib.suppress(FileNotFoundError):
            request.unlink()
        return False

    def refusal(self) -> str:
        """Why this launch cannot open the file, in words (after ``acquire`` returned False)."""
        pid, host, _app = self.owner or (0, "", "")
        if self.on_another_computer():
            return (
                f"The clinic file {self.db_path} is open in Abrasio on the computer “{host}”. "
                "One clinic file can be used by one computer at a time: close Abrasio there first."
            )
        return (
            f"Abrasio is already open on {self.db_path} (process {pid}) but does not answer. "
            "Wait a moment and try again; if it stays like this, restart the computer."
        )


def _lock_info(lock: QLockFile) -> tuple[bool, int, str, str]:
    info = lock.getLockInfo()
    if isinstance(info, tuple) and len(info) == 3:  # PySide6: (pid, hostname, appname), or empty
        pid, host, app = info
        return bool(pid), int(pid or 0), str(host or ""), str(app or "")
    return False, 0, "", ""
