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
    # The window is a view of a SessionRun (desktop/session/run.py): samples enter the run on its own
    # thread; the window draws a snapshot each frame. Session time x = device time + run._offset.
    def on_samples(self, callback) -> None:
        """callback(device_times: list[float] (s, wrapping at 2**32 µs), vacuum_kpa: list[float])."""
        run = self.window.run
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
                self._newest_drawn_x = (
                    (snap.t + float(snap.x[-1])) if snap is not None and len(snap.x) else None
                )

            window.frame = drawn
            window.timer.timeout.disconnect()
            window.timer.timeout.connect(drawn)
            plot = window.plot
            self._plot_painter = _PaintTimer(plot.viewport(), plot.viewportEvent, self._plot_painted)
        self._paint_cbs.append(callback)

    def _plot_painted(self, t: float) -> None:
        newest = None
        offset = self.window.run._offset
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
        offset = self.window.run._offset
        return None if offset is None or x is None else x - offset

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

    def acknowledge(self) -> None:
        """The practitioner presses A: the alarms present now are acknowledged."""
        self.window.acknowledge()

    def samples_received(self) -> int:
        return self.window.samples_received

    def link_stats(self):
        return self.window.link.stats()

    # -- driving without a handpiece (redraw, memory) ----------------------------------------------
    def detach_link(self) -> None:
        """Stop the window's frames, the run's thread and the link: the measure feeds and draws it.
        The run's clock then follows the data (``push_to_graph``/``ingest``), so the window shows it."""
        w = self.window
        w.timer.stop()
        w.run.stop()
        w.link.close()
        self._data_now = w.run.now()
        w.run.clock = lambda: w.run.started + self._data_now

    def push_to_graph(self, t, v) -> None:
        self.window.ring.push(t, v)
        self.window.run._last_x = float(t[-1])
        self._data_now = float(t[-1])

    def newest_x(self) -> float:
        return self.window.run._last_x or 0.0

    def draw(self) -> None:
        self.window.frame()

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
        """Samples straight into the run (host time: their device time, on the run's clock)."""
        run = self.window.run
        self._data_now = max(getattr(self, "_data_now", 0.0), batch[-1].device_time)
        batch = [s._replace(host_time=run.started + s.device_time) for s in batch]
        with run._lock:
            run._ingest(batch)

    def writer_backlog(self) -> int:
        return self.window.recorder._q.qsize()

    # -- ending ----------------------------------------------------------------------------------
    def end(self) -> dict | None:
        """What the practitioner does: End session and say yes. The end never blocks the window;
        this waits (running the event loop) until it is on disk. Whether the window then goes away
        is the app's business, and measured."""
        from PySide6.QtCore import QEventLoop, QTimer

        w = self.window
        loop = QEventLoop()
        w.finished.connect(lambda _sid: loop.quit())
        QTimer.singleShot(30_000, loop.quit)
        w.end_session()
        if not w.ended:
            loop.exec()
        return w.summary_result

    def end_button(self):
        """The End button as the practitioner uses it: click, then confirm."""
        return _EndClick(self.window)

    def weak(self):
        return weakref.ref(self.window)


class _EndClick:
    def __init__(self, window):
        self.window = window

    def click(self) -> None:
        self.window.end_button.click()
        box = self.window.confirm_box
        box.buttons()[0].click()  # "End session"
