"""The mouse wheel over a field without the keyboard focus scrolls the form; it never changes the field."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from desktop.client_form import ClientDialog
from desktop.settings_dialog import SettingsDialog


def wheel(widget, notches: int = -1) -> None:
    """One real wheel event at the widget's centre, delivered as Qt delivers it (through notify)."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def shown(qtbot, dlg, w=640, h=420):
    qtbot.addWidget(dlg)
    dlg.resize(w, h)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow)
    return dlg


def test_wheel_over_unfocused_fields_scrolls_the_form_and_changes_nothing(qtbot, store):
    dlg = shown(qtbot, ClientDialog(store))
    scroll = dlg.findChild(QScrollArea)
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0, "the form must be taller than the dialog for this test"
    dlg.first_name.setFocus()
    qtbot.waitUntil(dlg.first_name.hasFocus)
    box, _since, _ended, _note = dlg.screening.rows["isotretinoin"]
    box.setChecked(True)
    fields = [dlg.sensitivity, dlg.fitzpatrick, dlg.ceiling]
    before = [dlg.sensitivity.currentIndex(), dlg.fitzpatrick.currentIndex(), dlg.ceiling.value()]
    for field in fields:
        assert field.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel cannot hand it the focus
        scroll.ensureWidgetVisible(field)
        start = bar.value()
        wheel(field, -1)
        assert bar.value() > start or bar.value() == bar.maximum(), f"{field} did not scroll the form"
        assert not field.hasFocus()
        bar.setValue(0)
    after = [dlg.sensitivity.currentIndex(), dlg.fitzpatrick.currentIndex(), dlg.ceiling.value()]
    assert after == before


def test_wheel_still_works_on_the_field_being_edited(qtbot, store):
    dlg = shown(qtbot, ClientDialog(store))
    dlg.sensitivity.setFocus()
    qtbot.waitUntil(dlg.sensitivity.hasFocus)
    index = dlg.sensitivity.currentIndex()
    wheel(dlg.sensitivity, -1)
    assert dlg.sensitivity.currentIndex() == index + 1  # the guard lets a focused field follow the wheel
    dlg.ceiling.setFocus()
    qtbot.waitUntil(dlg.ceiling.hasFocus)
    value = dlg.ceiling.value()
    wheel(dlg.ceiling, 1)
    assert dlg.ceiling.value() > value


def test_settings_table_spin_and_combo_boxes_ignore_the_passing_wheel(qtbot, store):
    dlg = shown(qtbot, SettingsDialog(store))
    months = dlg.table.cellWidget(0, 1)
    effect = dlg.table.cellWidget(0, 3)
    dlg.unit.setFocus()
    qtbot.waitUntil(dlg.unit.hasFocus)
    for w, read in ((months, months.value), (effect, effect.currentIndex)):
        before = read()
        wheel(w, 1)
        wheel(w, -1)
        assert read() == before
    assert dlg.unit.hasFocus()
