"""Series numbering, recall selection and the CSV and iCalendar files, without Qt."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import given
from hypothesis import strategies as st

from desktop.ical import AllDayEvent, calendar, escape_text, fold
from desktop.records import DEFAULT_RULES, ScreeningAnswer
from desktop.series import (
    RecallCandidate,
    SeriesPlan,
    csv_cell,
    number_sessions,
    progress,
    recall,
    recall_csv,
    recall_events,
    series_for,
    validate_plan,
    week_end,
)

D = dt.date
RULES = list(DEFAULT_RULES)


def test_sessions_are_numbered_within_their_series():
    first = SeriesPlan(1, D(2026, 1, 5), 3, 14, ended_on=D(2026, 3, 1), id=10)
    second = SeriesPlan(1, D(2026, 3, 2), 6, 14, id=11)
    sessions = [
        (1, D(2025, 12, 1)),
        (2, D(2026, 1, 5)),
        (3, D(2026, 1, 20)),
        (4, D(2026, 2, 3)),
        (5, D(2026, 2, 17)),
        (6, D(2026, 3, 2)),
        (7, D(2026, 3, 16)),
    ]
    n = number_sessions(sessions, [first, second])
    assert 1 not in n  # before any series
    assert [n[i].text for i in (2, 3, 4)] == ["1 of 3", "2 of 3", "3 of 3"]
    assert n[5].text == "4 (plan: 3)"  # beyond the plan: said so, not hidden
    assert [n[i].text for i in (6, 7)] == ["1 of 6", "2 of 6"]
    assert n[6].series_id == 11
    # the order of the input does not matter; two sessions on one day keep their id order
    again = number_sessions([*list(reversed(sessions)), (8, D(2026, 3, 16))], [second, first])
    assert again[7].text == "2 of 6" and again[8].text == "3 of 6"


def test_series_for_prefers_the_latest_start_and_respects_the_end():
    a = SeriesPlan(1, D(2026, 1, 1), 6, 14, id=1)
    b = SeriesPlan(1, D(2026, 2, 1), 6, 14, ended_on=D(2026, 2, 20), id=2)
    assert series_for(D(2026, 2, 10), [a, b]) is b
    assert series_for(D(2026, 2, 21), [a, b]) is a  # b ended; a never did
    assert series_for(D(2025, 12, 31), [a, b]) is None


def test_progress_next_due_and_words():
    plan = SeriesPlan(1, D(2026, 3, 2), 6, 14, id=5)
    p0 = progress(plan, [], [plan])
    assert p0.next_due == D(2026, 3, 2) and p0.next_number == 1
    p = progress(plan, [D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 30), D(2025, 1, 1)], [plan])
    assert (p.done, p.last, p.next_due) == (3, D(2026, 3, 30), D(2026, 4, 13))
    assert p.text(D(2026, 4, 20)) == (
        "Series of 6 from 2 Mar 2026, every 14 days: 3 of 6 done; "
        "session 4 was due 13 Apr 2026 (7 days overdue)."
    )
    done = progress(plan, [D(2026, 3, 2) + dt.timedelta(days=14 * i) for i in range(6)], [plan])
    assert done.complete and done.next_due is None and "series complete" in done.text(D(2026, 6, 1))
    ended = SeriesPlan(1, D(2026, 3, 2), 6, 14, ended_on=D(2026, 3, 20), id=5)
    assert progress(ended, [D(2026, 3, 2)], [ended]).next_due is None


def test_plan_validation():
    ok = SeriesPlan(1, D(2026, 3, 2), 6, 14)
    assert validate_plan(ok, D(2026, 3, 1), 10) == {}
    assert "minimum" in validate_plan(SeriesPlan(1, D(2026, 3, 2), 6, 7), D(2026, 3, 1), 10)["interval_days"]
    assert "1 to 30" in validate_plan(SeriesPlan(1, D(2026, 3, 2), 0, 14), D(2026, 3, 1))["planned_sessions"]
    assert (
        "within the coming year"
        in validate_plan(SeriesPlan(1, D(2028, 3, 2), 6, 14), D(2026, 3, 1))["started_on"]
    )


def test_week_end_is_the_coming_sunday():
    assert week_end(D(2026, 6, 8)) == D(2026, 6, 14)  # a Monday
    assert week_end(D(2026, 6, 14)) == D(2026, 6, 14)  # the Sunday itself
    assert week_end(D(2026, 6, 10), 1) == D(2026, 6, 21)


def cand(cid, last_name, plan_start, done_days, answers=(), interval=14, planned=6, phone="07700 900123"):
    plan = SeriesPlan(cid, plan_start, planned, interval, id=cid * 10)
    return RecallCandidate(
        cid,
        "Ann",
        last_name,
        phone,
        f"{last_name.lower()}@example.org",
        progress(plan, done_days, [plan]),
        list(answers),
    )


def test_recall_due_this_week_or_overdue_without_the_blocked():
    today = D(2026, 6, 10)  # Wednesday; the week ends Sunday 14 June
    cands = [
        cand(1, "Overdue", D(2026, 5, 1), [D(2026, 5, 1), D(2026, 5, 15)]),  # due 29 May
        cand(2, "Sunday", D(2026, 5, 1), [D(2026, 5, 31)]),  # due 14 June: in
        cand(3, "Monday", D(2026, 5, 1), [D(2026, 6, 1)]),  # due 15 June: next week
        cand(
            4, "Blocked", D(2026, 5, 1), [D(2026, 5, 20)], answers=[ScreeningAnswer("cold_sores")]
        ),  # due 3 June but a cold sore, ongoing
        cand(
            5,
            "Cleared",
            D(2026, 5, 1),
            [D(2026, 5, 28)],  # sunburn counts 14 days after 30 May: to 12 June
            answers=[ScreeningAnswer("sunburn", ended=D(2026, 5, 30))],
        ),
        cand(6, "Done", D(2026, 1, 1), [D(2026, 1, 1) + dt.timedelta(days=14 * i) for i in range(6)]),
        cand(7, "NotStarted", D(2026, 6, 12), []),  # the series starts Friday: session 1 due then
        # due Saturday 13 June; sunburn ended 28 May counts to 10 June: blocked today, not on the day
        cand(
            8,
            "FreeBySaturday",
            D(2026, 5, 1),
            [D(2026, 5, 30)],
            answers=[ScreeningAnswer("sunburn", ended=D(2026, 5, 28))],
        ),
    ]
    due, left_out = recall(cands, RULES, today, week_end(today))
    assert [e.candidate.last_name for e in due] == ["Overdue", "NotStarted", "FreeBySaturday", "Sunday"]
    assert due[0].overdue_days == 12 and due[0].session_text == "3 of 6"
    assert due[3].overdue_days == 0
    assert [e.candidate.last_name for e in left_out] == ["Blocked", "Cleared"]
    assert "Active cold sores" in left_out[0].blocked_text
    # "Cleared" would come on its due day, 11 June, while sunburn still counts (to 12 June); the
    # week after, the same sunburn no longer blocks
    due2, left2 = recall(cands, RULES, D(2026, 6, 13), week_end(D(2026, 6, 13)))
    assert "Cleared" in [e.candidate.last_name for e in due2]
    assert [e.candidate.last_name for e in left2] == ["Blocked"]
    later, _ = recall(cands, RULES, today, week_end(today, 1))
    assert "Monday" in [e.candidate.last_name for e in later]


def test_csv_has_a_header_a_row_per_client_and_no_formulas():
    today = D(2026, 6, 10)
    evil = cand(1, '=HYPERLINK("http://x")', D(2026, 5, 1), [D(2026, 5, 1)], phone="+44 7700 900123")
    due, _ = recall(
        [evil, cand(2, "Müller, Jr", D(2026, 5, 1), [D(2026, 5, 20)])], RULES, today, week_end(today)
    )
    text = recall_csv(due)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Last name", "First name", "Phone"]
    assert len(rows) == 3
    by_name = {r[0]: r for r in rows[1:]}
    assert '\'=HYPERLINK("http://x")' in by_name
    assert by_name['\'=HYPERLINK("http://x")'][2] == "+44 7700 900123"  # a phone number stays as typed
    assert by_name["Müller, Jr"][5] == "2026-06-03" and by_name["Müller, Jr"][4] == "2 of 6"
    assert text.endswith("\r\n")
    assert csv_cell("-1+1") == "'-1+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("Ann") == "Ann"


# -- iCalendar ---------------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1, read back: every physical line ends in CRLF, is at most 75 octets, and a line
    starting with a space continues the one before."""
    assert text.endswith("\r\n")
    physical = text.split("\r\n")[:-1]
    logical: list[str] = []
    for line in physical:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode("utf-8")) <= 75, line
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert ch not in ";,", f"unescaped {ch!r} in {value!r}"
            out.append(ch)
            i += 1
    return "".join(out)


def parse(text: str) -> list[dict[str, str]]:
    """Every VEVENT as {property name (with parameters): unescaped value}; checks the nesting."""
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    head = dict(line.split(":", 1) for line in lines[1:] if not line.startswith(("BEGIN", "END")))
    assert head["VERSION"] == "2.0" and head["PRODID"]
    events, current = [], None
    for line in lines[1:-1]:
        name, value = line.split(":", 1)
        if line == "BEGIN:VEVENT":
            assert current is None
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            current[name] = unescape(value) if name in ("SUMMARY", "DESCRIPTION", "UID") else value
    assert current is None
    return events


def test_calendar_parses_line_by_line_with_folding_and_escapes():
    long = "Recall Léa-Éloïse O'Brien-Smith de la Fontaine-Würth: session 4 of 6, 😀 emoji, and more; yes"
    events = [
        AllDayEvent("recall-1-10-4@abc", D(2026, 6, 12), long, "Phone: +44 7700 900123\nDue 12 Jun 2026"),
        AllDayEvent("recall-2-20-1@abc", D(2026, 12, 31), "Short", ""),
    ]
    text = calendar(events, dt.datetime(2026, 6, 10, 9, 30, tzinfo=dt.UTC))
    assert any(line.startswith(" ") for line in text.split("\r\n")), "the long summary was folded"
    parsed = parse(text)
    assert len(parsed) == 2
    e = parsed[0]
    assert e["SUMMARY"] == long
    assert e["DESCRIPTION"] == "Phone: +44 7700 900123\nDue 12 Jun 2026"
    assert e["DTSTART;VALUE=DATE"] == "20260612" and e["DTEND;VALUE=DATE"] == "20260613"
    assert e["DTSTAMP"] == "20260610T093000Z"
    assert parsed[1]["DTEND;VALUE=DATE"] == "20270101"  # the year rolls over
    assert "DESCRIPTION" not in parsed[1]


@given(st.text(min_size=0, max_size=400))
def test_any_text_folds_within_75_octets_and_unfolds_to_itself(text):
    line = "SUMMARY:" + escape_text(text)
    folded = fold(line)
    for piece in folded.split("\r\n"):
        assert len(piece.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == line
    value = unescape(line.split(":", 1)[1])
    expected = "".join(
        ch
        for ch in text.replace("\r\n", "\n").replace("\r", "\n")
        if ch in "\t\n" or (ord(ch) >= 0x20 and ord(ch) != 0x7F)
    )
    assert value == expected


def test_recall_events_land_today_for_the_overdue_with_stable_uids():
    today = D(2026, 6, 10)
    due, _ = recall(
        [cand(1, "Late", D(2026, 5, 1), [D(2026, 5, 1)]), cand(2, "Soon", D(2026, 5, 1), [D(2026, 5, 29)])],
        RULES,
        today,
        week_end(today),
    )
    events = recall_events(due, today, "db42")
    by = {e.summary.split(":")[0]: e for e in events}
    assert by["Recall Ann Late"].day == today  # due 15 May: not put in the past
    assert "26 days overdue" in by["Recall Ann Late"].description
    assert by["Recall Ann Soon"].day == D(2026, 6, 12)
    assert by["Recall Ann Late"].uid == "recall-1-10-2@db42"
    assert recall_events(due, today, "db42")[0].uid == events[0].uid
