"""Session notes: areas and passes, tip or crystal settings, skin reaction, aftercare, free text."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from desktop.fields import VacuumSpinBox
from desktop.records import AREAS, ERYTHEMA, FINDINGS

GRITS = ("fine", "medium", "coarse")


class SessionNotesPanel(QWidget):
    changed = Signal()
    set_point_kpa_changed = Signal(float)  # the set-point typed here, in kPa whatever the display unit

    def __init__(self, aftercare_templates: list[str], parent=None, unit: str = "kPa"):
        super().__init__(parent)
        self.areas: dict[str, tuple[QCheckBox, QSpinBox]] = {}
        area_box = QWidget()
        grid = QGridLayout(area_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, (key, label) in enumerate(AREAS.items()):
            box = QCheckBox(label)
            passes = QSpinBox(minimum=0, maximum=12, suffix=" passes")
            passes.setEnabled(False)
            box.toggled.connect(passes.setEnabled)
            box.toggled.connect(lambda on, p=passes: on and p.value() == 0 and p.setValue(3))
            grid.addWidget(box, i // 2, (i % 2) * 2)
            grid.addWidget(passes, i // 2, (i % 2) * 2 + 1)
            self.areas[key] = (box, passes)
        self.grit = QComboBox()
        self.grit.addItem("—", None)
        for g in GRITS:
            self.grit.addItem(f"{g} grit", g)
        self.crystal_flow = QSpinBox(minimum=0, maximum=100, suffix=" % crystal flow")
        self.set_point = VacuumSpinBox(unit, 0.0, 90.0)  # shown in the display unit, kPa inside
        self.set_point.valueChanged.connect(lambda _v: self.set_point_kpa_changed.emit(self.set_point.kpa()))
        self.erythema = QComboBox()
        self.erythema.addItem("not recorded", None)
        for key, label in ERYTHEMA.items():
            self.erythema.addItem(label, key)
        self.findings = {key: QCheckBox(label) for key, label in FINDINGS.items()}
        findings_box = QWidget()
        row = QHBoxLayout(findings_box)
        row.setContentsMargins(0, 0, 0, 0)
        for box in self.findings.values():
            row.addWidget(box)
        self.template = QComboBox()
        self.template.addItem("Add aftercare from a template…")
        self.template.addItems(aftercare_templates)
        self.template.activated.connect(self._add_template)
        self.aftercare = QPlainTextEdit()
        self.aftercare.setFixedHeight(64)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes (saved as you type)")

        form = QFormLayout(self)
        form.addRow("Areas treated", area_box)
        settings = QWidget()
        srow = QHBoxLayout(settings)
        srow.setContentsMargins(0, 0, 0, 0)
        for w in (self.grit, self.crystal_flow, self.set_point):
            srow.addWidget(w)
        form.addRow("Tip / crystal, set-point", settings)
        form.addRow("Erythema at the end", self.erythema)
        form.addRow("Other findings", findings_box)
        form.addRow("Aftercare given", self.template)
        form.addRow("", self.aftercare)
        form.addRow("Notes", self.notes)

        for box, passes in self.areas.values():
            box.toggled.connect(self.changed)
            passes.valueChanged.connect(self.changed)
        for w in (self.grit, self.erythema):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.crystal_flow,):
            w.valueChanged.connect(self.changed)
        self.set_point.valueChanged.connect(self.changed)
        for box in self.findings.values():
            box.toggled.connect(self.changed)
        self.aftercare.textChanged.connect(self.changed)
        self.notes.textChanged.connect(self.changed)

    def _add_template(self, index: int) -> None:
        if index > 0:
            text = self.template.itemText(index)
            current = self.aftercare.toPlainText().strip()
            self.aftercare.setPlainText(f"{current}\n{text}".strip())
        self.template.setCurrentIndex(0)

    def value(self) -> dict:
        areas = [k for k, (box, _p) in self.areas.items() if box.isChecked()]
        return {
            "areas": areas,
            "passes": {k: self.areas[k][1].value() for k in areas},
            "grit": self.grit.currentData(),
            "crystal_flow": self.crystal_flow.value(),
            "set_point_kpa": self.set_point.kpa(),
            "erythema": self.erythema.currentData(),
            "findings": [k for k, box in self.findings.items() if box.isChecked()],
            "aftercare": self.aftercare.toPlainText(),
            "notes": self.notes.toPlainText(),
        }

    def set_value(self, notes: dict) -> None:
        self.blockSignals(True)
        passes = notes.get("passes") or {}
        for key, (box, spin) in self.areas.items():
            box.setChecked(key in (notes.get("areas") or []))
            spin.setValue(int(passes.get(key, 3 if box.isChecked() else 0)))
        self.grit.setCurrentIndex(max(self.grit.findData(notes.get("grit")), 0))
        self.crystal_flow.setValue(int(notes.get("crystal_flow") or 0))
        self.set_point.set_kpa(float(notes.get("set_point_kpa") or 0))
        self.erythema.setCurrentIndex(max(self.erythema.findData(notes.get("erythema")), 0))
        for key, box in self.findings.items():
            box.setChecked(key in (notes.get("findings") or []))
        self.aftercare.setPlainText(notes.get("aftercare") or "")
        self.notes.setPlainText(notes.get("notes") or "")
        self.blockSignals(False)

    def set_unit(self, unit: str) -> None:
        """Show the set-point in another unit; what is stored (kPa) does not change."""
        blocked = self.blockSignals(True)
        self.set_point.set_unit(unit)
        self.blockSignals(blocked)

    def set_read_only(self, read_only: bool) -> None:
        for w in self.findChildren(QWidget):
            if isinstance(w, QPlainTextEdit):
                w.setReadOnly(read_only)
            elif isinstance(w, (QCheckBox, QComboBox, QSpinBox, QDoubleSpinBox)):
                w.setEnabled(not read_only)
