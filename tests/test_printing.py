"""Printable records from plain data: the PDF is rendered (pdftoppm) and read back (pdftotext)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PySide6.QtGui import QImage

from desktop.printing import (
    PRIORITY_COLOUR,
    TRACE_COLOUR,
    SessionRecord,
    aftercare_document,
    pdf_bytes,
    session_document,
    trace_plot,
)
from desktop.records import Client
from tests.helpers.pdf import count_colour, pdf_pages, pdf_text

HOSTILE = "<b>Bold</b> <img src='/etc/passwd'> & Co"


def record(**over) -> SessionRecord:
    t = np.arange(0, 600, 0.002)
    v = 30 + 1.5 * np.sin(t * 3)
    v[(t > 100) & (t < 103)] = 52.0
    fields = dict(
        client=Client(
            "Ana",
            "Okafor " + HOSTILE,
            dt.date(1990, 3, 4),
            fitzpatrick=4,
            sensitivity="sensitive",
            concerns=["acne_scars"],
            vacuum_ceiling_kpa=45.0,
        ),
        session_id=7,
        started_at="2026-11-20T10:15:00+00:00",
        ended_at="2026-11-20T10:25:10+00:00",
        status="completed",
        practitioner="Dr Jo Ahn",
        handpiece="sim://",
        mode="diamond",
        grit="medium",
        crystal_flow=None,
        set_point_kpa=30.0,
        ceiling_kpa=45.0,
        planned_minutes=20,
        planned_passes=3,
        override_reason="",
        summary={"duration_s": 610, "mean_kpa": 30.1, "peak_kpa": 52.0, "above_ceiling_s": 3.0},
        samples_recorded=len(t),
        samples_lost=12,
        screening=[
            {"code": "laser_peel", "active": True, "effect": "warn", "message": "Laser peel: caution"},
        ],
        consent=["Consent on file: 1 Oct 2026, witnessed by Sam " + HOSTILE],
        notes={
            "areas": ["forehead", "cheeks"],
            "passes": {"forehead": 3, "cheeks": 2},
            "erythema": "mild",
            "findings": ["petechiae"],
            "aftercare": "SPF 30 every day\nNo retinoids for 3 days",
            "notes": "Tolerated well " + HOSTILE,
        },
        t=t,
        vacuum_kpa=v,
        markers=[{"t": 50.0, "label": "left cheek " + HOSTILE}],
        alarms=[
            {
                "priority": "high",
                "kind": "over_ceiling",
                "message": "Vacuum above the ceiling",
                "started": 100.0,
                "ended": 103.0,
                "peak_kpa": 52.0,
                "acknowledged_by": "Dr Jo Ahn",
            },
            {
                "priority": "medium",
                "kind": "dwell",
                "message": "Tip held still",
                "started": 300.0,
                "ended": 320.0,
                "peak_kpa": None,
                "acknowledged_by": None,
            },
        ],
        amendments=[
            {
                "at": "2026-11-20T11:00:00+00:00",
                "who": "Dr Jo Ahn",
                "details": {"notes": ["a", "b " + HOSTILE]},
            }
        ],
        clinic_name="Skin Clinic",
    )
    return SessionRecord(**(fields | over))


def flat(text: str) -> str:
    return " ".join(text.split())


def test_session_record_pdf_has_every_section_and_user_text_stays_text(qapp, tmp_path):
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(pdf_bytes(session_document(record()), "Treatment session record"))
    text = flat(pdf_text(pdf))
    for words in (
        "Treatment session record",
        "Screening as it stood that day",
        "** Laser peel: caution",
        "Consent on file: 1 Oct 2026",
        "Set-point / ceiling 30.0 kPa / 45.0 kPa",
        "Forehead 3 passes",
        "Cheeks 2 passes",
        "*** Vacuum above the ceiling — at 100.0 s for 3.0 s, peak 52.0 kPa, acknowledged by Dr Jo Ahn",
        "** Tip held still — at 300.0 s for 20.0 s, not acknowledged",
        "Erythema at the end Mild",
        "Petechiae",
        "SPF 30 every day",
        "Amendments",
        "Practitioner: Dr Jo Ahn",
    ):
        assert words in text, words
    # every piece of typed text shows its angle brackets: it was never read as HTML
    squeezed, hostile = "".join(text.split()), "".join(HOSTILE.split())  # lines may wrap inside it
    assert squeezed.count(hostile) == 6, text  # name (twice), consent, marker, notes, amendment
    pages = pdf_pages(pdf, tmp_path, dpi=150)
    assert len(pages) >= 2
    # the plot is on the first page: its trace, ceiling line and alarm bands are there in colour
    first = pages[0]
    assert count_colour(first, "#d0021b", 60) > 300  # the dashed ceiling across the plot
    assert count_colour(first, "#f2b9c0", 12) > 200  # the high alarm's band (red at alpha 70 on white)
    assert count_colour(first, "#fbeeb9", 12) > 1000  # the medium alarm's band (yellow, wider)
    assert count_colour(first, TRACE_COLOUR, 40) > 1000


def test_aftercare_sheet(qapp, tmp_path):
    pdf = tmp_path / "aftercare.pdf"
    pdf.write_bytes(pdf_bytes(aftercare_document(record()), "Aftercare"))
    text = flat(pdf_text(pdf))
    assert "Aftercare" in text and "".join(("Okafor " + HOSTILE).split()) in "".join(text.split())
    assert "Mild redness and sensitivity are expected" in text
    assert "SPF 30 every day" in text and "No retinoids for 3 days" in text
    assert "Forehead, Cheeks" in text and "Skin Clinic" in text
    assert pdf_pages(pdf, tmp_path)  # renders


def test_aftercare_falls_back_to_the_clinic_templates(qapp, tmp_path):
    r = record(notes={"areas": []}, aftercare_templates=["Template advice one"])
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(pdf_bytes(aftercare_document(r), "Aftercare"))
    assert "Template advice one" in flat(pdf_text(pdf))


def _trace_rows(image: QImage, column: int | None = None) -> list[int]:
    """Rows holding the trace's colour (in one column, or anywhere)."""
    h, w = image.height(), image.width()
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(img.constBits(), np.uint8, h * img.bytesPerLine()).reshape(h, -1)
    bgr = raw[:, : w * 4].reshape(h, w, 4)[:, :, :3].astype(np.int16)
    want = np.array([0x3B, 0x34, 0x12], np.int16)  # TRACE_COLOUR #12343b as BGR
    hit = (np.abs(bgr - want) <= 12).all(axis=2)
    if column is not None:
        hit = hit[:, column : column + 1]
    hit[: 3 * max(12, h // 30)] = False  # the legend above the plot area
    return list(np.flatnonzero(hit.any(axis=1)))


def test_plot_keeps_a_one_millisecond_spike_in_an_hour(qapp):
    t = np.arange(0, 3600, 0.001)
    v = np.full(len(t), 30.0)
    plain = trace_plot(t, v, 45.0, [], [], size=(1200, 400))
    v[1_800_000] = 80.0  # one sample
    spiked = trace_plot(t, v, 45.0, [], [], size=(1200, 400))
    assert min(_trace_rows(spiked)) < min(_trace_rows(plain)) - 60


def test_plot_does_not_join_across_missing_samples(qapp):
    t = np.r_[np.arange(0, 40, 0.01), np.arange(60, 100, 0.01)]
    v = np.full(len(t), 30.0)
    image = trace_plot(t, v, None, [], [], size=(1000, 400))
    # the middle of the 40-60 s gap, in pixels: the plot's left margin is 5 font heights
    left = 5 * max(12, 400 // 30)
    right = 1000 - 1.5 * max(12, 400 // 30)
    gap_x = int(left + 0.5 * (right - left))
    assert _trace_rows(image, gap_x) == []
    assert _trace_rows(image, gap_x - 200) != []


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
def test_plot_draws_each_alarm_band(qapp, priority):
    t = np.arange(0, 100, 0.01)
    alarm = {"priority": priority, "started": 40.0, "ended": 60.0}
    with_band = trace_plot(t, np.full(len(t), 20.0), None, [], [alarm], size=(800, 300))
    without = trace_plot(t, np.full(len(t), 20.0), None, [], [], size=(800, 300))
    assert with_band != without
    assert with_band.pixelColor(400, 150) != without.pixelColor(400, 150)
    assert PRIORITY_COLOUR[priority]
