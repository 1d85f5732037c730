"""First start, login and the lock through the real widgets (qtbot), on real encrypted files.

The lock is tested on today's real main window with a real treatment running over a pseudo-terminal:
the main window is covered and inert, the treatment window stays visible, keeps drawing, alarms and
takes its acknowledge key.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from desktop import accounts, keys
from desktop.accounts import Role
from desktop.security_ui import FirstStartWizard, LockController, LoginDialog
from desktop.store import cipher, security
from tests.helpers.consent import sign_consent

pytestmark = pytest.mark.timeout(120)

WAIT = 10_000
ADMIN, PASS = "Maya Okonkwo", "plum tree in the yard"


def _files(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def clinic_path(tmp_path):
    path = tmp_path / "clinic" / "abrasio.db"
    path.parent.mkdir()
    setup = accounts.create_clinic(path, ADMIN, PASS)
    setup.clinic.add_person("Tom Reyes", [Role.FRONT_DESK], "front desk passphrase")
    setup.clinic.close()
    return path


# -- first start ------------------------------------------------------------------------------------------
def test_first_start_creates_the_administrator_and_shows_the_recovery_key(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    wiz = FirstStartWizard(path)
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.admin_page
    commit = wiz.button(QWizard.WizardButton.CommitButton)
    assert not commit.isEnabled()  # nothing typed yet
    qtbot.keyClicks(page.name, ADMIN)
    qtbot.keyClicks(page.passphrase, "short")
    qtbot.keyClicks(page.passphrase2, "short")
    qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)
    assert "at least 10" in page.problem.text()
    assert not path.exists()
    page.passphrase.setText(PASS)
    page.passphrase2.setText(PASS + "!")
    qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)
    assert "not the same" in page.problem.text()
    page.passphrase2.setText(PASS)
    qtbot.mouseClick(commit, Qt.MouseButton.LeftButton)  # argon2id runs on a worker thread
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery_page, timeout=WAIT)

    shown = wiz.recovery_page.key.text()
    assert keys.parse_recovery_key(shown)  # a well-formed key, checksum and all
    assert wiz.recovery_page.key.textFormat() == Qt.TextFormat.PlainText
    assert not cipher.is_plaintext_sqlite(path)
    assert keys.KeyFile.load(keys.key_file_path(path)).recover(shown)  # it really opens this file
    wiz.reject()  # the file exists now: cancelling is no longer possible
    assert wiz.isVisible()

    finish = wiz.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()  # until the key is kept
    saved = tmp_path / "recovery.txt"
    wiz.save_recovery(saved)
    assert shown in saved.read_text() and str(path) in saved.read_text()
    if os.name == "posix":
        assert saved.stat().st_mode & 0o077 == 0
    wiz.recovery_page.kept.setChecked(True)
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert wiz.clinic is not None and wiz.clinic.person.name == ADMIN
    assert wiz.clinic.person.roles == {Role.ADMINISTRATOR, Role.PRACTITIONER}
    assert [e.action for e in security.audit_entries(wiz.clinic.store.db)] == [
        "add person",
        "set up clinic",
    ]  # the login waits, held, for the whole-file check the main window runs in the background
    from desktop.store.opening import full_check

    wiz.clinic.store.finish_check(full_check(path, wiz.clinic.store.key))
    assert [e.action for e in security.audit_entries(wiz.clinic.store.db)][-1] == "login"
    wiz.clinic.close()


def test_the_recovery_key_prints(qtbot, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    wiz = FirstStartWizard(tmp_path / "abrasio.db")
    qtbot.addWidget(wiz)
    wiz.created = ("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789", None, None, ADMIN)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "key.pdf"))
    wiz.print_recovery(printer)
    assert (tmp_path / "key.pdf").read_bytes().startswith(b"%PDF")
    assert "printer" in wiz.recovery_page.status.text()


def test_a_failed_setup_is_said_in_words(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    path.write_bytes(b"something already here")
    wiz = FirstStartWizard(path)
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.admin_page
    page.name.setText(ADMIN)
    page.passphrase.setText(PASS)
    page.passphrase2.setText(PASS)
    qtbot.mouseClick(wiz.button(QWizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "set up only once" in page.problem.text(), timeout=WAIT)
    assert wiz.currentPage() is page and path.read_bytes() == b"something already here"


# -- login ------------------------------------------------------------------------------------------------
def test_login_with_name_and_passphrase(qtbot, clinic_path):
    dlg = LoginDialog(clinic_path)
    qtbot.addWidget(dlg)
    dlg.show()
    assert [dlg.name.itemText(i) for i in range(dlg.name.count())] == [ADMIN, "Tom Reyes"]
    dlg.name.setCurrentText("tom reyes")
    qtbot.keyClicks(dlg.passphrase, "front desk passphrase")
    with qtbot.waitSignal(dlg.accepted, timeout=WAIT):
        qtbot.keyClick(dlg.passphrase, Qt.Key.Key_Return)
    assert dlg.clinic.person.name == "Tom Reyes"
    assert dlg.clinic.person.roles == {Role.FRONT_DESK}
    dlg.clinic.close()


def test_a_wrong_passphrase_is_said_and_nothing_is_written(qtbot, clinic_path):
    before = _files(clinic_path.parent)
    dlg = LoginDialog(clinic_path)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.name.setCurrentText(ADMIN)
    qtbot.keyClicks(dlg.passphrase, "plum tree in the yarn")
    qtbot.mouseClick(dlg.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not right" in dlg.problem.text(), timeout=WAIT)
    assert dlg.problem.text() == "The passphrase for Maya Okonkwo is not right."
    assert dlg.passphrase.text() == "" and dlg.isVisible() and dlg.clinic is None
    assert _files(clinic_path.parent) == before
    qtbot.mouseClick(dlg.login_button, Qt.MouseButton.LeftButton)
    assert dlg.problem.text() == "Enter your name and your passphrase."


def test_login_without_the_key_file_says_so(qtbot, clinic_path):
    keys.key_file_path(clinic_path).unlink()
    dlg = LoginDialog(clinic_path)
    qtbot.addWidget(dlg)
    dlg.name.setCurrentText(ADMIN)
    dlg.passphrase.setText(PASS)
    dlg.attempt()
    qtbot.waitUntil(lambda: "is missing" in dlg.problem.text(), timeout=WAIT)


def test_recovery_from_the_login_dialog(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    setup = accounts.create_clinic(path, ADMIN, PASS)
    setup.clinic.close()
    dlg = LoginDialog(path)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.mouseClick(dlg.recovery_button, Qt.MouseButton.LeftButton)
    assert dlg.recovery.isVisible()
    qtbot.keyClicks(dlg.recovery_key, setup.recovery_key.lower())
    qtbot.keyClicks(dlg.recovery_admin, ADMIN)
    qtbot.keyClicks(dlg.new_passphrase, "remembered this time")
    qtbot.keyClicks(dlg.new_passphrase2, "remembered this time")
    with qtbot.waitSignal(dlg.accepted, timeout=WAIT):
        qtbot.mouseClick(dlg.recover_button, Qt.MouseButton.LeftButton)
    from desktop.store.opening import full_check

    dlg.clinic.store.finish_check(full_check(path, dlg.clinic.store.key))  # the held login is written
    actions = [e.action for e in security.audit_entries(dlg.clinic.store.db)]
    assert actions[-2:] == ["recovery key used", "login after recovery"]
    dlg.clinic.close()
    accounts.login(path, ADMIN, "remembered this time").close()


# -- the lock over a running treatment --------------------------------------------------------------------
@pytest.fixture
def clinic(clinic_path):
    c = accounts.login(clinic_path, ADMIN, PASS)
    yield c
    c.close()


def _lock_on(window, clinic, idle_ms=5 * 60 * 1000) -> LockController:
    """The main window's own lock (``MainWindow`` makes it with the clinic's idle time)."""
    assert isinstance(window.lock, LockController) and window.lock.clinic is clinic
    window.lock.set_idle_ms(idle_ms)
    return window.lock


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX only")
def test_locking_covers_the_main_window_but_never_a_running_treatment(qtbot, window, store, clinic, tmp_path):
    from desktop.records import Client
    from device.simulator import PtySimulator, SimulatedHandpiece
    from tests.test_session_gui import n_points, start

    lock = _lock_on(window, clinic)
    cid = store.add_client(
        Client(
            "Adaeze",
            "Okonkwofischer",
            sensitivity="sensitive",
            vacuum_ceiling_kpa=30.0,
        )
    )
    sign_consent(store, cid)
    port = str(tmp_path / "handpiece")
    sim = PtySimulator(SimulatedHandpiece(1000, seed=5), link=port).start()
    try:
        live = start(qtbot, window, cid, port)
        qtbot.waitUntil(lambda: n_points(live.curve) > 200, timeout=WAIT)
        form = window.new_client()
        qtbot.waitExposed(form)

        qtbot.keyClick(live, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Ctrl+L from anywhere
        assert lock.locked and lock.overlay.isVisible()
        assert lock.overlay.geometry() == window.rect()  # menus and toolbar included
        assert not window.centralWidget().isEnabled() and not window.menuBar().isEnabled()
        assert not form.isVisible()  # the client form is hidden, not closed
        assert "treatment is running" in lock.overlay.treatment.text()

        # the treatment goes on, visible, drawing, alarming, acknowledged with one key
        assert live.isVisible() and live.isEnabled()
        n = live.samples_received
        qtbot.waitUntil(lambda: live.samples_received > n + 300, timeout=WAIT)
        qtbot.waitUntil(lambda: QApplication.activeWindow() is live, timeout=WAIT)  # it keeps the keys
        sim.device.surge(45.0)
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("*** Vacuum above"), timeout=WAIT)
        over = next(a for a in live.run.engine.alarms if a.kind == "over_ceiling")
        assert over.acknowledged_at is None
        qtbot.keyClick(live, Qt.Key.Key_A)
        assert over.acknowledged_at is not None  # acknowledged with one key while locked
        sim.device.scenario("glide")

        # the rest of the app is inert: Ctrl+N opens nothing
        dialogs = len(QApplication.topLevelWidgets())
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        assert len(QApplication.topLevelWidgets()) == dialogs

        # a wrong passphrase, then the right one: everything comes back
        lock.overlay.passphrase.setText("not my passphrase")
        qtbot.mouseClick(lock.overlay.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "not right" in lock.overlay.problem.text(), timeout=WAIT)
        assert lock.locked
        qtbot.keyClicks(lock.overlay.passphrase, PASS)
        with qtbot.waitSignal(lock.locked_changed, timeout=WAIT):
            qtbot.keyClick(lock.overlay.passphrase, Qt.Key.Key_Return)
        assert not lock.locked and not lock.overlay.isVisible()
        assert window.centralWidget().isEnabled() and window.menuBar().isEnabled()
        assert form.isVisible()  # the same person gets their form back
        form.reject()
        with qtbot.waitSignal(live.finished, timeout=WAIT):  # the recorder's thread is done with it
            live.end_session()
    finally:
        sim.close()
    actions = [e.action for e in security.audit_entries(clinic.store.db)]
    assert [a for a in actions if a in ("lock", "unlock")] == ["lock", "unlock"]
    assert actions[-1] == "review"  # the session's review opened when it ended: a read, recorded
    assert actions.count("open") == 1  # the client page shown afresh after the session is the same read


def test_another_person_unlocks_and_the_first_ones_windows_wait(qtbot, window, clinic):
    lock = _lock_on(window, clinic)
    form = window.new_client()
    qtbot.waitExposed(form)
    lock.lock()
    lock.overlay.name.setCurrentText("Tom Reyes")
    lock.overlay.passphrase.setText("front desk passphrase")
    with qtbot.waitSignal(lock.locked_changed, timeout=WAIT):
        lock.attempt_unlock()
    assert clinic.person.name == "Tom Reyes"
    assert not form.isVisible()  # Maya's half-filled form is not Tom's
    lock.lock()
    lock.overlay.name.setCurrentText(ADMIN)
    lock.overlay.passphrase.setText(PASS)
    with qtbot.waitSignal(lock.locked_changed, timeout=WAIT):
        lock.attempt_unlock()
    assert form.isVisible()
    form.reject()
    last = security.audit_entries(clinic.store.db)[-1]
    assert (last.action, last.person, last.details) == ("unlock", ADMIN, '{"previous": "Tom Reyes"}')


def test_a_deactivated_person_cannot_unlock(qtbot, window, clinic):
    tom = next(p for p in clinic.people() if p.name == "Tom Reyes")
    clinic.deactivate(tom.id)
    lock = _lock_on(window, clinic)
    lock.lock()
    assert [lock.overlay.name.itemText(i) for i in range(lock.overlay.name.count())] == [ADMIN]
    lock.overlay.name.setCurrentText("Tom Reyes")
    lock.overlay.passphrase.setText("front desk passphrase")
    lock.attempt_unlock()
    assert "deactivated" in lock.overlay.problem.text() and lock.locked


def test_it_locks_itself_when_idle(qtbot, window, clinic):
    lock = _lock_on(window, clinic, idle_ms=300)
    qtbot.waitUntil(lambda: lock.locked, timeout=WAIT)
    assert "no activity" in lock.overlay.reason.text()
    assert security.audit_entries(clinic.store.db)[-1].details == '{"why": "idle"}'
