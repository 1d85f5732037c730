"""Login, first start, the lock over a running treatment and the audit screen, for docs/screenshots/
(1366×768 where it is the whole screen).

Run: .venv/bin/python tools/security_shots.py  (offscreen; about 20 s)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QPoint, QTimer
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from desktop import accounts
from desktop.accounts import Role
from desktop.demo import create_demo
from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.resources import resource_path
from desktop.security_ui import FirstStartWizard, LoginDialog
from device.urlhandler.protocol_sim import last_device

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def settle(ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def until(predicate, ms: int = 10_000) -> None:
    for _ in range(ms // 50):
        if predicate():
            return
        settle(50)
    raise TimeoutError("condition not met")


def save(pixmap: QPixmap, name: str) -> None:
    pixmap.save(str(OUT / name))
    print("wrote", OUT / name)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())

    # first start: the recovery key page
    wiz = FirstStartWizard(tmp / "new" / "abrasio.db")
    (tmp / "new").mkdir()
    wiz.resize(720, 480)
    wiz.show()
    wiz.admin_page.name.setText("Dr Maya Okonkwo")
    wiz.admin_page.passphrase.setText("plum tree in the yard")
    wiz.admin_page.passphrase2.setText("plum tree in the yard")
    wiz.next()
    until(lambda: wiz.currentPage() is wiz.recovery_page)
    settle()
    save(wiz.grab(), "first-start-recovery-key.png")
    wiz.hide()

    # login
    clinic_path = tmp / "clinic" / "abrasio.db"
    clinic_path.parent.mkdir()
    setup = accounts.create_clinic(clinic_path, "Dr Maya Okonkwo", "plum tree in the yard")
    setup.clinic.add_person("Tom Reyes", [Role.FRONT_DESK], "front desk passphrase")
    setup.clinic.close()
    login = LoginDialog(clinic_path)
    login.show()
    login.name.setCurrentText("Dr Maya Okonkwo")
    login.passphrase.setText("not quite right")
    login.attempt()
    until(lambda: "not right" in login.problem.text())
    settle()
    save(on_screen([(login.grab(), None)]), "login.png")
    login.hide()

    # the app as it runs: a clinic with the demo's fictional clients, logged in, a treatment running
    setup = accounts.create_clinic(tmp / "demo.db", "Dr Maya Okonkwo", "plum tree in the yard")
    clinic = setup.clinic
    clinic.add_person("Tom Reyes", [Role.FRONT_DESK], "front desk passphrase")
    store = clinic.store
    create_demo(store, seed=3)
    w = MainWindow(clinic)
    w.resize(*SCREEN)
    w.move(0, 0)
    w.show()
    cid = store.add_client(Client("Maria", "Gonzalez", sensitivity="sensitive", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(
        cid, w.who(), mode="diamond", grit="fine", set_point_kpa=24.0, ceiling_kpa=30.0,
        areas=["forehead", "cheeks"], planned_minutes=25,
    )  # fmt: skip
    w.show_client(cid)
    live = w._open_live(sid, {"url": "sim://?rate=1000&auto=0&seed=4"})
    live.resize(940, 600)
    settle(8000)
    w.lock.lock("Ctrl+L")
    last_device().surge(38.0, 6.0)
    settle(2500)
    until(lambda: live._flash_on and live.alarm_bar.text().startswith("***"))  # the lit half of the flash
    # on one 1366×768 screen: the locked main window, moved left so that its lock panel is in view, and
    # the treatment window beside it, in front
    live.resize(SCREEN[0] - 630, 660)
    settle(1500)
    until(lambda: live._flash_on and live.alarm_bar.text().startswith("***"))
    screen = on_screen([(w.grab(), QPoint(-300, 0)), (live.grab(), QPoint(630, 54))])
    save(screen, "lock-over-running-session.png")
    live.force_close()
    w.lock.unlock(clinic.person)
    w.resize(*SCREEN)

    # the audit screen: a day's reads and writes, then the chain verified
    for client in store.search_clients()[:6]:
        w.show_client(client.id)
    clinic.switch_to("Tom Reyes", "front desk passphrase")
    w._person_changed()
    for client in store.search_clients()[2:5]:
        w.show_client(client.id)
    clinic.switch_to("Dr Maya Okonkwo", "plum tree in the yard")
    w._person_changed()
    audit = w.open_audit()
    audit.resize(*SCREEN)
    audit.move(0, 0)
    audit.verify()
    until(lambda: "intact" in audit.verdict.text(), 30_000)
    audit.table.scrollToBottom()
    settle()
    save(audit.grab(), "audit.png")
    audit.close()
    w.close()
    clinic.close()


SCREEN = (1366, 768)


def on_screen(windows) -> QPixmap:
    """Windows as they would sit on a 1366×768 screen (offscreen, each is grabbed alone): at the given
    place, or centred."""
    screen = QPixmap(*SCREEN)
    screen.fill(QColor("#4a5a63"))
    p = QPainter(screen)
    for pixmap, at in windows:
        if at is None:
            at = QPoint((SCREEN[0] - pixmap.width()) // 2, (SCREEN[1] - pixmap.height()) // 3)
        p.drawPixmap(at, pixmap)
    p.end()
    return screen


if __name__ == "__main__":
    main()
