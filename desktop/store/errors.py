"""The store's own errors, and how an SQLite error becomes one of them.

Two kinds of failure, told apart (as qutebrowser's ``misc/sql.py`` does): the file or the disk is the
problem (``DatabaseFileError`` and its kinds: the practitioner or the clinic's IT person can act on it),
or Abrasio has a bug (``StoreBugError``). SQLite errors are sorted by their primary result code
(``exc.sqlite_errorcode & 0xFF``, https://sqlite.org/rescode.html), never by their message text.
Every message is written in words for the person at the PC.
"""

from __future__ import annotations

import enum
import sqlite3

from sqlcipher3 import dbapi2 as _cipher_dbapi

# Two DB-API modules make Abrasio's connections: the standard library's ``sqlite3`` (plaintext files:
# tests, a file not yet converted) and ``sqlcipher3`` (encrypted files). Their exception classes are
# unrelated, so every ``except`` in the store names both; the codes (``sqlite_errorcode``) are the same.
SQL_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, _cipher_dbapi.Error)
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, _cipher_dbapi.DatabaseError)


class StoreError(Exception):
    pass


class DatabaseFileError(StoreError):
    """The database file cannot be used as it is (not a database, damaged, locked, read-only…).

    The message is written for the practitioner or the clinic's IT person. Nothing was changed.
    """

    code: str | None = None  # SQLite's name for the error (``SQLITE_FULL``…), when SQLite raised it


class DatabaseTooNewError(DatabaseFileError):
    """The file was written by a newer Abrasio; this version refuses it and leaves it untouched."""


class EmptyFileError(DatabaseFileError):
    """The file exists but is empty (0 bytes): it is not silently made a new clinic file."""


class DamagedError(DatabaseFileError):
    """SQLite found the file damaged (``SQLITE_CORRUPT``) or not a database (``SQLITE_NOTADB``)."""


class ReadOnlyError(DatabaseFileError):
    """The file or its folder cannot be written (``SQLITE_READONLY``, ``SQLITE_PERM``, ``SQLITE_AUTH``)."""


class DiskFullError(DatabaseFileError):
    """The disk (or the file's size limit) is full (``SQLITE_FULL``)."""


class BusyError(DatabaseFileError):
    """Another program holds the file (``SQLITE_BUSY``, ``SQLITE_LOCKED``) past the busy timeout."""


class DiskError(DatabaseFileError):
    """The disk or file system failed (``SQLITE_IOERR``, ``SQLITE_CANTOPEN``, ``SQLITE_PROTOCOL``…)."""


class WrongKeyError(DatabaseFileError):
    """The key does not open this file (a wrong key, a file that is not an Abrasio database, or a
    damaged one: SQLCipher cannot tell these apart). Nothing was read or changed."""


class NotEncryptedError(DatabaseFileError):
    """A key was given for a plaintext (unencrypted) file: it must be converted first
    (``accounts.convert_plaintext``). The file has not been changed."""


class StoreBugError(StoreError):
    """Abrasio's own mistake (a migration or statement that should not fail). Nothing was half-written."""


class NotFoundError(StoreError):
    pass


class SqliteErrorCode(enum.IntEnum):
    """SQLite's primary result codes (https://sqlite.org/rescode.html)."""

    ERROR = 1
    INTERNAL = 2
    PERM = 3
    ABORT = 4
    BUSY = 5
    LOCKED = 6
    NOMEM = 7
    READONLY = 8
    INTERRUPT = 9
    IOERR = 10
    CORRUPT = 11
    NOTFOUND = 12
    FULL = 13
    CANTOPEN = 14
    PROTOCOL = 15
    EMPTY = 16
    SCHEMA = 17
    TOOBIG = 18
    CONSTRAINT = 19
    MISMATCH = 20
    MISUSE = 21
    NOLFS = 22
    AUTH = 23
    FORMAT = 24
    RANGE = 25
    NOTADB = 26


# primary code -> (error type, what it means, in words)
_KNOWN: dict[SqliteErrorCode, tuple[type[DatabaseFileError], str]] = {
    SqliteErrorCode.CORRUPT: (DamagedError, "the database file is damaged"),
    SqliteErrorCode.NOTADB: (DamagedError, "the file is damaged or is not a database"),
    SqliteErrorCode.READONLY: (
        ReadOnlyError,
        "the database file or its folder cannot be written (check its permissions)",
    ),
    SqliteErrorCode.PERM: (ReadOnlyError, "permission to use the database file was refused"),
    SqliteErrorCode.AUTH: (ReadOnlyError, "permission to use the database file was refused"),
    SqliteErrorCode.FULL: (DiskFullError, "the disk is full"),
    SqliteErrorCode.BUSY: (BusyError, "another program is using the database file"),
    SqliteErrorCode.LOCKED: (BusyError, "another program is using the database file"),
    SqliteErrorCode.IOERR: (DiskError, "the disk reported an error while reading or writing"),
    SqliteErrorCode.CANTOPEN: (DiskError, "the database file (or a file beside it) cannot be opened"),
    SqliteErrorCode.PROTOCOL: (DiskError, "the file system's locking failed"),
    SqliteErrorCode.NOLFS: (DiskError, "the file system cannot hold a file this large"),
    SqliteErrorCode.NOMEM: (DiskError, "the computer ran out of memory"),
}


def primary_code(exc: Exception) -> SqliteErrorCode | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    try:
        return SqliteErrorCode(code & 0xFF)
    except ValueError:
        return None


def from_sqlite(exc: Exception, doing: str) -> StoreError:
    """The store's error for ``exc``, raised while ``doing`` (words: "saving the client").

    Known environmental failures become a ``DatabaseFileError`` kind with a message in words; anything
    else (a constraint, a misuse, a closed connection) is Abrasio's bug.
    """
    code = primary_code(exc)
    name = getattr(exc, "sqlite_errorname", None)
    if code in _KNOWN:
        kind, meaning = _KNOWN[code]
        err: StoreError = kind(f"Abrasio could not finish {doing}: {meaning} ({exc}).")
        err.code = name
        return err
    return StoreBugError(f"{doing[:1].upper()}{doing[1:]} failed (a fault in Abrasio): {exc} [{name}]")
