"""Everything the benchmarks know about the live session's insides, in one place.

The live window is a view of a ``SessionRun`` (desktop/session/run.py): the run evaluates samples on
its own thread, the window draws the run's snapshot up to 60 times a second. The measures drive and observe
both only through ``LiveAdapter``, so when either changes this file follows and the measures stay as
they are. What a measure needs:

* samples as they enter the session (``on_samples``), with their device time (on the run's thread);
* the moment the plot has been painted, and the device time of the newest sample it shows
  (``on_plot_painted``): "on screen" means painted into the window's backing store;
* the moment the alarm bar has been painted showing an alarm, and each sound the window requests;
* the alarm engine's thresholds and its last stroke (for the dwell reference);
* feeding samples straight in with a clock of its own, drawing, ending and closing the session.
"""

from __future__ import annotations

import time
import weakref

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

ACTIVE_HIGH_TEXT = "Vacuum above"  # the banner of an active over-ceiling alarm (a latched one differs)
DWELL_TEXT = "held still"
NO_SIGNAL_TEXT = "No signal"


class FakeClock:
    """A session clock the measure moves (redraw and the accelerated long session)."""

    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class _PaintTimer(QObject):
    """Paints the watched widget itself (so the time after the paint is known), then reports."""

    def __init__(self, widget, paint, after):
        super().__init__(widget)
        self._paint, self._after = paint, after
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self._paint(event)
            self._after(time.monotonic())
            return True
        return False


class LiveAdapter:
    def __init__(self, window):
        self.window = window
        self.run = window.run
        self._newest_drawn_x: float | None = None
        self._paint_cbs: list = []

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, store, session_id: int, url: str, parent=None, clock=None) -> LiveAdapter:
        from desktop.session.live import LiveSessionWindow

        kw = {"clock": clock} if clock is not None else {}
        spec = {"url": url, "format": "abrasio"}
        win = LiveSessionWindow(store, session_id, spec, lambda: "bench", parent=parent, **kw)
        win.show()
        return cls(win)

    @staticmethod
    def window_classes() -> tuple[type, ...]:
        """Classes whose instances must all be gone once a session is closed."""
        from desktop.session.live import LiveSessionWindow
        from desktop.session.review import SessionReviewWindow

        return (LiveSessionWindow, SessionReviewWindow)

    # -- observing -------------------------------------------------------------------------------
    def on_samples(self, callback) -> None:
        """callback(device_times (s, wrapping at 2**32 µs), vacuum_kpa), on the run's thread."""
        run = self.run
        ingest = run._ingest

        def measured(batch):
            callback([s.device_time for s in batch], [s.vacuum_kpa for s in batch])
            ingest(batch)

        run._ingest = measured

    def on_plot_painted(self, callback) -> None:
        """callback(t_monotonic after the paint, device time of the newest sample drawn or None)."""
        if not self._paint_cbs:
            window = self.window
            frame = window.frame

            def drawn(*args, **kwargs):
                frame(*args, **kwargs)
                snap = window.snap
                if snap is not None and len(snap.x):
                    self._newest_drawn_x = snap.t + float(snap.x[-1])

            window.frame = drawn  # the window's frame timer calls self.frame(): this one
            plot = window.plot
            self._plot_painter = _PaintTimer(plot.viewport(), plot.viewportEvent, self._plot_painted)
        self._paint_cbs.append(callback)

    def _plot_painted(self, t: float) -> None:
        newest = None
        offset = self.run._offset
        if self._newest_drawn_x is not None and offset is not None:
            newest = self._newest_drawn_x - offset
        for cb in self._paint_cbs:
            cb(t, newest)

    def on_alarm_painted(self, callback) -> None:
        """callback(t_monotonic after the alarm bar's paint, the text it shows)."""
        bar = self.window.alarm_bar
        self._bar_painter = _PaintTimer(bar, bar.event, lambda t: callback(t, bar.text()))

    def on_sound(self, callback) -> None:
        """callback(t_monotonic) each time the window asks for the alarm sound."""
        sound = self.window.sound
        play = sound.play

        def played(*args, **kwargs):
            callback(time.monotonic())
            return play(*args, **kwargs)

        sound.play = played

    def device_time_of_session_x(self, x: float) -> float | None:
        offset = self.run._offset
        return None if offset is None or x is None else x - offset

    @property
    def ceiling_kpa(self) -> float:
        return self.run.engine.ceiling_kpa

    @property
    def dwell_s(self) -> float:
        return self.run.engine.dwell_s

    @property
    def no_signal_s(self) -> float:
        return self.run.engine.no_signal_s

    def last_stroke_x(self) -> float | None:
        return self.run.engine.strokes.last_stroke

    def active_alarm_kinds(self) -> set[str]:
        return {a.kind for a in self.run.engine.active()}

    def acknowledge(self) -> None:
        """As the practitioner does (A): latched alarms leave the banner."""
        self.window.acknowledge()

    def samples_received(self) -> int:
        return self.run.samples_received

    def link_stats(self):
        return self.run.link.stats()

    def lost(self) -> int:
        return self.run.lost

    # -- driving without a handpiece (redraw, memory): open with a FakeClock ----------------------
    def detach_link(self) -> None:
        """Stop the run's thread and its link: the measure feeds the run and draws the window."""
        self.window.timer.stop()
        self.run.stop()
        self.run.link.close()
        ring = self.run.ring  # what the link delivered meanwhile (host times) goes: the measure's own
        ring.n = ring.end = 0  # samples, at its clock's session times, are all the graph shows

    def push_to_graph(self, t, v) -> None:
        """Samples at session times ``t`` straight into what the graph draws."""
        self.run.ring.push(t, v)

    def draw(self) -> None:
        """One frame, as the window's timer would do it."""
        self.window.frame()

    @property
    def plot(self):
        return self.window.plot

    def curve_points(self) -> int:
        return len(self.window.curve.xData)

    def drop_marker(self, label: str = "") -> None:
        self.window.drop_marker(label)

    def ingest(self, batch) -> None:
        """Samples through the run's whole intake (alarms, statistics, graph, recorder)."""
        with self.run._lock:
            self.run._ingest(batch)

    def writer_backlog(self) -> int:
        return self.run.recorder._q.qsize()

    # -- ending ----------------------------------------------------------------------------------
    def end(self, timeout: float = 30.0) -> dict | None:
        """End as the practitioner does (End session, confirm), and wait until it is on disk and the
        window has closed itself. Returns the session's summary."""
        w = self.window
        done = QEventLoop()
        w.finished.connect(lambda _sid: done.quit())
        QTimer.singleShot(int(timeout * 1000), done.quit)
        self.click_end()
        if not w.ended:
            done.exec()
        return w.summary_result

    def click_end(self) -> None:
        """End session, then 'End session' in the confirmation (nothing waited for)."""
        from PySide6.QtWidgets import QMessageBox

        w = self.window
        w.end_button.click()
        box = getattr(w, "confirm_box", None)
        if box is not None:
            yes = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
            yes.click()

    def force_close(self) -> None:
        """Stop without ending the session properly (a measure that only draws)."""
        self.window.force_close()

    def weak(self):
        return weakref.ref(self.window)
