"""Consent through the real windows: signing on the pad, the client page's list, the session start's
warning, the clinic's forms — on a real database file."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from desktop.consent import DEFAULT_TEMPLATE_BODY, DEFAULT_TEMPLATE_TITLE
from desktop.consent_dialogs import ConsentDialog, ConsentSettingsDialog, ConsentViewer, TemplateEditor
from desktop.records import Client, add_months
from desktop.store import Store
from desktop.store.migrations import MIGRATION_NAMES
from tests.conftest import log_in_as
from tests.helpers.consent import sign_consent
from tests.helpers.people import PLAIN

TODAY = dt.date.today()


def sign_on(pad, y: int = 100) -> None:
    """A client's signature with the mouse: one loopy stroke across the box."""
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(30, y))
    for x in range(40, 420, 8):
        QTest.mouseMove(pad, QPoint(x, y + (12 if x // 8 % 3 else -10)))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(420, y))


def practitioner(window, name: str) -> None:
    log_in_as(window, name)


def test_client_signs_on_the_pad_and_the_page_lists_the_consent(qtbot, window, store):
    cid = store.add_client(Client("Imogen", "Castellano"))
    practitioner(window, "Dr Maya Okonkwo")
    window.show_client(cid)
    section = window.client_page.consent_section
    assert "No consent on file" in section.status_label.text()
    assert not section.view.isVisible()

    qtbot.mouseClick(section.sign_button, Qt.MouseButton.LeftButton)
    dlg = window.findChild(ConsentDialog)
    qtbot.waitExposed(dlg)
    assert dlg.heading.text() == DEFAULT_TEMPLATE_TITLE
    assert dlg.text.toPlainText() == DEFAULT_TEMPLATE_BODY and dlg.text.isReadOnly()
    assert dlg.witness.text() == "Witnessed by: Dr Maya Okonkwo"

    # no signature yet: said beside the box, nothing saved
    qtbot.mouseClick(dlg.sign_button, Qt.MouseButton.LeftButton)
    assert dlg.pad_error.isVisible() and "not signed yet" in dlg.pad_error.text()
    assert dlg.isVisible() and store.consents(cid) == []
    # a tap is not a signature either
    QTest.mouseClick(dlg.pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 100))
    qtbot.mouseClick(dlg.sign_button, Qt.MouseButton.LeftButton)
    assert "tap or a dot" in dlg.pad_error.text()
    qtbot.mouseClick(dlg.clear_button, Qt.MouseButton.LeftButton)
    assert dlg.pad.is_empty()

    sign_on(dlg.pad)
    strokes = dlg.pad.strokes()
    with qtbot.waitSignal(dlg.signed, timeout=5000):
        qtbot.mouseClick(dlg.sign_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()

    (listed,) = store.consents(cid)
    c = store.consent(listed.id)
    assert (c.kind, c.signed_on, c.witnessed_by, c.signer_name) == (
        "signed",
        TODAY,
        "Dr Maya Okonkwo",
        "Imogen Castellano",
    )
    assert (c.title, c.text, c.template_version) == (DEFAULT_TEMPLATE_TITLE, DEFAULT_TEMPLATE_BODY, 1)
    assert c.strokes == [
        [tuple(round(v, 1) if i < 2 else v for i, v in enumerate(p)) for p in s] for s in strokes
    ]
    image = QImage.fromData(c.signature_png, "PNG")
    assert not image.isNull() and image.width() == 2 * dlg.pad.width()
    assert "Consent valid until" in section.status_label.text()
    assert section.view.isVisible() and section.model.rowCount() == 1
    assert section.model.data(section.model.index(0, 2)) == "Dr Maya Okonkwo"
    assert (
        section.model.data(section.model.index(0, 3))
        == f"{add_months(TODAY, 12) - dt.timedelta(days=1):%-d %b %Y}"
    )

    # the consent as it was given: exact text and the signature
    viewer = section.open_consent(0)
    assert isinstance(viewer, ConsentViewer)
    assert viewer.text.toPlainText() == DEFAULT_TEMPLATE_BODY
    assert viewer.signature.pixmap() is not None and not viewer.signature.pixmap().isNull()
    assert "witnessed by Dr Maya Okonkwo" in viewer.meta.text()
    viewer.reject()


def test_the_witness_is_the_logged_in_person(qtbot, window, store):
    cid = store.add_client(Client("Ana", "Silva"))
    practitioner(window, "Nurse Lena Fischer")
    window.show_client(cid)
    dlg = window.client_page.consent_section.sign()
    qtbot.waitExposed(dlg)
    assert "Witnessed by: Nurse Lena Fischer" in dlg.witness.text()
    sign_on(dlg.pad)
    qtbot.mouseClick(dlg.sign_button, Qt.MouseButton.LeftButton)
    assert store.consents(cid)[0].witnessed_by == "Nurse Lena Fischer"


def test_a_full_disk_loses_no_signature(qtbot, window, store):
    """SQLite reports the disk full (max_page_count): the dialog says so and keeps the signature."""
    cid = store.add_client(Client("Ana", "Silva"))
    practitioner(window, "Dr K")
    window.show_client(cid)
    dlg = window.client_page.consent_section.sign()
    qtbot.waitExposed(dlg)
    sign_on(dlg.pad)
    strokes = dlg.pad.strokes()
    store.conn.execute("VACUUM")  # no free pages left inside the file: the consent needs new ones
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    qtbot.mouseClick(dlg.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(dlg, "error", None) is not None and dlg.error.isVisible())
    assert "not saved" in dlg.error.text() and "full" in dlg.error.text().lower()
    assert dlg.isVisible() and dlg.pad.strokes() == strokes
    assert store.consents(cid) == []
    dlg.error.accept()
    store.conn.execute("PRAGMA max_page_count = 2147483647")
    with qtbot.waitSignal(dlg.signed, timeout=5000):
        qtbot.mouseClick(dlg.sign_button, Qt.MouseButton.LeftButton)
    assert len(store.consents(cid)) == 1


def test_session_start_warns_when_consent_is_missing_or_expired_and_can_sign_now(qtbot, window, store):
    cid = store.add_client(Client("Ola", "Nordmann"))
    sign_consent(store, cid, on=add_months(TODAY, -13))
    practitioner(window, "Dr K")
    dlg = window.start_session(cid)
    check = dlg.consent
    assert check.label.isVisible() and "expired" in check.label.text()
    assert check.ack.isVisible() and check.sign_button.isVisible()
    dlg.confirm.setChecked(True)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "Consent has expired" in dlg.problem.text()
    assert store.sessions_for_client(cid) == []

    signing = check.sign()
    qtbot.waitExposed(signing)
    sign_on(signing.pad)
    with qtbot.waitSignal(signing.signed, timeout=5000):
        qtbot.mouseClick(signing.sign_button, Qt.MouseButton.LeftButton)
    assert "Consent valid until" in check.label.text()
    assert not check.ack.isVisible() and check.problem() is None and not check.acknowledged
    dlg.handpiece.setCurrentIndex(0)
    with qtbot.waitSignal(dlg.started, timeout=10_000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    session = store.sessions_for_client(cid)[0]
    assert store.conn.execute(
        "SELECT consent_acknowledged FROM treatment_sessions WHERE id = ?", [session.id]
    ).fetchone() == (0,)


def test_acknowledging_instead_of_signing_is_recorded_on_the_session(qtbot, window, store):
    cid = store.add_client(Client("No", "Consent"))
    dlg = window.start_session(cid)
    assert "No consent on file" in dlg.consent.label.text()
    dlg.confirm.setChecked(True)
    dlg.consent.ack.setChecked(True)
    dlg.handpiece.setCurrentIndex(0)
    with qtbot.waitSignal(dlg.started, timeout=10_000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    sid = store.sessions_for_client(cid)[0].id
    assert store.conn.execute(
        "SELECT consent_acknowledged FROM treatment_sessions WHERE id = ?", [sid]
    ).fetchone() == (1,)


def test_consent_recorded_before_signed_consent_is_listed_for_what_it_is(qtbot, tmp_path):
    from desktop.main_window import MainWindow

    path = tmp_path / "old.db"
    old = Store.open(path, stop_before=next(n for n in MIGRATION_NAMES if n.endswith("_signed_consent")))
    row = {"first_name": "Ada", "last_name": "Old", "sensitivity": "normal", "vacuum_ceiling_kpa": 45.0}
    row |= {
        "archived": 0,
        "consent_date": (TODAY - dt.timedelta(days=30)).isoformat(),
        "consent_witness": "Dr K",
    }
    cid = old.db["clients"].insert(row).last_pk
    old.close()
    store = Store.open(path)
    try:
        w = MainWindow(store, person=PLAIN)
        qtbot.addWidget(w)
        w.show_client(cid)
        section = w.client_page.consent_section
        assert "before signed consent existed" in section.status_label.text()
        assert section.model.data(section.model.index(0, 1)).startswith(
            "Recorded before signed consent existed"
        )
        viewer = section.open_consent(0)
        assert "their signature were not kept" in viewer.meta.text()
        assert not hasattr(viewer, "signature")  # nothing pretends to be a signature
        viewer.reject()
    finally:
        store.close()


def test_clinic_edits_a_form_into_a_new_version_and_sets_validity(qtbot, window, store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    sign_consent(store, cid, on=TODAY - dt.timedelta(days=200))
    log_in_as(window, "Dr K", ("practitioner", "administrator"))  # the clinic's forms are settings
    dlg = window.open_consent_settings()
    assert isinstance(dlg, ConsentSettingsDialog)
    assert dlg.forms.count() == 1 and "version 1" in dlg.forms.item(0).text()
    editor = dlg.edit()
    assert isinstance(editor, TemplateEditor)
    editor.body.setPlainText("short")
    editor.save()
    assert editor.body_error.isVisible() and "at least" in editor.body_error.text()
    editor.body.setPlainText(DEFAULT_TEMPLATE_BODY + "\nNo make-up for 24 hours afterwards.")
    editor.save()
    assert not editor.isVisible()
    assert "version 2" in dlg.forms.item(0).text()
    new = dlg.edit(new=True)
    new.title.setText("Consent — crystal microdermabrasion")
    new.body.setPlainText("Aluminium-oxide crystals are blown across the skin and drawn back… " * 2)
    new.save()
    assert dlg.forms.count() == 2
    dlg.forms.setCurrentRow(next(i for i in range(2) if "crystal" in dlg.forms.item(i).text()))
    qtbot.mouseClick(dlg.retire_button, Qt.MouseButton.LeftButton)
    assert any("not offered" in dlg.forms.item(i).text() for i in range(2))
    dlg.validity.setValue(6)
    dlg.retention.setValue(10)
    dlg.save()
    assert store.consent_validity_months() == 6 and store.retention_years() == 10
    # the client signed 200 days ago: with 6 months that has expired
    window.show_client(cid)
    assert "expired" in window.client_page.consent_section.status_label.text()
    # the client signs the new version; the old consent keeps version 1's text
    signing = window.client_page.consent_section.sign()
    assert signing.form.count() == 1  # the retired crystal form is not offered
    assert "No make-up for 24 hours" in signing.text.toPlainText()
    sign_on(signing.pad)
    signing.save()
    newest, older = (store.consent(c.id) for c in store.consents(cid))
    assert (newest.template_version, older.template_version) == (2, 1)
    assert "No make-up" in newest.text and "No make-up" not in older.text
    assert window.client_page.consent_section.model.data(
        window.client_page.consent_section.model.index(1, 3)
    ).endswith("(superseded)")


def test_a_read_only_file_offers_no_signing_series_or_screening(qtbot, window, store):
    from desktop.store import ReadOnlyError
    from desktop.store.access import read_only_access

    cid = store.add_client(Client("Ada", "Lovelace"))
    store.set_access(read_only_access("the folder is read-only"))
    window.show_client(cid)
    page = window.client_page
    assert not page.consent_section.sign_button.isEnabled()
    assert not page.series_section.new_button.isEnabled()
    assert not page.client_screening_button.isEnabled()
    with pytest.raises(ReadOnlyError, match="cannot be written"):  # should a window still try
        sign_consent(store, cid)
    assert store.consents(cid) == []
