"""The records store: the one place in Abrasio that speaks SQL.

One SQLite file, opened with foreign keys on, WAL, ``synchronous=NORMAL`` and a busy timeout.
Opening an existing file: it is checked read-only first; a file from a newer Abrasio is refused
untouched; before pending migrations run, a backup copy is taken beside it (SQLite's online backup).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from desktop.records import (
    Client,
    ScreeningAnswer,
    ScreeningRule,
    phone_digits,
)
from desktop.store import trace
from desktop.store.errors import (
    DatabaseFileError,
    DatabaseTooNewError,
    NotFoundError,
    StoreBugError,
    StoreError,
)
from desktop.store.migrations import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION, migrations

__all__ = [
    "DatabaseFileError",
    "DatabaseTooNewError",
    "NotFoundError",
    "SessionRow",
    "Store",
    "StoreBugError",
    "StoreError",
]

BUSY_TIMEOUT_MS = 5000
_PHONE_QUERY = re.compile(r"[+(]?\d[\d\s()\-./]*")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class SessionRow:
    id: int
    client_id: int
    started_at: str
    ended_at: str | None
    status: str
    handpiece: str
    mode: str
    grit: str
    crystal_flow: int | None
    set_point_kpa: float | None
    ceiling_kpa: float | None
    areas: list[str]
    planned_minutes: int | None
    planned_passes: int | None
    override_reason: str
    practitioner: str
    samples_recorded: int
    samples_lost: int
    summary: dict
    heartbeat_at: str | None

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)


def inspect_file(path: Path) -> tuple[list[str], int]:
    """Read-only look at an existing file: (applied migration names, user_version).

    Raises DatabaseFileError when it is not a usable SQLite database. Call it only before this process
    has SQLite connections to the file (see ``Store.connect``).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseFileError(f"Cannot read the database file {path}: {exc.strerror}.") from exc
    if head and head != _SQLITE_MAGIC:
        raise DatabaseFileError(f"{path} is not an Abrasio database (it is not an SQLite file).")
    try:
        # Read-only; and where no -wal file is beside it, immutable, so not even -shm/-wal files appear.
        wal = Path(f"{path}-wal").exists()
        uri = f"{Path(path).resolve().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
        conn = sqlite3.connect(uri, uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            names: list[str] = []
            if "_sqlite_migrations" in tables:
                names = [
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
                        [MIGRATION_SET],
                    )
                ]
            elif tables:
                raise DatabaseFileError(
                    f"{path} is an SQLite database, but not one of Abrasio's (it has other tables)."
                )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"{path} is damaged or not a database: {exc}.") from exc
    return names, version


def check_version(path: Path, names: list[str], version: int) -> None:
    unknown = [n for n in names if n not in MIGRATION_NAMES]
    if unknown or version > SCHEMA_VERSION:
        raise DatabaseTooNewError(
            f"{path} was written by a newer version of Abrasio (schema {max(version, len(names))}; "
            f"this version knows up to {SCHEMA_VERSION}). Install the newer Abrasio to open it. "
            "The file has not been changed."
        )


def backup_copy(src: sqlite3.Connection, path: Path, version: int) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.v{version}-{stamp}-{n}.bak")
    target = sqlite3.connect(dest)
    try:
        src.backup(target)
    finally:
        target.close()
    return dest


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        conn.close()
        raise DatabaseFileError(f"Cannot use write-ahead logging on {path} (journal mode {mode}).")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Store:
    """An open Abrasio database. One per thread (SQLite connections are not shared across threads)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, backup: Path | None = None):
        self.path = path
        self.conn = conn
        self.db = Database(conn, execute_plugins=False)
        self.backup_path = backup  # the copy taken before this open's migrations, if any

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, stop_before: str | None = None) -> Store:
        """Open (creating if needed) and migrate. ``stop_before``: tests build past versions."""
        path = Path(path)
        existing = path.exists() and path.stat().st_size > 0
        if existing:
            names, version = inspect_file(path)
            check_version(path, names, version)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseFileError(f"Cannot create the folder {path.parent}: {exc.strerror}.") from exc
            names = []
        try:
            conn = _connect(path)
        except sqlite3.Error as exc:
            raise DatabaseFileError(f"Cannot open {path}: {exc}.") from exc
        store = cls(path, conn)
        try:
            pending = [m.name for m in migrations.pending(store.db)]
            if stop_before in pending:
                pending = pending[: pending.index(stop_before)]
            if pending and existing and names:
                store.backup_path = backup_copy(conn, path, len(names))
            migrations.apply(store.db, stop_before=stop_before)
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" in str(exc) or "readonly" in str(exc) or "disk" in str(exc):
                raise DatabaseFileError(f"Cannot update {path}: {exc}.") from exc
            raise StoreBugError(f"Upgrading {path} failed and was rolled back: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseFileError(f"{path} is damaged: {exc}.") from exc
        except Exception as exc:
            conn.close()
            raise StoreBugError(f"Upgrading {path} failed and was rolled back: {exc!r}") from exc
        return store

    @classmethod
    def connect(cls, path: str | os.PathLike) -> Store:
        """Another connection to a file this process already opened with ``open`` (another thread).

        Only SQLite touches the file here: ``open``'s header check reads it with a plain file handle,
        and closing that handle would drop the POSIX locks of every SQLite connection in this process.
        """
        return cls(Path(path), _connect(Path(path)))

    def reopen(self) -> Store:
        """Another connection to the same file (for another thread)."""
        return Store.connect(self.path)

    def close(self) -> None:
        self.conn.close()

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    def _q(self, sql: str, params: Sequence | dict = ()) -> list[sqlite3.Row]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _log(self, who: str, record_type: str, record_id: int, action: str, details: dict) -> None:
        self.db["change_log"].insert(
            {
                "at": now_iso(),
                "who": who or "",
                "record_type": record_type,
                "record_id": record_id,
                "action": action,
                "details": json.dumps(details, default=str),
            }
        )

    # -- settings --------------------------------------------------------------------------------
    def setting(self, key: str, default=None):
        rows = self._q("SELECT value FROM settings WHERE key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value, who: str = "") -> None:
        with self.db.atomic():
            self.db["settings"].upsert({"key": key, "value": json.dumps(value)}, pk="key")
            self._log(who, "setting", 0, "set", {"key": key, "value": value})

    # -- practitioners ---------------------------------------------------------------------------
    def practitioners(self) -> list[str]:
        return [r["name"] for r in self._q("SELECT name FROM practitioners WHERE active = 1 ORDER BY name")]

    def add_practitioner(self, name: str) -> int:
        with self.db.atomic():
            return self.db["practitioners"].insert({"name": name.strip(), "created_at": now_iso()}).last_pk

    # -- clients ---------------------------------------------------------------------------------
    @staticmethod
    def _client_row(c: Client) -> dict:
        return {
            "first_name": c.first_name.strip(),
            "last_name": c.last_name.strip(),
            "date_of_birth": _d(c.date_of_birth),
            "phone": c.phone.strip(),
            "phone_digits": phone_digits(c.phone),
            "email": c.email.strip(),
            "fitzpatrick": c.fitzpatrick,
            "sensitivity": c.sensitivity,
            "concerns": json.dumps(sorted(c.concerns)),
            "consent_date": _d(c.consent_date),
            "consent_witness": c.consent_witness.strip(),
            "vacuum_ceiling_kpa": c.vacuum_ceiling_kpa,
            "notes": c.notes,
            "archived": int(c.archived),
        }

    @staticmethod
    def _client(row: dict) -> Client:
        pd = dt.date.fromisoformat
        return Client(
            first_name=row["first_name"] or "",
            last_name=row["last_name"] or "",
            date_of_birth=pd(row["date_of_birth"]) if row["date_of_birth"] else None,
            phone=row["phone"] or "",
            email=row["email"] or "",
            fitzpatrick=row["fitzpatrick"],
            sensitivity=row["sensitivity"],
            concerns=json.loads(row["concerns"] or "[]"),
            consent_date=pd(row["consent_date"]) if row["consent_date"] else None,
            consent_witness=row["consent_witness"] or "",
            vacuum_ceiling_kpa=row["vacuum_ceiling_kpa"],
            notes=row["notes"] or "",
            archived=bool(row["archived"]),
            id=row["id"],
            last_visit=pd(row["last_visit"][:10]) if row["last_visit"] else None,
        )

    def add_client(self, c: Client, who: str = "") -> int:
        row = self._client_row(c) | {"created_at": now_iso(), "updated_at": now_iso()}
        with self.db.atomic():
            cid = self.db["clients"].insert(row).last_pk
            self._log(who, "client", cid, "create", {k: v for k, v in row.items() if v not in (None, "")})
        return cid

    def import_clients(self, clients: Iterable[Client], who: str = "") -> int:
        """Insert many clients in one transaction (demo data, imports); one change-log entry."""
        stamp = now_iso()
        rows = [
            self._client_row(c) | {"created_at": stamp, "updated_at": stamp, "last_visit": _d(c.last_visit)}
            for c in clients
        ]
        with self.db.atomic():
            self.db["clients"].insert_all(rows, batch_size=1000)
            self._log(who, "client", 0, "import", {"count": len(rows)})
        return len(rows)

    def save_client_record(self, c: Client, answers: Iterable[ScreeningAnswer], who: str = "") -> int:
        """Create or update a client together with their screening, all or nothing."""
        with self.db.atomic():
            if c.id is None:
                c.id = self.add_client(c, who)
            else:
                self.update_client(c, who)
            self.save_screening(c.id, answers, who)
        return c.id

    def update_client(self, c: Client, who: str = "") -> None:
        if c.id is None:
            raise StoreBugError("update_client needs a client id")
        old = self._q("SELECT * FROM clients WHERE id = ?", [c.id])
        if not old:
            raise NotFoundError(f"client {c.id} does not exist")
        new = self._client_row(c)
        changed = {k: [old[0][k], v] for k, v in new.items() if old[0][k] != v}
        if not changed:
            return
        with self.db.atomic():
            self.db["clients"].update(c.id, new | {"updated_at": now_iso()})
            self._log(who, "client", c.id, "update", changed)

    def set_archived(self, client_id: int, archived: bool, who: str = "") -> None:
        with self.db.atomic():
            self.db["clients"].update(client_id, {"archived": int(archived), "updated_at": now_iso()})
            self._log(who, "client", client_id, "archive" if archived else "unarchive", {})

    def client(self, client_id: int) -> Client:
        rows = self._q("SELECT * FROM clients WHERE id = ?", [client_id])
        if not rows:
            raise NotFoundError(f"client {client_id} does not exist")
        return self._client(rows[0])

    @staticmethod
    def _search_sql(query: str, archived: bool) -> tuple[str, list]:
        """Every word must match: 3+ characters anywhere (trigram index), 1–2 characters at the start
        of a word (prefix index). A query of digits and phone punctuation is one phone number."""
        where, params = ["c.archived = ?"], [int(archived)]
        query = "".join(ch if ch.isprintable() else " " for ch in query)  # pasted NULs, tabs…
        substrings, prefixes = [], []
        words = query.split()
        if _PHONE_QUERY.fullmatch(query.strip() or "x"):
            words = [phone_digits(query)]  # "7700 900 12" is one number, however it is spaced
        for word in words:
            digits = phone_digits(word)
            term = digits if digits and len(digits) >= len(word.strip("+()-.")) else word
            quoted = '"' + term.replace('"', '""') + '"'
            (substrings if len(term) >= 3 else prefixes).append(quoted)
        if substrings:
            where.append("c.id IN (SELECT rowid FROM clients_fts WHERE clients_fts MATCH ?)")
            params.append(" ".join(substrings))
        if prefixes:
            where.append("c.id IN (SELECT rowid FROM clients_words WHERE clients_words MATCH ?)")
            params.append(" ".join(f"{p}*" for p in prefixes))
        return " AND ".join(where), params

    def search_clients(
        self, query: str = "", archived: bool = False, limit: int = 100, offset: int = 0
    ) -> list[dict]:
        """Clients matching every word of ``query`` (any part of name, phone, email), last visit first."""
        where, params = self._search_sql(query, archived)
        return self._q(
            f"SELECT c.id, c.first_name, c.last_name, c.date_of_birth, c.phone, c.email, "
            f"c.last_visit, c.sensitivity, c.vacuum_ceiling_kpa, c.consent_date FROM clients c "
            f"WHERE {where} ORDER BY c.last_visit DESC, c.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    def count_clients(self, query: str = "", archived: bool = False) -> int:
        where, params = self._search_sql(query, archived)
        return self.conn.execute(f"SELECT count(*) FROM clients c WHERE {where}", params).fetchone()[0]

    def change_log(self, record_type: str, record_id: int) -> list[dict]:
        rows = self._q(
            "SELECT at, who, action, details FROM change_log WHERE record_type = ? AND record_id = ? "
            "ORDER BY id",
            [record_type, record_id],
        )
        for r in rows:
            r["details"] = json.loads(r["details"] or "{}")
        return rows

    # -- screening -------------------------------------------------------------------------------
    def screening_rules(self) -> list[ScreeningRule]:
        return [ScreeningRule(**r) for r in self._q("SELECT * FROM screening_rules ORDER BY sort, code")]

    def save_screening_rule(self, rule: ScreeningRule, who: str = "") -> None:
        if rule.effect not in ("block", "warn") or rule.months < 0 or rule.days < 0:
            raise ValueError("a rule blocks or warns, for zero or more months and days")
        with self.db.atomic():
            self.db["screening_rules"].upsert(rule.__dict__, pk="code")
            self._log(who, "screening_rule", 0, "set", rule.__dict__)

    def screening(self, client_id: int) -> list[ScreeningAnswer]:
        pd = dt.date.fromisoformat
        return [
            ScreeningAnswer(
                r["code"],
                pd(r["since"]) if r["since"] else None,
                pd(r["ended"]) if r["ended"] else None,
                r["note"] or "",
            )
            for r in self._q("SELECT * FROM screening_answers WHERE client_id = ? ORDER BY id", [client_id])
        ]

    def save_screening(self, client_id: int, answers: Iterable[ScreeningAnswer], who: str = "") -> None:
        """Replace the client's screening answers with ``answers`` (one per item), logged."""
        answers = list(answers)
        before = {a.code: a for a in self.screening(client_id)}
        after = {a.code: a for a in answers}
        if before == after:
            return
        with self.db.atomic():
            self.conn.execute("DELETE FROM screening_answers WHERE client_id = ?", [client_id])
            self.db["screening_answers"].insert_all(
                {
                    "client_id": client_id,
                    "code": a.code,
                    "since": _d(a.since),
                    "ended": _d(a.ended),
                    "note": a.note,
                    "recorded_at": now_iso(),
                    "recorded_by": who,
                }
                for a in answers
            )
            self._log(
                who,
                "client",
                client_id,
                "screening",
                {
                    "before": [a.__dict__ for a in before.values()],
                    "after": [a.__dict__ for a in after.values()],
                },
            )

    # -- treatment sessions ----------------------------------------------------------------------
    def create_session(self, client_id: int, who: str = "", **fields) -> int:
        row = {
            "client_id": client_id,
            "practitioner": who,
            "started_at": now_iso(),
            "status": "recording",
            "heartbeat_at": now_iso(),
            "samples_recorded": 0,
            "samples_lost": 0,
        }
        for key in ("areas", "screening"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        row |= fields
        with self.db.atomic():
            sid = self.db["treatment_sessions"].insert(row).last_pk
            self.db["session_notes"].insert(
                {
                    "session_id": sid,
                    "areas": row.get("areas", "[]"),
                    "passes": "{}",
                    "grit": row.get("grit"),
                    "crystal_flow": row.get("crystal_flow"),
                    "set_point_kpa": row.get("set_point_kpa"),
                    "findings": "[]",
                    "updated_at": now_iso(),
                }
            )
            self._log(who, "session", sid, "start", {"client_id": client_id, **fields})
        return sid

    def append_trace(
        self, session_id: int, first_chunk: int, blocks: list[trace.TraceBlock], lost: int = 0
    ) -> None:
        """Store packed trace blocks and bump the session's counters, in one transaction."""
        with self.db.atomic():
            self.conn.executemany(
                "INSERT INTO vacuum_trace_chunks (session_id, chunk, t0, seq0, n, vmax, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (session_id, first_chunk + i, b.t0, b.seq0, b.n, b.vmax, b.data)
                    for i, b in enumerate(blocks)
                ],
            )
            self.conn.execute(
                "UPDATE treatment_sessions SET samples_recorded = samples_recorded + ?, "
                "samples_lost = samples_lost + ?, heartbeat_at = ? WHERE id = ?",
                [sum(b.n for b in blocks), lost, now_iso(), session_id],
            )

    def heartbeat(self, session_id: int) -> None:
        self.conn.execute(
            "UPDATE treatment_sessions SET heartbeat_at = ? WHERE id = ?", [now_iso(), session_id]
        )
        self.conn.commit()

    def trace_chunk_count(self, session_id: int) -> int:
        return self.conn.execute(
            "SELECT coalesce(max(chunk) + 1, 0) FROM vacuum_trace_chunks WHERE session_id = ?", [session_id]
        ).fetchone()[0]

    def load_trace(self, session_id: int) -> dict[str, np.ndarray]:
        """The whole recorded trace: seq, t (device s), vacuum (kPa), flags — in order."""
        seqs, ts, vacs, flags = [], [], [], []
        for t0, seq0, data in self.conn.execute(
            "SELECT t0, seq0, data FROM vacuum_trace_chunks WHERE session_id = ? ORDER BY chunk",
            [session_id],
        ):
            try:
                s, t, v, f = trace.unpack(t0, seq0, data)
            except (ValueError, Exception) as exc:  # zlib.error, format
                raise DatabaseFileError(f"Part of this session's trace is damaged: {exc}") from exc
            seqs.append(s)
            ts.append(t)
            vacs.append(v)
            flags.append(f)
        if not seqs:
            empty = np.zeros(0)
            return {
                "seq": empty.astype(np.int64),
                "t": empty,
                "vacuum": empty,
                "flags": empty.astype(np.uint8),
            }
        return {
            "seq": np.concatenate(seqs),
            "t": np.concatenate(ts),
            "vacuum": np.concatenate(vacs),
            "flags": np.concatenate(flags),
        }

    def add_marker(self, session_id: int, t: float, label: str = "") -> int:
        with self.db.atomic():
            return (
                self.db["markers"]
                .insert({"session_id": session_id, "t": t, "label": label, "created_at": now_iso()})
                .last_pk
            )

    def label_marker(self, marker_id: int, label: str) -> None:
        with self.db.atomic():
            self.db["markers"].update(marker_id, {"label": label})

    def markers(self, session_id: int) -> list[dict]:
        return self._q("SELECT id, t, label FROM markers WHERE session_id = ? ORDER BY t", [session_id])

    def save_alarm(self, session_id: int, alarm: dict) -> int:
        """Insert (no ``id``) or update an alarm record; returns its id."""
        with self.db.atomic():
            if alarm.get("id"):
                self.db["alarms"].update(alarm["id"], {k: v for k, v in alarm.items() if k != "id"})
                return alarm["id"]
            return self.db["alarms"].insert({"session_id": session_id, **alarm}).last_pk

    def alarms(self, session_id: int) -> list[dict]:
        return self._q("SELECT * FROM alarms WHERE session_id = ? ORDER BY started, id", [session_id])

    def notes(self, session_id: int) -> dict:
        rows = self._q("SELECT * FROM session_notes WHERE session_id = ?", [session_id])
        if not rows:
            raise NotFoundError(f"session {session_id} has no notes")
        r = rows[0]
        for key, empty in (("areas", "[]"), ("passes", "{}"), ("findings", "[]")):
            r[key] = json.loads(r[key] or empty)
        return r

    def save_notes(self, session_id: int, notes: dict, who: str = "", amend: bool = False) -> None:
        """Autosave (``amend=False``: while the session runs) or amend a finished session (logged)."""
        fields = {
            k: notes[k]
            for k in (
                "areas",
                "passes",
                "grit",
                "crystal_flow",
                "set_point_kpa",
                "erythema",
                "findings",
                "aftercare",
                "notes",
            )
            if k in notes
        }
        for key in ("areas", "passes", "findings"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        old = self._q("SELECT * FROM session_notes WHERE session_id = ?", [session_id])
        changed = {k: [old[0][k], v] for k, v in fields.items() if old and old[0][k] != v}
        if old and not changed:
            return
        with self.db.atomic():
            self.db["session_notes"].upsert(
                {"session_id": session_id, **fields, "updated_at": now_iso()}, pk="session_id"
            )
            if amend:
                self._log(who, "session", session_id, "amend notes", changed)

    def finish_session(
        self,
        session_id: int,
        summary: dict,
        who: str = "",
        status: str = "completed",
        ended_at: str | None = None,
    ) -> None:
        row = self._q("SELECT client_id, started_at FROM treatment_sessions WHERE id = ?", [session_id])
        if not row:
            raise NotFoundError(f"session {session_id} does not exist")
        with self.db.atomic():
            self.db["treatment_sessions"].update(
                session_id,
                {"ended_at": ended_at or now_iso(), "status": status, "summary": json.dumps(summary)},
            )
            self._visited(row[0]["client_id"], row[0]["started_at"])
            self._log(who, "session", session_id, status, summary)

    def _visited(self, client_id: int, started_at: str) -> None:
        """A session took place: the client's last visit is the latest session start."""
        self.conn.execute(
            "UPDATE clients SET last_visit = max(coalesce(last_visit, ''), ?) WHERE id = ?",
            [started_at, client_id],
        )

    def _session(self, r: dict) -> SessionRow:
        return SessionRow(
            id=r["id"],
            client_id=r["client_id"],
            started_at=r["started_at"],
            ended_at=r["ended_at"],
            status=r["status"],
            handpiece=r["handpiece"] or "",
            mode=r["mode"] or "",
            grit=r["grit"] or "",
            crystal_flow=r["crystal_flow"],
            set_point_kpa=r["set_point_kpa"],
            ceiling_kpa=r["ceiling_kpa"],
            areas=json.loads(r["areas"] or "[]"),
            planned_minutes=r["planned_minutes"],
            planned_passes=r["planned_passes"],
            override_reason=r["override_reason"] or "",
            practitioner=r["practitioner"] or "",
            samples_recorded=r["samples_recorded"] or 0,
            samples_lost=r["samples_lost"] or 0,
            summary=json.loads(r["summary"] or "{}"),
            heartbeat_at=r["heartbeat_at"],
        )

    def session(self, session_id: int) -> SessionRow:
        rows = self._q("SELECT * FROM treatment_sessions WHERE id = ?", [session_id])
        if not rows:
            raise NotFoundError(f"session {session_id} does not exist")
        return self._session(rows[0])

    def sessions_for_client(self, client_id: int) -> list[SessionRow]:
        return [
            self._session(r)
            for r in self._q(
                "SELECT * FROM treatment_sessions WHERE client_id = ? ORDER BY started_at DESC, id DESC",
                [client_id],
            )
        ]

    def unfinished_sessions(self) -> list[SessionRow]:
        """Sessions left 'recording' (the app was killed) or 'interrupted' and not yet closed."""
        return [
            self._session(r)
            for r in self._q(
                "SELECT * FROM treatment_sessions WHERE status IN ('recording', 'interrupted') ORDER BY id"
            )
        ]

    def mark_interrupted(self, session_id: int) -> None:
        row = self._q("SELECT client_id, started_at FROM treatment_sessions WHERE id = ?", [session_id])
        with self.db.atomic():
            self.conn.execute(
                "UPDATE treatment_sessions SET status = 'interrupted', ended_at = coalesce(ended_at, "
                "heartbeat_at) WHERE id = ? AND status = 'recording'",
                [session_id],
            )
            self._visited(row[0]["client_id"], row[0]["started_at"])
            self._log("", "session", session_id, "interrupted", {})
