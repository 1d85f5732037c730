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
