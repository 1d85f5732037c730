"""The live treatment view: the vacuum graph, big readouts, alarms, markers and notes.

Data path (the GUI thread never waits on the serial line or the disk):
``HandpieceLink`` (reader thread) → ``take()`` on a 30 Hz QTimer → ring buffer → ``setData`` on curves
created once; the same batch goes to the alarm engine and, as numpy arrays, to the ``TraceRecorder``
(writer thread).
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.records import AREAS
from desktop.resources import resource_path
from desktop.session.alarms import COLOUR, FLASH_HZ, Alarm, AlarmEngine
from desktop.session.notes import SessionNotesPanel
from desktop.session.recorder import TraceRecorder
from desktop.sound import AlarmSound
from desktop.store import Store
from device.link import HandpieceLink, LinkState
from device.protocol import FLAG_CONTACT, FLAG_CRYSTAL, FLAG_PUMP
from device.units import KPA_PER_UNIT, format_vacuum

TICK_MS = 33
WINDOWS_S = {"10 s": 10, "30 s": 30, "1 min": 60, "2 min": 120, "5 min": 300}
AUDIO_PAUSE_S = 120
HIGH_REPEAT_S = 3.0


class RingBuffer:
    """The last ``capacity`` samples in preallocated arrays; the newest N are always one contiguous
    slice (a buffer of twice the capacity, folded back when full), so drawing never copies twice."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        # np.full, not np.zeros: the pages are touched now, so memory is flat for the whole session
        # (zeros are mapped lazily and would grow resident memory as the first 5 minutes fill).
        self.t = np.full(2 * capacity, 0.0)
        self.v = np.full(2 * capacity, 0.0)
        self.n = 0  # samples in the buffer
        self.end = 0  # index after the newest

    def push(self, t: np.ndarray, v: np.ndarray) -> None:
        if len(t) >= self.capacity:
            t, v = t[-self.capacity :], v[-self.capacity :]
        if self.end + len(t) > 2 * self.capacity:
            keep = min(self.n, self.capacity - len(t))
            self.t[:keep] = self.t[self.end - keep : self.end]
            self.v[:keep] = self.v[self.end - keep : self.end]
            self.end, self.n = keep, keep
        self.t[self.end : self.end + len(t)] = t
        self.v[self.end : self.end + len(v)] = v
        self.end += len(t)
        self.n = min(self.n + len(t), self.capacity)

    def since(self, t0: float) -> tuple[np.ndarray, np.ndarray]:
        start = self.end - self.n
        i = start + int(np.searchsorted(self.t[start : self.end], t0))
        return self.t[i : self.end], self.v[i : self.end]


class LiveSessionWindow(QMainWindow):
    finished = Signal(int)

    def __init__(
        self, store: Store, session_id: int, link_spec: dict, who_fn, parent=None, clock=time.monotonic
    ):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.store = store
        self.session_id = session_id
        self.session = store.session(session_id)
        self.client = store.client(self.session.client_id)
        self.who = who_fn
        self.clock = clock
        self.unit = store.setting("display_unit", "kPa")
        self.k = KPA_PER_UNIT[self.unit]  # kPa per display unit
        self.ceiling = float(self.session.ceiling_kpa or self.client.vacuum_ceiling_kpa)
        self.set_point = float(self.session.set_point_kpa or 0)
        planned = self.session.planned_minutes
        self.engine = AlarmEngine(
            self.ceiling,
            float(store.setting("dwell_alarm_seconds", 3.0)),
            planned * 60.0 if planned else None,
        )
        self.link_spec = link_spec
        self.link = HandpieceLink(
            link_spec["url"],
            link_spec.get("format", "abrasio"),
            int(link_spec.get("baud", 115200)),
            link_spec.get("unit", "kPa"),
            link_spec.get("label", "vacuum"),
        ).start()
        self.recorder = TraceRecorder(store.path, session_id)
        self.sound = AlarmSound(self)
        self.ring = RingBuffer(300 * 2000)
        self.window_s = 30.0
        self.started = clock()
        self.ended = False
        self._x_offset: float | None = None  # session time = device time + offset
        self._prev_state = LinkState.CONNECTING
        self._set_point_sent = False
        self._lost_seen = 0
        self._lost_pending = 0
        self._loss_times: list[float] = []
        self.samples_received = 0
        self.contact_s = 0.0
        self.above_s = 0.0
        self.peak = 0.0
        self._sum_contact = 0.0
        self._n_contact = 0
        self._last_t: float | None = None
        self.audio_paused_until = 0.0
        self._last_sound = -1e9
        self._flash_on = True
        self.markers: list[dict] = []
        self._marker_items: list[tuple[float, pg.InfiniteLine]] = []
        self._alarm_regions: dict[int, tuple[Alarm, pg.LinearRegionItem]] = {}
        self._sounded: set[int] = set()

        self.setWindowTitle(f"Treatment session — {self.client.name}")
        self.resize(1400, 900)
        # Autosave at most 1 s after the first unsaved change (a throttle: steady typing still saves).
        self.notes_timer = QTimer(self, singleShot=True, interval=1000)
        self.notes_timer.timeout.connect(self.save_notes)
        self._build()
        self.timer = QTimer(self, interval=TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.flash_timer = QTimer(self, interval=250)
        self.flash_timer.timeout.connect(self._flash)
        self.flash_timer.start()

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.alarm_bar = QLabel("No alarms")
        self.alarm_bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.alarm_bar.setMinimumHeight(64)
        self.alarm_bar.setStyleSheet(self._bar_style(None, True))
        self.ack_button = QPushButton("Acknowledge (A)")
        self.ack_button.clicked.connect(self.acknowledge)
        self.audio_button = QPushButton("Pause audio 2 min")
        self.audio_button.clicked.connect(self.pause_audio)
        self.audio_icon = QLabel()
        self._update_audio_icon()

        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("left", "Vacuum", units=self.unit)
        # Monitor-style time axis: seconds before now, fixed at -30 … 0. The data, markers and alarm
        # bands move under it; the axis itself is drawn once (a scrolling axis regenerates its labels
        # every frame: measured 31% of a core against 11% with this one).
        self.plot.setLabel("bottom", "Seconds before now")
        # Horizontal grid only: it marks vacuum levels and stays put. A vertical grid scrolls with
        # time and must be redrawn every frame (measured: 91 frames/s without it, 45 with it).
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setYRange(0, max(self.ceiling * 1.5, 20) / self.k)
        self.plot.setXRange(-self.window_s, 0, padding=0)
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.band = pg.LinearRegionItem(
            (0, self.ceiling / self.k),
            orientation="horizontal",
            movable=False,
            brush=pg.mkBrush(46, 125, 79, 28),
            pen=pg.mkPen(None),
        )
        self.plot.addItem(self.band)
        self.ceiling_line = pg.InfiniteLine(
            self.ceiling / self.k,
            angle=0,
            pen=pg.mkPen("#d0021b", width=2, style=Qt.PenStyle.DashLine),
            label=f"ceiling {format_vacuum(self.ceiling, self.unit)}",
            labelOpts={"position": 0.05, "color": "#d0021b"},
        )
        self.set_point_line = pg.InfiniteLine(
            self.set_point / self.k,
            angle=0,
            pen=pg.mkPen("#0f5c6e", width=1, style=Qt.PenStyle.DotLine),
            label="set-point",
            labelOpts={"position": 0.15, "color": "#0f5c6e"},
        )
        self.plot.addItem(self.ceiling_line)
        self.plot.addItem(self.set_point_line)
        # A 1 px (cosmetic) pen: wider pens go through Qt's slow stroker (58 -> 91 frames/s).
        self.curve = self.plot.plot(pen=pg.mkPen("#12343b", width=1))

        self.readout = QLabel("—")
        self.readout.setObjectName("BigReadout")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.readout_unit = QLabel(self.unit)
        self.readout_unit.setObjectName("Stat")
        self.stats: dict[str, QLabel] = {}
        grid = QGridLayout()
        for i, (key, label) in enumerate(
            (
                ("elapsed", "Elapsed"),
                ("contact", "Tip on skin"),
                ("strokes", "Strokes"),
                ("peak", "Peak"),
                ("mean", "Mean on skin"),
                ("ceiling", "Ceiling"),
                ("link", "Handpiece"),
                ("loss", "Samples lost"),
            )
        ):
            name = QLabel(label)
            name.setObjectName("Hint")
            value = QLabel("—")
            value.setObjectName("Stat")
            grid.addWidget(name, i, 0)
            grid.addWidget(value, i, 1)
            self.stats[key] = value
        self.stats["ceiling"].setText(format_vacuum(self.ceiling, self.unit))

        self.window_choice = QComboBox()
        self.window_choice.addItems(list(WINDOWS_S))
        self.window_choice.setCurrentText("30 s")
        self.window_choice.currentTextChanged.connect(self._set_window)
        self.marker_button = QPushButton("Marker (M)")
        self.marker_button.setMinimumHeight(56)
        self.marker_button.setStyleSheet("font-size: 16pt;")
        self.marker_button.clicked.connect(lambda: self.drop_marker())
        self.marker_label = QLineEdit()
        self.marker_label.setPlaceholderText("Label the last marker (e.g. left cheek, pass 2), Enter")
        self.marker_label.returnPressed.connect(self._label_marker)
        self.end_button = QPushButton("End session")
        self.end_button.setObjectName("Danger")
        self.end_button.setMinimumHeight(44)
        self.end_button.clicked.connect(self.end_session)

        side = QVBoxLayout()
        rrow = QHBoxLayout()
        rrow.addWidget(self.readout, 1)
        rrow.addWidget(self.readout_unit)
        side.addLayout(rrow)
        side.addLayout(grid)
        side.addWidget(QLabel("Graph window"))
        side.addWidget(self.window_choice)
        side.addWidget(self.marker_button)
        side.addWidget(self.marker_label)
        if self.link_spec["url"].startswith("sim://"):
            side.addWidget(self._training_panel())
        side.addStretch(1)
        side.addWidget(self.end_button)
        side_w = QFrame()
        side_w.setLayout(side)
        side_w.setFixedWidth(340)

        self.notes_panel = SessionNotesPanel(self.store.setting("aftercare_templates", []))
        self.notes_panel.set_value(self.store.notes(self.session_id))
        self.notes_panel.changed.connect(
            lambda: self.notes_timer.isActive() or self.ended or self.notes_timer.start()
        )
        self.notes_panel.changed.connect(self._check_passes)
        self.notes_panel.set_point.valueChanged.connect(self._set_point_changed)
        notes_scroll = QScrollArea()
        notes_scroll.setWidgetResizable(True)
        notes_scroll.setWidget(self.notes_panel)

        top = QHBoxLayout()
        top.addWidget(self.alarm_bar, 1)
        top.addWidget(self.audio_icon)
        top.addWidget(self.audio_button)
        top.addWidget(self.ack_button)
        graph_row = QHBoxLayout()
        graph_row.addWidget(self.plot, 1)
        graph_row.addWidget(side_w)
        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.addLayout(top)
        ul.addLayout(graph_row, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(notes_scroll)
        split.setSizes([620, 280])
        self.setCentralWidget(split)
        QShortcut(QKeySequence(Qt.Key.Key_M), self, activated=self.drop_marker)
        QShortcut(QKeySequence(Qt.Key.Key_A), self, activated=self.acknowledge)

    def _training_panel(self) -> QWidget:
        """Simulated handpiece only: what the tip does, for training and demos."""
        from device.urlhandler.protocol_sim import last_device

        box = QFrame()
        box.setStyleSheet("QFrame { border: 1px dashed #8aa2a8; }")
        lay = QGridLayout(box)
        lay.addWidget(QLabel("Simulator (training)"), 0, 0, 1, 3)
        actions = (
            ("Glide", lambda d: d.scenario("glide")),
            ("Hold still", lambda d: d.scenario("hold")),
            ("Lift", lambda d: d.scenario("lift")),
            ("Surge", lambda d: d.surge(self.ceiling + 8, 4.0)),
            ("Pump fault", lambda d: d.scenario("pump_fault", 5.0)),
            ("Drop 50", lambda d: d.drop_frames(50)),
        )
        for i, (text, fn) in enumerate(actions):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, fn=fn: (dev := last_device()) and fn(dev))
            lay.addWidget(b, 1 + i // 3, i % 3)
        return box

    @staticmethod
    def _bar_style(alarm: Alarm | None, lit: bool) -> str:
        if alarm is None:
            return "background:#e7f5ec; color:#2e7d4f; font-size:18pt; border-radius:6px;"
        colour = COLOUR[alarm.priority] if lit else "#ffffff"
        text = "#ffffff" if alarm.priority == "high" and lit else "#12343b"
        return (
            f"background:{colour}; color:{text}; font-size:22pt; font-weight:700; "
            f"border:4px solid {COLOUR[alarm.priority]}; border-radius:6px;"
        )

    # -- the tick ----------------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock()
        batch = self.link.take()
        stats = self.link.stats()
        if stats.state is LinkState.CONNECTED and not self._set_point_sent and self.set_point:
            self.link.set_point(self.set_point)
            self._set_point_sent = True
        if stats.state is not self._prev_state:
            self._prev_state = stats.state
            if stats.state is LinkState.CONNECTED:
                self._set_point_sent = False
        if batch:
            self._ingest(batch, now)
        lost = stats.frames_lost + stats.overflow_dropped
        if lost > self._lost_seen:
            self._loss_times.append(now)
            self._lost_pending += lost - self._lost_seen  # stored with the next batch of samples
            self._lost_seen = lost
        self._loss_times = [t for t in self._loss_times if now - t < 5.0]
        age = None if stats.last_sample_time is None else now - stats.last_sample_time
        for alarm in self.engine.tick(
            now - self.started, stats.state.value, age, bool(self._loss_times), self.recorder.error
        ):
            self._alarm_changed(alarm)
        self._draw(now, stats, age)

    def _ingest(self, batch, now: float) -> None:
        n = len(batch)
        seq = np.fromiter((s.seq for s in batch), np.int64, n)
        dev_t = np.fromiter((s.device_time for s in batch), np.float64, n)
        v = np.fromiter((s.vacuum_kpa for s in batch), np.float64, n)
        flags = np.fromiter(
            (
                (s.pump * FLAG_PUMP) | (s.contact * FLAG_CONTACT) | ((s.mode == 1) * FLAG_CRYSTAL)
                for s in batch
            ),
            np.uint8,
            n,
        )
        host_x = batch[0].host_time - self.started
        if self._x_offset is None or abs(dev_t[0] + self._x_offset - host_x) > 1.0:
            # first sample, or the device clock jumped (device restarted): anchor to the host clock
            self._x_offset = host_x - dev_t[0]
        x = dev_t + self._x_offset
        lost, self._lost_pending = self._lost_pending, 0
        self.recorder.add_samples(seq, x, v, flags, lost)  # stored in session time, like markers
        self.ring.push(x, v)
        self.samples_received += n
        contact = (flags & FLAG_CONTACT).astype(bool)
        dt_ = np.diff(x, prepend=self._last_t if self._last_t is not None else x[0])
        dt_ = np.clip(dt_, 0, 0.1)
        self._last_t = float(x[-1])
        self.contact_s += float(dt_[contact].sum())
        self.above_s += float(dt_[v > self.ceiling].sum())
        self.peak = max(self.peak, float(v.max()))
        if contact.any():
            self._sum_contact += float(v[contact].sum())
            self._n_contact += int(contact.sum())
        for alarm in self.engine.feed(x, v, contact):
            self._alarm_changed(alarm)

    def _set_window(self, text: str) -> None:
        self.window_s = WINDOWS_S[text]
        self.plot.setXRange(-self.window_s, 0, padding=0)

    def _draw(self, now: float, stats, age: float | None) -> None:
        right = self._now_x()
        x, v = self.ring.since(right - self.window_s)
        k = self.k
        self.curve.setData(x - right, v / k if k != 1 else v)
        shown_from = right - self.window_s - 1.0
        for t, line in self._marker_items:
            if t >= shown_from:
                line.setValue(t - right)
                line.setVisible(True)
            elif line.isVisible():
                line.setVisible(False)
        for alarm, region in self._alarm_regions.values():
            end = alarm.ended if alarm.ended is not None else right
            if end >= shown_from:
                region.setRegion((alarm.started - right, end - right))
                region.setVisible(True)
            elif region.isVisible():
                region.setVisible(False)
        stale = age is None or age > 1.0
        if stale:
            self.readout.setText("no signal" if stats.state is not LinkState.DISCONNECTED else "disconnected")
        elif len(v):
            self.readout.setText(format_vacuum(float(v[-20:].mean()), self.unit, with_unit=False))
        if self.readout.property("stale") != stale:
            self.readout.setProperty("stale", stale)
            self.readout.style().unpolish(self.readout)
            self.readout.style().polish(self.readout)
        elapsed = now - self.started
        self.stats["elapsed"].setText(_mmss(elapsed))
        self.stats["contact"].setText(_mmss(self.contact_s))
        self.stats["strokes"].setText(str(self.engine.strokes.strokes))
        self.stats["peak"].setText(format_vacuum(self.peak, self.unit))
        mean = self._sum_contact / self._n_contact if self._n_contact else 0.0
        self.stats["mean"].setText(format_vacuum(mean, self.unit) if self._n_contact else "—")
        state = stats.state.value + (
            f" ({stats.reason})" if stats.reason and stats.state is not LinkState.CONNECTED else ""
        )
        self.stats["link"].setText(state[:40])
        self.stats["link"].setToolTip(state)
        self.stats["loss"].setText(
            f"{stats.frames_lost + stats.overflow_dropped}  (CRC errors {stats.crc_failures})"
        )

    # -- alarms ----------------------------------------------------------------------------------
    def _alarm_changed(self, alarm: Alarm) -> None:
        self.recorder.save_alarm(alarm.key, alarm.record())
        if alarm.key not in self._alarm_regions:  # every alarm is drawn on the trace, in its colour
            colour = pg.mkColor(COLOUR[alarm.priority])
            colour.setAlpha(50)
            region = pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(colour), pen=pg.mkPen(None))
            self.plot.addItem(region)
            self._alarm_regions[alarm.key] = (alarm, region)  # placed by _draw, relative to now
        if alarm.active and alarm.priority in ("high", "medium") and alarm.key not in self._sounded:
            self._sounded.add(alarm.key)
            self._sound(alarm, force=True)
        self._update_bar()

    def _now_x(self) -> float:
        return self._last_t or 0.0

    def _update_bar(self) -> None:
        top = self.engine.highest()
        active = self.engine.active()
        if top is None:
            self.alarm_bar.setText("No alarms")
        else:
            more = f"   (+{len(active) - 1} more)" if len(active) > 1 else ""
            self.alarm_bar.setText(top.text + more)
        self.alarm_bar.setStyleSheet(self._bar_style(top, self._flash_on))

    def _flash(self) -> None:
        top = self.engine.highest()
        now = self.clock()
        if top is None:
            if not self._flash_on:
                self._flash_on = True
                self._update_bar()
            return
        hz = FLASH_HZ[top.priority]
        lit = True if hz == 0 else int(now * hz * 2) % 2 == 0
        if lit != self._flash_on:
            self._flash_on = lit
            self._update_bar()
        if top.priority == "high":
            self._sound(top)
        self._update_audio_icon()

    def _sound(self, alarm: Alarm, force: bool = False) -> None:
        now = self.clock()
        if now < self.audio_paused_until:
            return
        if force or now - self._last_sound >= HIGH_REPEAT_S:
            self._last_sound = now
            self.sound.play()

    def pause_audio(self) -> None:
        """Silence alarm sounds for 2 minutes. The visual alarm cannot be paused."""
        self.audio_paused_until = self.clock() + AUDIO_PAUSE_S
        self.sound.stop()
        self._update_audio_icon()

    def _update_audio_icon(self) -> None:
        state = "off" if self.sound.player is None and _no_audio() else "on"
        remaining = self.audio_paused_until - self.clock()
        if remaining > 0:
            state = "paused"
            self.audio_button.setText(f"Audio paused {int(remaining) // 60}:{int(remaining) % 60:02d}")
        else:
            self.audio_button.setText("Pause audio 2 min")
        if getattr(self, "_audio_state", None) != state:
            self._audio_state = state
            self.audio_icon.setPixmap(QIcon(str(resource_path(f"icons/audio-{state}.svg"))).pixmap(32, 32))
            self.audio_icon.setToolTip(
                {
                    "on": "Alarm audio on",
                    "paused": "Alarm audio paused",
                    "off": "Alarm audio off: no sound output on this computer",
                }[state]
            )

    def acknowledge(self) -> None:
        when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        for alarm in self.engine.acknowledge(when, self.who()):
            self.recorder.save_alarm(alarm.key, alarm.record())
        self.pause_audio()

    # -- markers and notes -----------------------------------------------------------------------
    def drop_marker(self, label: str = "") -> dict:
        t = self._now_x()
        marker = {"key": len(self.markers) + 1, "t": t, "label": label}
        self.markers.append(marker)
        self.recorder.add_marker(marker["key"], t, label)
        line = pg.InfiniteLine(
            0,
            angle=90,
            pen=pg.mkPen("#6a1b9a", width=2),
            label=label or f"M{marker['key']}",
            labelOpts={"position": 0.92, "color": "#6a1b9a"},
        )
        self.plot.addItem(line)
        self._marker_items.append((t, line))
        self.marker_label.clear()
        return marker

    def _label_marker(self) -> None:
        if not self.markers:
            return
        marker = self.markers[-1]
        marker["label"] = self.marker_label.text().strip()
        self.recorder.label_marker(marker["key"], marker["label"])
        self._marker_items[-1][1].label.setFormat(marker["label"] or f"M{marker['key']}")
        self.marker_label.clear()
        self.plot.setFocus()

    def _check_passes(self) -> None:
        passes = self.notes_panel.value()["passes"]
        for alarm in self.engine.passes(self._now_x(), passes, self.session.planned_passes, AREAS):
            self._alarm_changed(alarm)

    def save_notes(self) -> None:
        self.notes_timer.stop()
        self.recorder.save_notes(self.notes_panel.value())

    def _set_point_changed(self, kpa: float) -> None:
        if kpa > 0:
            self.set_point = kpa
            self.set_point_line.setValue(kpa / self.k)
            self.link.set_point(kpa)

    # -- ending ------------------------------------------------------------------------------------
    def summary(self) -> dict:
        stats = self.link.stats()
        counts = {}
        for a in self.engine.alarms:
            counts[a.priority] = counts.get(a.priority, 0) + 1
        return {
            "duration_s": round(self.clock() - self.started, 1),
            "samples": self.samples_received,
            "lost": stats.frames_lost + stats.overflow_dropped,
            "mean_kpa": round(self._sum_contact / self._n_contact, 2) if self._n_contact else None,
            "peak_kpa": round(self.peak, 2),
            "above_ceiling_s": round(self.above_s, 2),
            "contact_s": round(self.contact_s, 1),
            "strokes": self.engine.strokes.strokes,
            "alarms": len(self.engine.alarms),
            "alarms_by_priority": counts,
            "markers": len(self.markers),
            "reconnects": stats.reconnects,
        }

    def _stop(self) -> None:
        self.timer.stop()
        self.flash_timer.stop()
        self.link.close()
        self.tick_final()
        self.sound.stop()

    def tick_final(self) -> None:
        batch = self.link.take()
        if batch:
            self._ingest(batch, self.clock())

    def end_session(self) -> dict | None:
        if self.ended:
            return None
        self._stop()
        for alarm in self.engine.end_all(self._now_x()):
            self.recorder.save_alarm(alarm.key, alarm.record())
        self.save_notes()
        summary = self.summary()
        who = self.who()
        sid = self.session_id
        self.recorder.call(lambda s: s.finish_session(sid, summary, who))
        finished = self.recorder.close(timeout=10.0)
        if not finished or self.recorder.error:
            why = self.recorder.error or "it is still being written"
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Session not fully saved",
                f"The end of this session may not be on disk ({why}). The next start of "
                "Abrasio will show it as interrupted so it can be checked and closed.",
                parent=self,
            )
            box.open()
            self.save_problem_box = box
        self.ended = True
        self.show_summary(summary)
        self.finished.emit(self.session_id)
        return summary

    def show_summary(self, s: dict) -> None:
        from desktop.session.review import summary_text

        box = QMessageBox(
            QMessageBox.Icon.Information, "Session ended", summary_text(s, self.unit), parent=self
        )
        box.setObjectName("SessionSummary")
        box.open()
        self.summary_box = box

    def force_close(self) -> None:
        """Tests' teardown: stop threads without dialogs."""
        if not self.ended:
            self._stop()
            self.recorder.close()
            self.ended = True
        self.close()

    def closeEvent(self, event) -> None:
        if not self.ended:
            self.end_session()
        super().closeEvent(event)


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def _no_audio() -> bool:
    return QGuiApplication.platformName() in ("offscreen", "minimal")
