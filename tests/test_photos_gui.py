"""Photos through the real widgets and a real database file: import (dialog, drop, watched folder),
what is stored, the comparison."""

from __future__ import annotations

import threading

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from desktop.photo_views import PhotoCompareWindow, PhotoImportDialog, WatchedFolder
from desktop.photos import decode_stored, jpeg_segments, metadata_segments
from desktop.records import Client
from desktop.store import Store
from desktop.workers import post
from tests.helpers.photos import SECRET, two_colour, with_metadata

DEADLINE_MS = 10_000
COPY, NO_BUTTON, NO_KEYS = Qt.DropAction.CopyAction, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier


def client_with_sessions(store, n: int = 1, name=("Mara", "Lindqvist")) -> tuple[int, list[int]]:
    cid = store.add_client(Client(*name, vacuum_ceiling_kpa=40.0))
    sids = []
    for _ in range(n):
        sid = store.create_session(cid, "Dr Ahn", ceiling_kpa=40.0, areas=["cheeks"])
        store.finish_session(sid, {"duration_s": 60})
        sids.append(sid)
    return cid, sids


def open_client(qtbot, window, cid):
    window.show_client(cid)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.client_page, timeout=DEADLINE_MS)
    return window.client_page.photos


def import_dialog(qtbot, panel) -> PhotoImportDialog:
    qtbot.waitUntil(lambda: panel.findChild(PhotoImportDialog) is not None, timeout=DEADLINE_MS)
    dlg = panel.findChild(PhotoImportDialog)
    qtbot.waitUntil(lambda: len(dlg.prepared) + len(dlg.failed) == len(dlg.paths), timeout=DEADLINE_MS)
    return dlg


def stored_blobs(store) -> list[tuple[bytes, bytes, str]]:
    """What is in the file, through a connection of its own (keyed like the window's: it is encrypted)."""
    other = Store.connect(store.path, key=store.key)
    try:
        return other.conn.execute("SELECT image, thumb, angle FROM photos ORDER BY id").fetchall()
    finally:
        other.close()


def test_phone_photo_with_gps_is_stored_without_it(qtbot, window, store, tmp_path):
    cid, _ = client_with_sessions(store)
    path = tmp_path / "IMG_20261120_101500.jpg"
    path.write_bytes(with_metadata(two_colour(96, 48), orientation=6))
    panel = open_client(qtbot, window, cid)
    panel.import_files([str(path)])
    dlg = import_dialog(qtbot, panel)
    assert dlg.import_button.isEnabled()
    dlg.angles[str(path)].setCurrentIndex(dlg.angles[str(path)].findData("left45"))
    with qtbot.waitSignal(dlg.imported, timeout=DEADLINE_MS):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=DEADLINE_MS)
    assert path.exists()  # a picture chosen from a folder is the user's: left where it was

    [(image, thumb, angle)] = stored_blobs(store)  # the bytes in the database file itself
    assert angle == "left45"
    for blob in (image, thumb):
        assert metadata_segments(blob) == []
        assert not {m for m, _ in jpeg_segments(blob)} & ({0xFE} | set(range(0xE1, 0xF0)))
        assert SECRET not in blob and b"GPS" not in blob and b"Exif" not in blob
    stored = decode_stored(image)
    assert (stored.width(), stored.height()) == (48, 96)  # orientation 6 applied: portrait
    assert "Left 45°" in panel.model.data(panel.model.index(0, 0))


def test_drop_files_on_the_strip_and_bad_files_say_why(qtbot, window, store, tmp_path):
    cid, _ = client_with_sessions(store)
    good = tmp_path / "good.jpg"
    good.write_bytes(two_colour())
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(two_colour(400, 300)[:1200])
    notes = tmp_path / "notes.txt.jpg"
    notes.write_text("not a picture at all " * 20)
    panel = open_client(qtbot, window, cid)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (good, cut, notes)])
    view = panel.view.viewport()
    text_only = QMimeData()
    text_only.setText("not files")
    refused = QDragEnterEvent(QPoint(20, 20), COPY, text_only, NO_BUTTON, NO_KEYS)
    QApplication.sendEvent(view, refused)
    assert not refused.isAccepted()  # only files are taken
    enter = QDragEnterEvent(QPoint(20, 20), COPY, mime, NO_BUTTON, NO_KEYS)  # a drag, as a desktop sends it
    QApplication.sendEvent(view, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(view, QDragMoveEvent(QPoint(30, 30), COPY, mime, NO_BUTTON, NO_KEYS))
    drop = QDropEvent(QPointF(30, 30), COPY, mime, NO_BUTTON, NO_KEYS)
    QApplication.sendEvent(view, drop)
    assert drop.isAccepted()
    dlg = import_dialog(qtbot, panel)
    assert set(dlg.prepared) == {str(good)}
    assert "incomplete" in dlg.failed[str(cut)]
    assert "not a photo" in dlg.failed[str(notes)]
    status = dlg.status.text()
    assert "1 ready to import" in status and "cut.jpg" in status and "notes.txt.jpg" in status
    with qtbot.waitSignal(dlg.imported, timeout=DEADLINE_MS):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=DEADLINE_MS)
    assert len(stored_blobs(store)) == 1


def test_same_file_twice_is_not_imported_twice(qtbot, window, store, tmp_path):
    cid, _ = client_with_sessions(store)
    path = tmp_path / "a.jpg"
    path.write_bytes(two_colour())
    panel = open_client(qtbot, window, cid)
    panel.import_files([str(path)])
    dlg = import_dialog(qtbot, panel)
    with qtbot.waitSignal(dlg.imported, timeout=DEADLINE_MS):
        dlg.import_button.click()
    qtbot.waitUntil(lambda: panel.findChild(PhotoImportDialog) is None or not dlg.isVisible())
    again = panel.import_files([str(path)])
    qtbot.waitUntil(lambda: len(again.failed) == 1, timeout=DEADLINE_MS)
    assert "imported for this client before" in again.failed[str(path)]
    assert not again.import_button.isEnabled()


def test_client_without_sessions_cannot_import(qtbot, window, store, tmp_path):
    cid = store.add_client(Client("No", "Sessions", vacuum_ceiling_kpa=40.0))
    path = tmp_path / "a.jpg"
    path.write_bytes(two_colour())
    panel = open_client(qtbot, window, cid)
    dlg = panel.import_files([str(path)])
    qtbot.waitUntil(lambda: len(dlg.prepared) == 1, timeout=DEADLINE_MS)
    assert not dlg.import_button.isEnabled()
    assert "no treatment session" in dlg.status.text()


def test_watched_folder_waits_for_a_file_to_finish_then_imports_and_removes_it(
    qtbot, window, store, tmp_path
):
    cid, _ = client_with_sessions(store)
    inbox = tmp_path / "phone"
    inbox.mkdir()
    panel = open_client(qtbot, window, cid)
    watcher: WatchedFolder = window.watched_folder
    watcher.set_folder(str(inbox))
    data = two_colour(300, 200)
    arriving = inbox / "DCIM_0001.jpg"
    arriving.write_bytes(data[: len(data) // 2])  # the phone is still copying it
    seen: list[list[str]] = []
    watcher.pending.connect(seen.append)
    qtbot.waitUntil(lambda: watcher._sizes.get(str(arriving)) is not None, timeout=DEADLINE_MS)
    assert not panel.inbox_button.isVisible() and panel.inbox == []
    arriving.write_bytes(data)  # done
    qtbot.waitUntil(lambda: panel.inbox == [str(arriving)], timeout=DEADLINE_MS)
    assert all(len(s) in (0, 1) for s in seen)
    assert panel.inbox_button.isVisible() and "1 new picture" in panel.inbox_button.text()

    dlg = panel.import_inbox()
    qtbot.waitUntil(lambda: len(dlg.prepared) == 1, timeout=DEADLINE_MS)
    assert dlg.remove_originals.isVisible() and dlg.remove_originals.isChecked()
    with qtbot.waitSignal(dlg.imported, timeout=DEADLINE_MS):
        dlg.import_button.click()
    assert not arriving.exists()  # removed only after the commit
    assert len(stored_blobs(store)) == 1
    qtbot.waitUntil(lambda: panel.inbox == [], timeout=DEADLINE_MS)


def test_watched_folder_that_disappears_is_said(qtbot, window, tmp_path):
    gone = tmp_path / "unplugged"
    problems: list[str] = []
    window.watched_folder.problem.connect(problems.append)
    window.watched_folder.set_folder(str(gone))
    qtbot.waitUntil(lambda: any("cannot be read" in p for p in problems), timeout=DEADLINE_MS)


def _add(store, sid, colour_left, colour_right, angle="front"):
    from desktop.photos import prepare_photo

    p = prepare_photo(two_colour(200, 200, colour_left, colour_right))
    return store.add_photos(
        sid,
        [
            {
                "jpeg": p.jpeg,
                "thumb": p.thumb,
                "width": p.width,
                "height": p.height,
                "source_sha256": p.source_sha256,
                "angle": angle,
                "stage": "before",
            }
        ],
        "Dr Ahn",
    )[0]


def test_compare_two_sessions_side_by_side_and_under_a_slider(qtbot, window, store, tmp_path):
    cid, (s1, s2) = client_with_sessions(store, 2)
    store.conn.execute(
        "UPDATE treatment_sessions SET started_at = '2026-09-03T10:00:00+01:00' WHERE id = ?", [s1]
    )
    store.conn.execute(
        "UPDATE treatment_sessions SET started_at = '2026-11-20T10:00:00+00:00' WHERE id = ?", [s2]
    )
    store.conn.commit()
    _add(store, s1, "#00ff00", "#00ff00")  # the first session's front photo: green
    last = _add(store, s2, "#ff00ff", "#ff00ff")  # the latest: magenta
    _add(store, s2, "#0000ff", "#0000ff", angle="left90")
    panel = open_client(qtbot, window, cid)
    assert panel.model.rowCount() == 3
    win: PhotoCompareWindow = panel.compare(last)
    qtbot.addWidget(win)  # it deletes itself when closed: qtbot closes it at the end
    win.resize(1000, 600)
    qtbot.waitExposed(win)
    assert [win.angle.itemData(i) for i in range(win.angle.count())] == ["front", "left90"]
    qtbot.waitUntil(
        lambda: all(img is not None and not img.isNull() for img in win.view.images), timeout=DEADLINE_MS
    )
    assert win.left.currentText().startswith("3 Sep 2026") and win.right.currentText().startswith(
        "20 Nov 2026"
    )
    assert "3 Sep 2026" in win.view.captions[0] and "20 Nov 2026" in win.view.captions[1]

    def colour_at(fx: float) -> str:
        img: QImage = win.view.grab().toImage()
        c = img.pixelColor(int(img.width() * fx), img.height() // 2)
        return (
            "green"
            if c.green() > 200 and c.red() < 60
            else "magenta"
            if c.red() > 200 and c.blue() > 200
            else c.name()
        )

    assert colour_at(0.25) == "green" and colour_at(0.75) == "magenta"  # side by side
    win.mode.setCurrentIndex(win.mode.findData("slider"))
    assert win.slider.isVisible()
    qtbot.waitUntil(lambda: win.view._target is not None, timeout=DEADLINE_MS)
    target = win.view._target
    qtbot.mouseClick(
        win.view, Qt.MouseButton.LeftButton, pos=QPoint(int(target.x() + target.width() * 0.8), 300)
    )
    assert abs(win.view.split - 0.8) < 0.02 and win.slider.value() == round(win.view.split * 1000)
    x_left = (target.x() + target.width() * 0.4) / win.view.width()
    x_right = (target.x() + target.width() * 0.9) / win.view.width()
    assert colour_at(x_left) == "green" and colour_at(x_right) == "magenta"
    qtbot.keyClick(win.view, Qt.Key.Key_Left)
    assert abs(win.view.split - 0.75) < 0.02

    win.angle.setCurrentIndex(win.angle.findData("left90"))
    assert win.left.count() == 1 and win.right.count() == 1


def test_closing_the_comparison_while_photos_load_is_safe(qtbot, window, store):
    cid, (s1, s2) = client_with_sessions(store, 2)
    _add(store, s1, "#00ff00", "#00ff00")
    _add(store, s2, "#ff00ff", "#ff00ff")
    panel = open_client(qtbot, window, cid)
    for _ in range(5):  # each window starts two loads on worker threads and is closed (deleted) at once
        win = panel.compare()
        win.close()
    qtbot.waitUntil(
        lambda: not [t for t in threading.enumerate() if t.name.startswith("photo ")], timeout=DEADLINE_MS
    )
    # their results arrived for windows that no longer exist: dropped, nothing crashed or raised. A
    # marker posted last arrives after them (the bus is a queue).
    arrived: list[int] = []
    post(window, arrived.append, 1)
    qtbot.waitUntil(lambda: arrived == [1], timeout=DEADLINE_MS)
