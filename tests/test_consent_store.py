"""Consent forms, signed consents, the client's questionnaire and series in a real SQLite file."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.consent import DEFAULT_TEMPLATE_CODE, LEGACY, SIGNED, Consent
from desktop.questionnaire import YES, ClientAnswer, Difference
from desktop.records import Client, ScreeningAnswer
from desktop.series import SeriesPlan, number_sessions, progress
from desktop.store import NotFoundError, Store, StoreBugError
from desktop.store.migrations import MIGRATION_NAMES

D = dt.date
STROKES = [[(20.0 + x, 80.0 + (x % 20), 0.5, x) for x in range(0, 200, 5)]]


JUNE_1 = D(2026, 6, 1)


def signed(client_id: int, on: D = JUNE_1, **kw) -> Consent:
    fields = dict(
        client_id=client_id,
        kind=SIGNED,
        signed_on=on,
        witnessed_by="Dr K",
        title="Consent to medical microdermabrasion",
        text="What the treatment is…",
        template_code=DEFAULT_TEMPLATE_CODE,
        template_version=1,
        signer_name="Ada Lovelace",
        signature_png=b"\x89PNG fake",
        strokes=STROKES,
        pad_size=(600, 200),
    )
    return Consent(**(fields | kw))


def test_old_consent_dates_become_honest_records_and_the_columns_go(tmp_path):
    path = tmp_path / "old.db"
    old = Store.open(path, stop_before=next(n for n in MIGRATION_NAMES if n.endswith("_signed_consent")))
    for first, date, witness in (
        ("Ada", "2025-03-04", "Dr K"),
        ("Bo", None, None),
        ("Cy", "2024-01-02", ""),
        ("Di", "03/04/2025", "Dr K"),  # typed into the file by something else: not a date
        ("Ed", "", "Nurse L"),  # a witness without a date
        ("Fa", "2025-02-30", "Dr K"),  # no such day
    ):
        old.db["clients"].insert(
            {
                "first_name": first,
                "last_name": "Old",
                "sensitivity": "normal",
                "vacuum_ceiling_kpa": 45.0,
                "archived": 0,
                "consent_date": date,
                "consent_witness": witness,
            }
        )
    old.close()

    store = Store.open(path)
    cols = {r[1] for r in store.conn.execute("PRAGMA table_info(clients)")}
    assert "consent_date" not in cols and "consent_witness" not in cols
    ids = {r["first_name"]: r["id"] for r in store._q("SELECT id, first_name FROM clients")}
    (ada,) = store.consents(ids["Ada"])
    assert (ada.kind, ada.signed_on, ada.witnessed_by) == (LEGACY, D(2025, 3, 4), "Dr K")
    assert ada.text == "" and ada.signature_png is None and ada.strokes is None  # nothing made up
    assert store.consents(ids["Bo"]) == []
    assert store.consents(ids["Cy"])[0].witnessed_by == ""
    for name, date, witness in (
        ("Di", "03/04/2025", "Dr K"),
        ("Ed", "", "Nurse L"),
        ("Fa", "2025-02-30", "Dr K"),
    ):
        assert store.consents(ids[name]) == []  # no record with a made-up date…
        (entry,) = store.change_log("client", ids[name])  # …and nothing dropped either
        assert entry.action == "consent not migrated"
        assert (entry.details["consent_date"], entry.details["consent_witness"]) == (date, witness)
    status = store.consent_status(ids["Ada"], D(2025, 9, 1))
    assert status.ok and "before signed consent existed" in status.message()
    assert store.consent_status(ids["Bo"], D(2025, 9, 1)).state == "missing"
    # the copy taken before the upgrade still has the columns as they were
    backup = sqlite3.connect(store.backup_path)
    assert backup.execute("SELECT consent_witness FROM clients WHERE first_name = 'Ada'").fetchone() == (
        "Dr K",
    )
    backup.close()
    store.close()


def test_signed_consent_round_trip_and_it_never_changes(store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    consent_id = store.add_consent(signed(cid), "Dr K")
    c = store.consent(consent_id)
    assert (c.kind, c.signed_on, c.witnessed_by, c.template_version) == (SIGNED, D(2026, 6, 1), "Dr K", 1)
    assert c.text == "What the treatment is…" and c.signature_png == b"\x89PNG fake"
    assert c.strokes == [list(s) for s in STROKES] and c.pad_size == (600, 200)
    assert c.signed_at and c.recorded_at
    (listed,) = store.consents(cid)  # the list: who, when, which form; not the text or the ink
    assert (listed.id, listed.witnessed_by, listed.template_version) == (consent_id, "Dr K", 1)
    assert listed.signature_png is None and listed.strokes is None and listed.text == ""
    with pytest.raises(sqlite3.IntegrityError, match="never changes"):
        store.conn.execute("UPDATE consents SET text = 'something else' WHERE id = ?", [consent_id])
    store.conn.rollback()
    assert store.consent(consent_id).text == "What the treatment is…"
    assert [e.action for e in store.change_log("client", cid)][-1] == "consent"
    with pytest.raises(NotFoundError):
        store.consent(999)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"strokes": []}, "not signed"),
        ({"strokes": [[(1.0, 1.0, 0.5, 0)]]}, "tap or a dot"),
        ({"signature_png": None}, "image is missing"),
        ({"text": " "}, "keeps the text"),
        ({"witnessed_by": ""}, "witnessed"),
        ({"kind": LEGACY}, "only signed consents"),
    ],
)
def test_an_incomplete_consent_is_refused_and_nothing_is_stored(store, change, message):
    cid = store.add_client(Client("Ada", "Lovelace"))
    with pytest.raises(ValueError, match=message):
        store.add_consent(signed(cid, **change), "Dr K")
    assert store.consents(cid) == []


def test_the_table_itself_refuses_a_signed_consent_without_a_signature(store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.conn.execute(
            "INSERT INTO consents (client_id, kind, signed_on, witnessed_by, text, recorded_at) "
            "VALUES (?, 'signed', '2026-01-01', 'Dr K', 'text', '2026-01-01')",
            [cid],
        )


def test_latest_consent_and_validity_setting(store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    store.add_consent(signed(cid, D(2025, 1, 10)), "Dr K")
    store.add_consent(signed(cid, D(2026, 1, 10)), "Dr K")
    assert [c.signed_on for c in store.consents(cid)] == [D(2026, 1, 10), D(2025, 1, 10)]
    assert store.consent_status(cid, D(2026, 8, 1)).until == D(2027, 1, 9)
    store.set_setting("consent_validity_months", 6, "Dr K")
    assert store.consent_status(cid, D(2026, 8, 1)).state == "expired"


def test_forms_are_versioned_and_old_versions_never_change(store):
    (default,) = store.consent_templates()
    assert default.code == DEFAULT_TEMPLATE_CODE and default.version == 1
    v2 = store.save_consent_template(
        default.code, default.title, default.body + "\nAlso: no make-up for a day.", "Dr K"
    )
    assert (v2.code, v2.version) == (default.code, 2)
    same = store.save_consent_template(default.code, v2.title, v2.body, "Dr K")
    assert same.version == 2  # nothing changed: no new version
    assert [t.version for t in store.consent_template_versions(default.code)] == [2, 1]
    assert store.consent_template_versions(default.code)[1].body == default.body
    assert [t.version for t in store.consent_templates()] == [2]
    with pytest.raises(sqlite3.IntegrityError, match="never changes"):
        store.conn.execute("UPDATE consent_templates SET body = 'x' WHERE id = ?", [default.id])
    store.conn.rollback()
    peel = store.save_consent_template(
        None, "Consent — Crystal microdermabrasion", "Crystals are… " * 5, "Dr K"
    )
    assert peel.code == "consent_crystal_microdermabrasion" and peel.version == 1
    again = store.save_consent_template(None, "Consent — Crystal microdermabrasion", "Another text… " * 5)
    assert again.code == "consent_crystal_microdermabrasion_2"
    store.set_consent_template_active(peel.code, False, "Dr K")
    assert peel.code not in [t.code for t in store.consent_templates()]
    assert peel.code in [t.code for t in store.consent_templates(include_retired=True)]
    with pytest.raises(ValueError, match="title"):
        store.save_consent_template(default.code, "", default.body)
    with pytest.raises(NotFoundError):
        store.save_consent_template("nope", "Title", "x" * 60)


def test_reviewed_screening_keeps_both_and_is_all_or_nothing(store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    said = [
        ClientAnswer("isotretinoin", "Have you ever taken isotretinoin tablets…?", YES, False, D(2026, 2, 1))
    ]
    confirmed = [ScreeningAnswer("isotretinoin", None, D(2026, 2, 1), "checked with GP letter")]
    diffs = [
        Difference("isotretinoin", "Isotretinoin (oral)", "not recorded", "Yes, stopped 1 Feb 2026", False)
    ]
    qid = store.save_reviewed_screening(cid, "2026-06-10T10:00:00+01:00", said, confirmed, diffs, "Dr K")
    assert store.screening(cid) == confirmed
    (q,) = store.questionnaires(cid)
    assert q.id == qid and q.answers == said and q.reviewed_by == "Dr K" and q.reviewed_at
    assert q.confirmed == confirmed and q.differences == diffs
    # an answer the schema refuses (an unknown item) rolls the questionnaire back with it
    with pytest.raises(StoreBugError, match="FOREIGN KEY"):
        store.save_reviewed_screening(
            cid, "2026-06-11T10:00:00+01:00", said, [ScreeningAnswer("nope")], [], "Dr K"
        )
    assert len(store.questionnaires(cid)) == 1 and store.screening(cid) == confirmed


def test_a_new_series_ends_the_open_one_and_cannot_start_before_it(store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    first = store.save_series(SeriesPlan(cid, D(2026, 1, 5), 6, 14), "Dr K")
    with pytest.raises(ValueError, match="after the last one began"):
        store.save_series(SeriesPlan(cid, D(2026, 1, 5), 6, 14), "Dr K")
    second = store.save_series(SeriesPlan(cid, D(2026, 4, 1), 8, 21, note="cheeks"), "Dr K")
    plans = store.series_plans(cid)
    assert [(p.id, p.ended_on) for p in plans] == [(first, D(2026, 3, 31)), (second, None)]
    store.save_series(SeriesPlan(cid, D(2026, 4, 1), 10, 21, note="cheeks", id=second), "Dr K")
    assert store.series_plans(cid)[1].planned_sessions == 10
    store.end_series(second, D(2026, 3, 1), "Dr K")  # before its start: it ends the day it began
    assert store.series_plans(cid)[1].ended_on == D(2026, 4, 1)
    actions = [e.action for e in store.change_log("client", cid)]
    assert actions.count("series planned") == 2 and "series ended" in actions and "series changed" in actions


def test_recall_candidates_come_with_progress_and_screening(store):
    a = store.add_client(Client("Ann", "Due", phone="07700 900123"))
    b = store.add_client(Client("Bea", "Archived"))
    c = store.add_client(Client("Cy", "NoSeries"))
    store.save_series(SeriesPlan(a, D(2026, 5, 1), 6, 14), "Dr K")
    store.save_series(SeriesPlan(b, D(2026, 5, 1), 6, 14), "Dr K")
    store.set_archived(b, True)
    for day in ("2026-04-20", "2026-05-01", "2026-05-15"):  # the first is before the series
        store.create_session(a, "Dr K", started_at=f"{day}T10:00:00+01:00")
    store.create_session(c, "Dr K", started_at="2026-05-15T10:00:00+01:00")
    store.save_screening(a, [ScreeningAnswer("cold_sores")])
    (cand,) = store.recall_candidates()
    assert (cand.client_id, cand.phone) == (a, "07700 900123")
    assert cand.progress.done == 2 and cand.progress.next_due == D(2026, 5, 29)
    assert cand.answers == [ScreeningAnswer("cold_sores")]
    assert len(store.database_id()) == 32


def test_a_series_cannot_be_moved_across_another(store):
    cid = store.add_client(Client("Ada", "Lovelace"))
    store.save_series(SeriesPlan(cid, D(2026, 1, 5), 6, 14), "Dr K")
    second = store.save_series(SeriesPlan(cid, D(2026, 4, 1), 6, 14), "Dr K")
    with pytest.raises(ValueError, match="across another one"):
        store.save_series(SeriesPlan(cid, D(2026, 1, 1), 6, 14, id=second), "Dr K")
    with pytest.raises(ValueError, match="across another one"):
        store.save_series(SeriesPlan(cid, D(2026, 1, 5), 6, 14, id=second), "Dr K")
    store.save_series(SeriesPlan(cid, D(2026, 3, 20), 6, 14, id=second), "Dr K")  # still after the first
    assert store.series_plans(cid)[1].started_on == D(2026, 3, 20)


@settings(max_examples=25, deadline=None)
@given(
    # a small span of days, so sessions often fall on a series' first day or just before it
    st.lists(st.integers(0, 30), min_size=1, max_size=3, unique=True),
    st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=8),
)
def test_recall_counts_a_series_sessions_as_the_client_page_numbers_them(tmp_path_factory, starts, days):
    """The recall query counts the open series' sessions in SQL; the client page numbers sessions with
    ``number_sessions``: both must agree whatever the series and the session dates."""
    store = _RECALL_STORE.get("s") or _RECALL_STORE.setdefault(
        "s", Store.open(tmp_path_factory.mktemp("recall") / "r.db")
    )
    store.conn.execute("UPDATE treatment_series SET ended_on = started_on WHERE ended_on IS NULL")
    store.conn.commit()  # the previous examples' clients leave the recall list
    cid = store.add_client(Client("Ann", "Series"))
    base = D(2026, 1, 1)
    for start in sorted(starts):
        store.save_series(SeriesPlan(cid, base + dt.timedelta(days=start), 30, 14), "Dr K")
    sessions = []
    for day, no_samples in days:
        at = dt.datetime.combine(base + dt.timedelta(days=day), dt.time(10)).astimezone().isoformat()
        sid = store.create_session(cid, "Dr K", started_at=at)
        if no_samples:  # the handpiece never delivered a sample: not a treatment, not counted
            store.finish_session(sid, {}, "Dr K", status="no_samples")
        else:
            sessions.append((sid, base + dt.timedelta(days=day)))
    plans = store.series_plans(cid)
    numbers = number_sessions(sessions, plans)
    (cand,) = store.recall_candidates()
    mine = [day for sid, day in sessions if sid in numbers and numbers[sid].series_id == plans[-1].id]
    assert cand.progress.plan.id == plans[-1].id
    assert cand.progress.done == len(mine)
    assert cand.progress.last == (max(mine) if mine else None)
    assert cand.progress == progress(plans[-1], [d for _, d in sessions], plans)


_RECALL_STORE: dict = {}
