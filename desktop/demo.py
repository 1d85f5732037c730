"""A demo database: ~200 fictional clients with past sessions, for training and trying Abrasio out."""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np

from desktop.consent import SIGNED, Consent
from desktop.records import AREAS, CONCERNS, DEFAULT_CEILINGS_KPA, Client, ScreeningAnswer
from desktop.series import SeriesPlan
from desktop.signature_pad import strokes_png
from desktop.store import Store, trace
from device.simulator import HandpieceModel

FIRST = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Sofia",
    "Grace",
    "Lily",
    "Freya",
    "Ella",
    "Chloe",
    "Zara",
    "Priya",
    "Aisha",
    "Mei",
    "Yuki",
    "Lucia",
    "Elena",
    "Noor",
    "Fatima",
    "Hannah",
    "Sara",
    "Emma",
    "Léa",
    "Ingrid",
    "Maja",
    "Aoife",
    "Siobhan",
    "Leila",
    "Ana",
    "Jack",
    "Noah",
    "Oliver",
    "Leo",
    "Arjun",
    "Mateo",
    "Luca",
    "Omar",
    "Kenji",
    "Tom",
    "Daniel",
    "Samuel",
    "Hugo",
    "Felix",
    "Ravi",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Khan",
    "Nguyen",
    "Garcia",
    "Martin",
    "Rossi",
    "Müller",
    "Novak",
    "Kowalski",
    "Silva",
    "Santos",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Walsh",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Haddad",
    "Ahmed",
    "Okafor",
    "Mensah",
    "Adeyemi",
    "Larsen",
    "Berg",
    "Jensen",
    "Moreau",
    "Dubois",
    "Fischer",
    "Schmidt",
    "Hughes",
]
PRACTITIONERS = ("Dr Maya Okonkwo", "Nurse Lena Fischer", "Sam Reid (aesthetic practitioner)")


def demo_clients(n: int, rng: random.Random, today: dt.date, consents: list | None = None) -> list[Client]:
    """``consents``, when given, receives (index, date, witness) of each client's consent."""
    clients = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        sens = rng.choices(list(DEFAULT_CEILINGS_KPA), weights=(6, 3, 1))[0]
        consent = today - dt.timedelta(days=rng.randrange(10, 700)) if rng.random() < 0.9 else None
        witness = rng.choice(PRACTITIONERS) if consent else ""
        if consent and consents is not None:
            consents.append((i, consent, witness))
        clients.append(
            Client(
                first_name=first,
                last_name=last,
                date_of_birth=today - dt.timedelta(days=rng.randrange(18 * 365, 75 * 365)),
                phone=f"07{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}",
                email=f"{first.lower()}.{last.lower().replace(chr(39), '')}{i}@example.org".replace(
                    "é", "e"
                ).replace("ü", "u"),
                fitzpatrick=rng.choices(range(1, 7), weights=(2, 4, 4, 3, 2, 1))[0],
                sensitivity=sens,
                concerns=rng.sample(list(CONCERNS), rng.randrange(1, 4)),
                vacuum_ceiling_kpa=DEFAULT_CEILINGS_KPA[sens],
                notes=rng.choice(
                    [
                        "",
                        "",
                        "Prefers mornings.",
                        "Nervous about suction near eyes.",
                        "Series of 6 agreed.",
                        "Uses SPF daily.",
                    ]
                ),
            )
        )
    return clients


DEMO_RATE = 4  # samples/s in demo traces: a whole 25-minute session in ~6 KB
TEMPLATE_KPA = 30.0  # their set-point (scaled to each session's: the lifted tip's leak scales too)
TEMPLATE_S = 600  # each template: 10 minutes of the simulated handpiece (glide ~9 s, lift ~2 s)


def demo_templates(rng: random.Random, count: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """A few stretches of the real simulator model (``HandpieceModel``, demo cycle) at a set-point of
    ``TEMPLATE_KPA``: (vacuum, flags). Every demo session's trace is cut from these and scaled to its
    set-point,
    so the demo has a trace for every session and is still quick to create (simulating each session
    sample by sample in Python would take most of a minute)."""
    out = []
    n = TEMPLATE_S * DEMO_RATE
    for _ in range(count):
        model = HandpieceModel(DEMO_RATE, TEMPLATE_KPA, seed=rng.randrange(1 << 30), auto=True)
        vals = np.empty(n)
        flags = np.empty(n, np.uint8)
        for i in range(n):
            v, pump, contact = model.step()
            vals[i] = v
            flags[i] = pump | contact << 1
        out.append((vals, flags))
    return out


def demo_trace(
    templates: list[tuple[np.ndarray, np.ndarray]], seconds: float, set_point: float, rng: random.Random
) -> tuple[np.ndarray, np.ndarray]:
    """``seconds`` of trace at ``DEMO_RATE``: template stretches, each from a random point, end to end."""
    n = int(seconds * DEMO_RATE)
    vals, flags = [], []
    have = 0
    while have < n:
        v, f = rng.choice(templates)
        start = rng.randrange(len(v))
        take = min(n - have, len(v) - start)
        vals.append(v[start : start + take])
        flags.append(f[start : start + take])
        have += take
    return np.concatenate(vals) * (set_point / TEMPLATE_KPA), np.concatenate(flags)


def store_demo_trace(store: Store, sid: int, vals: np.ndarray, flags: np.ndarray, ceiling: float) -> dict:
    """Store the trace in five-minute blocks (session time from 0) and return the summary it implies,
    so the review's figures and graph agree."""
    n = len(vals)
    step = 300 * DEMO_RATE
    t = np.arange(n) / DEMO_RATE
    blocks = [
        trace.pack(np.arange(k, min(k + step, n)), t[k : k + step], vals[k : k + step], flags[k : k + step])
        for k in range(0, n, step)
    ]
    store.append_trace(sid, 0, blocks)
    contact = (flags & 2).astype(bool)
    dt_ = 1.0 / DEMO_RATE
    on_skin = vals[contact]
    return {
        "duration_s": round(n * dt_, 1),
        "samples": n,
        "lost": 0,
        "mean_kpa": round(float(on_skin.mean()), 2) if len(on_skin) else None,
        "peak_kpa": round(float(vals.max()), 2),
        "above_ceiling_s": round(float((vals > ceiling).sum() * dt_), 1),
        "contact_s": round(float(contact.sum() * dt_), 1),
        "strokes": int(contact.sum() * dt_ / HandpieceModel.STROKE_PERIOD),
        "alarms": 0,
        "markers": 0,
    }


def create_demo(store: Store, n_clients: int = 200, seed: int = 1, today: dt.date | None = None) -> None:
    with store.batch():  # one commit for the lot: ~3 s instead of ~20 (one fsync per record)
        _create_demo(store, n_clients, seed, today)


def _create_demo(store: Store, n_clients: int, seed: int, today: dt.date | None) -> None:
    rng = random.Random(seed)
    today = today or dt.date.today()
    for name in PRACTITIONERS:
        store.add_practitioner(name)
    consents: list = []
    store.import_clients(demo_clients(n_clients, rng, today, consents), who="demo")
    ids = store.client_ids()
    _demo_consents(store, ids, consents, seed)
    templates = demo_templates(random.Random(seed))
    codes = [r.code for r in store.screening_rules()]
    for cid in ids:
        c = store.client(cid)
        if rng.random() < 0.25:
            code = rng.choice(codes)
            ended = None if rng.random() < 0.4 else today - dt.timedelta(days=rng.randrange(1, 200))
            store.save_screening(cid, [ScreeningAnswer(code, today - dt.timedelta(days=300), ended)], "demo")
        visits = rng.randrange(0, 7)
        days = [today - dt.timedelta(days=rng.randrange(1, 40))]
        while len(days) < visits:
            days.append(days[-1] - dt.timedelta(days=rng.choice((12, 14, 14, 21))))
        for day in reversed(days[:visits]):
            start = dt.datetime.combine(day, dt.time(rng.randrange(9, 17), rng.choice((0, 15, 30, 45))))
            start = start.astimezone()
            set_point = round(c.vacuum_ceiling_kpa * rng.uniform(0.6, 0.85), 1)
            areas = rng.sample(list(AREAS)[:6], rng.randrange(2, 5))
            sid = store.create_session(
                cid,
                rng.choice(PRACTITIONERS),
                started_at=start.isoformat(timespec="seconds"),
                handpiece="Abrasio SIM-1 (simulated)",
                mode="diamond",
                grit=rng.choice(["fine", "medium"]),
                set_point_kpa=set_point,
                ceiling_kpa=c.vacuum_ceiling_kpa,
                areas=areas,
                planned_minutes=25,
            )
            store.save_notes(
                sid,
                {
                    "areas": areas,
                    "passes": {a: rng.choice((2, 3, 3, 4)) for a in areas},
                    "erythema": rng.choices(["none", "mild", "moderate"], weights=(3, 6, 1))[0],
                    "findings": [],
                    "aftercare": "Broad-spectrum SPF 30+ daily; avoid sun for 48 hours.",
                    "notes": rng.choice(["Tolerated well.", "Slight redness on cheeks, settled.", ""]),
                },
            )
            minutes = rng.randrange(15, 31)
            vals, flags = demo_trace(templates, minutes * 60, set_point, rng)
            summary = store_demo_trace(store, sid, vals, flags, c.vacuum_ceiling_kpa)
            store.finish_session(
                sid,
                summary,
                "demo",
                ended_at=(start + dt.timedelta(minutes=minutes)).isoformat(timespec="seconds"),
            )
        if visits >= 2:  # these clients are in a series of 6, a fortnight apart, from their first visit
            store.save_series(SeriesPlan(cid, min(days[:visits]), 6, 14), "demo")


def _demo_consents(store: Store, ids: list[int], consents: list, seed: int) -> None:
    """A signed consent for each client who has one: the default form and a made-up signature."""
    form = store.consent_templates()[0]
    for i, day, witness in consents:
        cid = ids[i]
        strokes = demo_signature(random.Random(seed * 7919 + cid))
        store.add_consent(
            Consent(
                client_id=cid,
                kind=SIGNED,
                signed_on=day,
                witnessed_by=witness,
                title=form.title,
                text=form.body,
                template_code=form.code,
                template_version=form.version,
                signed_at=dt.datetime.combine(day, dt.time(9, 30)).astimezone().isoformat(timespec="seconds"),
                signer_name=store.client(cid).name,
                signature_png=strokes_png(strokes, (600, 180)),
                strokes=strokes,
                pad_size=(600, 180),
            ),
            witness,
        )


def demo_signature(rng: random.Random) -> list:
    """A scrawl that looks handwritten: two or three loopy strokes and a flourish."""
    strokes, x, t = [], 40.0, 0
    for _ in range(rng.randrange(2, 4)):
        stroke = []
        width = rng.uniform(90, 170)
        loops = rng.uniform(2.5, 5.0)
        for k in range(60):
            f = k / 59
            angle = f * loops * 2 * math.pi
            stroke.append(
                (x + f * width + 9 * math.sin(angle), 100 - 22 * math.cos(angle) * (1 - 0.5 * f), 0.5, t)
            )
            t += 12
        strokes.append(stroke)
        x += width + rng.uniform(10, 30)
        t += 250
    strokes.append([(60 + k * (x - 60) / 30, 140 + 6 * math.sin(k / 4), 0.5, t + 12 * k) for k in range(31)])
    return strokes
