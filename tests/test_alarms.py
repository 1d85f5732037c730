"""The alarm engine over simulated physics and a fake clock (no real time passes)."""

import numpy as np
import pytest

from desktop.session.alarms import AlarmEngine
from device.simulator import HandpieceModel

RATE = 1000


def run(engine: AlarmEngine, model: HandpieceModel, seconds: float, t0: float = 0.0):
    n = int(seconds * RATE)
    out = np.array([model.step() for _ in range(n)])
    t = t0 + np.arange(n) / RATE
    engine.feed(t, out[:, 0], out[:, 2].astype(bool))
    return t0 + seconds


def test_gliding_counts_strokes_and_raises_nothing():
    model = HandpieceModel(RATE, set_point_kpa=24, seed=1)
    engine = AlarmEngine(ceiling_kpa=30)
    run(engine, model, 12)
    assert engine.alarms == []
    assert 8 <= engine.strokes.strokes <= 10  # a stroke every 1.2 s


def test_surge_gives_one_high_alarm_with_its_peak_and_end():
    model = HandpieceModel(RATE, set_point_kpa=24, seed=2)
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    t = run(engine, model, 3)
    model.set_scenario("surge", level=30.3)  # hovering just over the ceiling, in noise
    t = run(engine, model, 4, t)
    model.set_scenario("surge", level=38)
    t = run(engine, model, 3, t)
    model.set_scenario("glide")
    t = run(engine, model, 4, t)
    (alarm,) = engine.alarms
    assert alarm.kind == "over_ceiling" and alarm.priority == "high" and alarm.text.startswith("***")
    assert 3.5 < alarm.started < 5.0 and 10.0 < alarm.ended < 11.0  # one alarm, however noisy
    assert 37 < alarm.peak_kpa < 39.5


def test_tip_held_still_raises_dwell_and_moving_again_clears_it():
    model = HandpieceModel(RATE, set_point_kpa=24, seed=3)
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = run(engine, model, 3)
    model.set_scenario("hold")
    t = run(engine, model, 2.5, t)
    assert engine.highest() is None  # not yet: 3 s without a stroke
    t = run(engine, model, 2.0, t)
    assert engine.highest().kind == "dwell" and engine.highest().priority == "medium"
    model.set_scenario("glide")
    t = run(engine, model, 3, t)
    assert engine.active() == []


def test_dwell_clears_after_a_surge_ends():
    model = HandpieceModel(RATE, set_point_kpa=24, seed=4)
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = run(engine, model, 2)
    model.set_scenario("surge", level=38)
    t = run(engine, model, 6, t)
    assert {a.kind for a in engine.active()} == {"over_ceiling", "dwell"}
    model.set_scenario("glide")
    run(engine, model, 5, t)
    assert engine.active() == []


def test_lifting_the_tip_is_not_dwell():
    model = HandpieceModel(RATE, set_point_kpa=24, seed=5)
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    model.set_scenario("lift")
    run(engine, model, 10)
    assert engine.alarms == []


def test_link_alarms_and_overtime_and_acknowledge():
    engine = AlarmEngine(ceiling_kpa=30, planned_s=60)
    assert engine.tick(1.0, "connected", 0.0, 0.98) == []
    (no_signal,) = engine.tick(2.1, "connected", 0.0, 1.0)
    assert no_signal.kind == "no_signal" and no_signal.text == "* No signal from the handpiece"
    changed = engine.tick(3.0, "disconnected", 2.5, 1.0)
    assert {a.kind for a in changed} == {"disconnected", "no_signal"}  # one starts, one ends
    engine.tick(4.0, "connected", 3.5, 3.99, recent_loss=True)
    assert {a.kind for a in engine.active()} == {"losing_frames"}
    engine.tick(60.0, "connected", 3.5, 59.99)
    assert engine.find("overtime") is None  # not past the plan at 60 s exactly
    engine.tick(60.1, "connected", 3.5, 60.09)
    assert engine.highest().kind == "overtime"
    acked = engine.acknowledge(61.0, "2026-11-25T10:00:00", "Dr K")
    assert [a.kind for a in acked] == ["overtime"] and acked[0].acknowledged_by == "Dr K"


def test_not_connected_two_seconds_after_the_start_with_the_reason():
    engine = AlarmEngine(ceiling_kpa=30)
    assert engine.tick(1.99, "connecting", 0.0, None, reason="could not open port") == []
    (alarm,) = engine.tick(2.0, "connecting", 0.0, None, reason="could not open port")
    assert alarm.kind == "not_connected" and alarm.text == "* Handpiece not connected (could not open port)"
    (ended,) = engine.tick(2.5, "connected", 2.4, None)
    assert ended is alarm and alarm.ended == 2.5


def test_no_sample_ever_is_no_signal_two_seconds_after_connecting():
    engine = AlarmEngine(ceiling_kpa=30)
    assert engine.tick(6.99, "connected", 5.0, None) == []
    (alarm,) = engine.tick(7.0, "connected", 5.0, None)
    assert alarm.message == "No samples from the handpiece"
    # a sample from before a reconnect does not count for the new connection
    engine = AlarmEngine(ceiling_kpa=30)
    assert engine.tick(6.0, "connected", 5.0, 4.0) == []
    assert engine.tick(7.0, "connected", 5.0, 4.0)[0].message == "No signal from the handpiece"


def feed_const(engine, t0, seconds, v, contact=True, rate=1000):
    t = t0 + np.arange(round(seconds * rate)) / rate
    engine.feed(t, np.full(len(t), v), np.full(len(t), contact))
    return t0 + len(t) / rate


def test_over_the_ceiling_needs_50_ms_strictly_above_it():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    t = feed_const(engine, 0.0, 1.0, 30.0)  # at the ceiling is not above it
    t = feed_const(engine, t, 0.050, 30.01)  # 50 samples: 0 … 49 ms above
    assert engine.alarms == []
    t = feed_const(engine, t, 0.001, 30.01)  # the 51st sample: 50 ms above
    (alarm,) = engine.alarms
    assert alarm.started == 1.0 and alarm.peak_kpa == 30.01


def test_hysteresis_and_clear_delay():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    t = feed_const(engine, 0.0, 0.5, 35.0)
    t = feed_const(engine, t, 2.0, 29.41)  # under the ceiling but inside the hysteresis (0.6 kPa)
    assert engine.find("over_ceiling") is not None
    below = t
    t = feed_const(engine, t, 0.198, 29.39)  # below ceiling - hysteresis, not yet for 200 ms
    assert engine.find("over_ceiling") is not None
    t = feed_const(engine, t, 0.004, 29.39)
    (alarm,) = engine.alarms
    assert alarm.ended == below  # ends when it went under, not when that was confirmed
    # a reading back above resets the clear delay
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    t = feed_const(engine, 0.0, 0.5, 35.0)
    t = feed_const(engine, t, 0.15, 20.0)
    t = feed_const(engine, t, 0.001, 31.0)
    t = feed_const(engine, t, 0.15, 20.0)
    assert engine.find("over_ceiling") is not None


def test_hysteresis_is_at_least_half_a_kpa():
    engine = AlarmEngine(ceiling_kpa=10, dwell_s=60)  # 2 % of 10 is 0.2: the floor of 0.5 applies
    t = feed_const(engine, 0.0, 0.5, 12.0)
    t = feed_const(engine, t, 1.0, 9.55)
    assert engine.find("over_ceiling") is not None
    feed_const(engine, t, 1.0, 9.45)
    assert engine.find("over_ceiling") is None


def test_dwell_starts_after_the_dwell_time_within_a_tenth_of_a_second():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 10.0, 2.9, 24.0)
    assert engine.alarms == []
    feed_const(engine, t, 0.2, 24.0)
    (alarm,) = engine.alarms
    assert alarm.kind == "dwell" and 13.0 < alarm.started <= 13.1


def test_lifting_the_tip_resets_dwell():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 0.0, 2.5, 24.0)
    t = feed_const(engine, t, 0.1, 0.8, contact=False)
    t = feed_const(engine, t, 2.9, 24.0)
    assert engine.alarms == []
    feed_const(engine, t, 0.2, 24.0)
    assert 5.6 < engine.alarms[0].started <= 5.7


def test_a_gap_in_the_samples_resets_dwell():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 0.0, 2.5, 24.0)
    t = feed_const(engine, t + 0.6, 2.9, 24.0)  # a replug: 0.6 s without samples
    assert engine.alarms == []


def test_a_stroke_resets_dwell():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 0.0, 2.5, 24.0)
    t = feed_const(engine, t, 0.2, 20.0)  # a 0.2 s dip of 4 kPa and back: a stroke
    t = feed_const(engine, t, 2.9, 24.0)
    assert engine.alarms == [] and engine.strokes.strokes == 1


def test_priority_then_newest():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    engine.tick(0.0, "connected", 0.0, 0.0, recent_loss=True)  # low, oldest
    feed_const(engine, 0.0, 0.5, 35.0)  # high
    assert engine.highest().kind == "over_ceiling"
    feed_const(engine, 0.5, 3.0, 35.0)  # dwell: medium, newer
    assert engine.highest().kind == "over_ceiling"
    engine.passes(5.0, {"cheeks": 4}, 3, {})  # medium, newer than dwell
    feed_const(engine, 3.5, 0.5, 10.0)  # the high one ends (latched, unacknowledged)
    assert engine.highest().kind == "over_ceiling" and engine.highest().latched
    engine.acknowledge(6.0, "now", "me")
    engine.passes(7.0, {"cheeks": 5}, 3, {})
    assert engine.highest().kind == "passes"


def test_acknowledge_applies_only_to_what_is_present():
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    engine.tick(0.0, "disconnected", 0.0, None)
    engine.acknowledge(1.0, "now", "me")
    feed_const(engine, 1.0, 0.5, 35.0)
    over = engine.find("over_ceiling")
    assert over is not None and not over.acknowledged
    assert engine.find("disconnected").acknowledged


def test_an_alarm_never_ends_before_it_started():
    engine = AlarmEngine(ceiling_kpa=30)
    (alarm,) = engine.tick(5.0, "disconnected", 5.0, None)
    engine.end_all(4.0)
    assert alarm.ended == 5.0
    (alarm,) = engine.tick(6.0, "disconnected", 5.0, None)
    engine.tick(5.5, "connected", 5.5, 5.5)
    assert alarm.ended == 6.0


def test_passes_beyond_the_plan_raise_a_medium_alarm():
    engine = AlarmEngine(ceiling_kpa=30)
    names = {"cheeks": "Cheeks", "chin": "Chin"}
    assert engine.passes(1.0, {"cheeks": 3, "chin": 2}, 3, names) == []
    (alarm,) = engine.passes(2.0, {"cheeks": 4, "chin": 2}, 3, names)
    assert alarm.priority == "medium" and alarm.text == "** Passes beyond the plan: Cheeks 4 of 3"
    changed = engine.passes(3.0, {"cheeks": 4, "chin": 4}, 3, names)
    assert [a.active for a in changed] == [False, True]  # the old message ends, the new one starts
    assert engine.highest().message == "Passes beyond the plan: Cheeks 4 of 3, Chin 4 of 3"
    engine.passes(4.0, {"cheeks": 3, "chin": 3}, 3, names)  # a count corrected
    assert engine.active() == []
    assert all(a.ended >= a.started for a in engine.alarms)
    assert engine.passes(5.0, {"cheeks": 9}, None, names) == []  # no plan, no alarm


def test_an_area_without_a_display_name_is_named_by_its_code():
    """Catches the passes message saying 'None 4 of 3' for an area the names do not know."""
    engine = AlarmEngine(ceiling_kpa=30)
    (alarm,) = engine.passes(2.0, {"neck": 4}, 3, {})
    assert alarm.message == "Passes beyond the plan: neck 4 of 3"


def test_a_replug_restarts_the_50_ms_confirmation_of_over_the_ceiling():
    """Catches reset_contact leaving the above-ceiling start broken: 30 ms above before a replug and
    30 ms after are not 50 ms continuously above; 50 ms after it are, and the alarm starts then."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    t = feed_const(engine, 0.0, 0.030, 35.0)
    engine.reset_contact()
    t = feed_const(engine, t + 0.6, 0.030, 35.0)
    assert engine.alarms == []
    t = feed_const(engine, t, 0.030, 35.0)
    (alarm,) = engine.alarms
    assert alarm.kind == "over_ceiling" and alarm.started == pytest.approx(0.63)


def test_a_dip_cut_by_a_gap_is_not_a_stroke():
    """Catches a gap (replug) that leaves the stroke detector in a dip: the first reading after it
    would complete a 'stroke' that never happened, and a held-still tip would not raise dwell."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 0.0, 1.0, 24.0)
    t = feed_const(engine, t, 0.1, 20.0)  # the dip of a stroke begins…
    feed_const(engine, t + 0.6, 0.5, 24.0)  # …and the samples stop for 0.6 s, then come back level
    assert engine.strokes.strokes == 0


def test_an_alarm_record_is_what_the_store_and_the_spill_file_get():
    """Catches a renamed or missing field in the record saved for each alarm change."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    feed_const(engine, 1.0, 0.1, 31.5)
    engine.acknowledge(1.2, "2026-11-25T10:00:00+01:00", "Dr K")
    (alarm,) = engine.alarms
    assert alarm.record() == {
        "priority": "high",
        "kind": "over_ceiling",
        "message": "Vacuum above this client's ceiling",
        "started": 1.0,
        "ended": None,
        "peak_kpa": 31.5,
        "acknowledged_at": "2026-11-25T10:00:00+01:00",
        "acknowledged_by": "Dr K",
    }


def test_a_third_handpiece_replaces_the_wrong_device_alarm_and_the_right_one_ends_it():
    """Catches the wrong-device alarm keeping the first stranger's words when another one answers,
    or not ending: each other handpiece is its own high alarm, and the session's own ends it."""
    engine = AlarmEngine(ceiling_kpa=30)
    (first,) = engine.device(1.0, "Another handpiece: A")
    assert engine.device(2.0, "Another handpiece: A") == []  # the same one: nothing changes
    ended, started = engine.device(3.0, "Another handpiece: B")
    assert ended is first and first.ended == 3.0
    assert started.message == "Another handpiece: B" and started.priority == "high" and started.started == 3.0
    (gone,) = engine.device(4.0, None)
    assert gone is started and gone.ended == 4.0 and engine.active() == []


def test_link_alarm_words_with_and_without_a_reason():
    """Catches the link alarms' words changed, a reason shown as '()' when there is none, a reason
    cut at the wrong length, and the defaults of tick() (connecting since the start, no reason)."""
    engine = AlarmEngine(ceiling_kpa=30)
    assert engine.tick(1.99, "connecting") == []
    (alarm,) = engine.tick(2.0, "connecting")
    assert alarm.text == "* Handpiece not connected"
    engine = AlarmEngine(ceiling_kpa=30)
    (alarm,) = engine.tick(2.0, "connecting", 0.0, None, reason="x" * 200)
    assert alarm.message == ("Handpiece not connected (" + "x" * 200)[:120] and len(alarm.message) == 120
    (ended, gone) = engine.tick(3.0, "disconnected", 3.0, None)
    assert ended is alarm and gone.text == "* Handpiece disconnected — reconnecting"


def test_a_sample_at_the_instant_of_the_connect_counts_for_that_connection():
    """Catches a sample stamped exactly when the link connected being ignored: the alarm must be
    'no signal' 1 s after it, not wait for the 2 s connect grace."""
    engine = AlarmEngine(ceiling_kpa=30)
    assert engine.tick(2.0, "connected", 1.0, 1.0) == []
    (alarm,) = engine.tick(2.5, "connected", 1.0, 1.0)
    assert alarm.message == "No signal from the handpiece"


def test_losing_samples_overtime_and_not_recording_have_their_words_and_times():
    """Catches the technical and overtime alarms' words changed, stamped without their time, never
    started (not recording to disk), and 'no signal' raised at exactly 1 s instead of after it."""
    engine = AlarmEngine(ceiling_kpa=30, planned_s=60)
    assert engine.tick(2.0, "connected", 0.0, 1.0) == []  # exactly 1 s after the last sample: not yet
    (loss,) = engine.tick(3.0, "connected", 0.0, 2.99, recent_loss=True)
    assert (loss.kind, loss.started) == ("losing_frames", 3.0)
    assert loss.text == "* Handpiece link is losing samples"
    ended, over = engine.tick(60.5, "connected", 0.0, 60.49)
    assert ended is loss and loss.ended == 60.5
    assert (over.kind, over.started) == ("overtime", 60.5)
    assert over.text == "** Treatment has run past the planned time"
    (rec,) = engine.tick(61.0, "connected", 0.0, 60.99, recording_error="disk full")
    assert (rec.kind, rec.text, rec.started) == ("recording", "* Not recording to disk: disk full", 61.0)
    (rec_ended,) = engine.tick(62.0, "connected", 0.0, 61.99)
    assert rec_ended is rec and rec.ended == 62.0


def test_a_gradual_stroke_at_five_samples_a_second_is_counted():
    """Catches the per-sample cap on the plateau's decay (0.1 s) raised: at 5 samples/s (a slow text
    sensor) the plateau would sink with a stroke's gradual dip, the stroke would not count, and
    dwell would sound while the tip glides."""
    from desktop.session.alarms import StrokeDetector

    det = StrokeDetector()
    for i, v in enumerate([24.0] * 5 + [23.0, 21.8, 24.0] + [24.0] * 3):
        det.feed(i * 0.2, v, True)
    assert det.strokes == 1 and det.last_stroke == pytest.approx(1.4)


def test_samples_exactly_half_a_second_apart_are_still_continuous_contact():
    """Catches the gap limit moved from 'more than 0.5 s' to 'at least': contact (and dwell) would
    restart at every 0.5 s step of a 2-samples/s sensor. Times in exact binary fractions."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    feed_const(engine, 0.0, 4.0, 24.0, rate=2)  # 0, 0.5, 1.0 … 3.5 s
    (alarm,) = engine.alarms
    assert alarm.kind == "dwell" and alarm.started == 3.5  # the first sample more than 3 s on


def test_a_dip_cut_by_lifting_the_tip_is_not_a_stroke():
    """Catches lifting the tip leaving the stroke detector in a dip: the first reading back on the
    skin would complete a stroke that never happened."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 0.0, 1.0, 24.0)
    t = feed_const(engine, t, 0.1, 20.0)  # the dip of a stroke begins…
    t = feed_const(engine, t, 0.05, 0.5, contact=False)  # …the tip is lifted…
    feed_const(engine, t, 0.3, 24.0)  # …and put back at once
    assert engine.strokes.strokes == 0


def test_a_drop_longer_than_a_stroke_is_a_change_of_level_and_dwell_goes_on():
    """The bug mutation testing found: after max_dip_s the detector closed the dip and re-armed a
    new one at once, so a vacuum drop of 1.1-1.9 s counted as a stroke when it recovered, and a tip
    held still had its dwell alarm ended by a stroke that never was."""
    from desktop.session.alarms import StrokeDetector

    for drop_s in (1.1, 1.5, 1.9, 2.5):
        det = StrokeDetector()
        for i, v in enumerate([24.0] * 1000 + [18.0] * round(drop_s * 1000) + [24.0] * 500):
            det.feed(i / 1000, v, True)
        assert det.strokes == 0, drop_s
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    t = feed_const(engine, 0.0, 2.0, 24.0)  # held still…
    t = feed_const(engine, t, 1.5, 18.0)  # …the seal eases for 1.5 s…
    feed_const(engine, t, 2.0, 24.0)  # …and comes back: still held still throughout
    (dwell,) = engine.alarms
    assert dwell.kind == "dwell" and dwell.active and 3.0 < dwell.started <= 3.01


def test_a_stroke_at_a_low_set_point_counts_the_moment_it_recovers():
    """Catches the recovery margin at low vacuum (a third of the 1.2 kPa minimum dip) narrowed: the
    stroke would be placed later than it happened."""
    from desktop.session.alarms import StrokeDetector

    det = StrokeDetector()
    for i, v in enumerate([10.0] * 1000 + [8.5] * 200 + [9.38] * 300):
        det.feed(i / 1000, v, True)
    assert det.strokes == 1 and det.last_stroke == pytest.approx(1.2)


def test_a_dip_of_exactly_the_longest_stroke_is_a_stroke():
    """Catches 'within max_dip_s' made exclusive: a 1 s dip (8 samples/s, exact times) is a stroke."""
    from desktop.session.alarms import StrokeDetector

    det = StrokeDetector()
    for i, v in enumerate([24.0] * 8 + [20.0] * 8 + [24.0] * 4):
        det.feed(i / 8, v, True)
    assert det.strokes == 1 and det.last_stroke == 2.0


def test_plain_sequences_and_arrays_give_the_same_alarms_in_plain_numbers():
    """Catches the conversion to Python numbers dropped (alarm times and peaks would be numpy
    scalars in the records the store and the spill file get) or forced on plain lists (which have
    no tolist: feed would raise)."""
    t = [i / 1000 for i in range(100)]
    from_lists, from_arrays = AlarmEngine(ceiling_kpa=30), AlarmEngine(ceiling_kpa=30)
    from_lists.feed(t, [35.0] * 100, [True] * 100)
    from_arrays.feed(np.array(t), np.full(100, 35.0), np.full(100, True))
    (a,), (b,) = from_lists.alarms, from_arrays.alarms
    assert a.record() == b.record()
    assert type(b.started) is float and type(b.peak_kpa) is float


def test_samples_of_unequal_lengths_are_refused():
    """Catches a silent truncation (zip without strict): times, readings and contact must line up."""
    with pytest.raises(ValueError):
        AlarmEngine(ceiling_kpa=30).feed([0.0, 0.001], [35.0], [True, True])


def test_exactly_50_ms_above_alarms_and_exactly_200_ms_below_clears():
    """Catches the confirm and clear delays made exclusive ('for 50 ms' means at 50 ms), on exact
    binary times."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    (alarm,) = engine.feed([0.0, 0.05], [35.0, 35.0], [True, True])
    assert alarm.started == 0.0
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    (alarm,) = engine.feed([-1.0, -0.9], [35.0, 35.0], [True, True])
    (ended,) = engine.feed([0.0, 0.2], [20.0, 20.0], [True, True])  # 0.2 - 0.0 is 0.2 exactly
    assert ended is alarm and alarm.ended == 0.0


def test_a_reading_at_exactly_the_hysteresis_edge_does_not_clear():
    """Catches 'below ceiling - hysteresis' made inclusive (ceiling 10: the edge is 9.5 exactly)."""
    engine = AlarmEngine(ceiling_kpa=10, dwell_s=60)
    t = feed_const(engine, 0.0, 0.1, 12.0)
    feed_const(engine, t, 1.0, 9.5)
    assert engine.find("over_ceiling") is not None


def test_in_one_batch_the_peak_rises_and_an_alarm_ends_and_a_new_one_starts():
    """Catches the over-ceiling alarm lost track of within a batch (a batch at a slow refresh holds
    seconds of samples): the peak must follow the highest reading, and after it ends a new surge is a
    new alarm."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    v = [35.0] * 100 + [40.0] * 100 + [20.0] * 300 + [36.0] * 100
    t = [i / 1000 for i in range(len(v))]
    changed = engine.feed(t, v, [True] * len(v))
    first, second = engine.alarms
    assert first.peak_kpa == 40.0 and first.ended == 0.2
    assert second.started == 0.5 and second.peak_kpa == 36.0 and second.active
    assert changed == [first, first, second]  # the first started and ended, the second started


def test_a_rising_peak_is_reported_so_the_stored_alarm_has_it():
    """Catches a peak raised in a later batch without the alarm being returned as changed: the
    recorder would keep the first peak on disk."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    (alarm,) = feed_changes(engine, 0.0, 0.1, 35.0)
    assert feed_changes(engine, 0.1, 0.1, 34.0) == []  # lower: nothing to store
    assert feed_changes(engine, 0.2, 0.1, 38.0) == [alarm] and alarm.peak_kpa == 38.0


def feed_changes(engine, t0, seconds, v):
    t = t0 + np.arange(round(seconds * 1000)) / 1000
    return engine.feed(t, np.full(len(t), v), np.full(len(t), True))


def test_back_inside_the_hysteresis_band_restarts_the_clear_delay():
    """Catches the clear delay kept running while the reading is back between the clear level and
    the ceiling: 150 ms below, a moment in the band, 150 ms below is not 200 ms below."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=60)
    t = feed_const(engine, 0.0, 0.5, 35.0)
    t = feed_const(engine, t, 0.15, 20.0)
    t = feed_const(engine, t, 0.001, 29.6)  # in the band: under the ceiling, above 29.4
    feed_const(engine, t, 0.15, 20.0)
    assert engine.find("over_ceiling") is not None


def test_the_dwell_alarm_says_what_to_do():
    """Catches the dwell alarm's words changed or lost."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    feed_const(engine, 0.0, 3.1, 24.0)
    (alarm,) = engine.alarms
    assert alarm.text == "** Tip held still on the skin — keep it moving"


def test_dwell_starting_and_ending_in_one_batch_ends_at_the_stroke():
    """Catches the dwell alarm lost track of within a batch: held still past 3 s, then a stroke, all
    in one batch (a slow refresh), must end the alarm at the stroke, not at some later batch."""
    engine = AlarmEngine(ceiling_kpa=30, dwell_s=3.0)
    v = [24.0] * 3200 + [20.0] * 200 + [24.0] * 600
    engine.feed([i / 1000 for i in range(len(v))], v, [True] * len(v))
    (dwell,) = engine.alarms
    assert dwell.kind == "dwell" and 3.0 < dwell.started <= 3.01
    assert dwell.ended == pytest.approx(engine.strokes.last_stroke) and 3.4 <= dwell.ended < 3.45
