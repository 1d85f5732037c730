"""SessionRun with a fake link and a fake clock: every step is synchronous, no real time passes.

The recorder is the real one on a real SQLite file (it has its own thread; the tests wait on it).
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from desktop.records import Client
from desktop.session.recorder import TraceRecorder
from desktop.session.run import AUDIO_PAUSE_S, HIGH_REPEAT_S, SessionRun
from tests.conftest import until
from tests.fakes import FakeClock, FakeLink, idle, play

CEILING = 30.0


def glide(t):
    """Gliding strokes: a dip-and-recover every 1.2 s, as the simulator's tip does."""
    phase = np.mod(t, 1.2)
    return np.where(phase < 0.35, 24.0 * (1 - 0.18 * np.sin(np.pi * phase / 0.35)), 24.0)


def surge(t):
    """Gliding with the suction 12 kPa too high: above the 30 kPa ceiling, strokes and all."""
    return glide(t) + 12.0


@pytest.fixture
def session(store):
    cid = store.add_client(Client("Run", "Test", vacuum_ceiling_kpa=CEILING))
    return store.create_session(cid, "test", ceiling_kpa=CEILING, set_point_kpa=24.0)


@pytest.fixture
def make(store, session):
    recorders = []
    sid = session

    def make_run(**kw):
        clock = FakeClock()
        link = FakeLink(clock)
        rec = TraceRecorder(store.path, session)
        recorders.append(rec)
        kw.setdefault("ceiling_kpa", CEILING)
        kw.setdefault("set_point_kpa", 24.0)
        kw.setdefault("on_device", lambda s, hello, seg: s.set_session_device(sid, seg, hello))
        run = SessionRun(link, rec, clock=clock, wall=lambda: 1_790_000_000.0 + clock(), **kw)
        return run, link, clock

    yield make_run
    for rec in recorders:
        rec.close()


# -- no usable samples: always an alarm ---------------------------------------------------------


def test_a_port_that_never_opens_alarms_after_two_seconds(make):
    run, link, clock = make()
    link.reason = "could not open port /dev/ttyUSB9: No such file or directory"
    idle(run, clock, 1.95)
    assert run.engine.highest() is None and run.snapshot().status == "connecting"
    idle(run, clock, 0.1)
    snap = run.snapshot()
    assert snap.banner.kind == "not_connected" and snap.banner.priority == "low"
    assert snap.banner_text.startswith("* Handpiece not connected (could not open port /dev/ttyUSB9")
    assert snap.status == "not connected" and snap.readout_kpa is None


def test_connected_but_silent_is_no_signal(make):
    run, link, clock = make()
    link.connect()
    run.step()
    idle(run, clock, 1.9)
    assert run.engine.highest() is None
    idle(run, clock, 0.2)
    assert run.engine.find("no_signal").message == "No samples from the handpiece"
    assert run.snapshot().status == "no signal"


def test_no_signal_one_second_after_the_last_sample_and_it_clears(make):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 1.0)
    assert run.engine.alarms == [] and run.snapshot().readout_kpa == pytest.approx(25.0)
    idle(run, clock, 1.0, tick=0.02)  # exactly 1 s: not yet
    assert run.engine.find("no_signal") is None
    idle(run, clock, 0.04, tick=0.02)
    assert run.engine.find("no_signal").message == "No signal from the handpiece"
    snap = run.snapshot()
    assert snap.status == "no signal" and snap.readout_kpa is None
    play(run, link, clock, 0.1)
    assert run.engine.find("no_signal") is None


def test_disconnected_has_its_own_alarm_and_readout(make):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 1.0)
    link.unplug()
    run.step()
    assert run.engine.find("disconnected") is not None
    assert run.snapshot().status == "disconnected"


# -- over the ceiling ------------------------------------------------------------------------


def test_readout_is_over_the_ceiling_while_the_vacuum_is(make):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.5)
    assert not run.snapshot().over_ceiling
    play(run, link, clock, 0.5, vacuum=35.0)
    snap = run.snapshot()
    assert snap.over_ceiling and snap.banner.kind == "over_ceiling" and snap.banner_text.startswith("***")
    assert snap.banner.peak_kpa == 35.0


def test_a_high_alarm_that_ended_unacknowledged_stays_latched_until_acknowledged(make):
    run, link, clock = make(dwell_s=60)
    link.connect()
    play(run, link, clock, 1.0)
    play(run, link, clock, 3.2, vacuum=36.0)
    play(run, link, clock, 5.0)  # back under: the condition ends
    over = run.engine.alarms[0]
    assert over.kind == "over_ceiling" and not over.active and over.latched
    snap = run.snapshot()
    assert snap.banner.key == over.key and snap.showing == 1
    assert snap.banner_text.startswith("*** above the ceiling for 3.2 s at ")
    assert not snap.over_ceiling
    run.acknowledge("Dr K")
    snap = run.snapshot()
    assert snap.banner is None and snap.banner_text == "No alarms" and snap.showing == 0
    assert snap.alarms[0].acknowledged_by == "Dr K"  # still in the session's alarm list


def test_a_medium_alarm_does_not_latch(make):
    run, link, clock = make(dwell_s=3.0)
    link.connect()
    play(run, link, clock, 4.0)  # held still: dwell
    assert run.engine.find("dwell") is not None
    play(run, link, clock, 0.5, contact=False)  # lifted
    assert run.engine.showing() == []


# -- acknowledgement and sound ---------------------------------------------------------------


def test_acknowledging_silences_the_present_alarm_and_a_new_one_sounds(make):
    run, link, clock = make(dwell_s=3.0)
    link.connect()
    play(run, link, clock, 0.5, vacuum=glide)
    assert not run.sound_due()
    play(run, link, clock, 0.2, vacuum=surge)
    assert run.sound_due()  # a new high alarm sounds at once
    assert not run.sound_due()  # …once
    play(run, link, clock, HIGH_REPEAT_S - 0.1, vacuum=surge)
    assert not run.sound_due()
    play(run, link, clock, 0.2, vacuum=surge)
    assert run.sound_due()  # and again every 3 s while unacknowledged
    run.acknowledge("Dr K")
    play(run, link, clock, HIGH_REPEAT_S + 1, vacuum=surge)
    assert [a.kind for a in run.engine.active()] == ["over_ceiling"]
    assert not run.sound_due()  # acknowledged: silent while it lasts (visual stays)
    assert run.snapshot().banner.kind == "over_ceiling"
    # a new alarm condition afterwards sounds again (the tip now held still: dwell)
    play(run, link, clock, 3.5, vacuum=24.0)
    assert run.engine.find("dwell") is not None and not run.engine.find("dwell").acknowledged
    assert run.sound_due()


def test_a_new_over_ceiling_after_an_acknowledged_one_sounds(make):
    run, link, clock = make(dwell_s=60)
    link.connect()
    play(run, link, clock, 0.5, vacuum=36.0)
    assert run.sound_due()
    run.acknowledge("Dr K")
    play(run, link, clock, 1.0, vacuum=24.0)
    assert not run.sound_due()
    play(run, link, clock, 0.5, vacuum=36.0)  # a second surge: a new condition
    assert len([a for a in run.engine.alarms if a.kind == "over_ceiling"]) == 2
    assert run.sound_due()


def test_audio_pause_counts_down_and_ends_on_time(make):
    run, link, clock = make(dwell_s=60)
    link.connect()
    play(run, link, clock, 0.5)
    run.pause_audio()
    assert run.snapshot().audio_paused_s == 120
    play(run, link, clock, 0.5, vacuum=36.0)
    assert not run.sound_due()  # paused: nothing sounds
    clock.advance(AUDIO_PAUSE_S - 0.5 - 0.01)
    assert run.audio_paused_s() == 1
    assert not run.sound_due()
    clock.advance(0.02)
    assert run.audio_paused_s() == 0
    assert run.sound_due()  # the unacknowledged alarm sounds once the pause is over
    assert math.isinf(run.audio_paused_until) is False


# -- banner order ----------------------------------------------------------------------------


def test_banner_shows_the_highest_priority_then_the_newest_and_a_count(make):
    run, link, clock = make(dwell_s=3.0, planned_passes=3)
    link.connect()
    play(run, link, clock, 0.5, vacuum=glide)
    play(run, link, clock, 0.3, vacuum=surge)  # high
    play(run, link, clock, 3.5, vacuum=36.0)  # …then held still: dwell (medium), newer
    snap = run.snapshot()
    assert {a.kind for a in snap.alarms if a.active} == {"over_ceiling", "dwell"}
    assert snap.banner.kind == "over_ceiling" and snap.showing == 2
    run.check_passes({"cheeks": 5})  # another medium, newer still
    snap = run.snapshot()
    assert snap.banner.kind == "over_ceiling" and snap.showing == 3
    play(run, link, clock, 4.0, vacuum=glide)  # the high one and the dwell end…
    run.acknowledge("Dr K")  # …the high one latched: acknowledged; passes resolved
    assert run.snapshot().showing == 0
    play(run, link, clock, 3.5, vacuum=24.0)  # held still again: a new dwell
    run.check_passes({"cheeks": 6})  # and newer than it, a new passes alarm
    snap = run.snapshot()
    assert snap.banner.kind == "passes" and snap.showing == 2
    assert snap.banner_text == "** Passes beyond the plan: Cheeks 6 of 3"


def test_passes_beyond_the_plan_is_resolved_by_acknowledging(make):
    run, link, clock = make(planned_passes=3)
    link.connect()
    play(run, link, clock, 0.5, vacuum=glide)
    run.check_passes({"cheeks": 4})
    assert run.engine.find("passes").message == "Passes beyond the plan: Cheeks 4 of 3"
    run.acknowledge("Dr K")
    assert run.engine.find("passes") is None and run.snapshot().showing == 0
    run.check_passes({"cheeks": 4})  # the same counts again: stays resolved
    assert run.engine.find("passes") is None
    run.check_passes({"cheeks": 5})  # a new count: a new alarm
    assert run.engine.find("passes").message == "Passes beyond the plan: Cheeks 5 of 3"


# -- the device ------------------------------------------------------------------------------


def test_set_point_is_sent_once_per_connection(make):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.2)
    assert link.set_points == [24.0]
    link.unplug()
    run.step()
    link.connect()
    play(run, link, clock, 0.2)
    assert link.set_points == [24.0, 24.0]


def test_another_device_on_the_port_is_a_high_alarm_and_its_samples_stay_out(make, store, session):
    seen = []
    run, link, clock = make(on_device=lambda store, hello, seg: seen.append((hello.serial, seg)))
    link.connect(serial="SN-1")
    play(run, link, clock, 1.0)
    received = run.samples_received
    link.unplug()
    run.step()
    link.rate = 500
    link.connect(serial="SN-2", model="Other H-9")
    play(run, link, clock, 1.0)
    assert run.samples_received == received and run.held_out == 500
    snap = run.snapshot()
    assert snap.banner.kind == "wrong_device" and snap.banner.priority == "high"
    assert "Other H-9, serial SN-2" in snap.banner_text and snap.status == "wrong handpiece"
    assert snap.wrong_device == "Other H-9, serial SN-2"
    assert run.sound_due()
    assert run.accept_device()  # the practitioner continues with it: a new segment
    play(run, link, clock, 1.0)
    assert run.samples_received == received + 500 and run.segment == 2
    assert run.engine.find("wrong_device") is None
    until(lambda: seen == [("SN-1", 1), ("SN-2", 2)])


def test_samples_before_the_hello_stay_out(make):
    run, link, clock = make()
    link.connect(hello=False)
    play(run, link, clock, 0.5)
    assert run.samples_received == 0 and run.held_out == 500


def test_a_replug_of_the_same_device_counts_what_it_missed_and_raises_no_dwell(make):
    run, link, clock = make(dwell_s=3.0)
    link.connect()
    play(run, link, clock, 2.0, vacuum=glide)
    link.unplug()
    run.step()
    idle(run, clock, 1.0)
    link.seq += 1000  # the device kept counting while unplugged
    link.device_t += 1.0
    link.connect()
    play(run, link, clock, 1.0, vacuum=glide)
    assert run.engine.find("dwell") is None and [a.kind for a in run.engine.alarms] == ["disconnected"]
    assert run.lost == 1000  # what it took while unplugged, by its sequence numbers
    ((at, gap),) = run.disconnections
    assert 1.0 <= gap <= 1.1 and 1.9 < at < 2.1
    snap = run.snapshot()
    assert np.isnan(snap.v).sum() == 1  # drawn as a gap, not a straight line
    (i,) = np.flatnonzero(np.isnan(snap.v))
    assert snap.x[i] == pytest.approx((snap.x[i - 1] + snap.x[i + 1]) / 2)  # halfway across it
    assert run.summary()["disconnections"] == [[round(at, 1), round(gap, 1)]]


def test_a_replug_of_a_restarted_device_counts_the_gap_by_its_rate(make):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 1.0)
    link.unplug()
    run.step()
    idle(run, clock, 0.5)
    link.restart()
    link.connect()
    play(run, link, clock, 0.5)
    ((_, gap),) = run.disconnections
    assert run.lost == round(gap * 1000) - 1


def test_link_losses_are_counted_and_raise_a_technical_alarm(make):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.5)
    link.frames_lost = 37
    play(run, link, clock, 0.1)
    assert run.lost == 37 and run.engine.find("losing_frames") is not None
    play(run, link, clock, 5.0)
    assert run.engine.find("losing_frames") is None


# -- the session clock and the end -----------------------------------------------------------


def test_every_alarm_ends_at_or_after_its_start_on_one_clock(make, store, session):
    run, link, clock = make(dwell_s=3.0)
    link.reason = "no such port"
    idle(run, clock, 2.5)  # not connected: a tick alarm at host time
    link.connect()
    play(run, link, clock, 4.0)  # samples, then dwell
    link.unplug()
    run.step()
    done = []
    run.end(
        None,
        lambda s, summary, status: s.finish_session(session, summary, "t", status=status),
        lambda summary, ok, err: done.append((summary, ok)),
    )
    until(lambda: done)
    stored = store.alarms(session)
    assert {a.kind for a in stored} >= {"not_connected", "dwell", "disconnected"}
    assert all(a.ended is not None and a.ended >= a.started for a in stored)


def test_a_session_that_never_had_a_sample_is_not_completed(make, store, session):
    run, _link, clock = make()
    idle(run, clock, 3.0)
    done = []
    statuses = []

    def finish(s, summary, status):
        statuses.append(status)
        s.finish_session(session, summary, "t", status=status)

    run.end({"notes": "typed"}, finish, lambda summary, ok, err: done.append(ok))
    until(lambda: done == [True])
    assert statuses == ["no_samples"]
    assert store.notes(session)["notes"] == "typed"
    assert store.session(session).status == "no_samples"
    assert store.client(store.session(session).client_id).last_visit is None  # not a visit


def test_ending_records_every_sample_and_the_summary(make, store, session):
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 2.0, vacuum=glide)
    run.drop_marker("left cheek")
    done = []
    run.end(
        None,
        lambda s, summary, status: s.finish_session(session, summary, "t", status=status),
        lambda summary, ok, err: done.append(summary),
    )
    until(lambda: done)
    assert link.closed
    summary = done[0]
    assert summary["samples"] == 2000 == len(store.load_trace(session)["seq"])
    assert summary["device"] == "Abrasio H-2, serial SN-1"
    assert store.session(session).status == "completed"
    assert [m.label for m in store.markers(session)] == ["left cheek"]
    (device,) = store.session_devices(session)
    assert (device.segment, device.model, device.serial, device.rate_hz) == (1, "Abrasio H-2", "SN-1", 1000)


def test_the_engine_thread_steps_as_samples_arrive_and_stops(make):
    run, link, clock = make()
    link.connect()
    link.samples(np.full(100, 25.0))
    run.start()
    try:
        until(lambda: run.samples_received == 100)  # woken by the link, no test calling step()
        link.samples(np.full(50, 25.0))
        until(lambda: run.samples_received == 150)
    finally:
        run.stop()
    assert not run._thread.is_alive()
    link.samples(np.full(10, 25.0))
    clock.advance(1.0)
    assert run.samples_received == 150  # stopped: nothing more is taken


def test_markers_are_placed_on_the_session_clock_and_the_last_one_is_labelled(make, store, session):
    run, link, clock = make()
    assert run.label_marker("nothing to label") is None
    link.connect()
    play(run, link, clock, 1.0)
    first = run.drop_marker()
    play(run, link, clock, 0.5)
    second = run.drop_marker("right cheek")
    assert (first["key"], second["key"]) == (1, 2) and second["t"] == pytest.approx(1.5)
    assert run.label_marker("left cheek, pass 2") is second
    assert run.snapshot().markers == (
        (1, pytest.approx(1.0), ""),
        (2, pytest.approx(1.5), "left cheek, pass 2"),
    )
    run.close()
    until(lambda: run.recorder.done)
    assert [(m.t, m.label) for m in store.markers(session)] == [
        (pytest.approx(1.0), ""),
        (pytest.approx(1.5), "left cheek, pass 2"),
    ]


def test_set_point_changes_go_to_the_device_and_notes_to_the_disk(make, store, session):
    run, link, clock = make()
    run.change_set_point(0)  # "not set": nothing sent
    run.change_set_point(26.5)
    assert link.set_points == [26.5] and run.set_point == 26.5
    link.connect()
    play(run, link, clock, 0.1)
    assert link.set_points == [26.5, 26.5]  # the new value, sent again on the connect
    run.save_notes({"notes": "tolerated well"})
    run.close()
    assert run.ended and link.closed
    until(lambda: run.recorder.done)
    assert store.notes(session)["notes"] == "tolerated well"
    run.step()  # a closed run takes nothing more
    assert run.samples_received == 100


def test_accepting_the_other_device_starts_a_segment_without_calling_held_samples_lost(make):
    run, link, clock = make()
    assert run.accept_device() is False  # nothing waits for a choice
    link.connect(serial="SN-1")
    play(run, link, clock, 1.0)
    link.unplug()
    run.step()
    link.connect(serial="SN-2", model="Other H-9")
    play(run, link, clock, 1.0)
    assert run.snapshot().status == "wrong handpiece"
    assert run.accept_device() is True
    play(run, link, clock, 0.5)
    snap = run.snapshot()
    assert snap.status == "" and snap.wrong_device is None and snap.device == "Other H-9, serial SN-2"
    assert run.lost == 0 and run.held_out == 1000  # held out, not lost
    assert len(run.disconnections) == 1 and np.isnan(snap.v).sum() == 1  # the segment boundary: a gap


def test_the_summary_and_the_snapshot_say_exactly_what_happened(make):
    """Catches any summary or snapshot field dropped, renamed, miscounted or rounded differently
    (the stored summary is the session's record; the snapshot is all the window draws): a surge of
    521 ms to 35.123 kPa, a lift, link losses, a replug of 1.07 s that missed 1,000 samples."""
    import time

    run, link, clock = make(dwell_s=60)
    link.connect()
    play(run, link, clock, 1.0, vacuum=25.0)
    play(run, link, clock, 0.54, vacuum=lambda t: np.where(t <= 1.5215, 35.123, 25.0))
    play(run, link, clock, 0.5, vacuum=20.0, contact=False)
    run.drop_marker("m")
    link.frames_lost = 7
    link.crc = 3
    play(run, link, clock, 0.12, vacuum=22.0)
    link.unplug()
    run.step()
    assert run.snapshot().link_text == "disconnected (device reports readiness to read but returned no data)"
    idle(run, clock, 1.05)
    link.seq += 1000  # the device went on counting while unplugged
    link.device_t += 1.05
    link.connect()
    play(run, link, clock, 0.5, vacuum=26.0)

    assert run.summary() == {
        "duration_s": 3.7,
        "samples": 2660,
        "lost": 1007,
        "mean_kpa": 27.51,  # (1000×25 + 521×35.123 + 19×25 + 120×22 + 500×26) / 2160 in contact
        "peak_kpa": 35.12,
        "above_ceiling_s": 0.52,  # 521 samples 1 ms apart
        "contact_s": 2.3,  # 2.258: the lift is not contact
        "strokes": 0,
        "alarms": 3,
        "alarms_by_priority": {"high": 1, "low": 2},
        "markers": 1,
        "reconnects": 1,
        "disconnections": [[2.2, 1.1]],  # at 2.16 s, 1.07 s without samples
        "held_out": 0,
        "device": "Abrasio H-2, serial SN-1",
        "segments": 1,
        # each connection's device clock against the session clock (the export gives device time back):
        # the same handpiece after the replug, so the same offset, from halfway across the gap
        "clock_offsets": [[0.001, -4.999], [2.6855, -4.999]],
    }
    snap = run.snapshot()
    assert snap.t == pytest.approx(3.71)
    assert len(snap.x) == len(snap.v) == 2661  # every sample, and one NaN for the replug's gap
    assert snap.x[0] == pytest.approx(-3.709) and snap.x[-1] == pytest.approx(0.0, abs=1e-9)
    assert not snap.x.flags.writeable and not snap.v.flags.writeable
    assert snap.v[-1] == 26.0 and np.isnan(snap.v).sum() == 1
    assert run.snapshot(window_s=1.0).x[0] == pytest.approx(-2.0)  # the window and a second more
    at = time.strftime("%H:%M", time.localtime(1_790_001_000.0 + 1.001))  # wall clock at the start
    assert (snap.readout_kpa, snap.status, snap.over_ceiling) == (26.0, "", False)
    assert snap.banner.kind == "over_ceiling"
    assert snap.banner.latched is True and snap.banner.acknowledged is False
    assert snap.banner_text == f"*** above the ceiling for 0.5 s at {at} — acknowledge (A)"
    assert (snap.banner.started, snap.banner.ended) == (pytest.approx(1.001), pytest.approx(1.522))
    assert snap.banner.peak_kpa == 35.123 and snap.banner.acknowledged_by is None
    assert [(a.kind, a.priority, a.active) for a in snap.alarms] == [
        ("over_ceiling", "high", False),
        ("losing_frames", "low", True),
        ("disconnected", "low", False),
    ]
    assert snap.showing == 2 and snap.alarms_version == 5  # latched + losing samples; 5 changes
    assert snap.markers == ((1, pytest.approx(2.04), "m"),)
    assert snap.contact_s == pytest.approx(2.258) and snap.strokes == 0
    assert snap.peak_kpa == 35.123 and snap.mean_kpa == pytest.approx(59414.083 / 2160)
    assert (snap.link_text, snap.lost, snap.crc_failures, snap.audio_paused_s) == ("connected", 1007, 3, 0)
    assert (snap.wrong_device, snap.device, snap.ended) == (None, "Abrasio H-2, serial SN-1", False)


# -- found by mutation testing (issue #9): boundaries, counts and the engine thread ---------------


def test_the_sound_comes_back_exactly_when_the_pause_ends_and_repeats_exactly_every_3_s(make):
    """Catches the pause's end and the high alarm's repeat made exclusive: at 120 s the pause is
    over, and 3 s after the last sound it sounds again (exact binary clock steps)."""
    run, link, clock = make(dwell_s=60)
    link.connect()
    play(run, link, clock, 0.5, tick=0.25)
    play(run, link, clock, 0.5, vacuum=36.0, tick=0.25)
    assert run.sound_due() and not run.sound_due()  # the new high alarm sounds once
    clock.advance(HIGH_REPEAT_S)
    assert run.sound_due()  # exactly 3 s on: again
    run.pause_audio()
    clock.advance(AUDIO_PAUSE_S - 0.25)
    assert not run.sound_due() and run.audio_paused_s() == 1
    clock.advance(0.25)
    assert run.audio_paused_s() == 0 and run.sound_due()  # exactly at the end of the pause


def test_status_at_exactly_the_grace_and_no_signal_limits(make):
    """Catches the 2 s connect grace and the 1 s no-signal limit made inclusive or exclusive the
    wrong way, and the words during a reconnect (exact binary clock steps)."""
    run, link, clock = make()
    idle(run, clock, 1.75, tick=0.25)
    assert run.status() == "connecting"
    idle(run, clock, 0.25, tick=0.25)
    assert run.status() == "not connected"  # exactly 2 s
    link.connect()
    run.step()
    assert run.status() == "connecting"  # connected, nothing from it yet
    idle(run, clock, 2.0, tick=0.25)
    assert run.status() == "no signal"  # exactly 2 s after the connect, still nothing
    play(run, link, clock, 0.5, tick=0.25)
    assert run.status() == ""
    idle(run, clock, 1.0, tick=0.25)
    assert run.status() == ""  # exactly 1 s after the last sample: not yet
    idle(run, clock, 0.25, tick=0.25)
    assert run.status() == "no signal"
    link.unplug()
    run.step()
    idle(run, clock, 0.5, tick=0.25)
    link.connect()
    run.step()
    assert run.status() == "connecting"  # the samples before the replug are not this connection's


def test_the_newest_of_several_markers_is_labelled(make):
    """Catches labelling a marker other than the newest (with three markers, not only two)."""
    run, link, clock = make()
    link.connect()
    for _ in range(3):
        play(run, link, clock, 0.1)
        run.drop_marker()
    assert run.label_marker("chin")["key"] == 3
    assert [m[2] for m in run.snapshot().markers] == ["", "", "chin"]


def test_a_small_set_point_is_sent_and_losses_add_up_on_disk(make, store, session):
    """Catches set-points under 1 kPa ignored, link losses overwritten instead of added, and losses
    not handed to the recorder (the stored session would say nothing was lost)."""
    run, link, clock = make()
    run.change_set_point(0.5)
    assert link.set_points == [0.5]
    link.connect()
    play(run, link, clock, 0.2)
    link.frames_lost = 5
    play(run, link, clock, 0.2)
    link.frames_lost = 12
    play(run, link, clock, 0.2)
    assert run.lost == 12
    run.close()
    until(lambda: run.recorder.done)
    assert store.session(session).samples_lost == 12


def test_alarms_of_a_session_ended_before_its_first_second_end_then(make, store, session):
    """Catches the end time of a session without samples taken as at least 1 s."""
    run, link, clock = make()
    idle(run, clock, 0.25, tick=0.25)
    link.unplug("no such port")
    run.step()
    idle(run, clock, 0.25, tick=0.25)
    done = []
    run.end(None, lambda s, summary, status: None, lambda summary, ok, err: done.append(ok))
    until(lambda: done)
    (alarm,) = run.engine.alarms
    assert alarm.kind == "disconnected" and (alarm.started, alarm.ended) == (0.25, 0.5)


def test_a_disk_that_refuses_the_session_is_reported_with_its_words_at_the_end(tmp_path):
    """Catches the recorder's error not handed on when the session ends (the window tells the
    practitioner why the session was not saved)."""
    clock = FakeClock()
    link = FakeLink(clock)
    rec = TraceRecorder(tmp_path / "no such folder" / "x.db", 1)
    run = SessionRun(link, rec, ceiling_kpa=CEILING, clock=clock)
    done = []
    run.end(None, lambda s, summary, status: None, lambda summary, ok, err: done.append((ok, err)))
    until(lambda: done)
    ((ok, err),) = done
    assert ok is False and "unable to open" in err


class SilentLink(FakeLink):
    """A fake link whose wait() blocks for its timeout like the real one (nothing arrives)."""

    def __init__(self, clock):
        super().__init__(clock)
        self.quiet = threading.Event()

    def wait(self, timeout):
        return self.quiet.wait(timeout)


class BusyLink(FakeLink):
    """A fake link that wakes its consumer at once, every time (a reader that gets a few bytes at a
    time), and counts how often it is stepped."""

    steps = 0

    def wait(self, timeout):
        return True

    def take_all(self):
        self.steps += 1
        return super().take_all()


def test_the_engine_thread_stops_within_its_timeout_on_a_silent_link(store, session):
    """Catches the engine thread waiting on the link without a timeout, or longer than stop() waits
    for it: the thread would outlive the session."""
    clock = FakeClock()
    rec = TraceRecorder(store.path, session)
    run = SessionRun(SilentLink(clock), rec, ceiling_kpa=CEILING, clock=clock).start()
    until(lambda: run._thread.is_alive())
    run.stop()
    assert not run._thread.is_alive()
    rec.close()


def test_the_engine_thread_steps_at_most_every_10_ms_however_often_the_link_wakes_it(store, session):
    """Catches the step-rate limit broken (STEP_MIN_S): a reader waking the engine for every few
    bytes would cost a full step each time. 20 steps take at least 190 ms."""
    import time

    clock = FakeClock()
    rec = TraceRecorder(store.path, session)
    link = BusyLink(clock)
    run = SessionRun(link, rec, ceiling_kpa=CEILING, clock=clock)
    began = time.monotonic()
    run.start()
    try:
        until(lambda: link.steps >= 20)
        elapsed = time.monotonic() - began
    finally:
        run.stop()
        rec.close()
    assert elapsed >= 0.19, f"{link.steps} steps in {elapsed:.3f} s"


def test_the_accepted_device_gets_the_set_point_and_is_stored_as_the_new_segment(make, store, session):
    """Catches the set-point not sent to the device the practitioner accepted, and its HELLO not
    stored as the session's second segment."""
    run, link, clock = make()
    link.connect(serial="SN-1")
    play(run, link, clock, 0.2)
    assert link.set_points == [24.0]
    link.unplug()
    run.step()
    link.connect(serial="SN-2", model="Other H-9")
    play(run, link, clock, 0.2)
    assert link.set_points == [24.0]  # not to a device the session has not accepted
    assert run.accept_device()
    play(run, link, clock, 0.2)
    assert link.set_points == [24.0, 24.0]
    run.close()
    until(lambda: run.recorder.done)
    assert [(d.segment, d.serial) for d in store.session_devices(session)] == [(1, "SN-1"), (2, "SN-2")]


@pytest.mark.parametrize(
    ("step", "lost"),
    [
        (1, 0),  # it took nothing while unplugged
        (1500, 1499),  # by its sequence numbers: plausible for 1.001 s at 1,000/s (≤ 1.5 × + 2)
        (1503, 1502),  # the last step the bound allows (1503.5)
        (1504, 1000),  # beyond: a jump, not loss; counted by the gap at its rate
        (0, 1000),  # the same number again: a restart; by the gap
    ],
)
def test_what_a_replug_missed_by_sequence_numbers_within_a_plausible_bound(make, step, lost):
    """Catches the loss across a replug counted from implausible sequence steps, or by the gap when
    the sequence numbers say exactly (the bound's factor and margin, and its edges)."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 1.0, tick=0.25)
    link.unplug()
    run.step()
    idle(run, clock, 1.0, tick=0.25)
    link.seq += step - 1
    link.device_t += 1.0
    link.connect()
    play(run, link, clock, 0.5, tick=0.25)
    ((_, gap),) = run.disconnections
    assert gap == pytest.approx(1.001)
    assert run.lost == lost


def test_the_ring_buffer_gives_the_newest_samples_in_one_slice_through_its_folds():
    """Catches the ring buffer's slice starting outside its newest samples (stale ones before the
    fold, or a wrong offset from the searched time)."""
    from desktop.session.run import RingBuffer

    rb = RingBuffer(5)

    def pushed(*ts):
        rb.push(np.array(ts, float), np.array(ts, float) * 10)

    pushed(0, 1, 2)
    pushed(3, 4, 5, 6)
    t, v = rb.since(-np.inf)
    assert t.tolist() == [2, 3, 4, 5, 6] and v.tolist() == [20, 30, 40, 50, 60]
    assert rb.since(3.5)[0].tolist() == [4, 5, 6]
    pushed(7, 8, 9, 10)  # folds back: the newest 5 stay contiguous
    t, v = rb.since(-np.inf)
    assert t.tolist() == [6, 7, 8, 9, 10] and v.tolist() == [60, 70, 80, 90, 100]
    assert rb.since(8.0)[0].tolist() == [8, 9, 10]
    pushed(*range(11, 18))  # more than the capacity at once
    t, v = rb.since(-np.inf)
    assert t.tolist() == [13, 14, 15, 16, 17] and v.tolist() == [130, 140, 150, 160, 170]


def test_a_latched_wrong_device_alarm_says_which_handpiece_and_for_how_long(make):
    """Catches every latched alarm being called 'above the ceiling': a latched wrong-device alarm
    keeps its own words."""
    run, link, clock = make()
    link.connect(serial="SN-1")
    play(run, link, clock, 0.5)
    link.unplug()
    run.step()
    link.connect(serial="SN-2", model="Other H-9")
    play(run, link, clock, 1.5)
    link.unplug()
    run.step()
    link.connect(serial="SN-1")  # the session's own again: the alarm ends, unacknowledged
    play(run, link, clock, 0.5)
    snap = run.snapshot()
    assert snap.banner.kind == "wrong_device" and snap.banner.latched
    assert snap.banner_text.startswith(
        "*** Another handpiece on the port (Other H-9, serial SN-2; this session's is Abrasio H-2, "
        "serial SN-1) — its samples are not recorded for 1.5 s at "
    )
    assert snap.banner_text.endswith(" — acknowledge (A)")


class StuckLink(FakeLink):
    """A fake link whose wait() does not come back until released (a driver stuck in a read)."""

    def __init__(self, clock):
        super().__init__(clock)
        self.release = threading.Event()

    def wait(self, timeout):
        self.release.wait(10)
        return False


def test_stopping_never_waits_longer_than_its_timeout_and_a_stuck_thread_cannot_hold_the_app(store, session):
    """Catches stop() waiting for the engine thread without its timeout (the window would freeze on
    a stuck driver) and the engine thread made non-daemon (the app could not exit past it)."""
    import time

    clock = FakeClock()
    rec = TraceRecorder(store.path, session)
    link = StuckLink(clock)
    run = SessionRun(link, rec, ceiling_kpa=CEILING, clock=clock).start()
    try:
        assert run._thread.daemon
        began = time.monotonic()
        run.stop()  # as close() calls it: at most 1 s
        assert time.monotonic() - began < 1.5 and run._thread.is_alive()  # it did not wait for it
    finally:
        link.release.set()
        run.stop()
        rec.close()
    assert not run._thread.is_alive()


def test_a_pause_in_the_samples_is_drawn_as_a_gap_only_beyond_a_quarter_second(make):
    """Catches the drawn gap's limit (GAP_DRAWN_S) moved or its test inverted: a pause of 0.5 s
    without a replug is drawn as a gap, one of 0.2 s is not."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.5, tick=0.25)
    idle(run, clock, 0.2, tick=0.2)  # nothing arrives for 0.2 s (the device's clock runs on)
    link.device_t += 0.2
    play(run, link, clock, 0.5, tick=0.25)
    assert np.isnan(run.snapshot().v).sum() == 0
    idle(run, clock, 0.5, tick=0.25)
    link.device_t += 0.5
    play(run, link, clock, 0.5, tick=0.25)
    snap = run.snapshot()
    assert np.isnan(snap.v).sum() == 1 and run.disconnections == []  # drawn, not a replug


def test_a_device_clock_that_jumps_is_anchored_again_and_session_time_only_goes_forward(make, store, session):
    """Catches the re-anchoring of a device clock that jumps (a reset without a replug) and the
    forward-only shift: stored sample times must stay in order and on the host's clock."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 1.0, tick=0.25)
    link.device_t += 50.0  # the device clock jumps ahead (REANCHOR_S is 1 s)
    play(run, link, clock, 0.5, tick=0.25)
    link.device_t -= 80.0  # and back
    play(run, link, clock, 0.5, tick=0.25)
    assert run._last_x == pytest.approx(2.0)
    run.close()
    until(lambda: run.recorder.done)
    t = store.load_trace(session)["t"]
    assert len(t) == 2000 and (np.diff(t) > 0).all()
    assert t[-1] == pytest.approx(2.0) and t[0] == pytest.approx(0.001)


def test_the_stored_flags_say_pump_contact_and_crystal(make, store, session):
    """Catches the flags stored with the trace miscomputed (pump, contact, crystal mode)."""
    from device.protocol import MODE_CRYSTAL, Sample

    run, link, clock = make()
    link.connect()
    run.step()
    clock.advance(0.01)
    now = clock()
    link.items += [
        Sample(1, 5.000, now, 20.0, True, True, MODE_CRYSTAL, 40),
        Sample(2, 5.001, now, 20.0, True, False, 0, 0),
        Sample(3, 5.002, now, 20.0, False, True, 0, 0),
        Sample(4, 5.003, now, 20.0, False, False, MODE_CRYSTAL, 40),
    ]
    run.step()
    run.close()
    until(lambda: run.recorder.done)
    assert store.load_trace(session)["flags"].tolist() == [7, 1, 2, 4]


class SlowClosingLink(FakeLink):
    """A fake link whose close() takes until released (a driver slow to let go of the port)."""

    def __init__(self, clock):
        super().__init__(clock)
        self.release = threading.Event()

    def close(self, timeout=0.5):
        self.release.wait(10)
        super().close(timeout)


def test_ending_runs_on_a_daemon_thread_once_and_leaves_the_run_ended(store, session):
    """Catches the end's thread made non-daemon (a port slow to close would hold the app's exit),
    the run not marked ended (snapshot, further steps), and a second end running it again."""
    clock = FakeClock()
    link = SlowClosingLink(clock)
    rec = TraceRecorder(store.path, session)
    run = SessionRun(link, rec, ceiling_kpa=CEILING, clock=clock)
    finished, done = [], []
    run.end(None, lambda s, summary, status: finished.append(status), lambda *a: done.append(a))
    until(lambda: any(t.name == "session end" for t in threading.enumerate()))
    (ender,) = [t for t in threading.enumerate() if t.name == "session end"]
    assert ender.daemon
    link.release.set()
    until(lambda: done)
    assert run.ended is True and run.snapshot().ended is True
    run.end(None, lambda s, summary, status: finished.append(status), lambda *a: done.append(a))
    link.samples([25.0])
    run.step()
    assert finished == ["no_samples"] and len(done) == 1 and run.samples_received == 0


def test_a_replug_so_quick_that_nothing_was_missed_counts_no_loss(make):
    """Catches at least one sample counted lost across every replug of a restarted device: here
    the samples go on 1 ms after the last one before it."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.5)
    link.unplug()
    link.restart()
    link.connect()
    play(run, link, clock, 0.5)
    ((_, gap),) = run.disconnections
    assert gap == pytest.approx(0.001) and run.lost == 0


def test_readout_words_acknowledged_views_and_samples_at_the_connect_instant(make):
    """Catches the link text adding '()' with no reason or a stale reason while connected, views of
    acknowledged alarms not saying so, 'over the ceiling' at exactly the ceiling, and samples stamped
    at the instant of the connect not counted for that connection."""
    run, link, clock = make(dwell_s=60)
    first = run.snapshot()  # before the first step
    assert (first.link_text, first.crc_failures, first.lost, first.peak_kpa) == ("connecting", 0, 0, 0.0)
    assert first.x.dtype == np.float64 and len(first.x) == 0
    link.connect()
    link.samples(np.full(20, 30.0))  # at the very instant of the connect
    run.step()
    snap = run.snapshot()
    assert snap.status == "" and snap.readout_kpa == 30.0 and snap.over_ceiling is False  # at, not above
    assert run.above_s == 0.0 and run.contact_s == pytest.approx(0.019)
    link.reason = "a stale reason from before"
    run.step()
    assert run.snapshot().link_text == "connected"
    play(run, link, clock, 0.2, vacuum=36.0)
    run.acknowledge("Dr K")
    (view,) = run.snapshot().alarms
    assert view.acknowledged is True and view.acknowledged_by == "Dr K"


def test_the_default_window_is_the_last_30_seconds_and_one_more(make):
    """Catches the snapshot's default window changed (what the live plot shows)."""
    run, link, clock = make(dwell_s=600)
    link.rate = 50
    link.connect()
    play(run, link, clock, 33.0, tick=0.5)
    snap = run.snapshot()
    assert snap.x[0] == pytest.approx(-31.0, abs=0.021) and snap.x[-1] == pytest.approx(0.0, abs=1e-9)


def test_session_time_follows_the_device_clock_through_late_batches_and_anchors_on_the_newest(make):
    """Catches the anchoring to the host clock done on the wrong sample, or on every batch (a batch
    delivered 40 ms late by the USB stack would shift its samples and bunch them up): within one
    connection the samples keep the device's spacing; the newest sample of the first batch is the
    host time it was decoded."""
    from device.protocol import MODE_DIAMOND, Sample

    run, link, clock = make()
    link.connect()
    run.step()
    seq, dev_t = 0, 5.0
    for k in range(60):  # 1.2 s
        clock.advance(0.02)
        late = 0.04 if k % 3 == 1 else 0.0  # this batch is decoded 40 ms late
        for i in range(20):
            # samples of one batch decoded in several reads: their host times differ
            host = clock() + late - (19 - i) * 0.0005
            link.items.append(Sample(seq, dev_t, host, 25.0, True, True, MODE_DIAMOND, 0))
            seq += 1
            dev_t += 0.001
        run.step()
        if k == 0:
            assert run._last_x == pytest.approx(clock() - run.started)  # the newest sample's host time
    x = run.ring.since(-np.inf)[0]
    assert len(x) == 1200 and np.allclose(np.diff(x), 0.001)


@pytest.mark.parametrize("back_s", [0.5, 0.003, 0.002])
def test_a_device_clock_stepping_back_never_puts_a_sample_before_the_last_one(make, back_s):
    """Catches the forward-only shift done wrong: a device clock stepping back (less than the
    re-anchoring limit: by half a second, by a sample and a half, by exactly one sample) must not
    put samples before, or on, what is already recorded; they go on one sample interval (2 ms at
    500/s) after the last one."""
    run, link, clock = make()
    link.rate = 500
    link.connect()
    play(run, link, clock, 0.2)
    last = run._last_x
    link.device_t -= back_s
    play(run, link, clock, 0.2)
    x = run.ring.since(-np.inf)[0]
    assert (np.diff(x) > 0).all()
    first_after = x[np.searchsorted(x, last, side="right")]
    assert first_after == pytest.approx(last + 0.002)
    assert np.allclose(np.diff(x), 0.002)  # and the device's spacing goes on after it
    # the shift holds for what follows: a pause of 0.3 s afterwards is still 0.3 s (and drawn)
    idle(run, clock, 0.3, tick=0.1)
    link.device_t += 0.3
    play(run, link, clock, 0.2)
    t, v = run.ring.since(-np.inf)
    steps = np.diff(t[~np.isnan(v)])
    assert np.isnan(v).sum() == 1 and steps.max() == pytest.approx(0.302)


def _text_replug_lost(make, first: list[float]) -> tuple[int, float]:
    """A text sensor (no HELLO: its rate is measured from the first batch of several samples), a
    replug of a restarted sensor: what the run counts lost, and the gap."""
    from device.protocol import MODE_DIAMOND, Sample

    run, link, clock = make(fmt="text")
    link.connect(hello=False)
    run.step()
    clock.advance(0.02)
    for i, dt in enumerate(first):
        link.items.append(Sample(i, 5.0 + dt, clock(), 25.0, True, True, MODE_DIAMOND, 0))
    run.step()
    link.seq, link.device_t = len(first), 5.0 + first[-1] + 0.001
    play(run, link, clock, 1.0)
    link.unplug()
    run.step()
    idle(run, clock, 0.5)
    link.restart()
    link.connect(hello=False)
    play(run, link, clock, 0.5)
    ((_, gap),) = run.disconnections
    run.close()  # before the next run on the same session starts writing
    until(lambda: run.recorder.done)
    return run.lost, gap


def test_a_sensor_without_a_hello_has_its_rate_measured_from_its_first_batch(make):
    """Catches the rate of a sensor that does not say it (a text sensor) measured wrong or from
    the wrong samples: the samples a replug missed are counted by it. First batches of 2 samples
    2 ms apart (500/s) and of 3 samples 1 and 3 ms apart (500/s, not 1000/s)."""
    lost, gap = _text_replug_lost(make, [0.0, 0.002])
    assert lost == round(gap * 500) - 1
    lost, gap = _text_replug_lost(make, [0.0, 0.001, 0.004])
    assert lost == round(gap * 500) - 1


def test_a_batch_of_samples_all_at_one_time_gives_no_rate(make):
    """Catches a rate measured from a batch whose samples share one time (a text sensor stamps the
    lines of one read alike): a division by zero."""
    lost, gap = _text_replug_lost(make, [0.0, 0.0, 0.0])
    assert lost == round(gap * 1000) - 1  # measured from the next batch, at 1,000/s


def test_samples_and_link_events_in_one_step_keep_their_order(make):
    """Catches the samples before a link event in the same step not taken in first (or the batch
    lost after it): the samples of the old connection, the replug, the new one's, all in one step."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.2)
    clock.advance(0.02)
    link.samples(np.full(20, 25.0))  # the old connection's last samples…
    link.unplug()  # …its end…
    link.connect()  # …a new connection, its HELLO…
    link.samples(np.full(20, 25.0))  # …and its first samples: one step takes them all
    run.step()
    assert run.samples_received == 240 and len(run.disconnections) == 1


def test_a_link_retrying_without_an_event_is_connecting_then_not_connected(make):
    """Catches the link's own state (from its statistics) ignored when no event says it changed: a
    link that goes back to connecting after a disconnect is 'connecting', then 'not connected'."""
    from device.link import LinkState

    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.5, tick=0.25)
    link.unplug()
    run.step()
    assert run.status() == "disconnected"
    link.state = LinkState.CONNECTING  # retrying: the link reports it in its statistics only
    idle(run, clock, 0.25, tick=0.25)
    assert run.status() == "connecting"
    idle(run, clock, 2.0, tick=0.25)
    assert run.status() == "not connected" and run.engine.find("not_connected") is not None


def test_overflow_counts_as_lost_and_the_alarm_lasts_exactly_5_s(make):
    """Catches the link's dropped-on-overflow samples not counted as lost (or subtracted), and the
    'losing samples' alarm lasting past 5 s after the last loss (exact binary clock steps)."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 0.5, tick=0.25)
    link.frames_lost, link.overflow = 3, 4
    play(run, link, clock, 0.25, tick=0.25)
    assert run.lost == 7 and run.engine.find("losing_frames") is not None
    play(run, link, clock, 4.75, tick=0.25)
    assert run.engine.find("losing_frames") is not None  # 4.75 s after
    play(run, link, clock, 0.25, tick=0.25)
    assert run.engine.find("losing_frames") is None  # 5 s after: over


def test_a_recorder_that_cannot_write_raises_the_recording_alarm(tmp_path):
    """Catches the recorder's error not handed to the alarm engine: the practitioner must see that
    the session is not being recorded."""
    clock = FakeClock()
    link = FakeLink(clock)
    rec = TraceRecorder(tmp_path / "no such folder" / "x.db", 1)
    until(lambda: rec.done)
    run = SessionRun(link, rec, ceiling_kpa=CEILING, clock=clock)
    run.step()
    alarm = run.engine.find("recording")
    assert alarm is not None and alarm.text == f"* Not recording to disk: {rec.error}"[:122]
    run.close()


def test_the_defaults_send_no_set_point_and_dwell_after_3_s_and_the_plan_gives_overtime(make):
    """Catches the defaults changed (no set-point: nothing sent; dwell after 3 s) and the planned
    time not handed to the alarm engine (no overtime alarm)."""
    clock = FakeClock()
    link = FakeLink(clock)

    class NoRecorder:
        error = None

        def __getattr__(self, name):
            return lambda *a, **kw: None

    run = SessionRun(link, NoRecorder(), ceiling_kpa=CEILING, clock=clock)
    link.connect()
    play(run, link, clock, 3.1)
    assert link.set_points == [] and run.engine.find("dwell") is not None
    run = SessionRun(link, NoRecorder(), ceiling_kpa=CEILING, set_point_kpa=0, clock=clock)
    link.connect()
    play(run, link, clock, 0.1)
    assert link.set_points == []
    run, link, clock = make(planned_s=1.0)
    link.connect()
    play(run, link, clock, 1.1)
    assert run.engine.find("overtime") is not None


def test_a_low_first_reading_is_the_readout_and_the_peak(make):
    """Catches the readout averaged with a zero that was never read, and a peak that starts above
    zero: ten samples at 0.5 kPa (the pump barely on) read 0.5 and peak at 0.5."""
    run, link, clock = make()
    link.connect()
    run.step()
    clock.advance(0.01)
    link.samples(np.full(10, 0.5))
    run.step()
    assert run.snapshot().readout_kpa == 0.5 and run.summary()["peak_kpa"] == 0.5


def test_a_snapshot_into_the_windows_buffers_is_the_same_snapshot(make):
    """``snapshot(out=…)`` (the live window's per-frame buffers, so a frame allocates no graph-sized
    arrays) must give exactly what a plain snapshot gives: the same times before now and the same
    values, written into the caller's arrays — a wrong slice, sign or copy would draw a wrong trace."""
    run, link, clock = make()
    link.connect()
    play(run, link, clock, 3.0, vacuum=glide)
    plain = run.snapshot(2.0)
    out = (np.full(run.ring.capacity, np.nan), np.full(run.ring.capacity, np.nan))
    into = run.snapshot(2.0, out=out)
    n = len(plain.x)
    assert n > 2000 and len(into.x) == len(into.v) == n
    assert np.array_equal(into.x, plain.x) and np.array_equal(into.v, plain.v)
    assert np.shares_memory(into.x, out[0]) and np.shares_memory(into.v, out[1])
    assert into.x[0] == out[0][0] and into.x[-1] == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(out[0][n:]).all()  # nothing written past what the window shows
    again = run.snapshot(2.0, out=out)  # the same buffers, reused frame after frame
    assert np.array_equal(again.x, plain.x) and np.array_equal(again.v, plain.v)
