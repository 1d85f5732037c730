"""The live treatment view: the vacuum graph, big readout, alarm banner and list, markers and notes.

A view of a ``SessionRun`` (``desktop/session/run.py``), which owns the session: the link, the clock,
the alarms and the recording, evaluated on its own thread as samples arrive. Frames are paced: up to
60 a second while there is something new (samples, an alarm), 20 a second otherwise (the trace still
scrolls, the clock runs). Each frame takes an immutable snapshot and draws it; the window holds no
session state. The GUI thread never
waits on the serial line or the disk: ending runs on the run's threads and the window learns it is
done through a signal, then hands over to the session's review.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.plot_grid import LevelGrid
from desktop.plot_text import AXIS_PX, CEILING_PX, font, line_label_font, readable_axes
from desktop.resources import resource_path
from desktop.session.alarm_list import AlarmListModel
from desktop.session.alarms import COLOUR, FLASH_HZ
from desktop.session.notes import SessionNotesPanel
from desktop.session.recorder import TraceRecorder
from desktop.session.run import AlarmView, RingBuffer, SessionRun, Snapshot
from desktop.sound import AlarmSound
from desktop.store import Store
from device.link import HandpieceLink
from device.units import KPA_PER_UNIT, format_vacuum

__all__ = ["LiveSessionWindow", "RingBuffer"]

FRAME_MS = 16  # a frame at most every 16 ms (60 Hz) while samples arrive
IDLE_MS = 50  # nothing new: the trace still scrolls and the clock and flashing still run, at 20 Hz
SAFE_BAND = QColor(232, 241, 236)  # 0 to the ceiling: (46, 125, 79) at 11 % on white, opaque
WORDS_MS = 100  # the readout's figure, the statistics, the alarm list's times: 10 times a second
WINDOWS_S = {"10 s": 10, "30 s": 30, "1 min": 60, "2 min": 120, "5 min": 300}


class _Ended(QObject):
    """Carries the end of the session from the writer thread to the GUI thread (a queued signal)."""

    done = Signal(object, bool, object)  # summary, everything on disk, error text


class LiveSessionWindow(QMainWindow):
    finished = Signal(int)  # the session is over and on disk (or said why not): the review may open

    def __init__(
        self,
        store: Store,
        session_id: int,
        link_spec: dict,
        who_fn,
        parent=None,
        clock=time.monotonic,
        run: SessionRun | None = None,
    ):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.store = store
        self.session_id = session_id
        self.session = store.session(session_id)
        self.client = store.client(self.session.client_id)
        self.who = who_fn
        self.clock = clock
        self.unit = store.setting("display_unit", "kPa")
        self.k = KPA_PER_UNIT[self.unit]  # kPa per display unit
        self.link_spec = link_spec
        self.ceiling = float(self.session.ceiling_kpa or self.client.vacuum_ceiling_kpa)
        planned = self.session.planned_minutes
        if run is None:
            fmt = link_spec.get("format", "abrasio")
            link = HandpieceLink(
                link_spec["url"],
                fmt,
                int(link_spec.get("baud", 115200)),
                link_spec.get("unit", "kPa"),
                link_spec.get("label", "vacuum"),
            )
            sid = session_id
            run = SessionRun(
                link,
                TraceRecorder(store.path, session_id, key=store.key),
                ceiling_kpa=self.ceiling,
                set_point_kpa=float(self.session.set_point_kpa or 0),
                dwell_s=float(store.setting("dwell_alarm_seconds", 3.0)),
                planned_s=planned * 60.0 if planned else None,
                planned_passes=self.session.planned_passes,
                clock=clock,
                fmt=fmt,
                on_device=lambda store, hello, seg: store.set_session_device(sid, seg, hello),
            )
            link.start()
            run.start()
        self.run = run
        self.sound = AlarmSound(self)
        self.window_s = 30.0
        self.started = run.started
        self.ended = False  # True once the session is over and its end written
        self.ending = False  # the end has been asked for and is being written
        self.summary_result: dict | None = None
        self.save_error: str | None = None
        self._flash_on = True
        self._port_remembered = False
        self._forced = False  # force_close (tests' teardown) happened: a late end goes nowhere
        self._bar_key: tuple | None = None
        self._readout_state: str | None = None
        self._marker_items: dict[int, pg.InfiniteLine] = {}
        self._alarm_regions: dict[int, pg.LinearRegionItem] = {}
        self._alarms_version = -1
        self.snap: Snapshot | None = None
        # The snapshot's samples and the curve's points, in arrays kept for the whole session: a frame
        # allocates nothing the size of the graph (np.empty: memory is taken as the graph fills).
        cap = run.ring.capacity
        self._snap_buffers = (np.empty(cap), np.empty(cap))
        self._px: np.ndarray | None = None  # the curve's points, reused frame to frame (_peaks)
        self._pv: np.ndarray | None = None
        self._ended_signal = _Ended(self)
        self._ended_signal.done.connect(self._on_ended)

        self.setWindowTitle(f"Treatment session — {self.client.name}")
        self.resize(1366, 740)
        # Autosave at most 1 s after the first unsaved change (a throttle: steady typing still saves).
        self.notes_timer = QTimer(self, singleShot=True, interval=1000)
        self.notes_timer.timeout.connect(self.save_notes)
        self._build()
        self._drawn: tuple[int, int] | None = None  # run.version at the last frame
        self._drawn_at = -1.0
        self._words_at = -1.0  # when the figures beside the graph were last set
        self.timer = QTimer(self, interval=FRAME_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    # -- compatibility for callers that reached into the window -----------------------------------
    @property
    def link(self):
        return self.run.link

    @property
    def recorder(self):
        return self.run.recorder

    @property
    def engine(self):
        return self.run.engine

    @property
    def ring(self) -> RingBuffer:
        return self.run.ring

    @property
    def samples_received(self) -> int:
        return self.run.samples_received

    @property
    def markers(self) -> list[dict]:
        return self.run.markers

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.alarm_bar = QLabel("No alarms")
        self.alarm_bar.setTextFormat(Qt.TextFormat.PlainText)
        self.alarm_bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.alarm_bar.setWordWrap(True)
        self.alarm_bar.setMinimumHeight(64)
        self.alarm_bar.setStyleSheet(self._bar_style(None, True))
        self.ack_button = QPushButton("Acknowledge (A)")
        self.ack_button.clicked.connect(self.acknowledge)
        self.audio_button = QPushButton("Pause audio 2 min")
        self.audio_button.clicked.connect(self.pause_audio)
        self.audio_icon = QLabel()
        self._update_audio(0)

        # Another handpiece answered on the port: the practitioner chooses.
        self.device_bar = QFrame()
        self.device_bar.setStyleSheet("QFrame { background:#fde8ea; border:2px solid #d0021b; }")
        self.device_text = QLabel()
        self.device_text.setTextFormat(Qt.TextFormat.PlainText)
        self.device_text.setWordWrap(True)
        self.accept_device_button = QPushButton("Continue with it (new segment)")
        self.accept_device_button.clicked.connect(self.accept_device)
        end_here = QPushButton("End the session")
        end_here.clicked.connect(self.request_end)
        row = QHBoxLayout(self.device_bar)
        row.addWidget(self.device_text, 1)
        row.addWidget(self.accept_device_button)
        row.addWidget(end_here)
        self.device_bar.hide()

        self.plot = pg.PlotWidget(background="w")
        # Nothing the bundle lacks (numpy.fft, exporters): no plot context menu at all.
        self.plot.setMenuEnabled(False)
        self.plot.scene().contextMenu = []
        self.plot.setLabel("left", "Vacuum", units=self.unit)
        # Monitor-style time axis: seconds before now, fixed at -30 … 0. The data, markers and alarm
        # bands move under it; the axis itself is drawn once (a scrolling axis regenerates its labels
        # every frame: measured 31% of a core against 11% with this one).
        self.plot.setLabel("bottom", "Seconds before now")
        # Horizontal grid only: it marks vacuum levels and stays put. A vertical grid scrolls with
        # time and must be redrawn every frame (measured: 91 frames/s without it, 45 with it). Drawn
        # as lines in the view, not pyqtgraph's axis grid (which replays the axis under every frame),
        # over the band from 0 to the ceiling: (46, 125, 79) at 11 % on the white background, filled
        # opaque (the same pixels; a plain fill where a translucent one is a blend).
        self.grid = LevelGrid(self.plot, alpha=0.25)
        self.grid.set_band(0, self.ceiling / self.k, SAFE_BAND)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setYRange(0, max(self.ceiling * 1.5, 20) / self.k)
        self.plot.setXRange(-self.window_s, 0, padding=0)
        # The frame gives the curve two points (lowest, highest) per pixel column already: pyqtgraph
        # neither clips nor downsamples (which cost a frame a dozen passes over every sample).
        self.plot.getPlotItem().setDownsampling(ds=1, auto=False)
        self.plot.getPlotItem().setClipToView(False)
        self.ceiling_line = pg.InfiniteLine(
            self.ceiling / self.k,
            angle=0,
            pen=pg.mkPen("#d0021b", width=2, style=Qt.PenStyle.DashLine),
            label=f"ceiling {format_vacuum(self.ceiling, self.unit)}",
            labelOpts={
                "position": 0.01,
                "color": "#d0021b",
                "anchors": [(0, 0), (0, 1)],
            },  # left-aligned: never cut
        )
        self.set_point_line = pg.InfiniteLine(
            self.run.set_point / self.k,
            angle=0,
            pen=pg.mkPen("#0f5c6e", width=1, style=Qt.PenStyle.DotLine),
            label="set-point",
            labelOpts={"position": 0.15, "color": "#0f5c6e"},
        )
        self.plot.addItem(self.ceiling_line)
        self.plot.addItem(self.set_point_line)
        readable_axes(self.plot)
        line_label_font(self.ceiling_line, CEILING_PX, bold=True)  # read from across the room
        line_label_font(self.set_point_line, AXIS_PX)
        # A 1 px (cosmetic) pen: wider pens go through Qt's slow stroker (58 -> 91 frames/s).
        # connect="finite": a NaN the run puts between two connections is drawn as a gap.
        self.curve = self.plot.plot(pen=pg.mkPen("#12343b", width=1), connect="finite")

        self.readout = QLabel("—")
        self.readout.setObjectName("BigReadout")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.readout.setWordWrap(True)  # "no signal", "disconnected": always whole
        self.readout_unit = QLabel(self.unit)
        self.readout_unit.setObjectName("Stat")
        self.stats: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setVerticalSpacing(2)
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
            value.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(name, i, 0)
            grid.addWidget(value, i, 1)
            self.stats[key] = value
        self.stats["ceiling"].setText(format_vacuum(self.ceiling, self.unit))
        self.stats["link"].setWordWrap(True)

        self.window_choice = QComboBox()
        self.window_choice.addItems(list(WINDOWS_S))
        self.window_choice.setCurrentText("30 s")
        self.window_choice.currentTextChanged.connect(self._set_window)
        self.marker_button = QPushButton("Marker (M)")
        self.marker_button.setMinimumHeight(44)
        self.marker_button.setStyleSheet("font-size: 14pt;")
        self.marker_button.clicked.connect(lambda: self.drop_marker())
        self.marker_label = QLineEdit()
        self.marker_label.setPlaceholderText("Label the last marker (e.g. left cheek, pass 2), Enter")
        self.marker_label.returnPressed.connect(self._label_marker)
        self.end_button = QPushButton("End session")
        self.end_button.setObjectName("Danger")
        self.end_button.setMinimumHeight(44)
        self.end_button.clicked.connect(self.request_end)

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        rrow = QHBoxLayout()
        rrow.addWidget(self.readout, 1)
        rrow.addWidget(self.readout_unit)
        side.addLayout(rrow)
        side.addLayout(grid)
        if self.link_spec["url"].startswith("sim://"):
            side.addWidget(self._training_panel())
        side.addStretch(1)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setFixedWidth(330)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Graph"))
        controls.addWidget(self.window_choice)
        controls.addWidget(self.marker_button)
        controls.addWidget(self.marker_label, 1)
        controls.addWidget(self.end_button)

        self.notes_panel = SessionNotesPanel(self.store.setting("aftercare_templates", []), unit=self.unit)
        self.notes_panel.set_value(self.store.notes(self.session_id))
        self.notes_panel.changed.connect(self._notes_changed)
        self.notes_panel.set_point_kpa_changed.connect(self._set_point_changed)
        notes_scroll = QScrollArea()
        notes_scroll.setWidgetResizable(True)
        notes_scroll.setWidget(self.notes_panel)

        self.alarm_model = AlarmListModel(self.unit, self.run.wall_started, self)
        self.alarm_view = QTableView()
        self.alarm_view.setModel(self.alarm_model)
        self.alarm_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.alarm_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.alarm_view.verticalHeader().hide()
        header = self.alarm_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        alarms_box = QWidget()
        al = QVBoxLayout(alarms_box)
        al.setContentsMargins(0, 0, 0, 0)
        self.alarm_title = QLabel("Alarms of this session")
        self.alarm_title.setObjectName("SectionTitle")
        al.addWidget(self.alarm_title)
        al.addWidget(self.alarm_view, 1)

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
        ul.setContentsMargins(6, 6, 6, 0)
        ul.addLayout(top)
        ul.addWidget(self.device_bar)
        ul.addLayout(graph_row, 1)
        ul.addLayout(controls)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(notes_scroll)
        lower.addWidget(alarms_box)
        lower.setSizes([800, 560])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setSizes([470, 260])
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
        ceiling = self.ceiling
        actions = (
            ("Glide", lambda d: d.scenario("glide")),
            ("Hold still", lambda d: d.scenario("hold")),
            ("Lift", lambda d: d.scenario("lift")),
            ("Surge", lambda d: d.surge(ceiling + 8, 4.0)),
            ("Pump fault", lambda d: d.scenario("pump_fault", 5.0)),
            ("Drop 50", lambda d: d.drop_frames(50)),
        )
        for i, (text, fn) in enumerate(actions):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, fn=fn: (dev := last_device()) and fn(dev))
            lay.addWidget(b, 1 + i // 3, i % 3)
        return box

    @staticmethod
    def _bar_style(alarm: AlarmView | None, lit: bool) -> str:
        if alarm is None:
            return "background:#e7f5ec; color:#2e7d4f; font-size:18pt; border-radius:6px;"
        colour = COLOUR[alarm.priority] if lit else "#ffffff"
        text = "#ffffff" if alarm.priority == "high" and lit else "#12343b"
        return (
            f"background:{colour}; color:{text}; font-size:20pt; font-weight:700; "
            f"border:4px solid {COLOUR[alarm.priority]}; border-radius:6px;"
        )

    # -- the frame ---------------------------------------------------------------------------------
    def _tick(self) -> None:
        """Every 16 ms: a frame if there is something new, else one every IDLE_MS.

        The run first takes what the link holds now (``step``: a few arrays and a queue put, never a
        wait on the line or the disk), so the frame shows samples that arrived since the run's own
        thread last stepped (it steps at most every 10 ms): sample to screen is one frame, not two
        cycles that do not line up."""
        run = self.run
        run.step()
        now = time.monotonic()
        version = run.version
        if version != self._drawn or now - self._drawn_at >= IDLE_MS / 1000:
            alarms_changed = self._drawn is None or version[1] != self._drawn[1]
            self._drawn, self._drawn_at = version, now
            words = alarms_changed or now - self._words_at >= WORDS_MS / 1000
            self.frame(words=words)

    def frame(self, words: bool = True) -> None:
        """Draw the run's snapshot now: the graph, the alarm banner, the readout's colour and the
        sound always; with ``words``, also the figures (a number that changes 60 times a second
        cannot be read: 10 times is what a monitor's readout does, at a sixth of the cost)."""
        snap = self.run.snapshot(self.window_s, out=self._snap_buffers)
        self.snap = snap
        self._remember_port_once()
        x, v = self._peaks(snap.x, snap.v)
        self.curve.setData(x, v, connect="finite")
        shown_from = -self.window_s - 1.0
        for key, t, label in snap.markers:
            line = self._marker_items.get(key)
            if line is None:
                line = pg.InfiniteLine(
                    0,
                    angle=90,
                    pen=pg.mkPen("#6a1b9a", width=2),
                    label=label or f"M{key}",
                    labelOpts={"position": 0.92, "color": "#6a1b9a"},
                )
                line_label_font(line, AXIS_PX)
                self.plot.addItem(line)
                self._marker_items[key] = line
            rel = t - snap.t
            line.setVisible(rel >= shown_from)
            if rel >= shown_from:
                line.setValue(rel)
        for a in snap.alarms:
            region = self._alarm_regions.get(a.key)
            if region is None:  # every alarm is drawn on the trace, in its colour
                colour = pg.mkColor(COLOUR[a.priority])
                colour.setAlpha(50)
                region = pg.LinearRegionItem(
                    (0, 0), movable=False, brush=pg.mkBrush(colour), pen=pg.mkPen(None)
                )
                self.plot.addItem(region)
                self._alarm_regions[a.key] = region
            end = (a.ended if a.ended is not None else snap.t) - snap.t
            region.setVisible(end >= shown_from)
            if end >= shown_from:
                region.setRegion((a.started - snap.t, end))
        self._draw_banner(snap)
        state_changed = self._draw_readout_state(snap)
        if self.run.sound_due():
            self.sound.play()
        if not (words or state_changed):
            return
        self._words_at = time.monotonic()
        self._draw_readout(snap)
        self._draw_stats(snap)
        if snap.alarms_version != self._alarms_version:
            self._alarms_version = snap.alarms_version
            self.alarm_title.setText(f"Alarms of this session ({len(snap.alarms)})")
        self.alarm_model.update(snap.alarms, snap.alarms_version, snap.t)
        if snap.wrong_device:
            self.device_text.setText(
                f"*** Another handpiece answered on this port: {snap.wrong_device}. Its samples are "
                f"not recorded. This session's handpiece: {snap.device}."
            )
        self.device_bar.setVisible(bool(snap.wrong_device))
        self._update_audio(snap.audio_paused_s)

    def _peaks(self, x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The samples as drawn: per pixel column of the plot, the lowest and the highest (a surge of
        one sample still shows; a gap's NaN keeps its column empty), in the display unit.

        Into arrays kept from frame to frame: no per-frame temporaries of the window's size."""
        n = len(x)
        columns = max(int(self.plot.getPlotItem().getViewBox().width()), 1)
        ds = n // columns
        if ds < 2:
            out_x, out_v = x, v / self.k if self.k != 1 else v
            return out_x, out_v
        bins = n // ds
        start = n - bins * ds  # bins end at the newest sample; the oldest few (off the left edge) go
        xs = x[start:].reshape(bins, ds)
        vs = v[start:].reshape(bins, ds)
        if self._px is None or len(self._px) < 2 * bins:
            self._px = np.empty(2 * bins + 256)
            self._pv = np.empty(2 * bins + 256)
        out_x, out_v = self._px[: 2 * bins], self._pv[: 2 * bins]
        out_x[0::2] = xs[:, 0]
        out_x[1::2] = xs[:, -1]
        np.minimum.reduce(vs, axis=1, out=out_v[0::2])
        np.maximum.reduce(vs, axis=1, out=out_v[1::2])
        if self.k != 1:
            out_v /= self.k
        return out_x, out_v

    def _draw_readout(self, snap: Snapshot) -> None:
        if snap.readout_kpa is None:
            self.readout.setText(snap.status or "—")
        else:
            self.readout.setText(format_vacuum(snap.readout_kpa, self.unit, with_unit=False))

    def _draw_readout_state(self, snap: Snapshot) -> bool:
        """The readout's colour (over the ceiling, no signal) at once. True when it changed."""
        state = "stale" if snap.readout_kpa is None else "over" if snap.over_ceiling else "ok"
        if self._readout_state == state:
            return False
        self._readout_state = state
        self.readout_unit.setVisible(state != "stale")
        self.readout.setProperty("state", state)
        self.readout.setProperty("stale", state == "stale")
        self.readout.style().unpolish(self.readout)
        self.readout.style().polish(self.readout)
        return True

    def _draw_stats(self, snap: Snapshot) -> None:
        self.stats["elapsed"].setText(_mmss(snap.t))
        self.stats["contact"].setText(_mmss(snap.contact_s))
        self.stats["strokes"].setText(str(snap.strokes))
        self.stats["peak"].setText(format_vacuum(snap.peak_kpa, self.unit))
        self.stats["mean"].setText(format_vacuum(snap.mean_kpa, self.unit) if snap.mean_kpa else "—")
        self.stats["link"].setText(_link_words(snap.status, snap.link_text))
        self.stats["link"].setToolTip(snap.link_text)
        self.stats["loss"].setText(f"{snap.lost}  (CRC errors {snap.crc_failures})")

    def _draw_banner(self, snap: Snapshot) -> None:
        top = snap.banner
        if top is not None:
            hz = FLASH_HZ[top.priority]
            lit = hz == 0 or int(self.clock() * hz * 2) % 2 == 0
        else:
            lit = True
        more = f"   (+{snap.showing - 1} more)" if snap.showing > 1 else ""
        key = (snap.banner_text + more, top.priority if top else None, lit)
        if key != self._bar_key:
            self._bar_key = key
            self._flash_on = lit
            self.alarm_bar.setText(key[0])
            self.alarm_bar.setStyleSheet(self._bar_style(top, lit))

    def _remember_port_once(self) -> None:
        """The handpiece delivered samples: now it is the default for the next session (written on
        the recorder's thread; a port that never answered is never remembered)."""
        if self._port_remembered or self.run.samples_received <= 0:
            return
        self._port_remembered = True
        spec = {k: self.link_spec[k] for k in ("url", "format", "unit", "baud") if k in self.link_spec}
        who = self.who()
        self.recorder.call(lambda store: store.set_setting("last_handpiece", spec, who))

    def set_unit(self, unit: str) -> None:
        """The clinic changed the display unit: everything shown follows at once; nothing recorded
        changes (the run and the store work in kPa)."""
        self.unit, self.k = unit, KPA_PER_UNIT[unit]
        self.plot.setLabel("left", "Vacuum", units=unit)
        self.plot.getAxis("left").label.setFont(font(AXIS_PX))
        self.plot.setYRange(0, max(self.ceiling * 1.5, 20) / self.k)
        self.grid.set_band(0, self.ceiling / self.k, SAFE_BAND)
        self.ceiling_line.setValue(self.ceiling / self.k)
        self.ceiling_line.label.setFormat(f"ceiling {format_vacuum(self.ceiling, unit)}")
        self.set_point_line.setValue(self.run.set_point / self.k)
        self.readout_unit.setText(unit)
        self.stats["ceiling"].setText(format_vacuum(self.ceiling, unit))
        self.alarm_model.set_unit(unit)
        self.notes_panel.set_unit(unit)
        if self.timer.isActive():
            self.frame()

    def _set_window(self, text: str) -> None:
        self.window_s = WINDOWS_S[text]
        self.plot.setXRange(-self.window_s, 0, padding=0)

    # -- alarms ----------------------------------------------------------------------------------
    def acknowledge(self) -> None:
        """Acknowledge the alarms present now (their sound stops; a new alarm sounds again)."""
        self.run.acknowledge(self.who())
        self.sound.stop()
        self.frame()

    def pause_audio(self) -> None:
        """Silence alarm sounds for 2 minutes. The visual alarm cannot be paused."""
        self.run.pause_audio()
        self.sound.stop()
        self._update_audio(self.run.audio_paused_s())

    def _update_audio(self, paused_s: int) -> None:
        state = "off" if self.sound.player is None and _no_audio() else "on"
        if paused_s > 0:
            state = "paused"
            self.audio_button.setText(f"Audio paused {paused_s // 60}:{paused_s % 60:02d}")
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

    def accept_device(self) -> None:
        self.run.accept_device()
        self.frame()

    # -- markers and notes -----------------------------------------------------------------------
    def drop_marker(self, label: str = "") -> dict:
        marker = self.run.drop_marker(label)
        self.marker_label.clear()
        return marker

    def _label_marker(self) -> None:
        marker = self.run.label_marker(self.marker_label.text().strip())
        if marker is None:
            return
        line = self._marker_items.get(marker["key"])
        if line is not None:
            line.label.setFormat(marker["label"] or f"M{marker['key']}")
        self.marker_label.clear()
        self.plot.setFocus()

    def _notes_changed(self) -> None:
        if not self.notes_timer.isActive() and not self.ending:
            self.notes_timer.start()
        self.run.check_passes(self.notes_panel.value()["passes"])

    def save_notes(self) -> None:
        self.notes_timer.stop()
        self.run.save_notes(self.notes_panel.value())

    def _set_point_changed(self, kpa: float) -> None:
        if kpa > 0:
            self.set_point_line.setValue(kpa / self.k)
            self.run.change_set_point(kpa)

    # -- ending ------------------------------------------------------------------------------------
    def request_end(self) -> QMessageBox | None:
        """End, the window's ×, quitting: ask first (a click must not end a treatment)."""
        if self.ending:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "End the session?",
            f"End the treatment session for {self.client.name}? Recording stops.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        yes = box.addButton("End session", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep recording", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(yes)
        box.setObjectName("ConfirmEnd")
        box.finished.connect(lambda _r: box.clickedButton() is yes and self.end_session())
        box.open()
        self.confirm_box = box
        return box

    def end_session(self) -> None:
        """End now (asked already). Never blocks: ``finished`` is emitted once it is on disk."""
        if self.ending:
            return
        self.ending = True
        self.notes_timer.stop()
        notes = self.notes_panel.value()
        self.notes_panel.set_read_only(True)  # what is typed from here would have nowhere to go
        for w in (self.end_button, self.marker_button, self.marker_label, self.ack_button):
            w.setEnabled(False)
        self.alarm_bar.setText("Ending the session — saving…")
        self._bar_key = None
        self.timer.stop()
        self.sound.stop()
        sid, who = self.session_id, self.who()
        signal = self._ended_signal.done

        def done(summary, ok, error) -> None:  # on the writer thread
            try:
                signal.emit(summary, ok, error)
            except RuntimeError:  # the window was closed by force meanwhile: nobody to tell
                pass

        self.run.end(
            notes,
            lambda store, summary, status: store.finish_session(sid, summary, who, status=status),
            done,
        )

    def _on_ended(self, summary: dict, ok: bool, error: str | None) -> None:
        if self._forced:
            return
        self.summary_result = summary
        self.save_error = None if ok else (error or "it could not be written")
        self.ended = True
        self.finished.emit(self.session_id)
        self.close()

    def set_locked(self, locked: bool) -> None:
        """The app is locked (desktop/security_ui.py): the treatment goes on, visible and audible, but
        the notes wait for the unlock."""
        if not self.ending:
            self.notes_panel.setEnabled(not locked)

    def force_close(self) -> None:
        """Tests' teardown: stop threads without dialogs (a window already closed and deleted: nothing)."""
        if not shiboken6.isValid(self):
            return
        if not self.ended:
            self.timer.stop()
            self.run.close()
            self.ended = True
        self._forced = True  # an end still being written must not reach what is torn down after this
        self.close()

    def closeEvent(self, event) -> None:
        if not self.ended:
            event.ignore()
            self.request_end()
            return
        self.timer.stop()
        self.notes_timer.stop()
        super().closeEvent(event)


def _link_words(status: str, link_text: str) -> str:
    """The Handpiece row in the readout's words: the link's state without the system's reason (the alarm
    banner and the row's tooltip give it whole), so the row is never cut and never contradicts the
    readout ("connecting" while the readout says "not connected": the link keeps retrying)."""
    state = link_text.split(" (", 1)[0]
    if status in ("not connected", "disconnected") and state != "connected":
        return f"{status}, trying again"
    return state


def _mmss(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 60}:{s % 60:02d}"


def _no_audio() -> bool:
    return QGuiApplication.platformName() in ("offscreen", "minimal")
