"""Dates as a practitioner types them: the locale's short format, ISO, or with a month name.

Pure Python (no Qt): ``desktop.fields.DateField`` passes in the locale's day/month/year order and
month names. Accepted, for 14 May 1985 in a day-month-year locale:
``14/05/1985``, ``14.5.85``, ``1985-05-14``, ``14 May 1985``, ``May 14, 1985``, ``14 mai 1985`` (the
locale's own month names), and ``today``. An empty text is "no date"; anything else that is not a real
date raises ``DateTextError`` with a message for the field.
"""

from __future__ import annotations

import datetime as dt
import re

ENGLISH_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
EXAMPLE = "14 May 1985, 14/05/1985 or 1985-05-14"


class DateTextError(ValueError):
    """The text is not a date; ``str(exc)`` says why, in words for the field."""


def month_table(*name_lists) -> dict[str, int]:
    """{lower-case name: month} from lists of 12 names each (long, short, standalone…)."""
    table: dict[str, int] = {}
    for names in (ENGLISH_MONTHS, *name_lists):
        for i, name in enumerate(names, start=1):
            key = name.strip(" .").lower()
            if key:
                table.setdefault(key, i)
    return table


def _month(word: str, months: dict[str, int]) -> int:
    if word in months:
        return months[word]
    # a prefix of at least three letters that names one month only ("sept", "dec", "févr")
    found = {m for name, m in months.items() if len(word) >= 3 and name.startswith(word)}
    if len(found) == 1:
        return found.pop()
    raise DateTextError(f"“{word}” is not a month. Type a date like {EXAMPLE}.")


def _year(text: str, today: dt.date, past: bool) -> int:
    if len(text) == 4:
        return int(text)
    if len(text) != 2:
        raise DateTextError(f"Type the year with 4 digits (or 2). Type a date like {EXAMPLE}.")
    yy = int(text)
    if past:  # a date of birth: the latest year ending in yy that is not in the future
        year = today.year - (today.year - yy) % 100
        return year
    # any other date: within 80 years before and 20 after today
    year = 2000 + yy if 2000 + yy <= today.year + 20 else 1900 + yy
    return year


def parse_typed_date(
    text: str,
    today: dt.date,
    order: str = "DMY",
    months: dict[str, int] | None = None,
    past: bool = False,
) -> dt.date | None:
    """The date in ``text`` (``None`` if it is empty); ``order`` is the locale's numeric order
    ("DMY", "MDY" or "YMD"); ``past``: two-digit years never land in the future (birth dates)."""
    months = months or month_table()
    s = text.strip().lower()
    if not s:
        return None
    if s in ("today", "now"):
        return today
    tokens = re.findall(r"\d+|[^\W\d_]+", s)
    words = [t for t in tokens if not t.isdigit()]
    numbers = [t for t in tokens if t.isdigit()]
    if words:
        if len(words) > 1 or len(numbers) != 2:
            raise DateTextError(f"Type a date like {EXAMPLE}.")
        month = _month(words[0], months)
        a, b = numbers
        # the year is the one with 3+ digits or above 31; else the locale's order decides
        if len(a) > 2 or int(a) > 31:
            year_text, day_text = a, b
        elif len(b) > 2 or int(b) > 31:
            year_text, day_text = b, a
        elif order.index("Y") < order.index("D"):
            year_text, day_text = a, b
        else:
            year_text, day_text = b, a
        day = int(day_text)
    else:
        if len(numbers) != 3:
            raise DateTextError(f"Type a date like {EXAMPLE}.")
        if len(numbers[0]) == 4:  # ISO order whatever the locale: 1985-05-14
            fields = dict(zip("YMD", numbers, strict=True))
        else:
            fields = dict(zip(order, numbers, strict=True))
        year_text, month, day = fields["Y"], int(fields["M"]), int(fields["D"])
        if not 1 <= month <= 12:
            raise DateTextError(f"There is no month {month}. Type a date like {EXAMPLE}.")
    year = _year(year_text, today, past)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateTextError(f"There is no day {day} in {ENGLISH_MONTHS[month - 1].title()} {year}.") from None


def order_of(qt_format: str) -> str:
    """ "dd/MM/yyyy" → "DMY", "M/d/yy" → "MDY", "yyyy-MM-dd" → "YMD" (Qt's date format letters)."""
    positions = {}
    for letter, key in (("d", "D"), ("M", "M"), ("y", "Y")):
        i = qt_format.find(letter)
        positions[key] = i if i >= 0 else 99
    order = "".join(sorted(positions, key=positions.__getitem__))
    return order if order in ("DMY", "MDY", "YMD") else "DMY"
