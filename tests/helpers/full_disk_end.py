"""A real Abrasio process whose disk is full when the session ends, and which then quits.

Run as ``python -m tests.helpers.full_disk_end DB RETRY_S``: records 1 s of samples, then the disk
fills (SQLite's max_page_count on the writer's connection), 15 s more samples, a marker and 123 typed
characters come, the session ends; once the recorder reports the end (after RETRY_S of refusals) it
prints ``<session id> <spill file>`` and the process exits with the disk still full.
"""

import os
import sys
import threading

import numpy as np

from desktop.records import Client
from desktop.session import recorder
from desktop.session.recorder import TraceRecorder
from desktop.store import Store

NOTES = "Tolerated well; mild erythema on both cheeks, settled in 20 minutes. " + "x" * 54  # 123 characters


def main(db: str, retry_s: str) -> None:
    recorder.STOP_RETRY_S = float(retry_s)
    store = Store.open(db)
    cid = store.add_client(Client("Spill", "AtTheEnd"))
    sid = store.create_session(cid, "full disk")
    store.close()
    rec = TraceRecorder(store.path, sid)
    seq = np.arange(16_000)
    t = seq / 1000.0
    vacuum = np.round(np.random.default_rng(5).uniform(10, 60, len(seq)), 2)  # noise: ~2 bytes a sample

    def add(a, b):
        rec.add_samples(seq[a:b], t[a:b], vacuum[a:b], np.full(b - a, 3, np.uint8))

    add(0, 1000)

    def full(s):
        pages = s.conn.execute("PRAGMA page_count").fetchone()[0]
        s.conn.execute(f"PRAGMA max_page_count = {pages}")

    rec.run_now(full)
    for k in range(1000, 16_000, 1000):  # 15 s of trace while the disk is full
        add(k, k + 1000)
    rec.add_marker(1, 9.5, "left cheek")
    rec.save_notes({"notes": NOTES, "erythema": "mild"})
    rec.call(lambda s: s.finish_session(sid, {"samples": 16_000}, "full disk"))
    ended = threading.Event()
    rec.close_async(lambda ok, error: ended.set())
    ended.wait(60)
    print(sid, rec.spilled_to, flush=True)
    os._exit(0)  # quit with the disk still full: the writer thread dies with the process


if __name__ == "__main__":
    main(*sys.argv[1:3])
