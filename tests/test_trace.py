"""Trace blocks: exact round trips (restarts, wraps, gaps), and damaged blocks refused in words."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from desktop.records import Client
from desktop.store import DatabaseFileError
from desktop.store import trace as tr


def block(seq, t=None, v=None, flags=None):
    seq = np.asarray(seq, dtype=np.int64)
    n = len(seq)
    t = np.arange(n) / 1000.0 + 12.5 if t is None else np.asarray(t)
    v = np.linspace(0, 89.99, n) if v is None else np.asarray(v)
    flags = np.full(n, 3, np.uint8) if flags is None else np.asarray(flags, np.uint8)
    return tr.pack(seq, t, v, flags), (seq, t, v, flags)


def round_trip(seq, **kw):
    b, (seq, t, v, flags) = block(seq, **kw)
    s2, t2, v2, f2 = tr.unpack(b.t0, b.seq0, b.data)
    assert s2.tolist() == seq.tolist()
    # to the format's resolution (half a microsecond, exact hundredths), not numpy's default rtol
    assert np.allclose(t2, t, rtol=0, atol=5e-7) and np.allclose(v2, np.round(v, 2), rtol=0, atol=1e-9)
    assert f2.tolist() == flags.tolist()
    return b


def test_a_device_restart_inside_a_block_round_trips_exactly():
    round_trip([100, 101, 102, 0, 1, 2])


@pytest.mark.parametrize(
    "seq",
    [
        [2**32 - 2, 2**32 - 1, 0, 1],  # the counter wraps
        [5, 6, 50, 51],  # a gap of lost samples
        [2**32 - 1, 7, 8, 2**32 - 3],  # restarts both ways
        [0],
        [3_000_000_000, 3_000_000_001, 10],
    ],
)
def test_sequences_round_trip(seq):
    round_trip(seq)


def test_block_header_values():
    b = round_trip([7, 8, 9], v=[1.0, 31.25, 2.0])
    assert (b.seq0, b.n, b.vmax, b.t0) == (7, 3, 31.25, 12.5)
    assert b.data[0] == tr.FORMAT


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "only 0 bytes"),
        (b"\x01\x03\x00", "only 3 bytes"),
        (struct.pack("<BI", 9, 3) + zlib.compress(b"x" * 33), "format 9 is not known"),
        (struct.pack("<BI", 1, 3) + b"not zlib at all", "damaged"),
        (struct.pack("<BI", 1, 4) + zlib.compress(b"x" * 33), "wrong length"),
    ],
)
def test_short_damaged_or_unknown_blocks_are_refused_in_words(data, words):
    with pytest.raises(tr.DamagedBlockError, match=words):
        tr.unpack(0.0, 0, data)


def test_a_truncated_block_is_refused():
    b, _ = block(range(1000))
    with pytest.raises(tr.DamagedBlockError):
        tr.unpack(b.t0, b.seq0, b.data[: len(b.data) // 2])


def test_a_damaged_stored_block_is_a_clear_store_error(store):
    cid = store.add_client(Client("Trace", "Damage"))
    sid = store.create_session(cid, "t")
    good, _ = block(range(10))
    store.append_trace(sid, 0, [good, good])
    store.conn.execute("UPDATE vacuum_trace_chunks SET data = ? WHERE chunk = 1", [b"\x01\x02"])
    store.conn.commit()
    with pytest.raises(DatabaseFileError, match="Part of this session's trace is damaged"):
        store.load_trace(sid)


def test_times_far_into_a_block_come_back_to_the_microsecond():
    """Catches a wrong microseconds-to-seconds factor in unpack: invisible over 5 ms, ~30 µs off
    after 30 s (a block may span a stalled link's batch)."""
    round_trip([1, 2, 3, 4], t=[100.0, 100.5, 115.25, 130.000001])


def test_unpacked_arrays_have_the_store_types():
    """Catches sequence numbers handed back as floats (and other dtype slips): the store and the
    replay index with them and compare them with the device's integers."""
    b, _ = block([2**32 - 1, 0, 1])
    seq, t, v, flags = tr.unpack(b.t0, b.seq0, b.data)
    assert seq.dtype == np.int64 and t.dtype == np.float64 and v.dtype == np.float64
    assert flags.dtype == np.uint8
    assert seq.tolist() == [2**32 - 1, 0, 1]


def test_a_block_of_the_wrong_length_says_so_exactly():
    """Catches a garbled message: the words reach the log and the user's error dialog."""
    data = struct.pack("<BI", 1, 4) + zlib.compress(b"x" * 33)
    with pytest.raises(tr.DamagedBlockError) as err:
        tr.unpack(0.0, 0, data)
    assert str(err.value) == "trace block is damaged (wrong length)"


def test_flags_given_as_plain_integers_are_stored_one_byte_each():
    """Catches flags packed in their given width (8 bytes for a list of ints): the block would be
    refused as damaged when the session is opened again."""
    b = tr.pack(np.array([1, 2, 3]), np.array([0.0, 0.001, 0.002]), np.array([20.0, 21.0, 22.0]), [3, 1, 7])
    assert tr.unpack(b.t0, b.seq0, b.data)[3].tolist() == [3, 1, 7]
