"""Erasing a client: everything, except what the clinic must keep by law for its retention period.

Pure Python: no Qt and no SQL. What is kept is the clinical record (sessions with their traces, notes
and alarms, the screening, signed consents, photos) until the retention period after the last
treatment ends; the contact details go at once. A client never treated, or whose last treatment is
older than the retention period, is erased completely. ``Store.erase_client`` carries a plan out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desktop.records import add_months, fmt_date

DEFAULT_RETENTION_YEARS = 8
MAX_RETENTION_YEARS = 100
CONTACT_FIELDS = ("phone", "phone_digits", "email")  # erased at once even when the record is kept


@dataclass(frozen=True)
class ErasurePlan:
    today: dt.date
    retention_years: int
    last_treatment: dt.date | None
    keep_until: dt.date | None  # None: nothing must be kept; everything goes now

    @property
    def full(self) -> bool:
        return self.keep_until is None

    def summary(self) -> str:
        if self.full:
            why = (
                "The client was never treated"
                if self.last_treatment is None
                else f"The last treatment ({fmt_date(self.last_treatment)}) is more than "
                f"{self.retention_years} years ago"
            )
            return f"{why}: the whole record can be erased."
        return (
            f"The clinic must keep the clinical record until {fmt_date(self.keep_until)} "
            f"({self.retention_years} years after the last treatment on {fmt_date(self.last_treatment)}). "
            "Everything else is erased now."
        )


def plan_erasure(last_treatment: dt.date | None, today: dt.date, retention_years: int) -> ErasurePlan:
    if not 0 <= retention_years <= MAX_RETENTION_YEARS:
        raise ValueError(f"retention is 0 to {MAX_RETENTION_YEARS} years")
    if last_treatment is None:
        return ErasurePlan(today, retention_years, None, None)
    keep_until = add_months(last_treatment, 12 * retention_years)
    if keep_until <= today:
        return ErasurePlan(today, retention_years, last_treatment, None)
    return ErasurePlan(today, retention_years, last_treatment, keep_until)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def describe(plan: ErasurePlan, counts: dict[str, int]) -> tuple[list[str], list[str]]:
    """(erased now, kept until ``plan.keep_until``) in the practitioner's words. ``counts``: how many
    sessions, consents, questionnaires and series the client has, and any other kind of record by name
    (a table added later: "photo": 4)."""
    record = [
        _n(counts.get("sessions", 0), "treatment session") + " with their traces, notes and alarms",
        _n(counts.get("consents", 0), "consent") + " as signed",
        "the screening"
        + (f" and {_n(counts['questionnaires'], 'questionnaire')}" if counts.get("questionnaires") else ""),
        *(_n(n, name) for name, n in sorted(counts.items()) if name not in _KNOWN and n),
    ]
    if plan.full:
        everything = ["name, date of birth, contact details, skin details and notes", *record]
        return [*everything, _n(counts.get("series", 0), "series plan")], []
    erased = ["phone number and email", "the open series plan ends (the client leaves the recall list)"]
    kept = ["name, date of birth, skin details and notes (they identify the record)", *record]
    return erased, kept


_KNOWN = {"sessions", "consents", "questionnaires", "series"}
