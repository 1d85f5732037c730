"""The session's writer thread: trace blocks, markers, alarms, notes and heartbeats go to disk here,
never on the GUI thread. It has its own SQLite connection (WAL lets the GUI read meanwhile).

Crash safety: samples are committed at least every ``FLUSH_S`` (0.5 s), notes as soon as they come
(the window sends them at most 1 s after the last keystroke), so a killed app loses at most ~0.5 s of
trace and ~1 s of typing.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from desktop.store import Store, StoreError, trace

FLUSH_S = 0.5
BLOCK = 1000  # samples per stored block (about 1 s at 1,000 samples/s)


class TraceRecorder:
    def __init__(self, db_path: Path, session_id: int):
        self.db_path = db_path
        self.session_id = session_id
        self._q: queue.Queue = queue.Queue()
        self._seq: list[np.ndarray] = []
        self._t: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._f: list[np.ndarray] = []
        self._pending_n = 0
        self._lost = 0
        self.written = 0  # samples committed
        self.error: str | None = None  # the last write failure, for the window to show
        self._ids: dict[tuple[str, int], int] = {}
        self._next_chunk = 0
        self._thread = threading.Thread(target=self._run, name=f"recorder {session_id}", daemon=True)
        self._thread.start()

    # -- GUI side: never blocks -----------------------------------------------------------------
    def add_samples(self, seq: np.ndarray, t: np.ndarray, v: np.ndarray, flags: np.ndarray, lost: int = 0):
        self._q.put(("samples", (seq, t, v, flags, lost)))

    def add_marker(self, key: int, t: float, label: str = "") -> None:
        self._q.put(("marker", (key, t, label)))

    def label_marker(self, key: int, label: str) -> None:
        self._q.put(("marker_label", (key, label)))

    def save_alarm(self, key: int, record: dict) -> None:
        self._q.put(("alarm", (key, record)))

    def save_notes(self, notes: dict) -> None:
        self._q.put(("notes", notes))

    def call(self, fn: Callable[[Store], object]) -> None:
        """Run ``fn(store)`` on the writer thread, in order with everything else."""
        self._q.put(("call", fn))

    def close(self, timeout: float = 5.0) -> bool:
        """Flush everything and stop. Returns False if the thread did not finish in time."""
        self._q.put(("stop", None))
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- writer thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            # Not Store.open: its header check opens and closes the file outside SQLite, and closing
            # any descriptor of a file drops every POSIX lock this process holds on it (SQLite's
            # own connections included), which would let another process reset the WAL under us.
            store = Store.connect(self.db_path)
        except (StoreError, sqlite3.Error) as exc:
            self.error = str(exc)
            return
        self._next_chunk = store.trace_chunk_count(self.session_id)
        last_flush = time.monotonic()
        try:
            while True:
                try:
                    kind, item = self._q.get(timeout=FLUSH_S / 2)
                except queue.Empty:
                    kind, item = "idle", None
                if kind == "stop":
                    self._flush(store, final=True)
                    return
                try:
                    self._handle(store, kind, item)
                    if time.monotonic() - last_flush >= FLUSH_S:
                        self._flush(store)
                        last_flush = time.monotonic()
                except (StoreError, OSError, Exception) as exc:  # keep recording; say so
                    self.error = f"{type(exc).__name__}: {exc}"
        finally:
            store.close()

    def _handle(self, store: Store, kind: str, item) -> None:
        if kind == "samples":
            seq, t, v, f, lost = item
            self._seq.append(seq)
            self._t.append(t)
            self._v.append(v)
            self._f.append(f)
            self._pending_n += len(seq)
            self._lost += lost
        elif kind == "marker":
            key, t, label = item
            self._ids[("marker", key)] = store.add_marker(self.session_id, t, label)
        elif kind == "marker_label":
            key, label = item
            if ("marker", key) in self._ids:
                store.label_marker(self._ids[("marker", key)], label)
        elif kind == "alarm":
            key, record = item
            rid = self._ids.get(("alarm", key))
            self._ids[("alarm", key)] = store.save_alarm(
                self.session_id, {"id": rid, **record} if rid else record
            )
        elif kind == "notes":
            store.save_notes(self.session_id, item)
        elif kind == "call":
            item(store)

    def _flush(self, store: Store, final: bool = False) -> None:
        if not self._pending_n:
            if not final:
                store.heartbeat(self.session_id)
            return
        seq, t = np.concatenate(self._seq), np.concatenate(self._t)
        v, f = np.concatenate(self._v), np.concatenate(self._f)
        blocks = [
            trace.pack(seq[i : i + BLOCK], t[i : i + BLOCK], v[i : i + BLOCK], f[i : i + BLOCK])
            for i in range(0, len(seq), BLOCK)
        ]
        store.append_trace(self.session_id, self._next_chunk, blocks, self._lost)
        self._next_chunk += len(blocks)
        self.written += len(seq)
        self._seq, self._t, self._v, self._f = [], [], [], []
        self._pending_n = 0
        self._lost = 0
