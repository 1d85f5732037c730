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

# Pairs are separated by spaces, tabs, semicolons, or a comma followed by the next label (a name
# starting with a letter, then a colon): in "t:12,vacuum:23,4" the second comma is a decimal comma.
_SPLIT = re.compile(r"[ \t;]+|,(?=\s*[A-Za-z_][^,:\s]*:)")
# A reading: digits with at most one decimal point or comma, an optional sign and exponent. Not
# Python's float(): it takes "1_0", "nan" and "inf".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
MAX_LINE = 512  # a "line" longer than this without a newline is garbage; it is dropped
MAX_KPA = 100.0  # no handpiece vacuum reads more than 100 kPa below ambient (that is a vacuum)


@dataclass
class TextStats:
    lines: int = 0
    samples: int = 0
    lines_skipped: int = 0
    bytes_skipped: int = 0


class TextDecoder:
    def __init__(
        self,
        unit: str = "kPa",
        label: str = "vacuum",
        clock=time.monotonic,
        start_seq: int = 0,
        max_kpa: float = MAX_KPA,
    ):
        self.unit = check_unit(unit)
        self.max_kpa = min(max_kpa, MAX_KPA)
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
            if value is None or not (0.0 <= value <= self.max_kpa):
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
            return self._number(text)
        for part in _SPLIT.split(text):
            label, sep, value = part.partition(":")
            if sep and label.strip().lower() == self.label:
                return self._number(value.strip())
        return None

    def _number(self, text: str) -> float | None:
        """kPa (a negative gauge reading as its magnitude), or None for anything that is not a number."""
        if not _NUMBER.fullmatch(text):
            return None
        return abs(float(text.replace(",", "."))) * self._factor
