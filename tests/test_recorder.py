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


def _session(store) -> int:
    return store.create_session(store.add_client(Client("Rec", "Order")), "test")


def _samples(rec, first: int, n: int, v: float = 25.0, lost: int = 0) -> None:
    seq = np.arange(first, first + n)
    rec.add_samples(seq, seq / 1000, np.full(n, v), np.full(n, 3, np.uint8), lost)


def test_held_writes_keep_their_order_and_none_is_written_twice(store):
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    _samples(rec, 0, 500)
    until(lambda: rec.written == 500)
    rec.run_now(_disk(full=True))
    rec.add_marker(1, 0.1, "first " + "x" * 200_000)  # more than the pages left: refused
    alarm = {"priority": "high", "kind": "over_ceiling", "message": "m", "started": 0.2}
    rec.save_alarm(1, alarm)
    rec.label_marker(1, "first, relabelled")
    rec.label_marker(9, "a marker that never was")  # ignored, not an error
    rec.save_alarm(
        1, {"priority": "high", "kind": "over_ceiling", "message": "m", "started": 0.2, "ended": 0.4}
    )
    rec.save_notes({"notes": "one"})
    rec.add_marker(2, 0.3, "second")
    rec.save_notes({"notes": "two"})
    _samples(rec, 500, 500)  # and a trace flush that fails in the same passes
    seen: list = []
    rec.call(
        lambda s: seen.append((len(s.markers(sid)), s.notes(sid)["notes"], len(s.load_trace(sid)["seq"])))
    )
    until(lambda: rec.error is not None)
    rec.run_now(_disk(full=False))
    until(lambda: seen)
    assert rec.close() and rec.error is None
    assert seen == [(2, "two", 1000)]  # a call runs after everything given before it, samples included
    assert [(m.t, m.label) for m in store.markers(sid)] == [(0.1, "first, relabelled"), (0.3, "second")]
    (alarm,) = store.alarms(sid)  # saved twice: one row, updated
    assert alarm.ended == 0.4
    assert store.notes(sid)["notes"] == "two"
    assert len(store.load_trace(sid)["seq"]) == 1000


def test_lost_samples_are_counted_with_or_without_samples(store):
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.add_lost(0)
    rec.add_lost(12)  # across a replug: no samples with it
    until(lambda: store.session(sid).samples_lost == 12)
    _samples(rec, 0, 10, lost=3)
    assert rec.close()
    s = store.session(sid)
    assert (s.samples_recorded, s.samples_lost) == (10, 15)


def test_an_idle_recorder_keeps_the_heartbeat(store, monkeypatch):
    sid = _session(store)
    store.conn.execute("UPDATE treatment_sessions SET heartbeat_at = 'then' WHERE id = ?", [sid])
    store.conn.commit()
    rec = TraceRecorder(store.path, sid)
    until(lambda: store.session(sid).heartbeat_at != "then")
    assert rec.close()


def test_a_disk_full_for_too_long_drops_the_oldest_samples_and_says_so(store, monkeypatch):
    monkeypatch.setattr("desktop.session.recorder.MAX_PENDING", 30_000)
    monkeypatch.setattr("desktop.session.recorder.STOP_RETRY_S", 0.3)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    rng = np.random.default_rng(1)  # noise: it does not compress into the pages left
    for k in range(4):
        seq = np.arange(k * 20_000, (k + 1) * 20_000)
        rec.add_samples(seq, seq / 1000, rng.uniform(0, 90, 20_000), np.full(20_000, 3, np.uint8))
    until(lambda: rec.dropped == 60_000)  # the oldest go first, never the newest block
    results: list = []
    rec.close_async(lambda ok, error: results.append((ok, error)))
    until(lambda: results)
    ((ok, error),) = results
    assert ok is False and "full" in error  # the end reported, saying why…
    assert store.session(sid).samples_recorded == 0
    assert rec.spilled_to is not None and "spill" in error  # …and what is held kept beside the file
    rec.run_now(_disk(full=False))  # it keeps trying while the app runs: the disk frees
    until(lambda: rec.done)
    tr = store.load_trace(sid)
    assert tr["seq"][0] == 60_000 and len(tr["seq"]) == 20_000  # the newest block, the oldest dropped
    assert not rec.spilled_to.exists()


def test_a_database_the_writer_cannot_open_is_said_and_nothing_is_held(tmp_path):
    bad = tmp_path / "no such folder" / "x.db"
    rec = TraceRecorder(bad, 1)
    until(lambda: rec.done)
    assert "unable to open" in rec.error
    _samples(rec, 0, 10)
    _samples(rec, 10, 5)
    assert rec.dropped == 15  # counted, every batch
    results: list = []
    rec.close_async(lambda ok, error: results.append((ok, error)))
    assert results == [(False, rec.error)]  # answered, not left waiting (it never was, before #9)
    assert not rec.close(timeout=0.1)


def test_a_stop_given_while_the_writer_fails_to_open_is_answered(tmp_path, monkeypatch):
    """Catches a stop queued before the writer found it cannot open the database being lost: the
    session's end would never report back."""
    import threading

    from desktop.store import Store

    opening = threading.Event()
    real_connect = Store.connect

    def slow_connect(*args, **kw):
        opening.wait(5)
        return real_connect(*args, **kw)

    monkeypatch.setattr(Store, "connect", slow_connect)
    rec = TraceRecorder(tmp_path / "no such folder" / "x.db", 1)
    results: list = []
    rec.add_marker(1, 0.5, "queued while it is opening, as is the stop")  # not a stop: left alone
    rec.close_async(lambda ok, error: results.append((ok, error)))  # queued while it is opening
    opening.set()
    until(lambda: results)
    ((ok, error),) = results
    assert ok is False and "unable to open" in error


def _noise(rec, first: int, n: int, rng, flags: int = 3) -> np.ndarray:
    seq = np.arange(first, first + n)
    v = np.round(rng.uniform(0, 90, n), 2)  # noise: it does not compress into the pages left
    rec.add_samples(seq, seq / 1000, v, np.full(n, flags, np.uint8))
    return v


def test_a_full_disk_drops_whole_oldest_batches_only_beyond_the_limit_and_keeps_them_aligned(
    store, monkeypatch
):
    """Catches the memory bound dropping too much (down to one batch, or at exactly the limit),
    counting wrong, or dropping the times, readings and flags of another batch than the sequence
    numbers (the kept trace would be misaligned)."""
    monkeypatch.setattr("desktop.session.recorder.MAX_PENDING", 30_000)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    rng = np.random.default_rng(2)
    vs = [_noise(rec, k * 10_000, 10_000, rng, flags=k) for k in range(5)]
    until(lambda: rec.error is not None and rec.dropped == 20_000)
    rec.run_now(_disk(full=False))
    assert rec.close()
    assert rec.dropped == 20_000  # 50,000 held against a limit of 30,000: the two oldest batches
    tr = store.load_trace(sid)
    assert tr["seq"].tolist() == list(range(20_000, 50_000))
    assert np.allclose(tr["t"], tr["seq"] / 1000, rtol=0, atol=5e-7)
    assert np.allclose(tr["vacuum"], np.concatenate(vs[2:]), rtol=0, atol=1e-9)
    assert tr["flags"].tolist() == [2] * 10_000 + [3] * 10_000 + [4] * 10_000


def test_a_single_batch_larger_than_the_limit_is_kept(store, monkeypatch):
    """Catches the bound dropping the newest (only) batch: what just arrived is always kept."""
    monkeypatch.setattr("desktop.session.recorder.MAX_PENDING", 30_000)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 40_000, np.random.default_rng(3))
    until(lambda: rec.error is not None)
    rec.run_now(_disk(full=False))
    assert rec.close()
    assert rec.dropped == 0 and len(store.load_trace(sid)["seq"]) == 40_000


def test_the_spill_file_keeps_the_lost_count_and_the_end_says_where_it_is(store, monkeypatch):
    """Catches the spill file losing the count of samples lost, and the end's words about it."""
    import json

    monkeypatch.setattr("desktop.session.recorder.STOP_RETRY_S", 0.3)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 20_000, np.random.default_rng(4))
    rec.add_lost(5)
    results: list = []
    rec.close_async(lambda ok, error: results.append((ok, error)))
    until(lambda: results)
    ((ok, error),) = results
    assert ok is False and error.endswith(
        f" — kept in {rec.spilled_to.name} beside the database, written as soon as the disk takes it "
        "(at the latest when Abrasio next starts)"
    )
    assert json.loads(rec.spilled_to.read_bytes())["lost"] == 5
    rec.run_now(_disk(full=False))
    until(lambda: rec.done)
    assert store.session(sid).samples_lost == 5


def test_a_spill_file_the_disk_refuses_too_is_said_and_everything_stays_held(store, monkeypatch):
    """Catches a failed spill clearing the error: the writer would stop as if all were written, and
    the held samples would be lost."""
    from desktop.store import spill

    def refuse(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("desktop.session.recorder.STOP_RETRY_S", 0.3)
    monkeypatch.setattr(spill, "write", refuse)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 20_000, np.random.default_rng(5))
    results: list = []
    rec.close_async(lambda ok, error: results.append((ok, error)))
    until(lambda: results)
    ((ok, error),) = results
    assert not ok and "not spilled either (No space left on device): held while Abrasio runs" in error
    assert not rec.done  # still holding, still trying
    rec.run_now(_disk(full=False))
    until(lambda: rec.done)
    assert len(store.load_trace(sid)["seq"]) == 20_000


def test_losses_given_while_the_disk_refuses_add_up(store):
    """Catches losses overwritten instead of added while they wait for the disk."""
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 20_000, np.random.default_rng(6))
    rec.add_lost(4)
    rec.add_lost(6)
    until(lambda: rec.error is not None)
    rec.run_now(_disk(full=False))
    assert rec.close()
    assert store.session(sid).samples_lost == 10


def test_close_gives_up_waiting_after_its_timeout_while_the_disk_refuses(store):
    """Catches close() waiting for the writer without its timeout: the app would hang on exit while
    the disk is full."""
    import time

    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 20_000, np.random.default_rng(7))
    until(lambda: rec.error is not None)
    began = time.monotonic()
    assert rec.close(timeout=0.3) is False
    assert time.monotonic() - began < 2.0
    rec.run_now(_disk(full=False))
    until(lambda: rec.done)


def test_the_writer_is_a_daemon_committing_with_synchronous_normal(store):
    """Catches the writer thread made non-daemon (an app closed while the disk refuses would wait
    up to an hour for it) and its connection committing with synchronous=FULL (an fsync per commit:
    the 1,000 samples/s stream's cost, measured by the benchmarks)."""
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    got: list = []
    rec.run_now(lambda s: got.append(s.conn.execute("PRAGMA synchronous").fetchone()[0]))
    until(lambda: got)
    assert rec._thread.daemon and got == [1]  # 1: NORMAL
    assert rec.close()


def test_a_second_writer_on_a_session_appends_after_its_trace(store):
    """Catches the chunk count read for another session (or none): a second writer on the same
    session (a segment after a restart of the app's recorder) would number its blocks from 0."""
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    _samples(rec, 0, 2500)
    assert rec.close()
    rec = TraceRecorder(store.path, sid)
    _samples(rec, 2500, 1500)
    assert rec.close()
    assert store.load_trace(sid)["seq"].tolist() == list(range(4000))


def test_batches_arriving_between_commits_are_packed_into_full_blocks(store):
    """Catches a commit after every batch (the engine hands over a batch every step): the trace
    would be stored as hundreds of small blocks instead of one per ~1,000 samples (the storage cost
    of ~1.5-2 bytes a sample assumes full blocks)."""
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    for k in range(100):
        _samples(rec, k * 10, 10)
    assert rec.close()
    assert len(store.load_trace(sid)["seq"]) == 1000
    assert store.trace_chunk_count(sid) <= 3  # one commit or two, maybe three: not 100


def test_a_call_sees_every_sample_given_before_it(store, monkeypatch):
    """Catches the flush before a call skipped (or done before other writes instead): the session's
    end (a call) would store a summary before the last samples were on disk. No timed flush here
    (FLUSH_S made long), so only the call's own flush can have written them."""
    monkeypatch.setattr("desktop.session.recorder.FLUSH_S", 60.0)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    _samples(rec, 0, 10)
    seen: list = []
    rec.call(lambda s: seen.append(len(s.load_trace(sid)["seq"])))
    until(lambda: seen)
    assert seen == [10]
    assert rec.close()


def test_flushes_of_different_sizes_number_their_blocks_on_and_lose_nothing(store):
    """Catches the chunk counter set to the last flush's block count (or counted down), which
    would number later blocks over earlier ones, and a lost count left at 1 after a flush."""
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    done: list = []
    for first, n in ((0, 2500), (2500, 500), (3000, 1500), (4500, 200)):
        _samples(rec, first, n)
        rec.call(lambda s: done.append(1))  # a call flushes what came before it
    until(lambda: len(done) == 4)
    assert rec.close()
    assert store.load_trace(sid)["seq"].tolist() == list(range(4700))
    assert store.session(sid).samples_lost == 0 and store.trace_chunk_count(sid) == 3 + 1 + 2 + 1


def test_a_disk_that_frees_within_the_retry_time_ends_the_session_well(store):
    """Catches the end giving up on a refusing disk at once instead of retrying for STOP_RETRY_S:
    a disk freed a moment later takes everything, and the end says so."""
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 20_000, np.random.default_rng(8))
    until(lambda: rec.error is not None)
    results: list = []
    rec.close_async(lambda ok, error: results.append((ok, error)))
    rec.run_now(_disk(full=False))  # within the 5 s the end keeps trying
    until(lambda: results)
    assert results == [(True, None)] and rec.spilled_to is None
    assert len(store.load_trace(sid)["seq"]) == 20_000


def test_after_keeping_on_trying_the_writer_leaves_its_spill_file_for_the_next_start(store, monkeypatch):
    """Catches the spill file not released when the writer stops trying: it would stay marked as a
    live writer's, and this run of Abrasio would not write it back."""
    from desktop.store import spill

    monkeypatch.setattr("desktop.session.recorder.STOP_RETRY_S", 0.2)
    monkeypatch.setattr("desktop.session.recorder.KEEP_TRYING_S", 0.3)
    sid = _session(store)
    rec = TraceRecorder(store.path, sid)
    rec.run_now(_disk(full=True))
    _noise(rec, 0, 20_000, np.random.default_rng(9))
    rec.close_async()
    until(lambda: rec.done)
    assert rec.spilled_to is not None and rec.spilled_to.exists()
    assert rec.spilled_to not in spill._live
