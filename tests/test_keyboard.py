"""Keyboard first: the search box has the focus, Up/Down choose a match, Enter opens it; Esc in a
changed form asks before anything typed is thrown away."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.records import Client, ScreeningAnswer
from desktop.settings_dialog import SettingsDialog


def add_clients(store, *names):
    return [store.add_client(Client(first, last)) for first, last in (n.split() for n in names)]


def test_focus_starts_in_the_search_box(qtbot, window):
    qtbot.waitUntil(window.list_page.search.hasFocus)


def test_up_down_move_the_selection_from_the_search_box_and_enter_opens_it(qtbot, clinic, store):
    from desktop.main_window import MainWindow

    ids = add_clients(store, "Ada Lindqvist", "Ada Lindgren", "Ada Lindholm", "Bo Other")
    w = MainWindow(clinic)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    page = w.list_page
    qtbot.waitUntil(page.search.hasFocus)
    qtbot.keyClicks(page.search, "lind")
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    assert page.view.currentIndex().row() == 0
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    assert page.view.currentIndex().row() == 2
    assert page.search.hasFocus()  # typing goes on refining the search
    qtbot.keyClick(page.search, Qt.Key.Key_Down)  # stays on the last match
    assert page.view.currentIndex().row() == 2
    qtbot.keyClick(page.search, Qt.Key.Key_Up)
    assert page.view.currentIndex().row() == 1
    chosen = page.model.client_id(1)
    assert chosen != page.model.client_id(0)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.client_page)
    assert w.client_page.client.id == chosen  # the selected one, not the first match
    assert chosen in ids


def test_down_after_a_click_in_the_list_moves_there_too(qtbot, window):
    add_clients(window.store, "Cy One", "Cy Two", "Cy Three")
    page = window.list_page
    page.refresh()
    rect = page.view.visualRect(page.model.index(0, 0))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(page.view.hasFocus)
    qtbot.keyClick(page.view, Qt.Key.Key_Down)
    assert page.view.currentIndex().row() == 1
    assert page.view.hasFocus()


def test_enter_right_after_typing_opens_the_first_new_match(qtbot, window):
    add_clients(window.store, "Dee Alpha", "Eve Beta")
    page = window.list_page
    page.refresh()
    qtbot.keyClicks(page.search, "beta")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)  # before the search-as-you-type delay ran
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.client_page)
    assert window.client_page.client.last_name == "Beta"


def discard_box(qtbot, dlg) -> QMessageBox:
    def visible():
        return [b for b in dlg.findChildren(QMessageBox, "DiscardChanges") if b.isVisible()]

    qtbot.waitUntil(lambda: len(visible()) == 1)
    return visible()[0]


def _named(box: QMessageBox, text: str):
    return next(b for b in box.buttons() if b.text() == text)


def test_escape_in_a_changed_client_form_asks_first(qtbot, window):
    dlg = window.new_client()
    qtbot.waitExposed(dlg)
    qtbot.keyClicks(dlg.first_name, "Temp")
    qtbot.keyClick(dlg.first_name, Qt.Key.Key_Escape)
    box = discard_box(qtbot, dlg)
    assert "Discard" in box.text()
    qtbot.mouseClick(_named(box, "Keep editing"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dlg.isVisible() and dlg.first_name.text() == "Temp"  # nothing lost
    qtbot.keyClick(dlg.first_name, Qt.Key.Key_Escape)
    box = discard_box(qtbot, dlg)
    qtbot.mouseClick(_named(box, "Discard changes"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    assert window.store.count_clients() == 0


def test_a_changed_screening_date_alone_counts_as_a_change(qtbot, window):
    cid = window.store.add_client(Client("Iso", "Tretinoin"))
    window.store.save_screening(cid, [ScreeningAnswer("isotretinoin", None, dt.date(2026, 9, 25))])
    dlg = window.edit_client(cid)
    qtbot.waitExposed(dlg)
    _box, _since, ended, _note = dlg.screening.rows["isotretinoin"]
    assert not dlg.has_changes()
    ended.setFocus()
    ended.selectAll()
    qtbot.keyClicks(ended, "27 Sep 2026")
    qtbot.keyClick(ended, Qt.Key.Key_Escape)
    box = discard_box(qtbot, dlg)
    qtbot.mouseClick(_named(box, "Discard changes"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    (answer,) = window.store.screening(cid)
    assert answer.ended == dt.date(2026, 9, 25)  # as it was


def test_escape_in_changed_settings_asks_first(qtbot, window):
    dlg = window.open_settings()
    assert isinstance(dlg, SettingsDialog)
    qtbot.waitExposed(dlg)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)  # untouched: closes
    qtbot.waitUntil(lambda: not dlg.isVisible())
    dlg = window.open_settings()
    qtbot.waitExposed(dlg)
    dlg.series.setValue(dlg.series.value() + 7)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    box = discard_box(qtbot, dlg)
    qtbot.mouseClick(_named(box, "Keep editing"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dlg.isVisible()
