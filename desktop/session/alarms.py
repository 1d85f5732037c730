"""Safety alarms of a treatment session, after IEC 60601-1-8's conventions.

Pure Python over session time (seconds since the session started, from one host clock), so tests drive
it with a fake clock. ``SessionRun`` feeds it samples as they arrive and the link's state on every
step; it says which alarms start, change and end.

| priority | kind | when |
|---|---|---|
| high (***) | ``over_ceiling`` | vacuum above the client's ceiling (latches until acknowledged) |
| high (***) | ``wrong_device`` | technical: another handpiece answered on the port |
| medium (**) | ``dwell`` | tip in contact longer than the dwell time without a stroke's dip-and-recover |
| medium (**) | ``overtime`` | the treatment has run past the planned time |
| medium (**) | ``passes`` | more passes recorded on an area than planned (resolved by acknowledging) |
| low (*) | ``not_connected``, ``disconnected``, ``no_signal``, ``losing_frames``, ``recording`` | technical |

Acknowledging (IEC 60601-1-8's "acknowledged" state) applies to the alarm conditions present at that
moment, active or latched; a condition that starts afterwards is new and sounds again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1}
PREFIX = {"high": "***", "medium": "**", "low": "*"}
# Colours and flash rates (Hz): high red fast, medium yellow slow, low cyan steady.
COLOUR = {"high": "#d0021b", "medium": "#f5c400", "low": "#22b8cf"}
FLASH_HZ = {"high": 2.0, "medium": 0.6, "low": 0.0}
CONNECT_GRACE_S = 2.0  # a link with no usable sample this long after the start or a (re)connect alarms
GAP_S = 0.5  # samples further apart than this: the tip's contact is not continuous across them


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
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def latched(self) -> bool:
        """A high-priority condition that ended before anyone acknowledged it: it stays on screen."""
        return self.priority == "high" and self.ended is not None and self.acknowledged_at is None

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

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

    def reset_contact(self) -> None:
        """The tip's contact is not known to be continuous (a gap in the samples): start afresh."""
        self.contact_since = None
        self.in_dip = False
        self.plateau = 0.0
        self._last_t = None

    def feed(self, t: float, v: float, contact: bool) -> None:
        if self._last_t is not None and t - self._last_t > GAP_S:
            self.reset_contact()
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
        # Still down after max_dip_s: a change of level, not a stroke. The dip stays open (uncounted)
        # until the reading is back near the plateau or the plateau has absorbed the new level: closing
        # it here re-armed a new dip at once, and a drop of 1-2 s then counted as a stroke on recovery
        # (issue #9's mutation testing found it), which reset dwell while the tip was held still.

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
    connect_grace_s: float = CONNECT_GRACE_S
    alarms: list[Alarm] = field(default_factory=list)
    strokes: StrokeDetector = field(default_factory=StrokeDetector)
    confirm_s: float = 0.05
    clear_s: float = 0.2
    _next_key: int = 1
    _above_since: float | None = None
    _above_peak: float = 0.0
    _below_since: float | None = None
    _passes_resolved: str | None = None  # the passes message the practitioner acknowledged

    def active(self) -> list[Alarm]:
        return [a for a in self.alarms if a.active]

    def showing(self) -> list[Alarm]:
        """What the banner stands for: active alarms and latched ones."""
        return [a for a in self.alarms if a.active or a.latched]

    def highest(self) -> Alarm | None:
        """The banner's alarm: the highest priority showing, then the newest."""
        shown = self.showing()
        return max(shown, key=lambda a: (PRIORITY_RANK[a.priority], a.started)) if shown else None

    def find(self, kind: str) -> Alarm | None:
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
        alarm = self.find(kind)
        if on and alarm is None:
            alarm = Alarm(self._next_key, kind, priority, message, t, peak_kpa=value)
            self._next_key += 1
            self.alarms.append(alarm)
            changed.append(alarm)
        elif not on and alarm is not None:
            alarm.ended = max(t, alarm.started)  # never stored ending before it started
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
        over = self.find("over_ceiling")
        dwell = self.find("dwell")
        # Python floats (tolist): faster to iterate than numpy scalars, and plain numbers in the alarms
        t, vacuum, contact = (x.tolist() if hasattr(x, "tolist") else x for x in (t, vacuum, contact))
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
                        over = self.find("over_ceiling")
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
            if still != (dwell is not None):
                self._set(
                    "dwell", still, ti, "medium", "Tip held still on the skin — keep it moving", changed
                )
                dwell = self.find("dwell")
        return changed

    def reset_contact(self) -> None:
        """A gap in the samples (a replug): contact and dwell start afresh with the next sample."""
        self.strokes.reset_contact()
        self._above_since = None

    def tick(
        self,
        t: float,
        link_state: str,
        since: float = 0.0,
        last_sample: float | None = None,
        recent_loss: bool = False,
        recording_error: str | None = None,
        reason: str = "",
    ) -> list[Alarm]:
        """On every step: the time- and link-driven alarms.

        ``since``: session time the link entered ``link_state``; ``last_sample``: session time of the
        newest usable sample (None: none yet). With no usable sample there is always an alarm: not
        connected (``connect_grace_s`` after the start), disconnected, or no signal (``no_signal_s``
        after the last sample, ``connect_grace_s`` after a connect that brought none).
        """
        changed: list[Alarm] = []
        waited = t - since
        why = f" ({reason})" if reason else ""
        self._set(
            "not_connected",
            link_state == "connecting" and waited >= self.connect_grace_s,
            t,
            "low",
            f"Handpiece not connected{why}"[:120],
            changed,
        )
        self._set(
            "disconnected",
            link_state == "disconnected",
            t,
            "low",
            "Handpiece disconnected — reconnecting",
            changed,
        )
        if last_sample is not None and last_sample >= since:
            no_signal = t - last_sample > self.no_signal_s
        else:
            no_signal = waited >= self.connect_grace_s
        no_signal = link_state == "connected" and no_signal
        message = "No signal from the handpiece"
        if last_sample is None:
            message = "No samples from the handpiece"
        self._set("no_signal", no_signal, t, "low", message, changed)
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

    def device(self, t: float, wrong: str | None) -> list[Alarm]:
        """High-priority technical alarm while another handpiece than the session's is on the port."""
        changed: list[Alarm] = []
        current = self.find("wrong_device")
        if current is not None and wrong is not None and current.message != wrong:
            self._set("wrong_device", False, t, "high", "", changed)
        self._set("wrong_device", wrong is not None, t, "high", wrong or "", changed)
        return changed

    def passes(
        self, t: float, recorded: dict[str, int], planned: int | None, names: dict[str, str]
    ) -> list[Alarm]:
        """Medium: an area has had more passes than planned (as the practitioner records them).

        Acknowledging it resolves it (recorded, then it stops); it comes back only when the counts
        change again.
        """
        changed: list[Alarm] = []
        over = {a: n for a, n in recorded.items() if planned and n > planned}
        current = self.find("passes")
        text = "Passes beyond the plan: " + ", ".join(
            f"{names.get(a, a)} {n} of {planned}" for a, n in over.items()
        )
        if not over:
            self._passes_resolved = None
        if current is not None and over and current.message != text:
            self._set("passes", False, t, "medium", "", changed)  # a new area or count: a new alarm
        self._set("passes", bool(over) and text != self._passes_resolved, t, "medium", text, changed)
        return changed

    def end_all(self, t: float) -> list[Alarm]:
        ended = []
        for a in self.active():
            a.ended = max(t, a.started)
            ended.append(a)
        return ended

    def acknowledge(self, t: float, when: str, who: str) -> list[Alarm]:
        """Acknowledge every alarm condition present now (active or latched); returns those changed."""
        acked = []
        for a in self.showing():
            if a.acknowledged_at is None:
                a.acknowledged_at, a.acknowledged_by = when, who
                acked.append(a)
                if a.kind == "passes" and a.active:
                    self._passes_resolved = a.message
                    a.ended = max(t, a.started)
        return acked
