"""The Abrasio handpiece protocol: frames, CRC, and a streaming decoder that resyncs.

See ``device/PROTOCOL.md`` for the byte layout. Every frame is::

    A5 5A | type u8 | len u8 | payload (len bytes) | CRC-16/CCITT-FALSE u16 big-endian

The CRC covers type, len and payload. All multi-byte payload fields are little-endian.
"""

from __future__ import annotations

import struct
import time
from binascii import crc_hqx
from dataclasses import dataclass, field
from typing import NamedTuple

SYNC = b"\xa5\x5a"
HEADER = 4  # sync(2) + type + len
TRAILER = 2  # CRC

T_SAMPLE = 0x01
T_HELLO = 0x02
T_COMMAND = 0x10
T_ACK = 0x11

OP_SET_POINT = 0x01  # value: set-point in 0.01 kPa
OP_PUMP = 0x02  # value: 0 off, 1 on
OP_HELLO = 0x03  # value ignored; the device answers with a HELLO frame and an ACK

ACK_OK = 0
ACK_OUT_OF_RANGE = 1
ACK_UNKNOWN = 2

MODE_DIAMOND = 0
MODE_CRYSTAL = 1

FLAG_PUMP = 0x01
FLAG_CONTACT = 0x02
FLAG_CRYSTAL = 0x04

VACUUM_MAX_KPA = 90.0
SEQ_MOD = 1 << 32
TIME_MOD = 1 << 32  # device time in microseconds, wraps every 71.6 minutes; the decoder unwraps it

_SAMPLE = struct.Struct("<IIHBB")  # seq, t_us, vacuum (0.01 kPa), flags, crystal flow %
_COMMAND = struct.Struct("<BBi")  # command id, opcode, value
_ACK = struct.Struct("<BBBi")  # command id, opcode, status, applied value
_CRC = struct.Struct(">H")
_HELLO_FIXED = struct.Struct("<BH")  # protocol version, nominal sample rate (Hz)
PROTOCOL_VERSION = 1

# Exact payload length per type, or the maximum for variable-length frames (HELLO).
_PAYLOAD_LEN = {T_SAMPLE: _SAMPLE.size, T_COMMAND: _COMMAND.size, T_ACK: _ACK.size}
_HELLO_MAX = 3 + 3 * 33
SAMPLE_FRAME_SIZE = HEADER + _SAMPLE.size + TRAILER
MAX_FRAME = HEADER + _HELLO_MAX + TRAILER


class Sample(NamedTuple):
    """One vacuum reading as the host sees it."""

    seq: int  # device sequence number (text sensors: the host's line count)
    device_time: float  # seconds, device clock, unwrapped
    host_time: float  # seconds, time.monotonic() when the reader decoded it
    vacuum_kpa: float  # kPa below ambient
    pump: bool
    contact: bool  # tip sealed on skin
    mode: int  # MODE_DIAMOND or MODE_CRYSTAL
    crystal_flow: int  # % (0 for diamond)


@dataclass(frozen=True)
class Hello:
    model: str
    serial: str
    firmware: str
    rate_hz: int
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Command:
    command_id: int
    opcode: int
    value: int


@dataclass(frozen=True)
class Ack:
    command_id: int
    opcode: int
    status: int
    value: int

    @property
    def ok(self) -> bool:
        return self.status == ACK_OK


def frame(ftype: int, payload: bytes) -> bytes:
    body = bytes((ftype, len(payload))) + payload
    return SYNC + body + _CRC.pack(crc_hqx(body, 0xFFFF))


def encode_sample(
    seq: int,
    t_us: int,
    vacuum_kpa: float,
    pump: bool = True,
    contact: bool = True,
    mode: int = MODE_DIAMOND,
    crystal_flow: int = 0,
) -> bytes:
    centi = min(max(round(vacuum_kpa * 100), 0), round(VACUUM_MAX_KPA * 100))
    flags = (FLAG_PUMP if pump else 0) | (FLAG_CONTACT if contact else 0)
    flags |= FLAG_CRYSTAL if mode == MODE_CRYSTAL else 0
    payload = _SAMPLE.pack(seq % SEQ_MOD, t_us % TIME_MOD, centi, flags, crystal_flow)
    return frame(T_SAMPLE, payload)


def _pack_str(text: str) -> bytes:
    raw = text.encode("utf-8")[:32]
    return bytes((len(raw),)) + raw


def encode_hello(hello: Hello) -> bytes:
    payload = _HELLO_FIXED.pack(hello.protocol_version, hello.rate_hz)
    payload += _pack_str(hello.model) + _pack_str(hello.serial) + _pack_str(hello.firmware)
    return frame(T_HELLO, payload)


def encode_command(command: Command) -> bytes:
    return frame(T_COMMAND, _COMMAND.pack(command.command_id, command.opcode, command.value))


def encode_ack(ack: Ack) -> bytes:
    return frame(T_ACK, _ACK.pack(ack.command_id, ack.opcode, ack.status, ack.value))


def _decode_hello(payload: bytes) -> Hello:
    version, rate = _HELLO_FIXED.unpack_from(payload, 0)
    pos = _HELLO_FIXED.size
    texts = []
    for _ in range(3):
        n = payload[pos]
        texts.append(payload[pos + 1 : pos + 1 + n].decode("utf-8", "replace"))
        pos += 1 + n
    if pos != len(payload):
        raise ValueError("hello length mismatch")
    return Hello(texts[0], texts[1], texts[2], rate, version)


@dataclass
class DecoderStats:
    frames: int = 0  # good frames of any type
    samples: int = 0
    crc_failures: int = 0
    resyncs: int = 0  # times the decoder lost the frame boundary and found it again
    bytes_skipped: int = 0
    seq_gaps: int = 0  # gaps seen
    frames_lost: int = 0  # samples missing according to the sequence numbers
    device_restarts: int = 0  # sequence went backwards (device reset): not counted as loss
    bad_frames: int = 0  # CRC good but payload malformed / unknown type
    extra: dict = field(default_factory=dict)


class FrameDecoder:
    """Feed bytes in any chunking; get Samples, Hellos, Acks and Commands out, in order.

    Garbage is skipped one byte at a time until a sync pattern whose length and CRC check out,
    so the next good frame is found within one frame's length of the end of any garbage.
    """

    def __init__(self, clock=time.monotonic):
        self._buf = bytearray()
        self._clock = clock
        self.stats = DecoderStats()
        self._last_seq: int | None = None
        self._last_t: int | None = None
        self._t_epoch = 0  # added to unwrap device time
        self._in_sync = True

    def reset_sequence(self) -> None:
        """Forget the last sequence number (after a reconnect or a HELLO)."""
        self._last_seq = None
        self._last_t = None
        self._t_epoch = 0

    def feed(self, data: bytes) -> list:
        buf = self._buf
        buf += data
        out: list = []
        stats = self.stats
        pos = 0
        n = len(buf)
        now = self._clock()
        while True:
            start = buf.find(SYNC, pos)
            if start < 0:
                # keep a trailing A5 that may begin the next sync
                keep = 1 if n > pos and buf[-1] == 0xA5 else 0
                skipped = n - pos - keep
                if skipped > 0:
                    self._skip(skipped)
                pos = n - keep
                break
            if start > pos:
                self._skip(start - pos)
            pos = start
            if n - pos < HEADER:
                break
            ftype = buf[pos + 2]
            length = buf[pos + 3]
            expected = _PAYLOAD_LEN.get(ftype)
            if (expected is not None and length != expected) or (
                expected is None and (ftype != T_HELLO or length > _HELLO_MAX)
            ):
                self._skip(1)
                pos += 1
                continue
            end = pos + HEADER + length + TRAILER
            if end > n:
                break
            body_end = end - TRAILER
            if crc_hqx(buf[pos + 2 : body_end], 0xFFFF) != (buf[body_end] << 8 | buf[body_end + 1]):
                stats.crc_failures += 1
                self._skip(1)
                pos += 1
                continue
            if not self._in_sync:
                self._in_sync = True
                stats.resyncs += 1
            stats.frames += 1
            if ftype == T_SAMPLE:
                seq, t_us, centi, flags, flow = _SAMPLE.unpack_from(buf, pos + HEADER)
                out.append(self._sample(seq, t_us, centi, flags, flow, now))
            else:
                try:
                    out.append(self._other(ftype, bytes(buf[pos + HEADER : body_end])))
                except (ValueError, IndexError, struct.error):
                    stats.bad_frames += 1
            pos = end
        del buf[:pos]
        return out

    def _skip(self, count: int) -> None:
        self.stats.bytes_skipped += count
        self._in_sync = False

    def _sample(self, seq, t_us, centi, flags, flow, now) -> Sample:
        stats = self.stats
        stats.samples += 1
        last = self._last_seq
        if last is not None:
            step = (seq - last) % SEQ_MOD
            if step == 0 or step > SEQ_MOD // 2:
                stats.device_restarts += 1
                self._t_epoch = 0
                self._last_t = None
            elif step > 1:
                stats.seq_gaps += 1
                stats.frames_lost += step - 1
        self._last_seq = seq
        if self._last_t is not None and t_us < self._last_t:
            self._t_epoch += TIME_MOD
        self._last_t = t_us
        return Sample(
            seq,
            (self._t_epoch + t_us) / 1e6,
            now,
            centi / 100.0,
            bool(flags & FLAG_PUMP),
            bool(flags & FLAG_CONTACT),
            MODE_CRYSTAL if flags & FLAG_CRYSTAL else MODE_DIAMOND,
            flow,
        )

    def _other(self, ftype: int, payload: bytes):
        if ftype == T_HELLO:
            self.reset_sequence()
            return _decode_hello(payload)
        if ftype == T_ACK:
            return Ack(*_ACK.unpack(payload))
        return Command(*_COMMAND.unpack(payload))
