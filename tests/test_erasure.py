"""Erasing a client in a real SQLite file: what goes, what stays, and that the bytes are really gone."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.records import Client, ScreeningAnswer, add_months
from desktop.series import SeriesPlan
from desktop.store import BUSY_TIMEOUT_MS, NotFoundError, Store, trace
from tests.conftest import log_in_as
from tests.test_consent_store import signed

D = dt.date
TODAY = dt.date.today()
PHONE, EMAIL = "07700 913572", "rarely.seen.address@example.org"
NAME = "Quillfeather"


def file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    wal = Path(f"{path}-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def leaked(raw: bytes, *secrets: str) -> list[str]:
    """Which of ``secrets`` can still be read in the raw bytes (a short list, not a megabyte diff)."""
    return [x for x in secrets if x.encode() in raw]


def make_client(store: Store, treated_days_ago: int | None) -> tuple[int, list[int]]:
    cid = store.add_client(
        Client("Zebedee", NAME, phone=PHONE, email=EMAIL, notes="Nervous about suction"), "Dr K"
    )
    store.save_screening(cid, [ScreeningAnswer("rosacea", note="flares")], "Dr K")
    store.add_consent(signed(cid, TODAY - dt.timedelta(days=400)), "Dr K")
    store.save_series(SeriesPlan(cid, TODAY - dt.timedelta(days=500), 6, 14), "Dr K")
    client = store.client(cid)
    client.email = EMAIL.replace("rarely", "still.rarely")  # an edit: the change log holds both
    store.update_client(client, "Dr K")
    sessions = []
    if treated_days_ago is not None:
        day = dt.datetime.combine(TODAY - dt.timedelta(days=treated_days_ago), dt.time(10)).astimezone()
        sid = store.create_session(
            cid, "Dr K", started_at=day.isoformat(timespec="seconds"), areas=["cheeks"]
        )
        n = 200
        block = trace.pack(np.arange(n), 10 + np.arange(n) / 100, np.full(n, 30.0), np.full(n, 3, np.uint8))
        store.append_trace(sid, 0, [block])
        store.add_marker(sid, 1.0, "left cheek")
        store.save_alarm(sid, {"priority": "high", "kind": "ceiling", "message": "over", "started": 1.0})
        store.finish_session(sid, {"duration_s": 60}, "Dr K")
        sessions.append(sid)
    return cid, sessions


def test_a_client_never_treated_is_erased_completely_and_unreadably(tmp_path):
    path = tmp_path / "a.db"
    store = Store.open(path)
    other = store.add_client(Client("Other", "Person", phone="07700 900001"))
    cid, _ = make_client(store, None)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert EMAIL.encode() in file_bytes(path)  # the test looks for something that was there
    # Debian's SQLite overwrites deleted bytes by default, python.org's Windows build does not
    store.conn.execute("PRAGMA secure_delete = OFF")

    outcome = store.erase_client(cid, TODAY, "Dr K", "letter of 3 May, identity checked")
    plan = outcome.plan
    assert outcome.log_emptied
    assert store.conn.execute("PRAGMA secure_delete").fetchone()[0] == 0  # the setting is put back
    # while the app still has the file open
    assert leaked(file_bytes(path), EMAIL, PHONE, "913572", NAME, "Nervous about suction", "flares") == []
    assert plan.full
    with pytest.raises(NotFoundError):
        store.client(cid)
    for table in ("consents", "screening_answers", "treatment_series", "screening_questionnaires"):
        assert (
            store.conn.execute(f"SELECT count(*) FROM {table} WHERE client_id = ?", [cid]).fetchone()[0] == 0
        )
    assert store.search_clients(NAME) == [] and store.search_clients("913572") == []
    assert store.client(other).name == "Other Person"  # nobody else is touched
    log = store.change_log("client", cid)
    assert all(e.details == {"erased": True} for e in log[:-1])
    assert log[-1].action == "erase" and log[-1].details["reason"] == "letter of 3 May, identity checked"
    assert log[-1].details["rows_deleted"]["consents"] == 1
    (record,) = store.erasures(cid)
    assert (record.erased_by, record.scope, record.keep_until, record.erased_on) == (
        "Dr K",
        "full",
        None,
        TODAY,
    )
    assert store.integrity_check() == "ok"
    store.close()
    assert leaked(file_bytes(path), EMAIL, PHONE, "913572", NAME, "Nervous about suction", "flares") == []


def test_recently_treated_client_keeps_the_clinical_record_until_retention_ends(tmp_path):
    path = tmp_path / "a.db"
    store = Store.open(path)
    cid, (sid,) = make_client(store, treated_days_ago=30)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.execute("PRAGMA secure_delete = OFF")

    plan = store.erase_client(cid, TODAY, "Dr K", "email of 2 June").plan
    secrets = (EMAIL, EMAIL.replace("rarely", "still.rarely"), PHONE, "07700913572")
    assert leaked(file_bytes(path), *secrets) == []
    assert not plan.full
    assert plan.keep_until == add_months(TODAY - dt.timedelta(days=30), 8 * 12)
    c = store.client(cid)
    assert (c.phone, c.email, c.archived) == ("", "", True)
    assert c.name == f"Zebedee {NAME}" and c.notes == "Nervous about suction"  # identifies the record
    assert store.session(sid).status == "completed"
    assert len(store.load_trace(sid)["vacuum"]) == 200 and store.markers(sid) and store.alarms(sid)
    assert len(store.consents(cid)) == 1 and store.screening(cid)
    assert store.series_plans(cid)[0].ended_on == TODAY  # off the recall list
    assert store.recall_candidates() == []
    assert store.search_clients("913572", archived=True) == []
    for entry in store.change_log("client", cid):
        text = json.dumps(entry.details)
        assert "913572" not in text and "example.org" not in text
    assert store.change_log("client", cid)[0].details["first_name"] == "Zebedee"  # the rest stays
    store.close()
    assert leaked(file_bytes(path), *secrets, NAME) == [NAME]

    # once the retention period has passed, the rest can be erased
    store = Store.open(path)
    later = plan.keep_until
    assert store.erasure_plan(cid, later).full
    store.erase_client(cid, later, "Dr K", "retention period over")
    with pytest.raises(NotFoundError):
        store.session(sid)
    assert store.conn.execute("SELECT count(*) FROM vacuum_trace_chunks").fetchone()[0] == 0
    assert [e.scope for e in store.erasures(cid)] == ["contact details; clinical record kept", "full"]
    store.close()
    assert leaked(file_bytes(path), NAME) == []


def test_a_reader_holding_the_log_is_waited_for_briefly_and_the_log_empties_when_it_goes(tmp_path):
    path = tmp_path / "a.db"
    store = Store.open(path)
    cid, _ = make_client(store, None)
    reader = sqlite3.connect(path)  # another window's connection, in the middle of a read
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM clients").fetchone()
    outcome = store.erase_client(cid, TODAY, "Dr K", "request")
    assert outcome.full and not outcome.log_emptied  # said, not waited on for the full busy timeout
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS  # put back
    reader.rollback()
    reader.close()
    store.close()  # the last connection checkpoints and removes the log
    assert leaked(file_bytes(path), EMAIL, PHONE, NAME) == []


def test_a_table_added_later_is_erased_through_its_foreign_keys(store):
    """A table added later that refers to sessions and clients: erasure finds it by the schema."""
    store.conn.executescript(
        """CREATE TABLE later_items (id INTEGER PRIMARY KEY, client_id INTEGER REFERENCES clients(id),
                                session_id INTEGER REFERENCES treatment_sessions(id), jpeg BLOB);
           CREATE TABLE later_thumbs (photo_id INTEGER REFERENCES later_items(id), png BLOB);"""
    )
    cid, (sid,) = make_client(store, treated_days_ago=9 * 366)
    pid = store.conn.execute(
        "INSERT INTO later_items (client_id, session_id, jpeg) VALUES (?, ?, x'ffd8')", [cid, sid]
    ).lastrowid
    store.conn.execute("INSERT INTO later_thumbs VALUES (?, x'89')", [pid])
    store.conn.commit()
    counts = store.erasure_counts(cid)
    assert counts["later_items"] == 2  # one by the client, one by the session
    assert (
        counts["later_thumbs"] == 2
        and counts["treatment_sessions"] == 1
        and counts["vacuum_trace_chunks"] == 1
    )
    assert store.erase_client(cid, TODAY, "Dr K", "request").full  # treated 9 years ago
    assert store.conn.execute("SELECT count(*) FROM later_items").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM later_thumbs").fetchone()[0] == 0


def test_a_session_without_samples_is_no_treatment_for_the_retention_period(store):
    cid, _ = make_client(store, treated_days_ago=9 * 366)  # long enough ago: nothing must be kept
    day = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(10)).astimezone().isoformat()
    store.finish_session(store.create_session(cid, "Dr K", started_at=day), {}, "Dr K", status="no_samples")
    assert store.last_treatment(cid) == TODAY - dt.timedelta(days=9 * 366)
    assert store.erasure_plan(cid, TODAY).full


def test_erasure_refuses_while_a_session_records_and_for_unknown_clients(store):
    cid = store.add_client(Client("A", "B", phone="07700 900555"))
    store.create_session(cid, "Dr K")  # status 'recording'
    with pytest.raises(ValueError, match="being recorded"):
        store.erase_client(cid, TODAY, "Dr K", "request")
    assert store.client(cid).phone == "07700 900555"
    assert store.erasures(cid) == []
    with pytest.raises(NotFoundError):
        store.erase_client(9999, TODAY, "Dr K", "request")


# -- through the windows ---------------------------------------------------------------------------


def test_erase_from_the_clients_menu_asks_for_the_request_and_who(qtbot, window, store):
    from desktop.erasure_dialog import EraseClientDialog

    cid, _ = make_client(store, treated_days_ago=None)
    log_in_as(window, "Dr K")
    assert not window.erase_action.isEnabled()  # only from a client's page
    window.show_client(cid)
    assert window.erase_action.isEnabled()
    window.erase_action.trigger()
    dlg = window.findChild(EraseClientDialog)
    qtbot.waitExposed(dlg)
    assert "never treated" in dlg.summary.text()
    assert "1 consent as signed" in dlg.gone.text() and not dlg.kept.isVisible()
    qtbot.mouseClick(dlg.erase_button, Qt.MouseButton.LeftButton)
    assert dlg.reason_error.isVisible() and dlg.confirm_error.isVisible()
    assert store.client(cid).phone == PHONE  # nothing erased without the request recorded
    qtbot.keyClicks(dlg.reason, "letter of 3 May")
    dlg.confirm.setChecked(True)
    with qtbot.waitSignal(dlg.erased, timeout=5000) as erased:
        qtbot.mouseClick(dlg.erase_button, Qt.MouseButton.LeftButton)
    assert erased.args == [cid, True]
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.list_page)
    assert store.search_clients(NAME) == [] and store.search_clients(NAME, archived=True) == []
    assert store.erasures(cid)[0].reason == "letter of 3 May"
    assert store.erasures(cid)[0].erased_by == "Dr K"  # the logged-in person, never typed text


def test_a_partly_erased_client_page_says_so_and_cannot_be_treated_or_edited(qtbot, window, store):
    cid, (sid,) = make_client(store, treated_days_ago=100)
    log_in_as(window, "Dr K")
    window.show_client(cid)
    dlg = window.erase_client()
    qtbot.waitExposed(dlg)
    assert "must keep the clinical record until" in dlg.summary.text()
    assert dlg.kept.isVisible() and "1 treatment session with their traces" in dlg.kept.text()
    dlg.reason.setText("email of 2 June")
    dlg.confirm.setChecked(True)
    with qtbot.waitSignal(dlg.erased, timeout=5000):
        dlg.erase()
    page = window.client_page
    qtbot.waitUntil(lambda: page.erased_note.isVisible())
    assert (
        "Erased at the client's request" in page.erased_note.text() and "by Dr K" in page.erased_note.text()
    )
    assert not page.start_button.isEnabled() and not page.edit_button.isEnabled()
    assert not page.archive_button.isEnabled()
    assert PHONE not in page.details.text() and "(archived)" in page.name.text()
    assert page.sessions.rowCount() == 1 and page.sessions.session_id(0) == sid  # still there to read


def test_the_dialog_says_when_the_log_could_not_be_emptied_yet(qtbot, window, store):
    cid, _ = make_client(store, treated_days_ago=None)
    log_in_as(window, "Dr K")
    window.show_client(cid)
    reader = store.reopen().conn  # say, a review window loading a trace
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM clients").fetchone()
    try:
        dlg = window.erase_client()
        dlg.reason.setText("request by phone, identity checked")
        dlg.confirm.setChecked(True)
        with qtbot.waitSignal(dlg.erased, timeout=5000):
            dlg.erase()
        qtbot.waitUntil(lambda: dlg.note.isVisible())
        assert "some erased bytes stay in its log file" in dlg.note.text()
    finally:
        reader.close()
