"""What every part of the store shares: the connection, queries, the change log, write transactions,
and the translation of SQLite errors into the store's own (``errors.from_sqlite``)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from desktop.store.access import WRITABLE
from desktop.store.connection import Synchronous
from desktop.store.errors import (
    SQL_ERRORS,
    DamagedError,
    ReadOnlyError,
    StoreBugError,
    from_sqlite,
    primary_code,
)

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
            except SQL_ERRORS as exc:  # sqlite3's and sqlcipher3's (an encrypted file)
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
                if isinstance(cause, SQL_ERRORS) and primary_code(cause) is None and "decode" in str(cause):
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


@dataclass(frozen=True)
class Actor:
    """Who is writing through a store (the logged-in person): named in every audit entry."""

    person_id: int
    name: str


class StoreBase:
    """An open connection and the helpers the store's parts use.

    ``key``: the database key of an encrypted file (None: plaintext); every other connection this
    store makes (``reopen``, the recorder's, backups, checks) is made with it. ``protection``: the keys
    derived from it for the audit chain and the record seals. ``actor``: the logged-in person, set by
    ``accounts`` at login and on a switch; with it (on an encrypted file) every change-log entry is also
    an audit entry naming them.
    """

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        synchronous: Synchronous = "FULL",
        key: bytes | None = None,
    ):
        self.path = path
        self.conn = conn
        self.db = Database(conn, execute_plugins=False)
        self.synchronous = synchronous
        self.access = WRITABLE
        self.key = key
        self.actor: Actor | None = None
        self._audited: bool | None = None  # has the file an audit trail (asked once)

    @property
    def protection(self):
        """The keys the audit chain and the seals are verified with (None on a plaintext file)."""
        if self.key is None:
            return None
        from desktop.store import security

        return security.protection_for(self.key)

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
        own = not self.conn.in_transaction
        upgrade = clinical and self.synchronous != "FULL" and own
        if upgrade:
            self.conn.execute("PRAGMA synchronous = FULL")
        try:
            if not own:  # nested: a savepoint inside the caller's transaction
                with self.db.atomic() as db:
                    yield db
                return
            # BEGIN IMMEDIATE takes the write lock first, waiting (busy timeout) for another writer to
            # finish. A deferred BEGIN that reads before it writes cannot wait: if the recorder commits
            # in between, SQLite refuses the write at once ("database is locked", a stale snapshot).
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                with self.db.atomic() as db:  # a savepoint: sqlite-utils sees a transaction open
                    yield db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise
            self.conn.commit()
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
        """The change log (history as the windows show it) and, when a person is logged in on an
        encrypted file, the audit trail: the same change, attributed to that person, chained."""
        at = now_iso()
        self.db["change_log"].insert(
            {
                "at": at,
                "who": who or "",
                "record_type": record_type,
                "record_id": record_id,
                "action": action,
                "details": json.dumps(details, default=str),
            }
        )
        if self.actor is None or self.key is None:
            return
        if self._audited is None:
            self._audited = bool(
                self.conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'"
                ).fetchone()
            )
        if not self._audited:
            return
        from desktop.store import security

        security.audit_append(
            self.db,
            person_id=self.actor.person_id,
            person=self.actor.name,
            action=action,
            record_type=record_type,
            record_id=record_id,
            client_id=self._client_of(record_type, record_id, details),
            # Which fields changed, never their values: the trail cannot be edited, so it must hold no
            # personal data an erasure would have to remove (the values are in the records and the
            # change log, which erasure redacts).
            details={"fields": sorted(map(str, details))} if isinstance(details, dict) else {},
            at=at,
        )

    def _client_of(self, record_type: str, record_id: int, details: dict) -> int | None:
        """The client a change concerns (for the audit trail's filter by client), where it is known."""
        if record_type == "client":
            return record_id or None
        cid = details.get("client_id") if isinstance(details, dict) else None
        if isinstance(cid, int):
            return cid
        if record_type == "session" and record_id:
            row = self.conn.execute(
                "SELECT client_id FROM treatment_sessions WHERE id = ?", [record_id]
            ).fetchone()
            return row[0] if row else None
        return None
