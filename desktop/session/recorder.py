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
_DATA = ("marker", "marker_label", "alarm", "notes")  # writes retried, in order, if the disk refuses them
MAX_PENDING = 600_000  # samples kept in memory while the disk refuses writes (10 min at 1,000/s)


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
        self.dropped = 0  # samples given up on: the disk refused them for longer than MAX_PENDING
        self.error: str | None = None  # the current write failure, for the window to show; None when well
        self._ids: dict[tuple[str, int], int] = {}
        self._retry: list[tuple[str, object]] = []  # writes refused by the disk, to try again
        self._flush_failed = False  # the last attempt to write the trace was refused
        self._next_chunk = 0
        self._thread = threading.Thread(target=self._run, name=f"recorder {session_id}", daemon=True)
        self._thread.start()

    # -- GUI side: never blocks -----------------------------------------------------------------
    def add_samples(self, seq: np.ndarray, t: np.ndarray, v: np.ndarray, flags: np.ndarray, lost: int = 0):
        if not self._thread.is_alive():  # the writer could not open the database: say so, hold nothing
            self.dropped += len(seq)
            return
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
            store = Store.connect(self.db_path, sample_stream=True)
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
                try:
                    self._replay(store)
                except Exception as exc:  # still refused: they wait; the current item goes on
                    self.error = f"{type(exc).__name__}: {exc}"
                try:
                    if kind == "stop":
                        self._flush(store, final=True)
                        return
                    if kind in _DATA and self._retry:
                        self._retry.append((kind, item))  # keep the order behind what waits
                    else:
                        self._handle(store, kind, item)
                    if time.monotonic() - last_flush >= FLUSH_S:
                        last_flush = time.monotonic()
                        self._flush(store)
                    if not self._retry and not self._flush_failed:
                        self.error = None  # everything refused before has now been written
                except Exception as exc:  # a full or failing disk: keep everything, retry, say so
                    self.error = f"{type(exc).__name__}: {exc}"
                    if kind in _DATA and (kind, item) not in self._retry:
                        self._retry.append((kind, item))
                    self._bound()
                    if kind == "stop":
                        return
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

    def _replay(self, store: Store) -> None:
        """Markers, alarms and notes the disk refused earlier, in their order; stops at a failure."""
        while self._retry:
            kind, item = self._retry[0]
            self._handle(store, kind, item)
            self._retry.pop(0)

    def _bound(self) -> None:
        """While writes fail, keep at most MAX_PENDING samples; count what has to go."""
        while self._pending_n > MAX_PENDING and len(self._seq) > 1:
            n = len(self._seq.pop(0))
            self._t.pop(0)
            self._v.pop(0)
            self._f.pop(0)
            self._pending_n -= n
            self.dropped += n

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
        try:
            store.append_trace(self.session_id, self._next_chunk, blocks, self._lost)
        except Exception:
            self._flush_failed = True
            raise
        self._flush_failed = False
        self._next_chunk += len(blocks)
        self.written += len(seq)
        self._seq, self._t, self._v, self._f = [], [], [], []
        self._pending_n = 0
        self._lost = 0
