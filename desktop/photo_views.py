"""Photos on screen: the client page's photo strip (drop files on it), the import dialog, the watched
folder a clinic phone or camera drops its pictures into, and the before/after comparison.

Files are read, decoded and stripped on worker threads (``desktop.photos``), and stored from one too;
the window only shows what comes back. Thumbnails are read once per client page.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QFileSystemWatcher,
    QModelIndex,
    QObject,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QImage, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.photos import ANGLES, STAGES, SUFFIXES, PhotoError, PreparedPhoto, decode_stored, prepare_photo
from desktop.records import AREAS, fmt_date
from desktop.store import Store, StoreError
from desktop.widgets import scaled_font
from desktop.workers import Relay

FILE_FILTER = "Photos (*.jpg *.jpeg *.jpe *.png *.JPG *.JPEG *.PNG);;All files (*)"


def _date(iso: str) -> str:
    return fmt_date(dt.date.fromisoformat(iso[:10]))


def photo_caption(row) -> str:
    angle = ANGLES.get(row.angle, row.angle)
    if row.angle == "closeup" and row.area:
        angle += f" ({AREAS.get(row.area, row.area)})"
    return f"{_date(row.session_started_at)} · {angle} · {STAGES.get(row.stage, row.stage).lower()}"


# -- worker threads ------------------------------------------------------------------------------


def _prepare_files(paths: list[str], signals: Relay) -> None:
    for path in paths:
        name = Path(path).name
        try:
            with open(path, "rb") as fh:
                data = fh.read(80 * 1024 * 1024 + 1)
        except OSError as exc:
            signals.failed(path, f"“{name}” cannot be read: {exc.strerror or exc}.")
            continue
        try:
            signals.prepared(path, prepare_photo(data, name))
        except PhotoError as exc:
            signals.failed(path, str(exc))


# -- the import dialog ---------------------------------------------------------------------------


class PhotoImportDialog(QDialog):
    """Files → one session's photos: each file gets an angle; bad files say why and are left out."""

    imported = Signal(object)  # list of new photo ids

    def __init__(
        self,
        store: Store,
        client_id: int,
        paths: list[str],
        who: str,
        from_watched_folder: bool = False,
        parent=None,
    ):
        super().__init__(parent)
        self.store, self.client_id, self.who = store, client_id, who
        self.paths = list(dict.fromkeys(str(p) for p in paths))
        self.prepared: dict[str, PreparedPhoto] = {}
        self.failed: dict[str, str] = {}
        self.removal_problems: list[tuple[str, str]] = []
        client = store.client(client_id)
        self.setWindowTitle(f"Import photos — {client.name}")
        self.resize(820, 520)

        self.session = QComboBox()
        for s in store.sessions_for_client(client_id):
            self.session.addItem(f"{fmt_date(s.started.date())} {s.started_at[11:16]} · {s.status}", s.id)
        self.stage = QComboBox()
        for key, label in STAGES.items():
            self.stage.addItem(label, key)
        self.remove_originals = QCheckBox("Remove the imported pictures from the watched folder")
        self.remove_originals.setChecked(True)
        self.remove_originals.setVisible(from_watched_folder)
        self.remove_originals.setToolTip(
            "The folder is outside Abrasio's protected database: pictures of faces should not stay there."
        )

        self.table = QTableWidget(len(self.paths), 4)
        self.table.setHorizontalHeaderLabels(["Photo", "File", "Angle", "Close-up of"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(96, 96))
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.angles: dict[str, QComboBox] = {}
        self.areas: dict[str, QComboBox] = {}
        keys = list(ANGLES)
        for row, path in enumerate(self.paths):
            self.table.setRowHeight(row, 100)
            self.table.setItem(row, 0, QTableWidgetItem("reading…"))
            item = QTableWidgetItem(Path(path).name)
            item.setToolTip(path)
            self.table.setItem(row, 1, item)
            angle = QComboBox()
            for key, label in ANGLES.items():
                angle.addItem(label, key)
            angle.setCurrentIndex(row % (len(keys) - 1))  # a standard set shot in order: front, left 45°…
            area = QComboBox()
            for key, label in AREAS.items():
                area.addItem(label, key)
            area.setEnabled(False)
            angle.currentIndexChanged.connect(
                lambda _i, a=angle, b=area: b.setEnabled(a.currentData() == "closeup")
            )
            self.table.setCellWidget(row, 2, angle)
            self.table.setCellWidget(row, 3, area)
            self.angles[path], self.areas[path] = angle, area

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("Primary")
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.store_photos)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Session", self.session)
        form.addRow("Taken", self.stage)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.remove_originals)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

        if self.session.count() == 0:
            self.status.setText(
                "Photos belong to a treatment session, and this client has none yet: start the session "
                "first, then import its photos."
            )
        self._signals = Relay(
            self,
            prepared=self._prepared,
            failed=self._failed,
            stored=self._stored,
            store_failed=self._store_failed,
        )
        threading.Thread(
            target=_prepare_files, args=(self.paths, self._signals), name="prepare photos", daemon=True
        ).start()

    def _row(self, path: str) -> int:
        return self.paths.index(path)

    def _prepared(self, path: str, photo: PreparedPhoto) -> None:
        row = self._row(path)
        thumb = QPixmap.fromImage(decode_stored(photo.thumb))
        item = QTableWidgetItem(f"{photo.width} × {photo.height}")
        item.setIcon(thumb)
        self.table.setItem(row, 0, item)
        if self.store.photo_known(self.client_id, photo.source_sha256):
            self._failed(path, f"“{Path(path).name}” was imported for this client before.")
            return
        self.prepared[path] = photo
        self._update()

    def _failed(self, path: str, message: str) -> None:
        self.failed[path] = message
        row = self._row(path)
        item = QTableWidgetItem("not imported")
        item.setForeground(QColor("#b00020"))
        item.setToolTip(message)
        self.table.setItem(row, 0, item)
        self.angles[path].setEnabled(False)
        self.areas[path].setEnabled(False)
        self._update()

    def _update(self) -> None:
        waiting = len(self.paths) - len(self.prepared) - len(self.failed)
        lines = [f"{len(self.prepared)} ready to import" + (f", {waiting} being read…" if waiting else ".")]
        lines += list(self.failed.values())
        if self.session.count() == 0:
            lines.insert(0, "This client has no treatment session yet: start one first.")
        self.status.setText("\n".join(lines))
        self.import_button.setEnabled(bool(self.prepared) and self.session.count() > 0 and not waiting)

    def entries(self) -> list[dict]:
        out = []
        for path, p in self.prepared.items():
            angle = self.angles[path].currentData()
            out.append(
                {
                    "jpeg": p.jpeg,
                    "thumb": p.thumb,
                    "width": p.width,
                    "height": p.height,
                    "source_sha256": p.source_sha256,
                    "angle": angle,
                    "stage": self.stage.currentData(),
                    "area": self.areas[path].currentData() if angle == "closeup" else "",
                }
            )
        return out

    def store_photos(self) -> None:
        """Write on a worker thread (its own connection); then, if asked, remove the originals."""
        self.import_button.setEnabled(False)
        self.status.setText("Storing the photos…")
        session_id, entries, who = self.session.currentData(), self.entries(), self.who
        remove = (
            list(self.prepared)
            if self.remove_originals.isVisible() and self.remove_originals.isChecked()
            else []
        )
        db, signals = self.store, self._signals

        def work():
            try:
                store = db.reopen()
                try:
                    ids = store.add_photos(session_id, entries, who)
                finally:
                    store.close()
            except (StoreError, ValueError) as exc:
                signals.store_failed(str(exc))
                return
            problems = []
            for path in remove:  # only after the commit: a picture is never in neither place
                try:
                    os.remove(path)
                except OSError as exc:
                    problems.append((path, exc.strerror or str(exc)))
            signals.stored(ids, problems)

        threading.Thread(target=work, name="store photos", daemon=True).start()

    def _stored(self, ids: list[int], problems: list) -> None:
        self.removal_problems = problems
        self.imported.emit(ids)
        if problems:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Pictures left in the folder",
                "The photos were stored, but these files could not be removed from the watched folder:\n"
                + "\n".join(f"{Path(p).name}: {why}" for p, why in problems),
                QMessageBox.StandardButton.Ok,
                self.parentWidget(),
            )
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
        self.accept()

    def _store_failed(self, message: str) -> None:
        self.status.setText(f"The photos were not stored: {message}")
        self.import_button.setEnabled(True)


# -- the client page's photo strip -----------------------------------------------------------------


class PhotoListModel(QAbstractListModel):
    """A client's photos with their thumbnails, read once per client."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []
        self.thumbs: dict[int, QIcon] = {}

    def load(self, store: Store, client_id: int) -> None:
        self.beginResetModel()
        self.rows = store.photos_for_client(client_id)
        self.thumbs = {  # icons, so the view scales them to its icon size
            pid: QIcon(QPixmap.fromImage(decode_stored(b)))
            for pid, b in store.photo_thumbnails(client_id).items()
        }
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return photo_caption(row).replace(" · ", "\n", 1)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.get(row.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"{photo_caption(row)}\n{row.width} × {row.height} px, imported by {row.imported_by or '—'}"
            )
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None


class _DropList(QListView):
    files_dropped = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)

    @staticmethod
    def _files(event) -> list[str]:
        md = event.mimeData()
        return [u.toLocalFile() for u in md.urls() if u.isLocalFile()] if md.hasUrls() else []

    def dragEnterEvent(self, event):
        if self._files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if self._files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        files = self._files(event)
        if files:
            event.acceptProposedAction()
            self.files_dropped.emit(files)
        else:
            event.ignore()


class PhotoPanel(QWidget):
    """Photos section of the client page: thumbnails, Add photos…, Compare…, the watched folder's news."""

    changed = Signal()

    def __init__(self, store: Store, who_fn, parent=None):
        super().__init__(parent)
        self.store, self.who = store, who_fn
        self.client_id: int | None = None
        self.inbox: list[str] = []
        self.model = PhotoListModel(self)
        self.view = _DropList()
        self.view.setModel(self.model)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setFlow(QListView.Flow.LeftToRight)
        self.view.setWrapping(False)
        self.view.setIconSize(QSize(120, 120))
        self.view.setGridSize(QSize(150, 175))
        self.view.setMinimumHeight(190)
        self.view.setMovement(QListView.Movement.Static)
        self.view.viewport().setAcceptDrops(True)  # setMovement(Static) had turned drops off
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.files_dropped.connect(self.import_files)
        self.view.activated.connect(lambda i: self.compare(self.model.rows[i.row()].id))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view, activated=self.delete_selected)
        self.hint = QLabel("No photos yet: drop pictures here or use Add photos…")
        self.hint.setObjectName("Hint")
        self.add_button = QPushButton("Add photos…")
        self.compare_button = QPushButton("Compare…")
        self.inbox_button = QPushButton()
        self.inbox_button.setVisible(False)
        self.add_button.clicked.connect(self.choose_files)
        self.compare_button.clicked.connect(lambda: self.compare())
        self.inbox_button.clicked.connect(self.import_inbox)
        self.windows: list[QWidget] = []

        top = QHBoxLayout()
        head = QLabel("Photos")
        head.setObjectName("SectionTitle")
        top.addWidget(head)
        top.addWidget(self.hint, 1)
        top.addWidget(self.inbox_button)
        top.addWidget(self.add_button)
        top.addWidget(self.compare_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.view)

    def set_client(self, client_id: int) -> None:
        self.client_id = client_id
        self.model.load(self.store, client_id)
        n = self.model.rowCount()
        self.hint.setText("" if n else "No photos yet: drop pictures here or use Add photos…")
        self.compare_button.setEnabled(n > 0)

    def set_inbox(self, files: list[str]) -> None:
        """Pictures waiting in the watched folder."""
        self.inbox = files
        n = len(files)
        self.inbox_button.setText(f"Import {n} new picture{'s' if n != 1 else ''} from the watched folder…")
        self.inbox_button.setVisible(n > 0)

    def choose_files(self) -> QFileDialog:
        dlg = QFileDialog(self, "Add photos", str(Path.home()), FILE_FILTER)
        dlg.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dlg.filesSelected.connect(self.import_files)
        dlg.open()
        return dlg

    def import_files(self, paths: list[str], from_watched_folder: bool = False) -> PhotoImportDialog | None:
        if self.client_id is None or not paths:
            return None
        dlg = PhotoImportDialog(self.store, self.client_id, paths, self.who(), from_watched_folder, self)
        dlg.imported.connect(lambda _ids: self._imported())
        dlg.open()
        return dlg

    def import_inbox(self) -> PhotoImportDialog | None:
        return self.import_files(self.inbox, from_watched_folder=True)

    def _imported(self) -> None:
        if self.client_id is not None:
            self.set_client(self.client_id)
        self.changed.emit()

    def delete_selected(self) -> None:
        idx = self.view.currentIndex()
        if not idx.isValid():
            return
        row = self.model.rows[idx.row()]
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete photo",
            f"Delete the photo {photo_caption(row)}? This cannot be undone (the deletion is recorded).",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.finished.connect(lambda _r: box.clickedButton() is delete and self._delete(row.id))
        box.open()

    def _delete(self, photo_id: int) -> None:
        try:
            self.store.delete_photo(photo_id, self.who())
        except StoreError as exc:
            QMessageBox.warning(self, "Photo not deleted", str(exc))
            return
        self._imported()

    def compare(self, photo_id: int | None = None) -> PhotoCompareWindow | None:
        if self.client_id is None or not self.model.rows:
            return None
        win = PhotoCompareWindow(self.store, self.client_id, photo_id, self.window())
        win.show()
        return win


# -- the watched folder ----------------------------------------------------------------------------


class WatchedFolder(QObject):
    """Pictures a phone or camera drops into a folder: listed (off the GUI thread) once each file has
    stopped growing. Notified by the file system where it can; polled as well (network shares)."""

    pending = Signal(list)  # picture files ready to import
    problem = Signal(str)  # the folder is missing or unreadable ("" when well again)

    POLL_MS = 3000

    def __init__(self, folder: str | None = None, parent=None):
        super().__init__(parent)
        self.folder: str | None = None
        self._sizes: dict[str, tuple[int, float]] = {}
        self._ready: list[str] = []
        self._busy = False
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _p: self.scan())
        self._timer = QTimer(self, interval=self.POLL_MS)
        self._timer.timeout.connect(self.scan)
        self._signals = Relay(self, listed=self._listed)
        self.set_folder(folder)

    def set_folder(self, folder: str | None) -> None:
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        self.folder = folder or None
        self._sizes, self._ready = {}, []
        if self.folder:
            if os.path.isdir(self.folder):
                self._watcher.addPath(self.folder)
            self._timer.start()
            self.scan()
        else:
            self._timer.stop()
            self.pending.emit([])

    def scan(self) -> None:
        if not self.folder or self._busy:
            return
        self._busy = True
        folder, signals = self.folder, self._signals

        def work():
            try:
                found = {}
                with os.scandir(folder) as entries:
                    for e in entries:
                        if e.is_file() and e.name.lower().endswith(SUFFIXES) and not e.name.startswith("."):
                            st = e.stat()
                            found[e.path] = (st.st_size, st.st_mtime)
                signals.listed(found, "")
            except OSError as exc:
                signals.listed({}, f"The watched folder {folder} cannot be read: {exc.strerror or exc}.")

        threading.Thread(target=work, name="watched folder", daemon=True).start()

    def _listed(self, found: dict, problem: str) -> None:
        self._busy = False
        self.problem.emit(problem)
        if self.folder and not self._watcher.directories() and os.path.isdir(self.folder):
            self._watcher.addPath(self.folder)
        # ready: seen twice with the same size and time (a phone still copying it changes them)
        ready = sorted(p for p, st in found.items() if self._sizes.get(p) == st and st[0] > 0)
        self._sizes = found
        if ready != self._ready:
            self._ready = ready
            self.pending.emit(ready)
        if set(found) - set(ready):
            QTimer.singleShot(1000, self.scan)  # files still arriving: look again soon


# -- the comparison --------------------------------------------------------------------------------


class CompareView(QWidget):
    """Two photos of the same angle: side by side, or one over the other under a slider."""

    split_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.images: list[QImage | None] = [None, None]
        self.captions = ["", ""]
        self.mode = "side"
        self.split = 0.5
        self._target: QRectF | None = None  # where the slider's photos were last drawn
        self.setMinimumSize(480, 320)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_photo(self, side: int, image: QImage | None, caption: str) -> None:
        self.images[side] = image
        self.captions[side] = caption
        self.update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.update()

    def set_split(self, value: float) -> None:
        value = min(1.0, max(0.0, value))
        if value != self.split:
            self.split = value
            self.split_changed.emit(value)
            self.update()

    @staticmethod
    def _fit(image: QImage, box: QRectF) -> QRectF:
        scale = min(box.width() / image.width(), box.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        return QRectF(box.x() + (box.width() - w) / 2, box.y() + (box.height() - h) / 2, w, h)

    def _caption(self, p: QPainter, rect: QRectF, text: str, align) -> None:
        p.setPen(QColor("#12343b"))
        p.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine, text)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#f4f6f7"))
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        font = scaled_font(self.font(), 1.15)
        font.setBold(True)
        p.setFont(font)
        cap_h = p.fontMetrics().height() + 8
        full = QRectF(self.rect()).adjusted(8, cap_h, -8, -8)
        left, right = self.images
        if self.mode == "side":
            half = (full.width() - 8) / 2
            boxes = [
                QRectF(full.x(), full.y(), half, full.height()),
                QRectF(full.x() + half + 8, full.y(), half, full.height()),
            ]
            for i, box in enumerate(boxes):
                img = self.images[i]
                if img is not None and not img.isNull():
                    p.drawImage(self._fit(img, box), img)
                else:
                    p.setPen(QColor("#5b6b70"))
                    p.drawText(box, Qt.AlignmentFlag.AlignCenter, "No photo")
                self._caption(
                    p, QRectF(box.x(), 0, box.width(), cap_h), self.captions[i], Qt.AlignmentFlag.AlignHCenter
                )
        else:
            base = right if right is not None and not right.isNull() else left
            if base is None or base.isNull():
                p.drawText(full, Qt.AlignmentFlag.AlignCenter, "No photo")
                p.end()
                return
            target = self._target = self._fit(base, full)
            x = target.x() + self.split * target.width()
            if left is not None and not left.isNull():
                p.save()
                p.setClipRect(QRectF(target.x(), target.y(), x - target.x(), target.height()))
                p.drawImage(target, left)
                p.restore()
            if right is not None and not right.isNull():
                p.save()
                p.setClipRect(QRectF(x, target.y(), target.right() - x, target.height()))
                p.drawImage(target, right)
                p.restore()
            p.setPen(QPen(QColor("white"), 3))
            p.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
            p.setPen(QPen(QColor("#12343b"), 1))
            p.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
            self._caption(
                p,
                QRectF(full.x(), 0, full.width(), cap_h),
                "◀ " + self.captions[0],
                Qt.AlignmentFlag.AlignLeft,
            )
            self._caption(
                p,
                QRectF(full.x(), 0, full.width(), cap_h),
                self.captions[1] + " ▶",
                Qt.AlignmentFlag.AlignRight,
            )
        p.end()

    def _split_at(self, x: float) -> None:
        target = self._target
        if self.mode == "slider" and target is not None:
            self.set_split((x - target.x()) / max(target.width(), 1))

    def mousePressEvent(self, event) -> None:
        self._split_at(event.position().x())

    def mouseMoveEvent(self, event) -> None:
        self._split_at(event.position().x())

    def keyPressEvent(self, event) -> None:
        step = {Qt.Key.Key_Left: -0.05, Qt.Key.Key_Right: 0.05}.get(event.key())
        if step and self.mode == "slider":
            self.set_split(self.split + step)
        else:
            super().keyPressEvent(event)


class PhotoCompareWindow(QMainWindow):
    """Choose an angle and two of the client's photos of it (by session date); see them compared."""

    def __init__(self, store: Store, client_id: int, photo_id: int | None = None, parent=None):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.store = store
        client = store.client(client_id)
        self.setWindowTitle(f"Compare photos — {client.name}")
        self.resize(1100, 720)
        self.rows = store.photos_for_client(client_id)
        self.cache: dict[int, QImage] = {}
        self._signals = Relay(self, image=self._loaded)

        self.angle = QComboBox()
        for key, label in ANGLES.items():
            if any(r.angle == key for r in self.rows):
                self.angle.addItem(label, key)
        self.left = QComboBox()
        self.right = QComboBox()
        self.mode = QComboBox()
        self.mode.addItem("Side by side", "side")
        self.mode.addItem("Slider", "slider")
        self.view = CompareView()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.setValue(500)
        self.slider.setVisible(False)
        self.slider.valueChanged.connect(lambda v: self.view.set_split(v / 1000))
        self.view.split_changed.connect(lambda f: self.slider.setValue(round(f * 1000)))
        self.mode.currentIndexChanged.connect(self._mode)
        self.angle.currentIndexChanged.connect(self._fill)
        self.left.currentIndexChanged.connect(lambda _i: self._show(0))
        self.right.currentIndexChanged.connect(lambda _i: self._show(1))

        bar = QHBoxLayout()
        for label, w in (
            ("Angle", self.angle),
            ("Left", self.left),
            ("Right", self.right),
            ("View", self.mode),
        ):
            bar.addWidget(QLabel(label))
            bar.addWidget(w, 1 if w in (self.left, self.right) else 0)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.slider)
        self.setCentralWidget(central)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.close)

        start = next((r for r in self.rows if r.id == photo_id), None)
        if start is not None:
            self.angle.setCurrentIndex(self.angle.findData(start.angle))
        self._fill(pick_right=photo_id)

    def _fill(self, _index=None, pick_right: int | None = None) -> None:
        angle = self.angle.currentData()
        same = [r for r in self.rows if r.angle == angle]
        for combo in (self.left, self.right):
            combo.blockSignals(True)
            combo.clear()
            for r in same:
                combo.addItem(photo_caption(r), r.id)
            combo.blockSignals(False)
        if same:
            self.left.setCurrentIndex(0)  # the earliest
            right = self.right.findData(pick_right) if pick_right else -1
            self.right.setCurrentIndex(right if right >= 0 else len(same) - 1)  # the latest
        self._show(0)
        self._show(1)

    def _mode(self) -> None:
        mode = self.mode.currentData()
        self.view.set_mode(mode)
        self.slider.setVisible(mode == "slider")

    def _show(self, side: int) -> None:
        combo = self.left if side == 0 else self.right
        pid = combo.currentData()
        if pid is None:
            self.view.set_photo(side, None, "")
            return
        caption = combo.currentText()
        if pid in self.cache:
            self.view.set_photo(side, self.cache[pid], caption)
            return
        self.view.set_photo(side, None, caption + " (loading…)")
        db, signals = self.store, self._signals

        def work():
            try:
                store = db.reopen()
                try:
                    data = store.photo_image(pid)
                finally:
                    store.close()
                signals.image(pid, decode_stored(data))
            except StoreError:
                signals.image(pid, QImage())

        threading.Thread(target=work, name=f"photo {pid}", daemon=True).start()

    def _loaded(self, pid: int, image: QImage) -> None:
        self.cache[pid] = image
        for side, combo in ((0, self.left), (1, self.right)):
            if combo.currentData() == pid:
                caption = combo.currentText() + ("" if not image.isNull() else " (damaged)")
                self.view.set_photo(side, image, caption)
