"""The clinic file's faults as the practitioner meets them: banners, read-only mode, restore, start-up."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop.demo import create_demo
from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.startup import Choice, FileProblemDialog, open_clinic_file
from desktop.store import Store, backups
from tests.faults import damage_pages, digest
from tests.helpers.people import PLAIN

WAIT = 10_000


def _demo_file(path, n=40):
    store = Store.open(path)
    create_demo(store, n_clients=n, seed=3)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def _window(qtbot, store, startup=False):
    w = MainWindow(store, startup=startup, person=PLAIN)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _close(w, store):
    """As the app ends: the window closes (its last writes), then the file."""
    w.stop_background_work()
    w.close()
    store.close()


def _write_controls(w: MainWindow):
    page = w.client_page
    return [
        w.list_page.new_button,
        w.new_client_action,
        page.edit_button,
        page.archive_button,
        page.start_button,
    ]


def _damage_clients(path):
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'clients'").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    at = (root - 1) * 4096
    data[at + 8 : at + 12] = b"\xff\xff\xff\x7f"  # the clients table's right-most child: nowhere
    path.write_bytes(bytes(data))


def test_read_only_file_banner_names_the_cause_and_every_write_control_is_disabled(
    qtbot, tmp_path, read_only
):
    path = _demo_file(tmp_path / "abrasio.db")
    read_only(path)
    store = Store.open(path)
    w = _window(qtbot, store)
    try:
        assert w.file_banner.isVisible()
        assert "cannot be written" in w.file_banner_label.text()
        assert "read-only for this account (permissions)" in w.file_banner_label.text()
        cid = store.client_ids()[0]
        w.show_client(cid)
        assert w.client_page.client.id == cid  # reading works
        assert not any(c.isEnabled() for c in _write_controls(w))
        assert w.new_client() is None and w.edit_client(cid) is None and w.start_session(cid) is None
        settings = w.open_settings()
        assert not settings.save_button.isEnabled()
        settings.reject()
        sid = store.sessions_for_client(cid)[0].id if store.sessions_for_client(cid) else None
        if sid:
            review = w.open_session(sid)  # deletes itself on close
            assert not review.amend_button.isEnabled()
            review.close()
    finally:
        _close(w, store)


def test_damaged_file_red_banner_offers_the_latest_good_backup_and_restores_it(qtbot, tmp_path):
    path = _demo_file(tmp_path / "abrasio.db")
    good = backups.take_backup(path)
    _damage_clients(path)
    before = digest(path)
    store = Store.open(path)
    assert store.access.kind == "damaged"
    w = _window(qtbot, store)
    assert w.file_banner.isVisible() and "#b00020" in w.file_banner.styleSheet()
    assert "damaged (client records)" in w.file_banner_label.text()
    assert w.file_banner_button.isVisible() and "Restore the backup of" in w.file_banner_button.text()
    assert not any(c.isEnabled() for c in _write_controls(w))
    assert digest(path) == before

    w.file_banner_button.click()
    dlg = w.last_backups_dialog
    qtbot.waitUntil(lambda: dlg.selected() is not None and dlg.selected().path == good, timeout=WAIT)
    confirm = dlg.restore_selected()
    confirm.button(QMessageBox.StandardButton.Cancel)  # it asks first
    confirm.accept()
    qtbot.waitUntil(lambda: store.writable, timeout=WAIT)  # restored, checked in the background
    assert not w.file_banner.isVisible()
    assert all(c.isEnabled() for c in _write_controls(w)[:2])
    assert store.integrity_check() == "ok" and store.count_clients() == 40
    kept = dlg.last_kept
    assert digest(kept) == before  # the damaged file was kept, byte for byte
    dlg.close()
    _close(w, store)


def test_start_up_holds_writes_until_the_whole_file_is_checked_then_recovers_and_backs_up(qtbot, tmp_path):
    path = _demo_file(tmp_path / "abrasio.db")
    store = Store.open(path, full_check=False)
    w = _window(qtbot, store, startup=True)
    try:
        assert store.access.kind == "checking"
        qtbot.waitUntil(lambda: store.writable, timeout=WAIT)
        assert not w.file_banner.isVisible() and w.list_page.new_button.isEnabled()
        qtbot.waitUntil(lambda: len(backups.list_backups(path)) == 1, timeout=WAIT)
        assert backups.list_backups(path)[0].clients == 40
    finally:
        _close(w, store)


def test_start_up_on_a_file_whose_traces_are_damaged_ends_read_only(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    _demo_file(path)
    conn = sqlite3.connect(path)
    leaf = conn.execute(
        "SELECT pageno FROM dbstat WHERE name = 'vacuum_trace_chunks' AND pagetype = 'leaf' LIMIT 1"
    ).fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(leaf - 1) * 4096 + 3 : (leaf - 1) * 4096 + 5] = b"\x7f\xff"
    path.write_bytes(bytes(data))
    before = digest(path)
    store = Store.open(path, full_check=False)
    w = _window(qtbot, store, startup=True)
    qtbot.waitUntil(lambda: store.access.kind == "damaged", timeout=WAIT)
    assert "recorded vacuum traces" in w.file_banner_label.text()
    assert not w.list_page.new_button.isEnabled()
    _close(w, store)
    assert digest(path) == before
    assert not (tmp_path / "backups").exists()  # no automatic backup of a damaged file


@pytest.fixture(scope="module")
def clean_demo(tmp_path_factory):
    return _demo_file(tmp_path_factory.mktemp("clean") / "clean.db", n=12)


@pytest.mark.parametrize("seed", range(20))
def test_random_page_damage_browsing_every_screen_raises_nothing_and_writes_nothing(
    qtbot, tmp_path, seed, clean_demo
):
    path = damage_pages(clean_demo, tmp_path / "abrasio.db", seed, hits=4)
    before = digest(path)
    try:
        store = Store.open(path, full_check=False)
    except Exception as exc:  # unreadable: the start-up question is asked (tested below)
        assert type(exc).__name__ == "DamagedError"
        assert digest(path) == before
        return
    w = _window(qtbot, store, startup=True)
    qtbot.waitUntil(lambda: store.access.kind != "checking", timeout=WAIT)
    w.list_page.refresh()
    for row in range(w.list_page.model.rowCount()):
        w.show_client(w.list_page.model.client_id(row))
        if w.stack.currentWidget() is w.client_page:  # else it said why in a warning
            for dlg in (w.erase_client(), w.export_client(), w._compare_photos()):
                if dlg is not None:
                    dlg.close()
        for srow in range(min(1, w.client_page.sessions.rowCount())):  # the latest session's review
            review = w.open_session(w.client_page.sessions.session_id(srow))
            if review is not None:  # deletes itself on close
                qtbot.waitUntil(
                    lambda r=review: r.trace is not None or "cannot be shown" in r.status_line.text(),
                    timeout=WAIT,
                )
                review.close()
        w.show_list()
    for dlg in (w.open_settings(), w.open_backups(), w.open_recall(), w.open_consent_settings()):
        if dlg is not None:
            dlg.reject()
    written = store.writable
    _close(w, store)
    if not written:
        assert digest(path) == before
    else:
        assert (tmp_path / "backups").exists()  # a sound file was backed up at start


def test_an_empty_file_asks_and_new_clinic_file_only_when_chosen(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    path.write_bytes(b"")
    asked = []

    def quit_(problem):
        asked.append(problem)
        return Choice.QUIT, None

    store, error = open_clinic_file(path, False, quit_)
    assert store is None and error is None and asked[0].empty
    assert path.read_bytes() == b""

    store, error = open_clinic_file(path, False, None)  # nobody to ask (no screen)
    assert store is None and "is empty" in error and "No backup was found" in error

    store, error = open_clinic_file(path, False, lambda p: (Choice.NEW_FILE, None))
    assert error is None and store.writable and store.count_clients() == 0
    store.close()


def test_an_unreadable_file_offers_its_latest_good_backup_in_the_dialog(qtbot, tmp_path):
    path = _demo_file(tmp_path / "abrasio.db", n=12)
    backups.take_backup(path, now=dt.datetime(2026, 11, 2, 9, 30))
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    path.write_bytes(bytes(data))

    problems = []

    def click_restore(problem):
        problems.append(problem)
        dlg = FileProblemDialog(problem)
        qtbot.addWidget(dlg)
        assert "damaged" in dlg.text() and dlg.new_file is None  # not offered for a damaged file
        assert dlg.restore_latest.text() == "Restore the backup of 2 Nov 2026 09:30"
        dlg.restore_latest.click()
        return dlg.choice, dlg.chosen

    store, error = open_clinic_file(path, False, click_restore)
    assert error is None and store.count_clients() == 12
    assert problems[0].latest.clients == 12
    store.close()


def test_an_empty_file_dialog_offers_a_new_file(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    path.write_bytes(b"")

    def click_new(problem):
        dlg = FileProblemDialog(problem)
        qtbot.addWidget(dlg)
        assert dlg.restore_latest is None  # no backups beside it
        dlg.new_file.click()
        return dlg.choice, dlg.chosen

    store, error = open_clinic_file(path, False, click_new)
    assert error is None and store.writable
    store.add_client(Client("First", "Client"))
    store.close()
