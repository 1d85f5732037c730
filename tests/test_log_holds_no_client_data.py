"""The log file never holds client data (issue #10): a day's work on a client whose name, date of
birth, phone, email and notes are distinctive leaves none of them in abrasio.log."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QDialogButtonBox

from desktop import log as logfile
from desktop.main_window import MainWindow
from desktop.store import Store, backups
from tests.helpers.people import PLAIN

SECRETS = (
    "Zebulon",
    "Quixotewright",
    "07700 955123",
    "zq@example.org",
    "rosacea flare",
    "1961-03-14",
    "14 Mar 1961",
)


def test_a_days_work_leaves_no_client_data_in_the_log(qtbot, tmp_path):
    path = logfile.setup(tmp_path)
    db = tmp_path / "abrasio.db"
    store = Store.open(db, full_check=False)
    w = MainWindow(store, person=PLAIN, startup=True)
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: store.writable, timeout=10_000)
        dlg = w.new_client()
        dlg.first_name.setText("Zebulon")
        dlg.last_name.setText("Quixotewright")
        dlg.phone.setText("07700 955123")
        dlg.email.setText("zq@example.org")
        dlg.date_of_birth.set_value(dt.date(1961, 3, 14))
        dlg.notes.setPlainText("rosacea flare last spring")
        with qtbot.waitSignal(dlg.saved, timeout=10_000):
            dlg.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        cid = store.client_ids()[-1]
        sid = store.create_session(cid, "t", areas=["chin"])
        store.save_notes(sid, {"notes": "rosacea flare settled"})
        store.conn.execute("UPDATE treatment_sessions SET owner_pid = NULL, heartbeat_at = NULL")
        store.conn.commit()
        w.recover_interrupted()  # logged: the session by its number
        w.show_client(cid)
        w.open_session(sid).close()
        qtbot.waitUntil(lambda: not w._background.busy, timeout=10_000)
        assert w.backup_now()
        qtbot.waitUntil(  # the start's backup and this one (retention keeps one a day: count the log)
            lambda: path.read_text(encoding="utf-8").count("Automatic backup written") == 2, timeout=10_000
        )
        assert backups.list_backups(db)
    finally:
        w.stop_background_work()
        w.close()
        store.close()
        logfile.shutdown()
    text = path.read_text(encoding="utf-8")
    assert f"Session {sid} was interrupted" in text and "Automatic backup written" in text  # it logged
    found = [s for s in SECRETS if s.lower() in text.lower()]
    assert found == [], f"client data in the log: {found}"
