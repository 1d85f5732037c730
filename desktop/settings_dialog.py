"""Clinic settings: display unit, ceiling defaults, intervals, alarm timing, aftercare, screening rules."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHeaderView,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.discard import AskBeforeDiscarding
from desktop.fields import VacuumSpinBox
from desktop.records import SENSITIVITIES, ScreeningRule
from desktop.screen_fit import fit_to_screen
from desktop.store import Store, StoreError
from desktop.widgets import enable, follow_access
from device.units import UNITS


class SettingsDialog(AskBeforeDiscarding, QDialog):
    DISCARD_QUESTION = "You changed the clinic settings. Discard the changes?"

    def __init__(self, store: Store, who: str = "", parent=None):
        super().__init__(parent)
        self.store, self.who = store, who
        self.setWindowTitle("Clinic settings")
        fit_to_screen(self, 760, 720)
        self.unit = QComboBox()
        self.unit.addItems(UNITS)
        self.unit.setCurrentText(store.setting("display_unit", "kPa"))
        defaults = store.setting("ceiling_defaults_kpa", {})
        self.ceilings = {}
        form = QFormLayout()
        form.addRow("Vacuum shown in", self.unit)
        for key, label in SENSITIVITIES.items():
            spin = VacuumSpinBox(self.unit.currentText(), 5.0, 90.0)
            spin.set_kpa(float(defaults.get(key, 45)))
            self.ceilings[key] = spin
            form.addRow(f"Default ceiling, {label.lower()} skin", spin)
        self.unit.currentTextChanged.connect(self._unit_changed)  # the ceilings follow, same kPa
        self.series = QSpinBox(suffix=" days", minimum=1, maximum=120)
        self.series.setValue(int(store.setting("series_interval_days", 14)))
        self.minimum = QSpinBox(suffix=" days", minimum=0, maximum=120)
        self.minimum.setValue(int(store.setting("minimum_interval_days", 10)))
        self.dwell = QDoubleSpinBox(suffix=" s", decimals=1, minimum=1, maximum=30)
        self.dwell.setValue(float(store.setting("dwell_alarm_seconds", 3.0)))
        form.addRow("Next session of a series due after", self.series)
        form.addRow("Warn if sooner than", self.minimum)
        form.addRow("Dwell alarm after", self.dwell)
        self.lock_after = QSpinBox(suffix=" min", minimum=1, maximum=120)
        self.lock_after.setValue(int(store.setting("lock_after_minutes", 5)))
        self.lock_after.setToolTip("Abrasio locks itself after this long without keyboard or mouse input")
        form.addRow("Lock after no activity for", self.lock_after)
        self.aftercare = QPlainTextEdit("\n".join(store.setting("aftercare_templates", [])))
        self.aftercare.setFixedHeight(90)
        form.addRow("Aftercare templates (one a line)", self.aftercare)

        self.rules = store.screening_rules()
        self.table = QTableWidget(len(self.rules), 4)
        self.table.setHorizontalHeaderLabels(["Item", "Months after end", "Days after end", "Effect"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        for row, rule in enumerate(self.rules):
            self.table.setItem(row, 0, QTableWidgetItem(rule.label))
            months = QSpinBox(minimum=0, maximum=60)
            months.setValue(rule.months)
            days = QSpinBox(minimum=0, maximum=365)
            days.setValue(rule.days)
            effect = QComboBox()
            effect.addItems(["block", "warn"])
            effect.setCurrentText(rule.effect)
            self.table.setCellWidget(row, 1, months)
            self.table.setCellWidget(row, 2, days)
            self.table.setCellWidget(row, 3, effect)
        rules_box = QGroupBox("Screening rules (0 months and 0 days: counts only while active)")
        QVBoxLayout(rules_box).addWidget(self.table)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        follow_access(store, self, lambda writable, why: enable((self.save_button,), writable, why))
        self.buttons = buttons
        self.table.setMinimumHeight(240)
        body = QWidget()
        col = QVBoxLayout(body)
        col.addLayout(form)
        col.addWidget(rules_box, 1)
        scroll = QScrollArea()  # on a small screen the form scrolls; Save and Cancel stay in view
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addWidget(buttons)
        self._loaded = (self._values(), self._rules())

    def _unit_changed(self, unit: str) -> None:
        for spin in self.ceilings.values():
            spin.set_unit(unit)

    def has_changes(self) -> bool:
        return (self._values(), self._rules()) != self._loaded

    def _values(self) -> dict:
        return {
            "display_unit": self.unit.currentText(),
            "ceiling_defaults_kpa": {k: round(w.kpa(), 2) for k, w in self.ceilings.items()},
            "series_interval_days": self.series.value(),
            "minimum_interval_days": self.minimum.value(),
            "dwell_alarm_seconds": self.dwell.value(),
            "lock_after_minutes": self.lock_after.value(),
            "aftercare_templates": [
                t.strip() for t in self.aftercare.toPlainText().splitlines() if t.strip()
            ],
        }

    def _rules(self) -> list[ScreeningRule]:
        rules = []
        for row, rule in enumerate(self.rules):
            new = ScreeningRule(
                rule.code,
                self.table.item(row, 0).text().strip() or rule.label,
                self.table.cellWidget(row, 1).value(),
                self.table.cellWidget(row, 2).value(),
                self.table.cellWidget(row, 3).currentText(),
                rule.sort,
            )
            if new != rule:
                rules.append(new)
        return rules

    def save(self) -> None:
        try:
            self.store.save_settings(self._values(), self._rules(), self.who)
        except StoreError as exc:
            box = QMessageBox(QMessageBox.Icon.Warning, "Settings not saved", "", parent=self)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setText(f"The settings were not saved: {exc}")
            box.open()
            return
        self.accept()
