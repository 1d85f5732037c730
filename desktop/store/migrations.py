"""The schema's history: numbered migrations, each a small function run in its own transaction.

Never edit a released migration; add the next one. ``PRAGMA user_version`` mirrors how many are applied.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from desktop.consent import (
    DEFAULT_TEMPLATE_BODY,
    DEFAULT_TEMPLATE_CODE,
    DEFAULT_TEMPLATE_TITLE,
    DEFAULT_VALIDITY_MONTHS,
)
from desktop.erasure import DEFAULT_RETENTION_YEARS
from desktop.records import DEFAULT_RULES
from desktop.series import DEFAULT_PLANNED_SESSIONS

MIGRATION_SET = "abrasio"
migrations = Migrations(MIGRATION_SET)


def _version(db: Database, n: int) -> None:
    db.execute(f"PRAGMA user_version = {int(n)}")


@migrations()
def m001_clients(db: Database) -> None:
    db["practitioners"].create(
        {"id": int, "name": str, "active": int, "created_at": str},
        pk="id",
        not_null={"name"},
        defaults={"active": 1},
    )
    db["clients"].create(
        {
            "id": int,
            "first_name": str,
            "last_name": str,
            "date_of_birth": str,
            "phone": str,
            "phone_digits": str,
            "email": str,
            "fitzpatrick": int,
            "sensitivity": str,
            "concerns": str,
            "consent_date": str,
            "consent_witness": str,
            "vacuum_ceiling_kpa": float,
            "notes": str,
            "archived": int,
            "last_visit": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"last_name", "sensitivity", "vacuum_ceiling_kpa", "archived"},
        defaults={"archived": 0, "sensitivity": "normal", "concerns": "[]"},
    )
    db["clients"].create_index(["archived", "last_visit", "id"], index_name="clients_by_visit")
    # Trigram full-text index: any 3+ character part of a name, phone number or email matches.
    db["clients"].enable_fts(
        ["first_name", "last_name", "phone", "phone_digits", "email"],
        create_triggers=True,
        tokenize="trigram",
    )
    db["change_log"].create(
        {
            "id": int,
            "at": str,
            "who": str,
            "record_type": str,
            "record_id": int,
            "action": str,
            "details": str,
        },
        pk="id",
    )
    db["change_log"].create_index(["record_type", "record_id"])
    _version(db, 1)


@migrations()
def m002_screening(db: Database) -> None:
    db["screening_rules"].create(
        {"code": str, "label": str, "months": int, "days": int, "effect": str, "sort": int},
        pk="code",
    )
    db["screening_rules"].insert_all(
        {
            "code": r.code,
            "label": r.label,
            "months": r.months,
            "days": r.days,
            "effect": r.effect,
            "sort": r.sort,
        }
        for r in DEFAULT_RULES
    )
    db["screening_answers"].create(
        {
            "id": int,
            "client_id": int,
            "code": str,
            "since": str,
            "ended": str,
            "note": str,
            "recorded_at": str,
            "recorded_by": str,
        },
        pk="id",
        foreign_keys=[("client_id", "clients", "id"), ("code", "screening_rules", "code")],
    )
    db["screening_answers"].create_index(["client_id", "code"], unique=True)
    _version(db, 2)


@migrations()
def m003_sessions(db: Database) -> None:
    db["treatment_sessions"].create(
        {
            "id": int,
            "client_id": int,
            "practitioner": str,
            "started_at": str,
            "ended_at": str,
            "status": str,
            "handpiece": str,
            "mode": str,
            "grit": str,
            "crystal_flow": int,
            "set_point_kpa": float,
            "ceiling_kpa": float,
            "areas": str,
            "planned_minutes": int,
            "override_reason": str,
            "consent_acknowledged": int,
            "screening": str,
            "samples_recorded": int,
            "samples_lost": int,
            "summary": str,
            "heartbeat_at": str,
        },
        pk="id",
        foreign_keys=[("client_id", "clients", "id")],
        not_null={"client_id", "started_at", "status"},
    )
    db["treatment_sessions"].create_index(["client_id", "started_at"])
    db["treatment_sessions"].create_index(["status"])
    db["session_notes"].create(
        {
            "session_id": int,
            "areas": str,
            "passes": str,
            "grit": str,
            "crystal_flow": int,
            "set_point_kpa": float,
            "erythema": str,
            "findings": str,
            "aftercare": str,
            "notes": str,
            "updated_at": str,
        },
        pk="session_id",
        foreign_keys=[("session_id", "treatment_sessions", "id")],
    )
    # A vacuum trace is stored one row per ~1 s of samples: a compressed block of packed arrays
    # (see desktop/store/trace.py): ~1.2 bytes a sample instead of ~40 as one row per sample.
    # A rowid table, not WITHOUT ROWID: its ~1.1 KB rows would overflow an index b-tree's cell limit
    # (~1,000 bytes on 4 KB pages) and waste most of an overflow page each (measured: 4x the size).
    db.execute(
        """CREATE TABLE vacuum_trace_chunks (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES treatment_sessions(id),
            chunk INTEGER NOT NULL,
            t0 REAL NOT NULL, seq0 INTEGER NOT NULL, n INTEGER NOT NULL,
            vmax REAL NOT NULL, data BLOB NOT NULL,
            UNIQUE (session_id, chunk))"""
    )
    db["markers"].create(
        {"id": int, "session_id": int, "t": float, "label": str, "created_at": str},
        pk="id",
        foreign_keys=[("session_id", "treatment_sessions", "id")],
    )
    db["markers"].create_index(["session_id"])
    db["alarms"].create(
        {
            "id": int,
            "session_id": int,
            "priority": str,
            "kind": str,
            "message": str,
            "started": float,
            "ended": float,
            "peak_kpa": float,
            "acknowledged_at": str,
            "acknowledged_by": str,
        },
        pk="id",
        foreign_keys=[("session_id", "treatment_sessions", "id")],
    )
    db["alarms"].create_index(["session_id"])
    _version(db, 3)


@migrations()
def m004_settings(db: Database) -> None:
    db["settings"].create({"key": str, "value": str}, pk="key")
    defaults = {
        "display_unit": "kPa",
        "ceiling_defaults_kpa": {"normal": 45.0, "sensitive": 30.0, "very_sensitive": 20.0},
        "series_interval_days": 14,
        "minimum_interval_days": 10,
        "dwell_alarm_seconds": 3.0,
        "aftercare_templates": [
            "Broad-spectrum SPF 30+ daily; avoid sun for 48 hours.",
            "No exfoliants, retinoids or AHA for 3 days.",
            "Bland moisturiser twice a day; no make-up for 24 hours.",
        ],
    }
    db["settings"].insert_all({"key": k, "value": json.dumps(v)} for k, v in defaults.items())
    _version(db, 4)


@migrations()
def m005_word_search(db: Database) -> None:
    """Words for one- and two-letter searches ("ma ro"): a prefix-indexed FTS5 table over whole words.

    The trigram index cannot match fewer than 3 characters; scanning for them walked every client
    (110 ms a keystroke at 100,000 clients). Diacritics are folded, so "le" finds "Léa".
    """
    db.execute(
        """CREATE VIRTUAL TABLE clients_words USING fts5(
            first_name, last_name, phone_digits, email, content='clients', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='1 2')"""
    )
    cols = "first_name, last_name, phone_digits, email"
    new = "new.first_name, new.last_name, new.phone_digits, new.email"
    old = "old.first_name, old.last_name, old.phone_digits, old.email"
    db.execute(
        f"CREATE TRIGGER clients_words_ai AFTER INSERT ON clients BEGIN "
        f"INSERT INTO clients_words (rowid, {cols}) VALUES (new.id, {new}); END"
    )
    db.execute(
        f"CREATE TRIGGER clients_words_ad AFTER DELETE ON clients BEGIN "
        f"INSERT INTO clients_words (clients_words, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    db.execute(
        f"CREATE TRIGGER clients_words_au AFTER UPDATE ON clients BEGIN "
        f"INSERT INTO clients_words (clients_words, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO clients_words (rowid, {cols}) VALUES (new.id, {new}); END"
    )
    db.execute("INSERT INTO clients_words (clients_words) VALUES ('rebuild')")
    _version(db, 5)


@migrations()
def m006_planned_passes(db: Database) -> None:
    """How many passes per area the practitioner plans; the session alarms past it (default 3)."""
    db["treatment_sessions"].add_column("planned_passes", int)
    _version(db, 6)


@migrations()
def m007_session_devices(db: Database) -> None:
    """The handpiece of each session (HELLO's model and serial), one row per segment: a session
    continued on another device after the practitioner chose so has a second segment."""
    db["session_devices"].create(
        {
            "id": int,
            "session_id": int,
            "segment": int,
            "model": str,
            "serial": str,
            "firmware": str,
            "rate_hz": int,
            "at": str,
        },
        pk="id",
        foreign_keys=[("session_id", "treatment_sessions")],
    )
    db["session_devices"].create_index(["session_id", "segment"], unique=True)
    _version(db, 7)


# The search indexes' rowid is a client's place in the list (archived, last visit, id), so that
# "the first 100 matches, last visit first" is the first 100 rowids FTS5 yields in descending order:
# a keystroke reads what it shows, however many clients match. (Keyed by the client id, a word in
# every email address, "example.org", matched all 100,000 clients and each keystroke sorted them: 46 ms.)
# bits 62: archived · 24–61: the day of the last visit (0 when none) · 0–23: the client id (< 16.7 M).
SEARCH_KEY_ID_BITS = 24
SEARCH_KEY_ARCHIVED = 1 << 62


def _search_key(row: str) -> str:
    return (
        f"(({row}.archived != 0) << 62) | "
        f"(coalesce(CAST(julianday({row}.last_visit) AS INTEGER), 0) << {SEARCH_KEY_ID_BITS}) | {row}.id"
    )


@migrations()
def m008_search_in_list_order(db: Database) -> None:
    """Both search indexes keyed by the client's place in the list (see ``SEARCH_KEY_*``), contentless."""
    for trigger in ("clients_ai", "clients_ad", "clients_au", "clients_words_ai", "clients_words_ad",
                    "clients_words_au"):  # fmt: skip
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS clients_fts")
    db.execute("DROP TABLE IF EXISTS clients_words")
    tables = {
        "clients_fts": ("first_name, last_name, phone, phone_digits, email", "tokenize='trigram'"),
        "clients_words": (
            "first_name, last_name, phone_digits, email",
            "tokenize='unicode61 remove_diacritics 2', prefix='1 2'",
        ),
    }
    for table, (cols, options) in tables.items():
        db.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({cols}, content='', {options})")
        new = ", ".join(f"new.{c.strip()}" for c in cols.split(","))
        old = ", ".join(f"old.{c.strip()}" for c in cols.split(","))
        insert = f"INSERT INTO {table} (rowid, {cols}) VALUES ({_search_key('new')}, {new});"
        delete = (
            f"INSERT INTO {table} ({table}, rowid, {cols}) VALUES ('delete', {_search_key('old')}, {old});"
        )
        db.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON clients BEGIN {insert} END")
        db.execute(f"CREATE TRIGGER {table}_ad AFTER DELETE ON clients BEGIN {delete} END")
        db.execute(f"CREATE TRIGGER {table}_au AFTER UPDATE ON clients BEGIN {delete} {insert} END")
        db.execute(f"INSERT INTO {table} (rowid, {cols}) SELECT {_search_key('c')}, "
                   f"{', '.join(f'c.{x.strip()}' for x in cols.split(','))} FROM clients c")  # fmt: skip
    _version(db, 8)


@migrations()
def m009_signed_consent(db: Database) -> None:
    """Consent forms (versioned) and the consents clients give: the exact text, the signature (image and
    strokes), who witnessed, when. The old free-text consent date and witness become records that say
    what they are ("recorded before signed consent existed"), never a made-up signature."""
    db.execute(
        """CREATE TABLE consent_templates (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL, version INTEGER NOT NULL,
            title TEXT NOT NULL, body TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL, created_by TEXT NOT NULL DEFAULT '',
            UNIQUE (code, version))"""
    )
    # A version, once written, is what clients signed: only whether it is offered may change.
    db.execute(
        "CREATE TRIGGER consent_templates_fixed BEFORE UPDATE OF code, version, title, body "
        "ON consent_templates BEGIN SELECT RAISE(ABORT, 'a consent form version never changes'); END"
    )
    db.execute(
        """CREATE TABLE consents (
            id INTEGER PRIMARY KEY,
            client_id INTEGER NOT NULL REFERENCES clients(id),
            kind TEXT NOT NULL CHECK (kind IN ('signed', 'legacy')),
            template_code TEXT, template_version INTEGER,
            title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',
            signed_on TEXT NOT NULL, signed_at TEXT,
            signer_name TEXT NOT NULL DEFAULT '',
            witnessed_by TEXT NOT NULL DEFAULT '',
            signature_png BLOB, strokes TEXT, pad_width INTEGER, pad_height INTEGER,
            recorded_at TEXT NOT NULL,
            CHECK (kind = 'legacy' OR (text != '' AND signature_png IS NOT NULL AND strokes IS NOT NULL
                                       AND witnessed_by != '')))"""
    )
    db.execute("CREATE INDEX consents_by_client ON consents (client_id, signed_on)")
    db.execute(
        "CREATE TRIGGER consents_fixed BEFORE UPDATE ON consents "
        "BEGIN SELECT RAISE(ABORT, 'a consent, once given, never changes'); END"
    )
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    # a real calendar day: normalised ('+0 days') it is itself; 30 February becomes 2 March and is refused
    dated = "date(consent_date, '+0 days') = substr(consent_date, 1, 10)"
    db["consent_templates"].insert(
        {
            "code": DEFAULT_TEMPLATE_CODE,
            "version": 1,
            "title": DEFAULT_TEMPLATE_TITLE,
            "body": DEFAULT_TEMPLATE_BODY,
            "active": 1,
            "created_at": now,
            "created_by": "Abrasio (default form)",
        }
    )
    db.execute(
        "INSERT INTO consents (client_id, kind, signed_on, witnessed_by, recorded_at) "
        "SELECT id, 'legacy', substr(consent_date, 1, 10), coalesce(consent_witness, ''), ? "
        f"FROM clients WHERE {dated}",
        [now],
    )
    # What cannot become a record (a date that is not a date, a witness without a date) is not dropped:
    # the change log keeps it, word for word.
    db.execute(
        "INSERT INTO change_log (at, who, record_type, record_id, action, details) "
        "SELECT ?, 'Abrasio (upgrade)', 'client', id, 'consent not migrated', "
        "json_object('consent_date', consent_date, 'consent_witness', consent_witness, 'why', "
        "'not a date: kept here, not made into a consent record') FROM clients "
        f"WHERE NOT coalesce({dated}, 0) "
        "AND (coalesce(consent_date, '') != '' OR coalesce(consent_witness, '') != '')",
        [now],
    )
    db.execute("ALTER TABLE clients DROP COLUMN consent_date")
    db.execute("ALTER TABLE clients DROP COLUMN consent_witness")
    db["settings"].insert({"key": "consent_validity_months", "value": json.dumps(DEFAULT_VALIDITY_MONTHS)})
    _version(db, 9)


@migrations()
def m010_client_screening(db: Database) -> None:
    """The screening as the client answered it on screen (their words, the questions they saw), with
    what the practitioner confirmed after reviewing it."""
    db["screening_questionnaires"].create(
        {
            "id": int,
            "client_id": int,
            "answered_at": str,
            "answers": str,
            "reviewed_at": str,
            "reviewed_by": str,
            "confirmed": str,
            "differences": str,
        },
        pk="id",
        foreign_keys=[("client_id", "clients", "id")],
        not_null={"client_id", "answered_at", "answers"},
    )
    db["screening_questionnaires"].create_index(["client_id", "answered_at"])
    _version(db, 10)


@migrations()
def m011_series(db: Database) -> None:
    """Treatment series: how many sessions are planned, how far apart. Sessions are numbered within the
    series whose dates cover them (nothing is stored on the session)."""
    db["treatment_series"].create(
        {
            "id": int,
            "client_id": int,
            "started_on": str,
            "planned_sessions": int,
            "interval_days": int,
            "ended_on": str,
            "note": str,
            "created_at": str,
            "created_by": str,
        },
        pk="id",
        foreign_keys=[("client_id", "clients", "id")],
        not_null={"client_id", "started_on", "planned_sessions", "interval_days"},
    )
    db["treatment_series"].create_index(["client_id", "started_on"])
    db["treatment_series"].create_index(["ended_on"])
    db["settings"].insert_all(
        [
            {"key": "series_planned_sessions", "value": json.dumps(DEFAULT_PLANNED_SESSIONS)},
            # names this database in calendar files' event UIDs
            {"key": "database_id", "value": json.dumps(uuid.uuid4().hex)},
        ]
    )
    _version(db, 11)


@migrations()
def m012_erasure(db: Database) -> None:
    """Erasures: who erased which client when, why, and what is kept until when. No foreign key: a full
    erasure deletes the client row this refers to."""
    db["erasures"].create(
        {
            "id": int,
            "client_id": int,
            "erased_at": str,
            "erased_by": str,
            "scope": str,
            "keep_until": str,
            "reason": str,
            "details": str,
        },
        pk="id",
        not_null={"client_id", "erased_at", "scope"},
    )
    db["erasures"].create_index(["client_id"])
    db["settings"].insert({"key": "retention_years", "value": json.dumps(DEFAULT_RETENTION_YEARS)})
    _version(db, 12)


@migrations()
def m013_photos(db: Database) -> None:
    """Before/after photos of a session at a standard angle, metadata-free JPEGs with thumbnails."""
    db.execute(
        """CREATE TABLE photos (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES treatment_sessions(id),
            angle TEXT NOT NULL
                CHECK (angle IN ('front', 'left45', 'left90', 'right45', 'right90', 'closeup')),
            stage TEXT NOT NULL DEFAULT 'before' CHECK (stage IN ('before', 'after')),
            area TEXT NOT NULL DEFAULT '',
            width INTEGER NOT NULL, height INTEGER NOT NULL,
            image BLOB NOT NULL, thumb BLOB NOT NULL,
            source_sha256 TEXT NOT NULL,
            imported_at TEXT NOT NULL, imported_by TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX photos_by_session ON photos (session_id, angle)")
    _version(db, 13)


@migrations()
def m014_session_owner(db: Database) -> None:
    """Which process records a session (host, process id, its start time): recovery leaves alone a
    session whose owner is still running (a second Abrasio on the same file)."""
    db["treatment_sessions"].add_column("owner_host", str)
    db["treatment_sessions"].add_column("owner_pid", int)
    db["treatment_sessions"].add_column("owner_started", float)
    _version(db, 14)


@migrations()
def m015_people_and_audit(db: Database) -> None:
    """People (accounts and roles), the append-only audit trail and the seal tables (issue #11)."""
    from desktop.store import security

    security.install(db)
    _version(db, 15)


@migrations()
def m016_record_seals(db: Database) -> None:
    """Seal every clinical row (and install the triggers that keep the seals) — on an encrypted file,
    whose connections hold the keyed functions. A plaintext file has no key to seal with: this records
    itself and does nothing there; converting the file seals it (``cipher.convert``)."""
    from desktop.store import security

    if security.has_functions(db):
        security.seal_tables(db)
    _version(db, 16)


MIGRATION_NAMES = [m.name for m in migrations._migrations]
SCHEMA_VERSION = len(MIGRATION_NAMES)
