"""``sim://`` — the simulated handpiece as an in-process pyserial port.

``serial_for_url("sim://?rate=1000&format=abrasio&seed=1&auto=1")`` returns a port whose reads give
the simulator's bytes as they fall due and whose writes reach the simulator, so the link code cannot
tell it from a cable. The app's "Simulated handpiece" choice uses it (it needs no pty, so it works on
Windows too). The simulator behind the most recently opened port is ``last_device()``.
"""

from __future__ import annotations

import threading
import time
import urllib.parse

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from device.simulator import SimulatedHandpiece

_last: dict[str, SimulatedHandpiece] = {}
_unplugged = threading.Event()  # the simulated cable is out: open ports fail, opening fails
_next: dict = {}  # what the next opened port's device is instead of the URL's (``replug``)


def last_device() -> SimulatedHandpiece | None:
    return _last.get("device")


def unplug() -> None:
    """Pull the simulated cable: every open sim:// port fails its next read, and none opens."""
    _unplugged.set()


def replug(serial_number: str | None = None, rate: float | None = None) -> None:
    """Plug it back: the next open gets a new simulator (a device that restarted); with a
    ``serial_number`` (and ``rate``) it is another handpiece than the URL describes, as when a
    different device is plugged into the same port. Only the next open is affected."""
    if serial_number is not None:
        _next["serial_number"] = serial_number
    if rate is not None:
        _next["rate"] = rate
    _unplugged.clear()


class Serial(SerialBase):
    def open(self):
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if _unplugged.is_set():
            raise SerialException(f"could not open port {self._port}: the simulated handpiece is unplugged")
        opts = urllib.parse.parse_qs(urllib.parse.urlsplit(self._port).query)
        try:
            rate = float(opts.get("rate", ["200"])[0])
            instead = dict(_next)
            _next.clear()
            self.device = SimulatedHandpiece(
                rate=float(instead.get("rate", rate)),
                fmt=opts.get("format", ["abrasio"])[0],
                seed=int(opts["seed"][0]) if "seed" in opts else None,
                auto=opts.get("auto", ["1"])[0] not in ("0", "false"),
                text_unit=opts.get("unit", ["kPa"])[0],
                **({"serial_number": instead["serial_number"]} if "serial_number" in instead else {}),
            )
        except ValueError as exc:
            raise SerialException(f"bad sim:// URL {self._port!r}: {exc}") from exc
        _last["device"] = self.device
        self._rx = bytearray(self.device.greeting())
        self._lock = threading.Lock()
        self.is_open = True

    def close(self):
        self.is_open = False

    def _reconfigure_port(self):
        pass

    def _fill(self) -> None:
        if _unplugged.is_set():
            raise SerialException("the simulated handpiece was unplugged")
        with self._lock:
            self._rx += self.device.due_bytes()

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        self._fill()
        return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = time.monotonic() + (self._timeout if self._timeout is not None else 1e9)
        while True:
            self._fill()
            if len(self._rx) >= size or time.monotonic() >= deadline:
                with self._lock:
                    data = bytes(self._rx[:size])
                    del self._rx[:size]
                return data
            time.sleep(min(0.002, max(deadline - time.monotonic(), 0)))

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        reply = self.device.receive(bytes(data))
        with self._lock:
            self._rx += reply
        return len(data)

    def reset_input_buffer(self):
        with self._lock:
            self._rx.clear()

    def reset_output_buffer(self):
        pass

    @property
    def out_waiting(self) -> int:
        return 0

    def _update_rts_state(self):
        pass

    def _update_dtr_state(self):
        pass

    def _update_break_state(self):
        pass
