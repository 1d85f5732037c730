"""A past session, read-only: the whole trace (zoom and pan), markers, alarms, notes.

Notes can be amended; each amendment goes to the change log with time and author. An interrupted
session is closed from here. The trace loads on a worker thread (its own SQLite connection), so the
window opens at once however long the session was.
"""

from __future__ import annotations

import threading

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.records import AREAS, fmt_date
from desktop.session.alarms import COLOUR, PREFIX
from desktop.session.notes import SessionNotesPanel
from desktop.store import Store, StoreError
from device.units import KPA_PER_UNIT, format_vacuum


def summary_text(s: dict, unit: str) -> str:
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
        ]
    )


class _Loader(QObject):
    loaded = Signal(object)
    failed = Signal(str)


class SessionReviewWindow(QMainWindow):
    amended = Signal()

    def __init__(self, store: Store, session_id: int, who_fn, parent=None):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.store, self.session_id, self.who = store, session_id, who_fn
        self.session = s = store.session(session_id)
        self.client = store.client(s.client_id)
        self.unit = store.setting("display_unit", "kPa")
        self.k = KPA_PER_UNIT[self.unit]
        self.trace: dict | None = None
        self.setWindowTitle(f"Session {fmt_date(s.started.date())} — {self.client.name}")
        self.resize(1300, 860)

        head = QLabel()
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.RichText)
        areas = ", ".join(AREAS.get(a, a) for a in s.areas) or "—"
        status = s.status if s.status != "interrupted" else "<b style='color:#b00020'>interrupted</b>"
        head.setText(
            f"<h2>{self.client.name} — {fmt_date(s.started.date())} {s.started_at[11:16]}</h2>"
            f"Status: {status} · practitioner: {s.practitioner or '—'} · handpiece: {s.handpiece or '—'}<br>"
            f"{s.mode or '—'} {s.grit or ''} · set-point "
            f"{format_vacuum(s.set_point_kpa, self.unit) if s.set_point_kpa else '—'} · ceiling "
            f"{format_vacuum(s.ceiling_kpa, self.unit) if s.ceiling_kpa else '—'} · areas: {areas}"
            + (f"<br>Override: {s.override_reason}" if s.override_reason else "")
        )
        self.summary = QLabel(
            summary_text(s.summary, self.unit)
            if s.summary
            else f"Samples recorded: {s.samples_recorded:,}   lost: {s.samples_lost:,}"
        )
        self.alarm_list = QLabel()
        self.alarm_list.setWordWrap(True)
        self.status_line = QLabel("Loading the trace…")
        self.status_line.setObjectName("Hint")

        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("left", "Vacuum", units=self.unit)
        self.plot.setLabel("bottom", "Session time (s)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.plot.setMouseEnabled(x=True, y=False)  # zoom and pan along time
        self.curve = self.plot.plot(pen=pg.mkPen("#12343b", width=1))
        if s.ceiling_kpa:
            self.plot.addItem(
                pg.InfiniteLine(
                    s.ceiling_kpa / self.k,
                    angle=0,
                    pen=pg.mkPen("#d0021b", width=2, style=Qt.PenStyle.DashLine),
                )
            )

        self.notes_panel = SessionNotesPanel(store.setting("aftercare_templates", []))
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
        ul.addWidget(self.plot, 1)
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
            self._loader.failed.emit(str(exc))
            return
        self._loader.loaded.emit(data)

    def _show_trace(self, data) -> None:
        tr, markers, alarms = data
        self.trace, self.markers, self.alarms = tr, markers, alarms
        x = tr["t"]  # session time (s), the same base as markers and alarms
        self.x = x
        self.curve.setData(x, tr["vacuum"] / self.k)
        for m in markers:
            self.plot.addItem(
                pg.InfiniteLine(
                    m.t,
                    angle=90,
                    pen=pg.mkPen("#6a1b9a", width=2),
                    label=m.label or "marker",
                    labelOpts={"position": 0.92, "color": "#6a1b9a"},
                )
            )
        lines = []
        for a in alarms:
            colour = pg.mkColor(COLOUR.get(a.priority, "#888888"))
            colour.setAlpha(50)
            end = a.ended if a.ended is not None else a.started
            self.plot.addItem(
                pg.LinearRegionItem(
                    (a.started, end), movable=False, brush=pg.mkBrush(colour), pen=pg.mkPen(None)
                )
            )
            peak = f", peak {format_vacuum(a.peak_kpa, self.unit)}" if a.peak_kpa else ""
            ack = f", acknowledged by {a.acknowledged_by}" if a.acknowledged_by else ""
            lines.append(
                f"{PREFIX.get(a.priority, '*')} {a.message} at {a.started:.1f} s "
                f"({(end - a.started):.1f} s{peak}{ack})"
            )
        self.alarm_list.setText("Alarms:\n" + "\n".join(lines) if lines else "No alarms.")
        self.status_line.setText(f"{len(x):,} samples · drag to pan, wheel to zoom along time")
        if len(x):
            self.plot.setXRange(0, float(x[-1]), padding=0.01)

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
        self.amended.emit()

    def close_interrupted(self) -> None:
        self.store.save_notes(self.session_id, self.notes_panel.value(), self.who(), amend=True)
        s = self.store.session(self.session_id)
        summary = s.summary or {"samples": s.samples_recorded, "lost": s.samples_lost}
        self.store.finish_session(self.session_id, summary, self.who(), status="closed", ended_at=s.ended_at)
        self.close_session_button.setVisible(False)
        self.amended.emit()
