"""A simulated microdermabrasion handpiece that speaks the Abrasio protocol (or plain text).

Three layers, so the simulator exposes exactly the real device's interface:

* ``HandpieceModel`` — the physics: the pump ramps to the set-point, each stroke of the tip gives a
  dip-and-recover, lifting the tip breaks the seal and the reading falls toward 0, sensor noise.
* ``SimulatedHandpiece`` — the device: turns model time into wire bytes, answers host commands,
  and injects faults (garbage, corrupted frames, dropped frames, a stall).
* Transports: ``PtySimulator`` serves it on a pseudo-terminal (``python -m device.simulator``), and
  ``device.urlhandler.protocol_sim`` serves it in-process as a pyserial port at ``sim://``.

The simulated device clock is the host's ``time.monotonic()`` (microseconds, wrapping at 2**32),
so a consumer on the same machine can measure latency from the moment a sample was taken.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import select
import sys
import threading
import time
from dataclasses import dataclass

from device import protocol as p
from device.units import check_unit, from_kpa

AMBIENT_LEAK_KPA = 0.8  # what an open tip still reads with the pump running


@dataclass
class Scenario:
    """What the practitioner is doing with the tip right now."""

    kind: str = "glide"  # glide | hold | lift | surge | pump_fault
    level: float = 0.0  # surge level, kPa
    until: float = math.inf  # model time when the scenario ends (then back to glide)


class HandpieceModel:
    STROKE_PERIOD = 1.2  # s from one stroke to the next while gliding
    STROKE_DIP = 0.35  # s the dip-and-recover lasts
    DIP_DEPTH = 0.18  # fraction of the set-point lost at the bottom of a dip

    def __init__(
        self,
        rate: float,
        set_point_kpa: float = 30.0,
        seed: int | None = None,
        auto: bool = False,
        noise_kpa: float = 0.12,
    ):
        self.rate = float(rate)
        self.dt = 1.0 / self.rate
        self.set_point = set_point_kpa
        self.pump = True
        self.mode = p.MODE_DIAMOND
        self.crystal_flow = 0
        self.noise = noise_kpa
        self.auto = auto  # demo cycle: glide a while, lift between areas, glide again
        self.t = 0.0
        self.vacuum = 0.0
        self.scenario = Scenario()
        self._rng = random.Random(seed)
        self._stroke_t = 0.0
        self._auto_next = 9.0

    def set_scenario(self, kind: str, seconds: float = math.inf, level: float = 0.0) -> None:
        if kind not in ("glide", "hold", "lift", "surge", "pump_fault"):
            raise ValueError(f"unknown scenario {kind!r}")
        self.scenario = Scenario(kind, level, self.t + seconds)
        self.pump = kind != "pump_fault"

    @property
    def contact(self) -> bool:
        return self.scenario.kind in ("glide", "hold", "surge")

    def step(self) -> tuple[float, bool, bool]:
        """Advance one sample; return (vacuum kPa, pump on, tip in contact)."""
        sc = self.scenario
        if self.t >= sc.until:
            self.set_scenario("glide")
            sc = self.scenario
        # The demo cycle alternates glide and lift only; a held tip (the training panel's "Hold still")
        # stays held until someone chooses Glide or Lift, so the dwell alarm it shows can be seen.
        if self.auto and sc.kind in ("glide", "lift") and sc.until == math.inf and self.t >= self._auto_next:
            if sc.kind == "glide":
                self.set_scenario("lift")
                self._auto_next = self.t + 2.0
            else:
                self.set_scenario("glide")
                self._auto_next = self.t + 9.0
            sc = self.scenario
        contact = self.contact
        if not self.pump:
            target, tau = 0.0, 0.4
        elif sc.kind == "surge":
            target, tau = sc.level, 0.25
        elif contact:
            target, tau = self.set_point, 0.12
            if sc.kind == "glide":
                phase = (self.t - self._stroke_t) % self.STROKE_PERIOD
                if phase < self.STROKE_DIP:
                    target *= 1.0 - self.DIP_DEPTH * math.sin(math.pi * phase / self.STROKE_DIP)
        else:
            target, tau = AMBIENT_LEAK_KPA, 0.06
        self.vacuum += (target - self.vacuum) * (1.0 - math.exp(-self.dt / tau))
        self.t += self.dt
        reading = self.vacuum + self._rng.gauss(0.0, self.noise)
        return min(max(reading, 0.0), p.VACUUM_MAX_KPA), self.pump, contact


class SimulatedHandpiece:
    """The device side of the wire: call ``due_bytes()`` as time passes, ``receive()`` with host bytes."""

    MODEL = "Abrasio SIM-1 (simulated)"

    def __init__(
        self,
        rate: float = 1000.0,
        fmt: str = "abrasio",
        seed: int | None = None,
        auto: bool = False,
        text_unit: str = "kPa",
        serial_number: str = "SIM-0001",
        clock=time.monotonic,
    ):
        if not 10 <= rate <= 2000:
            raise ValueError("simulator rate must be 10 to 2000 samples a second")
        if fmt not in ("abrasio", "text"):
            raise ValueError("format must be 'abrasio' or 'text'")
        self.model = HandpieceModel(rate, seed=seed, auto=auto)
        self.rate = rate
        self.fmt = fmt
        self.text_unit = check_unit(text_unit)
        self.serial_number = serial_number
        self._clock = clock
        self._lock = threading.Lock()
        self._t0 = clock()
        self._stall_offset = 0.0
        self._stall_until = 0.0
        self.seq = 0  # samples generated (the next sequence number)
        self.sent = 0  # samples actually put on the wire
        self._drop = 0
        self._corrupt = 0
        self._garbage = b""
        self._decoder = p.FrameDecoder()
        self._rng = random.Random(seed)
        self.hello = p.Hello(self.MODEL, serial_number, "1.4.2", int(rate))

    # -- scenarios and faults (thread-safe; the test or the CLI calls these) --
    def scenario(self, kind: str, seconds: float = math.inf, level: float = 0.0) -> None:
        with self._lock:
            self.model.set_scenario(kind, seconds, level)

    def surge(self, level_kpa: float, seconds: float = math.inf) -> None:
        self.scenario("surge", seconds, level_kpa)

    def inject_garbage(self, nbytes: int) -> None:
        with self._lock:
            self._garbage += bytes(self._rng.randrange(256) for _ in range(nbytes))

    def drop_frames(self, count: int) -> None:
        with self._lock:
            self._drop += count

    def corrupt_frames(self, count: int) -> None:
        with self._lock:
            self._corrupt += count

    def stall(self, seconds: float) -> None:
        with self._lock:
            self._stall_until = self._clock() + seconds

    # -- the wire --
    def greeting(self) -> bytes:
        return p.encode_hello(self.hello) if self.fmt == "abrasio" else b""

    def due_bytes(self) -> bytes:
        """Every sample due by now, framed (with any injected faults applied)."""
        now = self._clock()
        with self._lock:
            if now < self._stall_until:
                return b""
            if self._stall_until:  # the stall is over: carry on from now, no catching up
                self._stall_offset = now - self._t0 - self.seq / self.rate
                self._stall_until = 0.0
            due = int((now - self._t0 - self._stall_offset) * self.rate) - self.seq
            out = bytearray(self._garbage)
            self._garbage = b""
            model = self.model
            for _ in range(max(due, 0)):
                vac, pump, contact = model.step()
                seq = self.seq
                self.seq += 1
                if self._drop:
                    self._drop -= 1
                    continue
                t_us = int((self._t0 + self._stall_offset + seq / self.rate) * 1e6)
                if self.fmt == "text":
                    out += f"vacuum:{from_kpa(vac, self.text_unit):.2f}\r\n".encode()
                else:
                    fr = p.encode_sample(seq, t_us, vac, pump, contact, model.mode, model.crystal_flow)
                    if self._corrupt:
                        self._corrupt -= 1
                        fr = bytearray(fr)
                        fr[8] ^= 0x5A
                        fr = bytes(fr)
                    out += fr
                self.sent += 1
            return bytes(out)

    def receive(self, data: bytes) -> bytes:
        """Host → device bytes; returns the reply bytes (acks, hello)."""
        reply = bytearray()
        for item in self._decoder.feed(data):
            if isinstance(item, p.Command):
                reply += self._execute(item)
        return bytes(reply)

    def _execute(self, cmd: p.Command) -> bytes:
        status, value = p.ACK_OK, cmd.value
        with self._lock:
            if cmd.opcode == p.OP_SET_POINT:
                if 0 <= cmd.value <= p.VACUUM_MAX_KPA * 100:
                    self.model.set_point = cmd.value / 100.0
                else:
                    status, value = p.ACK_OUT_OF_RANGE, round(self.model.set_point * 100)
            elif cmd.opcode == p.OP_PUMP:
                self.model.pump = bool(cmd.value)
                value = int(self.model.pump)
            elif cmd.opcode != p.OP_HELLO:
                status = p.ACK_UNKNOWN
        ack = p.encode_ack(p.Ack(cmd.command_id, cmd.opcode, status, value))
        return (self.greeting() if cmd.opcode == p.OP_HELLO else b"") + ack


class PtySimulator:
    """Serve a SimulatedHandpiece on a pseudo-terminal, from a thread of this process.

    ``path`` is the port to open (``/dev/pts/N``); with ``link`` a symlink to it is kept there, so a
    restarted simulator reappears at the same path. ``disconnect()`` closes the pty as pulling the
    cable would.
    """

    def __init__(self, device: SimulatedHandpiece, link: str | None = None, tick: float = 0.002):
        if os.name != "posix":
            raise OSError("pseudo-terminals need a POSIX system; use the sim:// port instead")
        import tty

        self.device = device
        self.link = link
        self._tick = tick
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.tx_dropped = 0  # bytes the pty would not take (nobody reading): a real UART loses them too
        self._pending = b""
        if link:
            tmp = f"{link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.path, tmp)
            os.replace(tmp, link)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-simulator", daemon=True)

    @property
    def port(self) -> str:
        return self.link or self.path

    def start(self) -> PtySimulator:
        self._pending = self.device.greeting()
        self._thread.start()
        return self

    def _write(self, data: bytes) -> None:
        data = self._pending + data
        self._pending = b""
        if not data:
            return
        try:
            n = os.write(self._master, data)
        except BlockingIOError:
            n = 0
        if n < len(data):
            self.tx_dropped += len(data) - n

    def _run(self) -> None:
        dev = self.device
        while not self._stop.is_set():
            try:
                self._write(dev.due_bytes())
                ready, _, _ = select.select([self._master], [], [], self._tick)
                if ready:
                    try:
                        data = os.read(self._master, 4096)
                    except (BlockingIOError, OSError):
                        data = b""
                    if data:
                        self._write(dev.receive(data))
            except OSError:
                if self._stop.is_set():
                    return
                raise

    def disconnect(self) -> None:
        """Close the pty mid-stream (as pulling the USB cable would); the link path stays."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(1.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1

    def close(self) -> None:
        self.disconnect()
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == self.path:
            with contextlib.suppress(OSError):
                os.unlink(self.link)

    def __enter__(self) -> PtySimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


CONTROL_HELP = """commands on standard input, one per line:
  glide | hold | lift | pump_fault          what the tip does (until the next command)
  surge KPA [SECONDS]                       suction surge to KPA
  garbage N | corrupt N | drop N            inject N garbage bytes / corrupted / dropped frames
  stall SECONDS                             the device stops sending for a while
  disconnect                                close the pty (the process ends)"""


def control(device: SimulatedHandpiece, line: str) -> str:
    """Apply one control line; return a short reply (or raise ValueError)."""
    words = line.split()
    if not words:
        return ""
    cmd, args = words[0].lower(), [float(a) for a in words[1:]]
    if cmd in ("glide", "hold", "lift", "pump_fault"):
        device.scenario(cmd, *(args[:1] or [math.inf]))
    elif cmd == "surge":
        device.surge(args[0], *(args[1:2] or [math.inf]))
    elif cmd == "garbage":
        device.inject_garbage(int(args[0]))
    elif cmd == "corrupt":
        device.corrupt_frames(int(args[0]))
    elif cmd == "drop":
        device.drop_frames(int(args[0]))
    elif cmd == "stall":
        device.stall(args[0])
    else:
        raise ValueError(f"unknown command {cmd!r}")
    return f"ok {line.strip()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m device.simulator",
        description="Simulated microdermabrasion handpiece on a pseudo-terminal.",
        epilog=CONTROL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--rate", type=float, default=200.0, help="samples a second (10-2000)")
    ap.add_argument("--format", choices=("abrasio", "text"), default="abrasio")
    ap.add_argument("--unit", default="kPa", help="unit of the numbers in --format text")
    ap.add_argument("--link", help="keep a symlink to the port at this path")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--auto", action="store_true", help="demo cycle: glide, lift, glide …")
    ap.add_argument("--set-point", type=float, default=30.0, help="initial set-point, kPa")
    args = ap.parse_args(argv)
    try:
        device = SimulatedHandpiece(args.rate, args.format, args.seed, args.auto, args.unit)
    except ValueError as exc:
        ap.error(str(exc))
    device.model.set_point = args.set_point
    sim = PtySimulator(device, link=args.link).start()
    print(sim.port, flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "disconnect":
                break
            try:
                print(control(device, line), flush=True)
            except (ValueError, IndexError) as exc:
                print(f"error: {exc}", flush=True)
        else:
            # stdin closed (e.g. started in the background): run until interrupted
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
