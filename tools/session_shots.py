"""Live view (normal and mid-alarm) and a past session, for docs/screenshots/."""

from __future__ import annotations

from desktop.records import Client
from device.urlhandler.protocol_sim import last_device


def session_shots(window, store, shoot, settle) -> None:
    cid = store.add_client(Client("Maria", "Gonzalez", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(
        cid,
        "Dr Maya Okonkwo",
        mode="diamond",
        grit="fine",
        set_point_kpa=24.0,
        ceiling_kpa=30.0,
        areas=["forehead", "cheeks"],
        planned_minutes=25,
    )
    live = window._open_live(sid, {"url": "sim://?rate=1000&auto=0&seed=4"})
    live.resize(1400, 900)
    settle(9000)
    live.drop_marker("forehead, pass 1")
    live.notes_panel.notes.setPlainText("Client comfortable; skin taut, strokes at right angles.")
    live.notes_panel.areas["forehead"][0].setChecked(True)
    settle(6000)
    shoot(live, "live-session.png")
    last_device().surge(38.0, 6.0)
    settle(2500)
    live.flash_timer.stop()  # hold the lit half of the flash cycle for the picture
    live._flash_on = True
    live._update_bar()
    shoot(live, "live-session-alarm.png")
    live.flash_timer.start()
    settle(5000)
    live.drop_marker("left cheek, pass 2")
    settle(3000)
    live.end_session()
    live.summary_box.close()
    live.close()
    review = window.open_session(sid)
    review.resize(1300, 860)
    settle(1500)
    shoot(review, "past-session.png")
    review.close()
