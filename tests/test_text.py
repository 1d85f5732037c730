import pytest

from device.text import TextDecoder


def values(dec, *chunks):
    out = []
    for c in chunks:
        out += dec.feed(c)
    return [round(s.vacuum_kpa, 4) for s in out]


def test_bare_numbers_with_crlf_blank_lines_and_partial_lines():
    dec = TextDecoder()
    assert values(dec, b"23.4\r\n\r\n24", b".5\n", b"\n25\r", b"26\r\n") == [23.4, 24.5, 25.0, 26.0]
    assert dec.stats.lines_skipped == 0 and dec.stats.samples == 4


@pytest.mark.parametrize(
    "line",
    [
        b"vacuum:23.4",
        b"t:12 vacuum:23.4",
        b"t:12,vacuum:23.4",
        b"temp:30\tvacuum:23.4",
        b"VACUUM:23.4;pump:1",
        b"vacuum:-23.4",
    ],
)
def test_serial_plotter_labels(line):
    assert values(TextDecoder(), line + b"\n") == [23.4]


def test_units_and_custom_label():
    dec = TextDecoder(unit="mmHg", label="p")
    assert values(dec, b"p:225\nq:1\n") == [round(225 * 0.133322387415, 4)]
    assert dec.stats.lines_skipped == 1


def test_lines_that_are_not_readings_are_counted_and_skipped():
    dec = TextDecoder()
    got = values(dec, b"hello\nvac=3\n\xff\xfe\n12.0\nvacuum:abc\n1e9\n")
    assert got == [12.0]
    assert dec.stats.lines_skipped == 5


def test_endless_line_is_dropped_not_grown():
    dec = TextDecoder()
    for _ in range(100):
        dec.feed(b"9" * 100)
    assert len(dec._buf) <= 600
    assert values(dec, b"\n5\n") == [5.0]


def test_a_decimal_comma_reads_correctly():
    dec = TextDecoder()
    assert values(dec, b"23,4\n", b"vacuum:23,4 pump:1\n", b"t:12,vacuum:23,4\n", b",5\n") == [
        23.4,
        23.4,
        23.4,
        0.5,
    ]
    assert dec.stats.lines_skipped == 0


@pytest.mark.parametrize(
    "line",
    [b"1_0", b"nan", b"inf", b"-inf", b"23.4.5", b"23,4,5", b"0x1A", b"1e", b"+", b"vacuum:1_0", b"vacuum:"],
)
def test_malformed_numbers_are_refused_and_counted(line):
    dec = TextDecoder()
    assert values(dec, line + b"\n") == []
    assert dec.stats.lines_skipped == 1 and dec.stats.bytes_skipped == len(line)


def test_readings_outside_the_range_are_refused_never_truncated():
    dec = TextDecoder()
    assert values(dec, b"100\n100.01\n150\n200\n-0\n0\n") == [100.0, 0.0, 0.0]
    assert dec.stats.lines_skipped == 3
    # in the sensor's unit: 30 inHg is 101.6 kPa, out of range; 29 inHg is 98.2 kPa
    dec = TextDecoder(unit="inHg")
    assert values(dec, b"30\n29\n") == [round(29 * 3.386389, 4)]
    # a sensor configured for a smaller range
    dec = TextDecoder(max_kpa=50)
    assert values(dec, b"50\n50.5\n") == [50.0]
    assert dec.stats.lines_skipped == 1
    assert TextDecoder(max_kpa=500).max_kpa == 100.0  # never above what a vacuum can be


def test_carriage_returns_alone_end_lines():
    dec = TextDecoder()
    assert values(dec, b"25\r") == [25.0]
    assert values(dec, b"26\r27\r") == [26.0, 27.0]


def test_the_first_reading_is_number_one_and_counts_go_on():
    dec = TextDecoder()
    assert [s.seq for s in dec.feed(b"1\n2\n")] == [1, 2]
    assert [s.seq for s in TextDecoder(start_seq=10).feed(b"1\n")] == [11]


def test_a_line_up_to_the_limit_is_kept_and_longer_ones_add_up_as_skipped():
    from device.text import MAX_LINE

    dec = TextDecoder()
    dec.feed(b" " * (MAX_LINE - 2))
    assert values(dec, b"5\n") == [5.0]  # a line of exactly MAX_LINE bytes is still read
    dec.feed(b"9" * (MAX_LINE + 1))
    dec.feed(b"9" * (MAX_LINE + 1))
    assert dec.stats.bytes_skipped == 2 * (MAX_LINE + 1) and dec.stats.lines_skipped == 2


def test_a_malformed_vacuum_pair_refuses_the_line():
    dec = TextDecoder()
    assert values(dec, b"vacuum:1:2 vacuum:5\n") == []  # the first vacuum pair is not a number
    assert dec.stats.lines_skipped == 1


def test_a_text_reading_is_a_complete_sample_stamped_with_the_clock():
    """Catches: samples stamped without (or with a wrong) time, pump/contact reported off, the mode
    or crystal flow left unset: the live view and the recorder read every field of a Sample."""
    from device.protocol import MODE_DIAMOND, Sample

    ticks = iter([41.5, 42.25])
    dec = TextDecoder(clock=lambda: next(ticks))
    assert dec.feed(b"23.5\n") == [Sample(1, 41.5, 41.5, 23.5, True, True, MODE_DIAMOND, 0)]
    (s,) = dec.feed(b"vacuum:7\n")
    assert (s.seq, s.device_time, s.host_time) == (2, 42.25, 42.25)
    assert s.pump is True and s.contact is True and s.mode == 0 and s.crystal_flow == 0


def test_line_and_skip_counts_add_up_over_many_lines():
    """Catches: a line count that is overwritten or decremented, and skipped bytes overwritten
    rather than added (the connection panel shows these counts)."""
    dec = TextDecoder()
    dec.feed(b"1\n2\nabc\n3\nxy\n\n")
    assert (dec.stats.lines, dec.stats.samples, dec.stats.lines_skipped) == (5, 3, 2)
    assert dec.stats.bytes_skipped == len(b"abc") + len(b"xy")


def test_a_partial_line_of_exactly_the_limit_is_kept_until_its_newline():
    """Catches an off-by-one in the endless-line guard: MAX_LINE bytes without a newline yet are a
    line in progress, not garbage."""
    from device.text import MAX_LINE

    dec = TextDecoder()
    dec.feed(b" " * (MAX_LINE - 1) + b"5")
    assert dec.stats.lines_skipped == 0
    assert values(dec, b"\n") == [5.0]
