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


def test_frames_follow_the_samples(qtbot, window, store):
    """Samples arriving: about 60 frames a second; none arriving: a third of that."""
    live = _live_with_30_s_of_samples(qtbot, window, store)
    frames = []
    frame = live.frame

    def counted(*args, **kwargs):
        frames.append(live.run.samples_received)
        frame(*args, **kwargs)

    live.frame = counted
    qtbot.waitUntil(lambda: live.samples_received > 0, timeout=WAIT)
    frames.clear()
    qtbot.wait(1000)  # a rate: frames over one second (no condition to wait on)
    moving = len(frames)
    live.run.stop()
    live.run.link.close()  # nothing new any more
    qtbot.wait(300)
    frames.clear()
    qtbot.wait(1000)
    still = len(frames)
    assert moving >= 40, moving  # ~62 on an idle machine; a loaded one drops some
    assert still <= 25, still  # 20 a second: the trace scrolls, the clock runs
