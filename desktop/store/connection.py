"""The one function through which Abrasio connects to a database file.

Everything goes through ``connect``: the store's own connection, the recorder's writer thread, the
trace loader, the file check at opening, backups and their checks. So what every connection must be
(foreign keys on, a busy timeout, WAL, how durable a commit is) is decided here once, and a connection
differs from another only by the arguments it was made with:

- ``mode``: ``"rwc"`` read-write, creating the file; ``"rw"`` read-write, the file must exist;
  ``"ro"`` read-only (nothing is ever written through it).
- ``immutable``: read-only without any locking or ``-wal``/``-shm`` files; only for a file no one can
  be writing (a check before anything else opens it).
- ``synchronous``: ``"FULL"`` for clinical records (a commit is on the disk before it returns, so a
  power cut cannot take it back); ``"NORMAL"`` for the recorder's sample stream (a power cut may take
  the last commits back, never damages the file).
- ``wal``: write-ahead logging (the app's files); ``False`` keeps SQLite's rollback journal
  (a backup copy: one self-contained file).

Encryption (SQLCipher) plugs in here as one more argument, a key: the module that makes the
connection becomes ``sqlcipher3.dbapi2`` instead of ``sqlite3`` and ``PRAGMA key`` is the first
statement on it, before ``_setup`` — so backups and checks are encrypted too, with no other change.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Literal

from desktop.store.errors import DatabaseFileError, from_sqlite

BUSY_TIMEOUT_MS = 5000
Mode = Literal["rwc", "rw", "ro"]
Synchronous = Literal["FULL", "NORMAL"]


def uri(path: str | os.PathLike, mode: Mode, immutable: bool = False) -> str:
    """The ``file:`` URI SQLite opens (percent-escaped, so any file name is safe)."""
    query = f"mode={mode}" + ("&immutable=1" if immutable else "")
    return f"{Path(path).resolve().as_uri()}?{query}"


def connect(
    path: str | os.PathLike,
    *,
    mode: Mode = "rw",
    immutable: bool = False,
    synchronous: Synchronous = "FULL",
    wal: bool = True,
) -> sqlite3.Connection:
    """A new connection to ``path`` set up as described above. SQLite errors become store errors."""
    if immutable and mode != "ro":
        raise ValueError("an immutable connection is read-only")
    key = _keys.get(Path(path).resolve())
    if key is not None:
        return _keyed(path, key, mode, immutable, synchronous, wal)
    try:
        conn = sqlite3.connect(uri(path, mode, immutable), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise from_sqlite(exc, f"opening {path}") from exc
    try:
        _setup(conn, path, mode, synchronous, wal)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise from_sqlite(exc, f"opening {path}") from exc
        raise
    return conn


# -- TRANSITIONAL bridge (branch accounts-ui), replaced by enc-store's ``connect(path, key=...)`` ---------
# ``security.open_protected`` (the accounts' stand-in for ``Store.open(path, key)``) remembers the key of
# the encrypted file it opened, so that this process's other connections to it (the recorder's writer,
# the trace loader, exports: ``Store.connect``/``reopen``) are keyed and registered the same way.
_keys: dict[Path, bytes] = {}


def remember_key(path: str | os.PathLike, key: bytes) -> None:
    _keys[Path(path).resolve()] = key


def _keyed(path, key: bytes, mode: Mode, immutable: bool, synchronous: Synchronous, wal: bool):
    from desktop.store import security
    from desktop.store.cipher import connect as cipher_connect

    conn = cipher_connect(uri(path, mode, immutable), key, timeout=BUSY_TIMEOUT_MS / 1000, uri=True)
    try:
        _setup(conn, path, mode, synchronous, wal)
        security.register(conn, key)
    except BaseException:
        conn.close()
        raise
    return conn


def _setup(conn: sqlite3.Connection, path, mode: Mode, synchronous: Synchronous, wal: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if mode != "ro":
        journal = "WAL" if wal else "DELETE"
        got = conn.execute(f"PRAGMA journal_mode = {journal}").fetchone()[0]
        if got.lower() != journal.lower():
            raise DatabaseFileError(f"Cannot use {journal} journaling on {path} (journal mode {got}).")
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
