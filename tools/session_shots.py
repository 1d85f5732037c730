"""Live view (normal and mid-alarm), the start dialog and a past session, for docs/screenshots/."""

from __future__ import annotations

from desktop.records import Client
from desktop.session.review import SessionReviewWindow
from device.urlhandler.protocol_sim import last_device


def session_shots(window, store, shoot, settle) -> None:
    cid = store.add_client(
        Client(
            "Maria",
            "Gonzalez",
            sensitivity="sensitive",
            vacuum_ceiling_kpa=30.0,
            fitzpatrick=3,
            concerns=["fine_lines"],
        )
    )
    start = window.start_session(cid)
    start.areas["forehead"].setChecked(True)
    start.areas["cheeks"].setChecked(True)
    shoot(start, "start-session.png")
    start.reject()
    sid = store.create_session(
        cid,
        "Dr Maya Okonkwo",
        mode="diamond",
        grit="fine",
        set_point_kpa=24.0,
        ceiling_kpa=30.0,
        areas=["forehead", "cheeks"],
        planned_minutes=25,
        planned_passes=3,
    )
    live = window._open_live(sid, {"url": "sim://?rate=1000&auto=0&seed=4"})
    settle(9000)
    live.drop_marker("forehead, pass 1")
    live.notes_panel.notes.setPlainText("Client comfortable; skin taut, strokes at right angles.")
    live.notes_panel.areas["forehead"][0].setChecked(True)
    settle(6000)
    shoot(live, "live-session.png")
    last_device().surge(38.0, 6.0)
    settle(2500)
    live.timer.stop()  # hold the lit half of the flash cycle for the picture
    live._bar_key = None
    top = live.snap.banner
    live.alarm_bar.setText(live.snap.banner_text)
    live.alarm_bar.setStyleSheet(live._bar_style(top, True))
    shoot(live, "live-session-alarm.png")
    live.timer.start()
    settle(5000)
    live.drop_marker("left cheek, pass 2")
    settle(3000)
    live.end_session()
    for _ in range(100):  # the end is written on the run's thread; then the review opens
        if live.ended:
            break
        settle(100)
    settle(1500)
    review = next(w for w in window.findChildren(SessionReviewWindow) if w.session_id == sid)
    settle(1500)
    shoot(review, "past-session.png")
    review.close()
