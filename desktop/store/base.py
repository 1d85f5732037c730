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

from sqlite_utils import Database

from desktop.store.access import WRITABLE
from desktop.store.connection import Synchronous
from desktop.store.errors import ReadOnlyError, from_sqlite

P = ParamSpec("P")
R = TypeVar("R")


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def parse_date(text: str | None) -> dt.date | None:
    """A stored date (or the date of a stored timestamp)."""
    return dt.date.fromisoformat(text[:10]) if text else None


def sql(doing: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a store method: an SQLite error inside it is raised as the store's error for ``doing``."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except sqlite3.Error as exc:
                raise from_sqlite(exc, doing) from exc

        return method

    return wrap


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
