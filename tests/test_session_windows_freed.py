"""(Named to run before test_wheel.py, whose in-process app start-up and quit leaves QEventLoop-based
waits returning at once for every GUI test after it — reported to the lead.)

Closed session windows are deleted and freed: nothing (main window, timers, signal lambdas, plot
items, threads) keeps them alive. The method of pyqtgraph's tests/test_ref_cycles.py: weak references,
deferred deletes processed, garbage collected, every reference dead."""

from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QCoreApplication, QEvent

from desktop.records import Client
from desktop.session.review import SessionReviewWindow

WAIT = 10_000


def _collect() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def _session_windows_used_and_closed(qtbot, window, store) -> dict[str, weakref.ref]:
    """A live session with a marker and an alarm, ended; its review opened, loaded, closed."""
    cid = store.add_client(Client("Free", "Me", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(
        cid, "t", set_point_kpa=22.0, ceiling_kpa=30.0, areas=["chin"], planned_passes=3
    )
    live = window._open_live(sid, {"url": "sim://?rate=500&auto=0&seed=3"})
    qtbot.waitUntil(lambda: live.samples_received > 200, timeout=WAIT)
    live.drop_marker("m")
    live.run.check_passes({"chin": 9})  # an alarm: a region item on the plot
    live.frame()  # drawn now (not left to the frame timer: this test is about what is freed)
    assert len(live._alarm_regions) == 1 and len(live._marker_items) == 1
    refs = {
        "live": weakref.ref(live),
        "plot": weakref.ref(live.plot),
        "curve": weakref.ref(live.curve),
        "run": weakref.ref(live.run),
        "link": weakref.ref(live.run.link),
        "recorder": weakref.ref(live.run.recorder),
        "notes": weakref.ref(live.notes_panel),
        "alarm model": weakref.ref(live.alarm_model),
    }
    with qtbot.waitSignal(live.finished, timeout=WAIT):
        live.end_session()
    qtbot.waitUntil(lambda: window.findChild(SessionReviewWindow) is not None, timeout=WAIT)
    review = window.findChild(SessionReviewWindow)
    qtbot.waitUntil(lambda: review.trace is not None, timeout=WAIT)
    refs |= {"review": weakref.ref(review), "review plot": weakref.ref(review.plot)}
    assert window.session_windows == []
    review.close()
    return refs


def test_closed_live_and_review_windows_are_freed(qtbot, window, store):
    refs = _session_windows_used_and_closed(qtbot, window, store)

    def all_freed() -> bool:
        _collect()
        return all(r() is None for r in refs.values())

    qtbot.waitUntil(all_freed, timeout=WAIT)
    assert [name for name, r in refs.items() if r() is not None] == []
