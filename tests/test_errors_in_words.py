"""A store error reaches the user in words (issue #10): the disk filling while a client or the clinic
settings are saved is said as "the disk is full", and nothing typed is lost."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox, QMessageBox


def _fill_the_disk(store) -> None:
    store.conn.execute("VACUUM")  # no free pages left inside the file: a write needs new ones
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")


def _free_the_disk(store) -> None:
    store.conn.execute("PRAGMA max_page_count = 2147483647")


def _box(qtbot, dlg, title: str) -> QMessageBox:
    def shown():
        return [b for b in dlg.findChildren(QMessageBox) if b.isVisible() and b.windowTitle() == title]

    qtbot.waitUntil(lambda: len(shown()) == 1)
    return shown()[0]


def test_a_full_disk_while_saving_a_client_is_said_and_the_form_kept(qtbot, window, store):
    dlg = window.new_client()
    qtbot.waitExposed(dlg)
    dlg.first_name.setText("Noor")
    dlg.last_name.setText("Haddad")
    dlg.notes.setPlainText("x" * 5000)  # needs pages the full disk does not have
    _fill_the_disk(store)
    dlg.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    box = _box(qtbot, dlg, "Not saved")
    assert "the disk is full" in box.text() and "still in the form" in box.text()
    assert "sqlite" not in box.text().lower() and "Traceback" not in box.text()
    box.accept()
    assert dlg.isVisible() and dlg.last_name.text() == "Haddad" and store.count_clients() == 0
    _free_the_disk(store)
    with qtbot.waitSignal(dlg.saved, timeout=5000):
        dlg.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert store.count_clients() == 1


def test_a_full_disk_while_saving_settings_is_said(qtbot, window, store):
    dlg = window.open_settings()
    qtbot.waitExposed(dlg)
    dlg.aftercare.setPlainText("Avoid the sun for a week. " * 400)  # needs new pages
    _fill_the_disk(store)
    dlg.save()
    box = _box(qtbot, dlg, "Settings not saved")
    assert "the disk is full" in box.text()
    box.accept()
    assert dlg.isVisible()
    _free_the_disk(store)
    dlg.reject()
