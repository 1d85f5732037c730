"""Accounts in the whole app, through the real widgets: log in, roles, the lock with another person, the
audit screen, people, the demo. Accounts are made by ``accounts.create_clinic`` (the wizard's code)."""

from __future__ import annotations

import csv
import os
import stat

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import accounts, app
from desktop.accounts import Role
from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.security_ui import LoginDialog
from desktop.store import cipher, security
from tests.conftest import TEST_PASSPHRASE, TEST_PERSON
from tests.helpers.consent import sign_consent

pytestmark = pytest.mark.timeout(120)
WAIT = 10_000
DESK, DESK_PASS = "Tom Reyes", "front desk passphrase"


@pytest.fixture
def clinic_file(tmp_path, fast_argon2):
    """A clinic with its administrator-practitioner and one front-desk person; closed, to log in to."""
    path = tmp_path / "abrasio.db"
    setup = accounts.create_clinic(path, TEST_PERSON, TEST_PASSPHRASE)
    setup.clinic.add_person(DESK, [Role.FRONT_DESK], DESK_PASS)
    store = setup.clinic.store
    cid = store.add_client(Client("Imogen", "Castellano", phone="+44 7700 900123", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(cid, TEST_PERSON, areas=["cheeks"])
    store.save_notes(sid, {"notes": "calm skin"})
    store.finish_session(sid, {"peak_kpa": 19.5}, TEST_PERSON)
    setup.clinic.close()
    return path, cid, sid


def log_in(qtbot, path, name, passphrase) -> MainWindow:
    """Through the login dialog, as the app does; then the main window for whoever logged in."""
    dlg = LoginDialog(path)
    qtbot.addWidget(dlg)
    dlg.show()
    assert DESK in [dlg.name.itemText(i) for i in range(dlg.name.count())]
    dlg.name.setCurrentText(name)
    qtbot.keyClicks(dlg.passphrase, passphrase)
    with qtbot.waitSignal(dlg.accepted, timeout=WAIT):
        qtbot.keyClick(dlg.passphrase, Qt.Key.Key_Return)
    w = MainWindow(dlg.clinic)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=WAIT)
    return w


def _close(w: MainWindow) -> None:
    for win in list(w.session_windows):
        win.force_close()
    w.close()
    w.clinic.close()


def test_the_window_is_the_logged_in_persons_and_writes_in_their_name(qtbot, clinic_file):
    path, cid, _sid = clinic_file
    w = log_in(qtbot, path, TEST_PERSON, TEST_PASSPHRASE)
    try:
        assert w.windowTitle() == f"Abrasio — abrasio.db — {TEST_PERSON}"
        assert not hasattr(w, "practitioner")  # no box to type a name into
        assert TEST_PERSON in w.person_label.text() and "Administrator" in w.person_label.text()
        assert w.admin_menu.menuAction().isVisible() and w.settings_action.isVisible()
        w.show_client(cid)
        assert w.client_page.clinical.isVisible() and "30.0 kPa" in w.client_page.details.text()
        opened = security.audit_entries(w.store.db)[-1]  # reading the clinical record is recorded
        assert (opened.action, opened.record_type, opened.client_id, opened.person) == (
            "open",
            "client",
            cid,
            TEST_PERSON,
        )
        w.store.set_archived(cid, True, w.who())
        assert w.store.change_log("client", cid)[-1].who == TEST_PERSON
        wrote = security.audit_entries(w.store.db)[-1]  # and so is the write, in the same name
        assert (wrote.record_type, wrote.client_id, wrote.person) == ("client", cid, TEST_PERSON)
        assert wrote.id > opened.id and wrote.action != "open"
    finally:
        _close(w)


def test_front_desk_sees_contact_details_and_is_refused_the_clinical_record_in_words(qtbot, clinic_file):
    path, cid, sid = clinic_file
    w = log_in(qtbot, path, DESK, DESK_PASS)
    try:
        assert w.windowTitle().endswith(f"— {DESK}")
        for act in (w.settings_action, w.backups_action, w.export_action, w.people_action, w.audit_action):
            assert not act.isVisible()
        assert w.recall_action.isVisible() and w.new_client_action.isVisible()
        assert not w.admin_menu.menuAction().isVisible() and not w.photos_menu.menuAction().isVisible()

        w.show_client(cid)
        page = w.client_page
        assert "+44 7700 900123" in page.details.text()
        assert "kPa" not in page.details.text()  # no ceiling, no Fitzpatrick, no concerns
        assert not page.clinical.isVisible() and page.refused.isVisible()
        assert "contact details only" in page.refused.text() and "for practitioners" in page.refused.text()
        assert page.sessions.rowCount() == 0 and not page.start_button.isVisible()

        assert w.open_session(sid) is None  # the session's review: refused, said in words
        assert "Tom Reyes (Front desk) may not see treatment sessions" in w.last_warning.text()
        w.last_warning.close()
        assert w.start_session(cid) is None
        assert "may not run a treatment session" in w.last_warning.text()
        w.last_warning.close()
        assert w.open_settings() is None and w.export_client() is None

        entries = security.audit_entries(w.store.db, client_id=cid)
        assert (entries[-1].action, entries[-1].record_type, entries[-1].person) == (
            "open",
            "contact details",
            DESK,
        )
        assert "review" not in {e.action for e in entries if e.person == DESK}
    finally:
        _close(w)


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX only")
def test_locked_over_a_running_session_another_person_unlocks_and_it_never_stopped(
    qtbot, clinic_file, tmp_path
):
    from device.simulator import PtySimulator, SimulatedHandpiece
    from tests.test_session_gui import n_points, start

    path, cid, _sid = clinic_file
    w = log_in(qtbot, path, TEST_PERSON, TEST_PASSPHRASE)
    sign_consent(w.store, cid)
    port = str(tmp_path / "handpiece")
    sim = PtySimulator(SimulatedHandpiece(1000, seed=5), link=port).start()
    try:
        live = start(qtbot, w, cid, port)
        qtbot.waitUntil(lambda: n_points(live.curve) > 200, timeout=WAIT)
        qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
        lock = w.lock
        assert lock.locked and lock.overlay.isVisible() and not w.menuBar().isEnabled()
        assert live.isVisible() and not live.notes_panel.isEnabled()  # notes wait for the unlock

        # the graph keeps drawing; an alarm sounds, shows, and is acknowledged with one key
        n = live.samples_received
        qtbot.waitUntil(lambda: live.samples_received > n + 300, timeout=WAIT)
        sim.device.surge(45.0)
        qtbot.waitUntil(lambda: live.alarm_bar.text().startswith("*** Vacuum above"), timeout=WAIT)
        assert live.sound.plays >= 1
        over = next(a for a in live.run.engine.alarms if a.kind == "over_ceiling")
        qtbot.waitUntil(lambda: QApplication.activeWindow() is live, timeout=WAIT)
        qtbot.keyClick(live, Qt.Key.Key_A)
        assert over.acknowledged_at is not None
        sim.device.scenario("glide")

        # the front desk unlocks with their own passphrase: their window, not the practitioner's
        lock.overlay.name.setCurrentText(DESK)
        qtbot.keyClicks(lock.overlay.passphrase, DESK_PASS)
        with qtbot.waitSignal(lock.locked_changed, timeout=WAIT):
            qtbot.keyClick(lock.overlay.passphrase, Qt.Key.Key_Return)
        assert w.who() == DESK and w.windowTitle().endswith(f"— {DESK}")
        assert w.stack.currentWidget() is w.list_page and not w.settings_action.isVisible()
        assert not live.ended and live.isVisible() and not live.notes_panel.isEnabled()  # not theirs
        n = live.samples_received
        qtbot.waitUntil(lambda: live.samples_received > n + 300, timeout=WAIT)

        # the practitioner takes over again and ends the session
        lock.lock()
        lock.overlay.name.setCurrentText(TEST_PERSON)
        lock.overlay.passphrase.setText(TEST_PASSPHRASE)
        with qtbot.waitSignal(lock.locked_changed, timeout=WAIT):
            lock.attempt_unlock()
        assert live.notes_panel.isEnabled()
        with qtbot.waitSignal(live.finished, timeout=WAIT):
            live.end_session()
    finally:
        sim.close()
        _close(w)
    clinic = accounts.login(path, TEST_PERSON, TEST_PASSPHRASE)
    try:
        trail = [(e.action, e.person) for e in security.audit_entries(clinic.store.db)]
        assert ("unlock", DESK) in trail and ("unlock", TEST_PERSON) in trail
        assert trail.index(("lock", TEST_PERSON)) < trail.index(("unlock", DESK))
    finally:
        clinic.close()


def test_the_audit_screen_filters_exports_and_names_the_first_broken_entry(qtbot, window, clinic, tmp_path):
    store = clinic.store
    a = store.add_client(Client("Ada", "Lindqvist"))
    b = store.add_client(Client("Bo", "Other"))
    window.show_client(a)
    window.show_client(b)
    clinic.add_person(DESK, [Role.FRONT_DESK], DESK_PASS)
    clinic.switch_to(DESK, DESK_PASS)
    window._person_changed()
    window.show_client(a)
    clinic.switch_to(TEST_PERSON, TEST_PASSPHRASE)
    window._person_changed()

    win = window.open_audit()
    qtbot.addWidget(win)
    qtbot.waitExposed(win)
    total = win.model.rowCount()
    assert total == len(security.audit_entries(store.db))  # loaded once, all of it
    win.select_client(a)
    shown_rows = [win.model.rows[i] for i in range(win.model.rowCount())]
    assert {r.client_id for r in shown_rows} == {a}  # only this client's entries
    assert [r.person for r in shown_rows if r.action in ("open", "contact details")] == [TEST_PERSON, DESK]
    desk = next(p for p in clinic.people() if p.name == DESK)
    win.select_person(desk.id)
    assert win.model.rowCount() == 1 and "1 of" in win.count.text()
    win.client.setCurrentIndex(0)  # every client
    assert {r.person_id for r in win.model.rows} == {desk.id}
    tomorrow = QDate.currentDate().addDays(1)
    win.since.setDate(tomorrow)
    win.until.setDate(tomorrow)
    assert win.model.rowCount() == 0
    win.since.setDate(QDate.currentDate().addDays(-1))
    win.until.setDate(QDate.currentDate())
    win.person.setCurrentIndex(0)
    assert win.model.rowCount() == total

    out = tmp_path / "audit.csv"
    assert win.export_csv(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["id", "at", "person", "action"] and len(rows) == total + 1
    assert security.audit_entries(store.db)[-1].action == "export"  # the export itself is recorded

    with qtbot.waitSignal(win._relay.verified, timeout=WAIT):
        win.verify_button.click()
    assert "intact" in win.verdict.text() and "Every record matches its seal" in win.verdict.text()

    # someone with the key and a script edits entry #3: the check names it
    conn = cipher.connect(store.path, clinic.database_key)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET person = 'Nobody' WHERE id = 3")
    conn.commit()
    conn.close()
    with qtbot.waitSignal(win._relay.verified, timeout=WAIT):
        win.verify_button.click()
    assert "broken at entry #3" in win.verdict.text() and "First broken entry: #3." in win.verdict.text()
    assert win.table.selectionModel().selectedRows()[0].row() == win.model.row_of(3)
    win.close()


def test_people_are_added_given_roles_and_deactivated_keeping_their_history(qtbot, window, clinic):
    dlg = window.open_people()
    qtbot.waitExposed(dlg)
    dlg.new_name.setText(DESK)
    dlg.new_roles[Role.PRACTITIONER].setChecked(False)
    dlg.new_roles[Role.FRONT_DESK].setChecked(True)
    dlg.new_passphrase.setText(DESK_PASS)
    dlg.new_passphrase2.setText(DESK_PASS + "x")
    dlg.add_button.click()
    assert "not the same" in dlg.message.text()
    dlg.new_passphrase2.setText(DESK_PASS)
    dlg.add_button.click()
    assert "was added (Front desk)" in dlg.message.text()
    assert DESK in accounts.known_names(clinic.store.path)

    dlg.select(DESK)
    dlg.roles[Role.PRACTITIONER].setChecked(True)
    dlg.save_roles_button.click()
    tom = next(p for p in clinic.people() if p.name == DESK)
    assert tom.roles == {Role.PRACTITIONER, Role.FRONT_DESK}

    dlg.select(TEST_PERSON)
    assert not dlg.deactivate_button.isEnabled()  # not oneself
    dlg.select(DESK)
    dlg.deactivate_button.click()
    assert "was deactivated" in dlg.message.text()
    assert DESK not in accounts.known_names(clinic.store.path)
    assert DESK in [p.name for p in clinic.people()]  # the row stays: their records still name them
    actions = [e.action for e in security.audit_entries(clinic.store.db)][-3:]
    assert actions == ["add person", "set roles", "deactivate"]
    dlg.reject()


def test_the_lock_time_is_a_clinic_setting(qtbot, window):
    assert window.lock.timer.interval() == 5 * 60_000  # the default
    dlg = window.open_settings()
    dlg.lock_after.setValue(7)
    dlg.save()
    assert window.store.setting("lock_after_minutes") == 7
    assert window.lock.timer.interval() == 7 * 60_000


def test_changing_my_passphrase_and_a_new_recovery_key(qtbot, window, clinic, tmp_path):
    dlg = window.change_passphrase()
    dlg.old.setText("not it at all")
    dlg.new.setText("a brand new passphrase")
    dlg.new2.setText("a brand new passphrase")
    dlg.change()
    assert "not right" in dlg.problem.text() and dlg.isVisible()
    dlg.old.setText(TEST_PASSPHRASE)
    dlg.change()
    assert not dlg.isVisible()
    accounts.unlock_key(clinic.store.path, TEST_PERSON, "a brand new passphrase")  # the key file follows

    rk = window.new_recovery_key()
    rk.make()
    assert len(rk.key.text().replace("-", "")) == 32
    rk.save(tmp_path / "key.txt")
    assert stat.S_IMODE((tmp_path / "key.txt").stat().st_mode) == 0o600
    assert rk.recovery_key in (tmp_path / "key.txt").read_text(encoding="utf-8")
    assert security.audit_entries(clinic.store.db)[-1].action == "new recovery key"
    rk.reject()


def test_the_demo_sets_itself_up_and_logs_in_with_no_step(qtbot, tmp_path, fast_argon2):
    path = tmp_path / "abrasio-demo.db"
    clinic, error = app.log_in(path, demo=True, interactive=False)
    assert error is None and clinic.person.name == app.DEMO_PERSON
    assert clinic.store.count_clients() == 200
    w = MainWindow(clinic, demo=True)
    qtbot.addWidget(w)
    assert w.windowTitle() == f"Abrasio — demo — abrasio-demo.db — {app.DEMO_PERSON}"
    assert w.may(accounts.Permission.SESSION_RUN)
    w.close()
    clinic.close()
    again, error = app.log_in(path, demo=True, interactive=False)  # the next start: logged in again
    assert error is None and again.person.name == app.DEMO_PERSON
    again.close()


def test_a_protected_file_without_a_screen_is_refused_in_words(tmp_path, fast_argon2):
    path = tmp_path / "abrasio.db"
    accounts.create_clinic(path, TEST_PERSON, TEST_PASSPHRASE).clinic.close()
    clinic, error = app.log_in(path, demo=False, interactive=False)
    assert clinic is None and "log in to it on a screen" in error


def test_no_one_logged_in_message_replaces_the_practitioner_box(qtbot, window, store):
    """The dialogs that used to ask for a typed name now never need one; their guard says why."""
    from desktop.erasure_dialog import EraseClientDialog

    cid = store.add_client(Client("Zed", "Null"))
    dlg = EraseClientDialog(store, cid, lambda: "", window)
    qtbot.addWidget(dlg)
    dlg.reason.setText("letter")
    dlg.confirm.setChecked(True)
    dlg.erase()
    assert "No one is logged in" in dlg.confirm_error.text()
    assert store.client(cid).last_name == "Null"
    box = window.findChild(QMessageBox)
    assert box is None or not box.isVisible()


def test_an_unprotected_file_is_offered_the_protect_form_and_converted_with_its_records(
    qtbot, tmp_path, fast_argon2
):
    from PySide6.QtWidgets import QWizard

    from desktop.security_ui import FirstStartWizard
    from desktop.store import Store

    path = tmp_path / "abrasio.db"
    old = Store.open(path)
    old.add_client(Client("Ada", "Plain"))
    old.close()
    before = path.read_bytes()
    wiz = FirstStartWizard(path, protect=True)
    qtbot.addWidget(wiz)
    wiz.show()
    assert wiz.windowTitle() == "Abrasio — protect this clinic's records"
    page = wiz.admin_page
    assert "not encrypted yet" in page.subTitle()
    page.name.setText(TEST_PERSON)
    page.passphrase.setText(TEST_PASSPHRASE)
    page.passphrase2.setText(TEST_PASSPHRASE)
    qtbot.mouseClick(wiz.button(QWizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    # the recovery key page follows, and the file is encrypted
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.recovery_page, timeout=WAIT)
    assert not cipher.is_plaintext_sqlite(path) and path.read_bytes() != before
    wiz.accept()  # the recovery key was shown: the clinic opens, its records as they were
    assert wiz.clinic is not None and wiz.clinic.store.count_clients() == 1
    assert wiz.clinic.person.name == TEST_PERSON
    wiz.clinic.close()
