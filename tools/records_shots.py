"""Consent signing, the client page with consents and a series, the client's own screening, and the
recall list, for docs/screenshots/ (issue #13)."""

from __future__ import annotations

import random

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop.demo import demo_signature


def sign_with_the_mouse(pad) -> None:
    """Draw a made-up signature into the pad with real mouse events, as a client would."""
    for stroke in demo_signature(random.Random(11)):
        points = [QPoint(round(x), round(y)) for x, y, *_ in stroke]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for p in points[1:]:
            QTest.mouseMove(pad, p)
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])


def records_shots(window, store, shoot, settle) -> None:
    window.resize(1366, 768)
    cid = store.recall_candidates()[0].client_id
    window.show_client(cid)
    dlg = window.client_page.consent_section.sign()
    dlg.resize(1000, 720)
    settle()
    sign_with_the_mouse(dlg.pad)
    shoot(dlg, "consent-signing.png")
    dlg.save()
    shoot(window, "client-page-consent-series.png")
    screening = window.client_page.client_screening()
    screening.resize(1366, 768)
    screening.show_question(5)
    yes = next(b for b in screening.answer_group.buttons() if b.property("value") == "yes")
    yes.click()
    no = next(b for b in screening.still_group.buttons() if b.property("value") is False)
    no.click()
    shoot(screening, "client-screening.png")
    screening.reject()
    recall = window.open_recall()
    recall.resize(1200, 700)
    shoot(recall, "recall-list.png")
    recall.reject()
