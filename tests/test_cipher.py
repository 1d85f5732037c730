"""What SQLCipher (through sqlcipher3) does under Abrasio's store, proved on real files.

These tests are the findings the encryption design rests on (docs/security-design.md): how sqlite-utils
picks its sqlite3 module, that every store path works on an encrypted connection, how a plaintext file
converts and back, raw keys, backups, what ``grep`` and the ``sqlite3`` command-line tool see.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils
import sqlite_utils.utils
from sqlite_utils import Database

from desktop.records import Client, ScreeningAnswer
from desktop.store import Store, cipher, trace
from desktop.store.cipher import WrongKeyError, dbapi
from desktop.store.migrations import SCHEMA_VERSION, migrations

pytestmark = pytest.mark.timeout(120)

NAME = "Okonkwofischer"  # a client's surname that must never be readable in an encrypted file


def _pragmas(conn) -> None:
    """What the store's connection function sets, on any DB-API connection."""
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    conn.execute("PRAGMA synchronous = NORMAL")


def encrypted_store(path: Path, key: bytes) -> Store:
    """A Store over an encrypted connection, migrated: the shape Store.open takes once integrated."""
    conn = cipher.connect(path, key)
    _pragmas(conn)
    store = Store(path, conn)
    migrations.apply(store.db)
    return store


def _client(last=NAME, first="Adaeze", ceiling=20.0) -> Client:
    return Client(
        first_name=first,
        last_name=last,
        phone="07700 900123",
        email="adaeze@example.org",
        sensitivity="very_sensitive",
        vacuum_ceiling_kpa=ceiling,
    )


def _blocks(n_blocks: int, per_block: int = 1000, seq0: int = 0) -> list[trace.TraceBlock]:
    rng = np.random.default_rng(1)
    blocks = []
    for b in range(n_blocks):
        n = per_block
        seq = np.arange(seq0 + b * n, seq0 + (b + 1) * n, dtype=np.int64)
        t = seq / 1000.0
        vac = 30 + rng.normal(0, 0.5, n)
        blocks.append(trace.pack(seq, t, vac, np.full(n, 3, dtype=np.uint8)))
    return blocks


@pytest.fixture
def key() -> bytes:
    return cipher.new_key()


# -- how sqlite-utils picks its module ------------------------------------------------------------
def test_sqlite_utils_uses_the_standard_library_module_not_sqlcipher3():
    """sqlite-utils imports ``pysqlite3`` if it can, else ``sqlite3`` — never sqlcipher3 — and the two
    modules' exceptions are unrelated classes: an ``except sqlite3.OperationalError`` misses
    sqlcipher3's. The store must catch ``cipher.dbapi`` errors once it uses encrypted connections."""
    assert sqlite_utils.utils.sqlite3 is sqlite3
    assert not issubclass(dbapi.OperationalError, sqlite3.Error)
    assert not issubclass(sqlite3.OperationalError, dbapi.Error)


def test_sqlite_utils_internal_fallbacks_miss_sqlcipher3_errors(tmp_path, key):
    """The consequence, shown on one of sqlite-utils' internal fallbacks: ``drop(ignore=True)`` of a
    missing table is quiet on a sqlite3 connection and raises on a sqlcipher3 one. (The store uses
    none of these fallbacks; this test tells whoever starts to.)"""
    Database(sqlite3.connect(tmp_path / "plain.db"))["missing"].drop(ignore=True)
    enc = Database(cipher.connect(tmp_path / "enc.db", key))
    with pytest.raises(dbapi.OperationalError, match="no such table"):
        enc["missing"].drop(ignore=True)


def test_sqlcipher3_brings_its_own_recent_sqlite(key):
    conn = dbapi.connect(":memory:")
    version = tuple(int(x) for x in dbapi.sqlite_version.split("."))
    assert version >= (3, 45, 0), dbapi.sqlite_version  # trigram (3.34), FTS5 prefix, RETURNING…
    assert conn.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
    options = {r[0] for r in conn.execute("PRAGMA compile_options")}
    assert {"ENABLE_FTS5", "HAS_CODEC"} <= options


# -- every store path on an encrypted file --------------------------------------------------------
def test_every_store_path_works_on_an_encrypted_file(tmp_path, key):
    path = tmp_path / "abrasio.db"
    store = encrypted_store(path, key)
    try:
        assert store.schema_version == SCHEMA_VERSION  # Migrations + PRAGMA user_version
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert store.integrity_check() == "ok"

        # insert (+ the trigram FTS and prefix-word triggers), update, screening (insert_all, delete)
        cid = store.save_client_record(
            _client(), [ScreeningAnswer("anticoagulants", None, None, "aspirin")], who="Maya"
        )
        c = store.client(cid)
        c.vacuum_ceiling_kpa = 18.0
        store.update_client(c, who="Maya")
        assert store.client(cid).vacuum_ceiling_kpa == 18.0
        assert [a.code for a in store.screening(cid)] == ["anticoagulants"]
        assert [r.id for r in store.search_clients("kwofis")] == [cid]  # trigram, mid-word
        assert [r.id for r in store.search_clients("ad ok")] == [cid]  # prefix index, 2 letters
        assert [r.id for r in store.search_clients("900123")] == [cid]  # phone digits
        assert store.count_clients("zz") == 0

        # upsert (settings), atomic + rollback
        store.set_setting("display_unit", "inHg", who="Maya")
        assert store.setting("display_unit") == "inHg"
        with pytest.raises(RuntimeError), store.db.atomic():
            store.db["settings"].insert({"key": "half", "value": "1"})
            raise RuntimeError("rolled back")
        assert store.setting("half") is None

        # a session: executemany of trace blocks, markers, alarms, notes (upsert), finish
        sid = store.create_session(cid, who="Maya", areas=["forehead"], ceiling_kpa=18.0)
        store.append_trace(sid, 0, _blocks(3))
        store.append_trace(sid, 3, _blocks(2, seq0=3000), lost=5)
        loaded = store.load_trace(sid)
        assert len(loaded["seq"]) == 5000 and loaded["seq"][-1] == 4999
        store.add_marker(sid, 1.5, "cheek")
        store.save_alarm(sid, {"priority": "high", "kind": "ceiling", "message": "***", "started": 1.0})
        store.save_notes(sid, {"erythema": "mild", "passes": {"forehead": 2}})
        store.finish_session(sid, {"peak_kpa": 19.0}, who="Maya")
        s = store.session(sid)
        assert (s.status, s.samples_recorded, s.samples_lost) == ("completed", 5000, 5)
        assert store.notes(sid)["passes"] == {"forehead": 2}
        assert [e.action for e in store.change_log("client", cid)] == ["create", "screening", "update"]
        assert store.client(cid).last_visit is not None
    finally:
        store.close()

    # reopened with the same key, everything is there; the file on disk holds no name
    again = cipher.connect(path, key)
    assert again.execute("SELECT last_name FROM clients").fetchone()[0] == NAME
    again.close()
    assert NAME.encode() not in path.read_bytes()


def test_error_codes_come_with_sqlcipher3_exceptions(tmp_path, key):
    """sqlcipher3 sets ``sqlite_errorcode``/``sqlite_errorname`` like sqlite3, but the *primary* code
    (19, SQLITE_CONSTRAINT) where the standard library gives the extended one (2067, …_UNIQUE):
    code that tells errors apart compares ``code & 0xFF``."""
    conn = cipher.connect(tmp_path / "e.db", key)
    plain = sqlite3.connect(tmp_path / "p.db")
    for c in (conn, plain):
        c.execute("CREATE TABLE t (x UNIQUE)")
        c.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(dbapi.IntegrityError) as err:
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as std:
        plain.execute("INSERT INTO t VALUES (1)")
    assert (err.value.sqlite_errorcode, err.value.sqlite_errorname) == (19, "SQLITE_CONSTRAINT")
    assert (std.value.sqlite_errorcode, std.value.sqlite_errorname) == (2067, "SQLITE_CONSTRAINT_UNIQUE")
    assert err.value.sqlite_errorcode & 0xFF == std.value.sqlite_errorcode & 0xFF


def test_busy_timeout_and_locked_error_on_encrypted_connections(tmp_path, key):
    path = tmp_path / "busy.db"
    a = cipher.connect(path, key)
    _pragmas(a)
    a.execute("CREATE TABLE t (x)")
    a.commit()
    b = cipher.connect(path, key, timeout=0.05)
    b.execute("PRAGMA busy_timeout = 50")
    a.execute("BEGIN IMMEDIATE")
    a.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(dbapi.OperationalError) as err:
        b.execute("INSERT INTO t VALUES (2)")
    assert err.value.sqlite_errorname == "SQLITE_BUSY"
    a.commit()
    b.execute("INSERT INTO t VALUES (2)")
    b.commit()
    assert a.execute("SELECT count(*) FROM t").fetchone()[0] == 2


# -- the key ----------------------------------------------------------------------------------------
def test_the_key_is_raw_bytes_not_a_passphrase(tmp_path, key):
    """``x'…'`` hands SQLCipher the 256-bit key itself (no PBKDF2 on every connection): the same hex
    digits given as a passphrase are a different key and do not open the file."""
    path = tmp_path / "raw.db"
    conn = cipher.connect(path, key)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    cipher.connect(path, key).close()
    as_passphrase = dbapi.connect(str(path))
    as_passphrase.execute(f"PRAGMA key = '{key.hex()}'")
    with pytest.raises(dbapi.DatabaseError, match="not a database"):
        as_passphrase.execute("SELECT * FROM t")
    as_passphrase.close()
    with pytest.raises(ValueError):
        cipher.key_pragma(key[:16])


def test_a_wrong_key_gets_a_clear_error_and_leaves_the_file_untouched(tmp_path, key):
    path = tmp_path / "abrasio.db"
    store = encrypted_store(path, key)
    store.add_client(_client())
    store.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    with pytest.raises(WrongKeyError, match="key is wrong"):
        cipher.connect(path, cipher.new_key())
    with pytest.raises(cipher.DatabaseFileError, match="encrypted"):
        cipher.connect(path, None)  # opened as if it were plaintext
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert after == before  # no byte changed, no -wal or -shm appeared


# -- what someone at the PC sees --------------------------------------------------------------------
def test_raw_file_and_its_wal_hold_no_client_name(tmp_path, key):
    path = tmp_path / "abrasio.db"
    store = encrypted_store(path, key)
    store.add_client(_client())
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")
    store.add_client(_client(last="Wojciechowska"))  # stays in the -wal file until a checkpoint
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    for p in (path, wal):
        data = p.read_bytes()
        assert NAME.encode() not in data and b"Wojciechowska" not in data
        assert not data.startswith(cipher.SQLITE_MAGIC)
    store.close()
    # the control: the same data in a plaintext file is readable, so the check above can fail
    plain = Store.open(tmp_path / "plain.db")
    plain.add_client(_client())
    plain.close()
    assert NAME.encode() in (tmp_path / "plain.db").read_bytes()


def test_sqlite3_cannot_read_an_encrypted_file(tmp_path, key):
    path = tmp_path / "abrasio.db"
    encrypted_store(path, key).close()
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(path).execute("SELECT * FROM clients").fetchall()
    cli = shutil.which("sqlite3")
    if cli:  # the command-line tool, where installed (Debian's sqlite3 package)
        out = subprocess.run([cli, str(path), "SELECT * FROM clients"], capture_output=True, text=True)
        assert out.returncode != 0 and "not a database" in out.stderr


# -- converting, backing up -------------------------------------------------------------------------
def test_an_existing_plaintext_store_converts_to_encrypted_and_back(tmp_path, key):
    plain = tmp_path / "abrasio.db"
    store = Store.open(plain)
    cid = store.add_client(_client())
    sid = store.create_session(cid, who="Maya")
    store.append_trace(sid, 0, _blocks(2))
    store.close()
    plain_bytes = plain.read_bytes()

    enc = tmp_path / "abrasio.enc.db"
    cipher.encrypt_copy(plain, enc, key)
    assert plain.read_bytes() == plain_bytes  # the source is only read
    assert NAME.encode() not in enc.read_bytes()
    store = encrypted_store(enc, key)  # migrations see every one as applied: nothing pending
    try:
        assert store.schema_version == SCHEMA_VERSION  # user_version, copied by hand
        assert [m.name for m in migrations.pending(store.db)] == []
        assert [r.id for r in store.search_clients("fisch")] == [cid]  # FTS survived
        assert [r.id for r in store.search_clients("ok")] == [cid]
        assert len(store.load_trace(sid)["seq"]) == 2000
        store.add_client(_client(last="Nakamura"))  # FTS triggers still fire
        assert len(store.search_clients("kamur")) == 1
    finally:
        store.close()

    back = tmp_path / "back.db"
    cipher.decrypt_copy(enc, back, key)
    assert cipher.is_plaintext_sqlite(back) and not cipher.is_plaintext_sqlite(enc)
    again = Store.open(back)  # today's Store opens the decrypted copy as it is
    assert {r.last_name for r in again.search_clients("")} == {NAME, "Nakamura"}
    again.close()


def test_sqlcipher_export_alone_drops_the_schema_version(tmp_path, key):
    """Why encrypt_copy copies user_version itself: without it the converted file would look
    unmigrated and the migrations would run again over existing tables."""
    plain = tmp_path / "p.db"
    Store.open(plain).close()
    src = dbapi.connect(str(plain))
    src.execute("ATTACH DATABASE ? AS conv KEY ?", [str(tmp_path / "e.db"), f"x'{key.hex()}'"])
    src.execute("SELECT sqlcipher_export('conv')")
    assert src.execute("PRAGMA conv.user_version").fetchone()[0] == 0
    src.close()


def test_a_failed_conversion_leaves_no_partial_copy(tmp_path, key):
    plain = tmp_path / "p.db"
    plain.write_bytes(b"not a database at all, just some text " * 200)
    with pytest.raises(cipher.DatabaseFileError):
        cipher.encrypt_copy(plain, tmp_path / "e.db", key)
    assert not (tmp_path / "e.db").exists()
    Store.open(tmp_path / "good.db").close()
    (tmp_path / "taken.db").write_bytes(b"someone else's file")
    with pytest.raises(FileExistsError):
        cipher.encrypt_copy(tmp_path / "good.db", tmp_path / "taken.db", key)
    assert (tmp_path / "taken.db").read_bytes() == b"someone else's file"


def test_online_backup_works_between_files_keyed_alike_only(tmp_path, key):
    store = encrypted_store(tmp_path / "abrasio.db", key)
    store.add_client(_client())
    try:
        cipher.encrypted_backup(store.conn, tmp_path / "backup.db", key)
        assert NAME.encode() not in (tmp_path / "backup.db").read_bytes()
        copy = cipher.connect(tmp_path / "backup.db", key)
        assert copy.execute("SELECT last_name FROM clients").fetchone()[0] == NAME
        copy.close()
        plain_target = dbapi.connect(str(tmp_path / "plain-backup.db"))
        with pytest.raises(dbapi.OperationalError):
            store.conn.backup(plain_target)  # SQLCipher refuses encrypted -> plaintext pages
        plain_target.close()
    finally:
        store.close()


def test_store_errors_from_sqlcipher3_are_mapped_by_from_sqlite(tmp_path, key):
    """The store's error mapping reads only ``sqlite_errorcode``, so it works on sqlcipher3's errors
    (primary codes) as they are: a full disk is a DiskFullError in words."""
    from desktop.store.errors import DiskFullError, from_sqlite

    conn = cipher.connect(tmp_path / "full.db", key)
    conn.execute("CREATE TABLE t (x)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(dbapi.OperationalError) as err:
        conn.execute("INSERT INTO t VALUES (?)", [b"x" * 20000])
    assert isinstance(from_sqlite(err.value, "saving the client"), DiskFullError)


def test_a_store_method_on_an_encrypted_file_raises_store_errors(tmp_path, key):
    """``@sql`` catches ``(sqlite3.Error, cipher.dbapi.Error)``: sqlcipher3's errors become the store's."""
    from desktop.store import DiskFullError

    store = encrypted_store(tmp_path / "abrasio.db", key)
    try:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(DiskFullError):
            store.import_clients([_client(last=f"N{i}") for i in range(2000)])
    finally:
        store.close()
