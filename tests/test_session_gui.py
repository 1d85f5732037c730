"""A treatment session through the real widgets, the simulator on a real pseudo-terminal."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.records import Client, ScreeningAnswer, add_months, fmt_date
from desktop.session.live import LiveSessionWindow, RingBuffer
from desktop.session.review import SessionReviewWindow
from desktop.session.start_dialog import StartSessionDialog
from device.link import LinkState
from device.simulator import PtySimulator, SimulatedHandpiece
from device.urlhandler import protocol_sim
from tests.conftest import log_in_as
from tests.helpers.consent import sign_consent

posix_only = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX only")


class PtyHandpiece:
    """The simulator on a real pseudo-terminal (POSIX): pyserial's own serial path."""

    def __init__(self, tmp_path):
        self.url = str(tmp_path / "handpiece")
        self.sims = [PtySimulator(SimulatedHandpiece(1000, seed=11), link=self.url).start()]

    @property
    def device(self) -> SimulatedHandpiece:
        return self.sims[-1].device

    def unplug(self) -> None:
        self.sims[-1].disconnect()

    def replug(self) -> None:
        self.sims.append(PtySimulator(SimulatedHandpiece(1000, seed=12), link=self.url).start())

    def close(self) -> None:
        for sim in self.sims:
            sim.close()


class SimHandpiece:
    """The in-process sim:// port: the same scenarios where there are no pseudo-terminals (Windows)."""

    url = "sim://?rate=1000&auto=0&seed=11"

    def __init__(self, _tmp_path):
        pass

    @property
    def device(self) -> SimulatedHandpiece:
        return protocol_sim.last_device()

    def unplug(self) -> None:
        protocol_sim.unplug()

    def replug(self) -> None:
        protocol_sim.replug()

    def close(self) -> None:
        protocol_sim.replug()


@pytest.fixture(
    params=[pytest.param(PtyHandpiece, id="pty", marks=posix_only), pytest.param(SimHandpiece, id="sim")]
)
def handpiece(request, tmp_path):
    hp = request.param(tmp_path)
    yield hp
    hp.close()


WAIT = 10_000  # ms: every condition's deadline


@pytest.fixture
def client_id(store):
    cid = store.add_client(Client("Maria", "Gonzalez", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    sign_consent(store, cid)
    return cid


def start(qtbot, window, client_id, port) -> LiveSessionWindow:
    window.show_client(client_id)
    qtbot.keyClick(window.client_page, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    dlg = window.findChild(StartSessionDialog)
    assert dlg is not None
    dlg.handpiece.setEditText(port)
    dlg.set_point.setValue(22.0)
    dlg.areas["cheeks"].setChecked(True)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "Confirm that you asked" in dlg.problem.text()
    dlg.confirm.setChecked(True)
    with qtbot.waitSignal(dlg.started, timeout=WAIT):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    live = window.session_windows[-1]
    qtbot.waitExposed(live)
    return live


def test_full_session(qtbot, window, store, client_id, handpiece):
    log_in_as(window, "Nurse Test")
    hp = handpiece
    try:
        live = start(qtbot, window, client_id, hp.url)
        # samples reach the graph and the readout
        qtbot.waitUntil(lambda: n_points(live.curve) > 500, timeout=WAIT)
        qtbot.waitUntil(lambda: live.readout.text().replace(".", "").isdigit(), timeout=WAIT)
        assert 15 < float(live.readout.text()) < 30
        qtbot.waitUntil(lambda: hp.device.model.set_point == 22.0, timeout=WAIT)  # set-point sent

        # suction surge above the ceiling: high-priority alarm starts, then ends
        hp.device.surge(40.0)
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("*** Vacuum above"), timeout=WAIT)
        assert live.engine.highest().priority == "high"
        qtbot.waitUntil(lambda: live.readout.property("state") == "over", timeout=WAIT)  # red
        assert live.sound.plays >= 1
        hp.device.scenario("glide")
        qtbot.waitUntil(lambda: live.engine.find("over_ceiling") is None, timeout=WAIT)
        # ended unacknowledged: latched in the banner until acknowledged
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("*** above the ceiling for"), timeout=WAIT)
        assert live.readout.property("state") == "ok"
        qtbot.keyClick(live, Qt.Key.Key_A)
        qtbot.waitUntil(lambda: not live.alarm_bar.text().startswith("***"), timeout=WAIT)

        # the tip held still: dwell alarm (medium)
        hp.device.scenario("hold")
        qtbot.waitUntil(lambda: live.engine.find("dwell") is not None, timeout=WAIT)
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("** Tip held still"), timeout=WAIT)
        live.acknowledge()
        assert live.engine.find("dwell").acknowledged_by == "Nurse Test"
        live.pause_audio()
        assert live.audio_button.text() == "Audio paused 2:00"
        hp.device.scenario("glide")
        qtbot.waitUntil(lambda: live.engine.find("dwell") is None, timeout=WAIT)

        # markers: key M, then a label
        qtbot.keyClick(live, Qt.Key.Key_M)
        qtbot.keyClicks(live.marker_label, "left cheek, pass 2")
        qtbot.keyClick(live.marker_label, Qt.Key.Key_Return)
        live.drop_marker()
        assert len(live.markers) == 2 and live.markers[0]["label"] == "left cheek, pass 2"

        # dropped frames are counted, never guessed
        hp.device.drop_frames(20)
        qtbot.waitUntil(lambda: live.link.stats().frames_lost == 20, timeout=WAIT)
        qtbot.waitUntil(lambda: live.run.lost == 20, timeout=WAIT)

        # passes beyond the plan (3 per area, set at the start): a medium alarm
        _box, passes = live.notes_panel.areas["cheeks"]
        passes.setValue(4)
        assert live.engine.find("passes").text == "** Passes beyond the plan: Cheeks 4 of 3"
        qtbot.waitUntil(lambda: "Passes beyond the plan: Cheeks 4" in live.alarm_bar.text(), timeout=WAIT)
        passes.setValue(3)
        assert live.engine.find("passes") is None

        # notes autosave while typing
        qtbot.keyClicks(live.notes_panel.notes, "Tolerated well, mild redness")
        live.notes_panel.erythema.setCurrentIndex(live.notes_panel.erythema.findData("mild"))
        qtbot.waitUntil(
            lambda: store.notes(live.session_id)["notes"] == "Tolerated well, mild redness", timeout=WAIT
        )

        # unplug mid-session: disconnected, keeps running, reconnects by itself
        hp.unplug()
        qtbot.waitUntil(lambda: live.link.state is LinkState.DISCONNECTED, timeout=WAIT)
        qtbot.waitUntil(lambda: live.readout.text() == "disconnected", timeout=WAIT)
        qtbot.waitUntil(lambda: live.engine.find("disconnected") is not None, timeout=WAIT)
        hp.replug()
        qtbot.waitUntil(lambda: live.link.state is LinkState.CONNECTED, timeout=WAIT)
        n = live.samples_received
        qtbot.waitUntil(lambda: live.samples_received > n + 500, timeout=WAIT)
        assert live.engine.find("disconnected") is None

        summary = end(qtbot, live)
        sid = live.session_id
        assert summary["alarms"] >= 3 and summary["markers"] == 2
        # 20 dropped, and what the replaced (restarted) handpiece did not send across the gap
        ((_at, gap),) = summary["disconnections"]
        assert 0 < gap < 5 and abs(summary["lost"] - 20 - gap * 1000) <= 51 + 2
    finally:
        hp.close()

    session = store.session(sid)
    assert session.status == "completed"
    assert session.samples_lost == summary["lost"]
    tr = store.load_trace(sid)
    # every sample received is stored, and it is what the simulators sent minus the gaps counted
    assert len(tr["seq"]) == summary["samples"] == session.samples_recorded
    spans = _spans(tr["seq"])
    assert len(spans) == 2  # one run per simulator
    assert sum(last - first + 1 for first, last in spans) - 20 == len(tr["seq"])
    kinds = {a.kind: a for a in store.alarms(sid)}
    assert kinds["over_ceiling"].priority == "high" and kinds["over_ceiling"].peak_kpa > 30
    assert kinds["over_ceiling"].ended > kinds["over_ceiling"].started
    assert any(a.kind == "dwell" and a.acknowledged_by == "Nurse Test" for a in store.alarms(sid))
    assert "disconnected" in kinds
    assert kinds["passes"].priority == "medium" and kinds["passes"].ended is not None
    assert [m.label for m in store.markers(sid)] == ["left cheek, pass 2", ""]
    notes = store.notes(sid)
    assert notes["erythema"] == "mild" and notes["areas"] == ["cheeks"]
    # the client's history shows it
    window.show_client(client_id)
    assert window.client_page.sessions.rowCount() == 1

    # read back: the whole trace, markers, alarms; amend the notes (logged)
    review = window.open_session(sid)
    qtbot.addWidget(review)
    qtbot.waitUntil(lambda: review.trace is not None, timeout=WAIT)
    assert np.isfinite(review.curve.yData).sum() == len(tr["seq"])
    assert np.isnan(review.curve.yData).sum() == 2  # the 20 dropped and the replug: drawn as gaps
    assert "Vacuum above" in review.alarm_list.text()
    review.start_amend()
    review.notes_panel.notes.setPlainText("Tolerated well; redness settled in 2 h")
    review.save_amendment()
    log = store.change_log("session", sid)
    assert log[-1].action == "amend notes" and log[-1].who == "Nurse Test"


def end(qtbot, live) -> dict:
    """End without the question (it is tested on its own); wait until it is on disk."""
    with qtbot.waitSignal(live.finished, timeout=WAIT):
        live.end_session()
    assert live.save_error is None
    return live.summary_result


def n_points(curve) -> int:
    """Points given to a curve (before pyqtgraph's view clipping and downsampling)."""
    return 0 if curve.xData is None else len(curve.xData)


def _spans(seq: np.ndarray) -> list[tuple[int, int]]:
    """Runs of a sequence that restarts (a new device): [(first, last), …]."""
    breaks = np.flatnonzero(np.diff(seq) <= 0)
    starts = [0, *(breaks + 1)]
    ends = [*breaks, len(seq) - 1]
    return [(int(seq[a]), int(seq[b])) for a, b in zip(starts, ends, strict=True)]


def test_contraindication_override_needs_what_was_done_a_sentence_and_a_second_yes(
    qtbot, window, store, client_id
):
    store.save_screening(
        client_id,
        [ScreeningAnswer("cold_sores"), ScreeningAnswer("anticoagulants")],
    )
    window.show_client(client_id)
    dlg = window.start_session(client_id)
    text = dlg.screening.text()  # blocking red, caution amber, each line escaped
    assert "color:#b00020; font-weight:600'>*** Active cold sores: no microdermabrasion while active" in text
    assert "color:#8a6500; font-weight:600'>** Anticoagulants or NSAIDs: caution while active" in text
    dlg.confirm.setChecked(True)
    dlg.handpiece.setCurrentIndex(0)  # simulated handpiece
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "choose what was done" in dlg.problem.text() and "full sentence" in dlg.problem.text()
    dlg.override_action.setCurrentIndex(dlg.override_action.findData("Client's doctor consulted"))
    dlg.override.setText("x")  # not a reason
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "full sentence" in dlg.problem.text() and "choose" not in dlg.problem.text()
    dlg.override.setText("Lesion healed, dermatologist letter on file")
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    box = dlg.override_box_confirm  # the second confirmation names the contraindication
    assert "Active cold sores: no microdermabrasion while active" in box.text()
    box.buttons()[1].click()  # back: nothing starts
    assert window.session_windows == [] and store.sessions_for_client(client_id) == []
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dlg.started, timeout=WAIT):
        dlg.override_box_confirm.buttons()[0].click()
    live = window.session_windows[-1]
    reason = store.session(live.session_id).override_reason
    assert reason == (
        "Active cold sores (herpes simplex) — Client's doctor consulted: "
        "Lesion healed, dermatologist letter on file"
    )
    qtbot.waitUntil(lambda: live.samples_received > 100, timeout=WAIT)
    end(qtbot, live)
    review = window.findChild(SessionReviewWindow)
    assert review.override.isVisibleTo(review) and reason in review.override.text()


@posix_only
def test_one_running_session_per_client_and_per_port(qtbot, window, store, client_id, tmp_path):
    sim = PtySimulator(SimulatedHandpiece(200, seed=3)).start()
    try:
        live = start(qtbot, window, client_id, sim.path)
        assert window.start_session(client_id) is None  # the same client: refused, said
        box = window.running_box
        assert "already running" in box.text()
        box.close()
        other = store.add_client(Client("Ana", "Lopez"))
        sign_consent(store, other)
        dlg = window.start_session(other)
        dlg.confirm.setChecked(True)
        dlg.handpiece.setEditText(sim.path)
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
        assert "in use by the session for Maria Gonzalez" in dlg.problem.text()
        assert len(window.session_windows) == 1
        dlg.reject()
        end(qtbot, live)
    finally:
        sim.close()


def test_start_dialog_warns_inside_the_minimum_interval(qtbot, window, store, client_id):
    sid = store.create_session(client_id, "x", set_point_kpa=20.0)
    store.finish_session(sid, {"samples": 100}, "x")
    dlg = window.start_session(client_id)
    assert "The last session was today" in dlg.screening.text()
    assert "minimum interval of 10 days" in dlg.screening.text()
    dlg.reject()


def test_no_consent_needs_an_acknowledgement(qtbot, window, store):
    cid = store.add_client(Client("No", "Consent"))
    dlg = window.start_session(cid)
    dlg.confirm.setChecked(True)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "No consent on file" in dlg.problem.text()
    assert dlg.consent.ack.isVisible()


def test_settings_start_from_the_last_session_and_differences_show(qtbot, window, store, client_id):
    store.create_session(
        client_id,
        "x",
        mode="diamond",
        grit="coarse",
        set_point_kpa=18.0,
        planned_minutes=20,
        areas=["forehead"],
        crystal_flow=0,
    )
    dlg = window.start_session(client_id)
    assert dlg.grit.currentData() == "coarse" and dlg.set_point.value() == 18.0
    assert dlg.areas["forehead"].isChecked()
    assert "Same settings" in dlg.differs.text()
    dlg.areas["cheeks"].setChecked(True)
    dlg.set_point.setValue(20.0)
    assert "set-point: 18.0 kPa → 20.0 kPa" in dlg.differs.text()
    assert "areas: Forehead → Forehead, Cheeks" in dlg.differs.text()
    dlg.areas["cheeks"].setChecked(False)
    dlg.set_point.setValue(18.0)
    assert "Same settings" in dlg.differs.text()  # the same areas in another order are the same
    dlg.reject()


@posix_only
def test_no_signal_turns_the_readout_grey(qtbot, window, store, client_id, tmp_path):
    sim = PtySimulator(SimulatedHandpiece(200, seed=3)).start()
    try:
        live = start(qtbot, window, client_id, sim.path)
        qtbot.waitUntil(lambda: live.samples_received > 50, timeout=WAIT)
        sim.device.stall(30)
        qtbot.waitUntil(lambda: live.readout.text() == "no signal", timeout=WAIT)
        assert live.readout.property("stale") is True
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("* No signal"), timeout=WAIT)
        assert live.engine.find("no_signal").priority == "low"
        end(qtbot, live)
    finally:
        sim.close()


def test_ring_buffer_keeps_the_newest_contiguous():
    ring = RingBuffer(1000)
    for k in range(50):
        t = np.arange(k * 70, (k + 1) * 70, dtype=float)
        ring.push(t, t * 2)
    x, v = ring.since(3500 - 1000)
    assert x[0] == 2500 and x[-1] == 3499 and (v == x * 2).all()
    big = np.arange(5000, dtype=float)
    ring.push(big, big)
    assert ring.n == 1000 and ring.since(0)[0][0] == 4000


@posix_only
def test_a_full_disk_raises_an_alarm_and_loses_nothing(qtbot, window, store, client_id):
    """SQLite itself reports the disk full (PRAGMA max_page_count on the recorder's connection):
    every write fails for real; the session says so, keeps everything, and writes it all when it can."""

    def disk(full: bool):
        def limit(s):
            pages = s.conn.execute("PRAGMA page_count").fetchone()[0]
            s.conn.execute(f"PRAGMA max_page_count = {pages if full else 2**31}")

        return limit

    sim = PtySimulator(SimulatedHandpiece(500, seed=9)).start()
    try:
        live = start(qtbot, window, client_id, sim.path)
        qtbot.waitUntil(lambda: live.recorder.written > 200, timeout=WAIT)
        live.recorder.run_now(disk(full=True))
        qtbot.waitUntil(lambda: live.engine.find("recording") is not None, timeout=WAIT)
        qtbot.waitUntil(lambda: "Not recording to disk: " in live.alarm_bar.text(), timeout=WAIT)
        assert "full" in live.alarm_bar.text()
        received = live.samples_received
        live.drop_marker("while the disk was full")
        qtbot.waitUntil(lambda: live.samples_received > received + 1000, timeout=WAIT)
        live.recorder.run_now(disk(full=False))
        qtbot.waitUntil(lambda: live.engine.find("recording") is None, timeout=WAIT)
        summary = end(qtbot, live)
    finally:
        sim.close()
    assert live.recorder.dropped == 0
    assert len(store.load_trace(live.session_id)["seq"]) == summary["samples"]
    assert any(a.kind == "recording" and a.ended for a in store.alarms(live.session_id))
    assert [m.label for m in store.markers(live.session_id)] == ["while the disk was full"]


@posix_only
def test_another_handpiece_on_the_port_is_kept_out_until_the_practitioner_chooses(
    qtbot, window, store, client_id, tmp_path
):
    path = str(tmp_path / "handpiece")
    sims = [PtySimulator(SimulatedHandpiece(1000, seed=1, serial_number="SN-A"), link=path).start()]
    try:
        live = start(qtbot, window, client_id, path)
        qtbot.waitUntil(lambda: live.samples_received > 500, timeout=WAIT)
        sims[0].disconnect()
        qtbot.waitUntil(lambda: live.link.state is LinkState.DISCONNECTED, timeout=WAIT)
        other = SimulatedHandpiece(500, seed=2, serial_number="SN-B")  # another device, another rate
        sims.append(PtySimulator(other, link=path).start())
        qtbot.waitUntil(lambda: live.device_bar.isVisible(), timeout=WAIT)
        assert "SN-B" in live.device_text.text() and "SN-A" in live.device_text.text()
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("*** Another handpiece"), timeout=WAIT)
        assert live.readout.text() == "wrong handpiece"
        received = live.samples_received
        qtbot.waitUntil(lambda: live.run.held_out > 500, timeout=WAIT)
        assert live.samples_received == received  # none of its samples entered the session
        qtbot.mouseClick(live.accept_device_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: live.samples_received > received + 250, timeout=WAIT)
        assert not live.device_bar.isVisible()
        sid = live.session_id
        summary = end(qtbot, live)
    finally:
        for sim in sims:
            sim.close()
    assert summary["segments"] == 2 and summary["held_out"] > 500
    devices = store.session_devices(sid)
    assert [(d.segment, d.serial, d.rate_hz) for d in devices] == [(1, "SN-A", 1000), (2, "SN-B", 500)]
    assert any(a.kind == "wrong_device" and a.priority == "high" and a.ended for a in store.alarms(sid))
    assert len(store.load_trace(sid)["seq"]) == summary["samples"]


def test_a_port_that_does_not_exist_alarms_and_the_session_is_not_a_visit(
    qtbot, window, store, client_id, tmp_path
):
    live = start(qtbot, window, client_id, str(tmp_path / "ttyUSB9"))
    qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("* Handpiece not connected"), timeout=WAIT)
    qtbot.waitUntil(lambda: live.readout.text() == "not connected", timeout=WAIT)
    # the status words are shown whole: the label is big enough for them
    r = live.readout
    assert r.minimumSizeHint().width() <= r.width() and r.heightForWidth(r.width()) <= r.height()
    assert live.alarm_view.model().rowCount() == 1
    # the Handpiece row says what the readout says, whole; the system's reason is in its tooltip
    qtbot.waitUntil(lambda: live.stats["link"].text() == "not connected, trying again", timeout=WAIT)
    assert "ttyUSB9" in live.stats["link"].toolTip()
    # notes typed up to the end are kept; after it the panel no longer takes typing
    live.notes_panel.notes.setPlainText("Handpiece not found; client rebooked.")
    sid = live.session_id
    with qtbot.waitSignal(live.finished, timeout=WAIT):
        live.end_session()
        assert live.notes_panel.notes.isReadOnly()  # from the moment End is confirmed
    s = store.session(sid)
    assert s.status == "no_samples" and s.samples_recorded == 0
    assert store.notes(sid)["notes"] == "Handpiece not found; client rebooked."
    assert store.client(client_id).last_visit is None  # not a visit: next due does not move
    window.show_client(client_id)
    assert window.client_page.series_section.text.text() == "First session: not yet treated."
    review = window.findChild(SessionReviewWindow)
    assert review is not None and review.session_id == sid  # the window became the session's review
    assert [a.kind for a in store.alarms(sid)] == ["not_connected"]


def test_the_plots_offer_no_menu_the_bundle_cannot_serve(qtbot, window, store, client_id):
    live = start(qtbot, window, client_id, SimHandpiece.url)
    assert not live.plot.getPlotItem().menuEnabled() and live.plot.scene().contextMenu == []
    end(qtbot, live)
    review = window.findChild(SessionReviewWindow)
    assert not review.plot.getPlotItem().menuEnabled() and review.plot.scene().contextMenu == []


def test_quitting_with_a_session_running_asks_then_ends_it_and_quits(qtbot, window, store, client_id):
    live = start(qtbot, window, client_id, SimHandpiece.url)
    qtbot.waitUntil(lambda: live.samples_received > 100, timeout=WAIT)
    window.close()
    box = window.quit_box
    assert "1 treatment session is still recording (Maria Gonzalez)" in box.text()
    box.buttons()[1].click()  # keep recording
    assert window.isVisible() and not live.ending
    window.close()
    with qtbot.waitSignal(live.finished, timeout=WAIT):
        window.quit_box.buttons()[0].click()  # end and quit
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    assert store.session(live.session_id).status == "completed"


def test_client_page_next_due_is_never_inside_an_active_block(qtbot, window, store, client_id):
    sid = store.create_session(client_id, "x", set_point_kpa=20.0)
    store.finish_session(sid, {"samples": 100}, "x")
    last = store.session(sid).started.date()
    ended = last - dt.timedelta(days=30)  # isotretinoin: counts 6 months after its last dose
    store.save_screening(client_id, [ScreeningAnswer("isotretinoin", ended=ended)])
    window.show_client(client_id)
    free = add_months(ended, 6)
    text = window.client_page.series_section.text.text()
    assert f"next due blocked until {fmt_date(free)}" in text
