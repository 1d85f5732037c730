"""The session's writer thread: trace blocks, markers, alarms, notes and heartbeats go to disk here,
never on the GUI thread. It has its own SQLite connection (WAL lets the GUI read meanwhile).

Crash safety: samples are committed at least every ``FLUSH_S`` (0.5 s), notes as soon as they come
(the window sends them at most 1 s after the last keystroke), so a killed app loses at most ~0.5 s of
trace and ~1 s of typing.

A disk that refuses writes (full, failing): markers, alarms, notes and calls wait in one queue, in the
order they came, and each leaves it only once written, so nothing is written twice or out of order;
samples are held (up to ``MAX_PENDING``) and written when the disk takes them again. If it still
refuses ``STOP_RETRY_S`` after the end, what is held goes to a spill file beside the database
(``store.spill``), the end is reported, and the writer keeps trying while the app runs; the next start
writes whatever is left in a spill file.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from desktop.store import Store, StoreError, spill, trace
from desktop.store.errors import SQL_ERRORS

FLUSH_S = 0.5
BLOCK = 1000  # samples per stored block (about 1 s at 1,000 samples/s)
MAX_PENDING = 600_000  # samples kept in memory while the disk refuses writes (10 min at 1,000/s)
STOP_RETRY_S = 5.0  # at the end, how long to keep trying a refusing disk before giving up
KEEP_TRYING_S = 3600.0  # after that (what is held is in the spill file), how long to go on trying


class TraceRecorder:
    """``key``: the database key of the store that starts the session (``store.key``; None for a
    plaintext file): the writer's connection is made with it, and so is a spill file."""

    def __init__(self, db_path: Path, session_id: int, key: bytes | None = None):
        self.db_path = db_path
        self._key = key
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
        self._held: deque[tuple[str, object]] = deque()  # writes not yet on disk, in their order
        self._on_done: Callable[[bool, str | None], None] | None = None
        self._next_chunk = 0
        self.spilled_to: Path | None = None  # the spill file written at a refused end (store.spill)
        self._open_lock = threading.Lock()
        self._never_opened = False  # the writer could not open the database and has stopped
        self._thread = threading.Thread(target=self._run, name=f"recorder {session_id}", daemon=True)
        self._thread.start()

    # -- GUI side: never blocks -----------------------------------------------------------------
    def add_samples(self, seq: np.ndarray, t: np.ndarray, v: np.ndarray, flags: np.ndarray, lost: int = 0):
        if not self._thread.is_alive():  # the writer could not open the database: say so, hold nothing
            self.dropped += len(seq)
            return
        self._q.put(("samples", (seq, t, v, flags, lost)))

    def add_lost(self, lost: int) -> None:
        """Samples known to be missing (a gap across a replug), counted with the next write."""
        if lost:
            self._q.put(("samples", (None, None, None, None, lost)))

    def add_marker(self, key: int, t: float, label: str = "") -> None:
        self._q.put(("marker", (key, t, label)))

    def label_marker(self, key: int, label: str) -> None:
        self._q.put(("marker_label", (key, label)))

    def save_alarm(self, key: int, record: dict) -> None:
        self._q.put(("alarm", (key, record)))

    def save_notes(self, notes: dict) -> None:
        self._q.put(("notes", notes))

    def call(self, fn: Callable[[Store], object]) -> None:
        """Run ``fn(store)`` on the writer thread, in order with everything else (after the samples
        given so far are written)."""
        self._q.put(("call", fn))

    def run_now(self, fn: Callable[[Store], object]) -> None:
        """Run ``fn(store)`` on the writer thread as soon as it takes it, ahead of writes waiting for
        a refusing disk (tests fill and free the disk this way)."""
        self._q.put(("now", fn))

    def close_async(self, on_done: Callable[[bool, str | None], None] | None = None) -> None:
        """Flush everything and stop, without waiting: ``on_done(ok, error)`` is called on the writer
        thread once everything is on disk (ok) or the disk kept refusing for ``STOP_RETRY_S`` (at
        once, on this thread, if the writer could not open the database: nothing will be written)."""
        with self._open_lock:
            if not self._never_opened:
                self._q.put(("stop", on_done))
                return
        if on_done is not None:
            on_done(False, self.error)

    def close(self, timeout: float = 5.0) -> bool:
        """Flush everything and stop, waiting up to ``timeout``. False if not all of it is on disk."""
        self.close_async()
        self._thread.join(timeout)
        return not self._thread.is_alive() and self.error is None

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    # -- writer thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            # Not Store.open: its header check opens and closes the file outside SQLite, and closing
            # any descriptor of a file drops every POSIX lock this process holds on it (SQLite's
            # own connections included), which would let another process reset the WAL under us.
            store = Store.connect(self.db_path, key=self._key, sample_stream=True)
        except (StoreError, *SQL_ERRORS) as exc:
            self.error = str(exc)
            # Nobody will take a stop from the queue now: answer the ones already given (found by
            # mutation testing, issue #9: ending such a session never reported back), and close_async
            # answers later ones itself.
            with self._open_lock:
                self._never_opened = True
                stops = []
                while not self._q.empty():
                    kind, item = self._q.get_nowait()
                    if kind == "stop" and item is not None:
                        stops.append(item)
            for on_done in stops:
                on_done(False, self.error)
            return
        try:
            self._next_chunk = store.trace_chunk_count(self.session_id)
            last_flush = time.monotonic()
            stop_at: float | None = None
            while True:
                try:
                    kind, item = self._q.get(timeout=FLUSH_S / 2)
                except queue.Empty:
                    kind, item = "idle", None
                if kind == "samples":
                    self._buffer(*item)
                elif kind == "now":
                    try:
                        item(store)
                    except Exception as exc:
                        self.error = f"{type(exc).__name__}: {exc}"
                elif kind == "stop":
                    self._on_done = item
                    stop_at = time.monotonic()
                elif kind != "idle":
                    self._held.append((kind, item))
                try:
                    self._write_held(store)
                    if stop_at is not None or time.monotonic() - last_flush >= FLUSH_S:
                        last_flush = time.monotonic()
                        self._flush(store)
                    if not self._pending_n:
                        self.error = None  # everything refused before has now been written
                except Exception as exc:  # a full or failing disk: keep everything, retry, say so
                    self.error = f"{type(exc).__name__}: {exc}"
                    self._bound()
                if stop_at is not None:
                    if self.error is None:
                        spill.discard(self.db_path, self.session_id)  # all written after all
                        return
                    if self.spilled_to is None and time.monotonic() - stop_at >= STOP_RETRY_S:
                        self._spill()  # the disk still refuses: keep it beside the database…
                        self._finish(False)  # …say so now, and go on trying while the app runs
                    elif time.monotonic() - stop_at >= STOP_RETRY_S + KEEP_TRYING_S:
                        spill.release(self.db_path, self.session_id)
                        return  # the spill file stays for the next start
        finally:
            store.close()
            self._finish(self.error is None and not self._held and not self._pending_n)

    def _finish(self, ok: bool) -> None:
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done(ok, self.error)

    def _spill(self) -> None:
        """Held samples and writes into the spill file beside the database (store.spill); the next
        start writes them if this process cannot. If the disk refuses that too, they stay held."""
        blocks = self._blocks()
        try:
            self.spilled_to = spill.write(
                self.db_path,
                self.session_id,
                blocks,
                self._lost,
                list(self._held),
                dict(self._ids),
                key=self._key,
            )
        except OSError as exc:
            self.error = f"{self.error}; not spilled either ({exc.strerror}): held while Abrasio runs"
            return
        self.error = (
            f"{self.error} — kept in {self.spilled_to.name} beside the database, written as soon as the "
            "disk takes it (at the latest when Abrasio next starts)"
        )

    def _blocks(self) -> list[trace.TraceBlock]:
        if not self._pending_n:
            return []
        seq, t = np.concatenate(self._seq), np.concatenate(self._t)
        v, f = np.concatenate(self._v), np.concatenate(self._f)
        return [
            trace.pack(seq[i : i + BLOCK], t[i : i + BLOCK], v[i : i + BLOCK], f[i : i + BLOCK])
            for i in range(0, len(seq), BLOCK)
        ]

    def _buffer(self, seq, t, v, f, lost) -> None:
        self._lost += lost
        if seq is None or not len(seq):
            return
        self._seq.append(seq)
        self._t.append(t)
        self._v.append(v)
        self._f.append(f)
        self._pending_n += len(seq)

    def _write_held(self, store: Store) -> None:
        """Markers, alarms, notes and calls in their order; each leaves the queue once written, so a
        failure stops here and the same write is tried again next time (never twice on disk)."""
        held = self._held
        while held:
            kind, item = held[0]
            if kind == "call":
                self._flush(store)  # what a call sees (the end of the session) includes every sample
            self._handle(store, kind, item)
            held.popleft()

    def _handle(self, store: Store, kind: str, item) -> None:
        if kind == "marker":
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

    def _bound(self) -> None:
        """While writes fail, keep at most MAX_PENDING samples; count what has to go."""
        while self._pending_n > MAX_PENDING and len(self._seq) > 1:
            n = len(self._seq.pop(0))
            self._t.pop(0)
            self._v.pop(0)
            self._f.pop(0)
            self._pending_n -= n
            self.dropped += n

    def _flush(self, store: Store) -> None:
        if not self._pending_n:
            if self._lost:
                store.append_trace(self.session_id, self._next_chunk, [], self._lost)
                self._lost = 0
            else:
                store.heartbeat(self.session_id)
            return
        blocks = self._blocks()
        store.append_trace(self.session_id, self._next_chunk, blocks, self._lost)
        self._next_chunk += len(blocks)
        self.written += self._pending_n
        self._seq, self._t, self._v, self._f = [], [], [], []
        self._pending_n = 0
        self._lost = 0
