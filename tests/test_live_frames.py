"""The live graph's frames: paced by what is new, and free of per-frame arrays the size of the graph
(a window drawing 60 times a second must not churn the allocator)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from desktop.records import Client

WAIT = 10_000


def _live_with_30_s_of_samples(qtbot, window, store):
    cid = store.add_client(Client("Frame", "Rate", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(cid, "t", set_point_kpa=22.0, ceiling_kpa=30.0, areas=["chin"])
    live = window._open_live(sid, {"url": "sim://?rate=200&auto=0&seed=3"})
    qtbot.waitExposed(live)
    return live


def test_a_frame_allocates_nothing_the_size_of_the_graph(qtbot, window, store):
    live = _live_with_30_s_of_samples(qtbot, window, store)
    live.timer.stop()
    live.run.stop()
    live.run.link.close()
    now = live.run.now()
    t = now - 30.0 + np.arange(30_000) / 1000.0  # 30 s at 1,000/s: 240 KB an array
    live.run.ring.push(t, 20 + 5 * np.sin(t))
    live.frame()
    assert len(live.curve.xData) <= 2 * live.plot.width()  # two points a pixel column, not 30,000
    tracemalloc.start()
    try:
        for _ in range(5):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            live.frame()
            peak = tracemalloc.get_traced_memory()[1] - before
            assert peak < 100_000, f"a frame allocated {peak} bytes at once"
    finally:
        tracemalloc.stop()
    assert float(live.snap.x[-1]) <= 0 and len(live.snap.x) >= 30_000 - 1


def test_a_tick_draws_at_once_when_something_is_new_and_only_at_the_idle_rate_otherwise(qtbot, window, store):
    """The frame pacing, on a fake clock: new samples or alarms are drawn at the next 16 ms tick (sample
    to screen is one frame); with nothing new, a frame every IDLE_MS only (the trace scrolls, the clock
    runs) — not 60 a second for nothing. Figures refresh at most every WORDS_MS, an alarm's at once."""
    from types import SimpleNamespace

    from desktop.session import live as live_module

    live = _live_with_30_s_of_samples(qtbot, window, store)
    live.timer.stop()
    live.run.stop()
    live.run.link.close()
    clock = [1000.0]
    fake = SimpleNamespace(version=(1, 0), step=lambda: None)
    drawn: list[bool] = []
    real_run, real_time = live.run, live_module.time

    def frame(words: bool = True) -> None:  # the drawing itself is the other tests' business
        drawn.append(words)
        if words:
            live._words_at = clock[0]

    live.frame = frame
    live.run, live_module.time = fake, SimpleNamespace(monotonic=lambda: clock[0])
    try:

        def tick(dt: float) -> None:
            clock[0] += dt
            live._tick()

        tick(0.016)
        assert len(drawn) == 1  # the first tick draws
        tick(0.016)
        tick(0.016)
        assert len(drawn) == 1  # nothing new, inside IDLE_MS: no frame
        fake.version = (2, 0)  # samples arrived
        tick(0.016)
        assert len(drawn) == 2 and drawn[-1] is False  # drawn at once; the figures wait for WORDS_MS
        fake.version = (2, 1)  # an alarm changed
        tick(0.016)
        assert len(drawn) == 3 and drawn[-1] is True  # drawn at once, with its words
        idle = live_module.IDLE_MS / 1000
        tick(idle - 0.017)
        assert len(drawn) == 3
        tick(0.018)
        assert len(drawn) == 4  # nothing new for IDLE_MS: one frame, so the trace still scrolls
        fake.version = (3, 1)
        tick(live_module.WORDS_MS / 1000 + 0.001)
        assert drawn[-1] is True  # samples after WORDS_MS: the figures are refreshed too
    finally:
        live.run, live_module.time = real_run, real_time
