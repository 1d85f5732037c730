"""Render the photo comparison and a printed session record into docs/screenshots/.

Run: .venv/bin/python tools/media_screenshots.py   (needs pdftoppm from poppler-utils)

The "photos" are painted here (a skin-toned oval with pigment spots, fewer after the series): no real
face is needed to show the comparison.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QBuffer, QByteArray, QEventLoop, QIODevice, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QRadialGradient
from PySide6.QtWidgets import QApplication

from desktop.demo import create_demo
from desktop.export import load_session_record
from desktop.main_window import MainWindow
from desktop.photos import prepare_photo
from desktop.printing import pdf_bytes, session_document
from desktop.resources import resource_path

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def skin(spots: int, seed: int, redness: int) -> bytes:
    rnd = random.Random(seed)
    img = QImage(900, 1200, QImage.Format.Format_RGB32)
    img.fill(QColor("#8fa3ad"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    g = QRadialGradient(QPointF(450, 560), 480)
    g.setColorAt(0, QColor(236, 196 - redness, 170 - redness))
    g.setColorAt(1, QColor(214, 168 - redness, 140 - redness))
    p.setBrush(g)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QRectF(120, 120, 660, 900))
    for _ in range(spots):
        x, y, r = rnd.uniform(260, 640), rnd.uniform(380, 820), rnd.uniform(6, 16)
        s = QRadialGradient(QPointF(x, y), r)
        s.setColorAt(0, QColor(150, 95, 70, 210))
        s.setColorAt(1, QColor(150, 95, 70, 0))
        p.setBrush(s)
        p.drawEllipse(QPointF(x, y), r, r)
    p.end()
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "JPEG", 92)
    return bytes(ba.data())


def main() -> None:
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        from desktop import accounts

        clinic = accounts.create_clinic(Path(tmp) / "shots.db", "Dr Ahn", "plum tree in the yard").clinic
        store = clinic.store
        create_demo(store, n_clients=12, seed=2)
        sid = store.conn.execute("SELECT session_id FROM vacuum_trace_chunks LIMIT 1").fetchone()[0]
        cid = store.session(sid).client_id
        sessions = sorted(store.sessions_for_client(cid), key=lambda s: s.started_at)
        first, last = sessions[0], sessions[-1]
        for session, spots, red, seed in ((first, 60, 0, 1), (last, 14, 10, 2)):
            photos = []
            for angle in ("front", "left45"):
                p = prepare_photo(skin(spots, seed + len(angle), red))
                photos.append(
                    {
                        "jpeg": p.jpeg,
                        "thumb": p.thumb,
                        "width": p.width,
                        "height": p.height,
                        "source_sha256": p.source_sha256,
                        "angle": angle,
                        "stage": "before",
                    }
                )
            store.add_photos(session.id, photos, "Dr Ahn")

        window = MainWindow(clinic)
        window.resize(1366, 768)
        window.show()
        window.show_client(cid)
        settle()
        window.grab().save(str(OUT / "client-page-photos.png"))
        compare = window.client_page.photos.compare()
        compare.resize(1200, 760)
        compare.mode.setCurrentIndex(compare.mode.findData("slider"))
        compare.view.set_split(0.55)
        settle(1200)
        compare.grab().save(str(OUT / "photo-compare-slider.png"))
        compare.mode.setCurrentIndex(compare.mode.findData("side"))
        settle()
        compare.grab().save(str(OUT / "photo-compare.png"))

        pdf = Path(tmp) / "record.pdf"
        pdf.write_bytes(
            pdf_bytes(session_document(load_session_record(store, sid)), "Treatment session record")
        )
        subprocess.run(
            ["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(pdf), str(Path(tmp) / "page")],
            check=True,
        )
        (OUT / "session-record-pdf.png").write_bytes(next(Path(tmp).glob("page*.png")).read_bytes())
        compare.close()
        window.close()
        store.close()
    for name in (
        "client-page-photos.png",
        "photo-compare.png",
        "photo-compare-slider.png",
        "session-record-pdf.png",
    ):
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
