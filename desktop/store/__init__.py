"""The records store: the one place in Abrasio that speaks SQL.

``Store`` is the facade the windows use; its parts live in modules by concern:

- ``connection`` — ``connect``, the one function through which every connection is made
- ``opening``    — opening a file, its checks, migrations, backup copies
- ``clients``    — clients, screening, screening rules, the change log
- ``sessions``   — treatment sessions, vacuum traces (packed by ``trace``), markers, alarms, notes
- ``settings``   — clinic settings
- ``practitioners``
- ``media``      — before/after photos and their thumbnails; exports and printouts recorded
- ``errors``     — the store's error types; SQLite errors are mapped to them by error code

Rows come back as dataclasses (``Client``, ``ClientSummary``, ``SessionRow``, ``MarkerRow``,
``AlarmRow``, ``ChangeEntry``…); an SQLite error raised inside a store method reaches the caller as a
``StoreError`` whose message is in words.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from desktop.store import trace
from desktop.store.base import now_iso, sql
from desktop.store.clients import ChangeEntry, ClientsMixin, ClientSummary
from desktop.store.connection import BUSY_TIMEOUT_MS, Synchronous, connect
from desktop.store.errors import (
    BusyError,
    DamagedError,
    DatabaseFileError,
    DatabaseTooNewError,
    DiskError,
    DiskFullError,
    NotFoundError,
    ReadOnlyError,
    StoreBugError,
    StoreError,
)
from desktop.store.media import MediaMixin, PhotoRow
from desktop.store.opening import open_connection
from desktop.store.practitioners import PractitionersMixin
from desktop.store.sessions import AlarmRow, MarkerRow, SessionRow, SessionsMixin
from desktop.store.settings import SettingsMixin

__all__ = [
    "BUSY_TIMEOUT_MS",
    "AlarmRow",
    "BusyError",
    "ChangeEntry",
    "ClientSummary",
    "DamagedError",
    "DatabaseFileError",
    "DatabaseTooNewError",
    "DiskError",
    "DiskFullError",
    "MarkerRow",
    "NotFoundError",
    "PhotoRow",
    "ReadOnlyError",
    "SessionRow",
    "Store",
    "StoreBugError",
    "StoreError",
    "now_iso",
    "trace",
]


class Store(ClientsMixin, SessionsMixin, SettingsMixin, PractitionersMixin, MediaMixin):
    """An open Abrasio database. One per thread (SQLite connections are not shared across threads)."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        backup: Path | None = None,
        synchronous: Synchronous = "FULL",
    ):
        super().__init__(path, conn, synchronous)
        self.backup_path = backup  # the copy taken before this open's migrations, if any

    @classmethod
    def open(cls, path: str | os.PathLike, stop_before: str | None = None) -> Store:
        """Open (creating if needed) and migrate. ``stop_before``: tests build past versions."""
        path = Path(path)
        conn, backup = open_connection(path, stop_before)
        return cls(path, conn, backup)

    @classmethod
    def connect(cls, path: str | os.PathLike, *, sample_stream: bool = False) -> Store:
        """Another connection to a file this process already opened with ``open`` (another thread).

        ``sample_stream``: the recorder's connection, committing the trace with ``synchronous=NORMAL``
        (clinical records written through it still commit with FULL).

        Only SQLite touches the file here: ``open``'s header check reads it with a plain file handle,
        and closing that handle would drop the POSIX locks of every SQLite connection in this process.
        """
        synchronous: Synchronous = "NORMAL" if sample_stream else "FULL"
        path = Path(path)
        return cls(path, connect(path, mode="rw", synchronous=synchronous), synchronous=synchronous)

    def reopen(self) -> Store:
        """Another connection to the same file (for another thread)."""
        return Store.connect(self.path)

    def close(self) -> None:
        self.conn.close()

    @property
    @sql("reading the schema version")
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    @sql("checking the database")
    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]
