"""The two chokepoints the Qt-free session tests fake: the handpiece link and the clock."""

from __future__ import annotations

import numpy as np

from device.link import LinkEvent, LinkState, LinkStats
from device.protocol import MODE_DIAMOND, Hello, Sample


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class FakeLink:
    """What ``SessionRun`` uses of a ``HandpieceLink``, driven by the test: a device that connects,
    says HELLO, sends samples (its own sequence numbers and clock) and disappears."""

    def __init__(self, clock: FakeClock, rate: int = 1000):
        self.clock = clock
        self.rate = rate
        self.items: list = []
        self.state = LinkState.CONNECTING
        self.reason = ""
        self.frames_lost = 0
        self.overflow = 0
        self.crc = 0
        self.reconnects = 0
        self.set_points: list[float] = []
        self.closed = False
        self.seq = 0
        self.device_t = 5.0  # the device's own clock: unrelated to the host's
        self.connections = 0

    # -- the test drives the device --
    def connect(self, serial: str = "SN-1", model: str = "Abrasio H-2", hello: bool = True) -> None:
        self.state = LinkState.CONNECTED
        self.reason = ""
        if self.connections:
            self.reconnects += 1
        self.connections += 1
        self.items.append(LinkEvent("connected", self.clock()))
        if hello:
            self.items.append(Hello(model, serial, "2.0", self.rate))

    def unplug(self, reason: str = "device reports readiness to read but returned no data") -> None:
        self.state = LinkState.DISCONNECTED
        self.reason = reason
        self.items.append(LinkEvent("disconnected", self.clock(), reason))

    def samples(self, vacuum, contact=True, skip: int = 0) -> None:
        """One sample per value, taken 1/rate apart ending now (``skip``: samples the device took first
        that never arrive)."""
        vacuum = np.atleast_1d(np.asarray(vacuum, dtype=float))
        contact = np.broadcast_to(np.asarray(contact, dtype=bool), vacuum.shape)
        self.seq += skip
        self.device_t += skip / self.rate
        now = self.clock()
        for v, c in zip(vacuum, contact, strict=True):
            self.items.append(
                Sample(self.seq % 2**32, self.device_t, now, float(v), True, bool(c), MODE_DIAMOND, 0)
            )
            self.seq += 1
            self.device_t += 1 / self.rate

    def restart(self) -> None:
        """The device restarts: sequence and clock from zero."""
        self.seq = 0
        self.device_t = 0.0

    # -- the interface SessionRun uses --
    def take_all(self) -> list:
        out, self.items = self.items, []
        return out

    def wait(self, timeout: float) -> bool:
        return bool(self.items)

    def stats(self) -> LinkStats:
        return LinkStats(
            self.state,
            self.reason,
            0,
            0,
            self.crc,
            0,
            0,
            0,
            self.frames_lost,
            0,
            self.reconnects,
            self.overflow,
            0,
            None,
        )

    def set_point(self, kpa: float) -> int:
        self.set_points.append(kpa)
        return len(self.set_points)

    def close(self, timeout: float = 0.5) -> None:
        self.closed = True
        self.state = LinkState.CLOSED


def play(run, link: FakeLink, clock: FakeClock, seconds: float, vacuum=25.0, contact=True, tick=0.02):
    """``seconds`` of samples in ``tick`` batches, stepping the run after each (as its thread would).

    ``vacuum`` and ``contact``: a constant, or a function of the session time of each sample.
    """
    per = round(link.rate * tick)
    for _ in range(round(seconds / tick)):
        clock.advance(tick)
        t = clock() - run.started - (np.arange(per)[::-1] / link.rate)
        v = vacuum(t) if callable(vacuum) else np.full(per, vacuum)
        c = contact(t) if callable(contact) else contact
        link.samples(v, c)
        run.step()


def idle(run, clock: FakeClock, seconds: float, tick: float = 0.05) -> None:
    """Time passes with nothing from the device; the run steps."""
    for _ in range(round(seconds / tick)):
        clock.advance(tick)
        run.step()
