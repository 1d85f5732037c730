"""Automatic backups, retention and the restore drill, on real files."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat

import pytest

from desktop.records import Client, ScreeningAnswer
from desktop.store import Store, backups
from desktop.store.backups import BackupError, keep, list_backups, restore_file, take_backup
from tests.faults import damage_pages, digest


def dump(path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _clinic(path, n=50):
    store = Store.open(path)
    store.import_clients([Client(f"First{i}", f"Last{i}", phone=f"0770 {i:06d}") for i in range(n)])
    cid = store.client_ids()[0]
    store.save_screening(cid, [ScreeningAnswer("rosacea", dt.date(2025, 1, 1))], "drill")
    sid = store.create_session(cid, "drill", areas=["chin"])
    store.save_notes(sid, {"notes": "Tolerated well"})
    store.finish_session(sid, {"duration_s": 600}, "drill")
    return store


def test_retention_keeps_7_daily_4_weekly_12_monthly():
    start = dt.datetime(2026, 1, 1, 9, 0)
    # two backups a day (09:00 and 15:00) for 400 days
    stamps = [start + dt.timedelta(days=d, hours=h) for d in range(400) for h in (0, 6)]
    kept = sorted(keep(stamps), reverse=True)
    last = stamps[-1]
    days = {t.date() for t in kept if (last - t).days < 7}
    assert len(days) == 7 and all(t.hour == 15 for t in kept)  # the newest of each day
    weeks = {t.isocalendar()[:2] for t in kept}
    months = {(t.year, t.month) for t in kept}
    assert len(months) == 12 and (last.year, last.month) in months
    assert sorted(months)[0] == ((last.year - 1, last.month + 1) if last.month < 12 else (last.year, 1))
    assert len(weeks) >= 4
    # nothing else: 7 days, the 4 newest weeks' newest, the 12 newest months' newest
    assert len(kept) <= 7 + 4 + 12
    assert keep([]) == set()


def test_a_backup_is_checked_private_listed_and_pruned(tmp_path):
    old = os.umask(0o022)
    try:
        store = _clinic(tmp_path / "abrasio.db")
        second = tmp_path / "usb" / "Abrasio"
        t0 = dt.datetime(2026, 3, 1, 12, 0)
        for day in range(10):
            take_backup(store.path, second, now=t0 + dt.timedelta(days=day))
        listed = list_backups(store.path, second)
    finally:
        os.umask(old)
    folder = tmp_path / "backups"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    assert {stat.S_IMODE(p.stat().st_mode) for p in second.iterdir()} == {0o600}
    # 10 daily backups: 7 kept (daily), plus the newest of older weeks / months
    in_main = [b for b in listed if b.path.parent == folder]
    assert 7 <= len(in_main) < 10
    assert len([b for b in listed if b.path.parent == second]) == len(in_main)
    newest = listed[0]
    assert newest.taken == t0 + dt.timedelta(days=9)
    assert (newest.clients, newest.sessions) == (50, 1)
    assert newest.size == newest.path.stat().st_size > 0
    store.close()


def test_two_backups_in_one_second_leave_one(tmp_path):
    store = _clinic(tmp_path / "abrasio.db")
    t = dt.datetime(2026, 3, 1, 12, 0, 0)
    first = take_backup(store.path, now=t)
    second = take_backup(store.path, now=t)  # the same second: named -2, and the newer
    assert second.name.endswith("-2.db")
    assert [b.path for b in list_backups(store.path)] == [second] and not first.exists()
    store.close()


def test_a_backup_that_fails_its_check_is_not_kept(tmp_path, monkeypatch):
    store = _clinic(tmp_path / "abrasio.db")
    monkeypatch.setattr(
        backups, "_integrity", lambda path, key=None: "*** page 3: btreeInitPage() returns 11"
    )
    with pytest.raises(BackupError, match="failed its integrity check"):
        take_backup(store.path)
    assert list((tmp_path / "backups").iterdir()) == []
    store.close()


def test_restore_drill_create_back_up_damage_restore_compare(tmp_path):
    store = _clinic(tmp_path / "abrasio.db")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = dump(store.path)
    good = take_backup(store.path)
    store.close()

    # damage the clinic file until opening it says so
    damaged = None
    for seed in range(50):
        damage_pages(tmp_path / "backups" / good.name, tmp_path / "abrasio.db", seed)
        try:
            s = Store.open(tmp_path / "abrasio.db")
        except Exception:
            damaged = seed
            break
        kind = s.access.kind
        s.close()
        if kind == "damaged":
            damaged = seed
            break
    assert damaged is not None
    damaged_digest = digest(tmp_path / "abrasio.db")

    kept = restore_file(tmp_path / "abrasio.db", good)
    assert dump(tmp_path / "abrasio.db") == before
    assert digest(kept) == damaged_digest  # the damaged file was kept, byte for byte
    store = Store.open(tmp_path / "abrasio.db")
    assert store.writable and store.integrity_check() == "ok"
    assert store.notes(store.sessions_for_client(store.client_ids()[0])[0].id)["notes"] == "Tolerated well"
    store.close()


def test_restoring_through_the_open_store_backs_up_the_current_file_first(tmp_path):
    store = _clinic(tmp_path / "abrasio.db")
    good = take_backup(store.path)
    store.add_client(Client("After", "TheBackup"))
    kept = store.restore(good)
    assert store.writable and store.search_clients("TheBackup") == []
    assert "before-restore" in kept.name
    check = Store.open(kept)
    assert [c.last_name for c in check.search_clients("TheBackup")] == ["TheBackup"]
    check.close()
    store.close()


def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path):
    store = _clinic(tmp_path / "abrasio.db")
    good = take_backup(store.path)
    store.close()
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)
    before = digest(tmp_path / "abrasio.db")
    with pytest.raises(BackupError, match="cannot be restored"):
        restore_file(tmp_path / "abrasio.db", bad)
    assert digest(tmp_path / "abrasio.db") == before
    assert [b.path for b in list_backups(tmp_path / "abrasio.db")] == [good]
