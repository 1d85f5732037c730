"""Series on the client page and the recall list with its CSV and calendar files, through the windows."""

from __future__ import annotations

import csv
import datetime as dt

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox

from desktop.recall_window import RecallDialog
from desktop.records import Client, ScreeningAnswer
from desktop.series import SeriesPlan, week_end
from desktop.series_widgets import SeriesPlanDialog
from tests.conftest import log_in_as
from tests.test_series_recall import parse

TODAY = dt.date.today()


def at(days_ago: int) -> str:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10)).astimezone().isoformat()


def test_plan_a_series_number_its_sessions_change_and_end_it(qtbot, window, store):
    cid = store.add_client(Client("Lily", "Rossi"))
    for days in (40, 26, 12):
        sid = store.create_session(cid, "Dr K", started_at=at(days))
        store.finish_session(sid, {"duration_s": 1500}, "Dr K")
    # the handpiece never delivered a sample: not a treatment, so no number in the series
    store.finish_session(store.create_session(cid, "Dr K", started_at=at(5)), {}, "Dr K", status="no_samples")
    log_in_as(window, "Dr K")
    window.show_client(cid)
    section = window.client_page.series_section
    assert section.text.text().startswith("Last session")  # no series yet: the old next-due line
    assert not section.change_button.isVisible()

    qtbot.mouseClick(section.new_button, Qt.MouseButton.LeftButton)
    dlg = window.client_page.findChild(SeriesPlanDialog)
    qtbot.waitExposed(dlg)
    assert dlg.planned.value() == 6 and dlg.interval.value() == 14  # clinic settings
    start = TODAY - dt.timedelta(days=26)
    dlg.started.setDate(QDate(start.year, start.month, start.day))
    dlg.interval.setValue(7)
    dlg.save()
    assert dlg.errors["interval_days"].isVisible() and "minimum" in dlg.errors["interval_days"].text()
    assert store.series_plans(cid) == []
    dlg.interval.setValue(14)
    dlg.note.setText("acne scars, both cheeks")
    with qtbot.waitSignal(dlg.saved, timeout=5000):
        dlg.save()

    (plan,) = store.series_plans(cid)
    assert (plan.started_on, plan.planned_sessions, plan.interval_days) == (start, 6, 14)
    model = window.client_page.sessions
    numbers = [model.data(model.index(r, 1)) for r in range(model.rowCount())]
    assert numbers == ["—", "2 of 6", "1 of 6", "—"]  # newest first; the first visit was before the series
    due = TODAY - dt.timedelta(days=12) + dt.timedelta(days=14)
    assert section.text.text().endswith(f"2 of 6 done; session 3 due {due.day} {due:%b %Y}.")

    change = section.edit(new=False)
    change.planned.setValue(8)
    change.save()
    assert [model.data(model.index(r, 1)) for r in range(1, 3)] == ["2 of 8", "1 of 8"]

    box = section.end()
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert store.series_plans(cid)[0].ended_on is None
    section.end().button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: store.series_plans(cid)[0].ended_on == TODAY)
    assert "ended" in section.text.text() and not section.end_button.isVisible()


def make_recall_data(store):
    """Three clients in a series: one overdue, one due this week, one blocked by a cold sore."""
    ids = {}
    this_week = 14 - (6 - TODAY.weekday())  # a fortnight before this Sunday: due on it
    clients = (
        ("Overdue", 30, "+44 7700 900001"),
        ("Due", this_week, "07700 900002"),
        ("Blocked", 20, "07700 900003"),
    )
    for name, last_days_ago, phone in clients:
        cid = store.add_client(Client("Ann", name, phone=phone, email=f"{name.lower()}@example.org"))
        store.save_series(SeriesPlan(cid, TODAY - dt.timedelta(days=60), 6, 14), "Dr K")
        store.finish_session(store.create_session(cid, "Dr K", started_at=at(last_days_ago)), {}, "Dr K")
        ids[name] = cid
    store.save_screening(ids["Blocked"], [ScreeningAnswer("cold_sores")])
    return ids


def test_recall_list_leaves_out_the_blocked_and_exports_csv_and_ics(qtbot, window, store, tmp_path):
    ids = make_recall_data(store)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dlg = window.findChild(RecallDialog)
    qtbot.waitExposed(dlg)
    assert dlg.model.rowCount() == 2
    names = [dlg.model.data(dlg.model.index(r, 0)) for r in range(2)]
    assert names == ["Overdue, Ann", "Due, Ann"]  # most overdue first
    assert "16 d overdue" in dlg.model.data(dlg.model.index(0, 4))
    assert dlg.model.data(dlg.model.index(0, 4), Qt.ItemDataRole.ForegroundRole) is not None
    assert dlg.left_out_view.isVisible() and dlg.left_out_model.rowCount() == 1
    assert "Active cold sores" in dlg.left_out_model.data(dlg.left_out_model.index(0, 5))
    assert "2 clients to call, 1 of them overdue" in dlg.summary.text()
    assert f"Due by {week_end(TODAY).day}" in dlg.summary.text()

    path = dlg.export("csv", tmp_path / "recall.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets read "Müller" right
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert [r[0] for r in rows] == ["Last name", "Overdue", "Due"]
    assert rows[1][2] == "+44 7700 900001"

    ics = dlg.export("ics", tmp_path / "recall.ics")
    events = parse(ics.read_bytes().decode("utf-8"))
    assert [e["SUMMARY"] for e in events] == [
        "Recall Ann Overdue: session 2 of 6",
        "Recall Ann Due: session 2 of 6",
    ]
    assert events[0]["DTSTART;VALUE=DATE"] == f"{TODAY:%Y%m%d}"  # overdue: today, not in the past
    assert "Phone: +44 7700 900001" in events[0]["DESCRIPTION"]
    assert len({e["UID"] for e in events}) == 2 and all(
        e["UID"].endswith(store.database_id()) for e in events
    )

    # next week's clients come in when the horizon grows
    dlg.horizon.setCurrentIndex(1)
    assert dlg.model.rowCount() >= 2

    # double-click opens the client
    with qtbot.waitSignal(dlg.open_client, timeout=5000) as opened:
        dlg.view.activated.emit(dlg.model.index(0, 0))
    assert opened.args == [ids["Overdue"]]
    qtbot.waitUntil(
        lambda: window.client_page.client is not None and window.client_page.client.id == ids["Overdue"]
    )


def test_a_file_that_cannot_be_written_is_told_and_nothing_is_left_behind(qtbot, window, store, tmp_path):
    make_recall_data(store)
    dlg = window.open_recall()
    assert dlg.export("csv", tmp_path / "no such folder" / "recall.csv") is None
    qtbot.waitUntil(lambda: dlg.error.isVisible())
    assert "could not be written" in dlg.error.text() and "No such file or directory" in dlg.error.text()
    dlg.error.accept()
    # the chosen name is a folder: the whole file is written beside it first, then it cannot replace it
    out = tmp_path / "exports"
    (out / "recall.ics").mkdir(parents=True)
    assert dlg.export("ics", out / "recall.ics") is None
    assert "could not be written" in dlg.error.text()
    assert [p.name for p in out.iterdir()] == ["recall.ics"]  # no half-written temp file
    assert list((out / "recall.ics").iterdir()) == []
