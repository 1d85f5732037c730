"""Give a client a signed consent the way the consent dialog does: the default form, drawn strokes."""

from __future__ import annotations

import datetime as dt
import random

from desktop.consent import SIGNED, Consent
from desktop.demo import demo_signature
from desktop.signature_pad import strokes_png


def sign_consent(store, client_id: int, on: dt.date | None = None, witness: str = "Dr K") -> int:
    form = store.consent_templates()[0]
    strokes = demo_signature(random.Random(client_id))
    return store.add_consent(
        Consent(
            client_id=client_id,
            kind=SIGNED,
            signed_on=on or dt.date.today(),
            witnessed_by=witness,
            title=form.title,
            text=form.body,
            template_code=form.code,
            template_version=form.version,
            signer_name=store.client(client_id).name,
            signature_png=strokes_png(strokes, (600, 180)),
            strokes=strokes,
            pad_size=(600, 180),
        ),
        witness,
    )
