"""Screening dates at their boundaries: each default rule on its last counting day and the day after."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.records import (
    DEFAULT_RULES,
    Client,
    ScreeningAnswer,
    add_months,
    evaluate,
    interval_warning,
    next_due,
)

D = dt.date
RULES = {r.code: r for r in DEFAULT_RULES}


def status(code: str, ended: dt.date | None, today: dt.date):
    (s,) = evaluate([ScreeningAnswer(code, ended=ended)], list(DEFAULT_RULES), today)
    return s


# (rule, ended, last day it still counts) — months from the 31st land on the month's last day
LAST_DAYS = [
    ("facial_surgery", D(2027, 1, 31), D(2027, 7, 30)),  # 6 months: treatable again on 31 Jul
    ("facial_surgery", D(2027, 8, 31), D(2028, 2, 28)),  # 31 Aug + 6 months = 29 Feb 2028 (leap)
    ("isotretinoin", D(2026, 11, 14), D(2027, 5, 13)),
    ("laser_peel", D(2027, 3, 1), D(2027, 3, 28)),  # 28 days: treatable again on 29 Mar
    ("topical_retinoids", D(2027, 3, 1), D(2027, 3, 3)),  # 3 days
    ("sunburn", D(2027, 3, 1), D(2027, 3, 14)),  # 14 days
    ("active_acne", D(2027, 3, 1), D(2027, 3, 1)),  # while active: counts on the day it ended
    ("rosacea", D(2027, 3, 1), D(2027, 3, 1)),
    ("eczema", D(2027, 3, 1), D(2027, 3, 1)),
    ("cold_sores", D(2027, 3, 1), D(2027, 3, 1)),
    ("infection", D(2027, 3, 1), D(2027, 3, 1)),
    ("anticoagulants", D(2027, 3, 1), D(2027, 3, 1)),
    ("poor_healing", D(2027, 3, 1), D(2027, 3, 1)),
    ("pregnancy", D(2027, 3, 1), D(2027, 3, 1)),
    ("other", D(2027, 3, 1), D(2027, 3, 1)),
]


@pytest.mark.parametrize(("code", "ended", "last"), LAST_DAYS)
def test_each_default_rule_counts_through_its_last_day_and_not_the_day_after(code, ended, last):
    on_last = status(code, ended, last)
    assert on_last.active and on_last.until == last
    assert on_last.blocks == (RULES[code].effect == "block")
    after = status(code, ended, last + dt.timedelta(days=1))
    assert not after.active and not after.blocks


def test_every_default_rule_is_checked_above():
    assert {code for code, _e, _l in LAST_DAYS} == set(RULES)


def test_effects_of_the_default_rules():
    blocks = {r.code for r in DEFAULT_RULES if r.effect == "block"}
    assert blocks == {
        "active_acne",
        "rosacea",
        "eczema",
        "facial_surgery",
        "isotretinoin",
        "sunburn",
        "cold_sores",
        "infection",
    }


def test_ongoing_items_count_until_they_end():
    s = status("isotretinoin", None, D(2030, 1, 1))
    assert s.active and s.blocks and s.until is None
    assert s.message() == "Isotretinoin: no microdermabrasion while active"
    assert (
        status("pregnancy", None, D(2030, 1, 1)).message()
        == "Pregnancy or breastfeeding: caution while active"
    )


def test_messages_name_the_first_day_it_no_longer_counts():
    assert status("isotretinoin", D(2026, 11, 14), D(2027, 1, 1)).message() == (
        "Isotretinoin: no microdermabrasion until 14 May 2027"
    )
    assert status("laser_peel", D(2027, 3, 1), D(2027, 3, 2)).message() == (
        "Laser resurfacing or chemical peel: caution until 29 Mar 2027"
    )
    assert status("sunburn", D(2027, 3, 1), D(2027, 4, 1)).message() == (
        "Sunburn or fresh tan: ended 1 Mar 2027, no longer counts"
    )


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (D(2027, 1, 28), D(2027, 2, 28)),
        (D(2027, 1, 29), D(2027, 2, 28)),
        (D(2027, 1, 30), D(2027, 2, 28)),
        (D(2027, 1, 31), D(2027, 2, 28)),
        (D(2028, 1, 29), D(2028, 2, 29)),
        (D(2028, 1, 31), D(2028, 2, 29)),
        (D(2027, 12, 31), D(2028, 1, 31)),
        (D(2027, 3, 31), D(2027, 4, 30)),
    ],
)
def test_months_from_the_end_of_january(start, expected):
    assert add_months(start, 1) == expected


def test_add_months_across_years_and_backwards():
    assert add_months(D(2027, 8, 31), 6) == D(2028, 2, 29)
    assert add_months(D(2027, 3, 31), -1) == D(2027, 2, 28)
    assert add_months(D(2027, 1, 15), -12 * 120) == D(1907, 1, 15)
    assert add_months(D(2027, 1, 15), 0) == D(2027, 1, 15)


def test_order_active_blocks_first_then_the_clinics_order():
    answers = [
        ScreeningAnswer("pregnancy"),
        ScreeningAnswer("sunburn", ended=D(2020, 1, 1)),
        ScreeningAnswer("cold_sores"),
        ScreeningAnswer("rosacea"),
        ScreeningAnswer("anticoagulants"),
    ]
    codes = [s.rule.code for s in evaluate(answers, list(DEFAULT_RULES), D(2027, 1, 1))]
    assert codes == ["rosacea", "cold_sores", "anticoagulants", "pregnancy", "sunburn"]


def test_an_item_without_a_rule_warns():
    (s,) = evaluate([ScreeningAnswer("mystery")], list(DEFAULT_RULES), D(2027, 1, 1))
    assert s.active and not s.blocks and s.rule.effect == "warn"


@pytest.mark.parametrize(("fitz", "risk"), [(None, False), (1, False), (3, False), (4, True), (6, True)])
def test_fitzpatrick_iv_to_vi_carry_the_pih_note(fitz, risk):
    assert Client(fitzpatrick=fitz).pih_risk is risk


def test_period_text():
    assert RULES["isotretinoin"].period_text() == "6 months after it ends"
    assert RULES["sunburn"].period_text() == "14 days after it ends"
    assert RULES["cold_sores"].period_text() == "while active"


# -- next due, minimum interval ---------------------------------------------------------------


def statuses(*answers):
    return evaluate(list(answers), list(DEFAULT_RULES), D(2027, 3, 1))


def test_next_due_is_the_interval_after_the_last_session():
    assert next_due(D(2027, 3, 1), 14, []) == (D(2027, 3, 15), "15 Mar 2027")


def test_next_due_never_falls_inside_an_active_block():
    sts = statuses(ScreeningAnswer("isotretinoin", ended=D(2026, 9, 25)))  # counts through 24 Mar
    assert next_due(D(2027, 3, 1), 14, sts) == (D(2027, 3, 25), "blocked until 25 Mar 2027")
    # a block that ends before the due date does not move it
    sts = statuses(ScreeningAnswer("sunburn", ended=D(2027, 2, 27)))  # counts through 12 Mar
    assert next_due(D(2027, 3, 1), 14, sts) == (D(2027, 3, 15), "15 Mar 2027")
    # the block's last day is the due date itself: the day after
    sts = statuses(ScreeningAnswer("sunburn", ended=D(2027, 3, 2)))  # counts through 15 Mar
    assert next_due(D(2027, 3, 1), 14, sts)[0] == D(2027, 3, 16)


def test_next_due_while_an_open_ended_block_lasts():
    sts = statuses(ScreeningAnswer("cold_sores"), ScreeningAnswer("sunburn", ended=D(2027, 3, 1)))
    assert next_due(D(2027, 3, 1), 14, sts) == (None, "blocked while active: Active cold sores")


def test_a_caution_does_not_move_next_due():
    sts = statuses(ScreeningAnswer("pregnancy"), ScreeningAnswer("laser_peel", ended=D(2027, 3, 1)))
    assert next_due(D(2027, 3, 1), 14, sts) == (D(2027, 3, 15), "15 Mar 2027")


def test_interval_warning_until_the_minimum_interval_has_passed():
    last = D(2027, 3, 1)
    assert interval_warning(None, D(2027, 3, 2), 10) is None
    assert interval_warning(last, D(2027, 3, 1), 10).startswith("The last session was today (1 Mar 2027)")
    assert interval_warning(last, D(2027, 3, 2), 10).startswith("The last session was 1 day ago")
    assert "9 days ago" in interval_warning(last, D(2027, 3, 10), 10)
    assert interval_warning(last, D(2027, 3, 10), 10).endswith("minimum interval of 10 days.")
    assert interval_warning(last, D(2027, 3, 11), 10) is None


def test_an_item_without_a_rule_is_named_by_its_code_and_sorted_last():
    sts = evaluate(
        [ScreeningAnswer("mystery"), ScreeningAnswer("pregnancy")], list(DEFAULT_RULES), D(2027, 1, 1)
    )
    assert [s.rule.code for s in sts] == ["pregnancy", "mystery"]
    assert (sts[1].rule.label, sts[1].rule.sort) == ("mystery", 99)
    assert sts[1].message() == "mystery: caution while active"


def test_a_block_comes_before_a_caution_the_clinic_lists_first():
    answers = [ScreeningAnswer("laser_peel", ended=D(2027, 1, 1)), ScreeningAnswer("isotretinoin")]
    codes = [s.rule.code for s in evaluate(answers, list(DEFAULT_RULES), D(2027, 1, 2))]
    assert codes == ["isotretinoin", "laser_peel"]  # laser_peel's sort (5) is before isotretinoin's (6)


def test_next_due_names_every_open_ended_block():
    sts = statuses(ScreeningAnswer("rosacea"), ScreeningAnswer("cold_sores"))
    assert next_due(D(2027, 3, 1), 14, sts) == (None, "blocked while active: Rosacea, Active cold sores")


def test_next_due_on_the_first_free_day_itself_is_not_moved():
    sts = statuses(ScreeningAnswer("sunburn", ended=D(2027, 3, 1)))  # counts through 14 Mar
    assert next_due(D(2027, 3, 1), 14, sts) == (D(2027, 3, 15), "15 Mar 2027")


def test_period_text_singular_and_both():
    from desktop.records import ScreeningRule

    assert ScreeningRule("a", "A", months=1).period_text() == "1 month after it ends"
    assert ScreeningRule("a", "A", days=1).period_text() == "1 day after it ends"
    assert ScreeningRule("a", "A", months=2, days=3).period_text() == "2 months 3 days after it ends"
