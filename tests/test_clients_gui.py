"""Client records through the real widgets, on a real database file."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from desktop import accounts
from desktop.app import main as app_main
from desktop.client_form import ClientDialog
from desktop.main_window import MainWindow
from desktop.records import Client, ScreeningAnswer
from desktop.store import Store
from tests.conftest import TEST_PASSPHRASE, TEST_PERSON


def save_button(dlg: ClientDialog):
    return dlg.buttons.button(QDialogButtonBox.StandardButton.Save)


def fill(qtbot, dlg: ClientDialog, **values):
    for name, text in values.items():
        widget = getattr(dlg, name)
        widget.clear()
        qtbot.keyClicks(widget, text)


def test_create_find_edit_reopen(qtbot, window, tmp_path):
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dlg = window.findChild(ClientDialog)
    assert dlg is not None and dlg.isVisible()
    fill(
        qtbot,
        dlg,
        first_name="Imogen",
        last_name="Castellano",
        phone="+44 7700 900123",
        email="imogen@example.org",
    )
    dlg.sensitivity.setCurrentIndex(dlg.sensitivity.findData("sensitive"))
    assert dlg.ceiling.value() == 30.0  # the ceiling follows sensitivity
    dlg.fitzpatrick.setCurrentIndex(dlg.fitzpatrick.findData(5))
    dlg.concerns["acne_scars"].setChecked(True)
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.client_page)
    page = window.client_page
    assert page.name.text() == "Imogen Castellano"
    assert "post-inflammatory hyperpigmentation" in page.screening_label.text()
    assert "No consent on file" in page.consent_section.status_label.text()

    # find by part of the phone number, typed as the practitioner would
    window.show_list()
    qtbot.keyClicks(window.list_page.search, "900 12")
    qtbot.waitUntil(lambda: window.list_page.model.rowCount() == 1)
    assert window.list_page.model.data(window.list_page.model.index(0, 0)) == "Castellano, Imogen"
    qtbot.keyClick(window.list_page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.client_page)

    # edit
    qtbot.keyClick(window.client_page, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dlg = window.findChild(ClientDialog, options=Qt.FindChildOption.FindDirectChildrenOnly)
    qtbot.waitUntil(lambda: any(d.isVisible() and d.client.id for d in window.findChildren(ClientDialog)))
    dlg = next(d for d in window.findChildren(ClientDialog) if d.isVisible())
    fill(qtbot, dlg, email="imogen.c@example.org")
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    cid = window.client_page.client.id

    # close and reopen the database (logging in again): the edit is there, and logged as the person's
    window.store.close()
    clinic2 = accounts.login(tmp_path / "abrasio.db", TEST_PERSON, TEST_PASSPHRASE)
    store2 = clinic2.store
    try:
        w2 = MainWindow(clinic2)
        qtbot.addWidget(w2)
        w2.show_client(cid)
        assert "imogen.c@example.org" in w2.client_page.details.text()
        log = store2.change_log("client", cid)
        assert [e.action for e in log] == ["create", "update"]
        assert {e.who for e in log} == {TEST_PERSON}
    finally:
        store2.close()


def test_every_validation_message_and_nothing_half_saved(qtbot, window):
    dlg = window.new_client()
    today = dt.date.today()
    cases = [
        ({}, "first_name", "Enter the client's name."),
        ({"first_name": "Ola"}, "last_name", "Enter the client's last name."),
        ({"last_name": "Nor", "email": "ola@"}, "email", "That is not an email address"),
        ({"email": "", "phone": "12ab"}, "phone", "A phone number has 6 to 15 digits"),
    ]
    for values, field, message in cases:
        fill(qtbot, dlg, **values)
        qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
        assert dlg.errors[field].isVisible(), field
        assert message in dlg.errors[field].text()
        assert dlg.isVisible()
    fill(qtbot, dlg, phone="")
    future = today + dt.timedelta(days=3)
    fill(qtbot, dlg, date_of_birth=future.isoformat())
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    assert "cannot be in the future" in dlg.errors["date_of_birth"].text()
    fill(qtbot, dlg, date_of_birth="1 Jan 1901")
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    assert "over 120 years old" in dlg.errors["date_of_birth"].text()
    fill(qtbot, dlg, date_of_birth="17 May 1980")
    dlg.ceiling.setValue(2)
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    assert "5 to 90 kPa" in dlg.errors["vacuum_ceiling_kpa"].text()
    assert window.store.count_clients() == 0  # nothing was half-saved
    assert dlg.first_name.text() == "Ola" and dlg.last_name.text() == "Nor"  # nothing lost
    dlg.ceiling.setValue(40)
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    # isVisibleTo: the dialog is closed now, so isVisible() would be False for every label whatever
    # they showed (an assertion that could not fail); this asks whether any error is still shown in it
    assert not any(label.isVisibleTo(dlg) for label in dlg.errors.values())
    assert window.store.count_clients() == 1


def test_escape_closes_an_untouched_form_at_once(qtbot, window):
    dlg = window.new_client()
    qtbot.keyClick(dlg.first_name, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    assert dlg.findChild(QMessageBox) is None
    assert window.store.count_clients() == 0


def test_archive_and_find_again(qtbot, window):
    cid = window.store.add_client(Client("Rosa", "Archivist", phone="020 7946 0018"))
    window.list_page.refresh()
    window.show_client(cid)
    qtbot.mouseClick(window.client_page.archive_button, Qt.MouseButton.LeftButton)
    assert "(archived)" in window.client_page.name.text()
    assert not window.client_page.start_button.isEnabled()
    window.show_list()
    qtbot.keyClicks(window.list_page.search, "Archivist")
    qtbot.waitUntil(lambda: "0 clients" in window.list_page.count.text())
    window.list_page.archived.setChecked(True)
    qtbot.waitUntil(lambda: window.list_page.model.rowCount() == 1)
    window.show_client(window.list_page.model.client_id(0))
    qtbot.mouseClick(window.client_page.archive_button, Qt.MouseButton.LeftButton)
    assert window.store.search_clients("Archivist")[0].id == cid
    assert [e.action for e in window.store.change_log("client", cid)] == ["create", "archive", "unarchive"]


def test_screening_tells_what_counts_today_and_until_when(qtbot, window):
    cid = window.store.add_client(Client("Iso", "Tretinoin"))
    window.store.save_screening(
        cid,
        [
            ScreeningAnswer("isotretinoin", dt.date(2026, 3, 1), dt.date(2026, 11, 14)),
            ScreeningAnswer("topical_retinoids", None, dt.date(2026, 11, 1)),  # long over
            ScreeningAnswer("anticoagulants"),
        ],
    )
    window.client_page.today = lambda: dt.date(2026, 11, 25)
    window.show_client(cid)
    text = window.client_page.screening_label.text()
    assert "*** Isotretinoin: no microdermabrasion until 14 May 2027" in text
    assert "** Anticoagulants or NSAIDs: caution while active" in text
    assert "no longer counts" in text
    assert window.client_page.screening_box.objectName() == "ScreeningBlock"


def test_screening_answers_through_the_form(qtbot, window):
    dlg = window.new_client()
    fill(qtbot, dlg, first_name="Sun", last_name="Burnt")
    box, _since, ended, note = dlg.screening.rows["sunburn"]
    box.setChecked(True)
    qtbot.keyClicks(ended, "today")
    qtbot.keyClicks(note, "shoulders")
    qtbot.mouseClick(save_button(dlg), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.client_page)
    assert "Sunburn or fresh tan: no microdermabrasion until" in window.client_page.screening_label.text()
    (answer,) = window.store.screening(window.client_page.client.id)
    assert answer.code == "sunburn" and answer.note == "shoulders" and answer.ended == dt.date.today()


def test_client_list_pages_lazily(qtbot, window):
    window.store.import_clients([Client(f"N{i}", f"Person{i:03d}") for i in range(250)])
    window.list_page.refresh()
    model = window.list_page.model
    assert model.rowCount() == 100 and model.canFetchMore()
    window.list_page.view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() >= 200)
    assert "100+ clients" in window.list_page.count.text()


def test_settings_dialog_changes_unit_and_rules(qtbot, window):
    cid = window.store.add_client(Client("Unit", "Test"))
    window.show_client(cid)
    dlg = window.open_settings()
    dlg.unit.setCurrentText("inHg")
    row = next(i for i, r in enumerate(dlg.rules) if r.code == "isotretinoin")
    dlg.table.cellWidget(row, 1).setValue(12)
    dlg.save()
    assert "13.3 inHg" in window.client_page.details.text()  # 45 kPa ceiling
    rule = next(r for r in window.store.screening_rules() if r.code == "isotretinoin")
    assert rule.months == 12


def test_app_refuses_a_newer_database_with_a_message(tmp_path, capsys):
    path = tmp_path / "future.db"
    s = Store.open(path)
    s.db["_sqlite_migrations"].insert({"migration_set": "abrasio", "name": "m100_x", "applied_at": "x"})
    s.close()
    before = path.read_bytes()
    assert app_main(["--db", str(path)]) == 2
    assert "newer version of Abrasio" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_app_explains_a_file_that_is_not_a_database(tmp_path, capsys):
    path = tmp_path / "x.db"
    path.write_bytes(b"\x00garbage" * 100)
    assert app_main(["--db", str(path)]) == 2
    assert "not an Abrasio database" in capsys.readouterr().err
