"""Erasing a client. Part of the ``Store`` facade (``desktop/store/__init__.py``).

A full erasure deletes the client and every row that refers to them, found through the schema's
foreign keys (so tables added later, photos for one, are erased without this file knowing them). The
deleted bytes are overwritten (``secure_delete``), the search indexes rebuilt without them and the
write-ahead log emptied, so the erased data is not left readable in the file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from desktop.erasure import CONTACT_FIELDS, DEFAULT_RETENTION_YEARS, ErasurePlan, plan_erasure
from desktop.store.base import StoreBase, now_iso, parse_date, sql
from desktop.store.connection import BUSY_TIMEOUT_MS
from desktop.store.errors import NotFoundError
from desktop.store.sessions import VISITS

_CHUNK = 500
_CHECKPOINT_WAIT_MS = 500


@dataclass(frozen=True)
class ErasureRecord:
    """Who erased a client when, why, and what is kept until when (None: nothing was kept)."""

    client_id: int
    erased_at: str
    erased_by: str
    scope: str
    keep_until: dt.date | None
    reason: str

    @property
    def erased_on(self) -> dt.date:
        return parse_date(self.erased_at)


@dataclass(frozen=True)
class ErasureOutcome:
    plan: ErasurePlan
    log_emptied: bool  # False: another connection held the write-ahead log; it empties later

    @property
    def full(self) -> bool:
        return self.plan.full


_FTS_TABLES = ("clients_fts", "clients_words")


class ErasureMixin(StoreBase):
    """Uses ``setting`` from ``Store``."""

    def retention_years(self) -> int:
        return int(self.setting("retention_years", DEFAULT_RETENTION_YEARS))

    @sql("reading the client's sessions")
    def last_treatment(self, client_id: int) -> dt.date | None:
        marks = ",".join("?" * len(VISITS))
        row = self.conn.execute(
            "SELECT max(substr(started_at, 1, 10)) FROM treatment_sessions "
            f"WHERE client_id = ? AND status IN ({marks})",
            [client_id, *VISITS],
        ).fetchone()
        return dt.date.fromisoformat(row[0]) if row and row[0] else None

    def erasure_plan(self, client_id: int, today: dt.date) -> ErasurePlan:
        return plan_erasure(self.last_treatment(client_id), today, self.retention_years())

    @sql("reading the client's record")
    def erasure_counts(self, client_id: int) -> dict[str, int]:
        """How many rows of each table hold this client's record (what an erasure would touch)."""
        counts: Counter = Counter()
        self._walk("clients", "id", [client_id], counts, delete=False)
        counts.pop("clients", None)
        return dict(counts)

    @sql("reading the erasure records")
    def erasures(self, client_id: int) -> list[ErasureRecord]:
        return [
            ErasureRecord(
                r["client_id"],
                r["erased_at"],
                r["erased_by"] or "",
                r["scope"],
                parse_date(r["keep_until"]),
                r["reason"] or "",
            )
            for r in self._q("SELECT * FROM erasures WHERE client_id = ? ORDER BY id", [client_id])
        ]

    # -- the schema's references -------------------------------------------------------------------
    def _references_to(self, table: str) -> list[tuple[str, str, str]]:
        """(child table, its column, the parent column it refers to) for every foreign key to ``table``."""
        out = []
        for (name,) in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall():
            for fk in self.conn.execute(f'PRAGMA foreign_key_list("{name}")').fetchall():
                # (id, seq, table, from, to, on_update, on_delete, match)
                if fk[2] == table:
                    out.append((name, fk[3], fk[4] or "rowid"))
        return out

    def _walk(self, table: str, column: str, values: list, counts: Counter, delete: bool) -> None:
        """Count (or delete) the rows of ``table`` whose ``column`` is in ``values``, children first."""
        if not values:
            return
        for child, child_col, parent_col in self._references_to(table):
            parents = values if parent_col == column else self._column(table, parent_col, column, values)
            self._walk(child, child_col, parents, counts, delete)
        for i in range(0, len(values), _CHUNK):
            part = values[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            if delete:
                n = self.conn.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({marks})', part).rowcount
            else:
                n = self.conn.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}" IN ({marks})', part
                ).fetchone()[0]
            counts[table] += n

    def _column(self, table: str, wanted: str, column: str, values: list) -> list:
        out = []
        for i in range(0, len(values), _CHUNK):
            part = values[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            out += [
                r[0]
                for r in self.conn.execute(
                    f'SELECT "{wanted}" FROM "{table}" WHERE "{column}" IN ({marks})', part
                )
            ]
        return out

    # -- erasing -----------------------------------------------------------------------------------
    @sql("erasing the client")
    def erase_client(self, client_id: int, today: dt.date, who: str, reason: str) -> ErasureOutcome:
        """Erase what the clinic need not keep (see ``desktop.erasure``); returns the plan carried out and
        whether the write-ahead log could be emptied at once (see ``_empty_the_log``).

        Raises NotFoundError for an unknown client and ValueError while a session is being recorded."""
        rows = self._q("SELECT id FROM clients WHERE id = ?", [client_id])
        if not rows:
            raise NotFoundError(f"client {client_id} does not exist")
        if self._q(
            "SELECT 1 FROM treatment_sessions WHERE client_id = ? AND status = 'recording'", [client_id]
        ):
            raise ValueError("A session is being recorded for this client: finish it before erasing.")
        plan = self.erasure_plan(client_id, today)
        session_ids = [
            r["id"] for r in self._q("SELECT id FROM treatment_sessions WHERE client_id = ?", [client_id])
        ]
        secure = self.conn.execute("PRAGMA secure_delete").fetchone()[0]
        self.conn.execute("PRAGMA secure_delete = ON")  # freed bytes are overwritten with zeros
        try:
            with self._write():
                counts: Counter = Counter()
                if plan.full:
                    self._walk("clients", "id", [client_id], counts, delete=True)
                    self._redact_log("client", [client_id], None)
                    self._redact_log("session", session_ids, None)
                else:
                    blank = {f: "" for f in CONTACT_FIELDS}
                    sets = ", ".join(f"{f} = :{f}" for f in blank)
                    self.conn.execute(
                        f"UPDATE clients SET {sets}, archived = 1, updated_at = :now WHERE id = :id",
                        blank | {"now": now_iso(), "id": client_id},
                    )
                    self.conn.execute(
                        "UPDATE treatment_series SET ended_on = ? WHERE client_id = ? AND ended_on IS NULL",
                        [today.isoformat(), client_id],
                    )
                    self._redact_log("client", [client_id], CONTACT_FIELDS)
                for fts in _FTS_TABLES:  # merge the index so no segment still holds the erased words
                    self.conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
                self._record_erasure(
                    who,
                    client_id,
                    {
                        "scope": "full" if plan.full else "contact details; clinical record kept",
                        "keep_until": plan.keep_until.isoformat() if plan.keep_until else None,
                        "retention_years": plan.retention_years,
                        "reason": reason.strip(),
                        "rows_deleted": dict(counts),
                    },
                )
        finally:
            self.conn.execute(f"PRAGMA secure_delete = {int(secure)}")
        return ErasureOutcome(plan, self._empty_the_log())

    def _empty_the_log(self) -> bool:
        """Old page images in the write-ahead log still hold the erased rows until it is checkpointed and
        truncated. Another connection reading or writing (a session being recorded) holds that back: wait
        half a second at most, not the usual busy timeout, on the GUI thread; SQLite empties the log
        later, at the latest when Abrasio closes the file. True when it is empty now."""
        self.conn.execute(f"PRAGMA busy_timeout = {_CHECKPOINT_WAIT_MS}")
        try:
            busy, _frames, _done = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return not busy

    def _redact_log(self, record_type: str, ids: list[int], keys: tuple[str, ...] | None) -> None:
        """The change log must not keep what was erased: drop ``keys`` from the details of these records'
        entries (all of the details when ``keys`` is None). When, who and what kind of change stay."""
        for i in range(0, len(ids), _CHUNK):
            part = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            for entry_id, details in self.conn.execute(
                f"SELECT id, details FROM change_log WHERE record_type = ? AND record_id IN ({marks})",
                [record_type, *part],
            ).fetchall():
                if keys is None:
                    new = {"erased": True}
                else:
                    old = json.loads(details or "{}")
                    new = _without(old, keys)
                    if new == old:
                        continue
                self.conn.execute(
                    "UPDATE change_log SET details = ? WHERE id = ?", [json.dumps(new, default=str), entry_id]
                )

    def _record_erasure(self, who: str, client_id: int, entry: dict) -> None:
        """The one place an erasure is recorded. Today: the erasures table and the change log; the audit
        trail (issue #11) takes this over."""
        self.db["erasures"].insert(
            {
                "client_id": client_id,
                "erased_at": now_iso(),
                "erased_by": who,
                "scope": entry["scope"],
                "keep_until": entry["keep_until"],
                "reason": entry["reason"],
                "details": json.dumps(entry),
            }
        )
        self._log(who, "client", client_id, "erase", entry)


def _without(details, keys: tuple[str, ...]):
    """``details`` with ``keys`` removed wherever they occur (also inside screening before/after lists)."""
    if isinstance(details, dict):
        return {k: _without(v, keys) for k, v in details.items() if k not in keys}
    if isinstance(details, list):
        return [_without(v, keys) for v in details]
    return details
