"""The screening as the client answers it: plain questions, one at a time; then what the practitioner
is proposed to record, and where the client's answers differ from the record.

Pure Python: no Qt and no SQL. ``desktop/screening_mode.py`` asks the questions on screen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desktop.records import ScreeningAnswer, ScreeningRule, fmt_date

YES, NO, UNSURE = "yes", "no", "unsure"
ANSWER_WORDS = {YES: "Yes", NO: "No", UNSURE: "Not sure"}
DETAIL_MAX = 500

# Plain words a client understands, by screening item. A clinic's own items fall back to their label.
QUESTIONS = {
    "active_acne": "Do you have spots or acne on your face right now that are red, sore or open?",
    "rosacea": "Do you have rosacea that is flaring up at the moment (redness, flushing or bumps)?",
    "eczema": "Do you have eczema or dermatitis on your face or on the area to be treated?",
    "facial_surgery": "Have you ever had surgery on your face?",
    "laser_peel": "Have you had a laser treatment or a chemical peel on your face?",
    "isotretinoin": "Have you ever taken isotretinoin tablets for acne (for example Roaccutane)?",
    "topical_retinoids": (
        "Do you use creams or serums with retinol or retinoids, AHA (such as glycolic acid) or benzoyl "
        "peroxide?"
    ),
    "sunburn": "Do you have sunburn or a fresh tan?",
    "cold_sores": "Do you have a cold sore at the moment?",
    "infection": "Do you have a skin infection, a cut or an open wound on your face?",
    "anticoagulants": "Do you take blood thinners, or painkillers such as ibuprofen or aspirin?",
    "poor_healing": "Does your skin heal slowly, for example because of diabetes?",
    "pregnancy": "Are you pregnant or breastfeeding?",
    "other": "Is there anything else about your skin or your health we should know about today?",
}
# The follow-up for items that still count for a while after they end ("When did it stop?").
STILL = {
    "facial_surgery": "Is your face still healing from it?",
    "isotretinoin": "Are you still taking it?",
    "topical_retinoids": "Are you still using them?",
    "laser_peel": "Is your skin still healing from it?",
    "sunburn": "Do you still have it?",
}
WHEN = {
    "facial_surgery": "When was the surgery?",
    "isotretinoin": "When did you take the last tablet?",
    "topical_retinoids": "When did you last use them?",
    "laser_peel": "When was the treatment?",
    "sunburn": "When did it fade?",
}


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    timed: bool  # counts for a while after it ends: ask whether it goes on, and when it stopped
    still: str = ""
    when: str = ""
    asks_detail: bool = False  # "anything else?": a yes needs a few words


def questions(rules: list[ScreeningRule]) -> list[Question]:
    """One question per screening item, in the clinic's order."""
    out = []
    for r in sorted(rules, key=lambda r: (r.sort, r.code)):
        timed = bool(r.months or r.days)
        label = r.label.split(" (")[0]
        out.append(
            Question(
                r.code,
                QUESTIONS.get(r.code, f"Do you have, or have you recently had: {label.lower()}?"),
                timed,
                STILL.get(r.code, "Is it still going on?") if timed else "",
                WHEN.get(r.code, "When did it stop?") if timed else "",
                asks_detail=r.code == "other",
            )
        )
    return out


@dataclass(frozen=True)
class ClientAnswer:
    """What the client said to one question, kept word for word with the question they were shown."""

    code: str
    question: str
    answer: str  # YES | NO | UNSURE
    ongoing: bool | None = None  # timed items answered yes: still going on?
    ended: dt.date | None = None  # …and if not, when it stopped
    detail: str = ""  # what they typed ("other")

    def text(self) -> str:
        words = ANSWER_WORDS[self.answer]
        if self.answer == YES and self.ongoing is False and self.ended:
            words += f", stopped {fmt_date(self.ended)}"
        elif self.answer == YES and self.ongoing:
            words += ", still now"
        if self.detail:
            words += f": {self.detail}"
        return words


def validate_answer(a: ClientAnswer, q: Question, today: dt.date) -> str | None:
    """A message in the client's words when an answer is incomplete; None when it is complete."""
    if a.answer not in ANSWER_WORDS:
        return "Please choose Yes, No or Not sure."
    if a.answer == YES and q.timed:
        if a.ongoing is None:
            return "Please tell us whether it is still going on."
        if a.ongoing is False and a.ended is None:
            return "Please tell us roughly when it stopped."
        if a.ended and a.ended > today:
            return "That date is in the future: please choose the day it stopped."
    if a.answer == YES and q.asks_detail and not a.detail.strip():
        return "Please tell us in a few words what it is."
    if len(a.detail) > DETAIL_MAX:
        return f"Please keep it under {DETAIL_MAX} characters; the practitioner will ask you more."
    return None


@dataclass(frozen=True)
class Difference:
    code: str
    label: str
    recorded: str  # what the record says
    client: str  # what the client said
    attention: bool  # the practitioner should look (a conflict, or "not sure")


def _recorded(a: ScreeningAnswer | None) -> str:
    if a is None:
        return "not recorded"
    return f"ended {fmt_date(a.ended)}" if a.ended else "ongoing"


def propose(
    existing: list[ScreeningAnswer], answers: list[ClientAnswer], rules: list[ScreeningRule]
) -> tuple[list[ScreeningAnswer], list[Difference]]:
    """What to record, starting from the record and the client's answers; and every item where they
    differ. The practitioner reviews both and confirms: nothing here is saved on its own.

    - Yes: the item is recorded as the client describes it (ongoing, or ended on their date); the note
      keeps what they typed. "Not sure": recorded as ongoing, flagged for the practitioner to ask.
    - No to an item the record has as ongoing: kept as it is, flagged (the client may be wrong, or it
      may have ended: only the practitioner can tell).
    - No to an item not recorded, or recorded as ended: nothing changes.
    """
    labels = {r.code: r.label for r in rules}
    by_code = {a.code: a for a in existing}
    proposed = dict(by_code)
    diffs = []
    for ca in answers:
        old = by_code.get(ca.code)
        label = labels.get(ca.code, ca.code)
        if ca.answer == NO:
            if old is not None and old.ended is None:
                diffs.append(Difference(ca.code, label, _recorded(old), ca.text(), True))
            continue
        ended = ca.ended if (ca.answer == YES and ca.ongoing is False) else None
        note = (old.note if old else "") or ""
        client_note = (
            f"Client: {ca.detail}" if ca.detail else ("Client not sure" if ca.answer == UNSURE else "")
        )
        if client_note and client_note not in note:
            note = f"{note}; {client_note}" if note else client_note
        new = ScreeningAnswer(ca.code, old.since if old else None, ended, note)
        proposed[ca.code] = new
        if old is None or old.ended != new.ended or ca.answer == UNSURE:
            diffs.append(
                Difference(ca.code, label, _recorded(old), ca.text(), ca.answer == UNSURE or old is not None)
            )
    order = {r.code: (r.sort, r.code) for r in rules}
    result = sorted(proposed.values(), key=lambda a: order.get(a.code, (99, a.code)))
    return result, diffs


def answers_to_json(answers: list[ClientAnswer]) -> list[dict]:
    return [
        {
            "code": a.code,
            "question": a.question,
            "answer": a.answer,
            "ongoing": a.ongoing,
            "ended": a.ended.isoformat() if a.ended else None,
            "detail": a.detail,
        }
        for a in answers
    ]


def answers_from_json(rows: list[dict]) -> list[ClientAnswer]:
    return [
        ClientAnswer(
            r["code"],
            r["question"],
            r["answer"],
            r.get("ongoing"),
            dt.date.fromisoformat(r["ended"]) if r.get("ended") else None,
            r.get("detail", ""),
        )
        for r in rows
    ]
