"""Consent without Qt: validity, the ink that counts as a signature, forms, strokes kept exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.consent import (
    DEFAULT_TEMPLATE_BODY,
    LEGACY,
    SIGNED,
    Consent,
    consent_status,
    signature_problem,
    strokes_from_json,
    strokes_to_json,
    valid_until,
    validate_template,
)

D = dt.date


def signed(on: D, cid: int = 1, id: int = 1, kind: str = SIGNED) -> Consent:
    return Consent(client_id=cid, kind=kind, signed_on=on, witnessed_by="Dr K", id=id)


def test_twelve_months_means_the_day_before_the_anniversary():
    assert valid_until(D(2026, 5, 14), 12) == D(2027, 5, 13)
    assert valid_until(D(2024, 2, 29), 12) == D(2025, 2, 27)  # no 29 Feb: 28 Feb is the anniversary
    assert valid_until(D(2026, 1, 31), 1) == D(2026, 2, 27)


def test_status_missing_valid_expired_on_the_boundary():
    assert consent_status([], D(2027, 1, 1), 12).state == "missing"
    c = [signed(D(2026, 5, 14))]
    last_day = consent_status(c, D(2027, 5, 13), 12)
    assert last_day.state == "valid" and last_day.ok and last_day.days_left == 0
    first_expired = consent_status(c, D(2027, 5, 14), 12)
    assert first_expired.state == "expired" and not first_expired.ok
    assert "expired on 14 May 2027" in first_expired.message()
    assert "sign again" in first_expired.message()


def test_the_latest_consent_decides_not_the_first():
    old, new = signed(D(2025, 1, 1), id=1), signed(D(2026, 6, 1), id=2)
    st_ = consent_status([new, old], D(2026, 7, 1), 12)
    assert st_.latest is new and st_.until == D(2027, 5, 31)
    # a consent dated after today (a wrong clock) is not counted as given yet
    assert consent_status([signed(D(2030, 1, 1))], D(2026, 7, 1), 12).state == "missing"


def test_a_shorter_validity_setting_expires_existing_consents():
    c = [signed(D(2026, 1, 10))]
    assert consent_status(c, D(2026, 8, 1), 12).ok
    assert not consent_status(c, D(2026, 8, 1), 6).ok
    with pytest.raises(ValueError):
        consent_status(c, D(2026, 8, 1), 0)


def test_legacy_record_counts_but_says_what_it_is():
    s = consent_status([signed(D(2026, 3, 1), kind=LEGACY)], D(2026, 4, 1), 12)
    assert s.ok
    assert "before signed consent existed" in s.message()
    assert s.latest.form_label.startswith("Recorded before signed consent existed")


def test_a_tap_or_a_dot_is_not_a_signature():
    assert "not signed" in signature_problem([])
    assert "tap or a dot" in signature_problem([[(10, 10, 0.5, 0)]])
    assert "tap or a dot" in signature_problem([[(10, 10, 0.5, 0), (14, 12, 0.5, 10)]])
    # a vertical scribble has ink but no width
    tall = [[(100, y, 0.5, y) for y in range(0, 160, 4)]]
    assert "tap or a dot" in signature_problem(tall)
    name = [[(20 + x, 80 + (x % 20), 0.5, x) for x in range(0, 200, 5)]]
    assert signature_problem(name) is None
    too_long = [[(x % 400, 80, 0.5, x) for x in range(30_000)]]
    assert "too long" in signature_problem(too_long)


point = st.tuples(
    st.floats(0, 2000, allow_nan=False),
    st.floats(0, 800, allow_nan=False),
    st.floats(0, 1),
    st.integers(0, 10**7),
)


@given(st.lists(st.lists(point, min_size=1, max_size=30), max_size=5))
def test_strokes_survive_the_round_trip_to_a_tenth_of_a_pixel(strokes):
    back = strokes_from_json(strokes_to_json(strokes))
    assert len(back) == len(strokes)
    for s0, s1 in zip(strokes, back, strict=True):
        for (x, y, p, ms), (x1, y1, p1, ms1) in zip(s0, s1, strict=True):
            assert abs(x - x1) <= 0.05 + 1e-9 and abs(y - y1) <= 0.05 + 1e-9
            assert abs(p - p1) <= 0.005 + 1e-9 and ms1 == ms


@pytest.mark.parametrize("bad", ["{", '{"a": 1}', "[[1, 2]]", '[[["x", 1, 0.5, 3]]]', "[[[1, 2, 3]]]"])
def test_damaged_strokes_are_refused_with_a_message(bad):
    with pytest.raises(ValueError, match="signature strokes"):
        strokes_from_json(bad)
    assert strokes_from_json(None) is None


def test_template_validation_and_the_default_names_what_the_seed_says():
    assert validate_template("", "x" * 50) == {"title": "Give the form a title."}
    assert "at least" in validate_template("Consent", "too short")["body"]
    assert "at most" in validate_template("T" * 121, "x" * 50)["title"]
    assert validate_template("Consent", DEFAULT_TEMPLATE_BODY) == {}
    body = DEFAULT_TEMPLATE_BODY.lower()
    for words in (
        "diamond-tipped wand",
        "mild redness or sensitivity",
        "subsides within a few hours",
        "active acne, rosacea or eczema",
        "facial surgery",
        "improve over a series",
    ):
        assert words in body, words
