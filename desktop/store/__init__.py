"""The records store: the one place in Abrasio that speaks SQL.

``Store`` is the facade the windows use; its parts live in modules by concern:

- ``connection`` — ``connect``, the one function through which every connection is made
- ``opening``    — opening a file, its checks, migrations, backup copies
- ``clients``    — clients, screening, screening rules, the change log
- ``sessions``   — treatment sessions, vacuum traces (packed by ``trace``), markers, alarms, notes
- ``settings``   — clinic settings
- ``practitioners``
- ``checks``     — ``quick_check`` and what its findings touch, in words
- ``access``     — the read-only mode (damaged, permissions, being checked) the windows consult
- ``files``      — private permissions (0600 files, 0700 folders)
- ``consent``    — consent forms, signed consents, the screening as the client answered it
- ``series``     — treatment series and the recall list
- ``erasure``    — erasing a client, except what the clinic must keep
- ``media``      — before/after photos and their thumbnails; exports and printouts recorded
- ``errors``     — the store's error types; SQLite errors are mapped to them by error code

Rows come back as dataclasses (``Client``, ``ClientSummary``, ``SessionRow``, ``MarkerRow``,
``AlarmRow``, ``ChangeEntry``…); an SQLite error raised inside a store method reaches the caller as a
``StoreError`` whose message is in words.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from desktop.store import backups, files, trace
from desktop.store.access import WRITABLE, Access, damaged_access, read_only_access
from desktop.store.base import Actor, now_iso, reads, sql
from desktop.store.checks import CheckResult
from desktop.store.clients import ChangeEntry, ClientsMixin, ClientSummary
from desktop.store.connection import BUSY_TIMEOUT_MS, Synchronous, connect
from desktop.store.consent import ConsentMixin
from desktop.store.erasure import ErasureMixin
from desktop.store.errors import (
    BusyError,
    DamagedError,
    DatabaseFileError,
    DatabaseTooNewError,
    DiskError,
    DiskFullError,
    EmptyFileError,
    NotEncryptedError,
    NotFoundError,
    ReadOnlyError,
    StoreBugError,
    StoreError,
    WrongKeyError,
)
from desktop.store.media import MediaMixin, PhotoRow
from desktop.store.opening import open_connection, probe_write, read_only_connection
from desktop.store.practitioners import PractitionersMixin
from desktop.store.series import SeriesMixin
from desktop.store.sessions import AlarmRow, MarkerRow, SessionRow, SessionsMixin
from desktop.store.settings import SettingsMixin

__all__ = [
    "BUSY_TIMEOUT_MS",
    "Access",
    "Actor",
    "AlarmRow",
    "BusyError",
    "ChangeEntry",
    "ClientSummary",
    "DamagedError",
    "DatabaseFileError",
    "DatabaseTooNewError",
    "DiskError",
    "DiskFullError",
    "EmptyFileError",
    "MarkerRow",
    "NotEncryptedError",
    "NotFoundError",
    "PhotoRow",
    "ReadOnlyError",
    "SessionRow",
    "Store",
    "StoreBugError",
    "StoreError",
    "WrongKeyError",
    "now_iso",
    "trace",
]


class Store(
    ClientsMixin,
    SessionsMixin,
    SettingsMixin,
    PractitionersMixin,
    ConsentMixin,
    SeriesMixin,
    ErasureMixin,
    MediaMixin,
):
    """An open Abrasio database. One per thread (SQLite connections are not shared across threads)."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        backup: Path | None = None,
        synchronous: Synchronous = "FULL",
        key: bytes | None = None,
    ):
        super().__init__(path, conn, synchronous, key)
        self.backup_path = backup  # the copy taken before this open's migrations, if any
        self._copy_dir: Path | None = None  # a private copy read instead of a read-only folder's file
        self._listeners: list[Callable[[Access], None]] = []
        self._held_audit: list[dict] = []  # audit entries waiting for the file to become writable

    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        stop_before: str | None = None,
        *,
        replace_empty: bool = False,
        full_check: bool = True,
        key: bytes | None = None,
    ) -> Store:
        """Open (creating if needed), check and migrate; see ``opening``. ``stop_before``: tests build
        past versions. ``replace_empty``: the user chose to start a new clinic file in place of an
        empty one. ``full_check=False``: writes are held (``access.kind == "checking"``) until the
        caller has run ``opening.full_check`` in the background and passed its result to
        ``finish_check``. ``key``: the database key of an encrypted file (a new file is created
        encrypted with it); the store keeps it (``store.key``) for every other connection it makes:
        ``reopen``, the recorder's, checks, backups. A key that does not open the file raises
        ``WrongKeyError``; a plaintext file with a key, ``NotEncryptedError`` (convert it first)."""
        path = Path(path)
        opened = open_connection(
            path, stop_before, replace_empty=replace_empty, full_check=full_check, key=key
        )
        store = cls(path, opened.conn, opened.backup, key=key)
        store.access = opened.access
        store._copy_dir = opened.copy_dir
        return store

    @classmethod
    def connect(
        cls, path: str | os.PathLike, *, key: bytes | None = None, sample_stream: bool = False
    ) -> Store:
        """Another connection to a file this process already opened with ``open`` (another thread).

        ``sample_stream``: the recorder's connection, committing the trace with ``synchronous=NORMAL``
        (clinical records written through it still commit with FULL).

        Only SQLite touches the file here: ``open``'s header check reads it with a plain file handle,
        and closing that handle would drop the POSIX locks of every SQLite connection in this process.
        """
        synchronous: Synchronous = "NORMAL" if sample_stream else "FULL"
        path = Path(path)
        return cls(
            path, connect(path, mode="rw", synchronous=synchronous, key=key), synchronous=synchronous, key=key
        )

    def reopen(self) -> Store:
        """Another connection to the same file (for another thread); read-only where this one is.
        Same key, same actor (its writes are attributed to the same person)."""
        if self.access.writable:
            other = Store.connect(self.path, key=self.key)
            other.actor = self.actor
            return other
        conn, copy_dir = read_only_connection(
            self._copy_dir / self.path.name if self._copy_dir else self.path, self.key
        )
        other = Store(self.path, conn, key=self.key)
        other.actor = self.actor
        other.access = self.access
        other._copy_dir = copy_dir
        return other

    def close(self) -> None:
        self.conn.close()
        if self._copy_dir:
            shutil.rmtree(self._copy_dir, ignore_errors=True)
            self._copy_dir = None

    # -- read-only mode ----------------------------------------------------------------------------
    def on_access_changed(self, listener: Callable[[Access], None]) -> Callable[[], None]:
        """Call ``listener(access)`` whenever the file becomes writable or read-only (on the thread
        that changes it: the GUI thread). Returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: listener in self._listeners and self._listeners.remove(listener)

    def set_access(self, access: Access) -> None:
        self.access = access
        for listener in list(self._listeners):
            listener(access)

    def finish_check(self, result: CheckResult) -> None:
        """The background check of the whole file is done: writable if it passed (the read-only
        connection is swapped for a read-write one), read-only ``damaged`` if it did not."""
        if self.access.kind != "checking":
            return
        if not result.ok:
            self.set_access(damaged_access(self.path, result))
            return
        try:
            conn = connect(self.path, mode="rw", synchronous=self.synchronous, key=self.key)
        except StoreError as exc:
            self.set_access(read_only_access(str(exc)))
            return
        refused = probe_write(conn, self.path)
        if refused:
            conn.close()
            self.set_access(read_only_access(refused))
            return
        self._swap(conn)
        files.tighten(self.path)
        self._write_held_audit()
        self.set_access(WRITABLE)

    def hold_audit(self, entry: dict) -> None:
        """An audit entry (``security.audit_append``'s arguments) made while the file cannot be written
        yet (being checked): kept with its time, written as soon as ``finish_check`` makes it writable."""
        self._held_audit.append({"at": now_iso(), **entry})

    @sql("recording the audit entries held during the file check")
    def _write_held_audit(self) -> None:
        from desktop.store import security

        held, self._held_audit = self._held_audit, []
        with self.db.atomic():
            for entry in held:
                security.audit_append(self.db, **entry)

    def _swap(self, conn: sqlite3.Connection) -> None:
        old = self.conn
        self.conn = conn
        self.db = Database(conn, execute_plugins=False)
        self._audited = None
        old.close()
        if self._copy_dir:
            shutil.rmtree(self._copy_dir, ignore_errors=True)
            self._copy_dir = None

    # -- backups -----------------------------------------------------------------------------------
    def second_backup_folder(self) -> Path | None:
        folder = self.setting("backup_second_folder", "")
        return Path(folder) if folder else None

    def restore(self, backup: Path) -> Path | None:
        """Replace this file's content with ``backup`` (after backing the current file up) and reopen
        it, checked. Close every other connection to the file first. Returns the copy of the file
        as it was. (The windows run ``detach``, ``backups.restore_file`` on a worker thread, then
        ``reattach``: the same steps.)"""
        second = self.second_backup_folder()
        self.detach()
        try:
            return backups.restore_file(self.path, Path(backup), second, key=self.key)
        finally:
            self.reattach()

    def detach(self) -> None:
        """Close the connection (for a restore); every store call fails until ``reattach``."""
        self.conn.close()
        if self._copy_dir:
            shutil.rmtree(self._copy_dir, ignore_errors=True)
            self._copy_dir = None

    def reattach(self, full_check: bool = True) -> None:
        """Open the file again after ``detach``, checked as at start-up; listeners hear the access."""
        opened = open_connection(self.path, full_check=full_check, key=self.key)
        self.conn = opened.conn
        self.db = Database(opened.conn, execute_plugins=False)
        self._audited = None
        self.backup_path = opened.backup
        self._copy_dir = opened.copy_dir
        self.set_access(opened.access)

    @property
    @reads("reading the schema version")
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    @sql("checking the database")
    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]
