"""Input fields a practitioner can trust: a typed-or-picked date, and a vacuum in the clinic's unit.

``DateField`` — a line edit (so it is visibly empty when there is no date) that reads the locale's short
format, ISO and month names (``desktop.dates``), shows what it understood as "14 May 1985" when the
practitioner leaves it, and opens a calendar (the icon, Alt+Down or F4) on the date typed, else on today
— or, for a date of birth, on a sensible year. No sentinel date: any real date, before 1900 too.

``VacuumSpinBox`` — a spin box showing and taking the display unit while the value it hands back is
kPa. A value the practitioner did not touch comes back exactly as it was given (no kPa → mmHg → kPa
rounding creeping into a record just because a form was opened and saved).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QEvent, QLocale, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QCalendarWidget,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.dates import DateTextError, month_table, order_of, parse_typed_date
from desktop.records import fmt_date
from desktop.resources import resource_path
from device.units import DECIMALS, check_unit, from_kpa, to_kpa

STEP = {"kPa": 1.0, "mmHg": 5.0, "cmHg": 0.5, "inHg": 0.5, "mbar": 10.0}  # one arrow press
BIRTH_YEARS_BACK = 40  # a date-of-birth calendar with nothing typed opens this many years ago


def _locale_months(locale: QLocale) -> list[list[str]]:
    out = []
    for fmt in (QLocale.FormatType.LongFormat, QLocale.FormatType.ShortFormat):
        out.append([locale.monthName(m, fmt) for m in range(1, 13)])
        out.append([locale.standaloneMonthName(m, fmt) for m in range(1, 13)])
    return out


class DateField(QLineEdit):
    """An optional date: empty, typed, or picked from a calendar."""

    date_changed = Signal()

    def __init__(self, parent=None, *, birth: bool = False, locale: QLocale | None = None, today=None):
        super().__init__(parent)
        self.birth = birth
        self.today = today or dt.date.today
        self._locale = locale or QLocale()
        short = self._locale.dateFormat(QLocale.FormatType.ShortFormat)
        self.order = order_of(short)
        self.months = month_table(*_locale_months(self._locale))
        example = QDate(1985, 5, 14)
        self.setPlaceholderText("not set")  # visibly empty; what to type is in the tooltip
        self.setToolTip(
            f"Type a date: {self._locale.toString(example, short)}, 14 May 1985 or 1985-05-14 "
            "(today: “today”), or open the calendar (Alt+Down)"
        )
        self.calendar_action = QAction(QIcon(str(resource_path("icons/calendar.svg"))), "Calendar", self)
        self.calendar_action.setToolTip("Choose from a calendar (Alt+Down)")
        self.calendar_action.triggered.connect(self.open_calendar)
        self.addAction(self.calendar_action, QLineEdit.ActionPosition.TrailingPosition)
        self.popup: QFrame | None = None
        self.calendar: QCalendarWidget | None = None
        self.earliest: dt.date | None = None  # the range a date must lie in (None: open)
        self.latest: dt.date | None = None
        self.editingFinished.connect(self._tidy)
        self.textEdited.connect(lambda _t: self.date_changed.emit())

    # -- value -------------------------------------------------------------------------------
    def _parse(self) -> dt.date | None:
        return parse_typed_date(self.text(), self.today(), self.order, self.months, past=self.birth)

    def value(self) -> dt.date | None:
        """The date, or ``None`` when empty (or not an allowed date: ``error()`` says so)."""
        if self.error():
            return None
        return self._parse()

    def error(self) -> str:
        """Why the text is not a date, or not an allowed one ("" when it is one, or empty)."""
        try:
            value = self._parse()
        except DateTextError as exc:
            return str(exc)
        if value and self.latest and value > self.latest:
            return f"The date cannot be after {fmt_date(self.latest)}."
        if value and self.earliest and value < self.earliest:
            return f"The date cannot be before {fmt_date(self.earliest)}."
        return ""

    def setDate(self, qdate: QDate) -> None:  # QDateEdit's names, for code written against it
        self.set_value(dt.date(qdate.year(), qdate.month(), qdate.day()))

    def setMaximumDate(self, qdate: QDate) -> None:
        self.latest = dt.date(qdate.year(), qdate.month(), qdate.day())

    def setMinimumDate(self, qdate: QDate) -> None:
        self.earliest = dt.date(qdate.year(), qdate.month(), qdate.day())

    def set_value(self, value: dt.date | None) -> None:
        self.setText(fmt_date(value) if value else "")

    def _tidy(self) -> None:
        """Show what was understood, unambiguously ("3/4/85" → "3 Apr 1985")."""
        if not self.error():
            value = self.value()
            text = fmt_date(value) if value else ""
            if text != self.text():
                self.setText(text)
                self.date_changed.emit()

    # -- calendar ------------------------------------------------------------------------------
    def opening_date(self) -> dt.date:
        value = self.value()
        if value:
            return value
        today = self.today()
        if self.birth:
            try:
                return today.replace(year=today.year - BIRTH_YEARS_BACK)
            except ValueError:  # 29 February
                return today.replace(year=today.year - BIRTH_YEARS_BACK, day=28)
        return today

    def open_calendar(self) -> QCalendarWidget:
        if self.popup is None:
            self.popup = QFrame(self, Qt.WindowType.Popup)
            self.popup.setFrameShape(QFrame.Shape.StyledPanel)
            self.calendar = QCalendarWidget()
            self.calendar.setGridVisible(True)
            self.calendar.setMinimumDate(QDate(1800, 1, 1))
            self.calendar.activated.connect(self._picked)  # Enter or double-click
            self.calendar.clicked.connect(self._picked)
            today = QPushButton("Today")
            today.clicked.connect(lambda: self._picked(QDate.currentDate()))
            clear = QPushButton("Clear")
            clear.clicked.connect(self._clear)
            row = QHBoxLayout()
            row.addWidget(today)
            row.addStretch(1)
            row.addWidget(clear)
            col = QVBoxLayout(self.popup)
            col.addWidget(self.calendar)
            col.addLayout(row)
        if self.latest:
            self.calendar.setMaximumDate(QDate(self.latest.year, self.latest.month, self.latest.day))
        if self.earliest:
            self.calendar.setMinimumDate(QDate(self.earliest.year, self.earliest.month, self.earliest.day))
        d = self.opening_date()
        if self.latest and d > self.latest:
            d = self.latest
        self.calendar.setSelectedDate(QDate(d.year, d.month, d.day))
        self.calendar.setCurrentPage(d.year, d.month)
        self.popup.adjustSize()
        below = self.mapToGlobal(QPoint(0, self.height()))
        screen = self.screen().availableGeometry()
        x = max(screen.left(), min(below.x(), screen.right() - self.popup.width()))
        y = (
            below.y()
            if below.y() + self.popup.height() <= screen.bottom()
            else (self.mapToGlobal(QPoint(0, 0)).y() - self.popup.height())
        )
        self.popup.move(x, max(screen.top(), y))
        self.popup.show()
        self.calendar.setFocus()
        return self.calendar

    def _picked(self, qdate: QDate) -> None:
        self.set_value(dt.date(qdate.year(), qdate.month(), qdate.day()))
        self.popup.hide()
        self.setFocus()
        self.date_changed.emit()

    def _clear(self) -> None:
        self.clear()
        self.popup.hide()
        self.setFocus()
        self.date_changed.emit()

    def keyPressEvent(self, event) -> None:
        alt_down = event.key() == Qt.Key.Key_Down and event.modifiers() & Qt.KeyboardModifier.AltModifier
        if alt_down or event.key() == Qt.Key.Key_F4:
            self.open_calendar()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.EnabledChange:
            self.calendar_action.setEnabled(self.isEnabled())
        super().changeEvent(event)


class VacuumSpinBox(QDoubleSpinBox):
    """A vacuum typed in the display unit; ``kpa()``/``set_kpa()`` speak kPa."""

    def __init__(self, unit: str = "kPa", minimum_kpa: float = 0.0, maximum_kpa: float = 90.0, parent=None):
        super().__init__(parent)
        self._min_kpa, self._max_kpa = minimum_kpa, maximum_kpa
        self._kpa = minimum_kpa
        self._shown: float | None = None
        self.unit = ""
        self.set_unit(unit)

    def set_unit(self, unit: str) -> None:
        """Show the same pressure in another unit (the kPa value is kept exactly)."""
        kpa = self.kpa() if self.unit else self._kpa
        self.unit = check_unit(unit)
        self.blockSignals(True)
        self.setDecimals(DECIMALS[self.unit])
        self.setSuffix(f" {self.unit}")
        self.setRange(from_kpa(self._min_kpa, self.unit), from_kpa(self._max_kpa, self.unit))
        self.setSingleStep(STEP[self.unit])
        self.set_kpa(kpa)
        self.blockSignals(False)

    def set_kpa(self, kpa: float) -> None:
        self.setValue(from_kpa(float(kpa), self.unit))
        shown = self.value()
        # kept exactly unless the range clamped it (then the kPa of what is shown)
        exact = abs(from_kpa(float(kpa), self.unit) - shown) <= 0.5 * 10 ** -self.decimals() + 1e-9
        self._kpa = float(kpa) if exact else to_kpa(shown, self.unit)
        self._shown = shown

    def kpa(self) -> float:
        if self._shown is not None and self.value() == self._shown:
            return self._kpa  # untouched: exactly what was given
        return to_kpa(self.value(), self.unit)
