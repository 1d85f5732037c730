"""What every part of the store shares: the connection, queries, the change log, write transactions,
and the translation of SQLite errors into the store's own (``errors.from_sqlite``)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlcipher3 import dbapi2 as _cipher_dbapi
from sqlite_utils import Database

from desktop.store.access import WRITABLE
from desktop.store.connection import Synchronous
from desktop.store.errors import DamagedError, ReadOnlyError, StoreBugError, from_sqlite, primary_code

P = ParamSpec("P")
R = TypeVar("R")


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def parse_date(text: str | None) -> dt.date | None:
    """A stored date (or the date of a stored timestamp)."""
    return dt.date.fromisoformat(text[:10]) if text else None


# sqlcipher3's exceptions are another family than the standard library's (docs/security-design.md §1);
# an encrypted file's connection raises them. (accounts-ui: enc-store makes this the one place.)
SQLITE_ERRORS = (sqlite3.Error, _cipher_dbapi.Error)


def sql(doing: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a store method: an SQLite error inside it is raised as the store's error for ``doing``."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except SQLITE_ERRORS as exc:
                raise from_sqlite(exc, doing) from exc

        return method

    return wrap


def reads(doing: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Like ``sql``, for a method that reads records: a record that cannot be decoded (damaged
    content SQLite's checks cannot see: a date, JSON or text no longer valid) is a ``DamagedError``."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        inner = sql(doing)(fn)

        @functools.wraps(fn)
        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return inner(*args, **kwargs)
            except StoreBugError as exc:
                cause = exc.__cause__
                if (
                    isinstance(cause, SQLITE_ERRORS)
                    and primary_code(cause) is None
                    and "decode" in str(cause)
                ):
                    raise DamagedError(f"A record could not be read while {doing}: it is damaged.") from cause
                raise
            except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
                raise DamagedError(
                    f"A record could not be read while {doing}: it is damaged ({type(exc).__name__})."
                ) from exc

        return method

    return wrap


def text(value) -> str:
    """A stored text field (None is empty); anything else means the record is damaged."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"text expected, found {type(value).__name__}")
    return value


def number(value, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"number expected, found {type(value).__name__}")
    return value


def whole(value, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"whole number expected, found {type(value).__name__}")
    return value


def one_of(value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"unknown value {value!r}")
    return value


class StoreBase:
    """An open connection and the helpers the store's parts use."""

    def __init__(self, path: Path, conn: sqlite3.Connection, synchronous: Synchronous = "FULL"):
        self.path = path
        self.conn = conn
        self.db = Database(conn, execute_plugins=False)
        self.synchronous = synchronous
        self.access = WRITABLE

    @property
    def writable(self) -> bool:
        """False while the file is read-only (damaged, permissions) or being checked: windows disable
        their write controls, and every write is refused with ``access.reason``."""
        return self.access.writable

    def _q(self, sql_text: str, params: Sequence | dict = ()) -> list[dict]:
        cur = self.conn.execute(sql_text, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    @contextmanager
    def _write(self, clinical: bool = True) -> Iterator[Database]:
        """One transaction (a savepoint when nested). A clinical record commits with
        ``synchronous=FULL`` even on a connection made for the sample stream (NORMAL)."""
        if not self.access.writable:
            raise ReadOnlyError(self.access.reason)
        upgrade = clinical and self.synchronous != "FULL" and not self.conn.in_transaction
        if upgrade:
            self.conn.execute("PRAGMA synchronous = FULL")
        try:
            with self.db.atomic() as db:
                yield db
        finally:
            if upgrade:
                self.conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes as one transaction: one commit (one fsync) instead of one per record, and
        all or nothing (creating the demo database: thousands of records)."""
        with self._write():
            yield

    def _log(self, who: str, record_type: str, record_id: int, action: str, details: dict) -> None:
        self.db["change_log"].insert(
            {
                "at": now_iso(),
                "who": who or "",
                "record_type": record_type,
                "record_id": record_id,
                "action": action,
                "details": json.dumps(details, default=str),
            }
        )
