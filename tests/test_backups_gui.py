"""Settings → Backups as the practitioner uses it (issue #10): the interval setting drives the
automatic backups' timer, a second folder gets a copy of each, and the list says date, size, clients
and sessions of every backup in both folders."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.store import Store, backups
from tests.helpers.people import PLAIN

WAIT = 10_000


def test_backups_settings_drive_the_timer_and_the_list_says_what_each_holds(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    store = Store.open(path)
    for i in range(3):
        cid = store.add_client(Client(f"First{i}", f"Last{i}"))
    store.create_session(cid, "t", areas=["chin"])
    store.close()

    store = Store.open(path, full_check=False)
    w = MainWindow(store, person=PLAIN, startup=True)
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: len(backups.list_backups(path)) == 1, timeout=WAIT)  # the start's
        timer = w._backup_timer
        assert timer.isActive() and timer.interval() == 4 * 3600 * 1000  # the default: 4 hours

        dlg = w.open_backups()
        qtbot.addWidget(dlg)
        usb = tmp_path / "usb"
        dlg.every.setValue(0.5)
        dlg.second.setText(str(usb))
        dlg.save_button.click()
        assert store.setting("backup_every_hours") == 0.5
        assert timer.isActive() and timer.interval() == 30 * 60 * 1000

        qtbot.waitUntil(lambda: not w._background.busy, timeout=WAIT)
        dlg.backup_button.click()
        qtbot.waitUntil(lambda: len(list(usb.glob("*.db"))) == 1, timeout=WAIT)
        # one a day beside the file (the newest), and its copy on the usb folder
        qtbot.waitUntil(lambda: dlg.model.rowCount() == 2, timeout=WAIT)
        header = [
            dlg.model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
            for c in range(dlg.model.columnCount())
        ]
        assert header[:4] == ["Taken", "Size", "Clients", "Sessions"]
        rows = [[dlg.model.data(dlg.model.index(r, c)) for c in range(5)] for r in range(2)]
        assert all(r[2] == "3" and r[3] == "1" for r in rows), rows
        assert all(r[1].endswith(("kB", "MB")) for r in rows)
        assert sorted(r[4] for r in rows) == sorted([str(tmp_path / "backups"), str(usb)])

        dlg.every.setValue(0)  # "only at start"
        dlg.save_button.click()
        assert not timer.isActive()
        dlg.close()
    finally:
        w.stop_background_work()
        w.close()
        store.close()
