"""Every write control follows the file's read-only mode, the later features' too (issue #10: erasure,
consent forms, the photos' watched folder, the second backup folder): disabled, saying why, while the
file cannot be written, and enabled again once it can."""

from __future__ import annotations

from desktop.consent_dialogs import TemplateEditor
from desktop.erasure_dialog import EraseClientDialog
from desktop.main_window import MainWindow
from desktop.records import Client
from desktop.store import Store
from tests.helpers.people import PLAIN

WAIT = 10_000


def _controls(w: MainWindow, erase, consent, backups_dlg):
    return {
        "Erase client… (menu)": w.erase_action,
        "Watched folder… (menu)": w.watched_folder_action,
        "Erase (dialog)": erase.erase_button,
        "request (erase dialog)": erase.reason,
        "New form…": consent.new_button,
        "Edit… (form)": consent.edit_button,
        "Stop offering": consent.retire_button,
        "Save (consent forms)": consent.save_button,
        "consent valid for": consent.validity,
        "Choose… (second backup folder)": backups_dlg.choose_button,
    }


def test_later_features_write_controls_follow_the_read_only_mode(qtbot, tmp_path):
    path = tmp_path / "abrasio.db"
    store = Store.open(path)
    cid = store.add_client(Client("Ada", "Reader"))
    store.close()

    store = Store.open(path, full_check=False)  # writes held until the whole file is checked
    w = MainWindow(store, person=PLAIN, startup=True)
    qtbot.addWidget(w)
    try:
        assert not store.writable
        w.show_client(cid)
        assert w.erase_client() is None  # the menu's action is disabled; called anyway, nothing opens
        erase = EraseClientDialog(store, cid, w.who, w)  # opened before the file became read-only
        consent, backups_dlg = w.open_consent_settings(), w.open_backups()
        controls = _controls(w, erase, consent, backups_dlg)
        enabled = [name for name, c in controls.items() if c.isEnabled()]
        assert enabled == [], f"enabled while the file cannot be written: {enabled}"
        assert all(store.access.reason in c.toolTip() for c in controls.values())
        consent.forms.itemActivated.emit(consent.forms.item(0))  # a double-click opens no editor
        assert consent.findChildren(TemplateEditor) == []

        qtbot.waitUntil(lambda: store.writable, timeout=WAIT)  # the check passed
        disabled = [name for name, c in controls.items() if not c.isEnabled()]
        assert disabled == [], f"still disabled once the file can be written: {disabled}"
        for dlg in (erase, consent, backups_dlg):
            dlg.close()
    finally:
        w.stop_background_work()
        w.close()
        store.close()


def test_the_client_pages_buttons_come_back_after_the_start_up_check(qtbot, tmp_path):
    """Every start holds writes until the whole file is checked; the client page's Add photos stayed
    disabled after it, for the whole day (nothing set it again)."""
    path = tmp_path / "abrasio.db"
    store = Store.open(path)
    cid = store.add_client(Client("Ada", "Writer"))
    store.close()

    store = Store.open(path, full_check=False)
    w = MainWindow(store, person=PLAIN, startup=True)
    qtbot.addWidget(w)
    page = w.client_page
    buttons = [page.edit_button, page.archive_button, page.start_button, page.photos.add_button]
    buttons += [page.consent_section.sign_button, page.series_section.new_button]
    try:
        w.show_client(cid)  # shown while the check runs: all disabled
        assert not store.writable and not any(b.isEnabled() for b in buttons)
        qtbot.waitUntil(lambda: store.writable, timeout=WAIT)
        assert [b.text() for b in buttons if not b.isEnabled()] == []
        assert all(b.toolTip() == "" for b in (page.edit_button, page.photos.add_button))

        w.show_list()  # the same on a client opened afterwards
        w.show_client(cid)
        assert [b.text() for b in buttons if not b.isEnabled()] == []
    finally:
        w.stop_background_work()
        w.close()
        store.close()
