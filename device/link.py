"""HandpieceLink: a serial port read on its own thread, decoded, handed over in batches.

The consumer (the GUI's QTimer, the CLI, a test) calls ``take()`` for the samples decoded since the
last call and ``stats()`` for a snapshot of the link's figures; it never waits on the port. Commands
(``set_point``, ``pump``) are queued and written by the reader thread. Unplugging the cable moves the
link to ``disconnected`` with the reason; it retries with back-off and resumes by itself when the same
port comes back. Nothing raises into the consumer.
"""

from __future__ import annotations

import collections
import enum
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

import serial
from serial.tools import list_ports

from device import protocol as p
from device.text import TextDecoder

log = logging.getLogger("abrasio.link")

if "device.urlhandler" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("device.urlhandler")

DEFAULT_BAUD = 115200
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 2.0


@dataclass(frozen=True)
class LinkEvent:
    """In ``take_all()``'s stream, between samples: the port was opened (``connected``) or lost."""

    kind: str  # "connected" | "disconnected"
    host_time: float  # time.monotonic()
    reason: str = ""


class LinkState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


@dataclass(frozen=True)
class LinkStats:
    state: LinkState
    reason: str
    frames: int  # good frames (text: readings)
    samples: int
    crc_failures: int
    resyncs: int
    bytes_skipped: int
    seq_gaps: int
    frames_lost: int
    lines_skipped: int
    reconnects: int
    overflow_dropped: int  # samples the consumer did not take in time (bounded hand-off full)
    bytes_read: int
    last_sample_time: float | None  # time.monotonic() of the newest sample
    hello: p.Hello | None = None
    acks: tuple = field(default=())


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    vid_pid: str  # "0403:6001" or ""

    def __str__(self) -> str:
        extra = f" [{self.vid_pid}]" if self.vid_pid else ""
        return f"{self.device} — {self.description}{extra}"


def discover_ports() -> list[PortInfo]:
    ports = []
    for info in sorted(list_ports.comports(), key=lambda i: i.device):
        vid_pid = f"{info.vid:04X}:{info.pid:04X}" if info.vid is not None else ""
        ports.append(PortInfo(info.device, info.description or "", vid_pid))
    return ports


class HandpieceLink:
    def __init__(
        self,
        url: str,
        fmt: str = "abrasio",
        baudrate: int = DEFAULT_BAUD,
        unit: str = "kPa",
        label: str = "vacuum",
        max_pending: int = 120_000,
    ):
        if fmt not in ("abrasio", "text"):
            raise ValueError("format must be 'abrasio' or 'text'")
        self.url = url
        self.fmt = fmt
        self.baudrate = baudrate
        self._decoder = p.FrameDecoder() if fmt == "abrasio" else TextDecoder(unit, label)
        self._lock = threading.Lock()
        self._pending: collections.deque = collections.deque()
        self._max_pending = max_pending
        self._overflow = 0
        self._outbox: collections.deque[bytes] = collections.deque()
        self._acks: collections.deque[p.Ack] = collections.deque(maxlen=50)
        self._hello: p.Hello | None = None
        self._state = LinkState.CONNECTING
        self._reason = ""
        self._reconnects = 0
        self._bytes_read = 0
        self._last_sample: float | None = None
        self._cmd_ids = itertools.cycle(range(256))
        self._stop = threading.Event()
        self._ready = threading.Event()  # set when something arrives for take()/take_all()
        self._thread = threading.Thread(target=self._run, name=f"handpiece-link {url}", daemon=True)

    # -- consumer side --
    def start(self) -> HandpieceLink:
        self._thread.start()
        return self

    def close(self, timeout: float = 0.5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._state = LinkState.CLOSED

    @property
    def state(self) -> LinkState:
        return self._state

    def take(self) -> list[p.Sample]:
        """The samples decoded since the last take (HELLOs and connection events are dropped)."""
        return [s for s in self.take_all() if type(s) is p.Sample]

    def take_all(self) -> list:
        """Everything since the last take, in wire order: ``Sample``s, ``Hello``s and ``LinkEvent``s.

        A consumer that must know which samples came from which connection and which device (the
        session run) uses this one.
        """
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            self._ready.clear()
        return batch

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s until something arrives (for a consumer thread, never the GUI)."""
        return self._ready.wait(timeout)

    def stats(self) -> LinkStats:
        d = self._decoder.stats
        with self._lock:
            if isinstance(d, p.DecoderStats):
                frames, crc, resyncs, gaps, lost, lines = (
                    d.frames,
                    d.crc_failures,
                    d.resyncs,
                    d.seq_gaps,
                    d.frames_lost,
                    0,
                )
            else:
                frames, crc, resyncs, gaps, lost, lines = (d.samples, 0, 0, 0, 0, d.lines_skipped)
            return LinkStats(
                self._state,
                self._reason,
                frames,
                d.samples,
                crc,
                resyncs,
                d.bytes_skipped,
                gaps,
                lost,
                lines,
                self._reconnects,
                self._overflow,
                self._bytes_read,
                self._last_sample,
                self._hello,
                tuple(self._acks),
            )

    def set_point(self, kpa: float) -> int:
        """Queue a set-point command; returns its command id (see ``stats().acks``)."""
        return self._command(p.OP_SET_POINT, round(kpa * 100))

    def pump(self, on: bool) -> int:
        return self._command(p.OP_PUMP, int(on))

    def _command(self, opcode: int, value: int) -> int:
        cid = next(self._cmd_ids)
        if self.fmt == "abrasio":
            self._outbox.append(p.encode_command(p.Command(cid, opcode, value)))
        return cid

    # -- reader thread --
    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        connected_before = False
        while not self._stop.is_set():
            try:
                port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.05)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._set_state(
                    LinkState.DISCONNECTED if connected_before else LinkState.CONNECTING,
                    _reason(exc),
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            if connected_before:
                self._reconnects += 1
            connected_before = True
            backoff = BACKOFF_FIRST
            self._decoder.reset_sequence()
            self._set_state(LinkState.CONNECTED, "", LinkEvent("connected", time.monotonic()))
            if self.fmt == "abrasio":
                self._command(p.OP_HELLO, 0)
            try:
                self._pump(port)
            except (serial.SerialException, OSError, ValueError, TypeError) as exc:
                # TypeError/ValueError: pyserial on a vanished fd can fail inside select()
                why = _reason(exc)
                self._set_state(LinkState.DISCONNECTED, why, LinkEvent("disconnected", time.monotonic(), why))
            finally:
                try:
                    port.close()
                except (serial.SerialException, OSError):
                    pass
        self._set_state(LinkState.CLOSED, "closed")

    def _pump(self, port) -> None:
        decoder = self._decoder
        while not self._stop.is_set():
            while self._outbox:
                port.write(self._outbox.popleft())
            data = port.read(port.in_waiting or 1)
            if not data:
                continue
            self._bytes_read += len(data)
            items = decoder.feed(data)
            if not items:
                continue
            samples = [s for s in items if type(s) is p.Sample]
            with self._lock:
                pending = self._pending
                if len(samples) != len(items):
                    for item in items:
                        if isinstance(item, p.Hello):
                            self._hello = item
                        elif isinstance(item, p.Ack):
                            self._acks.append(item)
                    pending.extend(i for i in items if not isinstance(i, (p.Ack, p.Command)))
                else:
                    pending.extend(samples)
                if samples:
                    self._last_sample = samples[-1].host_time
                    excess = len(pending) - self._max_pending
                    if excess > 0:
                        self._overflow += excess
                        for _ in range(excess):
                            pending.popleft()
                self._ready.set()

    def _set_state(self, state: LinkState, reason: str, event: LinkEvent | None = None) -> None:
        if state != self._state:  # the app's log file (desktop/log.py) keeps the link's history
            log.info(
                "Handpiece link %s: %s%s", self.url, state.name.lower(), f" ({reason})" if reason else ""
            )
        with self._lock:
            self._state = state
            self._reason = reason
            if event is not None:
                self._pending.append(event)
            self._ready.set()


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "…"


def wait_until(predicate, timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (for the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
