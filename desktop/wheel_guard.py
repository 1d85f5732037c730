"""The mouse wheel never changes a field that does not have the keyboard focus.

Scrolling a long form with the wheel used to change whatever spin box, combo box or date the pointer
passed over (an isotretinoin end date went from 25 to 27 Sep). One application-wide event filter:

* every spin box (dates included) and combo box gets ``Qt.StrongFocus`` when it is polished, so the
  wheel no longer hands it the focus on the way past;
* a wheel event on such a field without focus is not delivered to it: it goes to the scroll area
  underneath (the form, a table), which scrolls as the user meant. (Handed over explicitly: Qt only
  propagates a wheel event to the parent when the window system sent it, and tests send their own.)

A field the practitioner clicked or tabbed into still follows the wheel, as users expect.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(obj, GUARDED) and not obj.hasFocus():
            area = _scroll_area_around(obj)
            if area is None:
                event.ignore()  # nothing to scroll: let Qt offer it to the parents
            else:
                QApplication.sendEvent(area.viewport(), event)
                event.accept()
            return True  # the field itself never sees it
        if kind == QEvent.Type.Polish and isinstance(obj, GUARDED):
            widget: QWidget = obj
            if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return False


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    w = widget.parentWidget()
    while w is not None:
        parent = w.parentWidget()
        if isinstance(parent, QAbstractScrollArea) and parent.viewport() is w:
            return parent
        w = parent
    return None


def install_wheel_guard(app: QApplication) -> WheelGuard:
    """Install the guard on ``app`` once (it is kept as a child of the application)."""
    existing = app.findChild(WheelGuard)
    if existing is not None:
        return existing
    guard = WheelGuard(app)
    app.installEventFilter(guard)
    return guard
