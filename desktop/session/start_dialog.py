"""Before a session: re-confirm today's screening, choose the handpiece and the treatment."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.fields import VacuumSpinBox
from desktop.records import AREAS, evaluate, fmt_date, interval_warning
from desktop.session.notes import GRITS
from desktop.store import Store
from desktop.store.sessions import VISITS
from device.link import discover_ports
from device.units import UNITS, format_vacuum

SIMULATED = "Simulated handpiece"
# What the practitioner did about a blocking contraindication before treating anyway.
OVERRIDE_ACTIONS = (
    "Client's doctor consulted",
    "Area excluded from the treatment",
    "Client informed and consents",
    "Other",
)
MIN_REASON_CHARS = 20  # "a reason of at least a sentence"…
MIN_REASON_WORDS = 4  # …not "x"
BLOCK_RED = "#b00020"
CAUTION_AMBER = "#8a6500"
_LABEL = {
    "mode": "mode",
    "grit": "grit",
    "crystal_flow": "crystal flow",
    "set_point_kpa": "set-point",
    "planned_minutes": "planned time",
    "planned_passes": "planned passes",
    "areas": "areas",
}


def _line(colour: str, text: str) -> str:
    """One screening line in its colour; the text (clinic-edited labels) always escaped."""
    return f"<span style='color:{colour}; font-weight:600'>{html.escape(text)}</span>"


def _comparable(key: str, value):
    return sorted(value or []) if key == "areas" else value


def _show(key: str, value, unit: str = "kPa") -> str:
    if key == "areas":
        return ", ".join(AREAS.get(a, a) for a in value or []) or "none"
    if value is None or value == "":
        return "—"
    if key == "set_point_kpa":
        return format_vacuum(value, unit)
    unit = {
        "set_point_kpa": " kPa",
        "planned_minutes": " min",
        "crystal_flow": " %",
        "planned_passes": " per area",
    }.get(key, "")
    return f"{value}{unit}"


class StartSessionDialog(QDialog):
    started = Signal(int, dict)

    def __init__(
        self,
        store: Store,
        client_id: int,
        who: str,
        default_url: str,
        parent=None,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.store, self.who = store, who
        self.client = store.client(client_id)
        self.default_url = default_url
        self.today = today or dt.date.today()
        self.setWindowTitle(f"Start session — {self.client.name}")
        self.resize(760, 720)
        self.last = next((s for s in store.sessions_for_client(client_id)), None)

        # screening: blocking lines red, caution lines amber
        self.statuses = evaluate(store.screening(client_id), store.screening_rules(), self.today)
        self.blocking = [s for s in self.statuses if s.blocks]
        self.blocked = bool(self.blocking)
        lines = []
        for st in self.statuses:
            if st.active:
                colour, prefix = (BLOCK_RED, "***") if st.blocks else (CAUTION_AMBER, "**")
                lines.append(_line(colour, f"{prefix} {st.message()}"))
        if self.client.pih_risk:
            lines.append(
                f"<span style='color:{CAUTION_AMBER}'>* Fitzpatrick IV–VI: risk of post-inflammatory "
                "hyperpigmentation — gentler settings.</span>"
            )
        visits = [s for s in store.sessions_for_client(client_id) if s.status in VISITS]
        self.interval_warning = interval_warning(
            visits[0].started.date() if visits else None,
            self.today,
            int(store.setting("minimum_interval_days", 10)),
        )
        if self.interval_warning:
            lines.append(_line(CAUTION_AMBER, f"** {self.interval_warning}"))
        self.screening = QLabel("<br>".join(lines) or "No active contraindications on record.")
        self.screening.setTextFormat(Qt.TextFormat.RichText)
        self.screening.setWordWrap(True)
        self.confirm = QCheckBox("I asked the client today: the screening above is current.")
        # treating despite a blocking contraindication: what was done, and why, in a sentence
        self.override_action = QComboBox()
        self.override_action.addItem("What was done about it? (choose)", None)
        for action in OVERRIDE_ACTIONS:
            self.override_action.addItem(action, action)
        self.override = QLineEdit()
        self.override.setPlaceholderText(
            "Why treat despite the contraindication — a full sentence (required)"
        )
        self.override_box = QGroupBox("Treat despite a blocking contraindication")
        ob = QFormLayout(self.override_box)
        ob.addRow("Done", self.override_action)
        ob.addRow("Reason", self.override)
        self.override_box.setVisible(self.blocked)
        self.ports_in_use: dict[str, str] = {}  # port → the client whose session uses it
        self.consent = self._consent_check()
        self.problem = QLabel()
        self.problem.setObjectName("FieldError")
        self.problem.setWordWrap(True)
        # handpiece
        self.handpiece = QComboBox()
        self.handpiece.setEditable(True)
        self.handpiece.addItem(SIMULATED, default_url)
        for port in discover_ports():
            self.handpiece.addItem(str(port), port.device)
        last = store.setting("last_handpiece", {})
        self.format = QComboBox()
        self.format.addItems(["abrasio", "text"])
        self.text_unit = QComboBox()
        self.text_unit.addItems(UNITS)
        self.baud = QComboBox()
        self.baud.addItems(["115200", "230400", "460800", "921600", "57600", "9600"])
        if last:
            i = self.handpiece.findData(last.get("url"))
            if i >= 0:
                self.handpiece.setCurrentIndex(i)
            elif last.get("url"):
                self.handpiece.addItem(last["url"], last["url"])
                self.handpiece.setCurrentIndex(self.handpiece.count() - 1)
            self.format.setCurrentText(last.get("format", "abrasio"))
            self.text_unit.setCurrentText(last.get("unit", "kPa"))
            self.baud.setCurrentText(str(last.get("baud", 115200)))

        # treatment
        self.mode = QComboBox()
        self.mode.addItem("Diamond tip", "diamond")
        self.mode.addItem("Crystal", "crystal")
        self.grit = QComboBox()
        for g in GRITS:
            self.grit.addItem(g, g)
        self.flow = QSpinBox(minimum=0, maximum=100, suffix=" %")
        self.unit = store.setting("display_unit", "kPa")
        self.set_point = VacuumSpinBox(self.unit, 5.0, 90.0)  # the clinic's unit; kPa inside
        self.planned = QSpinBox(minimum=5, maximum=120, suffix=" min")
        self.passes = QSpinBox(minimum=1, maximum=12, suffix=" per area")
        self.areas = {k: QCheckBox(v) for k, v in AREAS.items()}
        self.ceiling = QLabel(
            f"Client's vacuum ceiling: {format_vacuum(self.client.vacuum_ceiling_kpa, self.unit)}"
        )
        self.differs = QLabel()
        self.differs.setObjectName("Hint")
        self.differs.setWordWrap(True)
        self._defaults()
        for w in (self.mode, self.grit):
            w.currentIndexChanged.connect(self._show_differences)
        for w in (self.flow, self.set_point, self.planned, self.passes):
            w.valueChanged.connect(self._show_differences)
        for box in self.areas.values():
            box.toggled.connect(self._show_differences)
        self._show_differences()

        scr = QGroupBox("Screening for today")
        sl = QVBoxLayout(scr)
        for w in (self.screening, self.confirm, self.override_box, self.consent):
            sl.addWidget(w)
        hp = QGroupBox("Handpiece")
        hf = QFormLayout(hp)
        hf.addRow("Port", self.handpiece)
        hf.addRow(self._sensor_settings_box())
        tr = QGroupBox("Treatment")
        tf = QFormLayout(tr)
        tf.addRow("Handpiece mode", self.mode)
        tf.addRow("Tip grit", self.grit)
        tf.addRow("Crystal flow", self.flow)
        tf.addRow("Set-point", self.set_point)
        tf.addRow("", self.ceiling)
        tf.addRow("Planned time", self.planned)
        tf.addRow("Planned passes", self.passes)
        area_box = QWidget()
        grid = QGridLayout(area_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, box in enumerate(self.areas.values()):
            grid.addWidget(box, i // 5, i % 5)
        tf.addRow("Areas", area_box)
        tf.addRow("", self.differs)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setObjectName("Primary")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self._scrolling_layout(scr, hp, tr)

    # -- small screens: the form scrolls, what is wrong and the buttons stay in view ------------------
    def _scrolling_layout(self, *groups: QWidget) -> None:
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(0, 0, 0, 0)
        for g in groups:
            col.addWidget(g)
        self.body_scroll = QScrollArea()
        self.body_scroll.setWidgetResizable(True)
        self.body_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body_scroll.setWidget(body)
        self.problem.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.body_scroll, 1)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)

    # -- sensor settings: an engineer's choices, folded away -----------------------------------------
    def _sensor_settings_box(self) -> QWidget:
        """Format, unit of a text sensor and baud rate under a "Sensor settings" expander (folded;
        its title says what is set, so a text sensor in mmHg is visible without unfolding)."""
        self.sensor_toggle = QToolButton()
        self.sensor_toggle.setCheckable(True)
        self.sensor_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.sensor_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.sensor_toggle.setAutoRaise(True)
        self.sensor_settings = QWidget()
        form = QFormLayout(self.sensor_settings)
        form.setContentsMargins(16, 0, 0, 0)
        form.addRow("Format", self.format)
        form.addRow("Unit of a text sensor", self.text_unit)
        form.addRow("Baud rate", self.baud)
        self.sensor_settings.setVisible(False)

        def unfold(on: bool) -> None:
            self.sensor_settings.setVisible(on)
            self.sensor_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

        def title() -> None:
            unit = f", {self.text_unit.currentText()}" if self.format.currentText() == "text" else ""
            self.sensor_toggle.setText(
                f"Sensor settings ({self.format.currentText()}{unit}, {self.baud.currentText()} baud)"
            )

        self.sensor_toggle.toggled.connect(unfold)
        for combo in (self.format, self.text_unit, self.baud):
            combo.currentTextChanged.connect(title)
        title()
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.sensor_toggle)
        col.addWidget(self.sensor_settings)
        return box

    def _consent_check(self):
        """Signed consent (issue #13): a warning with an acknowledgement when missing or expired."""
        from desktop.consent_dialogs import ConsentCheck

        return ConsentCheck(self.store, self.client.id, lambda: self.who, self.today)

    def _defaults(self) -> None:
        """Start from this client's last session."""
        last = self.last
        ceiling = self.client.vacuum_ceiling_kpa
        if last is None:
            self.set_point.set_kpa(round(min(ceiling * 0.75, 35.0), 1))
            self.planned.setValue(25)
            self.passes.setValue(3)
            return
        self.mode.setCurrentIndex(max(self.mode.findData(last.mode), 0))
        self.grit.setCurrentIndex(max(self.grit.findData(last.grit), 0))
        self.flow.setValue(int(last.crystal_flow or 0))
        self.set_point.set_kpa(float(last.set_point_kpa or ceiling * 0.75))
        self.planned.setValue(int(last.planned_minutes or 25))
        self.passes.setValue(int(last.planned_passes or 3))
        for a in last.areas:
            if a in self.areas:
                self.areas[a].setChecked(True)

    def settings(self) -> dict:
        return {
            "mode": self.mode.currentData(),
            "grit": self.grit.currentData(),
            "crystal_flow": self.flow.value(),
            "set_point_kpa": self.set_point.kpa(),
            "planned_minutes": self.planned.value(),
            "planned_passes": self.passes.value(),
            "areas": [k for k, b in self.areas.items() if b.isChecked()],
        }

    def _show_differences(self) -> None:
        if self.last is None:
            self.differs.setText("First session for this client.")
            return
        last = self.last
        now = self.settings()
        before = {
            "mode": last.mode,
            "grit": last.grit,
            "crystal_flow": last.crystal_flow or 0,
            "set_point_kpa": last.set_point_kpa,
            "planned_minutes": last.planned_minutes,
            "planned_passes": last.planned_passes or 3,  # sessions before m006: the default the dialog took
            "areas": last.areas,
        }
        diffs = [
            f"{_LABEL[k]}: {_show(k, before[k], self.unit)} → {_show(k, now[k], self.unit)}"
            for k in now
            if _comparable(k, before.get(k)) != _comparable(k, now[k])
        ]
        when = fmt_date(last.started.date())
        self.differs.setText(
            f"Changed since the last session ({when}): " + "; ".join(diffs)
            if diffs
            else f"Same settings as the last session ({when})."
        )

    def link_spec(self) -> dict:
        text = self.handpiece.currentText()
        url = self.handpiece.currentData() if self.handpiece.findText(text) >= 0 else text.strip()
        if text == SIMULATED:
            url = self.default_url
        return {
            "url": url,
            "format": self.format.currentText(),
            "unit": self.text_unit.currentText(),
            "baud": int(self.baud.currentText()),
        }

    def override_text(self) -> str:
        names = "; ".join(st.rule.label for st in self.blocking)
        return f"{names} — {self.override_action.currentData()}: {self.override.text().strip()}"

    def start(self) -> None:
        problems = []
        if not self.confirm.isChecked():
            problems.append("Confirm that you asked the client about the screening today.")
        if self.blocked:
            reason = self.override.text().strip()
            if self.override_action.currentData() is None:
                problems.append("An active contraindication blocks treatment: choose what was done about it.")
            if len(reason) < MIN_REASON_CHARS or len(reason.split()) < MIN_REASON_WORDS:
                problems.append(
                    "An active contraindication blocks treatment: write why you treat anyway, "
                    "in a full sentence."
                )
        if self.consent.problem():
            problems.append(self.consent.problem())
        if self.set_point.kpa() > self.client.vacuum_ceiling_kpa:
            problems.append("The set-point is above this client's vacuum ceiling.")
        url = self.link_spec()["url"]
        if not url:
            problems.append("Choose a handpiece.")
        elif url in self.ports_in_use:
            problems.append(f"That handpiece is in use by the session for {self.ports_in_use[url]}.")
        self.problem.setText("\n".join(problems))
        if problems:
            return
        if self.blocked:
            self._confirm_override()
        else:
            self._create()

    def _confirm_override(self) -> None:
        """The second confirmation names the contraindication."""
        names = "\n".join(f"• {st.message()}" for st in self.blocking)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Treat despite a contraindication?",
            f"{self.client.name} has a blocking contraindication:\n{names}\n\n"
            f"{self.override_action.currentData()}: {self.override.text().strip()}\n\n"
            "Treat anyway? This is recorded with the session and shown on its review.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        yes = box.addButton("Treat despite it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Back", QMessageBox.ButtonRole.RejectRole)
        box.setObjectName("ConfirmOverride")
        box.finished.connect(lambda _r: box.clickedButton() is yes and self._create())
        box.open()
        self.override_box_confirm = box

    def _create(self) -> None:
        spec = self.link_spec()
        # The port is remembered as the default only once it has delivered samples (the live window
        # does it): a port that never answered must not become the next session's default.
        screening = [
            {"code": s.rule.code, "active": s.active, "effect": s.rule.effect, "message": s.message()}
            for s in self.statuses
        ]
        sid = self.store.create_session(
            self.client.id,
            self.who,
            handpiece=spec["url"],
            ceiling_kpa=self.client.vacuum_ceiling_kpa,
            override_reason=self.override_text() if self.blocked else None,
            consent_acknowledged=int(self.consent.acknowledged),
            screening=screening,
            **self.settings(),
        )
        self.accept()
        self.started.emit(sid, spec)
