"""Plain-text sensors: a bare number per line, or Arduino Serial Plotter style ``label:value`` pairs.

Examples of lines that are readings: ``23.4``, ``vacuum:23.4``, ``vacuum:23.4 pump:1``,
``t:12,vacuum:23.4``, ``vacuum:23.4\ttemp:30``. Which label is the vacuum, and the unit of the
numbers, are settings. Anything else is counted as a skipped line and never raises.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from device.protocol import MODE_DIAMOND, Sample
from device.units import check_unit, to_kpa

_SPLIT = re.compile(r"[ ,\t;]+")
MAX_LINE = 512  # a "line" longer than this without a newline is garbage; it is dropped


@dataclass
class TextStats:
    lines: int = 0
    samples: int = 0
    lines_skipped: int = 0
    bytes_skipped: int = 0


class TextDecoder:
    def __init__(self, unit: str = "kPa", label: str = "vacuum", clock=time.monotonic, start_seq: int = 0):
        self.unit = check_unit(unit)
        self.label = label.strip().lower()
        self._factor = to_kpa(1.0, self.unit)
        self._buf = bytearray()
        self._clock = clock
        self._seq = start_seq
        self.stats = TextStats()

    def reset_sequence(self) -> None:
        """Text sensors carry no sequence numbers; nothing to forget."""

    def feed(self, data: bytes) -> list[Sample]:
        self._buf += data
        out: list[Sample] = []
        if b"\n" not in data and b"\r" not in data:
            if len(self._buf) > MAX_LINE:
                self.stats.bytes_skipped += len(self._buf)
                self.stats.lines_skipped += 1
                self._buf.clear()
            return out
        *lines, rest = re.split(rb"\r\n|\r|\n", bytes(self._buf))
        self._buf = bytearray(rest)
        now = self._clock()
        for raw in lines:
            if not raw.strip():
                continue  # blank lines are not readings and not errors
            self.stats.lines += 1
            value = self._parse(raw)
            if value is None or not (0.0 <= value <= 200.0):
                self.stats.lines_skipped += 1
                self.stats.bytes_skipped += len(raw)
                continue
            self.stats.samples += 1
            self._seq += 1
            out.append(Sample(self._seq, now, now, value, True, True, MODE_DIAMOND, 0))
        return out

    def _parse(self, raw: bytes) -> float | None:
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            return None
        if ":" not in text:
            try:
                return abs(float(text)) * self._factor
            except ValueError:
                return None
        for part in _SPLIT.split(text):
            label, sep, value = part.partition(":")
            if sep and label.strip().lower() == self.label:
                try:
                    return abs(float(value)) * self._factor
                except ValueError:
                    return None
        return None
