"""A past session, read-only: the whole trace (zoom and pan), markers, alarms, notes.

Notes can be amended; each amendment goes to the change log with time and author. An interrupted
session is closed from here. The trace loads on a worker thread (its own SQLite connection), so the
window opens at once however long the session was.
"""

from __future__ import annotations

import html
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.plot_text import AXIS_PX, CEILING_PX, font, line_label_font, readable_axes
from desktop.records import areas_text, fmt_date
from desktop.session.alarms import COLOUR, PREFIX
from desktop.session.notes import SessionNotesPanel
from desktop.store import Store, StoreError
from device.units import KPA_PER_UNIT, format_vacuum


def summary_text(s: dict, unit: str, areas: str = "") -> str:
    def v(key):
        return format_vacuum(s[key], unit) if s.get(key) is not None else "—"

    mins, secs = divmod(int(s.get("duration_s") or 0), 60)
    return "\n".join(
        [
            f"Duration: {mins} min {secs:02d} s (tip on skin {int(s.get('contact_s') or 0)} s, "
            f"{s.get('strokes', 0)} strokes)",
            f"Samples recorded: {s.get('samples', 0):,}   lost: {s.get('lost', 0):,}",
            f"Mean vacuum on skin: {v('mean_kpa')}   peak: {v('peak_kpa')}",
            f"Time above the ceiling: {s.get('above_ceiling_s', 0):.1f} s",
            f"Alarms: {s.get('alarms', 0)}   markers: {s.get('markers', 0)}",
            *_disconnections(s),
            *([f"Areas and passes: {areas}"] if areas else []),
        ]
    )


def _disconnections(s: dict) -> list[str]:
    gaps = s.get("disconnections") or []
    lines = [f"Disconnected at {at:.1f} s for {gap:.1f} s" for at, gap in gaps]
    if s.get("held_out"):
        lines.append(f"Samples of another handpiece not recorded: {s['held_out']:,}")
    return lines


STATUS_WORDS = {
    "no_samples": "no samples recorded (the handpiece never delivered any)",
    "recording": "recording",
}
GAP_S = 0.25  # samples further apart than this are drawn with a gap between them


def with_gaps(x: np.ndarray, v: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A NaN where samples are missing (a sequence step other than 1: lost, a replug, a restart) or
    further apart than GAP_S, so the curve shows the gap (connect="finite") instead of a line."""
    if len(x) < 2:
        return x, v
    at = np.flatnonzero((np.diff(x) > GAP_S) | (np.diff(seq) != 1)) + 1
    if not len(at):
        return x, v
    return np.insert(x, at, (x[at - 1] + x[at]) / 2), np.insert(v.astype(float), at, np.nan)


class _Loader(QObject):
    loaded = Signal(object)
    failed = Signal(str)


class SessionReviewWindow(QMainWindow):
    amended = Signal()

    def __init__(self, store: Store, session_id: int, who_fn, parent=None):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.store, self.session_id, self.who = store, session_id, who_fn
        self.session = s = store.session(session_id)
        self.client = store.client(s.client_id)
        self.unit = store.setting("display_unit", "kPa")
        self.k = KPA_PER_UNIT[self.unit]
        self.trace: dict | None = None
        self.setWindowTitle(f"Session {fmt_date(s.started.date())} — {self.client.name}")
        self.resize(1300, 860)

        self.head = head = QLabel()
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.RichText)
        self.devices = store.session_devices(session_id)
        head.setText(self._head_html())
        # An override of a blocking contraindication is the first thing a reader must see.
        self.override = QLabel(f"*** Treated despite a blocking contraindication: {s.override_reason}")
        self.override.setTextFormat(Qt.TextFormat.PlainText)
        self.override.setWordWrap(True)
        self.override.setObjectName("Override")
        self.override.setStyleSheet(
            "background:#fde8ea; color:#b00020; border:2px solid #b00020; border-radius:6px; "
            "padding:6px; font-weight:700; font-size:12pt;"
        )
        self.override.setVisible(bool(s.override_reason))
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self._show_summary()
        self.alarm_list = QLabel()
        self.alarm_list.setWordWrap(True)
        self.status_line = QLabel("Loading the trace…")
        self.status_line.setObjectName("Hint")

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)  # nothing the bundle lacks (numpy.fft, exporters)
        self.plot.scene().contextMenu = []
        self.plot.setLabel("left", "Vacuum", units=self.unit)
        self.plot.setLabel("bottom", "Session time (s)")
        readable_axes(self.plot)
        # A session without a trace says so, instead of an empty, oddly scaled graph.
        self.no_trace = QLabel("No trace recorded for this session.")
        self.no_trace.setObjectName("SectionTitle")
        self.no_trace.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_trace.hide()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.plot.setMouseEnabled(x=True, y=False)  # zoom and pan along time
        self.curve = self.plot.plot(pen=pg.mkPen("#12343b", width=1), connect="finite")
        self.ceiling_line = None
        if s.ceiling_kpa:
            self.ceiling_line = pg.InfiniteLine(
                s.ceiling_kpa / self.k,
                angle=0,
                pen=pg.mkPen("#d0021b", width=2, style=Qt.PenStyle.DashLine),
                label=f"ceiling {format_vacuum(s.ceiling_kpa, self.unit)}",
                labelOpts={
                    "position": 0.01,
                    "color": "#d0021b",
                    "anchors": [(0, 0), (0, 1)],
                },  # left-aligned: never cut
            )
            line_label_font(self.ceiling_line, CEILING_PX, bold=True)
            self.plot.addItem(self.ceiling_line)

        self.notes_panel = SessionNotesPanel(store.setting("aftercare_templates", []), unit=self.unit)
        self.notes_panel.set_value(store.notes(session_id))
        self.notes_panel.set_read_only(True)
        self.amend_button = QPushButton("Amend notes")
        self.save_button = QPushButton("Save amendment")
        self.save_button.setObjectName("Primary")
        self.save_button.setVisible(False)
        self.close_session_button = QPushButton("Close interrupted session")
        self.close_session_button.setVisible(s.status == "interrupted")
        self.amend_button.clicked.connect(self.start_amend)
        self.save_button.clicked.connect(self.save_amendment)
        self.close_session_button.clicked.connect(self.close_interrupted)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.close_session_button, self.amend_button, self.save_button):
            buttons.addWidget(b)
        self._add_outputs(buttons)

        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.addWidget(head)
        ul.addWidget(self.override)
        ul.addWidget(self.plot, 1)
        ul.addWidget(self.no_trace, 1)
        ul.addWidget(self.status_line)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.alarm_list, 1)
        ul.addLayout(row)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.notes_panel)
        ll.addWidget(scroll, 1)
        ll.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setSizes([560, 300])
        self.setCentralWidget(split)

        self._loader = _Loader(self)
        self._loader.loaded.connect(self._show_trace)
        self._loader.failed.connect(lambda msg: self.status_line.setText(f"The trace cannot be shown: {msg}"))
        threading.Thread(target=self._load, name=f"load trace {session_id}", daemon=True).start()

    def _load(self) -> None:
        try:
            store = self.store.reopen()
            try:
                data = (
                    store.load_trace(self.session_id),
                    store.markers(self.session_id),
                    store.alarms(self.session_id),
                )
            finally:
                store.close()
        except (StoreError, OSError, Exception) as exc:
            self._emit(self._loader.failed, str(exc))
            return
        self._emit(self._loader.loaded, data)

    @staticmethod
    def _emit(signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the window was closed (and deleted) before the trace came
            pass

    def _show_trace(self, data) -> None:
        tr, markers, alarms = data
        self.trace, self.markers, self.alarms = tr, markers, alarms
        x = tr["t"]  # session time (s), the same base as markers and alarms
        self.x = x
        self._draw_curve()
        for m in markers:
            line = pg.InfiniteLine(
                m.t,
                angle=90,
                pen=pg.mkPen("#6a1b9a", width=2),
                label=m.label or "marker",
                labelOpts={"position": 0.92, "color": "#6a1b9a"},
            )
            line_label_font(line, AXIS_PX)
            self.plot.addItem(line)
        for a in alarms:
            colour = pg.mkColor(COLOUR.get(a.priority, "#888888"))
            colour.setAlpha(50)
            end = a.ended if a.ended is not None else a.started
            self.plot.addItem(
                pg.LinearRegionItem(
                    (a.started, end), movable=False, brush=pg.mkBrush(colour), pen=pg.mkPen(None)
                )
            )
        self._show_alarms()
        if len(x):
            self.status_line.setText(f"{len(x):,} samples · drag to pan, wheel to zoom along time")
            self.plot.setXRange(0, float(x[-1]), padding=0.01)
        else:
            self.status_line.setText("")
            self.plot.hide()
            self.no_trace.show()

    def _draw_curve(self) -> None:
        tr = self.trace
        self.curve.setData(*with_gaps(tr["t"], tr["vacuum"] / self.k, tr["seq"]), connect="finite")

    def _show_alarms(self) -> None:
        lines = []
        for a in self.alarms:
            end = a.ended if a.ended is not None else a.started
            peak = f", peak {format_vacuum(a.peak_kpa, self.unit)}" if a.peak_kpa else ""
            ack = f", acknowledged by {a.acknowledged_by}" if a.acknowledged_by else ""
            lines.append(
                f"{PREFIX.get(a.priority, '*')} {a.message} at {a.started:.1f} s "
                f"({(end - a.started):.1f} s{peak}{ack})"
            )
        self.alarm_list.setText("Alarms:\n" + "\n".join(lines) if lines else "No alarms.")

    def _areas(self) -> str:
        s = self.session
        return areas_text(s.treated_areas, s.passes) if s.treated_areas else areas_text(s.areas)

    def _head_html(self) -> str:
        s, esc = self.session, html.escape
        words = esc(STATUS_WORDS.get(s.status, s.status))
        if s.status in ("interrupted", "no_samples"):
            words = f"<b style='color:#b00020'>{words}</b>"
        devices = self.devices
        device = " · ".join(
            (f"segment {d.segment}: " if len(devices) > 1 else "") + esc(str(d)) for d in devices
        )
        return (
            f"<h2>{esc(self.client.name)} — {fmt_date(s.started.date())} {s.started_at[11:16]}</h2>"
            f"Status: {words} · practitioner: {esc(s.practitioner or '—')} · handpiece: "
            f"{esc(s.handpiece or '—')}{f' ({device})' if device else ''}<br>"
            f"{esc(s.mode or '—')} {esc(s.grit or '')} · set-point "
            f"{format_vacuum(s.set_point_kpa, self.unit) if s.set_point_kpa else '—'} · ceiling "
            f"{format_vacuum(s.ceiling_kpa, self.unit) if s.ceiling_kpa else '—'} · areas: "
            f"{esc(self._areas() or '—')}"
        )

    def _show_summary(self) -> None:
        s = self.session
        self.summary.setText(
            summary_text(s.summary, self.unit, self._areas())
            if s.summary
            else f"Samples recorded: {s.samples_recorded:,}   lost: {s.samples_lost:,}\n"
            f"Areas and passes: {self._areas() or '—'}"
        )

    def _notes_saved(self) -> None:
        """An amendment may change the areas and passes: the header and summary follow."""
        self.session = self.store.session(self.session_id)
        self.head.setText(self._head_html())
        self._show_summary()

    def set_unit(self, unit: str) -> None:
        """The clinic changed the display unit: every vacuum shown follows (stored kPa unchanged)."""
        self.unit, self.k = unit, KPA_PER_UNIT[unit]
        self.head.setText(self._head_html())
        self._show_summary()
        self.plot.setLabel("left", "Vacuum", units=unit)
        self.plot.getAxis("left").label.setFont(font(AXIS_PX))
        if self.ceiling_line is not None:
            self.ceiling_line.setValue(self.session.ceiling_kpa / self.k)
            self.ceiling_line.label.setFormat(f"ceiling {format_vacuum(self.session.ceiling_kpa, unit)}")
        if self.trace is not None:
            self._draw_curve()
            self._show_alarms()
        self.notes_panel.set_unit(unit)

    def show_save_problem(self, error: str | None) -> QMessageBox | None:
        """After a live session: its end could not all be written (said, not modal)."""
        if not error:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Session not fully saved",
            f"The end of this session may not be on disk ({error}). The next start of Abrasio will "
            "show it as interrupted so it can be checked and closed.",
            parent=self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()
        self.save_problem_box = box
        return box

    def _add_outputs(self, buttons: QHBoxLayout) -> None:
        """Print / PDF / trace CSV (desktop/session_outputs.py, the media part of issue #13)."""
        from desktop.session_outputs import SessionOutputs

        self.outputs = SessionOutputs(self, self.store, self.session_id, self.who, self.plot)
        buttons.insertWidget(1, self.outputs.button)

    def start_amend(self) -> None:
        self.notes_panel.set_read_only(False)
        self.amend_button.setVisible(False)
        self.save_button.setVisible(True)

    def save_amendment(self) -> None:
        self.store.save_notes(self.session_id, self.notes_panel.value(), self.who(), amend=True)
        self.notes_panel.set_read_only(True)
        self.amend_button.setVisible(True)
        self.save_button.setVisible(False)
        self._notes_saved()
        self.amended.emit()

    def close_interrupted(self) -> None:
        self.store.save_notes(self.session_id, self.notes_panel.value(), self.who(), amend=True)
        s = self.store.session(self.session_id)
        summary = s.summary or {"samples": s.samples_recorded, "lost": s.samples_lost}
        self.store.finish_session(self.session_id, summary, self.who(), status="closed", ended_at=s.ended_at)
        self.close_session_button.setVisible(False)
        self._notes_saved()
        self.amended.emit()
