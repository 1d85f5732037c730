"""Reading PDFs back as a person would: poppler's pdftotext and pdftoppm (Debian poppler-utils)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor, QImage


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: install poppler-utils (bash ./dev test does)"
    return path


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    )
    text = unicodedata.normalize("NFKC", out.stdout)  # the "ﬁ" ligature back to "fi"
    # the page number at each page's foot: a line of its own that may fall between the two halves of
    # a paragraph broken across pages
    return "\n".join(line for line in text.splitlines() if not line.strip().isdigit())


def pdf_pages(pdf: Path, out_dir: Path, dpi: int = 60) -> list[Path]:
    """Render every page to PNG; returns the files in page order."""
    prefix = out_dir / pdf.stem
    subprocess.run(
        [_tool("pdftoppm"), "-r", str(dpi), "-png", str(pdf), str(prefix)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return sorted(out_dir.glob(f"{pdf.stem}-*.png"))


def count_colour(png: Path, colour: str, tolerance: int = 40) -> int:
    """How many pixels of the page are close to ``colour`` (e.g. the ceiling's red)."""
    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    raw = np.frombuffer(image.constBits(), np.uint8, h * image.bytesPerLine()).reshape(h, -1)
    bgr = raw[:, : w * 4].reshape(h, w, 4)[:, :, :3].astype(np.int16)
    target = QColor(colour)
    want = np.array([target.blue(), target.green(), target.red()], np.int16)
    return int((np.abs(bgr - want) <= tolerance).all(axis=2).sum())
