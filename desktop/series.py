"""Treatment series and recall: sessions numbered within a series ("4 of 6"), when the next is due, and
the list of clients to call this week.

Pure Python: no Qt and no SQL. The app shows when the next session is due; it never enforces it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from desktop.ical import AllDayEvent
from desktop.records import ScreeningAnswer, ScreeningRule, ScreeningStatus, evaluate, fmt_date

DEFAULT_PLANNED_SESSIONS = 6
MAX_PLANNED_SESSIONS = 30
MAX_INTERVAL_DAYS = 120


@dataclass(frozen=True)
class SeriesPlan:
    """A course of treatments agreed with the client: how many sessions, how far apart."""

    client_id: int
    started_on: dt.date
    planned_sessions: int = DEFAULT_PLANNED_SESSIONS
    interval_days: int = 14
    ended_on: dt.date | None = None  # ended early (or closed when the next series began)
    note: str = ""
    id: int | None = None

    def covers(self, day: dt.date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)


def validate_plan(plan: SeriesPlan, today: dt.date, minimum_interval_days: int = 0) -> dict[str, str]:
    errors = {}
    if not 1 <= plan.planned_sessions <= MAX_PLANNED_SESSIONS:
        errors["planned_sessions"] = f"A series has 1 to {MAX_PLANNED_SESSIONS} sessions."
    if not 1 <= plan.interval_days <= MAX_INTERVAL_DAYS:
        errors["interval_days"] = f"Sessions are 1 to {MAX_INTERVAL_DAYS} days apart."
    elif plan.interval_days < minimum_interval_days:
        errors["interval_days"] = (
            f"The clinic's minimum between sessions is {minimum_interval_days} days "
            "(the outer layer of the skin needs that long to rebuild)."
        )
    if plan.started_on > today + dt.timedelta(days=366):
        errors["started_on"] = "A series starts within the coming year."
    if plan.ended_on and plan.ended_on < plan.started_on:
        errors["ended_on"] = "A series cannot end before it starts."
    return errors


def series_for(day: dt.date, plans: list[SeriesPlan]) -> SeriesPlan | None:
    """The series a session on ``day`` belongs to: the latest one started by then and not ended before."""
    covering = [p for p in plans if p.covers(day)]
    return max(covering, key=lambda p: (p.started_on, p.id or 0)) if covering else None


@dataclass(frozen=True)
class SessionNumber:
    series_id: int | None
    number: int
    planned: int

    @property
    def text(self) -> str:
        if self.number > self.planned:
            return f"{self.number} (plan: {self.planned})"
        return f"{self.number} of {self.planned}"


def number_sessions(sessions: list[tuple[int, dt.date]], plans: list[SeriesPlan]) -> dict[int, SessionNumber]:
    """{session id: its number in its series}. ``sessions``: (id, day) of every session the client had
    (each one started is a treatment given, interrupted ones too). Sessions outside any series get none."""
    out: dict[int, SessionNumber] = {}
    counts: dict[int | None, int] = {}
    for sid, day in sorted(sessions, key=lambda s: (s[1], s[0])):
        plan = series_for(day, plans)
        if plan is None:
            continue
        counts[plan.id] = counts.get(plan.id, 0) + 1
        out[sid] = SessionNumber(plan.id, counts[plan.id], plan.planned_sessions)
    return out


@dataclass(frozen=True)
class SeriesProgress:
    plan: SeriesPlan
    done: int
    last: dt.date | None  # the last session of this series

    @property
    def complete(self) -> bool:
        return self.done >= self.plan.planned_sessions

    @property
    def open(self) -> bool:
        return self.plan.ended_on is None and not self.complete

    @property
    def next_number(self) -> int:
        return self.done + 1

    @property
    def next_due(self) -> dt.date | None:
        """When the next session is due: the series' start, then the last session plus the interval."""
        if not self.open:
            return None
        if self.last is None:
            return self.plan.started_on
        return self.last + dt.timedelta(days=self.plan.interval_days)

    def text(self, today: dt.date) -> str:
        p = self.plan
        head = (
            f"Series of {p.planned_sessions} from {fmt_date(p.started_on)}, every {p.interval_days} days: "
            f"{self.done} of {p.planned_sessions} done"
        )
        if p.ended_on:
            return f"{head}; ended {fmt_date(p.ended_on)}."
        if self.complete:
            return f"{head}; series complete."
        due = self.next_due
        late = (today - due).days
        if late > 0:
            return (
                f"{head}; session {self.next_number} was due {fmt_date(due)} "
                f"({late} day{'s' if late != 1 else ''} overdue)."
            )
        return f"{head}; session {self.next_number} due {fmt_date(due)}."


def progress(plan: SeriesPlan, session_days: list[dt.date], plans: list[SeriesPlan]) -> SeriesProgress:
    """How far ``plan`` has got, counting the client's sessions that belong to it."""
    mine = sorted(d for d in session_days if series_for(d, plans) == plan)
    return SeriesProgress(plan, len(mine), mine[-1] if mine else None)


# -- recall ------------------------------------------------------------------------------------


def week_end(today: dt.date, weeks_ahead: int = 0) -> dt.date:
    """The Sunday that ends this (ISO) week, or the one ``weeks_ahead`` after."""
    return today + dt.timedelta(days=6 - today.weekday() + 7 * weeks_ahead)


@dataclass(frozen=True)
class RecallCandidate:
    """What the store knows about one client with an open series."""

    client_id: int
    first_name: str
    last_name: str
    phone: str
    email: str
    progress: SeriesProgress
    answers: list[ScreeningAnswer] = field(default_factory=list)


@dataclass(frozen=True)
class RecallEntry:
    candidate: RecallCandidate
    due: dt.date
    overdue_days: int
    blocked_by: list[ScreeningStatus]

    @property
    def name(self) -> str:
        c = self.candidate
        return f"{c.first_name} {c.last_name}".strip()

    @property
    def session_text(self) -> str:
        p = self.candidate.progress
        return f"{p.next_number} of {p.plan.planned_sessions}"

    @property
    def blocked_text(self) -> str:
        return "; ".join(s.message() for s in self.blocked_by)


def recall(
    candidates: list[RecallCandidate], rules: list[ScreeningRule], today: dt.date, until: dt.date
) -> tuple[list[RecallEntry], list[RecallEntry]]:
    """(to call, left out): clients whose next session is due by ``until`` (overdue ones included),
    most overdue first; left out are those an active contraindication blocks on the day they would come
    (the due day, or today when that has passed)."""
    due, left_out = [], []
    for c in candidates:
        day = c.progress.next_due
        if day is None or day > until:
            continue
        on = max(day, today)
        blocked = [s for s in evaluate(c.answers, rules, on) if s.blocks]
        entry = RecallEntry(c, day, max((today - day).days, 0), blocked)
        (left_out if blocked else due).append(entry)
    key = lambda e: (e.due, e.candidate.last_name.casefold(), e.candidate.client_id)  # noqa: E731
    return sorted(due, key=key), sorted(left_out, key=key)


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("Last name", "First name", "Phone", "Email", "Session", "Due", "Days overdue", "Last session")
_PHONE_LIKE = re.compile(r"\+?[0-9 ()\-./]+")


def csv_cell(text: str) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): text starting with = + - @ or a
    control character gets a leading apostrophe, except a phone number ("+44 7700 900123")."""
    if text and text[0] in "=+-@\t\r" and not _PHONE_LIKE.fullmatch(text):
        return "'" + text
    return text


def recall_csv(entries: list[RecallEntry]) -> str:
    """The recall list as CSV text (write it with encoding "utf-8-sig" so spreadsheets read accents)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for e in entries:
        c = e.candidate
        last = c.progress.last
        w.writerow(
            [
                csv_cell(c.last_name),
                csv_cell(c.first_name),
                csv_cell(c.phone),
                csv_cell(c.email),
                e.session_text,
                e.due.isoformat(),
                e.overdue_days,
                last.isoformat() if last else "",
            ]
        )
    return out.getvalue()


def recall_events(entries: list[RecallEntry], today: dt.date, database_id: str) -> list[AllDayEvent]:
    """Calendar events for the recall list: one all-day event per client, on the due day (today for
    those already overdue, so nobody lands in the past). The UID is stable for a client's series and
    session number, so importing a newer list updates the same events."""
    events = []
    for e in entries:
        c = e.candidate
        lines = [f"Phone: {c.phone}" if c.phone else "", f"Email: {c.email}" if c.email else ""]
        last = c.progress.last
        lines.append(f"Last session: {fmt_date(last)}" if last else "No session of this series yet")
        lines.append(
            f"Due {fmt_date(e.due)}" + (f" ({e.overdue_days} days overdue)" if e.overdue_days else "")
        )
        events.append(
            AllDayEvent(
                uid=f"recall-{c.client_id}-{c.progress.plan.id}-{c.progress.next_number}@{database_id}",
                day=max(e.due, today),
                summary=f"Recall {e.name}: session {e.session_text}",
                description="\n".join(x for x in lines if x),
            )
        )
    return events
