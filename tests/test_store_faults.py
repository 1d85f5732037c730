"""The clinic's file under faults, at the store: empty, damaged, read-only, permissions."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from desktop.records import Client
from desktop.store import DamagedError, EmptyFileError, ReadOnlyError, Store
from desktop.store.opening import full_check
from tests.faults import damage_pages, digest


def _clinic(path, n=30):
    store = Store.open(path)
    store.import_clients([Client(f"First{i}", f"Last{i}", notes="n" * 300) for i in range(n)])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def test_an_empty_file_is_refused_not_made_a_new_clinic(tmp_path):
    path = tmp_path / "abrasio.db"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="is empty"):
        Store.open(path)
    assert path.read_bytes() == b""  # untouched
    store = Store.open(path, replace_empty=True)  # the user chose "start a new clinic file here"
    assert store.writable and store.count_clients() == 0
    store.close()


def test_a_damaged_clinical_table_opens_read_only_and_is_never_written(tmp_path):
    path = _clinic(tmp_path / "a.db", n=400)
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'clients'").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    interior = (root - 1) * 4096  # the clients table's root: an interior page over 400 clients
    data[interior + 8 : interior + 12] = b"\xff\xff\xff\x7f"  # its right-most child pointer
    path.write_bytes(bytes(data))
    before = digest(path)

    store = Store.open(path)
    assert store.access.kind == "damaged" and not store.writable
    assert "client records" in store.access.affected
    assert "damaged (client records" in store.access.reason
    with pytest.raises(ReadOnlyError, match="damaged"):
        store.add_client(Client("Never", "Written"))
    store.close()
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db"]  # no -wal, -shm, nothing


def test_the_full_check_finds_what_the_opening_check_skips(tmp_path):
    path = tmp_path / "a.db"
    store = Store.open(path)
    cid = store.add_client(Client("Trace", "Only"))
    sid = store.create_session(cid, "t")
    import numpy as np

    from desktop.store import trace

    blocks = [
        trace.pack(np.arange(k, k + 1000), np.arange(k, k + 1000) / 1e3, np.full(1000, 20.0), np.zeros(1000))
        for k in range(0, 200_000, 1000)
    ]
    store.append_trace(sid, 0, blocks)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    conn = sqlite3.connect(path)
    pages = [
        r[0]
        for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'vacuum_trace_chunks' AND pagetype = 'leaf'"
        )
    ]
    conn.close()
    data = bytearray(path.read_bytes())
    at = (pages[len(pages) // 2] - 1) * 4096
    data[at + 3 : at + 5] = b"\x7f\xff"  # the leaf's cell count
    path.write_bytes(bytes(data))
    before = digest(path)

    store = Store.open(path, full_check=False)  # the clinical tables are sound…
    assert store.access.kind == "checking" and not store.writable
    result = full_check(path)  # …the background check finds the traces damaged
    assert not result.ok and result.affected == ("recorded vacuum traces",)
    store.finish_check(result)
    assert store.access.kind == "damaged"
    with pytest.raises(ReadOnlyError):
        store.set_setting("display_unit", "mmHg")
    store.close()
    assert digest(path) == before


def test_writes_are_held_until_the_check_passes_then_allowed(tmp_path):
    path = _clinic(tmp_path / "a.db")
    store = Store.open(path, full_check=False)
    seen = []
    store.on_access_changed(seen.append)
    with pytest.raises(ReadOnlyError, match="checking"):
        store.add_practitioner("Early")
    store.finish_check(full_check(path))
    assert store.writable and [a.kind for a in seen] == ["writable"]
    store.add_practitioner("After the check")
    assert store.practitioners() == ["After the check"]
    store.close()


@pytest.mark.parametrize("seed", range(20))
def test_random_page_damage_never_changes_the_file(tmp_path, seed):
    clean = _clinic(tmp_path / "clean.db", n=300)
    path = damage_pages(clean, tmp_path / "a.db", seed)
    before = digest(path)
    try:
        store = Store.open(path)
    except DamagedError:
        assert digest(path) == before
        return
    if store.writable:  # quick_check saw nothing wrong: the damage is in content only
        assert full_check(path).ok
    else:
        assert store.access.kind == "damaged"
        with pytest.raises(ReadOnlyError):
            store.add_client(Client("Never", "Written"))
    store.close()
    assert digest(path) == before


def test_a_read_only_file_opens_read_only_naming_the_cause(tmp_path, read_only):
    path = _clinic(tmp_path / "a.db")
    read_only(path)
    store = Store.open(path)
    assert store.access.kind == "read_only"
    assert "read-only for this account (permissions)" in store.access.reason
    assert store.count_clients() == 30
    with pytest.raises(ReadOnlyError, match="cannot be written"):
        store.add_client(Client("No", "Save"))
    store.close()


def test_a_read_only_folder_with_a_leftover_wal_is_read_not_called_damaged(tmp_path, read_only):
    folder = tmp_path / "clinic"
    folder.mkdir()
    path = _clinic(folder / "a.db")
    # a session that ended without a checkpoint: the last client exists only in the -wal
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO clients (last_name, vacuum_ceiling_kpa) VALUES ('OnlyInTheWal', 45)")
    writer.commit()
    keep = sqlite3.connect(path)  # a second connection keeps the -wal from being checkpointed
    keep.execute("SELECT 1").fetchone()
    os.rename(f"{path}-wal", f"{path}-wal.keep")
    writer.close()
    keep.close()
    for extra in (f"{path}-wal", f"{path}-shm"):
        if os.path.exists(extra):
            os.remove(extra)
    os.rename(f"{path}-wal.keep", f"{path}-wal")
    read_only(folder)

    store = Store.open(path)
    assert store.access.kind == "read_only" and "folder" in store.access.reason
    assert [c.last_name for c in store.search_clients("OnlyInTheWal")] == ["OnlyInTheWal"]
    store.close()


def test_files_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "data" / "abrasio.db"
        store = Store.open(path)
        store.add_client(Client("Private", "Health"))
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        assert modes == {"abrasio.db": 0o600, "abrasio.db-wal": 0o600, "abrasio.db-shm": 0o600}
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        store.close()
    finally:
        os.umask(old)


def test_an_older_abrasios_open_files_are_tightened(tmp_path):
    path = _clinic(tmp_path / "a.db")
    os.chmod(path, 0o644)
    Store.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
