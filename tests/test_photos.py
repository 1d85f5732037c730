"""The photo pipeline: orientation applied, every metadata segment gone, bad files refused in words."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from desktop.photos import (
    MAX_PIXELS,
    STORE_EDGE,
    THUMB_EDGE,
    PhotoError,
    decode_stored,
    jpeg_segments,
    metadata_segments,
    prepare_photo,
)
from tests.helpers.photos import SECRET, claim_size, two_colour, with_metadata


def _colour(image: QImage, x: int, y: int) -> str:
    c = image.pixelColor(x, y)
    if c.red() > 180 and c.blue() < 80:
        return "red"
    if c.blue() > 180 and c.red() < 80:
        return "blue"
    return c.name()


def test_the_hand_built_file_really_carries_the_metadata(qapp):
    raw = with_metadata(two_colour())
    found = metadata_segments(raw)
    assert [f.split()[0] for f in found] == ["APP1", "APP1", "APP2", "APP13", "COM"]
    assert SECRET in raw
    assert QImage.fromData(raw).width() == 96  # still a readable JPEG


def test_gps_and_every_other_metadata_segment_are_removed(qapp):
    photo = prepare_photo(with_metadata(two_colour()), "IMG_0001.jpg")
    for stored in (photo.jpeg, photo.thumb):
        assert metadata_segments(stored) == []
        markers = {m for m, _ in jpeg_segments(stored)}
        assert not markers & ({0xFE} | set(range(0xE1, 0xF0)))
        assert SECRET not in stored and b"SpyPhone" not in stored and b"Exif" not in stored
        assert b"GPS" not in stored and b"8BIM" not in stored and b"xmpmeta" not in stored


@pytest.mark.parametrize(
    ("orientation", "top", "bottom", "left", "right"),
    [
        (1, None, None, "red", "blue"),  # as stored
        (3, None, None, "blue", "red"),  # upside down
        (6, "red", "blue", None, None),  # turned 90° clockwise to display: the left edge goes up
        (8, "blue", "red", None, None),  # turned 90° counter-clockwise
    ],
)
def test_exif_orientation_is_applied_to_the_pixels(qapp, orientation, top, bottom, left, right):
    photo = prepare_photo(with_metadata(two_colour(96, 48), orientation))
    image = decode_stored(photo.jpeg)
    if orientation in (6, 8):
        assert (photo.width, photo.height) == (48, 96) == (image.width(), image.height())
        assert _colour(image, 24, 8) == top
        assert _colour(image, 24, 88) == bottom
    else:
        assert (photo.width, photo.height) == (96, 48)
        assert _colour(image, 8, 24) == left
        assert _colour(image, 88, 24) == right


def test_thumbnail_and_downscaling(qapp):
    photo = prepare_photo(two_colour(5000, 300))
    assert (photo.width, photo.height) == (STORE_EDGE, round(300 * STORE_EDGE / 5000))
    thumb = decode_stored(photo.thumb)
    assert max(thumb.width(), thumb.height()) == THUMB_EDGE
    assert _colour(thumb, 5, thumb.height() // 2) == "red"


def test_png_text_is_dropped_and_transparency_becomes_white(qapp):
    img = QImage(40, 40, QImage.Format.Format_ARGB32)
    img.fill(QColor(0, 0, 0, 0))
    img.setText("Comment", "GPS " + SECRET.decode())
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    raw = bytes(ba.data())
    assert SECRET in raw
    photo = prepare_photo(raw, "scan.png")
    assert SECRET not in photo.jpeg and metadata_segments(photo.jpeg) == []
    assert decode_stored(photo.jpeg).pixelColor(20, 20).lightness() > 250


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b"%PDF-1.4 not a photo" * 10, "not a photo Abrasio can read"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "HEIC"),
        (two_colour(400, 300)[:1500], "incomplete"),
        (two_colour(40, 30, fmt="PNG")[:-20], "incomplete"),
        (claim_size(two_colour(), 15000, 10000), "megapixels"),
    ],
    ids=["empty", "not-image", "heic", "truncated-jpeg", "truncated-png", "huge"],
)
def test_bad_files_get_a_clear_message(qapp, data, words):
    with pytest.raises(PhotoError, match=words) as info:
        prepare_photo(data, "IMG_9.jpg")
    assert "IMG_9.jpg" in str(info.value)


def test_damaged_picture_data_is_refused_not_stored_half_grey(qapp):
    # Just under the size limit, so it is decoded; its data ends long before the picture does. libjpeg
    # only warns about that (and fills the rest with grey): the warning becomes the refusal.
    side = int(MAX_PIXELS**0.5) - 10
    with pytest.raises(PhotoError, match=r"damaged \(Corrupt JPEG data") as info:
        prepare_photo(claim_size(two_colour(), side, side), "x.jpg")
    assert "megapixels" not in str(info.value)
