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

- ``key``: the 32-byte database key of an encrypted (SQLCipher) file. The connection is then made by
  ``sqlcipher3.dbapi2`` instead of ``sqlite3``, ``PRAGMA key`` is its first statement, and the schema is
  read at once, so a wrong key fails here (``WrongKeyError``, the file untouched) rather than on a later
  query; then the usual setup, then ``security.register``: the keyed SQL functions the audit trail and
  the record seals' triggers call. A backup target made with the same key is encrypted alike (the
  backup API copies pages between files keyed alike only).

Without a key the connection is the standard library's ``sqlite3`` on a plaintext file (tests, a file
not yet converted). The two modules' exceptions are unrelated classes with the same codes:
``errors.SQL_ERRORS`` names both.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Literal

from desktop.store.errors import SQL_ERRORS, DatabaseFileError, WrongKeyError, from_sqlite, primary_code

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
    key: bytes | None = None,
) -> sqlite3.Connection:
    """A new connection to ``path`` set up as described above. SQLite errors become store errors."""
    if immutable and mode != "ro":
        raise ValueError("an immutable connection is read-only")
    if key is None:
        module = sqlite3
    else:
        from desktop.store import cipher

        module = cipher.dbapi
    try:
        conn = module.connect(uri(path, mode, immutable), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except SQL_ERRORS as exc:
        raise from_sqlite(exc, f"opening {path}") from exc
    try:
        if key is not None:
            _unlock(conn, path, key)
        _setup(conn, path, mode, synchronous, wal)
        if key is not None:
            from desktop.store import security

            security.register(conn, key)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, SQL_ERRORS):
            raise from_sqlite(exc, f"opening {path}") from exc
        raise
    return conn


def _unlock(conn, path, key: bytes) -> None:
    """``PRAGMA key`` first, then one read that proves it (SQLCipher checks the key on the first page)."""
    from desktop.store import cipher

    conn.execute(cipher.key_pragma(key))
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except SQL_ERRORS as exc:
        if primary_code(exc) == 26:  # SQLITE_NOTADB: the first page does not decrypt
            raise WrongKeyError(
                f"The key does not open this file ({Path(path).name}): the passphrase belongs to another "
                "clinic file, or the file is not an Abrasio database, or it is damaged. "
                "The file has not been changed."
            ) from exc
        raise


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
