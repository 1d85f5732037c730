"""Hand-built photo files: what a phone writes (EXIF orientation and GPS, XMP, IPTC, a comment)."""

from __future__ import annotations

import struct

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage

SECRET = b"51 deg 30' 12.34\" N"  # must never reach the database


def two_colour(width: int = 96, height: int = 48, left="#ff0000", right="#0000ff", fmt="JPEG") -> bytes:
    """An image whose left half is one colour and right half another (shows how it was turned)."""
    img = QImage(width, height, QImage.Format.Format_RGB32)
    img.fill(QColor(left))
    for x in range(width // 2, width):
        for y in range(height):
            img.setPixelColor(x, y, QColor(right))
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    assert img.save(buf, fmt, 95)
    buf.close()
    return bytes(ba.data())


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _ifd(entries: list[tuple[int, int, int, bytes]], next_ifd: int = 0) -> bytes:
    out = struct.pack(">H", len(entries))
    for tag, typ, count, value in entries:
        out += struct.pack(">HHI", tag, typ, count) + value
    return out + struct.pack(">I", next_ifd)


def exif_app1(orientation: int) -> bytes:
    """An EXIF APP1 segment (big-endian TIFF) with Orientation, Make, and a GPS IFD with latitude."""
    ifd0_at = 8
    ifd0_size = 2 + 3 * 12 + 4
    make_at = ifd0_at + ifd0_size
    make = b"SpyPhone\x00\x00"
    gps_at = make_at + len(make)
    gps_size = 2 + 4 * 12 + 4
    lat_at = gps_at + gps_size
    lon_at = lat_at + 24
    ifd0 = _ifd(
        [
            (0x010F, 2, len(make), struct.pack(">I", make_at)),  # Make
            (0x0112, 3, 1, struct.pack(">HH", orientation, 0)),  # Orientation
            (0x8825, 4, 1, struct.pack(">I", gps_at)),  # GPS IFD pointer
        ]
    )
    gps = _ifd(
        [
            (0x0001, 2, 2, b"N\x00\x00\x00"),
            (0x0002, 5, 3, struct.pack(">I", lat_at)),
            (0x0003, 2, 2, b"W\x00\x00\x00"),
            (0x0004, 5, 3, struct.pack(">I", lon_at)),
        ]
    )
    lat = struct.pack(">IIIIII", 51, 1, 30, 1, 1234, 100)
    lon = struct.pack(">IIIIII", 0, 1, 7, 1, 3999, 100)
    tiff = b"MM\x00\x2a" + struct.pack(">I", ifd0_at) + ifd0 + make + gps + lat + lon
    return _segment(0xE1, b"Exif\x00\x00" + tiff)


def with_metadata(jpeg: bytes, orientation: int = 6) -> bytes:
    """``jpeg`` with what phones and editors add: EXIF (orientation, GPS), XMP, ICC, IPTC, a comment."""
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>"
        b"<exif:GPSLatitude>" + SECRET + b"</exif:GPSLatitude></rdf:RDF></x:xmpmeta>"
    )
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x78\x00\x08" + b"Caption!"
    icc = b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 16
    extra = (
        exif_app1(orientation)
        + _segment(0xE1, xmp)
        + _segment(0xE2, icc)
        + _segment(0xED, iptc)
        + _segment(0xFE, b"GPS " + SECRET)
    )
    return jpeg[:2] + extra + jpeg[2:]


def claim_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header claiming another size (a "huge" file without the memory)."""
    data = bytearray(jpeg)
    i = 2
    while True:
        marker = data[i + 1]
        (length,) = struct.unpack_from(">H", data, i + 2)
        if marker in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", data, i + 5, height, width)
            return bytes(data)
        i += 2 + length
