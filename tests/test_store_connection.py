"""The one connection function and the store's error mapping, on real files."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from desktop.records import Client
from desktop.store import (
    BusyError,
    DamagedError,
    DiskError,
    DiskFullError,
    ReadOnlyError,
    Store,
    StoreBugError,
    trace,
)
from desktop.store.connection import connect
from desktop.store.errors import SqliteErrorCode, from_sqlite


def pragmas(conn: sqlite3.Connection) -> dict:
    return {
        name: conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("synchronous", "foreign_keys", "journal_mode", "busy_timeout")
    }


def test_each_connection_gets_the_pragmas_of_its_arguments(tmp_path):
    store = Store.open(tmp_path / "a.db")
    stream = Store.connect(store.path, sample_stream=True)
    other = store.reopen()
    backup = connect(tmp_path / "copy.db", mode="rwc", wal=False)
    try:
        # synchronous: 2 = FULL (clinical records), 1 = NORMAL (the recorder's sample stream)
        assert pragmas(store.conn) == {
            "synchronous": 2,
            "foreign_keys": 1,
            "journal_mode": "wal",
            "busy_timeout": 5000,
        }
        assert pragmas(stream.conn) == pragmas(store.conn) | {"synchronous": 1}
        assert pragmas(other.conn) == pragmas(store.conn)
        assert pragmas(backup)["journal_mode"] == "delete"  # a backup copy is one self-contained file
    finally:
        for s in (store, stream, other):
            s.close()
        backup.close()


def test_a_clinical_record_commits_with_full_even_on_the_sample_stream(store):
    cid = store.add_client(Client("Sync", "Full"))
    sid = store.create_session(cid, "test")
    stream = Store.connect(store.path, sample_stream=True)
    seen: list[str] = []
    stream.conn.set_trace_callback(lambda stmt: seen.append(" ".join(stmt.split())))
    try:
        block = trace.pack(np.arange(10), np.arange(10) / 1000, np.full(10, 20.0), np.zeros(10, np.uint8))
        stream.append_trace(sid, 0, [block])
        assert not any("synchronous" in s for s in seen)  # the sample stream stays NORMAL
        seen.clear()
        stream.save_notes(sid, {"notes": "typed during the session"})
        begin = seen.index("BEGIN IMMEDIATE")  # the write lock first: a writer waits, never reads stale
        assert seen[begin - 1] == "PRAGMA synchronous = FULL"
        assert seen[-1] == "PRAGMA synchronous = NORMAL"  # back to NORMAL after the commit
        assert stream.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    finally:
        stream.close()
    assert store.notes(sid)["notes"] == "typed during the session"


def test_a_full_disk_is_a_disk_full_error_in_words(store):
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(DiskFullError, match="could not finish saving the new client: the disk is full") as e:
        store.add_client(Client("Too", "Much", notes="x" * 100_000))
    assert e.value.code == "SQLITE_FULL"
    store.conn.execute("PRAGMA max_page_count = 2147483647")
    assert store.count_clients() == 0  # nothing half-written


def test_a_refused_write_is_a_read_only_error(store):
    store.conn.execute("PRAGMA query_only = 1")  # SQLite refuses writes with SQLITE_READONLY
    with pytest.raises(ReadOnlyError, match="cannot be written"):
        store.set_setting("display_unit", "mmHg")
    store.conn.execute("PRAGMA query_only = 0")
    assert store.setting("display_unit") == "kPa"


def test_a_file_locked_by_another_connection_is_busy(tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.store.connection.BUSY_TIMEOUT_MS", 50)
    store = Store.open(tmp_path / "a.db")
    holder = sqlite3.connect(tmp_path / "a.db")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BusyError, match="another program is using the database file"):
            store.add_practitioner("Waiting")
    finally:
        holder.rollback()
        holder.close()
        store.close()


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (SqliteErrorCode.CORRUPT, DamagedError),
        (SqliteErrorCode.NOTADB, DamagedError),
        (SqliteErrorCode.READONLY | (1 << 8), ReadOnlyError),  # an extended code: SQLITE_READONLY_RECOVERY
        (SqliteErrorCode.PERM, ReadOnlyError),
        (SqliteErrorCode.FULL, DiskFullError),
        (SqliteErrorCode.BUSY, BusyError),
        (SqliteErrorCode.LOCKED, BusyError),
        (SqliteErrorCode.IOERR | (10 << 8), DiskError),  # SQLITE_IOERR_DELETE
        (SqliteErrorCode.CANTOPEN, DiskError),
        (SqliteErrorCode.CONSTRAINT, StoreBugError),
        (SqliteErrorCode.MISUSE, StoreBugError),
    ],
)
def test_errors_are_sorted_by_their_code_never_their_text(code, kind):
    exc = sqlite3.OperationalError("database is locked")  # the text says one thing…
    exc.sqlite_errorcode = int(code)  # …the code decides
    exc.sqlite_errorname = "SQLITE_X"
    err = from_sqlite(exc, "saving the client")
    assert type(err) is kind
    assert "saving the client" in str(err).lower()


def test_an_error_without_a_code_is_a_bug(store):
    store.close()
    with pytest.raises(StoreBugError, match="closed database"):
        store.client(1)


def test_a_write_that_reads_first_waits_for_another_writer_instead_of_failing(store):
    """Every store write takes the write lock first (BEGIN IMMEDIATE). With a deferred BEGIN, a write
    that reads before it writes cannot wait: the recorder committing in between made SQLite refuse it at
    once ("database is locked") — seen as a failed 'new client' during a session under load."""
    import threading

    errors: list[BaseException] = []
    started = threading.Event()

    def recorder_like_writer():
        other = Store.connect(store.path)
        try:
            started.set()
            other.add_client(Client("Other", "Writer"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            other.close()

    thread = threading.Thread(target=recorder_like_writer)
    with store._write() as db:
        db.execute("SELECT count(*) FROM clients").fetchone()  # this transaction reads first
        thread.start()
        started.wait(5)
        thread.join(0.5)  # with a deferred BEGIN the other connection commits here
        store.add_client(Client("Reads", "First"))  # then this write would be refused
    thread.join(10)
    assert not thread.is_alive() and errors == []
    assert {c.first_name for c in store.search_clients("Writer")} == {"Other"}
    assert store.search_clients("First")
