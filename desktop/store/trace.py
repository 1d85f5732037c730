"""Packing a vacuum trace compactly: one block per ~1 s of samples.

A block holds n samples as four arrays, each delta-coded (first differences, the first against the
block's ``seq0``/``t0``), byte-shuffled (all low bytes, then all high bytes…) and compressed with zlib:

    seq     uint32  seq[i] - seq[i-1]            (1, 1, 1 … : a gap shows as a larger step)
    t       int32   microseconds since the last  (steady ~1000 µs steps)
    vacuum  int16   0.01 kPa, first difference   (sensor noise: ~1 byte a sample, the real cost)
    flags   uint8   pump | contact<<1 | crystal<<2

One row per sample would cost ~40 bytes (rowid, keys, a REAL, page overhead) = ~140 MB an hour at
1,000 samples/s; a block costs ~1.5–2 bytes a sample (measured by benchmarks/: see its README), and
loading an hour back is 3,600 rows to decompress rather than 3.6 million to fetch.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

FORMAT = 1
SEQ_MOD = 1 << 32
_HEAD = struct.Struct("<BI")  # format, n


@dataclass
class TraceBlock:
    t0: float  # device time of the first sample, s
    seq0: int
    n: int
    vmax: float
    data: bytes


def _shuffle(a: np.ndarray) -> bytes:
    return a.view(np.uint8).reshape(len(a), a.itemsize).T.tobytes()


def _unshuffle(raw: bytes, dtype, n: int, offset: int) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    planes = np.frombuffer(raw, np.uint8, n * size, offset).reshape(size, n)
    return np.ascontiguousarray(planes.T).view(dtype).reshape(n)


def pack(seq: np.ndarray, t: np.ndarray, vacuum_kpa: np.ndarray, flags: np.ndarray) -> TraceBlock:
    n = len(seq)
    seq = np.asarray(seq, dtype=np.int64)
    t = np.asarray(t, dtype=np.float64)
    seq0, t0 = int(seq[0]), float(t[0])
    t_us = np.round((t - t0) * 1e6).astype(np.int64)
    centi = np.round(np.asarray(vacuum_kpa, dtype=np.float64) * 100).astype(np.int32)
    parts = (
        _shuffle(np.diff(seq - seq0, prepend=0).astype(np.uint32)),
        _shuffle(np.diff(t_us, prepend=0).astype(np.int32)),
        _shuffle(np.diff(centi, prepend=0).astype(np.int16)),
        np.asarray(flags, dtype=np.uint8).tobytes(),
    )
    data = _HEAD.pack(FORMAT, n) + zlib.compress(b"".join(parts), 6)
    return TraceBlock(t0, seq0, n, float(centi.max()) / 100.0, data)


class DamagedBlockError(ValueError):
    """A stored block that cannot be read back: short, damaged, or of a format this Abrasio lacks."""


def unpack(t0: float, seq0: int, data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The block's arrays, or DamagedBlockError saying what is wrong with it (never another error)."""
    if len(data) < _HEAD.size:
        raise DamagedBlockError(f"trace block is damaged (only {len(data)} bytes)")
    fmt, n = _HEAD.unpack_from(data)
    if fmt != FORMAT:
        raise DamagedBlockError(f"trace block format {fmt} is not known to this Abrasio")
    try:
        raw = zlib.decompress(data[_HEAD.size :])
    except zlib.error as exc:
        raise DamagedBlockError(f"trace block is damaged ({exc})") from None
    if len(raw) != n * 11:
        raise DamagedBlockError("trace block is damaged (wrong length)")
    # Sequence numbers are the device's u32 counter: sum the steps modulo 2**32, so a device restart
    # inside a block (100, 101, 102, 0, 1 …: a "negative" step) and a wrap both come back exactly.
    steps = _unshuffle(raw, np.uint32, n, 0)
    seq = (np.cumsum(steps, dtype=np.uint64) + np.uint64(seq0 % SEQ_MOD)) % np.uint64(SEQ_MOD)
    seq = seq.astype(np.int64)
    t = np.cumsum(_unshuffle(raw, np.int32, n, 4 * n), dtype=np.int64) / 1e6 + t0
    vac = np.cumsum(_unshuffle(raw, np.int16, n, 8 * n), dtype=np.int32) / 100.0
    flags = np.frombuffer(raw, np.uint8, n, 10 * n).copy()
    return seq, t, vac, flags
