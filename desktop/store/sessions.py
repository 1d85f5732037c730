"""Treatment sessions and what is recorded with them: the vacuum trace, markers, alarms, notes."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

import numpy as np

from desktop.store import owner, trace
from desktop.store.base import StoreBase, now_iso, number, reads, sql, text, whole
from desktop.store.errors import DatabaseFileError, NotFoundError

log = logging.getLogger("abrasio.store")

_NOTE_FIELDS = (
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
    # from the session notes: the areas actually treated and the passes recorded on each
    treated_areas: list[str] = field(default_factory=list)
    passes: dict[str, int] = field(default_factory=dict)

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)


# A session whose handpiece never delivered a sample: ended, but no treatment on record (it is not the
# client's last visit).
NO_SAMPLES = "no_samples"
VISITS = ("completed", "interrupted", "closed")  # statuses that are a treatment that took place


@dataclass(frozen=True)
class DeviceRow:
    """The handpiece of a session's segment, as its HELLO named it."""

    segment: int
    model: str
    serial: str
    firmware: str
    rate_hz: int

    def __str__(self) -> str:
        return f"{self.model}, serial {self.serial} (firmware {self.firmware}, {self.rate_hz} samples/s)"


@dataclass(frozen=True)
class MarkerRow:
    """A marker the practitioner dropped: session time ``t`` (s) and an optional label."""

    id: int
    t: float
    label: str


@dataclass(frozen=True)
class AlarmRow:
    """An alarm as recorded: session times ``started``/``ended`` (s), acknowledgement, peak."""

    id: int
    session_id: int
    priority: str
    kind: str
    message: str
    started: float
    ended: float | None
    peak_kpa: float | None
    acknowledged_at: str | None
    acknowledged_by: str | None


# A session with what its notes say was treated (one query for a client's whole table).
_WITH_NOTES = (
    "SELECT s.*, n.areas AS notes_areas, n.passes AS notes_passes "
    "FROM treatment_sessions s LEFT JOIN session_notes n ON n.session_id = s.id"
)


class SessionsMixin(StoreBase):
    @sql("starting the session")
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
        me = owner.current()
        row |= {"owner_host": me.host, "owner_pid": me.pid, "owner_started": me.started}
        for key in ("areas", "screening"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        row |= fields
        with self._write():
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

    @sql("storing the vacuum trace")
    def append_trace(
        self, session_id: int, first_chunk: int, blocks: list[trace.TraceBlock], lost: int = 0
    ) -> None:
        """Store packed trace blocks and bump the session's counters, in one transaction."""
        with self._write(clinical=False):
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

    @sql("recording that the session is alive")
    def heartbeat(self, session_id: int) -> None:
        with self._write(clinical=False):
            self.conn.execute(
                "UPDATE treatment_sessions SET heartbeat_at = ? WHERE id = ?", [now_iso(), session_id]
            )

    @reads("reading the vacuum trace")
    def trace_chunk_count(self, session_id: int) -> int:
        return self.conn.execute(
            "SELECT coalesce(max(chunk) + 1, 0) FROM vacuum_trace_chunks WHERE session_id = ?", [session_id]
        ).fetchone()[0]

    @reads("reading the vacuum trace")
    def load_trace(self, session_id: int) -> dict[str, np.ndarray]:
        """The whole recorded trace: seq, t (device s), vacuum (kPa), flags — in order."""
        seqs, ts, vacs, flags = [], [], [], []
        for t0, seq0, data in self.conn.execute(
            "SELECT t0, seq0, data FROM vacuum_trace_chunks WHERE session_id = ? ORDER BY chunk",
            [session_id],
        ):
            try:
                s, t, v, f = trace.unpack(t0, seq0, data)
            except Exception as exc:  # zlib.error, format
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

    @sql("saving the marker")
    def add_marker(self, session_id: int, t: float, label: str = "") -> int:
        with self._write():
            return (
                self.db["markers"]
                .insert({"session_id": session_id, "t": t, "label": label, "created_at": now_iso()})
                .last_pk
            )

    @sql("saving the marker's label")
    def label_marker(self, marker_id: int, label: str) -> None:
        with self._write():
            self.db["markers"].update(marker_id, {"label": label})

    @reads("reading the session's markers")
    def markers(self, session_id: int) -> list[MarkerRow]:
        return [
            MarkerRow(r["id"], number(r["t"], allow_none=False), text(r["label"]))
            for r in self._q("SELECT id, t, label FROM markers WHERE session_id = ? ORDER BY t", [session_id])
        ]

    @sql("saving the alarm")
    def save_alarm(self, session_id: int, alarm: dict) -> int:
        """Insert (no ``id``) or update an alarm record; returns its id."""
        with self._write():
            if alarm.get("id"):
                self.db["alarms"].update(alarm["id"], {k: v for k, v in alarm.items() if k != "id"})
                return alarm["id"]
            return self.db["alarms"].insert({"session_id": session_id, **alarm}).last_pk

    @reads("reading the session's alarms")
    def alarms(self, session_id: int) -> list[AlarmRow]:
        return [
            AlarmRow(
                id=r["id"],
                session_id=r["session_id"],
                priority=text(r["priority"]),
                kind=text(r["kind"]),
                message=text(r["message"]),
                started=number(r["started"], allow_none=False),
                ended=number(r["ended"]),
                peak_kpa=number(r["peak_kpa"]),
                acknowledged_at=text(r["acknowledged_at"]) or None,
                acknowledged_by=text(r["acknowledged_by"]) or None,
            )
            for r in self._q("SELECT * FROM alarms WHERE session_id = ? ORDER BY started, id", [session_id])
        ]

    @reads("reading the session notes")
    def notes(self, session_id: int) -> dict:
        """The notes form's values (``areas``, ``passes``, ``erythema``, ``notes``…), as
        ``SessionNotesPanel.set_value`` takes them and ``save_notes`` stores them back."""
        rows = self._q("SELECT * FROM session_notes WHERE session_id = ?", [session_id])
        if not rows:
            raise NotFoundError(f"session {session_id} has no notes")
        r = rows[0]
        for key, empty in (("areas", "[]"), ("passes", "{}"), ("findings", "[]")):
            r[key] = json.loads(text(r[key]) or empty)
            if type(r[key]) is not type(json.loads(empty)):
                raise ValueError(key)
        for key in ("grit", "erythema", "aftercare", "notes"):
            text(r[key])  # text or nothing: anything else is damage
        return r

    @sql("saving the session notes")
    def save_notes(self, session_id: int, notes: dict, who: str = "", amend: bool = False) -> None:
        """Autosave (``amend=False``: while the session runs) or amend a finished session (logged)."""
        fields = {k: notes[k] for k in _NOTE_FIELDS if k in notes}
        for key in ("areas", "passes", "findings"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        old = self._q("SELECT * FROM session_notes WHERE session_id = ?", [session_id])
        changed = {k: [old[0][k], v] for k, v in fields.items() if old and old[0][k] != v}
        if old and not changed:
            return
        with self._write():
            self.db["session_notes"].upsert(
                {"session_id": session_id, **fields, "updated_at": now_iso()}, pk="session_id"
            )
            if amend:
                self._log(who, "session", session_id, "amend notes", changed)

    @sql("ending the session")
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
        with self._write():
            self.db["treatment_sessions"].update(
                session_id,
                {"ended_at": ended_at or now_iso(), "status": status, "summary": json.dumps(summary)},
            )
            if status in VISITS:
                self._visited(row[0]["client_id"], row[0]["started_at"])
            self._log(who, "session", session_id, status, summary)

    @sql("recording the session's handpiece")
    def set_session_device(self, session_id: int, segment: int, hello) -> None:
        """The handpiece that identified itself (``device.protocol.Hello``) for a segment of a session."""
        with self._write():
            self.db["session_devices"].upsert(
                {
                    "session_id": session_id,
                    "segment": segment,
                    "model": hello.model,
                    "serial": hello.serial,
                    "firmware": hello.firmware,
                    "rate_hz": hello.rate_hz,
                    "at": now_iso(),
                },
                pk=("session_id", "segment"),
            )

    @reads("reading the session's handpiece")
    def session_devices(self, session_id: int) -> list[DeviceRow]:
        return [
            DeviceRow(r["segment"], r["model"], r["serial"], r["firmware"], r["rate_hz"])
            for r in self._q(
                "SELECT * FROM session_devices WHERE session_id = ? ORDER BY segment", [session_id]
            )
        ]

    def _visited(self, client_id: int, started_at: str) -> None:
        """A session took place: the client's last visit is the latest session start."""
        self.conn.execute(
            "UPDATE clients SET last_visit = max(coalesce(last_visit, ''), ?) WHERE id = ?",
            [started_at, client_id],
        )

    @staticmethod
    def _session(r: dict) -> SessionRow:
        dt.datetime.fromisoformat(text(r["started_at"]))  # a damaged start time is damage, not a crash later
        areas = json.loads(text(r["areas"]) or "[]")
        summary = json.loads(text(r["summary"]) or "{}")
        if not isinstance(areas, list) or not isinstance(summary, dict):
            raise ValueError("areas or summary")
        return SessionRow(
            id=r["id"],
            client_id=whole(r["client_id"], allow_none=False),
            started_at=r["started_at"],
            ended_at=text(r["ended_at"]) or None,
            status=text(r["status"]),
            handpiece=text(r["handpiece"]),
            mode=text(r["mode"]),
            grit=text(r["grit"]),
            crystal_flow=whole(r["crystal_flow"]),
            set_point_kpa=number(r["set_point_kpa"]),
            ceiling_kpa=number(r["ceiling_kpa"]),
            areas=areas,
            planned_minutes=whole(r["planned_minutes"]),
            planned_passes=whole(r["planned_passes"]),
            override_reason=text(r["override_reason"]),
            practitioner=text(r["practitioner"]),
            samples_recorded=whole(r["samples_recorded"]) or 0,
            samples_lost=whole(r["samples_lost"]) or 0,
            summary=summary,
            heartbeat_at=text(r["heartbeat_at"]) or None,
            treated_areas=json.loads(text(r.get("notes_areas")) or "[]"),
            passes=json.loads(text(r.get("notes_passes")) or "{}"),
        )

    @reads("reading the session")
    def session(self, session_id: int) -> SessionRow:
        rows = self._q(f"{_WITH_NOTES} WHERE s.id = ?", [session_id])
        if not rows:
            raise NotFoundError(f"session {session_id} does not exist")
        return self._session(rows[0])

    @reads("reading the client's sessions")
    def sessions_for_client(self, client_id: int) -> list[SessionRow]:
        return [
            self._session(r)
            for r in self._q(
                f"{_WITH_NOTES} WHERE s.client_id = ? ORDER BY s.started_at DESC, s.id DESC",
                [client_id],
            )
        ]

    @reads("reading unfinished sessions")
    def unfinished_sessions(self) -> list[SessionRow]:
        """Sessions left 'recording' (the app was killed) or 'interrupted' and not yet closed."""
        return [
            self._session(r)
            for r in self._q(
                "SELECT * FROM treatment_sessions WHERE status IN ('recording', 'interrupted') ORDER BY id"
            )
        ]

    @sql("marking the session interrupted")
    def mark_interrupted(self, session_id: int, heartbeat_at: str | None = None) -> bool:
        """A ``recording`` session whose process is gone becomes ``interrupted``. With
        ``heartbeat_at``: only if its heartbeat is still that one (no live process has written since
        the caller looked). Returns whether it was marked."""
        row = self._q(
            "SELECT client_id, started_at, samples_recorded FROM treatment_sessions WHERE id = ?",
            [session_id],
        )
        if not row:
            raise NotFoundError(f"session {session_id} does not exist")
        with self._write():
            cur = self.conn.execute(
                "UPDATE treatment_sessions SET status = 'interrupted', ended_at = coalesce(ended_at, "
                "heartbeat_at) WHERE id = ? AND status = 'recording'"
                + (" AND heartbeat_at IS ?" if heartbeat_at is not None else ""),
                [session_id, heartbeat_at] if heartbeat_at is not None else [session_id],
            )
            if not cur.rowcount:
                return False
            if row[0]["samples_recorded"]:  # no sample recorded: no treatment on record, no visit
                self._visited(row[0]["client_id"], row[0]["started_at"])
            self._log("", "session", session_id, "interrupted", {})
        return True

    @reads("reading who records the session")
    def session_owner(self, session_id: int) -> owner.Owner | None:
        """The process recording the session (m014); None for a session recorded before owners were."""
        row = self.conn.execute(
            "SELECT owner_host, owner_pid, owner_started FROM treatment_sessions WHERE id = ?", [session_id]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"session {session_id} does not exist")
        host, pid, started = row
        return owner.Owner(text(host), pid, number(started)) if pid is not None else None

    @sql("recovering interrupted sessions")
    def recover_orphans(self) -> tuple[list[int], list[int]]:
        """Mark interrupted every ``recording`` session whose owner is gone and whose heartbeat is
        older than ``owner.STALE_AFTER_S``: (marked, still waiting). A session a live process records
        (another Abrasio on this file, or this one) is never touched."""
        marked, waiting = [], []
        for s in self.unfinished_sessions():
            if s.status != "recording":
                continue
            who = self.session_owner(s.id)
            if owner.is_gone(who) is False:  # a live process records it
                if who != owner.current():
                    waiting.append(s.id)  # another one: look again later, it may end or die
                continue
            if owner.orphaned(who, s.heartbeat_at) and self.mark_interrupted(s.id, s.heartbeat_at):
                log.warning("Session %d was interrupted (its process is gone); marked for closing", s.id)
                marked.append(s.id)
            else:
                waiting.append(s.id)
        return marked, waiting
