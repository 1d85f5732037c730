"""Treatment series and the recall list. Part of the ``Store`` facade (``desktop/store/__init__.py``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from desktop.series import RecallCandidate, SeriesPlan, progress
from desktop.store.base import StoreBase, now_iso, parse_date, sql
from desktop.store.errors import NotFoundError


class SeriesMixin(StoreBase):
    """Uses ``setting`` from ``Store``."""

    @staticmethod
    def _plan(r: dict) -> SeriesPlan:
        return SeriesPlan(
            client_id=r["client_id"],
            started_on=parse_date(r["started_on"]),
            planned_sessions=r["planned_sessions"],
            interval_days=r["interval_days"],
            ended_on=parse_date(r["ended_on"]),
            note=r["note"] or "",
            id=r["id"],
        )

    @sql("reading the client's series")
    def series_plans(self, client_id: int) -> list[SeriesPlan]:
        rows = self._q(
            "SELECT * FROM treatment_series WHERE client_id = ? ORDER BY started_on, id", [client_id]
        )
        return [self._plan(r) for r in rows]

    @sql("saving the series plan")
    def save_series(self, plan: SeriesPlan, who: str = "") -> int:
        """Add a series (the client's open one, if any, ends the day before it starts) or change one.

        Raises ValueError when a new series would start before the current one began."""
        row = {
            "client_id": plan.client_id,
            "started_on": plan.started_on.isoformat(),
            "planned_sessions": plan.planned_sessions,
            "interval_days": plan.interval_days,
            "ended_on": plan.ended_on.isoformat() if plan.ended_on else None,
            "note": plan.note.strip(),
        }
        with self._write():
            if plan.id is None:
                for old in self.series_plans(plan.client_id):
                    if old.started_on >= plan.started_on:
                        raise ValueError(
                            f"A new series starts after the last one began ({old.started_on:%d %b %Y})."
                        )
                    if old.ended_on is None:
                        end = plan.started_on - dt.timedelta(days=1)
                        self.conn.execute(
                            "UPDATE treatment_series SET ended_on = ? WHERE id = ?", [end.isoformat(), old.id]
                        )
                        self._log(
                            who, "client", plan.client_id, "series ended", {"series_id": old.id, "on": end}
                        )
                sid = (
                    self.db["treatment_series"]
                    .insert(row | {"created_at": now_iso(), "created_by": who})
                    .last_pk
                )
                self._log(who, "client", plan.client_id, "series planned", {"series_id": sid, **row})
                return sid
            old = self._q("SELECT * FROM treatment_series WHERE id = ?", [plan.id])
            if not old:
                raise NotFoundError(f"series {plan.id} does not exist")
            changed = {k: [old[0][k], v] for k, v in row.items() if old[0][k] != v}
            if changed:
                self.db["treatment_series"].update(plan.id, row)
                self._log(who, "client", plan.client_id, "series changed", {"series_id": plan.id, **changed})
            return plan.id

    @sql("ending the series")
    def end_series(self, series_id: int, on: dt.date, who: str = "") -> None:
        rows = self._q("SELECT * FROM treatment_series WHERE id = ?", [series_id])
        if not rows:
            raise NotFoundError(f"series {series_id} does not exist")
        plan = self._plan(rows[0])
        self.save_series(
            SeriesPlan(
                plan.client_id,
                plan.started_on,
                plan.planned_sessions,
                plan.interval_days,
                max(on, plan.started_on),
                plan.note,
                plan.id,
            ),
            who,
        )

    @sql("reading the recall list")
    def recall_candidates(self) -> list[RecallCandidate]:
        """Every client (not archived) with an open series, with its progress and their screening."""
        open_rows = self._q(
            "SELECT s.*, c.first_name, c.last_name, c.phone, c.email FROM treatment_series s "
            "JOIN clients c ON c.id = s.client_id WHERE s.ended_on IS NULL AND c.archived = 0"
        )
        if not open_rows:
            return []
        open_clients = "SELECT client_id FROM treatment_series WHERE ended_on IS NULL"
        plans, days = defaultdict(list), defaultdict(list)
        for r in self._q(f"SELECT * FROM treatment_series WHERE client_id IN ({open_clients})"):
            plans[r["client_id"]].append(self._plan(r))
        for r in self._q(
            "SELECT client_id, substr(started_at, 1, 10) AS day FROM treatment_sessions "
            f"WHERE client_id IN ({open_clients})"
        ):
            days[r["client_id"]].append(parse_date(r["day"]))
        out = []
        for r in open_rows:
            cid = r["client_id"]
            plan = self._plan(r)
            out.append(
                RecallCandidate(
                    cid,
                    r["first_name"] or "",
                    r["last_name"] or "",
                    r["phone"] or "",
                    r["email"] or "",
                    progress(plan, days[cid], plans[cid]),
                    self.screening(cid),
                )
            )
        return out

    def database_id(self) -> str:
        """A random name for this database, made once (calendar events' UIDs are unique with it)."""
        return str(self.setting("database_id", ""))
