"""The client's screening answers, without Qt: plain questions, validation, what is proposed to record."""

from __future__ import annotations

import datetime as dt

from desktop.erasure import describe, plan_erasure
from desktop.questionnaire import (
    NO,
    UNSURE,
    YES,
    ClientAnswer,
    answers_from_json,
    answers_to_json,
    propose,
    questions,
    validate_answer,
)
from desktop.records import DEFAULT_RULES, ScreeningAnswer, ScreeningRule

D = dt.date
RULES = list(DEFAULT_RULES)
TODAY = D(2026, 6, 10)


def q(code):
    return next(x for x in questions(RULES) if x.code == code)


def test_one_plain_question_per_item_in_the_clinics_order():
    qs = questions(RULES)
    assert [x.code for x in qs] == [r.code for r in sorted(RULES, key=lambda r: r.sort)]
    assert q("isotretinoin").text.startswith("Have you ever taken isotretinoin tablets")
    assert q("isotretinoin").timed and q("isotretinoin").when == "When did you take the last tablet?"
    assert not q("cold_sores").timed  # counts only while active: no follow-up
    assert q("other").asks_detail
    # a clinic's own item is asked in its own words
    own = questions([ScreeningRule("botox", "Botulinum toxin injection (face)", days=14, effect="warn")])[0]
    assert own.text == "Do you have, or have you recently had: botulinum toxin injection?"
    assert own.timed and own.still == "Is it still going on?"


def test_validation_asks_for_what_is_missing_in_plain_words():
    iso = q("isotretinoin")
    assert (
        validate_answer(ClientAnswer("isotretinoin", iso.text, ""), iso, TODAY)
        == "Please choose Yes, No or Not sure."
    )
    assert "still going on" in validate_answer(ClientAnswer("isotretinoin", iso.text, YES), iso, TODAY)
    assert "when it stopped" in validate_answer(
        ClientAnswer("isotretinoin", iso.text, YES, False), iso, TODAY
    )
    future = ClientAnswer("isotretinoin", iso.text, YES, False, TODAY + dt.timedelta(days=1))
    assert "future" in validate_answer(future, iso, TODAY)
    assert (
        validate_answer(ClientAnswer("isotretinoin", iso.text, YES, False, D(2026, 1, 3)), iso, TODAY) is None
    )
    assert validate_answer(ClientAnswer("isotretinoin", iso.text, YES, True), iso, TODAY) is None
    other = q("other")
    assert "few words" in validate_answer(ClientAnswer("other", other.text, YES), other, TODAY)
    assert validate_answer(ClientAnswer("other", other.text, YES, detail="bee sting"), other, TODAY) is None
    assert "under 500" in validate_answer(
        ClientAnswer("other", other.text, YES, detail="x" * 501), other, TODAY
    )


def test_propose_starts_from_the_record_and_flags_what_needs_a_look():
    existing = [
        ScreeningAnswer("rosacea", D(2025, 1, 1), None, "flares in winter"),  # ongoing on record
        ScreeningAnswer("sunburn", None, D(2026, 4, 1)),  # ended on record
        ScreeningAnswer("anticoagulants", D(2024, 2, 2), None, "warfarin"),
    ]
    answers = [
        ClientAnswer("rosacea", "…", NO),  # the record says ongoing: kept, flagged
        ClientAnswer("sunburn", "…", NO),  # ended on record: nothing changes, nothing flagged
        ClientAnswer("isotretinoin", "…", YES, False, D(2026, 2, 1)),  # new: recorded as the client says
        ClientAnswer("cold_sores", "…", UNSURE),  # not sure: recorded ongoing, flagged
        ClientAnswer("anticoagulants", "…", YES, None),  # agrees with the record: no difference
        ClientAnswer("other", "…", YES, detail="bee sting on the chin"),
        ClientAnswer("eczema", "…", NO),  # not on record: nothing
    ]
    proposed, diffs = propose(existing, answers, RULES)
    by = {a.code: a for a in proposed}
    assert set(by) == {"rosacea", "sunburn", "isotretinoin", "cold_sores", "anticoagulants", "other"}
    assert by["rosacea"] == existing[0]
    assert by["sunburn"] == existing[1]
    assert by["isotretinoin"] == ScreeningAnswer("isotretinoin", None, D(2026, 2, 1), "")
    assert by["cold_sores"].ended is None and by["cold_sores"].note == "Client not sure"
    assert by["anticoagulants"] == existing[2]  # its since and note are kept
    assert by["other"].note == "Client: bee sting on the chin"
    assert [a.code for a in proposed] == [
        "rosacea",
        "isotretinoin",
        "sunburn",
        "cold_sores",
        "anticoagulants",
        "other",
    ]
    d = {x.code: x for x in diffs}
    assert set(d) == {"rosacea", "isotretinoin", "cold_sores", "other"}
    assert d["rosacea"].attention and d["rosacea"].recorded == "ongoing" and d["rosacea"].client == "No"
    assert d["cold_sores"].attention
    assert not d["isotretinoin"].attention and d["isotretinoin"].client == "Yes, stopped 1 Feb 2026"
    # the record said it ended; the client says it is back: that is a change worth a look
    _, diffs2 = propose(existing, [ClientAnswer("sunburn", "…", YES, True)], RULES)
    assert diffs2[0].attention and diffs2[0].recorded == "ended 1 Apr 2026"


def test_client_answers_keep_the_question_word_for_word_through_json():
    a = [
        ClientAnswer("isotretinoin", "Have you ever taken…?", YES, False, D(2026, 2, 1)),
        ClientAnswer("other", "Anything else?", YES, detail="a rash"),
    ]
    assert answers_from_json(answers_to_json(a)) == a


def test_erasure_plan_keeps_the_record_for_the_retention_period():
    never = plan_erasure(None, TODAY, 8)
    assert never.full and "never treated" in never.summary()
    old = plan_erasure(D(2018, 6, 10), TODAY, 8)
    assert old.full  # exactly 8 years: nothing must be kept any more
    recent = plan_erasure(D(2018, 6, 11), TODAY, 8)
    assert not recent.full and recent.keep_until == D(2026, 6, 11)
    assert "until 11 Jun 2026" in recent.summary()
    erased, kept = describe(
        recent, {"sessions": 3, "consents": 1, "questionnaires": 2, "series": 1, "photo": 4}
    )
    assert erased[0] == "phone number and email"
    assert "3 treatment sessions with their traces, notes and alarms" in kept
    assert "the screening and 2 questionnaires" in kept and "4 photos" in kept
    gone, kept_full = describe(never, {"sessions": 0, "consents": 1, "series": 1})
    assert kept_full == [] and "1 consent as signed" in gone and "1 series plan" in gone
