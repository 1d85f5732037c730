"""Issue #12's form rules on the forms later issues added: Esc in a changed consent form or series
plan asks before anything is thrown away, and the series' start date is typed like every other date
(locale short format, ISO, a month name; empty or not a date refused at the field)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from desktop.records import Client
from desktop.series_widgets import SeriesPlanDialog
from tests.test_keyboard import _named, discard_box


def _esc_asks_then_keeps(qtbot, dlg, field, typed: str) -> None:
    assert not dlg.has_changes()
    qtbot.keyClicks(field, typed)
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    box = discard_box(qtbot, dlg)
    qtbot.mouseClick(_named(box, "Keep editing"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dlg.isVisible() and typed in field.text()  # nothing lost
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    box = discard_box(qtbot, dlg)
    qtbot.mouseClick(_named(box, "Discard changes"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())


def test_escape_in_a_changed_consent_form_asks_first(qtbot, window, store):
    settings = window.open_consent_settings()
    qtbot.addWidget(settings)
    editor = settings.edit(new=True)
    qtbot.waitExposed(editor)
    _esc_asks_then_keeps(qtbot, editor, editor.title, "Peel consent")
    assert [t.title for t in store.consent_templates(include_retired=True)].count("Peel consent") == 0
    untouched = settings.edit(new=False)
    qtbot.waitExposed(untouched)
    qtbot.keyClick(untouched.title, Qt.Key.Key_Escape)  # nothing changed: closes at once
    qtbot.waitUntil(lambda: not untouched.isVisible())
    settings.close()


def test_escape_in_a_changed_series_plan_asks_first(qtbot, window, store):
    cid = store.add_client(Client("Series", "Esc"))
    window.show_client(cid)
    dlg = window.client_page.series_section.edit(new=True)
    qtbot.waitExposed(dlg)
    _esc_asks_then_keeps(qtbot, dlg, dlg.note, "both cheeks")
    assert store.series_plans(cid) == []


def test_the_series_start_is_typed_like_every_date(qtbot, window, store):
    cid = store.add_client(Client("Series", "Dates"))
    today = dt.date.today()
    dlg = SeriesPlanDialog(store, cid, None, "t", today)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.started.value() == today  # opens on today
    dlg.started.setText("")
    dlg.save()
    assert dlg.errors["started_on"].isVisible() and store.series_plans(cid) == []
    assert dlg.started.placeholderText() == "not set"  # an empty date is visibly empty
    dlg.started.setText("in a fortnight")
    dlg.save()
    assert dlg.errors["started_on"].isVisible() and dlg.started.text() == "in a fortnight"  # kept
    start = today - dt.timedelta(days=3)
    dlg.started.setText(start.isoformat())  # ISO
    with qtbot.waitSignal(dlg.saved, timeout=5000):
        dlg.save()
    (plan,) = store.series_plans(cid)
    assert plan.started_on == start
