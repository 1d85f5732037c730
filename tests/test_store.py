"""The records store on real SQLite files in tmp_path."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.records import Client, ScreeningAnswer
from desktop.store import DatabaseFileError, DatabaseTooNewError, Store, StoreBugError, trace
from desktop.store.migrations import MIGRATION_NAMES, SCHEMA_VERSION, migrations


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [*list(conn.iterdump()), str(conn.execute("PRAGMA user_version").fetchone()[0])]
    finally:
        conn.close()


def test_new_file_is_at_the_latest_version_with_wal(tmp_path):
    store = Store.open(tmp_path / "a.db")
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATION_NAMES)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: clinical records
    assert store.backup_path is None
    assert store.integrity_check() == "ok"
    store.close()


@pytest.mark.parametrize("stop_before", MIGRATION_NAMES[1:])
def test_upgrade_from_every_past_version(tmp_path, stop_before):
    path = tmp_path / "old.db"
    old = Store.open(path, stop_before=stop_before)
    version = MIGRATION_NAMES.index(stop_before)
    assert old.schema_version == version
    old.db["clients"].insert(
        {
            "first_name": "Ada",
            "last_name": "Old",
            "sensitivity": "normal",
            "vacuum_ceiling_kpa": 45.0,
            "archived": 0,
            "phone": "0123 456789",
        }
    )
    old.close()

    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.backup_path is not None and store.backup_path.exists()
    assert f".v{version}-" in store.backup_path.name
    assert [r.last_name for r in store.search_clients("456789")] == ["Old"]
    assert store.integrity_check() == "ok"
    store.close()
    backup = sqlite3.connect(store.backup_path)
    assert backup.execute("PRAGMA user_version").fetchone()[0] == version
    backup.close()


def test_reopening_an_up_to_date_file_takes_no_backup(tmp_path):
    Store.open(tmp_path / "a.db").close()
    store = Store.open(tmp_path / "a.db")
    assert store.backup_path is None
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".bak") == []
    store.close()


def test_newer_file_is_refused_untouched(tmp_path):
    path = tmp_path / "newer.db"
    store = Store.open(path)
    store.db["_sqlite_migrations"].insert(
        {"migration_set": "abrasio", "name": "m099_from_the_future", "applied_at": "2031-01-01"}
    )
    store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.conn.commit()
    store.close()
    before = digest(path)
    names_before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DatabaseTooNewError, match="newer version of Abrasio"):
        Store.open(path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == names_before


def test_failing_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "v2.db"
    Store.open(path, stop_before="m003_sessions").close()
    before = dump(path)

    def broken(db):
        db["treatment_sessions"].create({"id": int}, pk="id")
        raise RuntimeError("simulated bug in a migration")

    target = next(m for m in migrations._migrations if m.name == "m003_sessions")
    monkeypatch.setattr(target, "fn", broken)
    with pytest.raises(StoreBugError, match="rolled back"):
        Store.open(path)
    assert dump(path) == before
    monkeypatch.undo()
    store = Store.open(path)  # the real migration still applies afterwards
    assert store.schema_version == SCHEMA_VERSION
    store.close()


def test_not_a_database(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database")
    with pytest.raises(DatabaseFileError, match="not an Abrasio database"):
        Store.open(bad)
    assert bad.read_text() == "these are my notes, not a database"
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE photos (id)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseFileError, match="not one of Abrasio's"):
        Store.open(other)


def test_damaged_file(tmp_path):
    path = tmp_path / "d.db"
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseFileError):
        Store.open(path)


def test_client_edit_archive_and_change_log(tmp_path):
    store = Store.open(tmp_path / "a.db")
    cid = store.add_client(
        Client("Bea", "Nguyen", phone="+1 (555) 010-7788", email="bea@example.org"), "Dr K"
    )
    c = store.client(cid)
    c.notes = "Prefers afternoon appointments"
    store.update_client(c, "Dr K")
    store.set_archived(cid, True, "Dr K")
    assert store.search_clients("Nguyen") == []
    assert [r.id for r in store.search_clients("Nguyen", archived=True)] == [cid]
    assert [r.id for r in store.search_clients("5550107788")] == []  # archived is hidden
    actions = [(e.who, e.action) for e in store.change_log("client", cid)]
    assert actions == [("Dr K", "create"), ("Dr K", "update"), ("Dr K", "archive")]
    assert store.change_log("client", cid)[1].details["notes"] == ["", "Prefers afternoon appointments"]
    store.close()


def test_search_by_any_part_and_order_by_last_visit(tmp_path):
    store = Store.open(tmp_path / "a.db")
    a = store.add_client(Client("Anna", "Smith", phone="07700 900123"))
    b = store.add_client(Client("Hannah", "Annan", email="h.annan@example.com"))
    store.conn.execute("UPDATE clients SET last_visit = '2026-10-01' WHERE id = ?", [a])
    store.conn.commit()
    assert [r.id for r in store.search_clients("ann")] == [a, b]
    assert [r.id for r in store.search_clients("sm")] == [a]  # short words: start of a field
    assert [r.id for r in store.search_clients("0900 12")] == [a]  # spaced digits: one number
    assert [r.id for r in store.search_clients("smith 12")] == []  # "12" starts no field
    assert [r.id for r in store.search_clients("700900")] == [a]
    assert [r.id for r in store.search_clients("annan@exa")] == [b]
    assert store.search_clients('"unbalanced AND (') == []  # query syntax is never interpreted
    assert store.count_clients("example") == 1
    assert store.search_clients("%") == []
    store.close()


def test_screening_round_trip(tmp_path):
    store = Store.open(tmp_path / "a.db")
    cid = store.add_client(Client("C", "D"))
    answers = [
        ScreeningAnswer("isotretinoin", dt.date(2026, 1, 1), dt.date(2026, 11, 14), "10 mg"),
        ScreeningAnswer("rosacea"),
    ]
    store.save_screening(cid, answers, "me")
    assert store.screening(cid) == answers
    with pytest.raises(StoreBugError, match="FOREIGN KEY"):  # the form offers only known items
        store.save_screening(cid, [ScreeningAnswer("no_such_item")])
    assert store.screening(cid) == answers  # the failed save changed nothing
    store.close()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 90, allow_nan=False), min_size=1, max_size=3000), st.integers(0, 2**31))
def test_trace_blocks_round_trip(vac, seq0):
    n = len(vac)
    seq = np.arange(seq0, seq0 + n)
    t = 1000.0 + np.arange(n) / 1000.0
    flags = np.full(n, 3, np.uint8)
    block = trace.pack(seq, t, np.array(vac), flags)
    s, tt, v, f = trace.unpack(block.t0, block.seq0, block.data)
    assert (s == seq).all() and (f == flags).all()
    assert np.allclose(tt, t, atol=1e-6)
    assert np.allclose(v, np.round(np.array(vac) * 100) / 100)
    assert block.vmax == pytest.approx(max(round(x * 100) for x in vac) / 100)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_any_typed_search_is_answered_never_raised(tmp_path_factory, query):
    store = _search_store(tmp_path_factory)
    rows = store.search_clients(query)
    assert store.count_clients(query) >= len(rows)


_SEARCH_STORES: dict = {}


def _search_store(factory):
    if "s" not in _SEARCH_STORES:
        s = Store.open(factory.mktemp("search") / "s.db")
        s.add_client(Client("Léa", "O'Brien-Smith", phone="+44 (0)20 7946-0018", email="lea@example.org"))
        _SEARCH_STORES["s"] = s
    return _SEARCH_STORES["s"]


def test_short_words_match_word_starts_with_accents_folded(tmp_path):
    store = Store.open(tmp_path / "a.db")
    lea = store.add_client(Client("Léa", "Moreau", email="lea.m@example.org"))
    ma = store.add_client(Client("Maria", "Rossi"))
    assert [r.id for r in store.search_clients("le")] == [lea]
    assert [r.id for r in store.search_clients("ma ro")] == [ma]
    assert [r.id for r in store.search_clients("mo")] == [lea]
    assert store.search_clients("ar") == []  # not the start of a word
    store.close()
