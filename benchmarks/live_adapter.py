"""Everything the benchmarks know about the live session window's insides, in one place.

The measures drive and observe the live window only through ``LiveAdapter`` (and the few helpers
below), so when the window is rewritten (a Qt-free ``SessionRun`` whose snapshot the window draws)
this file follows it and the measures stay as they are. What a measure needs:

* samples as they enter the session (``on_samples``), with their device time;
* the moment the plot has been painted, and the device time of the newest sample it shows
  (``on_plot_painted``): "on screen" means painted into the window's backing store;
* the moment the alarm bar has been painted showing an alarm, and each sound the window requests;
* the alarm engine's thresholds and its last stroke (for the dwell reference);
* feeding samples straight in, drawing, and ending and closing the session.
"""

from __future__ import annotations

import time
import weakref

from PySide6.QtCore import QEvent, QObject


class _PaintTimer(QObject):
    """Paints the watched widget itself (so the time taken after the paint is known), then reports."""

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
        self._newest_drawn_x: float | None = None
        self._paint_cbs: list = []

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, store, session_id: int, url: str, parent=None, fmt: str = "abrasio") -> LiveAdapter:
        from desktop.session.live import LiveSessionWindow

        win = LiveSessionWindow(
            store, session_id, {"url": url, "format": fmt}, lambda: "bench", parent=parent
        )
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
        """callback(device_times: list[float] (s, wrapping at 2**32 µs), vacuum_kpa: list[float])."""
        ingest = self.window._ingest

        def measured(batch, now):
            callback([s.device_time for s in batch], [s.vacuum_kpa for s in batch])
            ingest(batch, now)

        self.window._ingest = measured

    def on_plot_painted(self, callback) -> None:
        """callback(t_monotonic after the paint, device time of the newest sample drawn or None)."""
        if not self._paint_cbs:
            window = self.window
            draw = window._draw

            def drawn(*args, **kwargs):
                draw(*args, **kwargs)
                self._newest_drawn_x = window._now_x()

            window._draw = drawn
            plot = window.plot
            self._plot_painter = _PaintTimer(plot.viewport(), plot.viewportEvent, self._plot_painted)
        self._paint_cbs.append(callback)

    def _plot_painted(self, t: float) -> None:
        newest = None
        offset = self.window._x_offset
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
        offset = self.window._x_offset
        return None if offset is None else x - offset

    @property
    def ceiling_kpa(self) -> float:
        return self.window.engine.ceiling_kpa

    @property
    def dwell_s(self) -> float:
        return self.window.engine.dwell_s

    @property
    def no_signal_s(self) -> float:
        return self.window.engine.no_signal_s

    def last_stroke_x(self) -> float | None:
        return self.window.engine.strokes.last_stroke

    def active_alarm_kinds(self) -> set[str]:
        return {a.kind for a in self.window.engine.active()}

    def samples_received(self) -> int:
        return self.window.samples_received

    def link_stats(self):
        return self.window.link.stats()

    # -- driving without a handpiece (redraw, memory) ----------------------------------------------
    def detach_link(self) -> None:
        """Stop the window's own tick and link: the measure feeds and draws it."""
        self.window.timer.stop()
        self.window.link.close()

    def push_to_graph(self, t, v) -> None:
        self.window.ring.push(t, v)
        self.window._last_t = float(t[-1])

    def newest_x(self) -> float:
        return self.window._now_x()

    def draw(self) -> None:
        w = self.window
        w._draw(time.monotonic(), w.link.stats(), 0.01)

    @property
    def plot(self):
        return self.window.plot

    def curve_points(self) -> int:
        return len(self.window.curve.xData)

    def drop_marker(self, label: str = "") -> None:
        self.window.drop_marker(label)

    def force_close(self) -> None:
        """Stop without ending the session properly (a measure that only draws)."""
        self.window.force_close()

    def ingest(self, batch) -> None:
        self.window._ingest(batch, time.monotonic())

    def writer_backlog(self) -> int:
        return self.window.recorder._q.qsize()

    # -- ending ----------------------------------------------------------------------------------
    def end(self) -> dict | None:
        """What the practitioner does: End session, close the summary, close the window. (Nothing
        more: whether the window then goes away is the app's business, and measured.)"""
        w = self.window
        summary = w.end_session()
        for box in ("summary_box", "save_problem_box"):
            if getattr(w, box, None) is not None:
                getattr(w, box).close()
        w.close()
        return summary

    def end_button(self):
        return self.window.end_button

    def weak(self):
        return weakref.ref(self.window)
