"""The client answers the screening on screen, one question at a time; the practitioner reviews and
confirms. Real widgets, real clicks, a real database file."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox

from desktop.questionnaire import NO, UNSURE, YES
from desktop.records import Client, ScreeningAnswer
from desktop.screening_mode import ClientScreeningDialog
from tests.conftest import TEST_PERSON, log_in_as

TODAY = dt.date.today()


def click_answer(qtbot, dlg, group, value) -> None:
    button = next(b for b in group.buttons() if b.property("value") == value)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def current_code(dlg) -> str:
    return dlg.questions[dlg.index].code


def open_mode(qtbot, window, store, cid) -> ClientScreeningDialog:
    window.show_client(cid)
    qtbot.mouseClick(window.client_page.client_screening_button, Qt.MouseButton.LeftButton)
    dlg = window.client_page.findChild(ClientScreeningDialog)
    qtbot.waitExposed(dlg)
    return dlg


def test_client_answers_one_question_at_a_time_then_the_practitioner_confirms(qtbot, window, store):
    cid = store.add_client(Client("Priya", "Patel"))
    store.save_screening(cid, [ScreeningAnswer("rosacea", dt.date(2025, 1, 1), None, "winter flares")])
    log_in_as(window, "Dr Maya Okonkwo")
    dlg = open_mode(qtbot, window, store, cid)
    assert dlg.pages.currentIndex() == 0 and dlg.greeting.text() == "Hello Priya"
    qtbot.mouseClick(dlg.begin_button, Qt.MouseButton.LeftButton)
    n = len(dlg.questions)
    assert dlg.progress.text() == f"Question 1 of {n}"
    assert dlg.question.font().pointSizeF() >= 20  # large text, read from the client's chair
    assert (
        dlg.question.text() == "Do you have spots or acne on your face right now that are red, sore or open?"
    )

    # Next without an answer: a plain message, the same question
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.error.text() == "Please choose Yes, No or Not sure." and dlg.index == 0
    # the follow-up questions appear only where they apply
    assert not dlg.still_label.isVisible() and not dlg.when.isVisible()

    plan = {"isotretinoin": YES, "cold_sores": UNSURE, "rosacea": NO, "other": YES}
    while dlg.pages.currentIndex() == 1:
        code = current_code(dlg)
        click_answer(qtbot, dlg, dlg.answer_group, plan.get(code, NO))
        if code == "isotretinoin":
            assert dlg.still_label.isVisible() and dlg.still_label.text() == "Are you still taking it?"
            click_answer(qtbot, dlg, dlg.still_group, False)
            assert dlg.when.isVisible() and dlg.when_label.text() == "When did you take the last tablet?"
            qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
            assert "roughly when it stopped" in dlg.error.text() and current_code(dlg) == "isotretinoin"
            stopped = TODAY - dt.timedelta(days=40)
            dlg.when.setDate(QDate(stopped.year, stopped.month, stopped.day))
        if code == "other":
            assert dlg.detail.isVisible()
            qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
            assert "few words" in dlg.error.text()
            qtbot.keyClicks(dlg.detail, "bee sting on my chin <b>yesterday</b>")
        if code == "sunburn":  # go back one and forward again: the answer given is still there
            qtbot.mouseClick(dlg.back_button, Qt.MouseButton.LeftButton)
            previous = current_code(dlg)
            assert dlg.answer_group.checkedButton().property("value") == plan.get(previous, NO)
            qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
            assert current_code(dlg) == "sunburn"
            click_answer(qtbot, dlg, dlg.answer_group, NO)
        qtbot.keyClick(dlg, Qt.Key.Key_Escape)  # a stray Esc from the client throws nothing away
        assert dlg.isVisible()
        qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.pages.currentIndex() == 2  # "hand the screen back"
    assert len(dlg.answers) == n

    qtbot.mouseClick(dlg.review_button, Qt.MouseButton.LeftButton)
    assert dlg.pages.currentIndex() == 3
    diffs = dlg.differences.text()
    assert "Rosacea (flare): the record says ongoing; the client said No." in diffs
    assert "Isotretinoin (oral): the record says not recorded; the client said Yes, stopped" in diffs
    assert "** Active cold sores (herpes simplex)" in diffs
    assert "bee sting on my chin <b>yesterday</b>" in dlg.client_said.text()
    assert dlg.client_said.textFormat() == Qt.TextFormat.PlainText
    # the form starts from the proposal; the practitioner corrects it before confirming
    box, since, ended, note = dlg.editor.rows["rosacea"]
    assert box.isChecked() and note.text() == "winter flares" and ended.value() is None
    assert since.value() == dt.date(2025, 1, 1)
    assert dlg.editor.rows["isotretinoin"][2].value() == TODAY - dt.timedelta(days=40)
    assert dlg.editor.rows["cold_sores"][0].isChecked()
    dlg.editor.rows["cold_sores"][0].setChecked(False)  # asked: it was a pimple, not a cold sore
    with qtbot.waitSignal(dlg.saved, timeout=5000):
        qtbot.mouseClick(dlg.confirm_button, Qt.MouseButton.LeftButton)

    recorded = {a.code: a for a in store.screening(cid)}
    assert set(recorded) == {"rosacea", "isotretinoin", "other"}
    assert recorded["isotretinoin"].ended == TODAY - dt.timedelta(days=40)
    assert recorded["other"].note == "Client: bee sting on my chin <b>yesterday</b>"
    (q,) = store.questionnaires(cid)
    said = {a.code: a for a in q.answers}
    assert said["cold_sores"].answer == UNSURE and said["rosacea"].answer == NO
    assert said["isotretinoin"].question.startswith("Have you ever taken isotretinoin")
    assert q.reviewed_by == "Dr Maya Okonkwo" and {a.code for a in q.confirmed} == set(recorded)
    assert "Isotretinoin: no microdermabrasion until" in window.client_page.screening_label.text()


def test_the_logged_in_person_confirms_and_stopping_asks_first(qtbot, window, store):
    cid = store.add_client(Client("Tom", "Berg"))
    dlg = open_mode(qtbot, window, store, cid)
    dlg.stop()  # nothing answered yet: leaves at once
    qtbot.waitUntil(lambda: not dlg.isVisible())

    dlg = window.client_page.client_screening()
    qtbot.waitExposed(dlg)
    dlg.show_question(0)
    while dlg.pages.currentIndex() == 1:
        click_answer(qtbot, dlg, dlg.answer_group, NO)
        dlg.next()
    dlg.show_review()
    box = dlg.stop()
    assert isinstance(box, QMessageBox) and dlg.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert dlg.isVisible()
    box = dlg.stop()
    box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not dlg.isVisible())
    assert store.questionnaires(cid) == [] and store.screening(cid) == []

    # confirmed: by the person logged in, never a typed name
    dlg = window.client_page.client_screening()
    qtbot.waitExposed(dlg)
    dlg.show_question(0)
    while dlg.pages.currentIndex() == 1:
        click_answer(qtbot, dlg, dlg.answer_group, NO)
        dlg.next()
    dlg.show_review()
    qtbot.mouseClick(dlg.confirm_button, Qt.MouseButton.LeftButton)
    assert store.questionnaires(cid)[0].reviewed_by == TEST_PERSON
