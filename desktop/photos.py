"""Before/after photos: from a file's bytes to what the database keeps, with nothing of the camera's.

A photo of a client's face is health data. What a phone or camera writes beside the picture (GPS
position, device model and serial, time, owner, XMP/IPTC captions, comments, colour profiles) is not
kept: the picture is decoded with Qt's own image classes (``QImageReader`` with auto-transform, so the
EXIF orientation is applied to the pixels), painted onto a fresh image that carries no text keys, and
encoded again as a plain JFIF JPEG. The result is parsed segment by segment before it is accepted: an
APP1 (EXIF, XMP), APP2 (ICC, MPF), APP13 (IPTC) or COM segment would be a bug, and is refused.

QtGui only (no widgets): the import runs on a worker thread.
"""

from __future__ import annotations

import hashlib
import struct
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, qInstallMessageHandler
from PySide6.QtGui import QColorSpace, QImage, QImageReader, QImageWriter, QPainter

ANGLES = {
    "front": "Front",
    "left45": "Left 45°",
    "left90": "Left 90°",
    "right45": "Right 45°",
    "right90": "Right 90°",
    "closeup": "Close-up",
}
STAGES = {"before": "Before", "after": "After"}
SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png")

MAX_FILE_BYTES = 80 * 1024 * 1024  # a 100 MP camera's JPEG is ~40 MB
MAX_PIXELS = 120_000_000  # the file's own size; it is decoded at most STORE_EDGE on its long side
STORE_EDGE = 4096  # long edge of the stored photo (12 MP phones: 4032 px, kept whole)
THUMB_EDGE = 320
JPEG_QUALITY = 90
THUMB_QUALITY = 80

_SOI = b"\xff\xd8"
_PNG = b"\x89PNG\r\n\x1a\n"
# Markers without a length field: TEM, RST0-7 (SOI/EOI handled separately).
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class PhotoError(ValueError):
    """The file cannot become a photo; the message says why, for the practitioner."""


@dataclass
class PreparedPhoto:
    jpeg: bytes  # the stored picture: baseline JFIF JPEG, orientation applied, no metadata
    thumb: bytes  # a JPEG of at most THUMB_EDGE px on its long side
    width: int
    height: int
    source_sha256: str  # of the file as it came (finds a picture imported twice)


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The segments of a JPEG before its image data: [(marker, payload)], SOS included (empty payload).

    Raises ValueError when the bytes are not a well-formed JPEG header.
    """
    if not data.startswith(_SOI):
        raise ValueError("not a JPEG (no SOI marker)")
    out: list[tuple[int, bytes]] = []
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError(f"JPEG marker expected at byte {i}")
        while i < len(data) and data[i] == 0xFF:  # fill bytes before a marker are allowed
            i += 1
        if i >= len(data):
            break
        marker = data[i]
        i += 1
        if marker in _STANDALONE:
            out.append((marker, b""))
            continue
        if marker == 0xD9:
            out.append((marker, b""))
            break
        if i + 2 > len(data):
            raise ValueError("JPEG segment cut short")
        (length,) = struct.unpack_from(">H", data, i)
        if length < 2 or i + length > len(data):
            raise ValueError(f"JPEG segment {marker:#04x} has a bad length")
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            out.append((marker, b""))
            break
        out.append((marker, bytes(data[i + 2 : i + length])))
        i += length
    return out


def metadata_segments(data: bytes) -> list[str]:
    """Names of the segments in a JPEG that can carry metadata (empty for a clean picture).

    Only APP0 with a JFIF header (version and pixel density) is allowed; every other APPn (EXIF and
    XMP in APP1, ICC and MPF in APP2, IPTC in APP13, maker notes elsewhere) and COM are reported.
    """
    found = []
    for marker, payload in jpeg_segments(data):
        if marker == 0xFE:
            found.append("COM")
        elif 0xE0 <= marker <= 0xEF:
            if marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) == 14:
                continue  # JFIF: version, density unit and density, no thumbnail
            ident = payload[:32].split(b"\x00", 1)[0].decode("latin-1", "replace")
            found.append(f"APP{marker - 0xE0}" + (f" ({ident})" if ident else ""))
    return found


def _jpeg_complete(data: bytes) -> bool:
    """The file holds a whole image: an end-of-image marker follows the first scan."""
    try:
        segments = jpeg_segments(data)
    except ValueError:
        return False
    if not segments or segments[-1][0] != 0xDA:
        return False
    return data.rfind(b"\xff\xd9") > data.find(b"\xff\xda")


def _png_complete(data: bytes) -> bool:
    return b"IEND" in data[-64:]


def _kind(data: bytes) -> str:
    if data.startswith(_SOI + b"\xff"):
        return "jpeg"
    if data.startswith(_PNG):
        return "png"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif"):
        raise PhotoError(
            "This is a HEIC/HEIF photo, which Abrasio cannot read. Set the phone's camera to save "
            "'Most compatible' (JPEG) pictures, or convert the file to JPEG."
        )
    raise PhotoError("This file is not a photo Abrasio can read (JPEG or PNG).")


# -- what the decoder says ----------------------------------------------------------------------
# libjpeg reports damaged picture data ("Corrupt JPEG data: premature end of data segment") only as a
# Qt warning, and hands back a picture whose missing part is grey. While a photo is decoded, this
# thread's Qt messages are collected and turn into a refusal; other threads' messages pass on untouched.
_capture = threading.local()
_handler_lock = threading.Lock()
_handler_users = 0
_previous_handler = None


def _message_handler(mode, context, message):
    bucket = getattr(_capture, "messages", None)
    if bucket is not None:
        bucket.append(message)
    elif _previous_handler is not None:
        _previous_handler(mode, context, message)
    else:
        sys.stderr.write(f"{message}\n")


@contextmanager
def _decoder_messages():
    global _handler_users, _previous_handler
    with _handler_lock:
        if _handler_users == 0:
            _previous_handler = qInstallMessageHandler(_message_handler)
        _handler_users += 1
    _capture.messages = messages = []
    try:
        yield messages
    finally:
        _capture.messages = None
        with _handler_lock:
            _handler_users -= 1
            if _handler_users == 0:
                qInstallMessageHandler(_previous_handler)
                _previous_handler = None


def _encode(image: QImage, quality: int) -> bytes:
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buf, b"jpeg")
    writer.setQuality(quality)
    writer.setOptimizedWrite(True)
    if not writer.write(image):
        raise PhotoError(f"The photo could not be encoded: {writer.errorString()}.")
    buf.close()
    return bytes(ba.data())


def _fresh(image: QImage) -> QImage:
    """The pixels alone, in sRGB, on an opaque image that carries no text keys and no colour profile."""
    space = image.colorSpace()
    if space.isValid() and space != QColorSpace(QColorSpace.NamedColorSpace.SRgb):
        image = image.convertedToColorSpace(QColorSpace(QColorSpace.NamedColorSpace.SRgb))
    out = QImage(image.size(), QImage.Format.Format_RGB32)
    out.fill(Qt.GlobalColor.white)  # transparent PNG pixels become white, not black
    painter = QPainter(out)
    painter.drawImage(0, 0, image)
    painter.end()
    return out


def decode_stored(data: bytes) -> QImage:
    """A stored photo or thumbnail back to an image (a null image if the bytes are damaged)."""
    image = QImage()
    image.loadFromData(data, "JPEG")
    return image


def stored_problem(data: bytes) -> str | None:
    """Why a stored photo cannot be shown (None when it decodes cleanly)."""
    with _decoder_messages() as complaints:
        image = decode_stored(data)
    if image.isNull():
        return "it cannot be decoded"
    if complaints:
        return complaints[0].rstrip(".")
    return None


def prepare_photo(data: bytes, name: str = "") -> PreparedPhoto:
    """Turn a file's bytes into a stored photo: oriented, downscaled if huge, stripped, thumbnailed.

    Raises PhotoError with a message for the practitioner when the file is not an image, is
    truncated, too large, or cannot be decoded.
    """
    label = f"“{name}”" if name else "This file"
    if not data:
        raise PhotoError(f"{label} is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise PhotoError(
            f"{label} is {len(data) / 1e6:.0f} MB; Abrasio takes photos of at most "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB."
        )
    try:
        kind = _kind(data)
    except PhotoError as exc:
        raise PhotoError(f"{label}: {exc}") from None
    if not (_jpeg_complete(data) if kind == "jpeg" else _png_complete(data)):
        raise PhotoError(f"{label} is incomplete (cut short or damaged): copy it again from the camera.")

    ba = QByteArray(data)
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buf, kind.encode())
    reader.setAutoTransform(True)  # EXIF orientation applied to the pixels
    size = reader.size()
    if not size.isValid() or size.isEmpty():
        raise PhotoError(f"{label} is damaged: its picture size cannot be read.")
    pixels = size.width() * size.height()
    if pixels > MAX_PIXELS:
        raise PhotoError(
            f"{label} is {size.width()} × {size.height()} pixels ({pixels / 1e6:.0f} megapixels); "
            f"Abrasio takes photos of at most {MAX_PIXELS / 1e6:.0f} megapixels."
        )
    long_edge = max(size.width(), size.height())
    if long_edge > STORE_EDGE:
        scale = STORE_EDGE / long_edge
        reader.setScaledSize(QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale))))
        reader.setQuality(100)  # smooth scaling
    reader.setAllocationLimit(1024)  # MB: the size was checked above
    with _decoder_messages() as complaints:
        image = reader.read()
    if image.isNull():
        raise PhotoError(f"{label} cannot be read as a picture: {reader.errorString()}.")
    if complaints:
        raise PhotoError(f"{label} is damaged ({complaints[0].rstrip('.')}): copy it again from the camera.")

    clean = _fresh(image)
    jpeg = _encode(clean, JPEG_QUALITY)
    thumb = _encode(
        clean.scaled(
            THUMB_EDGE,
            THUMB_EDGE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        ),
        THUMB_QUALITY,
    )
    for encoded in (jpeg, thumb):
        left = metadata_segments(encoded)
        if left:  # Abrasio's own fault: never store it
            raise PhotoError(f"Abrasio could not remove the photo's metadata ({', '.join(left)}).")
    return PreparedPhoto(jpeg, thumb, clean.width(), clean.height(), hashlib.sha256(data).hexdigest())
