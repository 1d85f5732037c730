"""The alarm engine over simulated physics and a fake clock (no real time passes)."""

import numpy as np

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
    assert engine.tick(1.0, "connected", 0.02, False) == []
    (no_signal,) = engine.tick(2.0, "connected", 1.5, False)
    assert no_signal.kind == "no_signal" and no_signal.text == "* No signal from the handpiece"
    changed = engine.tick(3.0, "disconnected", 2.5, False)
    assert {a.kind for a in changed} == {"disconnected", "no_signal"}  # one starts, one ends
    engine.tick(4.0, "connected", 0.01, True)
    assert {a.kind for a in engine.active()} == {"losing_frames"}
    engine.tick(61.0, "connected", 0.01, False)
    assert engine.highest().kind == "overtime"
    acked = engine.acknowledge("2026-11-25T10:00:00", "Dr K")
    assert [a.kind for a in acked] == ["overtime"] and acked[0].acknowledged_by == "Dr K"


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
    assert engine.passes(5.0, {"cheeks": 9}, None, names) == []  # no plan, no alarm
