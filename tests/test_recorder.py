"""The session writer on a real file whose disk fills up (SQLite's max_page_count) and frees again."""

from __future__ import annotations

import numpy as np

from desktop.records import Client
from desktop.session.recorder import TraceRecorder
from tests.conftest import until


def _disk(full: bool):
    def limit(store):
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages if full else 2**31}")

    return limit


def test_everything_refused_by_a_full_disk_is_written_in_order_once_it_frees(store):
    cid = store.add_client(Client("Disk", "Full"))
    sid = store.create_session(cid, "test")
    rec = TraceRecorder(store.path, sid)
    seq = np.arange(2000)
    rec.add_samples(seq[:1000], seq[:1000] / 1000, np.full(1000, 25.0), np.full(1000, 3, np.uint8))
    until(lambda: rec.written == 1000)

    rec.run_now(_disk(full=True))
    rec.add_marker(1, 1.5, "a label far too long for the pages left " + "x" * 200_000)
    rec.save_alarm(7, {"priority": "low", "kind": "no_signal", "message": "m", "started": 1.6})
    rec.add_samples(seq[1000:], seq[1000:] / 1000, np.full(1000, 26.0), np.full(1000, 3, np.uint8))
    until(lambda: rec.error is not None and "full" in rec.error)
    rec.run_now(_disk(full=False))  # runs at once: not queued behind the refused writes
    until(lambda: rec.error is None and rec.written == 2000)
    assert rec.close()
    assert rec.dropped == 0
    assert [m.label[:10] for m in store.markers(sid)] == ["a label fa"]
    assert [a.kind for a in store.alarms(sid)] == ["no_signal"]
    assert len(store.load_trace(sid)["seq"]) == 2000
