"""Open every window Abrasio has and close it again, on a demo database."""

from __future__ import annotations

from desktop.demo import create_demo
from desktop.session.review import SessionReviewWindow
from desktop.session.start_dialog import StartSessionDialog

WAIT = 10_000


def test_every_window_opens_and_closes(qtbot, window, store):
    create_demo(store, n_clients=12, seed=2)
    window.list_page.refresh()
    assert window.list_page.model.rowCount() == 12
    with_trace = store.conn.execute("SELECT session_id FROM vacuum_trace_chunks LIMIT 1").fetchone()[0]
    cid = store.session(with_trace).client_id
    window.show_client(cid)
    assert window.client_page.sessions.rowCount() >= 1

    for dlg in (window.new_client(), window.edit_client(cid), window.open_settings()):
        qtbot.waitExposed(dlg)
        dlg.reject()
        qtbot.waitUntil(lambda d=dlg: not d.isVisible(), timeout=WAIT)

    start = window.start_session(cid)
    assert isinstance(start, StartSessionDialog)
    start.confirm.setChecked(True)
    start.override_action.setCurrentIndex(1)
    start.override.setText("Smoke test of every window, nobody is treated.")
    start.consent.ack.setChecked(True)
    start.handpiece.setCurrentIndex(0)  # the simulated handpiece
    with qtbot.waitSignal(start.started, timeout=WAIT):
        start.start()
        if start.blocked:
            start.override_box_confirm.buttons()[0].click()
    live = window.session_windows[-1]
    qtbot.waitUntil(lambda: live.samples_received > 100, timeout=WAIT)
    live.close()  # closing the window asks first
    assert not live.ended and live.confirm_box.isVisible()
    live.confirm_box.buttons()[1].click()  # keep recording
    assert not live.ending
    live.close()
    with qtbot.waitSignal(live.finished, timeout=WAIT):
        live.confirm_box.buttons()[0].click()  # end session
    qtbot.waitUntil(lambda: window.findChild(SessionReviewWindow) is not None, timeout=WAIT)

    review = window.open_session(with_trace)
    assert isinstance(review, SessionReviewWindow)
    qtbot.addWidget(review)
    qtbot.waitUntil(lambda: review.trace is not None, timeout=WAIT)
    assert len(review.trace["seq"]) > 1000
    review.close()
    window.close()
