"""Issue #9's record and behaviour points that had no test that could fail: the session engine
imports no Qt, the live alarm list says start, duration, peak and who acknowledged, and the End
button asks before ending (the window's × and quitting are tested in test_smoke / test_session_gui)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from desktop.records import Client, ScreeningAnswer
from desktop.session.live import LiveSessionWindow
from device.urlhandler import protocol_sim
from tests.helpers.consent import sign_consent

ROOT = Path(__file__).resolve().parents[1]
WAIT = 10_000


def test_the_session_engine_imports_no_qt():
    code = (
        "import sys\n"
        "import desktop.session.run, desktop.session.alarms, desktop.session.recorder, device.link\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(','.join(qt))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"Qt imported by the session engine: {out.stdout}"


def _cell(live, row: int, col: int) -> str:
    m = live.alarm_model
    return m.data(m.index(row, col)) if row < m.rowCount() else ""


def test_live_alarm_list_says_start_duration_peak_and_who_acknowledged(qtbot, store):
    cid = store.add_client(Client("Lia", "List", vacuum_ceiling_kpa=30.0))
    sign_consent(store, cid)
    sid = store.create_session(cid, "Nurse Audit", set_point_kpa=22.0, ceiling_kpa=30.0, areas=["chin"])
    live = LiveSessionWindow(store, sid, {"url": "sim://?rate=1000&auto=0&seed=11"}, lambda: "Nurse Audit")
    try:
        live.show()
        qtbot.waitExposed(live)
        qtbot.waitUntil(lambda: live.samples_received > 200, timeout=WAIT)
        device = protocol_sim.last_device()
        device.surge(40.0)
        qtbot.waitUntil(lambda: "Vacuum above this client's ceiling" in _cell(live, 0, 0), timeout=WAIT)
        assert re.fullmatch(r"\d\d:\d\d:\d\d", _cell(live, 0, 1)), _cell(live, 0, 1)
        assert _cell(live, 0, 2).endswith(" s (active)")
        device.scenario("glide")
        qtbot.waitUntil(lambda: "active" not in _cell(live, 0, 2), timeout=WAIT)
        lasted = float(_cell(live, 0, 2).removesuffix(" s"))
        assert lasted > 0
        peak = float(_cell(live, 0, 3).removesuffix(" kPa"))
        assert 30 < peak <= 42, peak
        assert _cell(live, 0, 4) == ""  # nobody has acknowledged it yet
        live.acknowledge()
        qtbot.waitUntil(lambda: _cell(live, 0, 4) == "Nurse Audit", timeout=WAIT)

        # a new alarm is listed first, and is not acknowledged by the earlier acknowledgement
        device.scenario("hold")
        qtbot.waitUntil(lambda: live.alarm_model.rowCount() == 2, timeout=WAIT)
        assert "Tip held still" in _cell(live, 0, 0) and _cell(live, 0, 4) == ""
        assert "Vacuum above this client's ceiling" in _cell(live, 1, 0)
        assert _cell(live, 1, 4) == "Nurse Audit"
        device.scenario("glide")

        # the End button asks first; keeping on recording changes nothing
        qtbot.mouseClick(live.end_button, Qt.MouseButton.LeftButton)
        box = live.confirm_box
        assert box is not None and box.isVisible() and not live.ending
        box.buttons()[1].click()  # keep recording
        assert not live.ending and not live.ended
        n = live.samples_received
        qtbot.waitUntil(lambda: live.samples_received > n + 100, timeout=WAIT)
        qtbot.mouseClick(live.end_button, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(live.finished, timeout=WAIT):
            live.confirm_box.buttons()[0].click()  # end session
    finally:
        live.force_close()
        protocol_sim.replug()
    stored = {a.kind: a for a in store.alarms(sid)}
    assert stored["over_ceiling"].acknowledged_by == "Nurse Audit"
    assert store.session(sid).status == "completed"


def _pixels_near(image, colour: str, tolerance: int = 40) -> int:
    from PySide6.QtGui import QColor, QImage

    img = image.convertToFormat(QImage.Format.Format_RGB32)
    h, w = img.height(), img.width()
    raw = np.frombuffer(img.constBits(), np.uint8, h * img.bytesPerLine()).reshape(h, -1)
    bgr = raw[:, : w * 4].reshape(h, w, 4)[:, :, :3].astype(np.int16)
    c = QColor(colour)
    want = np.array([c.blue(), c.green(), c.red()], np.int16)
    return int((np.abs(bgr - want) <= tolerance).all(axis=2).sum())


def test_client_page_shows_blocking_lines_red_and_caution_amber(qtbot, window, store):
    cid = store.add_client(Client("Cora", "Colour"))
    store.save_screening(cid, [ScreeningAnswer("cold_sores"), ScreeningAnswer("anticoagulants")])
    window.show_client(cid)
    label = window.client_page.screening_label
    qtbot.waitUntil(lambda: "Active cold sores" in label.text(), timeout=WAIT)
    text = label.text()
    block = text.index("Active cold sores")
    caution = text.index("Anticoagulants")
    assert text.rfind("#b00020", 0, block) > text.rfind("</span>", 0, block)  # inside a red span
    assert text.rfind("#8a6500", 0, caution) > text.rfind("</span>", 0, caution)  # inside an amber one
    shot = label.grab().toImage()  # and a person sees both colours
    assert _pixels_near(shot, "#b00020") > 30 and _pixels_near(shot, "#8a6500") > 30
