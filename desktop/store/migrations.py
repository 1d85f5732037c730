"""The schema's history: numbered migrations, each a small function run in its own transaction.

Never edit a released migration; add the next one. ``PRAGMA user_version`` mirrors how many are applied.
"""

from __future__ import annotations

import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from desktop.records import DEFAULT_RULES

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


@migrations()
def m008_photos(db: Database) -> None:
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
    # this migration's number from what is applied before it, so renumbering at merge is a rename
    applied = db.execute(
        "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]
    ).fetchone()[0]
    _version(db, applied + 1)


MIGRATION_NAMES = [m.name for m in migrations._migrations]
SCHEMA_VERSION = len(MIGRATION_NAMES)
