"""Exporting a client's record from the app: choose where, watch it being written, cancel if need be.

The export itself (``desktop.export.export_client``) runs on a worker thread with its own connection.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.export import ExportError, default_folder_name, export_client
from desktop.store import Store, StoreError
from desktop.workers import Relay


class ExportClientDialog(QDialog):
    exported = Signal(str)  # the folder written

    def __init__(self, store: Store, client_id: int, who: str, parent=None):
        super().__init__(parent)
        self.store, self.client_id, self.who = store, client_id, who
        client = store.client(client_id)
        self.setWindowTitle(f"Export client record — {client.name}")
        self.resize(640, 260)
        self._cancel = threading.Event()
        self._running = False
        self.result: dict | None = None

        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        self.parent_dir = QLineEdit(docs or str(Path.home()))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        where = QWidget()
        row = QHBoxLayout(where)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.parent_dir, 1)
        row.addWidget(browse)
        self.folder_name = QLineEdit(default_folder_name(client))
        explain = QLabel(
            "The folder holds the client's record (client.json), each session's PDF record and trace "
            "(CSV with a JSON sidecar), and the photos. It is health data: only your user account can "
            "read it. Keep it somewhere safe and delete it once it has been handed over."
        )
        explain.setWordWrap(True)
        explain.setObjectName("Hint")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("Primary")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.cancel)

        form = QFormLayout()
        form.addRow("Into the folder", where)
        form.addRow("New folder's name", self.folder_name)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(explain)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addStretch(1)
        lay.addWidget(self.buttons)

        self._signals = Relay(self, progress=self._progress, done=self._done, failed=self._failed)

    def _browse(self) -> None:
        dlg = QFileDialog(self, "Export into", self.parent_dir.text())
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly)
        dlg.fileSelected.connect(self.parent_dir.setText)
        dlg.open()

    def target(self) -> Path:
        return Path(self.parent_dir.text().strip()) / self.folder_name.text().strip()

    def start(self) -> None:
        if self._running:
            return
        name = self.folder_name.text().strip()
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            self.status.setText("Give the new folder a name (without slashes).")
            return
        out = self.target()
        self._running = True
        self._cancel.clear()
        self.export_button.setEnabled(False)
        self.progress.setVisible(True)
        self.status.setText("Exporting…")
        if getattr(self, "audit", None) is not None:  # the clinic's audit trail (the main window sets it)
            self.audit(str(out))
        db, who, cid, signals, cancel = self.store, self.who, self.client_id, self._signals, self._cancel

        def work():
            try:
                store = db.reopen()
                try:
                    result = export_client(
                        store,
                        cid,
                        out,
                        who,
                        progress=signals.progress,
                        cancelled=cancel.is_set,
                    )
                finally:
                    store.close()
            except (ExportError, StoreError) as exc:
                signals.failed(str(exc))
                return
            except Exception as exc:  # a fault in Abrasio: said in words, never swallowed
                signals.failed(f"The export failed ({type(exc).__name__}: {exc}); nothing was kept.")
                return
            signals.done(result)

        threading.Thread(target=work, name="export client", daemon=True).start()

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.status.setText(text)

    def _done(self, result: dict) -> None:
        self._running = False
        self.result = result
        written = f"Written to {result['folder']}: {result['sessions']} sessions, {result['photos']} photos."
        self.status.setText("\n".join([written, *result.get("problems", [])]))
        self.export_button.setVisible(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self.exported.emit(str(result["folder"]))

    def _failed(self, message: str) -> None:
        self._running = False
        if self._cancel.is_set():  # cancelled as asked: the partial folder is gone
            self.reject()
            return
        self.progress.setVisible(False)
        self.export_button.setEnabled(True)
        self.status.setText(message)

    def cancel(self) -> None:
        if self._running:
            self._cancel.set()
            self.status.setText("Cancelling…")
            return
        self.reject()
