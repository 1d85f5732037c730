"""Encrypted database files: SQLCipher through ``sqlcipher3``, keyed with a raw 256-bit key.

What this module knows (each fact proved by ``tests/test_cipher.py``):

- ``sqlcipher3`` is a separate DB-API module with its own SQLite (3.53 in 0.6.4, SQLCipher 4.19);
  its exceptions are *not* subclasses of the standard library's ``sqlite3`` ones. Code that opens
  connections here must catch ``dbapi.Error`` & co., not ``sqlite3.Error``.
- sqlite-utils picks its module once, at import: ``pysqlite3`` if importable, else ``sqlite3``. It
  never picks ``sqlcipher3``, but ``Database(conn)`` takes any DB-API connection, and everything the
  store uses works on one. Only sqlite-utils' *internal* ``except sqlite3.OperationalError`` fallbacks
  (``drop(ignore=True)``, ``create_index(find_unique_name=True)``, ``alter=True``) do not see
  sqlcipher3's errors; the store uses none of them.
- The key is given as a raw key, ``PRAGMA key = "x'<64 hex>'"``: no PBKDF2 runs per connection (a
  passphrase key costs a 256,000-iteration PBKDF2 on every open). The expensive step, argon2id, happens
  once at login in ``desktop.keys``.
- The backup API works between two connections keyed alike, and fails ("SQL logic error") between an
  encrypted and a plaintext database: converting goes through ``sqlcipher_export()``, which does not
  copy ``PRAGMA user_version`` (copied here by hand).
- A wrong key fails on the first read with ``DatabaseError: file is not a database`` (SQLITE_NOTADB).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlcipher3 import dbapi2 as dbapi

from desktop.store.errors import DatabaseFileError, WrongKeyError

__all__ = [
    "KEY_BYTES",
    "WrongKeyError",
    "connect",
    "dbapi",
    "decrypt_copy",
    "encrypt_copy",
    "encrypted_backup",
    "is_plaintext_sqlite",
    "key_pragma",
]

KEY_BYTES = 32
SQLITE_MAGIC = b"SQLite format 3\x00"


def _quiet() -> None:
    # SQLCipher logs every failed page HMAC (a wrong key) to stderr at level WARN and above; the app
    # reports those failures itself, in words. The level is process-wide.
    conn = dbapi.connect(":memory:")
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
    finally:
        conn.close()


_quiet()


def key_pragma(key: bytes) -> str:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a database key is {KEY_BYTES} bytes, not {len(key)}")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def is_plaintext_sqlite(path: str | os.PathLike) -> bool:
    """True for an unencrypted SQLite file (its 16-byte magic header); an encrypted file starts with
    its random salt instead, so nothing about it is recognisable."""
    with open(path, "rb") as fh:
        return fh.read(16) == SQLITE_MAGIC


def connect(
    path: str | os.PathLike, key: bytes | None, *, timeout: float = 5.0, uri: bool = False
) -> dbapi.Connection:
    """A connection to ``path``, keyed with ``key`` (None: a plaintext file) and checked.

    The key is applied before anything else touches the file and proved by reading the schema, so a
    wrong key fails here with ``WrongKeyError`` rather than on some later query. Nothing is written.
    """
    conn = dbapi.connect(str(path), timeout=timeout, uri=uri)
    try:
        if key is not None:
            conn.execute(key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi.DatabaseError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorcode", None) == 26 and key is None:  # SQLITE_NOTADB
            raise DatabaseFileError(
                f"{path} is not a plain SQLite database: it is encrypted, damaged, or not a database."
            ) from exc
        if getattr(exc, "sqlite_errorcode", None) == 26:
            raise WrongKeyError(
                f"{path} cannot be opened with this key: the key is wrong, or the file is not an "
                "Abrasio database, or it is damaged. The file has not been changed."
            ) from exc
        raise DatabaseFileError(f"Cannot open {path}: {exc}.") from exc
    return conn


def _export(src: dbapi.Connection, dest: Path, dest_key: bytes | None) -> None:
    """Copy every table, index, trigger and virtual table of ``src`` into a new file ``dest``."""
    if dest.exists():
        raise FileExistsError(dest)
    key_sql = f"x'{dest_key.hex()}'" if dest_key is not None else ""
    version = src.execute("PRAGMA user_version").fetchone()[0]
    src.execute("ATTACH DATABASE ? AS conv KEY ?", [str(dest), key_sql])
    try:
        src.execute("SELECT sqlcipher_export('conv')")
        src.execute(f"PRAGMA conv.user_version = {int(version)}")
        src.commit()
    finally:
        src.execute("DETACH DATABASE conv")


def encrypt_copy(plain: str | os.PathLike, dest: str | os.PathLike, key: bytes) -> None:
    """Write an encrypted copy of the plaintext database ``plain`` to the new file ``dest``.

    The source is only read. The copy is checked (integrity, same tables and row counts) before this
    returns; on any failure the partial copy is removed.
    """
    plain, dest = Path(plain), Path(dest)
    if dest.exists():
        raise FileExistsError(dest)  # never overwritten, and never removed by the clean-up below
    src = connect(plain, None)
    try:
        _export(src, dest, key)
        _check_copy(src, dest, key)
    except BaseException:
        for p in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm"), Path(f"{dest}-journal")):
            p.unlink(missing_ok=True)
        raise
    finally:
        src.close()


def decrypt_copy(encrypted: str | os.PathLike, dest: str | os.PathLike, key: bytes) -> None:
    """Write a plaintext copy of an encrypted database (for a clinic leaving Abrasio, or support)."""
    encrypted, dest = Path(encrypted), Path(dest)
    if dest.exists():
        raise FileExistsError(dest)
    src = connect(encrypted, key)
    try:
        _export(src, dest, None)
        _check_copy(src, dest, None)
    except BaseException:
        for p in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm"), Path(f"{dest}-journal")):
            p.unlink(missing_ok=True)
        raise
    finally:
        src.close()


def _counts(conn: dbapi.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _check_copy(src: dbapi.Connection, dest: Path, key: bytes | None) -> None:
    copy = connect(dest, key)
    try:
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise DatabaseFileError(f"The converted copy {dest} failed its integrity check: {result}")
        if _counts(copy) != _counts(src):
            raise DatabaseFileError(f"The converted copy {dest} does not hold the same rows as the original")
        if (
            copy.execute("PRAGMA user_version").fetchone()[0]
            != src.execute("PRAGMA user_version").fetchone()[0]
        ):
            raise DatabaseFileError(f"The converted copy {dest} lost the schema version")
    finally:
        copy.close()


def encrypted_backup(src: dbapi.Connection, dest: str | os.PathLike, key: bytes) -> None:
    """An online backup of an open encrypted connection into the new file ``dest``, same key.

    SQLite's backup API copies pages; SQLCipher allows it only between databases keyed alike.
    """
    target = dbapi.connect(str(dest))
    try:
        target.execute(key_pragma(key))
        src.backup(target)
    finally:
        target.close()
