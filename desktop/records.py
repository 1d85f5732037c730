"""What a microdermabrasion clinic records about a client, and the rules that judge it.

Pure Python: no Qt and no SQL here. The store (``desktop.store``) persists these; the widgets show them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

SENSITIVITIES = {"normal": "Normal", "sensitive": "Sensitive", "very_sensitive": "Very sensitive"}
DEFAULT_CEILINGS_KPA = {"normal": 45.0, "sensitive": 30.0, "very_sensitive": 20.0}
CONCERNS = {
    "acne_scars": "Acne scars",
    "fine_lines": "Fine lines",
    "wrinkles": "Wrinkles",
    "hyperpigmentation": "Hyperpigmentation",
    "uneven_tone": "Uneven tone",
    "enlarged_pores": "Enlarged pores",
    "dullness": "Dullness",
}
FITZPATRICK = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}
AREAS = {
    "forehead": "Forehead",
    "cheeks": "Cheeks",
    "nose": "Nose",
    "chin": "Chin",
    "upper_lip": "Upper lip",
    "neck": "Neck",
    "decolletage": "Décolletage",
    "hands": "Hands",
    "back": "Back",
    "other": "Other",
}
ERYTHEMA = {"none": "None", "mild": "Mild", "moderate": "Moderate", "marked": "Marked"}
FINDINGS = {"petechiae": "Petechiae", "abrasion": "Abrasion", "swelling": "Swelling"}
MAX_AGE_YEARS = 120
MAX_CEILING_KPA = 90.0
MAX_NAME = 100  # characters in a first or last name
MAX_NOTES = 10_000  # characters in the client's notes

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-./]{6,24}$")


def fmt_date(d: dt.date | None) -> str:
    """14 May 2027 — unambiguous in every clinic's locale."""
    return f"{d.day} {d.strftime('%b %Y')}" if d else ""


def add_months(d: dt.date, months: int) -> dt.date:
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def parse_date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


@dataclass
class Client:
    first_name: str = ""
    last_name: str = ""
    date_of_birth: dt.date | None = None
    phone: str = ""
    email: str = ""
    fitzpatrick: int | None = None
    sensitivity: str = "normal"
    concerns: list[str] = field(default_factory=list)
    vacuum_ceiling_kpa: float = DEFAULT_CEILINGS_KPA["normal"]
    notes: str = ""
    archived: bool = False
    id: int | None = None
    last_visit: dt.date | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def pih_risk(self) -> bool:
        """Fitzpatrick IV–VI: post-inflammatory hyperpigmentation risk."""
        return (self.fitzpatrick or 0) >= 4


def control_characters(text: str, allow_newlines: bool = False) -> bool:
    """Does ``text`` hold characters no one types (NUL, escape, other control codes)?"""
    allowed = "\n\t" if allow_newlines else ""
    return any((ord(ch) < 32 and ch not in allowed) or 0x7F <= ord(ch) < 0xA0 for ch in text)


def _too_long(text: str, limit: int, what: str) -> str | None:
    n = len(text.strip())
    return f"{what} is at most {limit:,} characters (this one has {n:,})." if n > limit else None


def validate_client(c: Client, today: dt.date) -> dict[str, str]:
    """Return {field: message} for everything wrong with ``c`` (empty when it may be saved)."""
    errors: dict[str, str] = {}
    for key, value, what, limit in (
        ("first_name", c.first_name, "A name", MAX_NAME),
        ("last_name", c.last_name, "A name", MAX_NAME),
        ("email", c.email, "An email address", 254),
        ("notes", c.notes, "The notes", MAX_NOTES),
    ):
        message = _too_long(value, limit, what)
        if message:
            errors[key] = message
        elif control_characters(value, allow_newlines=key == "notes"):
            errors[key] = "Remove the control characters (pasted from another program) from this field."
    if errors:
        return errors
    if not c.first_name.strip() and not c.last_name.strip():
        errors["first_name"] = "Enter the client's name."
    elif not c.last_name.strip():
        errors["last_name"] = "Enter the client's last name."
    if c.date_of_birth:
        if c.date_of_birth > today:
            errors["date_of_birth"] = "Date of birth cannot be in the future."
        elif c.date_of_birth < add_months(today, -12 * MAX_AGE_YEARS):
            errors["date_of_birth"] = f"That makes the client over {MAX_AGE_YEARS} years old."
    if c.email.strip() and not _EMAIL.match(c.email.strip()):
        errors["email"] = "That is not an email address (name@example.com)."
    if c.phone.strip() and (
        len(c.phone) > 40 or not _PHONE.match(c.phone.strip()) or not 6 <= len(phone_digits(c.phone)) <= 15
    ):
        errors["phone"] = "A phone number has 6 to 15 digits (+, spaces, dashes allowed)."
    if c.sensitivity not in SENSITIVITIES:
        errors["sensitivity"] = "Choose the skin sensitivity."
    if c.fitzpatrick is not None and c.fitzpatrick not in FITZPATRICK:
        errors["fitzpatrick"] = "Fitzpatrick type is I to VI."
    if not 5.0 <= c.vacuum_ceiling_kpa <= MAX_CEILING_KPA:
        errors["vacuum_ceiling_kpa"] = f"The vacuum ceiling must be 5 to {MAX_CEILING_KPA:.0f} kPa."
    unknown = set(c.concerns) - set(CONCERNS)
    if unknown:
        errors["concerns"] = f"Unknown concern: {', '.join(sorted(unknown))}."
    return errors


# -- screening -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningRule:
    """How long after its end an item still counts, and what it does to a treatment."""

    code: str
    label: str
    months: int = 0  # counts for this many months after it ended…
    days: int = 0  # …plus this many days; 0 and 0: only while active
    effect: str = "block"  # block | warn
    sort: int = 0

    def period_text(self) -> str:
        parts = []
        if self.months:
            parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
        if self.days:
            parts.append(f"{self.days} day{'s' if self.days != 1 else ''}")
        return " ".join(parts) + " after it ends" if parts else "while active"


DEFAULT_RULES = (
    ScreeningRule("active_acne", "Active inflammatory acne or open lesions", effect="block", sort=1),
    ScreeningRule("rosacea", "Rosacea (flare)", effect="block", sort=2),
    ScreeningRule("eczema", "Eczema or dermatitis on the area", effect="block", sort=3),
    ScreeningRule("facial_surgery", "Facial surgery", months=6, effect="block", sort=4),
    ScreeningRule("laser_peel", "Laser resurfacing or chemical peel", days=28, effect="warn", sort=5),
    ScreeningRule("isotretinoin", "Isotretinoin (oral)", months=6, effect="block", sort=6),
    ScreeningRule(
        "topical_retinoids", "Topical retinoids, AHA, benzoyl peroxide", days=3, effect="warn", sort=7
    ),
    ScreeningRule("sunburn", "Sunburn or fresh tan", days=14, effect="block", sort=8),
    ScreeningRule("cold_sores", "Active cold sores (herpes simplex)", effect="block", sort=9),
    ScreeningRule("infection", "Skin infection or open wounds", effect="block", sort=10),
    ScreeningRule("anticoagulants", "Anticoagulants or NSAIDs (bruising)", effect="warn", sort=11),
    ScreeningRule("poor_healing", "Poor healing (e.g. uncontrolled diabetes)", effect="warn", sort=12),
    ScreeningRule("pregnancy", "Pregnancy or breastfeeding", effect="warn", sort=13),
    ScreeningRule("other", "Other", effect="warn", sort=14),
)


@dataclass(frozen=True)
class ScreeningAnswer:
    code: str
    since: dt.date | None = None  # when it began (informational)
    ended: dt.date | None = None  # None: ongoing
    note: str = ""


@dataclass(frozen=True)
class ScreeningStatus:
    rule: ScreeningRule
    answer: ScreeningAnswer
    active: bool
    until: dt.date | None  # last day it still counts; None while ongoing

    @property
    def blocks(self) -> bool:
        return self.active and self.rule.effect == "block"

    def message(self) -> str:
        verb = "no microdermabrasion" if self.rule.effect == "block" else "caution"
        name = self.rule.label.split(" (")[0]
        if not self.active:
            return f"{name}: ended {fmt_date(self.answer.ended)}, no longer counts"
        if self.until is None:
            return f"{name}: {verb} while active"
        return f"{name}: {verb} until {fmt_date(self.until + dt.timedelta(days=1))}"


def evaluate(
    answers: list[ScreeningAnswer], rules: list[ScreeningRule], today: dt.date
) -> list[ScreeningStatus]:
    by_code = {r.code: r for r in rules}
    out = []
    for a in answers:
        rule = by_code.get(a.code) or ScreeningRule(a.code, a.code, effect="warn", sort=99)
        if a.ended is None:
            active, until = True, None
        else:
            last = add_months(a.ended, rule.months) + dt.timedelta(days=rule.days)
            # "6 months after the last dose on 14 Nov" = treatable again on 14 May: last counting day 13 May
            if rule.months or rule.days:
                last -= dt.timedelta(days=1)
            active, until = today <= last, last
        out.append(ScreeningStatus(rule, a, active, until))
    out.sort(key=lambda s: (not s.active, s.rule.effect != "block", s.rule.sort))
    return out


def next_due(
    last: dt.date, interval_days: int, statuses: list[ScreeningStatus]
) -> tuple[dt.date | None, str]:
    """When the next session is due, in words, never on a day inside an active block.

    Returns (date, words): the series interval after the last session, moved to the first day the
    client may be treated again if a blocking item still counts then ("blocked until 25 Mar 2027");
    (None, "blocked while … is active") while an open-ended block lasts.
    """
    due = last + dt.timedelta(days=interval_days)
    blocking = [s for s in statuses if s.blocks]
    ongoing = [s.rule.label.split(" (")[0] for s in blocking if s.until is None]
    if ongoing:
        return None, f"blocked while active: {', '.join(ongoing)}"
    if blocking:
        free = max(s.until for s in blocking) + dt.timedelta(days=1)
        if due < free:
            return free, f"blocked until {fmt_date(free)}"
    return due, fmt_date(due)


def interval_warning(last: dt.date | None, today: dt.date, minimum_days: int) -> str | None:
    """A warning when today is sooner after the last session than the clinic's minimum interval."""
    if last is None or today >= last + dt.timedelta(days=minimum_days):
        return None
    days = (today - last).days
    when = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    return (
        f"The last session was {when} ({fmt_date(last)}): sooner than the clinic's minimum interval "
        f"of {minimum_days} days."
    )


def areas_text(areas: list[str], passes: dict[str, int] | None = None) -> str:
    """ "Forehead ×3, Cheeks ×2, Nose": the areas treated, with the passes recorded on each."""
    passes = passes or {}
    return ", ".join(AREAS.get(a, a) + (f" ×{passes[a]}" if passes.get(a) else "") for a in areas)
