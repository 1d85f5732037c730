"""Safety alarms of a treatment session, after IEC 60601-1-8's conventions.

Pure Python over session time (seconds), so tests drive it with a fake clock. The live window feeds it
samples and link figures; it says which alarms start and end.

| priority | kind | when |
|---|---|---|
| high (***) | ``over_ceiling`` | vacuum above the client's ceiling, until it falls back under it |
| medium (**) | ``dwell`` | tip in contact longer than the dwell time without a stroke's dip-and-recover |
| medium (**) | ``overtime`` | the treatment has run past the planned time |
| low (*) | ``disconnected``, ``no_signal``, ``losing_frames`` | technical: the handpiece link |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1}
PREFIX = {"high": "***", "medium": "**", "low": "*"}
# Colours and flash rates (Hz): high red fast, medium yellow slow, low cyan steady.
COLOUR = {"high": "#d0021b", "medium": "#f5c400", "low": "#22b8cf"}
FLASH_HZ = {"high": 2.0, "medium": 0.6, "low": 0.0}


@dataclass
class Alarm:
    key: int
    kind: str
    priority: str
    message: str
    started: float
    ended: float | None = None
    peak_kpa: float | None = None
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None

    @property
    def active(self) -> bool:
        return self.ended is None

    @property
    def text(self) -> str:
        return f"{PREFIX[self.priority]} {self.message}"

    def record(self) -> dict:
        return {
            "priority": self.priority,
            "kind": self.kind,
            "message": self.message,
            "started": self.started,
            "ended": self.ended,
            "peak_kpa": self.peak_kpa,
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass
class StrokeDetector:
    """Counts strokes (the dip-and-recover of the tip gliding) and knows when the last one was.

    The plateau follows rises at once and decays toward the reading with a 1 s time constant, so a
    0.3 s stroke dip stands out from it while a lasting change of level (a surge ending, a new
    set-point) is absorbed within a few seconds and is never taken for a stroke.
    """

    dip_fraction: float = 0.08  # a stroke dips at least this far below the plateau…
    recover_fraction: float = 0.03  # …and comes back to within this of it…
    max_dip_s: float = 1.0  # …within this time
    min_dip_kpa: float = 1.2  # never call noise a stroke
    tau_s: float = 1.0
    plateau: float = 0.0
    in_dip: bool = False
    dip_start: float = 0.0
    strokes: int = 0
    last_stroke: float | None = None
    contact_since: float | None = None
    _last_t: float | None = None

    def feed(self, t: float, v: float, contact: bool) -> None:
        if not contact:
            self.contact_since = None
            self.in_dip = False
            self.plateau = 0.0
            self._last_t = t
            return
        if self.contact_since is None:
            self.contact_since = t
        dt = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), 0.1)
        self._last_t = t
        if v >= self.plateau:
            self.plateau = v
        else:
            self.plateau -= (self.plateau - v) * (1.0 - math.exp(-dt / self.tau_s))
        dip = max(self.plateau * self.dip_fraction, self.min_dip_kpa)
        if not self.in_dip:
            if v < self.plateau - dip:
                self.in_dip, self.dip_start = True, t
        elif v > self.plateau - max(self.plateau * self.recover_fraction, dip / 3):
            self.in_dip = False
            if t - self.dip_start <= self.max_dip_s:
                self.strokes += 1
                self.last_stroke = t
        elif t - self.dip_start > self.max_dip_s:
            self.in_dip = False  # a change of level, not a stroke

    def still_for(self, t: float) -> float:
        """Seconds the tip has been in contact without a stroke."""
        if self.contact_since is None:
            return 0.0
        since = max(self.contact_since, self.last_stroke or self.contact_since)
        return t - since


@dataclass
class AlarmEngine:
    ceiling_kpa: float
    dwell_s: float = 3.0
    planned_s: float | None = None
    no_signal_s: float = 1.0
    alarms: list[Alarm] = field(default_factory=list)
    strokes: StrokeDetector = field(default_factory=StrokeDetector)
    confirm_s: float = 0.05
    clear_s: float = 0.2
    _next_key: int = 1
    _above_since: float | None = None
    _above_peak: float = 0.0
    _below_since: float | None = None

    def active(self) -> list[Alarm]:
        return [a for a in self.alarms if a.active]

    def highest(self) -> Alarm | None:
        act = self.active()
        return max(act, key=lambda a: (PRIORITY_RANK[a.priority], a.started)) if act else None

    def _find(self, kind: str) -> Alarm | None:
        return next((a for a in self.alarms if a.kind == kind and a.active), None)

    def _set(
        self,
        kind: str,
        on: bool,
        t: float,
        priority: str,
        message: str,
        changed: list,
        value: float | None = None,
    ) -> None:
        """Start (with ``value`` as its first peak) or end the alarm of ``kind``; `feed` raises peaks."""
        alarm = self._find(kind)
        if on and alarm is None:
            alarm = Alarm(self._next_key, kind, priority, message, t, peak_kpa=value)
            self._next_key += 1
            self.alarms.append(alarm)
            changed.append(alarm)
        elif not on and alarm is not None:
            alarm.ended = t
            changed.append(alarm)

    def feed(self, t, vacuum, contact) -> list[Alarm]:
        """Samples (sequences of session time, kPa, contact). Returns alarms started, updated or ended.

        Over the ceiling: starts once the reading has stayed above it for ``confirm_s`` (50 ms: one
        noisy sample is not an alarm), ends once it has stayed below ``ceiling - hysteresis`` for
        ``clear_s``, so a reading hovering at the ceiling gives one alarm, not a chatter of them.
        """
        changed: list[Alarm] = []
        ceiling = self.ceiling_kpa
        clear_below = ceiling - max(0.5, 0.02 * ceiling)
        strokes = self.strokes
        over = self._find("over_ceiling")
        for ti, v, c in zip(t, vacuum, contact, strict=True):
            if v > ceiling:
                self._below_since = None
                if over is None:
                    if self._above_since is None:
                        self._above_since, self._above_peak = ti, v
                    self._above_peak = max(self._above_peak, v)
                    if ti - self._above_since >= self.confirm_s:
                        self._set(
                            "over_ceiling",
                            True,
                            self._above_since,
                            "high",
                            "Vacuum above this client's ceiling",
                            changed,
                            self._above_peak,
                        )
                        over = self._find("over_ceiling")
                elif v > (over.peak_kpa or 0):
                    over.peak_kpa = v
                    if over not in changed:
                        changed.append(over)
            else:
                self._above_since = None
                if over is not None and v < clear_below:
                    if self._below_since is None:
                        self._below_since = ti
                    if ti - self._below_since >= self.clear_s:
                        self._set("over_ceiling", False, self._below_since, "high", "", changed)
                        over = None
                        self._below_since = None
                elif over is not None:
                    self._below_since = None
            strokes.feed(ti, v, bool(c))
            still = strokes.still_for(ti) > self.dwell_s
            if still != (self._find("dwell") is not None):
                self._set(
                    "dwell", still, ti, "medium", "Tip held still on the skin — keep it moving", changed
                )
        return changed

    def tick(
        self,
        t: float,
        link_state: str,
        last_sample_age: float | None,
        recent_loss: bool,
        recording_error: str | None = None,
    ) -> list[Alarm]:
        """Once a timer tick: the time- and link-driven alarms."""
        changed: list[Alarm] = []
        self._set(
            "disconnected",
            link_state == "disconnected",
            t,
            "low",
            "Handpiece disconnected — reconnecting",
            changed,
        )
        no_signal = link_state == "connected" and (
            last_sample_age is None or last_sample_age > self.no_signal_s
        )
        self._set("no_signal", no_signal, t, "low", "No signal from the handpiece", changed)
        self._set("losing_frames", recent_loss, t, "low", "Handpiece link is losing samples", changed)
        if self.planned_s:
            self._set(
                "overtime",
                t > self.planned_s,
                t,
                "medium",
                "Treatment has run past the planned time",
                changed,
            )
        # technical: the trace is not reaching the disk (samples are held in memory and retried)
        self._set(
            "recording",
            recording_error is not None,
            t,
            "low",
            f"Not recording to disk: {recording_error}"[:120],
            changed,
        )
        return changed

    def passes(
        self, t: float, recorded: dict[str, int], planned: int | None, names: dict[str, str]
    ) -> list[Alarm]:
        """Medium: an area has had more passes than planned (as the practitioner records them)."""
        changed: list[Alarm] = []
        over = {a: n for a, n in recorded.items() if planned and n > planned}
        current = self._find("passes")
        text = "Passes beyond the plan: " + ", ".join(
            f"{names.get(a, a)} {n} of {planned}" for a, n in over.items()
        )
        if current is not None and over and current.message != text:
            self._set("passes", False, t, "medium", "", changed)  # a new area or count: a new alarm
        self._set("passes", bool(over), t, "medium", text, changed)
        return changed

    def end_all(self, t: float) -> list[Alarm]:
        ended = []
        for a in self.active():
            a.ended = t
            ended.append(a)
        return ended

    def acknowledge(self, when: str, who: str) -> list[Alarm]:
        acked = []
        for a in self.active():
            if a.acknowledged_at is None:
                a.acknowledged_at, a.acknowledged_by = when, who
                acked.append(a)
        return acked
