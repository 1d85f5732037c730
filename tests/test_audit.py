"""Tamper evidence on real encrypted files: the audit chain and the record seals, attacked through raw
connections that hold the key but not Abrasio's functions (someone using a script or the sqlite3 tool)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading

import pytest

from desktop import accounts
from desktop.records import Client, ScreeningAnswer
from desktop.store import Store, security
from desktop.store.cipher import connect, dbapi

pytestmark = pytest.mark.timeout(120)

PASS = "plum tree in the yard"
INSERT_CLIENT = (
    "INSERT INTO clients (first_name, last_name, sensitivity, vacuum_ceiling_kpa) "
    "VALUES ('X', 'Y', 'normal', 45)"
)


@pytest.fixture
def clinic(tmp_path):
    setup = accounts.create_clinic(tmp_path / "abrasio.db", "Maya Okonkwo", PASS)
    c = setup.clinic
    cid = c.store.add_client(
        Client(
            first_name="Adaeze",
            last_name="Okonkwofischer",
            sensitivity="very_sensitive",
            vacuum_ceiling_kpa=20,
        )
    )
    c.store.save_screening(cid, [ScreeningAnswer("anticoagulants", None, None, "")], who="Maya Okonkwo")
    sid = c.store.create_session(cid, who="Maya Okonkwo", areas=["forehead"])
    c.store.save_notes(sid, {"notes": "calm skin"})
    c.store.finish_session(sid, {"peak_kpa": 19.5}, who="Maya Okonkwo")
    c.audit("open", "client", cid, client_id=cid)
    c.cid, c.sid = cid, sid
    yield c
    c.close()


def raw(clinic):
    """A connection with the right key and nothing else: what a script or a keyed CLI would have."""
    return connect(clinic.store.path, clinic.database_key)


def verify(clinic):
    return security.verify_records(clinic.store.db), security.verify_audit(
        clinic.store.db, clinic.store.protection
    )


def test_a_clinic_written_by_abrasio_verifies(clinic):
    problems, verdict = verify(clinic)
    assert problems == []
    # every write through the store is attributed to the logged-in person, with the fields it touched
    actions = [(e.action, e.record_type, e.client_id) for e in security.audit_entries(clinic.store.db)]
    assert actions == [
        ("add person", "person", None),
        ("set up clinic", "clinic", None),
        ("create", "client", clinic.cid),
        ("screening", "client", clinic.cid),
        ("start", "session", clinic.cid),
        ("completed", "session", clinic.cid),
        ("open", "client", clinic.cid),
    ]
    assert {e.person for e in security.audit_entries(clinic.store.db)} == {"Maya Okonkwo"}
    assert verdict.ok and verdict.entries == 7, verdict.message
    assert security.row_is_sealed(clinic.store.db, "clients", clinic.cid)
    # everything the store does keeps its seals: updates, deletes (screening is replaced), upserts
    c = clinic.store.client(clinic.cid)
    c.notes = "bruises easily"
    clinic.store.update_client(c, who="Maya Okonkwo")
    clinic.store.save_screening(clinic.cid, [], who="Maya Okonkwo")
    clinic.store.set_setting("dwell_alarm_seconds", 2.5, who="Maya Okonkwo")
    assert verify(clinic)[0] == []


def test_raising_a_ceiling_outside_abrasio_is_refused_then_detected(clinic):
    conn = raw(clinic)
    with pytest.raises(dbapi.OperationalError, match="no such function: abrasio_seal"):
        conn.execute("UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = ?", [clinic.cid])
    # the determined way: drop the trigger first
    conn.execute("DROP TRIGGER seal_clients_au")
    conn.execute("UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = ?", [clinic.cid])
    conn.commit()
    conn.close()
    problems, _ = verify(clinic)
    kinds = {(p.table, p.rowid, p.kind) for p in problems}
    assert ("clients", clinic.cid, "changed") in kinds
    assert ("clients", None, "unprotected") in kinds
    assert f"The client #{clinic.cid} was changed outside Abrasio." in [p.describe() for p in problems]
    assert not security.row_is_sealed(clinic.store.db, "clients", clinic.cid)  # the check on read


def test_a_session_deleted_outside_abrasio_is_detected(clinic):
    conn = raw(clinic)
    with pytest.raises(dbapi.OperationalError, match="no such function"):
        conn.execute("DELETE FROM session_notes WHERE session_id = ?", [clinic.sid])
    for t in ("session_notes", "treatment_sessions"):
        conn.execute(f"DROP TRIGGER seal_{t}_ad")
    conn.execute("DELETE FROM session_notes WHERE session_id = ?", [clinic.sid])
    conn.execute("DELETE FROM treatment_sessions WHERE id = ?", [clinic.sid])
    conn.commit()
    conn.close()
    kinds = {(p.table, p.rowid, p.kind) for p in verify(clinic)[0]}
    assert {("treatment_sessions", clinic.sid, "deleted"), ("session_notes", clinic.sid, "deleted")} <= kinds


def test_a_row_and_its_seal_deleted_together_still_show_in_the_count(clinic):
    conn = raw(clinic)
    conn.execute("DROP TRIGGER seal_screening_answers_ad")
    conn.execute("DELETE FROM screening_answers WHERE client_id = ?", [clinic.cid])
    conn.execute("DELETE FROM record_seals WHERE tbl = 'screening_answers'")
    conn.execute("UPDATE seal_counts SET n = n - 1 WHERE tbl = 'screening_answers'")  # cannot re-MAC it
    conn.commit()
    conn.close()
    problems = verify(clinic)[0]
    assert ("screening_answers", None, "count") in {(p.table, p.rowid, p.kind) for p in problems}


def test_notes_rewritten_and_a_client_inserted_outside_abrasio_are_detected(clinic):
    conn = raw(clinic)
    with pytest.raises(dbapi.OperationalError, match="no such function"):
        conn.execute(INSERT_CLIENT)
    conn.execute("DROP TRIGGER seal_clients_ai")
    conn.execute("DROP TRIGGER seal_session_notes_au")
    new = conn.execute(INSERT_CLIENT).lastrowid
    conn.execute("UPDATE session_notes SET notes = 'no reaction' WHERE session_id = ?", [clinic.sid])
    conn.commit()
    conn.close()
    kinds = {(p.table, p.rowid, p.kind) for p in verify(clinic)[0]}
    assert {
        ("clients", new, "unsealed"),
        ("session_notes", clinic.sid, "changed"),
        ("clients", None, "count"),
    } <= kinds


def test_a_clinic_setting_changed_outside_abrasio_is_detected(clinic):
    conn = raw(clinic)
    conn.execute("DROP TRIGGER seal_settings_au")
    conn.execute(
        "UPDATE settings SET value = ? WHERE key = 'ceiling_defaults_kpa'",
        ['{"normal": 85.0, "sensitive": 85.0, "very_sensitive": 85.0}'],
    )
    conn.commit()
    conn.close()
    assert ("settings", "changed") in {(p.table, p.kind) for p in verify(clinic)[0]}


def test_a_role_raised_outside_abrasio_is_detected(clinic):
    tom = clinic.add_person("Tom Reyes", ["front_desk"], "front desk passphrase")
    conn = raw(clinic)
    conn.execute("DROP TRIGGER seal_people_au")
    conn.execute("UPDATE people SET roles = '[\"administrator\"]' WHERE id = ?", [tom.id])
    conn.commit()
    conn.close()
    problems = verify(clinic)[0]
    assert f"The person #{tom.id} was changed outside Abrasio." in [p.describe() for p in problems]


def test_the_audit_trail_refuses_update_and_delete_even_from_abrasio(clinic):
    for sql in ("UPDATE audit_log SET person = 'someone else'", "DELETE FROM audit_log WHERE id = 1"):
        with pytest.raises(dbapi.IntegrityError, match="audit trail cannot be changed"):
            clinic.store.conn.execute(sql)
    clinic.store.conn.rollback()
    assert verify(clinic)[1].ok


def _drop_audit_protection(conn):
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")


def test_an_edited_audit_entry_is_named(clinic):
    for i in range(5):
        clinic.audit("open", "client", clinic.cid, client_id=clinic.cid, n=i)
    conn = raw(clinic)
    _drop_audit_protection(conn)
    conn.execute("UPDATE audit_log SET person = 'Tom' WHERE id = 6")
    conn.commit()
    conn.close()
    verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
    assert not verdict.ok and verdict.first_broken == 6
    assert "broken at entry #6" in verdict.message and "Tom" in verdict.message


def test_a_deleted_audit_entry_is_named(clinic):
    for i in range(5):
        clinic.audit("open", "client", clinic.cid, client_id=clinic.cid, n=i)
    conn = raw(clinic)
    _drop_audit_protection(conn)
    conn.execute("DELETE FROM audit_log WHERE id IN (5, 6)")
    conn.commit()
    conn.close()
    verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
    assert not verdict.ok and verdict.first_broken == 5
    assert "entry #5–#6 is missing" in verdict.message


def test_entries_deleted_from_the_end_are_detected(clinic):
    for i in range(3):
        clinic.audit("open", "client", clinic.cid, client_id=clinic.cid, n=i)
    last = clinic.store.conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    conn = raw(clinic)
    _drop_audit_protection(conn)
    conn.execute("DELETE FROM audit_log WHERE id > ?", [last - 2])
    conn.commit()
    conn.close()
    verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
    assert not verdict.ok and verdict.first_broken == last - 1
    assert "the last 2 were deleted" in verdict.message


def test_an_inserted_audit_entry_is_named(clinic):
    conn = raw(clinic)
    _drop_audit_protection(conn)
    conn.execute("DROP TRIGGER audit_log_head")  # it calls Abrasio's function: the insert needs it gone
    conn.execute("UPDATE audit_log SET id = -id WHERE id >= 3")  # make room for #3, keeping the order
    conn.execute("UPDATE audit_log SET id = 1 - id WHERE id < 0")
    conn.execute(
        "INSERT INTO audit_log (id, at, person_id, person, action, record_type, details, mac) "
        "VALUES (3, '2026-01-01T00:00:00+00:00', 1, 'Maya Okonkwo', 'login', 'person', '{}', randomblob(32))"
    )
    conn.commit()
    conn.close()
    verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
    assert not verdict.ok and verdict.first_broken == 3


def test_the_head_cannot_be_rewritten_without_the_key(clinic):
    conn = raw(clinic)
    conn.execute("UPDATE audit_head SET last_id = 1")
    conn.commit()
    conn.close()
    verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
    assert not verdict.ok and "head record was changed" in verdict.message


def test_the_chain_does_not_fork_with_two_connections_writing(clinic):
    """The window and the recorder thread each have a connection; appends interleave freely."""
    errors = []

    def writer(store, who):
        own = store is None
        try:
            store = store or Store.connect(clinic.store.path, key=clinic.database_key)
            for i in range(40):
                security.audit_append(
                    store.db, person_id=1, person=who, action="read", record_type="client", details={"i": i}
                )
        except Exception as exc:  # reported below, with the thread's name
            errors.append((who, exc))
        finally:
            if own and store is not None:
                store.close()

    t = threading.Thread(target=writer, args=(None, "recorder"))
    t.start()
    writer(clinic.store, "window")
    t.join(60)
    assert not errors
    verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
    assert verdict.ok and verdict.entries == 7 + 80, verdict.message
    people = [e.person for e in security.audit_entries(clinic.store.db)[7:]]
    assert people.count("recorder") == people.count("window") == 40


def test_filters_by_client_person_and_date(clinic):
    entries = security.audit_entries(clinic.store.db, client_id=clinic.cid)
    assert [e.action for e in entries] == ["create", "screening", "start", "completed", "open"]
    assert len(security.audit_entries(clinic.store.db, person_id=clinic.person.id)) == 7
    assert security.audit_entries(clinic.store.db, since="2999-01-01") == []
    first = security.audit_entries(clinic.store.db, limit=1)[0]
    assert (first.action, first.person) == ("add person", "Maya Okonkwo")


def test_a_new_column_is_sealed_once_seal_tables_runs_again(clinic):
    db = clinic.store.db
    with db.atomic():
        db["clients"].add_column("skin_notes", str)
        security.seal_tables(db)
    assert verify(clinic)[0] == []
    conn = raw(clinic)
    conn.execute("DROP TRIGGER seal_clients_au")
    conn.execute("UPDATE clients SET skin_notes = 'x' WHERE id = ?", [clinic.cid])
    conn.commit()
    conn.close()
    assert ("clients", clinic.cid, "changed") in {(p.table, p.rowid, p.kind) for p in verify(clinic)[0]}


def test_the_sqlite3_tool_on_a_plaintext_file_is_refused_then_detected(tmp_path):
    """Today's files are plaintext: the seals protect them the same way, against the real CLI."""
    cli = shutil.which("sqlite3")
    if not cli:
        pytest.skip("the sqlite3 command-line tool is not installed")
    path = tmp_path / "plain.db"
    store = Store.open(path)  # a plaintext file has the security tables, but no seals (no key)
    assert not security.is_sealed(store.db)
    key = b"k" * 32
    protection = security.register(store.conn, key)
    with store.db.atomic():
        security.seal_tables(store.db)
    cid = store.add_client(Client(first_name="A", last_name="B", vacuum_ceiling_kpa=20))
    store.close()

    def sql(statement):
        return subprocess.run([cli, str(path), statement], capture_output=True, text=True)

    out = sql(f"UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = {cid}")
    assert out.returncode != 0 and "no such function: abrasio_seal" in out.stderr
    assert (
        sql(
            f"DROP TRIGGER seal_clients_au; UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = {cid}"
        ).returncode
        == 0
    )

    store = Store.open(path)
    security.register(store.conn, key)
    assert ("clients", cid, "changed") in {
        (p.table, p.rowid, p.kind) for p in security.verify_records(store.db)
    }
    assert protection.seal_key  # the same key, re-derived: the seals of the untouched rows still verify
    assert all(p.table == "clients" for p in security.verify_records(store.db))
    store.close()
    # a different key (someone's forged "verifier") sees every seal as wrong: seals are keyed
    store = Store.open(path)
    security.register(store.conn, b"z" * 32)
    assert len(security.verify_records(store.db)) > 5
    store.close()
    sqlite3.connect(path).close()
