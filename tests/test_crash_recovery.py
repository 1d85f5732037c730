"""Kill a recording Abrasio with SIGKILL; the next start finds the session and loses at most ~1 s."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from desktop.main_window import MainWindow
from desktop.session.review import SessionReviewWindow
from desktop.store import Store
from tests.conftest import until


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_session_loses_at_most_a_second(qtbot, tmp_path):
    db = tmp_path / "clinic.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.recording_app", str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        sid_text, started_text = proc.stdout.readline().split()
        sid, started = int(sid_text), float(started_text)

        def recorded() -> int:
            conn = sqlite3.connect(db)
            try:
                row = conn.execute(
                    "SELECT samples_recorded FROM treatment_sessions WHERE id = ?", [sid]
                ).fetchone()
                return row[0] if row else 0
            finally:
                conn.close()

        until(lambda: recorded() > 4000, timeout=30)
        killed_at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()

    store = Store.open(db)
    try:
        assert store.integrity_check() == "ok"
        assert store.session(sid).status == "recording"  # as the killed process left it
        window = MainWindow(store)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        session = store.session(sid)
        assert session.status == "interrupted"
        assert window.banner.isVisible()
        assert "interrupted" in window.banner_label.text()

        tr = store.load_trace(sid)
        last_sample_at = started + float(tr["t"][-1])
        assert killed_at - last_sample_at <= 1.0, f"lost {killed_at - last_sample_at:.2f} s of trace"
        assert (tr["seq"][1:] - tr["seq"][:-1] == 1).all()  # no hole inside what was kept

        typed_at = float(store.notes(sid)["notes"].split()[-1])
        assert killed_at - typed_at <= 2.0, f"lost {killed_at - typed_at:.2f} s of notes"

        # it can be reviewed and closed with notes
        review = window._review_interrupted()
        assert isinstance(review, SessionReviewWindow)
        qtbot.addWidget(review)
        qtbot.waitUntil(lambda: review.trace is not None, timeout=10_000)
        review.notes_panel.notes.setPlainText("App was closed by force; treatment completed by hand.")
        review.close_interrupted()
        assert store.session(sid).status == "closed"
        window.recover_interrupted()
        assert not window.banner.isVisibleTo(window)
    finally:
        store.close()
