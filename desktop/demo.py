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


def _demo_trace(store: Store, sid: int, set_point: float, rng: random.Random, seconds: float = 90) -> int:
    rate = 100
    model = HandpieceModel(rate, set_point, seed=rng.randrange(1 << 30), auto=True)
    n = int(seconds * rate)
    vals = np.empty(n)
    flags = np.empty(n, np.uint8)
    for i in range(n):
        v, pump, contact = model.step()
        vals[i] = v
        flags[i] = pump | contact << 1
    blocks = [
        trace.pack(
            np.arange(k, min(k + rate, n)),
            1000.0 + np.arange(k, min(k + rate, n)) / rate,
            vals[k : k + rate],
            flags[k : k + rate],
        )
        for k in range(0, n, rate)
    ]
    store.append_trace(sid, 0, blocks)
    return n


def create_demo(store: Store, n_clients: int = 200, seed: int = 1, today: dt.date | None = None) -> None:
    rng = random.Random(seed)
    today = today or dt.date.today()
    for name in PRACTITIONERS:
        store.add_practitioner(name)
    consents: list = []
    store.import_clients(demo_clients(n_clients, rng, today, consents), who="demo")
    ids = store.client_ids()
    _demo_consents(store, ids, consents, seed)
    codes = [r.code for r in store.screening_rules()]
    for k, cid in enumerate(ids):
        c = store.client(cid)
        if rng.random() < 0.25:
            code = rng.choice(codes)
            ended = None if rng.random() < 0.4 else today - dt.timedelta(days=rng.randrange(1, 200))
            store.save_screening(cid, [ScreeningAnswer(code, today - dt.timedelta(days=300), ended)], "demo")
        visits = rng.randrange(0, 7)
        days = [today - dt.timedelta(days=rng.randrange(1, 40))]
        while len(days) < visits:
            days.append(days[-1] - dt.timedelta(days=rng.choice((12, 14, 14, 21))))
        for v, day in enumerate(reversed(days[:visits])):
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
            n = _demo_trace(store, sid, set_point, rng) if (k < 25 and v == visits - 1) else 0
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
            store.finish_session(
                sid,
                {
                    "duration_s": minutes * 60,
                    "samples": n,
                    "lost": 0,
                    "mean_kpa": set_point * 0.95,
                    "peak_kpa": set_point * 1.08,
                    "alarms": 0,
                },
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
