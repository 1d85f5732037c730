"""What people type is shown as they typed it, kept within sane sizes, and never silently changed."""

from __future__ import annotations

import datetime as dt
import html

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QMessageBox, QWidget

from desktop.client_form import ClientDialog
from desktop.records import MAX_NAME, Client, ScreeningAnswer, ScreeningRule
from desktop.store.clients import MAX_QUERY
from tests.conftest import log_in_as

WAIT = 10_000
# The attack, in every text field: a 40-point red "alarm" and an image pulled from the disk.
ALARM = "<span style='font-size:40pt;color:red'>ALARM: CALL 999</span>"
IMG = "<img src='/etc/hostname'>"
MARKS = (ALARM, IMG, "<b>bold</b>", "<i>x</i>")


def _literal(widget: QWidget) -> list[str]:
    """Labels under ``widget`` that would render someone's markup as markup (empty: none)."""
    wrong = []
    for label in [widget, *widget.findChildren(QLabel)]:
        if not isinstance(label, QLabel):
            continue
        text, fmt = label.text(), label.textFormat()
        rich = fmt == Qt.TextFormat.RichText or (
            fmt == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
        )
        if rich and any(m in text for m in MARKS):
            wrong.append(f"{label.objectName() or type(label.parent()).__name__}: {text[:80]!r}")
    return wrong


def _shows(widget: QWidget, fragment: str) -> bool:
    """Some label under ``widget`` shows ``fragment`` literally (plain, or escaped in rich text)."""
    for label in widget.findChildren(QLabel):
        text = label.text()
        if label.textFormat() == Qt.TextFormat.PlainText and fragment in text:
            return True
        if html.escape(fragment, quote=False) in text or html.escape(fragment) in text:
            return True
    return False


def _save(dlg: ClientDialog) -> None:
    dlg.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_markup_in_every_text_field_is_shown_literally_on_every_screen(qtbot, window, store):
    store.save_screening_rule(ScreeningRule("other", f"Other {IMG}", effect="block", sort=14), "t")
    log_in_as(window, "<b>bold</b> practitioner")
    dlg = window.new_client()
    dlg.first_name.setText("<i>x</i>")
    dlg.last_name.setText(ALARM)
    dlg.email.setText("<i>x</i>@example.org")
    dlg.notes.setPlainText(f"Notes {ALARM}")
    note = dlg.screening.rows["other"][3]
    dlg.phone.setText("07700 900999")
    dlg.screening.rows["other"][0].setChecked(True)
    note.setText(f"note {IMG}")
    with qtbot.waitSignal(dlg.saved, timeout=WAIT):
        _save(dlg)
    cid = store.client_ids()[-1]
    assert store.client(cid).last_name == ALARM  # stored exactly as typed

    # client page
    page = window.client_page
    qtbot.waitUntil(lambda: window.stack.currentWidget() is page, timeout=WAIT)
    assert page.name.text() == f"<i>x</i> {ALARM}" and page.name.textFormat() == Qt.TextFormat.PlainText
    assert _shows(page, f"Notes {ALARM}") and _shows(page, "<i>x</i>@example.org")
    assert _shows(page, f"Other {IMG}"[:5])
    assert _literal(window) == []
    # client list
    window.show_list()
    model = window.list_page.model
    names = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert f"{ALARM}, <i>x</i>" in names
    # start dialog (its screening lines are rich text: escaped)
    start = window.start_session(cid)
    qtbot.addWidget(start)
    assert _literal(start) == [] and _shows(start, IMG)
    assert start.windowTitle() == f"Start session — <i>x</i> {ALARM}"
    start.reject()
    # an interrupted session: the banner, the review header, the review and live window titles
    sid = store.create_session(cid, "<b>bold</b> practitioner", areas=["chin"])
    store.save_notes(sid, {"notes": f"typed {ALARM}"})
    store.conn.execute(
        "UPDATE treatment_sessions SET owner_pid = NULL, heartbeat_at = '2001-01-01T00:00:00+00:00'"
    )
    store.conn.commit()
    window.recover_interrupted()
    assert window.banner.isVisible() and ALARM in window.banner_label.text()
    assert window.banner_label.textFormat() == Qt.TextFormat.PlainText
    review = window.open_session(sid)
    assert review.windowTitle().endswith(f"<i>x</i> {ALARM}")
    assert _literal(review) == [] and _shows(review, ALARM)
    review.close()

    from desktop.session.live import LiveSessionWindow

    live_sid = store.create_session(cid, "t", areas=["chin"])
    live = LiveSessionWindow(store, live_sid, {"url": "sim://?rate=200&auto=1"}, lambda: "t")
    assert live.windowTitle() == f"Treatment session — <i>x</i> {ALARM}"
    assert _literal(live) == []
    live.force_close()
    assert _literal(window) == []


def test_names_are_at_most_100_characters_and_a_huge_paste_says_so(qtbot, window, store):
    dlg = window.new_client()
    dlg.last_name.setText("A" * 100_000)  # pasted: Qt's line edit keeps 32,767 of them
    _save(dlg)
    assert "at most 100 characters (this one has 32,767)" in dlg.errors["last_name"].text()
    assert dlg.errors["last_name"].isVisible()
    assert store.count_clients() == 0
    dlg.last_name.setText("B" * MAX_NAME)
    with qtbot.waitSignal(dlg.saved, timeout=WAIT):
        _save(dlg)
    assert store.client(store.client_ids()[0]).last_name == "B" * MAX_NAME


def test_control_characters_are_refused_at_the_field(qtbot, window, store):
    dlg = window.new_client()
    dlg.first_name.setText("Ada\x00")
    dlg.last_name.setText("Lovelace\x1b[31m")
    dlg.notes.setPlainText("line one\nline two\twith a tab")  # newlines and tabs are fine in notes
    _save(dlg)
    assert "control characters" in dlg.errors["first_name"].text()
    assert "control characters" in dlg.errors["last_name"].text()
    assert not dlg.errors["notes"].isVisible()
    assert store.count_clients() == 0


def test_the_search_box_is_capped_so_a_paste_cannot_freeze_the_list(qtbot, window, store):
    store.add_client(Client("Searchable", "Client"))
    search = window.list_page.search
    search.setText("Searchable " + "z" * 10_000)
    assert len(search.text()) == MAX_QUERY
    window.list_page.apply_filter()
    assert window.list_page.model.rowCount() == 0  # answered (no client has that many z's)
    # the store caps a query too: what lies past MAX_QUERY characters does not count
    assert len(store.search_clients("Searchable" + " " * MAX_QUERY + "q" * 50_000)) == 1


def test_dates_of_birth_before_1900_are_kept_exactly(qtbot, window, store):
    # a record from before (an import, an older Abrasio) born in 1899: kept through an unchanged Save
    cid = store.add_client(Client("Old", "Record", date_of_birth=dt.date(1899, 12, 31)))
    edit = window.edit_client(cid)
    assert edit.date_of_birth.value() == dt.date(1899, 12, 31)
    edit.notes.setPlainText("still with us")
    with qtbot.waitSignal(edit.saved, timeout=WAIT):
        _save(edit)
    assert store.client(cid).date_of_birth == dt.date(1899, 12, 31)
    assert store.change_log("client", cid)[-1].details == {"notes": ["", "still with us"]}

    # 1 Jan 1900 was the widget's "empty" value: now it is a date like any other
    dlg = window.new_client()
    dlg.last_name.setText("Typed")
    dlg.date_of_birth.set_value(dt.date(1900, 1, 1))
    assert dlg.date_of_birth.value() == dt.date(1900, 1, 1)
    _save(dlg)  # typed today, it is over 120 years ago: said at the field, not saved as "no date"
    assert "over 120 years old" in dlg.errors["date_of_birth"].text()
    assert store.count_clients() == 1
    dlg.date_of_birth.set_value(dt.date(1950, 6, 1))
    with qtbot.waitSignal(dlg.saved, timeout=WAIT):
        _save(dlg)
    empty = window.new_client()
    assert empty.date_of_birth.value() is None  # an untouched date is still "no date"
    empty.reject()


def test_a_duplicate_client_is_listed_with_a_question_before_saving(qtbot, window, store):
    first = store.add_client(
        Client("Ada", "Lovelace", date_of_birth=dt.date(1985, 12, 10), phone="07700 900123")
    )
    store.add_client(Client("Grace", "Hopper", email="Grace@Example.org"))

    dlg = window.new_client()
    dlg.first_name.setText("ada")
    dlg.last_name.setText(" LOVELACE")
    dlg.date_of_birth.set_value(dt.date(1985, 12, 10))
    _save(dlg)
    box = dlg.duplicates_box
    assert box is not None and box.isVisible()
    assert "Ada Lovelace, born 10 Dec 1985 · 07700 900123" in box.text()
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.button(QMessageBox.StandardButton.NoButton)
    go_back = next(b for b in box.buttons() if b.text() == "Go back")
    go_back.click()
    assert store.count_clients() == 2 and dlg.isVisible()  # nothing saved, the form still open

    dlg.duplicates_box = None
    _save(dlg)
    with qtbot.waitSignal(dlg.saved, timeout=WAIT):
        dlg.duplicates_box.button(QMessageBox.StandardButton.NoButton)
        dlg.save_anyway.click()
    assert store.count_clients() == 3

    # the same phone however it is written, the same email whatever its case
    same_phone = Client("Someone", "Else", phone="+44 (0)7700-900-123")
    assert [c.id for c in store.find_duplicates(same_phone)] == []  # 447700900123 is another number
    assert [c.id for c in store.find_duplicates(Client("X", "Y", phone="07700900123"))] == [first]
    assert [c.last_name for c in store.find_duplicates(Client("X", "Y", email=" grace@example.ORG "))] == [
        "Hopper"
    ]
    grace = store.client(store.search_clients("Hopper")[0].id)
    assert store.find_duplicates(grace) == []  # editing a client does not match itself


def test_screening_note_and_client_notes_keep_what_was_typed(qtbot, window, store):
    cid = store.add_client(Client("Keep", "Typed", notes=f"{IMG}\nsecond line"))
    store.save_screening(cid, [ScreeningAnswer("other", note=ALARM)], "t")
    window.show_client(cid)
    assert _literal(window) == []
    assert store.screening(cid)[0].note == ALARM
