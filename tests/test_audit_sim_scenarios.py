"""The live-session scenarios test_session_gui.py runs only on pseudo-terminals (POSIX), run through
the in-process sim:// port as well, so they run on Windows too (issue #9)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.records import Client
from device.link import LinkState
from device.urlhandler import protocol_sim
from tests.helpers.consent import sign_consent
from tests.test_session_gui import WAIT, client_id, end, start

__all__ = ["client_id"]  # the fixture, shared with test_session_gui.py


@pytest.fixture(autouse=True)
def _plugged_in():
    yield
    protocol_sim.replug()  # whatever a test left pulled out


def test_one_running_session_per_client_sim(qtbot, window, store, client_id):
    """Per client as on a real port; per port does not apply: each sim:// port is a simulator of its own
    (the per-port refusal is tested on a pseudo-terminal in test_session_gui.py)."""
    url = "sim://?rate=200&auto=0&seed=3"
    live = start(qtbot, window, client_id, url)
    assert window.start_session(client_id) is None  # the same client: refused, said
    box = window.running_box
    assert "already running" in box.text() and "Maria Gonzalez" in box.text()
    box.close()
    assert len(window.session_windows) == 1
    other = store.add_client(Client("Ana", "Lopez"))
    sign_consent(store, other)
    dlg = window.start_session(other)
    dlg.confirm.setChecked(True)
    dlg.handpiece.setEditText(url)
    with qtbot.waitSignal(dlg.started, timeout=WAIT):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    second = window.session_windows[-1]
    assert second is not live and len(window.session_windows) == 2
    qtbot.waitUntil(lambda: second.samples_received > 50 and live.samples_received > 50, timeout=WAIT)
    end(qtbot, second)
    end(qtbot, live)


def test_no_signal_turns_the_readout_grey_sim(qtbot, window, store, client_id):
    live = start(qtbot, window, client_id, "sim://?rate=200&auto=0&seed=3")
    qtbot.waitUntil(lambda: live.samples_received > 50, timeout=WAIT)
    protocol_sim.last_device().stall(30)
    qtbot.waitUntil(lambda: live.readout.text() == "no signal", timeout=WAIT)
    assert live.readout.property("stale") is True
    qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("* No signal"), timeout=WAIT)
    assert live.engine.find("no_signal").priority == "low"
    end(qtbot, live)


def test_a_full_disk_raises_an_alarm_and_loses_nothing_sim(qtbot, window, store, client_id):
    def disk(full: bool):
        def limit(s):
            pages = s.conn.execute("PRAGMA page_count").fetchone()[0]
            s.conn.execute(f"PRAGMA max_page_count = {pages if full else 2**31}")

        return limit

    live = start(qtbot, window, client_id, "sim://?rate=500&auto=0&seed=9")
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
    assert live.recorder.dropped == 0
    assert len(store.load_trace(live.session_id)["seq"]) == summary["samples"]
    assert any(a.kind == "recording" and a.ended for a in store.alarms(live.session_id))
    assert [m.label for m in store.markers(live.session_id)] == ["while the disk was full"]


def test_another_handpiece_on_the_port_is_kept_out_until_the_practitioner_chooses_sim(
    qtbot, window, store, client_id
):
    live = start(qtbot, window, client_id, "sim://?rate=1000&auto=0&seed=1")
    qtbot.waitUntil(lambda: live.samples_received > 500, timeout=WAIT)
    first = protocol_sim.last_device().serial_number
    protocol_sim.unplug()
    qtbot.waitUntil(lambda: live.link.state is LinkState.DISCONNECTED, timeout=WAIT)
    protocol_sim.replug(serial_number="SN-B", rate=500)  # another device, another rate
    qtbot.waitUntil(lambda: live.device_bar.isVisible(), timeout=WAIT)
    assert "SN-B" in live.device_text.text() and first in live.device_text.text()
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
    assert summary["segments"] == 2 and summary["held_out"] > 500
    devices = store.session_devices(sid)
    assert [(d.segment, d.serial, d.rate_hz) for d in devices] == [(1, first, 1000), (2, "SN-B", 500)]
    assert any(a.kind == "wrong_device" and a.priority == "high" and a.ended for a in store.alarms(sid))
    assert len(store.load_trace(sid)["seq"]) == summary["samples"]
