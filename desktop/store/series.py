"""Treatment series and the recall list. Part of the ``Store`` facade (``desktop/store/__init__.py``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from desktop.series import RecallCandidate, SeriesPlan, SeriesProgress
from desktop.store.base import StoreBase, now_iso, parse_date, sql
from desktop.store.errors import NotFoundError
from desktop.store.sessions import NO_SAMPLES


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
            before = parse_date(old[0]["started_on"])
            for other in self.series_plans(plan.client_id):
                if other.id != plan.id and (other.started_on < before) != (
                    other.started_on < plan.started_on
                ):
                    raise ValueError(
                        f"A series cannot start across another one ({other.started_on:%d %b %Y})."
                    )
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
        """Every client (not archived) with an open series, with its progress and their screening.

        The open series is the client's latest (``save_series`` keeps it so): every session from its
        start on belongs to it, which is what ``desktop.series.progress`` counts. Two queries, however
        many clients."""
        rows = self._q(
            "SELECT s.*, c.first_name, c.last_name, c.phone, c.email, count(t.id) AS done, "
            "max(substr(t.started_at, 1, 10)) AS last FROM treatment_series s "
            "JOIN clients c ON c.id = s.client_id "
            "LEFT JOIN treatment_sessions t ON t.client_id = s.client_id "
            f"AND substr(t.started_at, 1, 10) >= s.started_on AND t.status != '{NO_SAMPLES}' "
            "WHERE s.ended_on IS NULL AND c.archived = 0 GROUP BY s.id"
        )
        answers = defaultdict(list)
        for r in self._q(
            "SELECT a.* FROM screening_answers a JOIN treatment_series s ON s.client_id = a.client_id "
            "WHERE s.ended_on IS NULL ORDER BY a.id"
        ):
            answers[r["client_id"]].append(self._screening_answer(r))
        return [
            RecallCandidate(
                r["client_id"],
                r["first_name"] or "",
                r["last_name"] or "",
                r["phone"] or "",
                r["email"] or "",
                SeriesProgress(self._plan(r), r["done"], parse_date(r["last"])),
                answers[r["client_id"]],
            )
            for r in rows
        ]

    def database_id(self) -> str:
        """A random name for this database, made once (calendar events' UIDs are unique with it)."""
        return str(self.setting("database_id", ""))
