"""Dates typed the way practitioners type them, calendars that open where they are needed, empty
dates that look empty, and a typed non-date that is refused at its field instead of becoming "no date"."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtWidgets import QTableView

from desktop.client_form import ClientDialog
from desktop.dates import DateTextError, month_table, order_of, parse_typed_date
from desktop.fields import BIRTH_YEARS_BACK, DateField
from desktop.records import Client

TODAY = dt.date(2026, 3, 2)
MAY14 = dt.date(1985, 5, 14)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("14/05/1985", "DMY", MAY14),
        ("14.5.85", "DMY", MAY14),
        ("5/14/85", "MDY", MAY14),
        ("1985-05-14", "MDY", MAY14),  # ISO whatever the locale
        ("1985-5-14", "DMY", MAY14),
        ("85/05/14", "YMD", MAY14),
        ("14 May 1985", "MDY", MAY14),
        ("May 14, 1985", "DMY", MAY14),
        ("14 may 85", "DMY", MAY14),
        ("14 Sept 1985", "DMY", dt.date(1985, 9, 14)),
        ("  today ", "DMY", TODAY),
        ("", "DMY", None),
        ("2 Mar 1899", "DMY", dt.date(1899, 3, 2)),  # no sentinel: any real date
    ],
)
def test_typed_dates(text, order, expected):
    assert parse_typed_date(text, TODAY, order, past=True) == expected


def test_the_locales_own_month_names():
    french = month_table([
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ])  # fmt: skip
    assert parse_typed_date("14 mai 1985", TODAY, "DMY", french) == MAY14
    assert parse_typed_date("3 févr. 2026", TODAY, "DMY", french) == dt.date(2026, 2, 3)


def test_two_digit_years():
    assert parse_typed_date("1/1/30", TODAY, "DMY", past=True) == dt.date(1930, 1, 1)  # born
    assert parse_typed_date("1/1/30", TODAY, "DMY") == dt.date(2030, 1, 1)  # e.g. a treatment end
    assert parse_typed_date("1/1/26", TODAY, "DMY", past=True) == dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("31/02/2025", "no day 31 in February 2025"),
        ("13/13/2020", "no month 13"),
        ("banana", "Type a date like"),
        ("14 bananas 1985", "not a month"),
        ("14 Ma 1985", "not a month"),  # "ma": March or May?
        ("12/2020", "Type a date like"),
        ("1/1/198", "4 digits"),
    ],
)
def test_what_is_not_a_date_says_why(text, words):
    with pytest.raises(DateTextError, match=words):
        parse_typed_date(text, TODAY, "DMY")


def test_locale_orders():
    assert order_of("dd/MM/yyyy") == "DMY"
    assert order_of("M/d/yy") == "MDY"
    assert order_of("yyyy-MM-dd") == "YMD"


def field(qtbot, locale="en_US", **kw) -> DateField:
    f = DateField(locale=QLocale(locale), today=lambda: TODAY, **kw)
    qtbot.addWidget(f)
    f.show()
    qtbot.waitExposed(f)
    return f


def test_the_field_reads_the_locale_short_format_and_shows_what_it_understood(qtbot):
    us, uk = field(qtbot, "en_US"), field(qtbot, "en_GB")
    for f, text in ((us, "5/14/1985"), (uk, "14/05/1985")):
        f.setFocus()
        qtbot.keyClicks(f, text)
        assert f.value() == MAY14
        f.clearFocus()
        f.editingFinished.emit()
        assert f.text() == "14 May 1985"  # unambiguous once typed


def test_an_empty_date_is_visibly_empty(qtbot):
    f = field(qtbot)
    assert f.text() == "" and f.value() is None and f.error() == ""
    assert f.placeholderText().startswith("not set")
    f.set_value(MAY14)
    f.set_value(None)
    assert f.text() == ""
    qtbot.keyClicks(f, "2")  # typing into an empty date: what was typed, nothing invented
    assert f.text() == "2"
    assert "Type a date" in f.error()


def test_calendars_open_on_today_or_on_a_sensible_birth_year(qtbot):
    consent = field(qtbot)
    cal = consent.open_calendar()
    assert cal.selectedDate() == QDate(2026, 3, 2)
    assert (cal.yearShown(), cal.monthShown()) == (2026, 3)
    consent.popup.hide()
    birth = field(qtbot, birth=True)
    cal = birth.open_calendar()
    assert cal.yearShown() == 2026 - BIRTH_YEARS_BACK
    birth.popup.hide()
    birth.set_value(dt.date(1899, 3, 2))
    assert (birth.open_calendar().yearShown(), birth.calendar.monthShown()) == (1899, 3)
    birth.calendar.clicked.emit(QDate(1899, 3, 20))
    assert birth.value() == dt.date(1899, 3, 20) and not birth.popup.isVisible()


def test_alt_down_opens_the_calendar_and_enter_picks(qtbot):
    f = field(qtbot)
    f.setFocus()
    qtbot.keyClick(f, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: f.popup is not None and f.popup.isVisible())
    grid = f.calendar.findChild(QTableView)  # the day grid has the focus
    qtbot.keyClick(grid, Qt.Key.Key_Right)  # 3 March
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not f.popup.isVisible())
    assert f.value() == dt.date(2026, 3, 3)


def test_a_typed_non_date_is_refused_at_its_field_and_kept(qtbot, window):
    dlg = window.new_client()
    qtbot.keyClicks(dlg.last_name, "Datewise")
    qtbot.keyClicks(dlg.date_of_birth, "31/02/1990")
    box, _since, ended, _note = dlg.screening.rows["isotretinoin"]
    box.setChecked(True)
    qtbot.keyClicks(ended, "32 Sep 2026")
    dlg.save()
    assert dlg.isVisible()
    assert "no day 31 in February 1990" in dlg.errors["date_of_birth"].text()
    assert "Isotretinoin (oral), ended" in dlg.errors["screening"].text()
    assert ended.property("invalid") == "true"
    assert dlg.date_of_birth.text() == "31/02/1990"  # what was typed is still there to correct
    assert window.store.count_clients() == 0
    dlg.date_of_birth.clear()
    qtbot.keyClicks(dlg.date_of_birth, "28 Feb 1990")
    ended.clear()
    qtbot.keyClicks(ended, "2026-09-25")
    dlg.save()
    qtbot.waitUntil(lambda: not dlg.isVisible())
    cid = window.client_page.client.id
    assert window.store.client(cid).date_of_birth == dt.date(1990, 2, 28)
    assert window.store.screening(cid)[0].ended == dt.date(2026, 9, 25)


def test_a_date_before_1900_survives_the_form(qtbot, store):
    cid = store.add_client(Client("Old", "Record", date_of_birth=dt.date(1899, 12, 31)))
    dlg = ClientDialog(store, store.client(cid))
    qtbot.addWidget(dlg)
    assert dlg.date_of_birth.value() == dt.date(1899, 12, 31)
    assert dlg.date_of_birth.text() == "31 Dec 1899"


def test_a_date_range_is_kept_and_said(qtbot):
    f = field(qtbot)
    f.setMaximumDate(QDate(2026, 3, 2))  # e.g. "when did it end?": not in the future
    qtbot.keyClicks(f, "3 Mar 2026")
    assert f.value() is None and f.error() == "The date cannot be after 2 Mar 2026."
    cal = f.open_calendar()
    assert cal.maximumDate() == QDate(2026, 3, 2) and cal.selectedDate() <= QDate(2026, 3, 2)
    f.popup.hide()
    f.setDate(QDate(2026, 2, 1))  # QDateEdit's setter, for code written against it
    assert f.value() == dt.date(2026, 2, 1) and f.error() == ""
