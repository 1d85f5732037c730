"""The printed session record checked against issue #13 point by point: the trace plot fits the page
(nothing of the session cut off at the right margin), and the consent shown is the one that stood on
the day of the session."""

from __future__ import annotations

import datetime as dt

import numpy as np
from PySide6.QtGui import QImage

from desktop.export import load_session_record
from desktop.printing import pdf_bytes, session_document
from desktop.records import Client, fmt_date
from desktop.store import trace as tracepack
from tests.helpers.consent import sign_consent
from tests.helpers.pdf import pdf_pages, pdf_text

A4_MM = 210.0


def flat(text: str) -> str:
    return " ".join(text.split())


def session_with_trace(store, cid: int, seconds: int = 600) -> int:
    sid = store.create_session(
        cid, "Dr Ahn", ceiling_kpa=40.0, set_point_kpa=28.0, areas=["chin"], screening=[]
    )
    n = seconds * 20
    t = np.arange(n) * 0.05
    v = np.full(n, 28.0)
    v[-100:] = 47.0  # the last five seconds: far above everything else, at the very right of the plot
    blocks = [
        tracepack.pack(
            np.arange(i, min(i + 1000, n), dtype=np.int64),
            t[i : i + 1000],
            v[i : i + 1000],
            np.full(min(1000, n - i), 0x03, np.uint8),
        )
        for i in range(0, n, 1000)
    ]
    store.append_trace(sid, 0, blocks)
    store.finish_session(sid, {"duration_s": seconds, "samples": n})
    return sid


def ink_columns(png) -> np.ndarray:
    """For each pixel column of the page, whether anything but white is drawn in it (the footer with the
    page number left out)."""
    image = QImage(str(png)).convertToFormat(QImage.Format.Format_Grayscale8)
    h, w = image.height(), image.width()
    raw = np.frombuffer(image.constBits(), np.uint8, h * image.bytesPerLine()).reshape(h, -1)[:, :w]
    body = raw[: int(h * 0.9)]
    return (body < 200).any(axis=0)


def test_the_trace_plot_fits_inside_the_page_margins(qapp, store, tmp_path):
    cid = store.add_client(Client("Ada", "Okafor", vacuum_ceiling_kpa=40.0))
    sid = session_with_trace(store, cid)
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(pdf_bytes(session_document(load_session_record(store, sid)), "Treatment session record"))
    [first, *_] = pdf_pages(pdf, tmp_path, dpi=100)
    inked = np.flatnonzero(ink_columns(first))
    mm_per_px = A4_MM / len(ink_columns(first))
    left_mm, right_mm = inked[0] * mm_per_px, inked[-1] * mm_per_px
    # the text starts 35 mm in (the writer's 15 mm and the document's own 2 cm); the plot may not
    # reach further right than the text may (175 mm), or its right part is cut off by the page
    assert 30 < left_mm < 40, left_mm
    assert right_mm < 177, f"the plot runs {right_mm - 175:.1f} mm past the text's right margin"
    # and the last minutes are on the page: the surge in the final 5 s is drawn (its pixels are the
    # highest of the trace, near the plot's right border)
    image = QImage(str(first)).convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    raw = np.frombuffer(image.constBits(), np.uint8, h * image.bytesPerLine()).reshape(h, -1)
    bgr = raw[:, : w * 4].reshape(h, w, 4)[:, :, :3].astype(np.int16)
    dark = (bgr.max(axis=2) < 90).any(axis=0)  # the trace is drawn near-black
    assert dark[int(165 / mm_per_px) : int(176 / mm_per_px)].any()


def test_the_record_shows_the_consent_as_it_stood_that_day(qapp, store, tmp_path):
    today = dt.date.today()
    expired = today - dt.timedelta(days=400)
    later = today + dt.timedelta(days=3)
    lapsed = store.add_client(Client("Bo", "Lapsed"))
    sign_consent(store, lapsed, on=expired, witness="Dr Old")
    sid = session_with_trace(store, lapsed, seconds=30)
    sign_consent(store, lapsed, on=later, witness="Dr Later")  # after the session: not on its record
    lines = load_session_record(store, sid).consent
    assert lines[0].startswith("Expired on the day of the session"), lines
    assert fmt_date(expired) in lines[0] and "Dr Old" in lines[0]
    assert not any("Dr Later" in line or fmt_date(later) in line for line in lines), lines

    fine = store.add_client(Client("Cy", "Current"))
    signed = today - dt.timedelta(days=60)
    sign_consent(store, fine, on=signed, witness="Dr Now")
    sid2 = session_with_trace(store, fine, seconds=30)
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(pdf_bytes(session_document(load_session_record(store, sid2)), "Treatment session record"))
    text = flat(pdf_text(pdf))
    assert "Valid on the day of the session" in text and f"signed {fmt_date(signed)}" in text, text
    assert "witnessed by Dr Now" in text

    nobody = store.add_client(Client("Di", "None"))
    sid3 = session_with_trace(store, nobody, seconds=30)
    assert load_session_record(store, sid3).consent == ["No consent was on file on the day of the session."]


def test_each_disconnection_and_its_length_is_named_in_the_review_and_the_record(
    qtbot, window, store, tmp_path
):
    cid = store.add_client(Client("Dee", "Gap", vacuum_ceiling_kpa=40.0))
    sid = store.create_session(
        cid, "Dr Ahn", ceiling_kpa=40.0, set_point_kpa=28.0, areas=["chin"], screening=[]
    )
    t = np.arange(2000) * 0.01
    t[1000:] += 3.2
    store.append_trace(
        sid,
        0,
        [tracepack.pack(np.arange(2000, dtype=np.int64), t, np.full(2000, 28.0), np.full(2000, 3, np.uint8))],
    )
    summary = {"duration_s": 30, "samples": 2000, "disconnections": [[10.0, 3.2], [25.4, 1.05]]}
    store.finish_session(sid, summary)
    review = window.open_session(sid)
    qtbot.addWidget(review)
    qtbot.waitUntil(lambda: "Disconnected at 25.4 s" in review.summary.text(), timeout=10_000)
    assert "Disconnected at 10.0 s for 3.2 s" in review.summary.text()
    assert "Disconnected at 25.4 s for 1.1 s" in review.summary.text()
    review.close()
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(pdf_bytes(session_document(load_session_record(store, sid)), "Treatment session record"))
    text = flat(pdf_text(pdf))
    assert "Handpiece disconnected at 10.0 s for 3.2 s." in text
    assert "Handpiece disconnected at 25.4 s for 1.1 s." in text


def test_the_record_names_each_handpiece_by_its_serial(qapp, store, tmp_path):
    from device.protocol import Hello

    cid = store.add_client(Client("Hal", "Serial", vacuum_ceiling_kpa=40.0))
    sid = session_with_trace(store, cid, seconds=30)
    store.set_session_device(sid, 1, Hello("Abrasio H-2", "SN-0042", "2.0.1", 1000))
    store.set_session_device(sid, 2, Hello("Other H-9", "SN-7", "1.1", 500))
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(pdf_bytes(session_document(load_session_record(store, sid)), "Treatment session record"))
    text = flat(pdf_text(pdf))
    assert "Device, segment 1 Abrasio H-2, serial SN-0042 (firmware 2.0.1, 1000 samples/s)" in text
    assert "Device, segment 2 Other H-9, serial SN-7 (firmware 1.1, 500 samples/s)" in text


def test_the_record_keeps_the_screening_as_it_stood_on_the_day(qtbot, window, store, tmp_path):
    from desktop.records import ScreeningAnswer
    from tests.test_session_gui import end, start

    cid = store.add_client(Client("Sara", "Screened", vacuum_ceiling_kpa=30.0))
    sign_consent(store, cid)
    store.save_screening(cid, [ScreeningAnswer("anticoagulants")])
    live = start(qtbot, window, cid, "sim://?rate=200&auto=0&seed=5")
    qtbot.waitUntil(lambda: live.samples_received > 50, timeout=10_000)
    sid = live.session_id
    end(qtbot, live)
    store.save_screening(cid, [])  # later the client stops the anticoagulants: today's screening is clear
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(pdf_bytes(session_document(load_session_record(store, sid)), "Treatment session record"))
    text = flat(pdf_text(pdf))
    assert "** Anticoagulants or NSAIDs: caution while active" in text, text
