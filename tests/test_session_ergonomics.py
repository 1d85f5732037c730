"""The session windows in the treatment room: the display unit everywhere (a running session follows a
change), areas and passes where the session is reviewed, readable graph text, a review that says when
there is no trace, and the training panel's "Hold still" that holds."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontInfo

from desktop.records import Client
from desktop.session.review import SessionReviewWindow
from device.simulator import HandpieceModel

WAIT = 10_000


@pytest.fixture
def session_id(store):
    cid = store.add_client(Client("Maria", "Gonzalez", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    return store.create_session(
        cid, "Dr A", set_point_kpa=24.0, ceiling_kpa=30.0, areas=["forehead", "cheeks"], planned_minutes=25
    )


def change_unit(window, unit: str) -> None:
    dlg = window.open_settings()
    dlg.unit.setCurrentText(unit)
    dlg.save()


def test_a_running_session_follows_a_unit_change(qtbot, window, store, session_id):
    live = window._open_live(session_id, {"url": "sim://?rate=500&auto=0&seed=3"})
    qtbot.waitUntil(lambda: live.snap is not None and live.snap.readout_kpa is not None, timeout=WAIT)
    assert live.readout_unit.text() == "kPa"
    reading_kpa = float(live.readout.text())
    change_unit(window, "mmHg")
    assert live.readout_unit.text() == "mmHg"
    assert live.stats["ceiling"].text() == "225 mmHg"
    assert live.ceiling_line.label.format == "ceiling 225 mmHg"
    assert live.ceiling_line.value() == pytest.approx(30.0 / 0.133322387415)
    assert live.notes_panel.set_point.text() == "180 mmHg"  # 24 kPa
    assert "mmHg" in live.plot.getAxis("left").labelText + live.plot.getAxis("left").labelUnits
    # the readout now reads mmHg (about 7.5 times the kPa figure)
    qtbot.waitUntil(lambda: float(live.readout.text()) > 4 * reading_kpa, timeout=WAIT)
    # a set-point typed in mmHg reaches the handpiece in kPa
    spin = live.notes_panel.set_point
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "150")
    spin.interpretText()
    assert live.run.set_point == pytest.approx(150 * 0.133322387415, abs=1e-6)
    live.save_notes()
    qtbot.waitUntil(lambda: abs(store.notes(session_id)["set_point_kpa"] - 19.998) < 0.01, timeout=WAIT)


def test_review_in_the_display_unit_with_areas_and_passes(qtbot, window, store, session_id):
    store.set_setting("display_unit", "inHg")
    store.save_notes(
        session_id,
        {"areas": ["forehead", "nose"], "passes": {"forehead": 3, "nose": 2}, "set_point_kpa": 23.7},
    )
    store.finish_session(session_id, {"duration_s": 600, "samples": 0, "peak_kpa": 25.0})
    review = window.open_session(session_id)
    qtbot.addWidget(review)
    assert isinstance(review, SessionReviewWindow)
    head = review.head.text()
    assert "areas: Forehead ×3, Nose ×2" in head  # the notes, not the plan (forehead, cheeks)
    assert "8.9 inHg" in head  # ceiling 30 kPa
    assert "Areas and passes: Forehead ×3, Nose ×2" in review.summary.text()
    assert review.notes_panel.set_point.text() == "7.0 inHg"
    qtbot.waitUntil(lambda: review.trace is not None, timeout=WAIT)
    assert review.no_trace.isVisible() and not review.plot.isVisible()  # no empty, oddly scaled graph
    # amending only the erythema keeps the set-point exactly as stored (no unit round trip)
    review.start_amend()
    review.notes_panel.erythema.setCurrentIndex(2)
    review.save_amendment()
    assert store.notes(session_id)["set_point_kpa"] == 23.7
    # amending the areas: the header and summary follow
    review.start_amend()
    review.notes_panel.areas["chin"][0].setChecked(True)
    review.save_amendment()
    assert "Chin ×3" in review.head.text() and "Chin ×3" in review.summary.text()
    change_unit(window, "kPa")
    assert "30.0 kPa" in review.head.text() and "peak: 25.0 kPa" in review.summary.text()
    assert review.notes_panel.set_point.text() == "23.7 kPa"


def test_graph_text_is_readable_and_the_ceiling_label_larger(qtbot, window, store, session_id):
    live = window._open_live(session_id, {"url": "sim://?rate=200&auto=0&seed=3"})
    qtbot.waitExposed(live)
    for plot in (live.plot,):
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            assert QFontInfo(axis.style["tickFont"]).pixelSize() >= 14
            assert QFontInfo(axis.label.font()).pixelSize() >= 14
    ceiling = QFontInfo(live.ceiling_line.label.textItem.font()).pixelSize()
    assert ceiling >= 20 and ceiling > QFontInfo(live.set_point_line.label.textItem.font()).pixelSize()


def test_hold_still_holds_until_glide_or_lift():
    model = HandpieceModel(100, 24.0, seed=1, auto=True)
    for _ in range(300):
        model.step()
    model.set_scenario("hold")  # the training panel's "Hold still"
    for _ in range(100 * 30):  # 30 s: the demo cycle used to switch to glide within 9 s
        model.step()
        assert model.scenario.kind == "hold"
    model.set_scenario("glide")
    kinds = set()
    for _ in range(100 * 12):
        model.step()
        kinds.add(model.scenario.kind)
    assert kinds == {"glide", "lift"}  # the demo cycle runs again
    assert model.scenario.until == math.inf


# -- the start dialog ----------------------------------------------------------------------------


def open_start(qtbot, window, client_id):
    from desktop.session.start_dialog import StartSessionDialog

    dlg = window.start_session(client_id)
    assert isinstance(dlg, StartSessionDialog)
    qtbot.waitExposed(dlg)
    return dlg


def test_sensor_settings_are_folded_away_and_say_what_is_set(qtbot, window, store):
    cid = store.add_client(Client("Fold", "Ed"))
    dlg = open_start(qtbot, window, cid)
    assert dlg.handpiece.isVisible()
    assert not dlg.format.isVisible() and not dlg.baud.isVisible() and not dlg.text_unit.isVisible()
    assert dlg.sensor_toggle.text() == "Sensor settings (abrasio, 115200 baud)"
    dlg.sensor_toggle.click()
    assert dlg.format.isVisible() and dlg.baud.isVisible()
    dlg.format.setCurrentText("text")
    dlg.text_unit.setCurrentText("mmHg")
    assert dlg.sensor_toggle.text() == "Sensor settings (text, mmHg, 115200 baud)"
    dlg.reject()


def test_start_dialog_in_the_display_unit(qtbot, window, store):
    store.set_setting("display_unit", "mmHg")
    cid = store.add_client(Client("Unit", "Start", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    dlg = open_start(qtbot, window, cid)
    assert dlg.ceiling.text() == "Client's vacuum ceiling: 225 mmHg"
    assert dlg.set_point.text() == "169 mmHg"  # 22.5 kPa, the first session's default
    dlg.confirm.setChecked(True)
    dlg.consent.ack.setChecked(True)
    dlg.set_point.lineEdit().selectAll()
    qtbot.keyClicks(dlg.set_point, "240")  # 32 kPa: above the 30 kPa ceiling
    dlg.set_point.interpretText()
    dlg.start()
    assert "above this client's vacuum ceiling" in dlg.problem.text()
    dlg.set_point.lineEdit().selectAll()
    qtbot.keyClicks(dlg.set_point, "180")
    dlg.set_point.interpretText()
    with qtbot.waitSignal(dlg.started, timeout=WAIT):
        dlg.start()
    live = window.session_windows[-1]
    assert store.session(live.session_id).set_point_kpa == pytest.approx(180 * 0.133322387415)


def test_a_port_is_remembered_only_once_it_delivered_samples(qtbot, window, store, tmp_path):
    cid = store.add_client(Client("Port", "Memory"))
    dead = str(tmp_path / "no-handpiece-here")
    dlg = open_start(qtbot, window, cid)
    dlg.handpiece.setEditText(dead)
    dlg.confirm.setChecked(True)
    dlg.consent.ack.setChecked(True)
    with qtbot.waitSignal(dlg.started, timeout=WAIT):
        dlg.start()
    live = window.session_windows[-1]
    qtbot.waitUntil(
        lambda: live.snap is not None and live.snap.status in ("not connected", "disconnected"), timeout=WAIT
    )
    assert live.samples_received == 0
    assert store.setting("last_handpiece") is None  # never answered: not the next default
    live.force_close()
    window.session_windows.remove(live)

    cid2 = store.add_client(Client("Port", "Delivers"))
    dlg = open_start(qtbot, window, cid2)
    dlg.handpiece.setCurrentIndex(0)  # the simulated handpiece
    dlg.confirm.setChecked(True)
    dlg.consent.ack.setChecked(True)
    with qtbot.waitSignal(dlg.started, timeout=WAIT):
        dlg.start()
    live = window.session_windows[-1]
    qtbot.waitUntil(
        lambda: (store.setting("last_handpiece") or {}).get("url") == window.handpiece_url, timeout=WAIT
    )
    assert live.samples_received > 0


def test_the_grid_marks_the_axis_levels_and_follows_a_unit_change(qtbot, window, store, session_id):
    live = window._open_live(session_id, {"url": "sim://?rate=200&auto=0&seed=3"})
    qtbot.waitExposed(live)
    view = live.plot.getPlotItem().getViewBox()

    def row(value: float) -> int:  # the viewport's pixel row of a vacuum level
        return round(live.plot.mapFromScene(view.mapViewToScene(QPointF(-15.0, value))).y())

    major = live.grid.levels()[0]
    assert [v for v in (10.0, 20.0, 30.0, 40.0) if v in major] == [10.0, 20.0, 30.0, 40.0]  # kPa, 0-45
    image = live.plot.grab().toImage()
    x = live.plot.width() // 2
    band = image.pixelColor(x, row(22.5))  # between two levels: the set-point band only
    assert band == image.pixelColor(x, row(22.5) - 1) == image.pixelColor(x, row(22.5) + 1)
    assert any(image.pixelColor(x, row(20.0) + d) != band for d in (-1, 0, 1))  # a line at 20
    change_unit(window, "mmHg")  # 45 kPa is 338 mmHg: the grid follows the axis's new levels
    qtbot.waitUntil(lambda: max(live.grid.levels()[0]) >= 300, timeout=WAIT)
    assert 20.0 not in live.grid.levels()[0]
