"""The start dialog, the live view (normal, no device, mid-alarm, latched alarm, alarm list) and a past
session, as they open on the 1366×768 screen tools/screenshots.py renders on, for docs/screenshots/."""

from __future__ import annotations

from desktop.records import Client
from device.urlhandler.protocol_sim import last_device


def _hold_lit(live) -> None:
    """Stop the frames and draw the banner in the lit half of its flash cycle, for the picture."""
    live.timer.stop()
    live.frame()
    if live.snap.banner is not None:
        live.alarm_bar.setStyleSheet(live._bar_style(live.snap.banner, True))


def _end(live, settle) -> None:
    live.end_session()
    for _ in range(50):
        if live.ended:
            break
        settle(100)


def session_shots(window, store, shoot, settle) -> None:
    cid = store.add_client(Client("Maria", "Gonzalez", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    start = window.start_session(cid)
    start.areas["forehead"].setChecked(True)
    start.areas["cheeks"].setChecked(True)
    shoot(start, "start-session.png")
    start.done(0)

    # no handpiece on the port: a technical alarm, "not connected" in full
    sid = store.create_session(cid, "Dr Maya Okonkwo", set_point_kpa=24.0, ceiling_kpa=30.0, areas=["chin"])
    live = window._open_live(sid, {"url": "/dev/ttyUSB9"})
    settle(3000)
    shoot(live, "live-no-device.png")
    _end(live, settle)
    settle(500)
    from desktop.session.review import SessionReviewWindow

    for review in window.findChildren(SessionReviewWindow):
        review.close()

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
    _hold_lit(live)
    shoot(live, "live-session-alarm.png")
    live.timer.start()
    settle(6000)  # the surge ends unacknowledged: latched
    _hold_lit(live)
    shoot(live, "live-latched-alarm.png")
    live.timer.start()
    live.acknowledge()
    last_device().scenario("hold", 5.0)
    settle(4200)
    live.acknowledge()  # the dwell, while it lasts: the list says by whom
    settle(800)
    live.notes_panel.areas["forehead"][1].setValue(4)  # passes beyond the plan
    last_device().drop_frames(50)
    settle(2500)
    _hold_lit(live)
    shoot(live, "live-alarm-list.png")
    live.timer.start()
    live.acknowledge()
    live.drop_marker("left cheek, pass 2")
    settle(3000)
    _end(live, settle)
    settle(1500)
    review = window.findChild(SessionReviewWindow)
    settle(1500)
    shoot(review, "past-session.png")
    review.close()
