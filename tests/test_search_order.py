"""Client search reads its indexes in list order (m007). The reference here is the plain way — every
match of the same FTS5 indexes keyed by client id, sorted by last visit — on the same real file, after
the edits that move a client in the list (a visit, archiving, a new name, an erasure)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from desktop.demo import demo_clients
from desktop.store import Store

QUERIES = ["a", "an", "ann", "anna s", "ma ro", "e", "org", "example.org", "smi", "smi j", "léa", "le",
           "07", "0770 4", "7700", "Zz", "x y", "o'b", "é", "anna smith"]  # fmt: skip


def _reference(store: Store, query: str, archived: bool, limit: int, offset: int) -> list[int]:
    """Every match (the same tokenizers, keyed by id, rebuilt now), sorted last visit first."""
    where, params = ["archived = ?"], [int(archived)]
    for table, match in store._search_terms(query):
        where.append(f"id IN (SELECT rowid FROM ref_{table} WHERE ref_{table} MATCH ?)")
        params.append(match)
    sql = (
        f"SELECT id FROM clients WHERE {' AND '.join(where)} "
        "ORDER BY last_visit DESC, id DESC LIMIT ? OFFSET ?"
    )
    return [r[0] for r in store.conn.execute(sql, [*params, limit, offset])]


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "search.db")
    rng = random.Random(11)
    today = dt.date(2026, 11, 25)
    clients = demo_clients(600, rng, today)
    for i, c in enumerate(clients):
        c.last_visit = today - dt.timedelta(days=rng.randrange(0, 40)) if i % 5 else None  # many ties
    store.import_clients(clients)
    store.conn.execute(
        "CREATE VIRTUAL TABLE ref_clients_fts USING fts5(first_name, last_name, phone, phone_digits, "
        "email, content='clients', content_rowid='id', tokenize='trigram')"
    )
    store.conn.execute(
        "CREATE VIRTUAL TABLE ref_clients_words USING fts5(first_name, last_name, phone_digits, email, "
        "content='clients', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2')"
    )
    yield store
    store.close()


def _check(store: Store) -> int:
    for table in ("ref_clients_fts", "ref_clients_words"):
        store.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")
    compared = 0
    for query in QUERIES:
        for archived in (False, True):
            for limit, offset in ((101, 0), (7, 3), (50, 90)):
                got = [c.id for c in store.search_clients(query, archived, limit, offset)]
                assert got == _reference(store, query, archived, limit, offset), (query, archived, offset)
                compared += len(got)
            assert store.count_clients(query, archived) == len(_reference(store, query, archived, 10**6, 0))
    return compared


def test_search_matches_the_plain_sorted_search(store):
    assert _check(store) > 1000  # the queries really match clients


def test_search_follows_visits_archiving_edits_and_erasure(store):
    rng = random.Random(5)
    ids = [r[0] for r in store.conn.execute("SELECT id FROM clients")]
    for cid in rng.sample(ids, 60):  # a visit moves a client to the top of the list
        store.conn.execute("UPDATE clients SET last_visit = ? WHERE id = ?", ["2026-12-01", cid])
    for cid in rng.sample(ids, 40):
        store.set_archived(cid, True)
    for cid in rng.sample(ids, 30):  # a new name: found by it, no longer by the old one
        c = store.client(cid)
        c.last_name = rng.choice(["Annabelle", "Smithers", "Zola", "Ma"])
        store.update_client(c)
    for cid in rng.sample(ids, 20):
        store.conn.execute("DELETE FROM clients WHERE id = ?", [cid])
    store.conn.commit()
    assert _check(store) > 1000
    top = store.search_clients("a", limit=1)[0]
    assert top.last_visit == dt.date(2026, 12, 1)
