"""Encryption at rest, wired in (issue #11): every store path on an encrypted file, what the raw file,
its write-ahead log and its backups give away (nothing), the sqlite3 tool, a wrong passphrase, and
converting an existing plaintext clinic file. Real files in tmp_path, the real sqlcipher3."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest

from desktop import accounts, keys
from desktop.records import Client, ScreeningAnswer
from desktop.series import SeriesPlan
from desktop.session.recorder import TraceRecorder
from desktop.store import (
    NotEncryptedError,
    Store,
    WrongKeyError,
    backups,
    cipher,
    security,
    spill,
    trace,
)
from desktop.store.opening import full_check
from tests.conftest import until
from tests.test_consent_store import signed

pytestmark = pytest.mark.timeout(120)

NAME = "Okonkwofischer"  # a surname that must never be readable in an encrypted file
NOTE = "Quillbrightmoor"  # words of a session note, likewise
PASS = "plum tree in the yard"
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(params=["plaintext", "encrypted"])
def key(request) -> bytes | None:
    """Each representative store test runs on a plaintext and on an encrypted file."""
    return None if request.param == "plaintext" else cipher.new_key()


def _open(path: Path, key: bytes | None, **kw) -> Store:
    return Store.open(path, key=key, **kw)


def _client(last: str = NAME, ceiling: float = 20.0) -> Client:
    return Client(
        first_name="Adaeze",
        last_name=last,
        phone="07700 900123",
        email="adaeze@example.org",
        sensitivity="very_sensitive",
        vacuum_ceiling_kpa=ceiling,
    )


def _block(n: int = 500, seq0: int = 0) -> trace.TraceBlock:
    seq = np.arange(seq0, seq0 + n, dtype=np.int64)
    return trace.pack(seq, seq / 1000.0, np.full(n, 30.0), np.full(n, 3, dtype=np.uint8))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- every store path, plaintext and encrypted ---------------------------------------------------------
def test_clients_search_screening_and_the_change_log(tmp_path, key):
    store = _open(tmp_path / "abrasio.db", key)
    try:
        assert (store.key is not None) == (key is not None)
        cid = store.add_client(_client(), who="Dr K")
        store.import_clients([_client(last=f"Import{i}") for i in range(50)], who="Dr K")
        store.save_screening(cid, [ScreeningAnswer("rosacea", note="flares")], who="Dr K")
        c = store.client(cid)
        c.notes = "bruises easily"
        store.update_client(c, who="Dr K")
        store.set_archived(cid, True, who="Dr K")
        store.set_archived(cid, False, who="Dr K")
        assert [s.id for s in store.search_clients(NAME[:6])] == [cid]
        assert store.count_clients() == 51
        assert [e.action for e in store.change_log("client", cid)][:2] == ["create", "screening"]
        assert store.screening(cid)[0].code == "rosacea"
        store.set_setting("dwell_alarm_seconds", 2.5, who="Dr K")
        assert store.setting("dwell_alarm_seconds") == 2.5
        assert store.integrity_check() == "ok"
        if key is not None:
            assert security.is_sealed(store.db) and security.verify_records(store.db) == []
        else:
            assert not security.is_sealed(store.db)  # no key, no seals (see m016_record_seals)
    finally:
        store.close()


def test_a_session_recorded_by_the_recorder_and_loaded_back(tmp_path, key):
    store = _open(tmp_path / "abrasio.db", key)
    try:
        cid = store.add_client(_client())
        sid = store.create_session(cid, who="Dr K", areas=["forehead"])
        rec = TraceRecorder(store.path, sid, key=store.key)
        seq = np.arange(3000, dtype=np.int64)
        rec.add_samples(seq, seq / 1000.0, np.full(3000, 31.5), np.full(3000, 3, dtype=np.uint8))
        rec.add_marker(1, 1.5, "left cheek")
        rec.save_alarm(1, {"priority": "high", "kind": "ceiling", "message": "over", "started": 2.0})
        rec.save_notes({"notes": NOTE})
        assert rec.close(10), rec.error
        store.finish_session(sid, {"peak_kpa": 31.5}, who="Dr K")
        loaded = store.reopen()
        try:
            data = loaded.load_trace(sid)
        finally:
            loaded.close()
        assert len(data["vacuum"]) == 3000 and float(data["vacuum"][0]) == pytest.approx(31.5, abs=0.1)
        assert [m.label for m in store.markers(sid)] == ["left cheek"]
        assert store.notes(sid)["notes"] == NOTE
        assert [a.kind for a in store.alarms(sid)] == ["ceiling"]
        if key is not None:
            assert security.verify_records(store.db) == []  # the recorder's writes are sealed too
    finally:
        store.close()


def test_an_interrupted_session_is_marked_after_a_reopen(tmp_path, key):
    path = tmp_path / "abrasio.db"
    store = _open(path, key)
    sid = store.create_session(store.add_client(_client()), who="Dr K")
    store.append_trace(sid, 0, [_block()])
    store.close()  # the app died while recording
    store = _open(path, key)
    try:
        assert [s.id for s in store.unfinished_sessions()] == [sid]
        assert store.mark_interrupted(sid)
        assert store.session(sid).status == "interrupted"
        if key is not None:
            assert security.verify_records(store.db) == []
    finally:
        store.close()


def test_consent_series_photos_and_erasure(tmp_path, key):
    store = _open(tmp_path / "abrasio.db", key)
    try:
        cid = store.add_client(_client())
        consent = store.add_consent(signed(cid, TODAY - dt.timedelta(days=400)), "Dr K")
        assert store.consent(consent).signer_name == "Ada Lovelace"
        store.save_series(SeriesPlan(cid, TODAY - dt.timedelta(days=500), 6, 14), "Dr K")
        assert len(store.series_plans(cid)) == 1
        started = dt.datetime.combine(TODAY - dt.timedelta(days=10), dt.time(10)).astimezone()
        sid = store.create_session(cid, "Dr K", started_at=started.isoformat(timespec="seconds"))
        store.append_trace(sid, 0, [_block()])
        photo = {
            "jpeg": b"\xff\xd8 a picture \xff\xd9",
            "thumb": b"\xff\xd8 thumb \xff\xd9",
            "width": 4,
            "height": 3,
            "source_sha256": "0" * 64,
            "angle": "front",
        }
        (pid,) = store.add_photos(sid, [photo], who="Dr K")
        assert store.photo_image(pid) == photo["jpeg"]
        store.finish_session(sid, {"duration_s": 60}, "Dr K")
        other = store.add_client(_client(last="Neverseen"))
        outcome = store.erase_client(other, TODAY, "Dr K", "letter of 3 May")
        assert outcome.plan is not None
        if key is not None:
            assert security.verify_records(store.db) == []
    finally:
        store.close()


def test_backups_made_listed_checked_and_restored(tmp_path, key):
    path = tmp_path / "abrasio.db"
    store = _open(path, key)
    cid = store.add_client(_client())
    dest = backups.take_backup(path, key=key)
    store.add_client(_client(last="Later"))
    listed = backups.list_backups(path, key=key)
    assert [(b.path, b.clients) for b in listed] == [(dest, 1)]
    assert backups.latest_good(path, key=key).path == dest
    store.restore(dest)  # detaches, restores with store.key, reattaches
    try:
        assert store.count_clients() == 1 and store.client(cid).last_name == NAME
        assert store.writable
    finally:
        store.close()
    if key is not None:  # a backup of an encrypted file does not open without its key, or with another
        assert not cipher.is_plaintext_sqlite(dest)
        assert backups.list_backups(path)[0].clients is None
        assert backups.list_backups(path, key=cipher.new_key())[0].clients is None


def test_a_spill_file_is_replayed(tmp_path, key):
    store = _open(tmp_path / "abrasio.db", key)
    try:
        sid = store.create_session(store.add_client(_client()), who="Dr K")
        target = spill.write(store.path, sid, [_block()], 0, [("notes", {"notes": NOTE})], {}, key=key)
        spill.release(store.path, sid)
        assert (NOTE.encode() in target.read_bytes()) == (key is None)  # encrypted beside an encrypted file
        assert spill.replay_all(store) == []
        assert not target.exists()
        assert store.notes(sid)["notes"] == NOTE and store.trace_chunk_count(sid) == 1
    finally:
        store.close()


def test_the_background_check_and_read_only_access(tmp_path, key):
    path = tmp_path / "abrasio.db"
    _open(path, key).close()
    store = _open(path, key, full_check=False)
    try:
        assert store.access.kind == "checking" and not store.writable
        reader = store.reopen()  # a read-only connection for another thread, with the key
        try:
            assert reader.count_clients() == 0 and reader.key == key
        finally:
            reader.close()
        result = full_check(path, key=key)
        assert result.ok
        store.finish_check(result)
        assert store.writable
        store.add_client(_client())
    finally:
        store.close()


# -- what the encrypted file gives away -------------------------------------------------------------
def _names_in(paths) -> list[Path]:
    return [
        p
        for p in paths
        if p.exists() and (NAME.encode() in p.read_bytes() or NOTE.encode() in p.read_bytes())
    ]


def test_the_raw_file_its_wal_and_its_backups_hold_no_client_name(tmp_path):
    setup = accounts.create_clinic(tmp_path / "abrasio.db", "Maya Okonkwo", PASS)
    store = setup.clinic.store
    try:
        cid = store.add_client(_client())
        sid = store.create_session(cid, who="Maya Okonkwo")
        store.save_notes(sid, {"notes": NOTE})
        path = store.path
        wal = Path(f"{path}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # the names are in the log now, if anywhere
        backup = backups.take_backup(path, key=store.key)
        assert _names_in([path, wal, backup]) == []
    finally:
        setup.clinic.close()
    # the control: the same check finds the name in a plaintext file (the check can fail)
    plain = Store.open(tmp_path / "plain.db")
    plain.add_client(_client())
    plain.close()
    assert _names_in([tmp_path / "plain.db"]) == [tmp_path / "plain.db"]


def test_the_sqlite3_tool_cannot_read_the_file_or_its_backups(tmp_path):
    cli = shutil.which("sqlite3")
    assert cli, "the sqlite3 command-line tool is installed by ./dev (SYSTEM_PACKAGES)"
    setup = accounts.create_clinic(tmp_path / "abrasio.db", "Maya Okonkwo", PASS)
    setup.clinic.store.add_client(_client())
    path = setup.clinic.store.path
    backup = backups.take_backup(path, key=setup.clinic.store.key)
    setup.clinic.close()
    for target in (path, backup):
        out = subprocess.run([cli, str(target), "SELECT * FROM clients"], capture_output=True, text=True)
        assert out.returncode != 0 and "not a database" in out.stderr, out
        assert NAME not in out.stdout
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()


def test_a_wrong_passphrase_or_key_gets_a_clear_message_and_leaves_the_file_untouched(tmp_path):
    setup = accounts.create_clinic(tmp_path / "abrasio.db", "Maya Okonkwo", PASS)
    path = setup.clinic.store.path
    setup.clinic.close()
    before = {p.name: _sha(p) for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(accounts.LoginError, match="The passphrase for Maya Okonkwo is not right"):
        accounts.login(path, "Maya Okonkwo", "pear tree in the yard")
    with pytest.raises(WrongKeyError, match="The key does not open this file") as err:
        Store.open(path, key=cipher.new_key())
    assert "has not been changed" in str(err.value)
    with pytest.raises(backups.BackupError, match="key does not open"):
        backups.take_backup(path, key=cipher.new_key())
    with pytest.raises(Exception, match="encrypted clinic file"):  # no key at all: said in words
        Store.open(path)
    after = {p.name: _sha(p) for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
    accounts.login(path, "Maya Okonkwo", PASS).close()  # and the right one still opens it


def test_a_plaintext_file_is_not_keyed_in_place(tmp_path):
    Store.open(tmp_path / "plain.db").close()
    before = _sha(tmp_path / "plain.db")
    with pytest.raises(NotEncryptedError):
        Store.open(tmp_path / "plain.db", key=cipher.new_key())
    assert _sha(tmp_path / "plain.db") == before


# -- converting an existing plaintext clinic file -----------------------------------------------------
def _plaintext_clinic(path: Path) -> dict[str, int]:
    store = Store.open(path)
    cid = store.add_client(_client(), who="Dr K")
    store.import_clients([_client(last=f"Import{i}") for i in range(20)], who="Dr K")
    sid = store.create_session(cid, who="Dr K")
    store.append_trace(sid, 0, [_block(), _block(seq0=500)])
    store.save_notes(sid, {"notes": NOTE})
    store.finish_session(sid, {"peak_kpa": 20.0}, who="Dr K")
    backups.take_backup(path)  # an earlier plaintext backup, to be encrypted too
    counts = {
        t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("clients", "treatment_sessions", "vacuum_trace_chunks", "session_notes", "change_log")
    }
    store.close()
    return counts


def test_converting_a_plaintext_clinic_file(tmp_path):
    path = tmp_path / "abrasio.db"
    counts = _plaintext_clinic(path)
    assert _names_in([path]) == [path]

    setup = accounts.convert_plaintext(path, "Maya Okonkwo", PASS)
    clinic = setup.clinic
    try:
        assert clinic.person.name == "Maya Okonkwo" and clinic.store.key is not None
        for table, n in counts.items():
            if table != "change_log":
                assert clinic.store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
        assert security.verify_records(clinic.store.db) == []
        assert security.verify_audit(clinic.store.db, clinic.store.protection).ok
        assert [e.action for e in security.audit_entries(clinic.store.db)][:2] == [
            "add person",
            "protect clinic file",
        ]
    finally:
        clinic.close()
    converted = setup.converted
    assert converted.backup.exists() and converted.left_plaintext == []
    assert len(converted.reencrypted) == 1
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert _names_in(everything) == []  # the file, the backup taken first, the earlier backup
    assert not any(p.name.endswith((".converting", "-wal", "-shm")) for p in everything)
    assert not cipher.is_plaintext_sqlite(path)
    # the backup taken first opens with the same key and holds the records as they were
    key = accounts.unlock_key(path, "Maya Okonkwo", PASS)[1]
    old = cipher.connect(converted.backup, key)
    assert old.execute("SELECT count(*) FROM clients").fetchone()[0] == counts["clients"]
    old.close()
    accounts.login(path, "Maya Okonkwo", PASS).close()


def test_what_is_at_the_path_before_it_is_opened(tmp_path):
    path = tmp_path / "abrasio.db"
    assert accounts.clinic_file_state(path) is accounts.FileState.MISSING
    path.touch()
    assert accounts.clinic_file_state(path) is accounts.FileState.EMPTY
    path.unlink()
    Store.open(path).close()
    assert accounts.clinic_file_state(path) is accounts.FileState.PLAINTEXT
    accounts.convert_plaintext(path, "Maya Okonkwo", PASS).clinic.close()
    assert accounts.clinic_file_state(path) is accounts.FileState.ENCRYPTED
    keys.key_file_path(path).rename(tmp_path / "elsewhere.keys")
    assert accounts.clinic_file_state(path) is accounts.FileState.NO_KEY_FILE


def test_a_failed_conversion_leaves_the_original_untouched(tmp_path, monkeypatch):
    path = tmp_path / "abrasio.db"
    _plaintext_clinic(path)
    before = _sha(path)

    def fail(store):
        raise OSError(28, "No space left on device")

    from desktop.store import opening

    with pytest.raises(OSError, match="No space"):
        opening.convert_to_encrypted(path, cipher.new_key(), fail)
    assert _sha(path) == before and cipher.is_plaintext_sqlite(path)
    assert not Path(f"{path}.converting").exists()
    assert not list(tmp_path.glob("*.bak"))  # its backup was keyed with the discarded key: gone too
    # and through accounts: the key file it had created is gone too
    monkeypatch.setattr(opening, "_row_counts", lambda p, k: {"clients": -1} if k else {"clients": 0})
    with pytest.raises(Exception, match="same rows"):
        accounts.convert_plaintext(path, "Maya Okonkwo", PASS)
    assert _sha(path) == before and not keys.key_file_path(path).exists()
    assert Store.open(path).count_clients() == 21


# -- tampering from outside the app, on a file written through the wired store -------------------------
def test_an_audit_row_changed_deleted_or_added_outside_the_app_is_refused_or_named(tmp_path):
    setup = accounts.create_clinic(tmp_path / "abrasio.db", "Maya Okonkwo", PASS)
    clinic = setup.clinic
    try:
        cid = clinic.store.add_client(_client())  # an audit entry, made by the store's own write
        raw = cipher.connect(clinic.store.path, clinic.database_key)  # the key, not Abrasio's functions
        for sql in ("UPDATE audit_log SET person = 'Tom'", "DELETE FROM audit_log WHERE id = 3"):
            with pytest.raises(cipher.dbapi.IntegrityError, match="audit trail cannot be changed"):
                raw.execute(sql)
        with pytest.raises(cipher.dbapi.OperationalError, match="no such function"):
            raw.execute(
                "INSERT INTO audit_log (at, person, action, record_type, details, mac) "
                "VALUES ('2026', 'Tom', 'x', 'client', '{}', x'00')"
            )
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("UPDATE audit_log SET person = 'Tom' WHERE id = 3")
        raw.commit()
        raw.close()
        verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
        assert not verdict.ok and verdict.first_broken == 3 and "#3" in verdict.message
        # a ceiling raised outside the app
        raw = cipher.connect(clinic.store.path, clinic.database_key)
        with pytest.raises(cipher.dbapi.OperationalError, match="no such function: abrasio_seal"):
            raw.execute("UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = ?", [cid])
        raw.execute("DROP TRIGGER seal_clients_au")
        raw.execute("UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = ?", [cid])
        raw.commit()
        raw.close()
        problems = security.verify_records(clinic.store.db)
        assert f"The client #{cid} was changed outside Abrasio." in [p.describe() for p in problems]
    finally:
        clinic.close()


def test_writes_are_attributed_to_the_person_logged_in_also_on_other_connections(tmp_path):
    setup = accounts.create_clinic(tmp_path / "abrasio.db", "Maya Okonkwo", PASS)
    clinic = setup.clinic
    try:
        clinic.add_person("Tom Reyes", ["practitioner"], "front desk passphrase")
        clinic.switch_to("Tom Reyes", "front desk passphrase")
        other = clinic.store.reopen()  # a worker thread's connection: same key, same person
        try:
            cid = other.add_client(_client())
        finally:
            other.close()
        entry = security.audit_entries(clinic.store.db, client_id=cid)[0]
        assert (entry.person, entry.action, entry.record_type) == ("Tom Reyes", "create", "client")
        assert NAME not in entry.details  # which fields, never their values
    finally:
        clinic.close()


def test_a_login_while_the_file_is_checked_is_recorded_once_it_is_writable(tmp_path):
    path = tmp_path / "abrasio.db"
    accounts.create_clinic(path, "Maya Okonkwo", PASS).clinic.close()
    clinic = accounts.login(path, "Maya Okonkwo", PASS, full_check=False)
    try:
        assert clinic.store.access.kind == "checking"
        clinic.store.finish_check(full_check(path, key=clinic.store.key))
        until(lambda: clinic.store.writable)
        actions = [e.action for e in security.audit_entries(clinic.store.db)]
        assert actions[-1] == "login"
        assert security.verify_audit(clinic.store.db, clinic.store.protection).ok
    finally:
        clinic.close()
