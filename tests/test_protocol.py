"""Frames round-trip, and the decoder recovers every good frame from any damage around it."""

from __future__ import annotations

import itertools
from binascii import crc_hqx

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from device import protocol as p


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE written out bit by bit from PROTOCOL.md (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_frames_carry_the_documented_crc_big_endian():
    assert crc16_ccitt_false(b"123456789") == 0x29B1  # the check value PROTOCOL.md gives
    for fr in (
        p.encode_sample(7, 1_000_000, 31.25),
        p.encode_hello(p.Hello("M", "S", "F", 500)),
        p.encode_ack(p.Ack(1, 2, 0, -7)),
    ):
        assert int.from_bytes(fr[-2:], "big") == crc16_ccitt_false(fr[2:-2])


def test_a_frame_with_a_wrong_crc_is_counted_and_skipped():
    fr = bytearray(p.encode_sample(7, 1_000_000, 31.25))
    fr[-1] ^= 0x01
    out, stats = decode_all(bytes(fr) + p.encode_sample(8, 1_001_000, 31.0))
    assert [s.seq for s in out] == [8] and stats.crc_failures == 1 and stats.resyncs == 1


def test_a_hello_forgets_the_sequence():
    out, stats = decode_all(
        p.encode_sample(500, 0, 1.0)
        + p.encode_hello(p.Hello("M", "S", "F", 500))
        + p.encode_sample(3, 0, 1.0)
    )
    assert [type(x).__name__ for x in out] == ["Sample", "Hello", "Sample"]
    assert stats.device_restarts == 0 and stats.frames_lost == 0


def test_bad_hello_is_counted_not_raised():
    payload = bytes((1, 0xE8, 0x03, 5)) + b"AB"  # says 5 bytes of model, has 2
    out, stats = decode_all(p.frame(p.T_HELLO, payload) + p.encode_sample(1, 0, 1.0))
    assert [type(x).__name__ for x in out] == ["Sample"] and stats.bad_frames == 1


def decode_all(data: bytes, chunk: int = 7):
    dec = p.FrameDecoder(clock=lambda: 1.0)
    out = []
    for i in range(0, len(data), chunk):
        out += dec.feed(data[i : i + chunk])
    return out, dec.stats


def test_sample_round_trip():
    fr = p.encode_sample(7, 1_000_000, 31.25, pump=True, contact=False, mode=p.MODE_CRYSTAL, crystal_flow=60)
    assert fr.hex(" ").startswith("a5 5a 01 0c")
    (s,), stats = decode_all(fr)
    assert s == p.Sample(7, 1.0, 1.0, 31.25, True, False, p.MODE_CRYSTAL, 60)
    assert stats.frames == 1 and stats.bytes_skipped == 0


def test_sample_vacuum_is_clamped_to_the_wire_range():
    (s,), _ = decode_all(p.encode_sample(0, 0, 123.0))
    assert s.vacuum_kpa == 90.0


def test_hello_command_ack_round_trip():
    hello = p.Hello("Abrasio SIM-1", "SN-ÆØ-42", "1.4.2", 2000)
    cmd = p.Command(255, p.OP_SET_POINT, -5)
    ack = p.Ack(3, p.OP_PUMP, p.ACK_OUT_OF_RANGE, 1)
    out, _ = decode_all(p.encode_hello(hello) + p.encode_command(cmd) + p.encode_ack(ack), chunk=1)
    assert out == [hello, cmd, ack]
    assert not out[2].ok


def test_documented_example_bytes():
    assert p.encode_sample(7, 1_000_000, 31.25).hex(" ") == (
        "a5 5a 01 0c 07 00 00 00 40 42 0f 00 35 0c 03 00 ea f5"
    )


def test_device_time_unwraps_and_sequence_gaps_and_restarts():
    frames = [
        p.encode_sample(10, 2**32 - 500_000, 1.0),
        p.encode_sample(11, 500_000, 1.0),  # clock wrapped
        p.encode_sample(15, 600_000, 1.0),  # 3 lost
        p.encode_sample(0, 0, 1.0),  # device restarted
        p.encode_sample(1, 1000, 1.0),
    ]
    out, stats = decode_all(b"".join(frames))
    assert [round(s.device_time, 3) for s in out[:2]] == [4294.467, 4295.467]
    assert stats.seq_gaps == 1 and stats.frames_lost == 3 and stats.device_restarts == 1


# -- property: interleave damage with good frames --------------------------------------------

garbage = st.binary(min_size=1, max_size=60).map(lambda b: bytes(x for x in b if x != 0xA5) or b"\0")


@st.composite
def damaged_streams(draw):
    """A stream of good SAMPLE frames with garbage, truncated and corrupted frames between them."""
    seq = draw(st.integers(0, 2**32 - 1))
    parts: list[bytes] = []
    good: list[int] = []
    lost = 0
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["good", "good", "garbage", "truncated", "corrupted", "gap"]))
        if kind == "gap":
            gap = draw(st.integers(1, 50))
            if good:
                lost += gap
            seq = (seq + gap) % 2**32
            continue
        fr = p.encode_sample(seq, seq * 1000, draw(st.floats(0, 90)))
        if kind == "good":
            parts.append(fr)
            good.append(seq)
            seq = (seq + 1) % 2**32
        elif kind == "garbage":
            parts.append(draw(garbage))
        elif kind == "truncated":
            parts.append(fr[: draw(st.integers(1, len(fr) - 1))])
        else:
            i = draw(st.integers(2, len(fr) - 1))
            flip = draw(st.integers(1, 255))
            parts.append(fr[:i] + bytes((fr[i] ^ flip,)) + fr[i + 1 :])
    # a final good frame settles anything left half-read at the end
    parts.append(p.encode_sample(seq, seq * 1000, 1.0))
    good.append(seq)
    # Damage can, by chance, complete a truncated frame into one with a valid CRC (1 in 65,536, or
    # 1 in 256 when one byte is missing): that is a real frame on the wire, not a decoder error.
    starts, offset = set(), 0
    for part in parts:
        if len(part) == p.SAMPLE_FRAME_SIZE and part[:2] == p.SYNC and _valid(part):
            starts.add(offset)
        offset += len(part)
    data = b"".join(parts)
    assume(
        not any(
            _valid(data[i : i + p.SAMPLE_FRAME_SIZE])
            for i in range(len(data))
            if i not in starts and data[i : i + 2] == p.SYNC
        )
    )
    return parts, good, lost


def _valid(fr: bytes) -> bool:
    return len(fr) == p.SAMPLE_FRAME_SIZE and crc_hqx(fr[2:-2], 0xFFFF) == int.from_bytes(fr[-2:])


@settings(max_examples=300, deadline=None)
@given(damaged_streams(), st.integers(1, 40))
def test_every_good_frame_is_recovered_in_order(stream, chunk):
    parts, good, _ = stream
    data = b"".join(parts)
    out, stats = decode_all(data, chunk)
    assert [s.seq for s in out] == good
    assert stats.frames == len(good)
    good_bytes = len(good) * p.SAMPLE_FRAME_SIZE
    assert stats.bytes_skipped == len(data) - good_bytes


@settings(max_examples=200, deadline=None)
@given(damaged_streams())
def test_statistics_count_losses_and_damage(stream):
    parts, good, _ = stream
    _out, stats = decode_all(b"".join(parts), chunk=5)
    steps = [(b - a) % 2**32 for a, b in itertools.pairwise(good)]
    assert stats.frames_lost == sum(s - 1 for s in steps if s > 1)
    assert stats.seq_gaps == sum(1 for s in steps if s > 1)
    damaged = any(not _valid(x) for x in parts)
    assert (stats.bytes_skipped > 0) == damaged
    assert (stats.resyncs > 0) == damaged


@given(st.binary(max_size=2000))
def test_pure_garbage_never_raises(data):
    dec = p.FrameDecoder()
    for i in range(0, len(data), 13):
        dec.feed(data[i : i + 13])
    assert dec.stats.bytes_skipped <= len(data)


def test_hello_fields_round_trip_including_the_version_and_damaged_text():
    hello = p.Hello("M" * 40, "Ü" * 20, "1", 1000, protocol_version=2)
    (out,), _ = decode_all(p.encode_hello(hello))
    assert out.model == "M" * 32 and out.protocol_version == 2 and out.rate_hz == 1000
    assert out.serial.encode("utf-8") == ("Ü" * 16).encode("utf-8")  # cut at 32 bytes
    payload = bytes((1, 0xE8, 0x03, 2)) + b"\xff\xfe" + bytes((1,)) + b"S" + bytes((1,)) + b"F"
    (bad,), stats = decode_all(p.frame(p.T_HELLO, payload))
    assert bad.model == "\ufffd\ufffd" and stats.bad_frames == 0  # damaged text is replaced, not fatal


def test_a_hello_forgets_the_unwrapped_device_time():
    frames = [p.encode_sample(1, 2**32 - 1000, 1.0), p.encode_sample(2, 500, 1.0)]  # wraps
    frames += [p.encode_hello(p.Hello("M", "S", "F", 500)), p.encode_sample(3, 1_000_000, 1.0)]
    out, _ = decode_all(b"".join(frames))
    assert out[1].device_time > 4294 and out[3].device_time == 1.0


def test_a_diamond_sample_with_the_pump_off_and_the_tip_on_round_trips():
    """Catches flags decoded with | instead of & (pump always on, mode always crystal) and a contact
    flag that is lost: the live view's contact time and the dwell alarm read it."""
    (s,), stats = decode_all(p.encode_sample(9, 2_000, 12.5, pump=False, contact=True))
    assert s == p.Sample(9, 0.002, 1.0, 12.5, False, True, p.MODE_DIAMOND, 0)
    assert stats.samples == 1


def test_sample_and_restart_counts_add_up():
    """Catches the samples and restart counters being overwritten or miscounted."""
    frames = [p.encode_sample(s, s * 1000, 1.0) for s in (5, 6, 7)]
    frames += [p.encode_sample(0, 0, 1.0), p.encode_sample(1, 1000, 1.0)]  # a restart
    frames += [p.encode_sample(0, 0, 1.0)]  # and another
    _out, stats = decode_all(b"".join(frames))
    assert stats.samples == 6 and stats.device_restarts == 2 and stats.frames_lost == 0


def test_a_jump_of_up_to_half_the_counter_is_loss_and_beyond_it_a_restart():
    """Catches a moved boundary between 'samples were lost' and 'the device restarted' (half of the
    32-bit counter: a forward step of 2**31 is loss, anything further round is a step backwards)."""
    for step, lost, restarts in ((2**31 - 1, 2**31 - 2, 0), (2**31, 2**31 - 1, 0), (2**31 + 1, 0, 1)):
        _out, stats = decode_all(p.encode_sample(10, 0, 1.0) + p.encode_sample(10 + step, 1000, 1.0))
        assert (stats.frames_lost, stats.device_restarts) == (lost, restarts), step


def test_device_time_unwraps_every_wrap_and_a_restart_starts_it_from_zero():
    """Catches an unwrap that forgets earlier wraps (= instead of +=), a sample with the same
    microsecond taken for a wrap, and a restart that does not start the device clock afresh."""
    half = 2**31
    frames = [
        p.encode_sample(1, 0, 1.0),
        p.encode_sample(2, half, 1.0),
        p.encode_sample(3, 0, 1.0),  # wrapped once
        p.encode_sample(4, half, 1.0),
        p.encode_sample(5, 10, 1.0),  # wrapped twice
        p.encode_sample(6, 10, 1.0),  # the same microsecond: not a wrap
        p.encode_sample(0, 2_000_000, 1.0),  # the device restarted: its clock starts afresh
    ]
    out, _ = decode_all(b"".join(frames))
    assert [s.device_time for s in out] == [
        0.0,
        half / 1e6,
        2**32 / 1e6,
        (2**32 + half) / 1e6,
        (2 * 2**32 + 10) / 1e6,
        (2 * 2**32 + 10) / 1e6,
        2.0,
    ]


def test_a_hello_of_the_largest_size_is_read():
    """Catches an off-by-one in the HELLO length check: three 32-byte texts are the documented
    maximum, and such a device would never be identified (its samples held out of the session)."""
    hello = p.Hello("M" * 32, "S" * 32, "F" * 32, 2000)
    fr = p.encode_hello(hello)
    assert fr[3] == 3 + 3 * 33
    (out,), stats = decode_all(fr)
    assert out == hello and stats.bad_frames == 0


def test_a_complete_header_that_is_not_a_frame_is_skipped_at_once():
    """Catches a decoder that waits for more bytes behind a header it could already refuse: the link's
    damage counters would lag behind the line."""
    dec = p.FrameDecoder(clock=lambda: 1.0)
    assert dec.feed(b"\xa5\x5a\xff\x00") == []
    assert dec.stats.bytes_skipped == 4


def test_zero_and_negative_vacuum_encode_as_zero_and_the_flags_can_all_be_off():
    """Catches the encoder's clamp floor moved off zero and a flag set when it is off: the simulator
    and the replay tools encode through it."""
    out, _ = decode_all(
        p.encode_sample(1, 0, 0.0, pump=False, contact=False) + p.encode_sample(2, 1000, -3.0, pump=False)
    )
    assert [(s.vacuum_kpa, s.pump, s.contact, s.mode) for s in out] == [
        (0.0, False, False, p.MODE_DIAMOND),
        (0.0, False, True, p.MODE_DIAMOND),
    ]


def test_damage_counters_add_up_over_separate_damage_and_one_resync_each():
    """Catches counters overwritten instead of added (CRC failures, resyncs, bad frames), and a
    resync counted again on every good frame after it."""
    bad_crc = bytearray(p.encode_sample(1, 0, 1.0))
    bad_crc[-1] ^= 0x01
    bad_hello = p.frame(p.T_HELLO, bytes((1, 0xE8, 0x03, 5)) + b"AB")
    good = [p.encode_sample(s, s * 1000, 1.0) for s in range(2, 9)]
    data = bytes(bad_crc) + good[0] + good[1] + bytes(bad_crc) + good[2] + good[3] + good[4]
    data += bad_hello + good[5] + bad_hello + good[6]
    out, stats = decode_all(data)
    assert [s.seq for s in out] == [2, 3, 4, 5, 6, 7, 8]
    assert (stats.crc_failures, stats.resyncs, stats.bad_frames) == (2, 2, 2)
