"""The past-session window's print, PDF and CSV, through the real window on a real database file."""

from __future__ import annotations

import csv
import json
import os
import stat

from PySide6.QtPrintSupport import QPrinter

from desktop.session.review import SessionReviewWindow
from tests.helpers.pdf import pdf_pages, pdf_text
from tests.helpers.sessions import recorded_client

DEADLINE_MS = 20_000


def review(qtbot, store, sid) -> SessionReviewWindow:
    win = SessionReviewWindow(store, sid, lambda: "Dr Ahn")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.trace is not None, timeout=DEADLINE_MS)
    return win


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))[1:]


def private(path) -> bool:
    return os.name != "posix" or stat.S_IMODE(path.stat().st_mode) == 0o600


def test_trace_csv_whole_session_and_visible_range(qtbot, store, tmp_path):
    _cid, (sid, _), n = recorded_client(store)
    win = review(qtbot, store, sid)
    assert win.outputs.button.isVisible()
    whole = tmp_path / "whole.csv"
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        win.outputs.write("csv", whole)
    assert len(rows(whole)) == n == len(store.load_trace(sid)["t"])
    assert private(whole) and private(whole.with_suffix(".json"))
    side = json.loads(whole.with_suffix(".json").read_text())
    assert side["samples"] == n and side["range_s"] is None

    win.plot.setXRange(1.0, 2.0, padding=0)
    lo, hi = win.outputs.visible_range()
    visible = tmp_path / "visible.csv"
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        win.outputs.write("csv-visible", visible)
    got = rows(visible)
    t = store.load_trace(sid)["t"]
    expected = ((t >= lo) & (t <= hi)).sum()
    assert 900 < len(got) == expected < n  # about 1 s at 1,000 samples/s
    assert all(lo <= float(r[0]) <= hi for r in got)
    actions = [e.action for e in store.change_log("session", sid)]
    assert actions.count("export trace csv") == 2


def test_record_and_aftercare_pdf_from_the_window(qtbot, store, tmp_path):
    _cid, (sid, _), _n = recorded_client(store, hostile=True)
    win = review(qtbot, store, sid)
    record = tmp_path / "record.pdf"
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        win.outputs.write("record", record)
    text = " ".join(pdf_text(record).split())
    assert (
        "Okafor <b>&</b>" in text
        and "Vacuum above the ceiling" in text
        and "Markers: 0.5 s left cheek" in text
    )
    assert private(record) and pdf_pages(record, tmp_path)
    after = tmp_path / "aftercare.pdf"
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        win.outputs.write("aftercare", after)
    assert "Mild redness and sensitivity" in " ".join(pdf_text(after).split())


def test_print_goes_through_a_qprinter(qtbot, store, tmp_path):
    _cid, (sid, _), _n = recorded_client(store)
    win = review(qtbot, store, sid)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    with qtbot.waitSignal(win.outputs.written, timeout=DEADLINE_MS):
        win.outputs.print_document("aftercare", printer)
    assert "Aftercare" in pdf_text(tmp_path / "printed.pdf")
    assert store.change_log("session", sid)[-1].action == "print aftercare"


def test_unwritable_place_is_said(qtbot, store, tmp_path):
    _cid, (sid, _), _n = recorded_client(store)
    win = review(qtbot, store, sid)
    messages: list[str] = []
    win.outputs.failed.connect(messages.append)
    target = tmp_path / "no-such-folder" / "x.csv"
    with qtbot.waitSignal(win.outputs.failed, timeout=DEADLINE_MS):
        win.outputs.write("csv", target)
    assert "could not be written" in messages[0]
    box = win.outputs.message_box
    assert box.isVisible() and "could not be written" in box.text()  # the user is told, in words
    box.close()
