"""Signed consent: templates, what a signed consent keeps, whether it is still valid, the signature's ink.

Pure Python: no Qt and no SQL. The store keeps these (``desktop/store/consent.py``); the widgets in
``desktop/consent_dialogs.py`` and ``desktop/signature_pad.py`` show and capture them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from dataclasses import dataclass

from desktop.records import add_months, fmt_date

DEFAULT_VALIDITY_MONTHS = 12
TITLE_MAX = 120
BODY_MIN = 40
BODY_MAX = 20_000

# Kinds of consent record.
SIGNED = "signed"
LEGACY = "legacy"  # a date and a witness typed in before Abrasio had signed consent: no text, no signature

DEFAULT_TEMPLATE_CODE = "microdermabrasion"
DEFAULT_TEMPLATE_TITLE = "Consent to medical microdermabrasion"
DEFAULT_TEMPLATE_BODY = """\
What the treatment is
Medical microdermabrasion is a non-invasive treatment carried out by a trained practitioner. A \
diamond-tipped wand or a flow of fine crystals gently exfoliates the outermost layer of the skin while \
light suction holds the skin to the handpiece. It removes dead skin cells, unclogs pores and \
stimulates collagen production. It is used for acne scars, fine lines, wrinkles, hyperpigmentation and \
uneven skin tone.

What to expect afterwards
Mild redness or sensitivity straight after the treatment is common and usually subsides within a few \
hours. Less often there may be small red spots (petechiae), slight swelling or a graze where the skin \
was treated. I will tell the practitioner at once if anything hurts during the treatment.

When it should not be done, or should wait
Microdermabrasion may not be suitable, or may need to wait, if I have: active acne, rosacea or eczema \
on the area; a cold sore, a skin infection or an open wound; sunburn or a fresh tan; very sensitive \
skin; had facial surgery, laser resurfacing or a chemical peel recently; taken isotretinoin (for \
example Roaccutane) in the last 6 months, or used retinoid, AHA or benzoyl peroxide creams in the last \
few days; if I take blood thinners or anti-inflammatory painkillers; if my skin heals poorly (for \
example uncontrolled diabetes); or if I am pregnant or breastfeeding. I have answered the screening \
questions truthfully and will tell the practitioner before each session if anything has changed.

Results
Results are often visible straight after a treatment and improve over a series of sessions, usually \
6 to 10 sessions one to two weeks apart. Results differ from person to person and are not guaranteed.

Aftercare
I will follow the aftercare advice I am given, including a broad-spectrum sunscreen every day and no \
exfoliating products for a few days.

My consent
I have read this form, I have had the chance to ask questions, and I consent to medical \
microdermabrasion. I understand that I can withdraw my consent at any time.
"""


@dataclass(frozen=True)
class ConsentTemplate:
    """One version of a consent form. Editing a form adds a version; a version never changes."""

    code: str  # the form's identity across versions ("microdermabrasion")
    version: int
    title: str
    body: str
    created_at: str = ""
    created_by: str = ""
    active: bool = True  # retired forms are kept (consents refer to them) but not offered
    id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.title} (version {self.version})"


def validate_template(title: str, body: str) -> dict[str, str]:
    """{field: message} for a form that cannot be saved; empty when it can."""
    errors = {}
    if not title.strip():
        errors["title"] = "Give the form a title."
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = f"A title is at most {TITLE_MAX} characters."
    text = body.strip()
    if len(text) < BODY_MIN:
        errors["body"] = f"Write what the client consents to (at least {BODY_MIN} characters)."
    elif len(text) > BODY_MAX:
        errors["body"] = f"A consent form is at most {BODY_MAX:,} characters."
    return errors


@dataclass(frozen=True)
class Consent:
    """A consent the client gave: the exact text they signed, their signature, who witnessed, when."""

    client_id: int
    kind: str  # SIGNED or LEGACY
    signed_on: dt.date
    witnessed_by: str
    title: str = ""
    text: str = ""  # exactly what was shown to the client
    template_code: str | None = None
    template_version: int | None = None
    signed_at: str = ""  # ISO timestamp with offset ("" for a legacy record: only a date was kept)
    signer_name: str = ""  # the client's name as it stood when they signed
    signature_png: bytes | None = None
    strokes: list | None = None  # [[(x, y, pressure, ms), ...], ...] in the pad's logical pixels
    pad_size: tuple[int, int] | None = None
    recorded_at: str = ""
    id: int | None = None

    @property
    def legacy(self) -> bool:
        return self.kind == LEGACY

    @property
    def form_label(self) -> str:
        if self.legacy:
            return "Recorded before signed consent existed (no text or signature kept)"
        return f"{self.title} (version {self.template_version})"


def valid_until(signed_on: dt.date, months: int) -> dt.date:
    """Last day a consent signed on ``signed_on`` still counts: 12 months from 14 May is 13 May."""
    return add_months(signed_on, months) - dt.timedelta(days=1)


@dataclass(frozen=True)
class ConsentStatus:
    state: str  # "valid" | "expired" | "missing"
    latest: Consent | None
    until: dt.date | None  # last valid day of the latest consent
    today: dt.date

    @property
    def ok(self) -> bool:
        return self.state == "valid"

    @property
    def days_left(self) -> int | None:
        return (self.until - self.today).days if self.until else None

    def message(self) -> str:
        c = self.latest
        if c is None:
            return "No consent on file: ask the client to sign the consent form."
        how = (
            f"recorded {fmt_date(c.signed_on)} before signed consent existed, witnessed by {c.witnessed_by}"
            if c.legacy
            else f"signed {fmt_date(c.signed_on)}, witnessed by {c.witnessed_by}"
        )
        if self.state == "expired":
            return (
                f"Consent expired on {fmt_date(self.until + dt.timedelta(days=1))} ({how}): "
                "ask the client to sign again."
            )
        return f"Consent valid until {fmt_date(self.until)} ({how})."


def consent_status(consents: list[Consent], today: dt.date, months: int) -> ConsentStatus:
    """Whether the client has a consent that still counts today; the latest one decides.

    A legacy record counts from its date like a signed one: the clinic did record a consent then, and
    pretending otherwise would warn for every client at once; its message says it has no signature.
    """
    if months < 1:
        raise ValueError("consent is valid for at least one month")
    given = [c for c in consents if c.signed_on <= today]
    if not given:
        return ConsentStatus("missing", None, None, today)
    latest = max(given, key=lambda c: (c.signed_on, c.signed_at, c.id or 0))
    until = valid_until(latest.signed_on, months)
    return ConsentStatus("valid" if today <= until else "expired", latest, until, today)


# -- the signature's ink -------------------------------------------------------------------------

MIN_INK_PX = 80.0  # total stroke length: less is a tap or a tick, not a signature
MIN_WIDTH_PX = 40.0  # and it must spread across the box at least this far
MAX_POINTS = 20_000  # a pen at 200 Hz for 100 s: more is not a signature


def ink_length(strokes: list) -> float:
    total = 0.0
    for stroke in strokes:
        for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(stroke):
            total += math.hypot(x1 - x0, y1 - y0)
    return total


def signature_problem(strokes: list) -> str | None:
    """Why ``strokes`` cannot be accepted as a signature (None when they can)."""
    points = [p for s in strokes for p in s]
    if not points:
        return "The client has not signed yet: ask them to sign in the box."
    if len(points) > MAX_POINTS:
        return "The signature is too long: clear it and ask the client to sign once."
    xs = [p[0] for p in points]
    if ink_length(strokes) < MIN_INK_PX or max(xs) - min(xs) < MIN_WIDTH_PX:
        return "That is a tap or a dot, not a signature: clear it and ask the client to sign across the box."
    return None


def strokes_to_json(strokes: list) -> str:
    """Compact (0.1 px, pressure to 0.01, milliseconds) and readable without Abrasio."""
    return json.dumps(
        [
            [[round(x, 1), round(y, 1), round(pressure, 2), int(ms)] for x, y, pressure, ms in s]
            for s in strokes
        ],
        separators=(",", ":"),
    )


def strokes_from_json(text: str | None) -> list | None:
    """The strokes back; None for no text. Raises ValueError when the text is not strokes."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the stored signature strokes are not JSON: {exc}") from exc
    if not isinstance(data, list) or not all(
        isinstance(s, list)
        and all(isinstance(p, list) and len(p) == 4 and all(isinstance(v, int | float) for v in p) for p in s)
        for s in data
    ):
        raise ValueError("the stored signature strokes are not lists of (x, y, pressure, ms) points")
    return [[tuple(p) for p in s] for s in data]
