"""Kill a recording Abrasio with SIGKILL, many times, at random points of its flush cycle; the next
start finds every session and none lost more than ~1 s of trace or ~2 s of typed notes.

The recorder commits every FLUSH_S (0.5 s). A kill lands anywhere in that cycle: the kills here are
spread over 3 s after a first commit is seen, so a recorder flushing every 3 s would lose more than a
second in most of them: it passes only if all 6 kills land in the first third of the cycle,
(1/3)**6 = 0.14 %. Tried with FLUSH_S = 3.0 (issue #9's check): it failed both times, losing up to
2.76 s of trace. The runtime is bounded: 6 kills of at most SPREAD_S each after a start (~22 s here).
"""

from __future__ import annotations

import os
import random
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
from tests.helpers.people import PLAIN

KILLS = 6
SPREAD_S = 3.0  # kill points: uniform over this long after the first commit is seen


def _recorded(db, sid: int) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT samples_recorded FROM treatment_sessions WHERE id = ?", [sid]).fetchone()
        return row[0] if row else 0
    finally:
        conn.close()


def _record_and_kill(db, delay: float) -> tuple[int, float, float]:
    """A real Abrasio process records; it is killed ``delay`` s after its first commit is seen."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.recording_app", str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        sid_text, started_text = proc.stdout.readline().split()
        sid, started = int(sid_text), float(started_text)
        until(lambda: _recorded(db, sid) > 0, timeout=30)
        time.sleep(delay)  # a random point of the flush cycle (not a wait for a condition)
        killed_at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    return sid, started, killed_at


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_at_random_points_loses_at_most_a_second(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.store.owner.STALE_AFTER_S", 1.0)  # 10 s in the app
    db = tmp_path / "clinic.db"
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    kills = [_record_and_kill(db, rng.uniform(0, SPREAD_S)) for _ in range(KILLS)]

    store = Store.open(db)
    window = None
    try:
        assert store.integrity_check() == "ok"
        assert {store.session(sid).status for sid, _s, _k in kills} == {"recording"}  # as left
        window = MainWindow(store, person=PLAIN)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        # their processes are gone; once their heartbeats are stale too, they are marked interrupted
        qtbot.waitUntil(lambda: f"{KILLS} treatment sessions were interrupted" in window.banner_label.text())
        assert window.banner.isVisible()

        lost = []
        for sid, started, killed_at in kills:
            assert store.session(sid).status == "interrupted"
            tr = store.load_trace(sid)
            assert (tr["seq"][1:] - tr["seq"][:-1] == 1).all()  # no hole inside what was kept
            lost.append(killed_at - (started + float(tr["t"][-1])))
            notes = store.notes(sid)["notes"]
            typed_at = float(notes.split()[-1]) if notes else started  # typing starts with it
            assert killed_at - typed_at <= 2.0, f"lost {killed_at - typed_at:.2f} s of notes (seed {seed})"
        assert max(lost) <= 1.0, f"lost {[round(x, 2) for x in lost]} s of trace (seed {seed})"

        # each can be reviewed and closed with notes
        review = window._review_interrupted()
        assert isinstance(review, SessionReviewWindow)
        qtbot.waitUntil(lambda: review.trace is not None, timeout=10_000)
        review.notes_panel.notes.setPlainText("App was closed by force; treatment completed by hand.")
        review.close_interrupted()
        assert store.session(kills[0][0]).status == "closed"
        window.recover_interrupted()
        assert f"{KILLS - 1} treatment sessions were interrupted" in window.banner_label.text()
        review.close()
    finally:
        if window is not None:
            for w in window.findChildren(SessionReviewWindow):
                w.close()
            window.close()
        store.close()


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_second_abrasio_never_touches_a_session_another_live_process_records(qtbot, tmp_path, monkeypatch):
    """The issue's bug: a second instance on the same file marked the first one's live session
    interrupted, and closing it there overwrote the first one's notes. Two real processes."""
    monkeypatch.setattr("desktop.store.owner.STALE_AFTER_S", 2.0)  # 10 s in the app
    db = tmp_path / "clinic.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.recording_app", str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        sid = int(proc.stdout.readline().split()[0])
        store = Store.open(db)  # the second Abrasio, on the same file, while the first records
        window = MainWindow(store, person=PLAIN)
        qtbot.addWidget(window)
        owner = store.session_owner(sid)
        assert owner is not None and owner.pid == proc.pid
        qtbot.wait(3000)  # longer than STALE_AFTER_S: the heartbeat is fresh, the owner alive
        assert store.session(sid).status == "recording"
        assert not window.banner.isVisibleTo(window)
        assert store.session(sid).samples_recorded > 0

        proc.send_signal(signal.SIGKILL)  # now the first one dies
        proc.wait()
        assert store.session(sid).status == "recording"  # not at once: the heartbeat is fresh
        qtbot.waitUntil(lambda: store.session(sid).status == "interrupted", timeout=15_000)
        assert "1 treatment session was interrupted" in window.banner_label.text()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    store.close()
