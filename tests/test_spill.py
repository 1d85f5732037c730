"""Disk full at the end of a session: nothing held is dropped (spill file, next success, next start)."""

from __future__ import annotations

import stat
import subprocess
import sys

import numpy as np

from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.session import recorder as recorder_module
from desktop.session.recorder import TraceRecorder
from desktop.store import Store, spill
from tests.conftest import until
from tests.helpers.full_disk_end import NOTES
from tests.helpers.people import PLAIN


def _noise(n: int) -> np.ndarray:
    """Vacuum readings that compress poorly (a full disk must refuse them, not fit them in a page)."""
    return np.round(np.random.default_rng(n).uniform(10, 60, n), 2)


def _disk(full: bool):
    def limit(store):
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages if full else 2**31}")

    return limit


def test_disk_full_at_end_then_quit_restart_writes_every_sample_and_character(qtbot, tmp_path):
    db = tmp_path / "clinic.db"
    out = subprocess.run(
        [sys.executable, "-m", "tests.helpers.full_disk_end", str(db), "1.0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    sid_text, spilled = out.stdout.split()
    sid = int(sid_text)
    assert spilled.endswith(f"clinic.db.spill-{sid}.json")
    assert stat.S_IMODE((tmp_path / spilled.rsplit("/", 1)[-1]).stat().st_mode) == 0o600
    before = Store.open(db)
    assert before.session(sid).samples_recorded < 16_000  # the disk refused the rest
    before.close()

    # the next start (disk free again): the spill file is written before anything else
    store = Store.open(db)
    window = MainWindow(store, person=PLAIN)
    qtbot.addWidget(window)
    tr = store.load_trace(sid)
    assert len(tr["seq"]) == 16_000 and (np.diff(tr["seq"]) == 1).all()
    assert store.notes(sid)["notes"] == NOTES and len(NOTES) == 123
    assert [(m.t, m.label) for m in store.markers(sid)] == [(9.5, "left cheek")]
    assert spill.pending(db) == []
    window.close()
    store.close()


def test_disk_full_at_end_then_freed_while_running_writes_everything_and_removes_the_spill(
    store, monkeypatch
):
    monkeypatch.setattr(recorder_module, "STOP_RETRY_S", 0.5)
    cid = store.add_client(Client("Freed", "Later"))
    sid = store.create_session(cid, "t")
    rec = TraceRecorder(store.path, sid)
    seq = np.arange(5000)
    rec.run_now(_disk(full=True))
    rec.add_samples(seq, seq / 1000, _noise(5000), np.full(5000, 3, np.uint8))
    rec.save_notes({"notes": "typed at the end"})
    rec.call(lambda s: s.finish_session(sid, {"samples": 5000}, "t"))
    result = []
    rec.close_async(lambda ok, error: result.append((ok, error)))
    until(lambda: result)
    ok, error = result[0]
    assert not ok and "spill" in error and rec.spilled_to.exists()  # reported, kept, still trying
    rec.run_now(_disk(full=False))  # the disk frees while Abrasio runs
    until(lambda: rec.done)
    assert len(store.load_trace(sid)["seq"]) == 5000
    assert store.notes(sid)["notes"] == "typed at the end"
    assert store.session(sid).status == "completed"
    assert not rec.spilled_to.exists()


def test_replaying_a_spill_twice_writes_nothing_twice(store, monkeypatch):
    monkeypatch.setattr(recorder_module, "STOP_RETRY_S", 0.3)
    monkeypatch.setattr(recorder_module, "KEEP_TRYING_S", 0.5)
    cid = store.add_client(Client("Twice", "Replayed"))
    sid = store.create_session(cid, "t")
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    seq = np.arange(3000)
    rec.add_samples(seq, seq / 1000, _noise(3000), np.full(3000, 3, np.uint8))
    rec.add_marker(1, 1.0, "m")
    rec.save_alarm(2, {"priority": "low", "kind": "no_signal", "message": "m", "started": 1.5})
    result = []
    rec.close_async(lambda ok, error: result.append(ok))
    until(lambda: result)
    saved = rec.spilled_to.read_bytes()
    assert spill.replay_all(store) == [] and rec.spilled_to.exists()  # not while its writer still tries
    until(lambda: rec.done)  # it stops trying: the spill is left for the next start
    assert spill.replay_all(store) == []
    rec.spilled_to.write_bytes(saved)  # as if the process died between writing and deleting it
    assert spill.replay_all(store) == []
    assert len(store.load_trace(sid)["seq"]) == 3000
    assert len(store.markers(sid)) == 1 and len(store.alarms(sid)) == 1
