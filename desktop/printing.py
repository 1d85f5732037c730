"""Printable records: the treatment-session record and the aftercare sheet, as PDF or on paper.

Built from plain data (``SessionRecord``) with ``QTextDocument`` and written with ``QPdfWriter``; the
system print dialog prints the same document. QtGui only in this module (the print dialog is imported
where it is shown), so an export renders its PDFs on a worker thread.

Every piece of text that a person typed (names, notes, marker labels, reasons, who witnessed or
amended) goes through ``html.escape``: a name is never HTML, whatever it contains.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from desktop.records import AREAS, CONCERNS, ERYTHEMA, FINDINGS, FITZPATRICK, SENSITIVITIES, Client, fmt_date
from device.units import KPA_PER_UNIT, format_vacuum

PRIORITY_COLOUR = {"high": "#d0021b", "medium": "#f5c400", "low": "#22b8cf"}
PRIORITY_PREFIX = {"high": "***", "medium": "**", "low": "*"}
PRIORITY_WORD = {"high": "high", "medium": "medium", "low": "technical"}
MARKER_COLOUR = "#6a1b9a"
TRACE_COLOUR = "#12343b"
PLOT_SIZE = (2400, 900)  # pixels of the trace plot: ~300 dpi across the page's text width
# The plot's width on the page, in the document's pixels (1/96 inch). QTextDocument.print_ puts its own
# 2 cm margins inside the writer's 15 mm ones, so A4's text is 210 - 30 - 40 = 140 mm = 529 px wide;
# at 640 px the plot ran past the right margin and its last minutes were cut off the page.
TRACE_WIDTH_PX = 520
GAP_S = 0.5  # samples further apart than this are not joined by the plot's line
EXPECTED_REACTION = (
    "Mild redness and sensitivity are expected after microdermabrasion; they usually subside within a "
    "few hours."
)
CONTACT_IF = (
    "Contact the clinic if you notice blistering, bruising, marked swelling, or redness that has not "
    "settled after two days."
)


def esc(text) -> str:
    """Plain text into the document: escaped, line breaks kept."""
    return html.escape("" if text is None else str(text)).replace("\n", "<br>")


@dataclass
class SessionRecord:
    """Everything the printed record shows, read from the store once (see ``desktop.export``)."""

    client: Client
    session_id: int
    started_at: str
    ended_at: str | None
    status: str
    practitioner: str
    handpiece: str
    mode: str
    grit: str
    crystal_flow: int | None
    set_point_kpa: float | None
    ceiling_kpa: float | None
    planned_minutes: int | None
    planned_passes: int | None
    override_reason: str
    summary: dict
    samples_recorded: int
    samples_lost: int
    unit: str = "kPa"
    clinic_name: str = ""
    clinic_contact: str = ""
    screening: list[dict] = field(default_factory=list)  # as it stood at the start of the session
    consent: list[str] = field(default_factory=list)  # plain lines: what consent was on file that day
    devices: list[str] = field(default_factory=list)  # each segment's handpiece as its HELLO named it
    notes: dict = field(default_factory=dict)
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # session time, s
    vacuum_kpa: np.ndarray = field(default_factory=lambda: np.zeros(0))
    markers: list[dict] = field(default_factory=list)
    alarms: list[dict] = field(default_factory=list)
    amendments: list[dict] = field(default_factory=list)  # change-log rows: at, who, details
    aftercare_templates: list[str] = field(default_factory=list)

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)

    def vac(self, kpa: float | None) -> str:
        return format_vacuum(kpa, self.unit) if kpa is not None else "—"


# -- the trace plot -------------------------------------------------------------------------------


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _ticks(lo: float, hi: float, target: int) -> list[float]:
    step = _nice_step(hi - lo, target)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _envelope(t: np.ndarray, v: np.ndarray, t0: float, t1: float, columns: int):
    """Per pixel column: (column, min, max) of the samples in it, peaks kept (nothing averaged away)."""
    col = np.clip(((t - t0) / (t1 - t0) * columns).astype(np.int64), 0, columns - 1)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    return col[starts], np.minimum.reduceat(v, starts), np.maximum.reduceat(v, starts), starts


def trace_plot(
    t: np.ndarray,
    vacuum_kpa: np.ndarray,
    ceiling_kpa: float | None,
    markers: list[dict],
    alarms: list[dict],
    unit: str = "kPa",
    size: tuple[int, int] = PLOT_SIZE,
) -> QImage:
    """The session's vacuum trace with its ceiling, markers and alarm bands, as a picture."""
    width, height = size
    k = KPA_PER_UNIT[unit]
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPixelSize(max(12, height // 30))
    p.setFont(font)
    fm_h = font.pixelSize()
    left, right, top, bottom = fm_h * 5, fm_h * 1.5, fm_h * 3, fm_h * 3.2
    area = QRectF(left, top, width - left - right, height - top - bottom)

    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(vacuum_kpa, dtype=np.float64) / k
    t_end = float(t[-1]) if len(t) else 0.0
    for a in alarms:
        t_end = max(t_end, float(a.get("ended") or a.get("started") or 0))
    for m in markers:
        t_end = max(t_end, float(m.get("t") or 0))
    t0, t1 = 0.0, max(t_end, 1.0)
    ceiling = ceiling_kpa / k if ceiling_kpa else None
    y_top = max([*([float(v.max())] if len(v) else []), *([ceiling] if ceiling else []), 10 / k])
    y0, y1 = 0.0, y_top * 1.12
    minutes = t1 > 120

    def x_of(sec: float) -> float:
        return area.left() + (sec - t0) / (t1 - t0) * area.width()

    def y_of(val: float) -> float:
        return area.bottom() - (val - y0) / (y1 - y0) * area.height()

    # alarm bands under everything
    for a in alarms:
        start = float(a.get("started") or 0)
        end = a.get("ended")
        end = float(end) if end is not None else start
        colour = QColor(PRIORITY_COLOUR.get(a.get("priority"), "#888888"))
        colour.setAlpha(70)
        xa, xb = x_of(start), x_of(end)
        p.fillRect(QRectF(xa, area.top(), max(xb - xa, 3.0), area.height()), colour)

    # grid, ticks, labels
    grid = QPen(QColor("#d7dee0"), 1)
    text_pen = QPen(QColor("#333333"))
    for val in _ticks(y0, y1, 6):
        y = y_of(val)
        p.setPen(grid)
        p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        p.setPen(text_pen)
        p.drawText(
            QRectF(0, y - fm_h, area.left() - fm_h * 0.4, fm_h * 2),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"{val:g}",
        )
    for sec in (
        _ticks(t0, t1, 10 if not minutes else 12)
        if not minutes
        else [m * 60 for m in _ticks(t0 / 60, t1 / 60, 12)]
    ):
        x = x_of(sec)
        p.setPen(grid)
        p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        p.setPen(text_pen)
        label = f"{sec / 60:g}" if minutes else f"{sec:g}"
        p.drawText(
            QRectF(x - fm_h * 3, area.bottom() + fm_h * 0.3, fm_h * 6, fm_h * 1.4),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            label,
        )
    p.drawText(
        QRectF(area.left(), height - fm_h * 1.5, area.width(), fm_h * 1.5),
        Qt.AlignmentFlag.AlignHCenter,
        "Session time (min)" if minutes else "Session time (s)",
    )
    p.save()
    p.translate(fm_h * 0.2, area.center().y())
    p.rotate(-90)
    p.drawText(
        QRectF(-area.height() / 2, 0, area.height(), fm_h * 1.5),
        Qt.AlignmentFlag.AlignHCenter,
        f"Vacuum ({unit})",
    )
    p.restore()
    p.setPen(QPen(QColor("#5b6b70"), 2))
    p.drawRect(area)

    # the trace: a peak-keeping envelope per pixel column, broken where samples are missing
    if len(t):
        path = QPainterPath()
        columns = int(area.width())
        if len(t) > 2 * columns:
            cols, lo, hi, starts = _envelope(t, v, t0, t1, columns)
            first_t = t[starts]
            prev_last_t = np.r_[first_t[0], t[starts[1:] - 1]]
            for i, c in enumerate(cols):
                x = area.left() + (c + 0.5) / columns * area.width()
                if i == 0 or first_t[i] - prev_last_t[i] > GAP_S:
                    path.moveTo(x, y_of(lo[i]))
                else:
                    path.lineTo(x, y_of(lo[i]))
                path.lineTo(x, y_of(hi[i]))
        else:
            for i in range(len(t)):
                pt = QPointF(x_of(t[i]), y_of(v[i]))
                if i == 0 or t[i] - t[i - 1] > GAP_S:
                    path.moveTo(pt)
                else:
                    path.lineTo(pt)
        p.setPen(QPen(QColor(TRACE_COLOUR), 2))
        p.drawPath(path)
    else:
        p.setPen(text_pen)
        p.drawText(area, Qt.AlignmentFlag.AlignCenter, "No trace was recorded.")

    if ceiling:
        pen = QPen(QColor("#d0021b"), 4, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(area.left(), y_of(ceiling)), QPointF(area.right(), y_of(ceiling)))
    for m in markers:
        x = x_of(float(m.get("t") or 0))
        p.setPen(QPen(QColor(MARKER_COLOUR), 3))
        p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        p.drawText(QPointF(x + fm_h * 0.3, area.top() + fm_h * 1.2), (m.get("label") or "marker")[:40])

    # legend
    p.setPen(text_pen)
    x = area.left()
    items = [("line", TRACE_COLOUR, "vacuum")]
    if ceiling:
        items.append(("dash", "#d0021b", f"ceiling {format_vacuum(ceiling_kpa, unit)}"))
    items += [("line", MARKER_COLOUR, "marker")]
    items += [("band", PRIORITY_COLOUR[pr], f"{PRIORITY_WORD[pr]} alarm") for pr in ("high", "medium", "low")]
    y = fm_h * 1.4
    for kind, colour, text in items:
        if kind == "band":
            c = QColor(colour)
            c.setAlpha(110)
            p.fillRect(QRectF(x, y - fm_h * 0.8, fm_h * 2, fm_h), c)
        else:
            style = Qt.PenStyle.DashLine if kind == "dash" else Qt.PenStyle.SolidLine
            p.setPen(QPen(QColor(colour), 4, style))
            p.drawLine(QPointF(x, y - fm_h * 0.3), QPointF(x + fm_h * 2, y - fm_h * 0.3))
        p.setPen(text_pen)
        p.drawText(QPointF(x + fm_h * 2.5, y), text)
        x += fm_h * 3 + p.fontMetrics().horizontalAdvance(text) + fm_h
    p.end()
    return image


# -- the documents ---------------------------------------------------------------------------------

_STYLE = """
body { font-family: 'DejaVu Sans'; font-size: 9pt; color: #1b1b1b; }
h1 { font-size: 15pt; margin: 0 0 2pt 0; }
h2 { font-size: 11pt; margin: 10pt 0 3pt 0; color: #12343b; }
td, th { padding: 2pt 6pt 2pt 0; vertical-align: top; }
th { text-align: left; color: #5b6b70; font-weight: normal; }
.small { font-size: 8pt; color: #5b6b70; }
.block { color: #b00020; font-weight: bold; }
.warn { color: #8a6500; font-weight: bold; }
"""


def _row(label: str, value_html: str) -> str:
    return f"<tr><th>{esc(label)}</th><td>{value_html}</td></tr>"


def _when(iso: str | None) -> str:
    if not iso:
        return "—"
    d = dt.datetime.fromisoformat(iso)
    return f"{fmt_date(d.date())} {d:%H:%M}"


def _client_rows(r: SessionRecord) -> str:
    c = r.client
    rows = [_row("Client", f"<b>{esc(c.name)}</b>")]
    if c.date_of_birth:
        rows.append(_row("Date of birth", esc(fmt_date(c.date_of_birth))))
    fitz = f"Fitzpatrick {FITZPATRICK[c.fitzpatrick]}" if c.fitzpatrick else "Fitzpatrick not assessed"
    rows.append(
        _row(
            "Skin",
            esc(
                f"{fitz} · {SENSITIVITIES.get(c.sensitivity, c.sensitivity)} skin · vacuum ceiling "
                f"{r.vac(c.vacuum_ceiling_kpa)}"
            ),
        )
    )
    rows.append(_row("Concerns", esc(", ".join(CONCERNS.get(k, k) for k in c.concerns) or "none recorded")))
    return "".join(rows)


def _duration(r: SessionRecord) -> str:
    secs = r.summary.get("duration_s")
    if secs is None and r.ended_at:
        secs = (dt.datetime.fromisoformat(r.ended_at) - r.started).total_seconds()
    if secs is None:
        return "—"
    m, s = divmod(int(secs), 60)
    return f"{m} min {s:02d} s"


def alarm_lines(r: SessionRecord) -> list[str]:
    out = []
    for a in r.alarms:
        end = a.get("ended")
        length = f"{float(end) - float(a['started']):.1f} s" if end is not None else "until the end"
        peak = f", peak {r.vac(a['peak_kpa'])}" if a.get("peak_kpa") else ""
        ack = (
            f", acknowledged by {a['acknowledged_by']}" if a.get("acknowledged_by") else ", not acknowledged"
        )
        out.append(
            f"{PRIORITY_PREFIX.get(a.get('priority'), '*')} {a.get('message') or a.get('kind')} — at "
            f"{float(a['started']):.1f} s for {length}{peak}{ack}"
        )
    return out


def session_record_html(r: SessionRecord) -> str:
    """The treatment-session record as HTML for QTextDocument (the plot is the resource "trace")."""
    notes = r.notes or {}
    parts = [f"<html><head><style>{_STYLE}</style></head><body>"]
    if r.clinic_name:
        parts.append(f"<p class='small'>{esc(r.clinic_name)}</p>")
    parts.append(
        f"<h1>Treatment session record</h1><p>{esc(r.client.name)} — {esc(_when(r.started_at))} · "
        f"session {r.session_id} · status {esc(r.status)}</p>"
    )
    parts.append("<h2>Client</h2><table>" + _client_rows(r) + "</table>")

    parts.append("<h2>Screening as it stood that day</h2>")
    if r.screening:
        lines = []
        for s in r.screening:
            cls = (
                "block"
                if s.get("active") and s.get("effect") == "block"
                else "warn"
                if s.get("active")
                else ""
            )
            prefix = "*** " if cls == "block" else "** " if cls == "warn" else ""
            lines.append(
                f"<li><span class='{cls}'>{esc(prefix + str(s.get('message', s.get('code'))))}</span></li>"
            )
        parts.append("<ul>" + "".join(lines) + "</ul>")
    else:
        parts.append("<p>No contraindications recorded.</p>")
    if r.override_reason:
        parts.append(
            f"<p class='block'>Treated despite a contraindication. Reason: {esc(r.override_reason)}</p>"
        )

    parts.append("<h2>Consent</h2>")
    parts.append("<p>" + "<br>".join(esc(line) for line in r.consent) + "</p>" if r.consent else "<p>—</p>")

    parts.append("<h2>Settings</h2><table>")
    parts.append(_row("Practitioner", esc(r.practitioner or "—")))
    parts.append(_row("Handpiece", esc(r.handpiece or "—")))
    for n, device in enumerate(r.devices, 1):
        label = "Device" if len(r.devices) == 1 else f"Device, segment {n}"
        parts.append(_row(label, esc(device)))
    mode = " ".join(x for x in (r.mode, f"{r.grit} grit" if r.grit else "") if x) or "—"
    parts.append(_row("Mode", esc(mode)))
    if r.crystal_flow:
        parts.append(_row("Crystal flow", esc(f"{r.crystal_flow} %")))
    parts.append(_row("Set-point / ceiling", esc(f"{r.vac(r.set_point_kpa)} / {r.vac(r.ceiling_kpa)}")))
    planned = []
    if r.planned_minutes:
        planned.append(f"{r.planned_minutes} min")
    if r.planned_passes:
        planned.append(f"{r.planned_passes} passes per area")
    parts.append(_row("Planned", esc(", ".join(planned) or "—")))
    parts.append(
        _row("Started / ended", esc(f"{_when(r.started_at)} / {_when(r.ended_at)} ({_duration(r)})"))
    )
    parts.append("</table>")

    parts.append("<h2>Areas and passes</h2>")
    passes = notes.get("passes") or {}
    areas = notes.get("areas") or []
    if areas:
        parts.append(
            "<table>"
            + "".join(_row(AREAS.get(a, a), esc(f"{passes.get(a, '—')} passes")) for a in areas)
            + "</table>"
        )
    else:
        parts.append("<p>—</p>")

    parts.append("<h2>Vacuum trace</h2>")
    s = r.summary or {}
    parts.append(
        "<p>"
        + esc(
            f"Samples recorded {r.samples_recorded:,}, lost {r.samples_lost:,}. "
            f"Mean on skin {r.vac(s.get('mean_kpa'))}, peak {r.vac(s.get('peak_kpa'))}, "
            f"time above the ceiling {float(s.get('above_ceiling_s') or 0):.1f} s."
        )
        + "</p>"
    )
    gaps = s.get("disconnections") or []
    if gaps:
        parts.append(
            "<p>"
            + "<br>".join(
                esc(f"Handpiece disconnected at {float(at):.1f} s for {float(gap):.1f} s.")
                for at, gap in gaps
            )
            + "</p>"
        )
    parts.append(f"<p><img src='trace' width='{TRACE_WIDTH_PX}'></p>")
    if r.markers:
        parts.append(
            "<p>Markers: "
            + "; ".join(esc(f"{float(m['t']):.1f} s {m.get('label') or 'marker'}") for m in r.markers)
            + "</p>"
        )

    parts.append("<h2>Alarms</h2>")
    lines = alarm_lines(r)
    parts.append(
        "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>" if lines else "<p>No alarms.</p>"
    )

    parts.append("<h2>Notes</h2><table>")
    parts.append(_row("Erythema at the end", esc(ERYTHEMA.get(notes.get("erythema"), "not recorded"))))
    findings = ", ".join(FINDINGS.get(f, f) for f in notes.get("findings") or []) or "none"
    parts.append(_row("Other findings", esc(findings)))
    parts.append(_row("Aftercare given", esc(notes.get("aftercare") or "—")))
    parts.append(_row("Notes", esc(notes.get("notes") or "—")))
    parts.append("</table>")

    parts.append("<h2>Amendments</h2>")
    if r.amendments:
        items = []
        for a in r.amendments:
            changes = []
            for key, pair in (a.get("details") or {}).items():
                old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
                changes.append(f"{key}: “{old if old not in (None, '') else '—'}” → “{new}”")
            items.append(
                f"<li>{esc(_when(a.get('at')))} by {esc(a.get('who') or '—')}: "
                f"{esc('; '.join(changes) or a.get('action', ''))}</li>"
            )
        parts.append("<ul>" + "".join(items) + "</ul>")
    else:
        parts.append("<p>None.</p>")
    parts.append(
        f"<p class='small'>Practitioner: {esc(r.practitioner or '—')} · printed "
        f"{esc(_when(dt.datetime.now().astimezone().isoformat(timespec='seconds')))} by Abrasio</p>"
    )
    parts.append("</body></html>")
    return "".join(parts)


def aftercare_html(r: SessionRecord) -> str:
    """The sheet handed to the client after the treatment: plain words, large type."""
    notes = r.notes or {}
    given = [line.strip(" -•\t") for line in (notes.get("aftercare") or "").splitlines() if line.strip()]
    advice = given or list(r.aftercare_templates)
    areas = ", ".join(AREAS.get(a, a) for a in notes.get("areas") or [])
    style = _STYLE.replace("9pt", "12pt").replace("15pt", "20pt").replace("11pt", "14pt")
    parts = [f"<html><head><style>{style}</style></head><body>"]
    if r.clinic_name:
        parts.append(f"<p><b>{esc(r.clinic_name)}</b></p>")
    parts.append(
        f"<h1>Aftercare</h1><p>For {esc(r.client.name)} · microdermabrasion on "
        f"{esc(fmt_date(r.started.date()))}" + (f" ({esc(areas)})" if areas else "") + "</p>"
    )
    parts.append(f"<h2>What to expect</h2><p>{esc(EXPECTED_REACTION)}</p>")
    parts.append("<h2>Looking after your skin</h2>")
    parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in advice) + "</ul>" if advice else "<p>—</p>")
    parts.append(f"<h2>When to call us</h2><p>{esc(CONTACT_IF)}</p>")
    if r.clinic_contact:
        parts.append(f"<p>{esc(r.clinic_contact)}</p>")
    parts.append(f"<p class='small'>Your practitioner: {esc(r.practitioner or '—')}</p></body></html>")
    return "".join(parts)


def document(html_text: str, resources: dict[str, QImage] | None = None) -> QTextDocument:
    doc = QTextDocument()
    doc.setDefaultFont(QFont("DejaVu Sans", 9))
    for name, image in (resources or {}).items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, name, image)
    doc.setHtml(html_text)
    return doc


def session_document(r: SessionRecord) -> QTextDocument:
    plot = trace_plot(r.t, r.vacuum_kpa, r.ceiling_kpa, r.markers, r.alarms, r.unit)
    return document(session_record_html(r), {"trace": plot})


def aftercare_document(r: SessionRecord) -> QTextDocument:
    return document(aftercare_html(r))


def pdf_bytes(doc: QTextDocument, title: str) -> bytes:
    """The document as an A4 PDF (page numbers at the foot of each page)."""
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setTitle(title)
    writer.setCreator("Abrasio")
    writer.setResolution(300)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    doc.print_(writer)
    del writer  # finishes the file
    buf.close()
    return bytes(ba.data())
