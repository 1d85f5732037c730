"""The SQL of accounts, the audit trail and record seals (the design is in ``desktop/audit.py``).

``install(db)`` creates the tables and triggers (the body of the migrations that issue #11's second part
appends to ``migrations.py``); ``seal_tables(db)`` (re)creates the seal triggers with every table's
current columns and seals every row; ``register(conn, key)`` gives a connection the keyed SQL functions
those triggers call. A connection without them (the ``sqlite3`` tool, a script) cannot write a sealed
table or the audit trail at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from desktop import audit
from desktop.keys import derive
from desktop.store import now_iso

# Every table whose rows say something about a client's care or who may see it. ``settings`` holds the
# ceiling defaults and alarm times; ``screening_rules`` what blocks a treatment; ``people`` the roles.
SEALED_TABLES = (
    "clients",
    "screening_answers",
    "screening_rules",
    "treatment_sessions",
    "session_notes",
    "vacuum_trace_chunks",
    "markers",
    "alarms",
    "settings",
    "people",
)

# In the clinic's words, for the verifier's messages.
RECORD_NAMES = {
    "clients": "client",
    "screening_answers": "screening answer",
    "screening_rules": "screening rule",
    "treatment_sessions": "treatment session",
    "session_notes": "session notes",
    "vacuum_trace_chunks": "vacuum trace block",
    "markers": "marker",
    "alarms": "alarm",
    "settings": "setting",
    "people": "person",
}


@dataclass
class Protection:
    """The keys a connection's SQL functions were registered with (derived from the database key)."""

    seal_key: bytes
    audit_key: bytes


def register(conn, database_key: bytes) -> Protection:
    """Give ``conn`` (sqlite3 or sqlcipher3) the keyed functions the triggers and the audit trail call."""
    p = Protection(derive(database_key, "record-seals"), derive(database_key, "audit-chain"))
    conn.create_function("abrasio_seal", -1, lambda table, rowid, *v: audit.seal(p.seal_key, table, rowid, v))
    conn.create_function("abrasio_count_mac", 2, lambda table, n: audit.count_mac(p.seal_key, table, n))
    conn.create_function("abrasio_audit_mac", 10, lambda prev, *f: audit.entry_mac(p.audit_key, prev, f))
    conn.create_function("abrasio_audit_head", 2, lambda i, mac: audit.head_mac(p.audit_key, i, mac))
    return p


# -- schema ------------------------------------------------------------------------------------------
def install(db: Database) -> None:
    """People, the audit trail (append-only) and the seal tables. Run inside a migration."""
    db.execute(
        """CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            roles TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            passphrase_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            deactivated_at TEXT)"""
    )
    db.execute(
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            person_id INTEGER,
            person TEXT NOT NULL,
            action TEXT NOT NULL,
            record_type TEXT NOT NULL,
            record_id INTEGER,
            client_id INTEGER,
            details TEXT NOT NULL,
            mac BLOB NOT NULL)"""
    )
    db.execute("CREATE INDEX audit_by_client ON audit_log (client_id, id)")
    db.execute("CREATE INDEX audit_by_person ON audit_log (person_id, id)")
    db.execute("CREATE INDEX audit_by_time ON audit_log (at)")
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log BEGIN "
            f"SELECT RAISE(ABORT, 'The audit trail cannot be changed or deleted: it only grows.'); END"
        )
    db.execute(
        """CREATE TABLE audit_head (
            k INTEGER PRIMARY KEY CHECK (k = 1),
            last_id INTEGER NOT NULL, last_mac BLOB NOT NULL, mac BLOB NOT NULL)"""
    )
    db.execute(
        "CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log BEGIN "
        "INSERT OR REPLACE INTO audit_head (k, last_id, last_mac, mac) "
        "VALUES (1, new.id, new.mac, abrasio_audit_head(new.id, new.mac)); END"
    )
    db.execute(
        """CREATE TABLE record_seals (
            tbl TEXT NOT NULL, rid INTEGER NOT NULL, mac BLOB NOT NULL,
            PRIMARY KEY (tbl, rid)) WITHOUT ROWID"""
    )
    db.execute("CREATE TABLE seal_counts (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL, mac BLOB NOT NULL)")


def _columns(db: Database, table: str) -> list[str]:
    return [r[1] for r in db.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _seal_expr(db: Database, table: str, row: str) -> str:
    cols = ", ".join(f'{row}."{c}"' for c in _columns(db, table))
    return f"abrasio_seal('{table}', {row}.rowid, {cols})"


def seal_tables(db: Database) -> None:
    """(Re)create the seal triggers with every sealed table's current columns and seal every row.

    Run by the migration that installs seals and again at the end of any later migration that changes a
    sealed table's columns (the new column is then sealed too). It trusts the rows as they are: run it
    only after the verifier passed, inside the migration's transaction, on a connection with
    ``register``'s functions.
    """
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    for t in SEALED_TABLES:
        if t not in tables:
            continue
        for suffix in ("ai", "au", "ad"):
            db.execute(f"DROP TRIGGER IF EXISTS seal_{t}_{suffix}")
        new = _seal_expr(db, t, "new")
        db.execute(
            f'CREATE TRIGGER seal_{t}_ai AFTER INSERT ON "{t}" BEGIN '
            f"INSERT OR REPLACE INTO record_seals (tbl, rid, mac) VALUES ('{t}', new.rowid, {new}); "
            f"UPDATE seal_counts SET n = n + 1, mac = abrasio_count_mac('{t}', n + 1) WHERE tbl = '{t}'; END"
        )
        db.execute(
            f'CREATE TRIGGER seal_{t}_au AFTER UPDATE ON "{t}" BEGIN '
            f"DELETE FROM record_seals WHERE tbl = '{t}' AND rid = old.rowid; "
            f"INSERT OR REPLACE INTO record_seals (tbl, rid, mac) VALUES ('{t}', new.rowid, {new}); END"
        )
        db.execute(
            f'CREATE TRIGGER seal_{t}_ad AFTER DELETE ON "{t}" BEGIN '
            f"DELETE FROM record_seals WHERE tbl = '{t}' AND rid = old.rowid; "
            f"UPDATE seal_counts SET n = n - 1, mac = abrasio_count_mac('{t}', n - 1) WHERE tbl = '{t}'; END"
        )
        db.execute("DELETE FROM record_seals WHERE tbl = ?", [t])
        every = _seal_expr(db, t, f'"{t}"')
        db.execute(f"INSERT INTO record_seals (tbl, rid, mac) SELECT '{t}', rowid, {every} FROM \"{t}\"")
        n = db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
        db.execute(
            "INSERT OR REPLACE INTO seal_counts (tbl, n, mac) VALUES (?, ?, abrasio_count_mac(?, ?))",
            [t, n, t, n],
        )


# -- checking seals ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SealProblem:
    table: str
    rowid: int | None
    kind: str  # changed | unsealed | deleted | count | unprotected

    def describe(self) -> str:
        what = RECORD_NAMES.get(self.table, self.table)
        if self.kind == "changed":
            return f"The {what} #{self.rowid} was changed outside Abrasio."
        if self.kind == "unsealed":
            return f"The {what} #{self.rowid} was added outside Abrasio."
        if self.kind == "deleted":
            return f"The {what} #{self.rowid} was deleted outside Abrasio."
        if self.kind == "count":
            return f"Records of the kind '{what}' were added or deleted outside Abrasio (their count is off)."
        return f"The protection of the {what} records was removed outside Abrasio (a trigger is missing)."


def row_is_sealed(db: Database, table: str, rowid: int) -> bool:
    """The check on read: does this row still match the seal Abrasio wrote?"""
    expr = _seal_expr(db, table, f'"{table}"')
    row = db.execute(
        f"SELECT {expr} = (SELECT mac FROM record_seals WHERE tbl = ? AND rid = ?) "
        f'FROM "{table}" WHERE rowid = ?',
        [table, rowid, rowid],
    ).fetchone()
    return bool(row and row[0])


def verify_records(db: Database) -> list[SealProblem]:
    """Every sealed row against its seal, every seal against a row, every table against its count."""
    problems: list[SealProblem] = []
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    for t in SEALED_TABLES:
        if t not in tables:
            continue
        if not {f"seal_{t}_ai", f"seal_{t}_au", f"seal_{t}_ad"} <= triggers:
            problems.append(SealProblem(t, None, "unprotected"))
        expr = _seal_expr(db, t, "r")
        for (rid,) in db.execute(
            f'SELECT r.rowid FROM "{t}" r JOIN record_seals s ON s.tbl = ? AND s.rid = r.rowid '
            f"WHERE s.mac != {expr} ORDER BY r.rowid",
            [t],
        ).fetchall():
            problems.append(SealProblem(t, rid, "changed"))
        for (rid,) in db.execute(
            f'SELECT rowid FROM "{t}" WHERE rowid NOT IN (SELECT rid FROM record_seals WHERE tbl = ?) '
            "ORDER BY rowid",
            [t],
        ).fetchall():
            problems.append(SealProblem(t, rid, "unsealed"))
        for (rid,) in db.execute(
            f'SELECT rid FROM record_seals WHERE tbl = ? AND rid NOT IN (SELECT rowid FROM "{t}") '
            "ORDER BY rid",
            [t],
        ).fetchall():
            problems.append(SealProblem(t, rid, "deleted"))
        count = db.execute(
            f'SELECT (SELECT count(*) FROM "{t}") = s.n AND s.mac = abrasio_count_mac(?, s.n) '
            "FROM seal_counts s WHERE s.tbl = ?",
            [t, t],
        ).fetchone()
        if not count or not count[0]:
            problems.append(SealProblem(t, None, "count"))
    return problems


# -- the audit trail ---------------------------------------------------------------------------------
def audit_append(
    db: Database,
    *,
    person_id: int | None,
    person: str,
    action: str,
    record_type: str,
    record_id: int | None = None,
    client_id: int | None = None,
    details: dict | None = None,
    at: str | None = None,
) -> int:
    """Append one entry, chained to the last. One statement: the id and the previous MAC are read under
    the same write lock as the insert, so two connections (the window, the recorder) never fork it."""
    text = json.dumps(details or {}, sort_keys=True, default=str, ensure_ascii=False)
    at = at or now_iso()
    with db.atomic():
        db.execute(
            """INSERT INTO audit_log
                 (id, at, person_id, person, action, record_type, record_id, client_id, details, mac)
               SELECT n.id, :at, :pid, :person, :action, :rtype, :rid, :cid, :details,
                      abrasio_audit_mac((SELECT mac FROM audit_log WHERE id = n.id - 1),
                                        n.id, :at, :pid, :person, :action, :rtype, :rid, :cid, :details)
               FROM (SELECT coalesce(max(id), 0) + 1 AS id FROM audit_log) AS n""",
            {
                "at": at,
                "pid": person_id,
                "person": person,
                "action": action,
                "rtype": record_type,
                "rid": record_id,
                "cid": client_id,
                "details": text,
            },
        )
        return db.execute("SELECT max(id) FROM audit_log").fetchone()[0]


_ENTRY_COLS = "id, at, person_id, person, action, record_type, record_id, client_id, details, mac"


def audit_entries(
    db: Database,
    *,
    client_id: int | None = None,
    person_id: int | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
) -> list[audit.AuditEntry]:
    """Entries matching every given filter, oldest first (``until`` is exclusive)."""
    where, params = [], []
    for sql, value in (
        ("client_id = ?", client_id),
        ("person_id = ?", person_id),
        ("at >= ?", since),
        ("at < ?", until),
    ):
        if value is not None:
            where.append(sql)
            params.append(value)
    sql = f"SELECT {_ENTRY_COLS} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [audit.AuditEntry(*r) for r in db.execute(sql, params).fetchall()]


def verify_audit(db: Database, protection: Protection) -> audit.AuditVerdict:
    entries = (audit.AuditEntry(*r) for r in db.execute(f"SELECT {_ENTRY_COLS} FROM audit_log ORDER BY id"))
    head = db.execute("SELECT last_id, last_mac, mac FROM audit_head WHERE k = 1").fetchone()
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    verdict = audit.verify_chain(protection.audit_key, entries, tuple(head) if head else None)
    missing = {"audit_log_no_update", "audit_log_no_delete", "audit_log_head"} - triggers
    if verdict.ok and missing:
        return audit.AuditVerdict(
            False, verdict.entries, None, "The audit trail's protection was removed outside Abrasio."
        )
    return verdict


# -- people ------------------------------------------------------------------------------------------
def add_person(db: Database, name: str, roles: list[str], passphrase_hash: str) -> int:
    with db.atomic():
        return db.execute(
            "INSERT INTO people (name, roles, active, passphrase_hash, created_at) VALUES (?, ?, 1, ?, ?)",
            [name, json.dumps(sorted(roles)), passphrase_hash, now_iso()],
        ).lastrowid


def people(db: Database) -> list[dict]:
    rows = db.execute(
        "SELECT id, name, roles, active, passphrase_hash, created_at, deactivated_at FROM people "
        "ORDER BY active DESC, name COLLATE NOCASE"
    ).fetchall()
    keys = ("id", "name", "roles", "active", "passphrase_hash", "created_at", "deactivated_at")
    return [dict(zip(keys, r, strict=True)) | {"roles": json.loads(r[2])} for r in rows]


def person_by_name(db: Database, name: str) -> dict | None:
    for p in people(db):
        if p["name"].casefold() == name.strip().casefold():
            return p
    return None


def person_by_id(db: Database, person_id: int) -> dict | None:
    return next((p for p in people(db) if p["id"] == person_id), None)


def update_person(db: Database, person_id: int, **fields) -> None:
    allowed = {"roles", "active", "passphrase_hash", "deactivated_at"}
    if not fields or set(fields) - allowed:
        raise ValueError(f"cannot update {sorted(set(fields) - allowed)} of a person")
    if "roles" in fields:
        fields["roles"] = json.dumps(sorted(fields["roles"]))
    sets = ", ".join(f"{k} = ?" for k in fields)
    with db.atomic():
        db.execute(f"UPDATE people SET {sets} WHERE id = ?", [*fields.values(), person_id])


# -- opening (this part's stand-in for Store.open(path, key); see docs/security-design.md) ------------
def open_protected(path, database_key: bytes, *, create: bool = False):
    """An encrypted, migrated Store with the keyed functions registered and the security tables in place.

    Issue #11's second part folds this into ``Store.open``/``Store.connect`` (one connection function
    for everything) and turns the ``install``/``seal_tables`` step into numbered migrations.
    """
    from pathlib import Path

    from desktop.store import BUSY_TIMEOUT_MS, DatabaseFileError, Store
    from desktop.store.cipher import connect
    from desktop.store.migrations import migrations

    path = Path(path)
    if create and path.exists():
        raise DatabaseFileError(f"{path} already exists; a new clinic database is never written over it.")
    if not create and not path.exists():
        raise DatabaseFileError(f"There is no database at {path}.")
    conn = connect(path, database_key, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise DatabaseFileError(f"Cannot use write-ahead logging on {path}.")
        conn.execute("PRAGMA synchronous = NORMAL")
        protection = register(conn, database_key)
        store = Store(path, conn)
        migrations.apply(store.db)
        if "people" not in store.db.table_names():
            with store.db.atomic():
                install(store.db)
                seal_tables(store.db)
    except BaseException:
        conn.close()
        raise
    store.protection = protection
    from desktop.store.connection import remember_key  # TRANSITIONAL (accounts-ui): see connection.py

    remember_key(path, database_key)
    return store
