"""A client with recorded sessions (traces, markers, alarms, notes, an amendment) and photos."""

from __future__ import annotations

import numpy as np

from desktop.photos import prepare_photo
from desktop.records import Client
from desktop.store import trace as tracepack
from tests.helpers.consent import sign_consent
from tests.helpers.photos import two_colour, with_metadata


def recorded_client(store, hostile=False) -> tuple[int, list[int], int]:
    """A client with two sessions: traces (one with a gap and a device restart), markers, alarms,
    notes and an amendment, and three photos. Returns (client id, session ids, samples of session 1)."""
    last = "Okafor <b>&</b>" if hostile else "Okafor"
    cid = store.add_client(Client("Ada", last, vacuum_ceiling_kpa=40.0, fitzpatrick=3))
    sids = []
    rng = np.random.default_rng(3)
    n_total = 0
    for k, n in enumerate((5500, 2300)):
        sid = store.create_session(
            cid, "Dr Ahn", ceiling_kpa=40.0, set_point_kpa=28.0, areas=["cheeks", "chin"], screening=[]
        )
        t = np.arange(n) * 0.001 + 0.25
        if k == 0:
            t[3000:] += 2.0  # a 2 s gap (disconnection)
        seq = np.arange(n, dtype=np.int64) + 100
        v = 28 + rng.normal(0, 0.3, n)
        v[1000:1200] = 44.0  # over the ceiling
        flags = np.full(n, 0x03, np.uint8)
        flags[4000:4100] = 0x01  # tip lifted
        blocks = [
            tracepack.pack(seq[i : i + 1000], t[i : i + 1000], v[i : i + 1000], flags[i : i + 1000])
            for i in range(0, n, 1000)
        ]
        store.append_trace(sid, 0, blocks)
        store.add_marker(sid, 0.5, "left cheek, second pass")
        store.save_alarm(
            sid,
            {
                "priority": "high",
                "kind": "over_ceiling",
                "message": "Vacuum above the ceiling",
                "started": 1.25,
                "ended": 1.45,
                "peak_kpa": 44.0,
            },
        )
        store.save_notes(
            sid, {"areas": ["cheeks", "chin"], "passes": {"cheeks": 3, "chin": 2}, "notes": "first"}
        )
        store.finish_session(sid, {"duration_s": 9, "samples": n})
        store.save_notes(sid, {"notes": "amended: mild erythema"}, "Dr Ahn", amend=True)
        sids.append(sid)
        n_total += n if k == 0 else 0
    photos = []
    for angle, colour in (("front", "#ff0000"), ("left45", "#00ff00")):
        p = prepare_photo(with_metadata(two_colour(120, 80, colour, colour)))
        photos.append(
            {
                "jpeg": p.jpeg,
                "thumb": p.thumb,
                "width": p.width,
                "height": p.height,
                "source_sha256": p.source_sha256,
                "angle": angle,
                "stage": "before",
            }
        )
    store.add_photos(sids[0], photos, "Dr Ahn")
    p = prepare_photo(two_colour(64, 64))
    store.add_photos(
        sids[1],
        [
            {
                "jpeg": p.jpeg,
                "thumb": p.thumb,
                "width": 64,
                "height": 64,
                "source_sha256": p.source_sha256,
                "angle": "closeup",
                "stage": "after",
                "area": "chin",
            }
        ],
        "Dr Ahn",
    )
    sign_consent(store, cid, witness="Dr Ahn")
    return cid, sids, n_total
