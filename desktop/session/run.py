"""A treatment session while it runs: the handpiece link, one clock, statistics, alarms, recording.

No Qt here (nor in anything it imports). The layering is a serial plotter's: device → the link's reader
thread → ``SessionRun`` (its own engine thread, woken by the link, or ``step()`` called by a test with a
fake link and a fake clock) → the window, which takes an immutable ``snapshot()`` each frame and draws
it, holding no session state of its own.

One session clock: the host's monotonic clock, read through ``clock`` (injectable). Session time is
``clock() - started``; every alarm, marker and sample is placed on it. The device's own clock only
spaces the samples of one connection (it is anchored to the host time the first of them arrived).

What arrives from the link, in order: ``LinkEvent("connected")``, the device's ``Hello``, samples. A
connection's samples enter the session only after its HELLO says it is the session's device (a
text sensor, which has no HELLO, is trusted as it connects). Another device on the port raises a
high-priority technical alarm and its samples stay out until the practitioner chooses
(``accept_device``: continue with it as a new segment of this session; or end the session).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop.records import AREAS
from desktop.session.alarms import Alarm, AlarmEngine
from device.link import LinkEvent, LinkState
from device.protocol import FLAG_CONTACT, FLAG_CRYSTAL, FLAG_PUMP, SEQ_MOD, Hello, Sample

AUDIO_PAUSE_S = 120.0
HIGH_REPEAT_S = 3.0  # an unacknowledged high-priority alarm sounds again this often
LOSS_WINDOW_S = 5.0  # "losing samples" lasts this long after the last loss
GAP_DRAWN_S = 0.25  # samples further apart than this are drawn with a gap between them
REANCHOR_S = 1.0  # device clock this far from the host's: anchor again (a device reset)
READOUT_N = 20  # the big readout is the mean of the newest samples
STEP_MIN_S = 0.01  # the engine thread steps at most this often


class RingBuffer:
    """The last ``capacity`` samples in preallocated arrays; the newest N are always one contiguous
    slice (a buffer of twice the capacity, folded back when full), so drawing never copies twice."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        # np.full, not np.zeros: the pages are touched now, so memory is flat for the whole session
        # (zeros are mapped lazily and would grow resident memory as the first 5 minutes fill).
        self.t = np.full(2 * capacity, 0.0)
        self.v = np.full(2 * capacity, 0.0)
        self.n = 0  # samples in the buffer
        self.end = 0  # index after the newest

    def push(self, t: np.ndarray, v: np.ndarray) -> None:
        if len(t) >= self.capacity:
            t, v = t[-self.capacity :], v[-self.capacity :]
        if self.end + len(t) > 2 * self.capacity:
            keep = min(self.n, self.capacity - len(t))
            self.t[:keep] = self.t[self.end - keep : self.end]
            self.v[:keep] = self.v[self.end - keep : self.end]
            self.end, self.n = keep, keep
        self.t[self.end : self.end + len(t)] = t
        self.v[self.end : self.end + len(v)] = v
        self.end += len(t)
        self.n = min(self.n + len(t), self.capacity)

    def since(self, t0: float) -> tuple[np.ndarray, np.ndarray]:
        start = self.end - self.n
        i = start + int(np.searchsorted(self.t[start : self.end], t0))
        return self.t[i : self.end], self.v[i : self.end]


@dataclass(frozen=True)
class AlarmView:
    key: int
    kind: str
    priority: str
    text: str
    started: float
    ended: float | None
    peak_kpa: float | None
    acknowledged_by: str | None
    latched: bool
    acknowledged: bool = False

    @property
    def active(self) -> bool:
        return self.ended is None


@dataclass(frozen=True)
class Snapshot:
    """What the window draws this frame. Its arrays are its own (read-only) copies, or the caller's
    buffers when it gave ``snapshot`` some (valid until its next snapshot)."""

    t: float  # session time now
    x: np.ndarray  # sample times relative to now (s, ≤ 0); NaN vacuum marks a gap
    v: np.ndarray  # kPa
    readout_kpa: float | None  # None: no usable signal (then ``status`` says why)
    status: str  # "" | "not connected" | "connecting" | "disconnected" | "no signal" | "wrong handpiece"
    over_ceiling: bool  # the reading now is above the client's ceiling
    banner: AlarmView | None  # the highest priority showing (active or latched), then the newest
    banner_text: str
    showing: int  # alarms the banner stands for (active + latched)
    alarms: tuple[AlarmView, ...]  # every alarm of the session, oldest first
    alarms_version: int
    markers: tuple[tuple[int, float, str], ...]  # (key, session time, label)
    contact_s: float
    strokes: int
    peak_kpa: float
    mean_kpa: float | None
    link_text: str
    lost: int
    crc_failures: int
    audio_paused_s: int  # whole seconds of audio pause left (rounded up), 0 when not paused
    wrong_device: str | None  # the device waiting for the practitioner's choice
    device: str  # the session's device ("model, serial") or ""
    ended: bool


def _device_text(hello: Hello | None) -> str:
    return f"{hello.model}, serial {hello.serial}" if hello else ""


def _same_device(a: Hello, b: Hello) -> bool:
    return (a.model, a.serial) == (b.model, b.serial)


class SessionRun:
    def __init__(
        self,
        link,
        recorder,
        *,
        ceiling_kpa: float,
        set_point_kpa: float = 0.0,
        dwell_s: float = 3.0,
        planned_s: float | None = None,
        planned_passes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        fmt: str = "abrasio",
        ring_capacity: int = 300 * 2000,
        on_device: Callable[[object, Hello, int], None] | None = None,
    ):
        self.link = link
        self.recorder = recorder
        self.clock = clock
        self.wall = wall
        self.fmt = fmt
        self.ceiling = float(ceiling_kpa)
        self.set_point = float(set_point_kpa or 0.0)
        self.planned_passes = planned_passes
        self.engine = AlarmEngine(self.ceiling, dwell_s, planned_s)
        self.on_device = (
            on_device  # (store, hello, segment): store the session's device, on the writer thread
        )
        self.ring = RingBuffer(ring_capacity)
        self.started = clock()
        self.wall_started = wall()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.ended = False
        # the link as the run sees it
        self._state = LinkState.CONNECTING.value
        self._state_since = 0.0
        self._reason = ""
        self._trusted = fmt != "abrasio"  # the current connection's samples may enter the session
        self.device: Hello | None = None  # the session's device (the first to identify itself)
        self.segment = 1  # a new segment starts when the practitioner accepts another device
        self._wrong: Hello | None = None  # another device, waiting for the practitioner's choice
        self.held_out = 0  # samples of a device the session did not accept
        self._set_point_sent = False
        # samples
        self._offset: float | None = None  # session time = device time + offset (this connection)
        # [(session time from which it holds, offset)]: each sample's device time is its session time
        # minus the offset in force, so an export can give both clocks (the summary keeps this)
        self.clock_offsets: list[tuple[float, float]] = []
        self._last_x: float | None = None
        self._last_seq: int | None = None
        self._new_connection = False
        self._new_segment = False
        self._rate = 0.0
        self.samples_received = 0
        self.lost = 0
        self._lost_seen = 0  # the link's own loss counter, as last seen
        self._loss_times: list[float] = []
        self.disconnections: list[tuple[float, float]] = []  # (session time, seconds without samples)
        self.contact_s = 0.0
        self.above_s = 0.0
        self.peak = 0.0
        self._sum_contact = 0.0
        self._n_contact = 0
        self._recent = np.zeros(0)
        # alarms, sound, markers
        self._alarms_version = 0
        self._sound_keys: set[int] = set()  # alarms that have sounded once
        self._last_sound = -math.inf
        self.audio_paused_until = -math.inf
        self.markers: list[dict] = []
        self.crc_failures = 0

    # -- the engine thread ------------------------------------------------------------------------
    def start(self) -> SessionRun:
        """Evaluate as samples arrive, on a thread woken by the link (at least 20 times a second)."""
        self._thread = threading.Thread(target=self._loop, name="session run", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        last = 0.0
        while not self._stop.is_set():
            self.link.wait(0.05)
            # At most one step every STEP_MIN_S: a reader that wakes us for every few bytes would
            # otherwise cost a step each time; 10 ms is far inside the alarm latency budget.
            wait = STEP_MIN_S - (time.monotonic() - last)
            if wait > 0 and self._stop.wait(wait):
                break
            if self._stop.is_set():
                break
            last = time.monotonic()
            self.step()

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- one step ------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock() - self.started

    def step(self) -> None:
        """Take what the link has, evaluate every alarm condition, record. Tests call it directly."""
        with self._lock:
            if self.ended:
                return
            items = self.link.take_all()
            stats = self.link.stats()
            batch: list[Sample] = []
            for item in items:
                if type(item) is Sample:
                    if self._trusted:
                        batch.append(item)
                    else:
                        self.held_out += 1
                    continue
                if batch:
                    self._ingest(batch)
                    batch = []
                if isinstance(item, LinkEvent):
                    self._link_event(item)
                elif isinstance(item, Hello):
                    self._hello(item)
            if batch:
                self._ingest(batch)
            t = self.now()
            state = stats.state.value
            if state != self._state and state != LinkState.CLOSED.value:
                self._state, self._state_since = state, t
            self._reason = stats.reason
            self.crc_failures = stats.crc_failures
            if self._trusted and state == "connected" and not self._set_point_sent and self.set_point:
                self.link.set_point(self.set_point)
                self._set_point_sent = True
            link_lost = stats.frames_lost + stats.overflow_dropped
            if link_lost > self._lost_seen:
                self._count_lost(link_lost - self._lost_seen, t)
                self._lost_seen = link_lost
            self._loss_times = [x for x in self._loss_times if t - x < LOSS_WINDOW_S]
            last = self._last_x
            self._changed(
                self.engine.tick(
                    t,
                    self._state,
                    self._state_since,
                    last,
                    bool(self._loss_times),
                    self.recorder.error,
                    self._reason,
                )
            )

    def _link_event(self, ev: LinkEvent) -> None:
        t = ev.host_time - self.started
        if ev.kind == "connected":
            self._state, self._state_since = "connected", t
            self._trusted = self.fmt != "abrasio"  # until its HELLO says who it is
            self._set_point_sent = False
            self._new_connection = True
            self._offset = None
        else:
            self._state, self._state_since = "disconnected", t
            self._trusted = False

    def _hello(self, hello: Hello) -> None:
        t = self.now()
        if self.device is None:
            self.device = hello
            if self.on_device:
                seg, fn = self.segment, self.on_device
                self.recorder.call(lambda store: fn(store, hello, seg))
        if _same_device(hello, self.device):
            self._trusted = True
            self._wrong = None
            self._changed(self.engine.device(t, None))
        else:
            self._trusted = False
            self._wrong = hello
            self._changed(
                self.engine.device(
                    t,
                    f"Another handpiece on the port ({_device_text(hello)}; this session's is "
                    f"{_device_text(self.device)}) — its samples are not recorded",
                )
            )
        self._rate = float(hello.rate_hz or self._rate)

    def accept_device(self) -> bool:
        """The practitioner continues with the other device as a new segment of this session."""
        with self._lock:
            hello = self._wrong
            if hello is None:
                return False
            self.device = hello
            self.segment += 1
            self._wrong = None
            self._trusted = True
            self._new_segment = True  # drawn as a gap; its held-out samples are not "lost"
            self._offset = None
            self._set_point_sent = False
            if self.on_device:
                seg, fn = self.segment, self.on_device
                self.recorder.call(lambda store: fn(store, hello, seg))
            self._changed(self.engine.device(self.now(), None))
            return True

    def _count_lost(self, n: int, t: float, on_the_link: bool = True) -> None:
        """``on_the_link``: lost while connected ("losing samples" alarm); else across a replug,
        which the disconnected alarm already stood for."""
        self.lost += n
        if on_the_link:
            self._loss_times.append(t)
        self.recorder.add_lost(n)

    def _ingest(self, batch: list[Sample]) -> None:
        n = len(batch)
        seq = np.fromiter((s.seq for s in batch), np.int64, n)
        dev_t = np.fromiter((s.device_time for s in batch), np.float64, n)
        v = np.fromiter((s.vacuum_kpa for s in batch), np.float64, n)
        flags = np.fromiter(
            (
                (s.pump * FLAG_PUMP) | (s.contact * FLAG_CONTACT) | ((s.mode == 1) * FLAG_CRYSTAL)
                for s in batch
            ),
            np.uint8,
            n,
        )
        # The newest sample was taken just before the batch was decoded (its host time).
        host_x = batch[-1].host_time - self.started
        if self._offset is None or abs(dev_t[-1] + self._offset - host_x) > REANCHOR_S:
            # a new connection, or the device clock jumped (device reset): anchor to the host clock
            self._offset = host_x - dev_t[-1]
        x = dev_t + self._offset
        last = self._last_x
        if last is not None and x[0] <= last:
            # never before what is already recorded: the session's time only goes forward
            shift = last - x[0] + (1.0 / self._rate if self._rate else 1e-3)
            self._offset += shift
            x = x + shift
        if last is not None and (self._new_connection or self._new_segment or x[0] - last > GAP_DRAWN_S):
            gap = float(x[0] - last)
            if self._new_connection:  # a replug: say how long, count what never arrived
                self.disconnections.append((last, gap))
                if not self._new_segment:  # another device's samples were held out, not lost
                    self._count_lost(self._missing(int(seq[0]), gap), float(x[0]), on_the_link=False)
            self.ring.push(np.array([last + gap / 2]), np.array([np.nan]))  # drawn as a gap
            self.engine.reset_contact()  # the replug itself is no dwell
        if not self.clock_offsets or self.clock_offsets[-1][1] != self._offset:
            # from halfway between the last sample kept and this batch's first: the stored times are
            # rounded to a microsecond, so x[0] itself could fall on either side
            since = float(x[0]) if last is None else (last + float(x[0])) / 2
            self.clock_offsets.append((since, float(self._offset)))
        self._new_connection = self._new_segment = False
        self._last_seq = int(seq[-1])
        self.recorder.add_samples(seq, x, v, flags, 0)  # stored in session time, like markers
        self.ring.push(x, v)
        self.samples_received += n
        if not self._rate and n > 1 and dev_t[-1] > dev_t[0]:
            self._rate = (n - 1) / (dev_t[-1] - dev_t[0])
        contact = (flags & FLAG_CONTACT).astype(bool)
        dt_ = np.diff(x, prepend=last if last is not None else x[0])
        dt_ = np.clip(dt_, 0, 0.1)
        self._last_x = float(x[-1])
        self.contact_s += float(dt_[contact].sum())
        self.above_s += float(dt_[v > self.ceiling].sum())
        self.peak = max(self.peak, float(v.max()))
        if contact.any():
            self._sum_contact += float(v[contact].sum())
            self._n_contact += int(contact.sum())
        self._recent = np.concatenate((self._recent, v))[-READOUT_N:]
        self._changed(self.engine.feed(x, v, contact))

    def _missing(self, first_seq: int, gap: float) -> int:
        """Samples the device took while none reached us across a reconnect.

        The same device still counting: its sequence numbers say (loss, not a restart). Otherwise
        (it restarted, or says nothing): the gap's length at its sample rate.
        """
        if self._last_seq is not None:
            step = (first_seq - self._last_seq) % SEQ_MOD
            if 0 < step < SEQ_MOD // 2 and (not self._rate or step <= gap * self._rate * 1.5 + 2):
                return step - 1
        return max(0, round(gap * self._rate) - 1) if self._rate else 0

    # -- alarms and sound ------------------------------------------------------------------------
    def _changed(self, alarms: list[Alarm]) -> None:
        for alarm in alarms:
            self.recorder.save_alarm(alarm.key, alarm.record())
        if alarms:
            self._alarms_version += 1

    def acknowledge(self, who: str) -> list[Alarm]:
        """Acknowledge the alarm conditions present now: their sound stops; a new condition sounds."""
        with self._lock:
            when = dt.datetime.fromtimestamp(self.wall()).astimezone().isoformat(timespec="seconds")
            acked = self.engine.acknowledge(self.now(), when, who)
            self._changed(acked)
            return acked

    def pause_audio(self) -> None:
        """Silence every alarm sound for AUDIO_PAUSE_S. The visual alarm cannot be paused."""
        with self._lock:
            self.audio_paused_until = self.clock() + AUDIO_PAUSE_S

    def audio_paused_s(self) -> int:
        left = self.audio_paused_until - self.clock()
        return math.ceil(left) if left > 0 else 0

    def sound_due(self) -> bool:
        """True when the view should play the alarm sound now (it then plays it; this counts it).

        A new high or medium alarm condition sounds at once; an unacknowledged high-priority one
        (active or latched) again every HIGH_REPEAT_S; nothing while audio is paused or once
        acknowledged.
        """
        with self._lock:
            now = self.clock()
            if now < self.audio_paused_until:
                return False
            loud = [
                a for a in self.engine.showing() if a.priority in ("high", "medium") and not a.acknowledged
            ]
            new = [a for a in loud if a.key not in self._sound_keys]
            repeat = any(a.priority == "high" for a in loud) and now - self._last_sound >= HIGH_REPEAT_S
            if not new and not repeat:
                return False
            self._sound_keys.update(a.key for a in new)
            self._last_sound = now
            return True

    # -- the practitioner's actions --------------------------------------------------------------
    def drop_marker(self, label: str = "") -> dict:
        with self._lock:
            marker = {"key": len(self.markers) + 1, "t": self.now(), "label": label}
            self.markers.append(marker)
            self.recorder.add_marker(marker["key"], marker["t"], label)
            return marker

    def label_marker(self, label: str) -> dict | None:
        with self._lock:
            if not self.markers:
                return None
            marker = self.markers[-1]
            marker["label"] = label
            self.recorder.label_marker(marker["key"], label)
            return marker

    def change_set_point(self, kpa: float) -> None:
        with self._lock:
            if kpa > 0:
                self.set_point = kpa
                self.link.set_point(kpa)

    def check_passes(self, passes: dict[str, int]) -> None:
        with self._lock:
            self._changed(self.engine.passes(self.now(), passes, self.planned_passes, AREAS))

    def save_notes(self, notes: dict) -> None:
        self.recorder.save_notes(notes)

    # -- what the window draws -----------------------------------------------------------------
    @property
    def version(self) -> tuple[int, int]:
        """Changes when there is something new to draw: samples taken, an alarm raised or changed."""
        return self.samples_received, self._alarms_version

    def status(self) -> str:
        """Why there is no usable reading ("" when there is one), in words shown in full."""
        if self._wrong is not None:
            return "wrong handpiece"
        if self._state == "disconnected":
            return "disconnected"
        now = self.now()
        early = now - self._state_since < self.engine.connect_grace_s
        if self._state == "connecting":
            return "connecting" if early else "not connected"
        if self._last_x is None or self._last_x < self._state_since:  # nothing yet from this connection
            return "connecting" if early else "no signal"
        if now - self._last_x > self.engine.no_signal_s:
            return "no signal"
        return ""

    def snapshot(self, window_s: float = 30.0, out: tuple[np.ndarray, np.ndarray] | None = None) -> Snapshot:
        """What to draw now. ``out``: two arrays of ``ring.capacity`` the caller keeps, into which the
        sample times and values are copied (a window drawing 60 times a second then allocates no
        arrays of the window's size); without it, new arrays."""
        with self._lock:
            t = self.now()
            x, v = self.ring.since(t - window_s - 1.0)
            if out is None:
                x = x - t
                v = v.copy()
                x.flags.writeable = False
                v.flags.writeable = False
            else:
                n = len(x)
                xo, vo = out[0][:n], out[1][:n]
                np.subtract(x, t, out=xo)
                vo[:] = v
                x, v = xo, vo
            status = self.status()
            readout = float(self._recent.mean()) if len(self._recent) and not status else None
            views = tuple(self._view(a) for a in self.engine.alarms)
            top = self.engine.highest()
            top_view = next((a for a in views if top is not None and a.key == top.key), None)
            mean = self._sum_contact / self._n_contact if self._n_contact else None
            return Snapshot(
                t=t,
                x=x,
                v=v,
                readout_kpa=readout,
                status=status,
                over_ceiling=readout is not None and readout > self.ceiling,
                banner=top_view,
                banner_text=top_view.text if top_view else "No alarms",
                showing=len(self.engine.showing()),
                alarms=views,
                alarms_version=self._alarms_version,
                markers=tuple((m["key"], m["t"], m["label"]) for m in self.markers),
                contact_s=self.contact_s,
                strokes=self.engine.strokes.strokes,
                peak_kpa=self.peak,
                mean_kpa=mean,
                link_text=self._link_text(),
                lost=self.lost,
                crc_failures=self.crc_failures,
                audio_paused_s=self.audio_paused_s(),
                wrong_device=_device_text(self._wrong) or None,
                device=_device_text(self.device),
                ended=self.ended,
            )

    def _link_text(self) -> str:
        state = self._state
        if self._reason and state != "connected":
            state += f" ({self._reason})"
        return state

    def _view(self, a: Alarm) -> AlarmView:
        text = a.text
        if a.latched:
            at = time.strftime("%H:%M", time.localtime(self.wall_started + a.started))
            what = "above the ceiling" if a.kind == "over_ceiling" else a.message
            text = f"*** {what} for {a.duration:.1f} s at {at} — acknowledge (A)"
        return AlarmView(
            a.key,
            a.kind,
            a.priority,
            text,
            a.started,
            a.ended,
            a.peak_kpa,
            a.acknowledged_by,
            a.latched,
            a.acknowledged,
        )

    # -- the end -------------------------------------------------------------------------------
    def summary(self) -> dict:
        counts: dict[str, int] = {}
        for a in self.engine.alarms:
            counts[a.priority] = counts.get(a.priority, 0) + 1
        stats = self.link.stats()
        return {
            "duration_s": round(self.now(), 1),
            "samples": self.samples_received,
            "lost": self.lost,
            "mean_kpa": round(self._sum_contact / self._n_contact, 2) if self._n_contact else None,
            "peak_kpa": round(self.peak, 2),
            "above_ceiling_s": round(self.above_s, 2),
            "contact_s": round(self.contact_s, 1),
            "strokes": self.engine.strokes.strokes,
            "alarms": len(self.engine.alarms),
            "alarms_by_priority": counts,
            "markers": len(self.markers),
            "reconnects": stats.reconnects,
            "disconnections": [[round(at, 1), round(gap, 1)] for at, gap in self.disconnections],
            "held_out": self.held_out,
            "device": _device_text(self.device),
            "segments": self.segment,
            "clock_offsets": [[round(at, 6), round(off, 6)] for at, off in self.clock_offsets],
        }

    def end(
        self,
        notes: dict | None,
        finish: Callable[[object, dict, str], None],
        on_done: Callable[[dict, bool, str | None], None],
    ) -> None:
        """End the session without blocking the caller.

        On a thread of its own: stop the engine and the link, take the last samples, end every alarm,
        save ``notes``, then ``finish(store, summary, status)`` on the writer thread after everything
        else, and ``on_done(summary, ok, error)`` once it is all on disk (or the disk refused it).
        """
        with self._lock:
            if self.ended:
                return
        threading.Thread(
            target=self._end, args=(notes, finish, on_done), name="session end", daemon=True
        ).start()

    def _end(self, notes, finish, on_done) -> None:
        self.stop()
        self.link.close()
        self.step()  # the samples that arrived before the link closed
        with self._lock:
            self.ended = True
            t = max(self.now(), self._last_x or 0.0)
            self._changed(self.engine.end_all(t))
            if notes is not None:
                self.recorder.save_notes(notes)
            summary = self.summary()
            status = "completed" if self.samples_received else "no_samples"
            self.recorder.call(lambda store: finish(store, summary, status))
        self.recorder.close_async(lambda ok, error: on_done(summary, ok, error))

    def close(self) -> None:
        """Stop everything at once, recording what was given (tests' teardown, a failed start)."""
        self.stop()
        self.link.close()
        with self._lock:
            self.ended = True
        self.recorder.close_async()
