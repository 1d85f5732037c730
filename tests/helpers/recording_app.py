"""A real Abrasio process recording a session, for the crash test

Run as ``python -m tests.helpers.recording_app DB``.

It starts a session on the in-process simulated handpiece (1,000 samples/s), "types" a note every
100 ms, prints ``<session id> <monotonic start>`` once recording, and runs until it is killed.
"""

import os
import sys
import time

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.records import Client
from desktop.session.live import LiveSessionWindow
from desktop.store import Store


def main(db: str) -> None:
    app = QApplication([])
    store = Store.open(db)
    cid = store.add_client(Client("Killed", "Midsession", vacuum_ceiling_kpa=45.0))
    sid = store.create_session(cid, "crash test", set_point_kpa=30.0, ceiling_kpa=45.0, areas=["chin"])
    live = LiveSessionWindow(store, sid, {"url": "sim://?rate=1000&auto=0&seed=5"}, lambda: "crash test")
    live.show()

    def typing():
        live.notes_panel.notes.setPlainText(f"typed at {time.monotonic():.3f}")

    keys = QTimer(interval=100, timeout=typing)
    keys.start()
    print(sid, live.started, flush=True)
    app.exec()


if __name__ == "__main__":
    main(sys.argv[1])
