"""A small iCalendar (RFC 5545) writer: all-day events for a recall list, readable by any calendar.

Only what Abrasio needs: VCALENDAR with VEVENTs that have a UID, a stamp, a date, a summary and a
description. Text is escaped (3.3.11), lines end in CRLF and are folded at 75 octets without splitting
a UTF-8 character (3.1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

LINE_OCTETS = 75
PRODID = "-//Abrasio//Recall list//EN"


@dataclass(frozen=True)
class AllDayEvent:
    uid: str  # globally unique and stable, so importing the file again updates rather than duplicates
    day: dt.date
    summary: str
    description: str = ""


def escape_text(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma and newlines (3.3.11)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    # Other control characters are not allowed in a TEXT value at all.
    return "".join(ch for ch in out if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, joined by CRLF and a space (3.1)."""
    pieces, current, size = [], [], 0
    limit = LINE_OCTETS
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            pieces.append("".join(current))
            current, size = [], 0
            limit = LINE_OCTETS - 1  # a continuation line starts with the one space
        current.append(ch)
        size += n
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: list[AllDayEvent], now: dt.datetime, name: str = "Abrasio recall") -> str:
    """The whole .ics file as text (write it as UTF-8, newline="" so the CRLFs stay)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    stamp = _stamp(now)
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(e.uid)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{e.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{e.day + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape_text(e.summary)}",
        ]
        if e.description:
            lines.append(f"DESCRIPTION:{escape_text(e.description)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
