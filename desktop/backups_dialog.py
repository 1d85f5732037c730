"""Settings → Backups: the backups of this clinic file (date, size, clients, sessions), how often they
are taken, a second folder, and restoring one (after the current file is backed up)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
)

from desktop.models import _RowsModel
from desktop.store import Store, StoreError, backups
from desktop.widgets import enable, follow_access, read_only_table

log = logging.getLogger("abrasio.backups")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


class BackupTableModel(_RowsModel):
    COLUMNS = ("Taken", "Size", "Clients", "Sessions", "Folder")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[backups.Backup] = []

    def set_backups(self, rows: list[backups.Backup]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def backup(self, row: int) -> backups.Backup:
        return self._rows[row]

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        b = self._rows[index.row()]
        col = index.column()
        if col == 0:
            return backups.describe(b)
        if col == 1:
            return _size(b.size)
        if col == 2:
            return "unreadable" if b.clients is None else f"{b.clients:,}"
        if col == 3:
            return "" if b.sessions is None else f"{b.sessions:,}"
        return str(b.path.parent)


class _Worker(QObject):
    listed = Signal(list)
    restored = Signal(object, str)  # the copy of the file as it was (or None), error ("" when well)


class BackupsDialog(QDialog):
    restored = Signal()

    def __init__(self, store: Store, main_window, who: str = ""):
        super().__init__(main_window)
        self.store, self.main, self.who = store, main_window, who
        self.setWindowTitle("Backups")
        self.resize(820, 520)
        self._worker = _Worker(self)
        self._worker.listed.connect(self._listed)
        self._worker.restored.connect(self._restore_done)
        self._want_selected: Path | None = None
        self._progress: QProgressDialog | None = None

        self.model = BackupTableModel(self)
        self.view = read_only_table(self.model)
        self.empty = QLabel("Looking for backups…")
        self.empty.setObjectName("Hint")
        self.every = QDoubleSpinBox(suffix=" hours", decimals=1, minimum=0, maximum=48, singleStep=1)
        self.every.setSpecialValueText("only at start")
        self.every.setValue(float(store.setting("backup_every_hours", 4) or 0))
        self.second = QLineEdit(store.setting("backup_second_folder", "") or "")
        self.second.setPlaceholderText("none (a USB drive or a network folder)")
        self.choose_button = choose = QPushButton("Choose…")
        choose.setAutoDefault(False)
        choose.clicked.connect(self._choose_folder)
        form = QFormLayout()
        form.addRow("Back up while open every", self.every)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.second, 1)
        folder_row.addWidget(choose)
        form.addRow("Also copy each backup to", folder_row)
        where = QLabel(f"Backups are kept in {backups.folder_for(store.path)}")
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setObjectName("Hint")

        self.backup_button = QPushButton("Back up now")
        self.backup_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton("Restore selected…")
        self.restore_button.clicked.connect(self.restore_selected)
        self.save_button = QPushButton("Save settings")
        self.save_button.clicked.connect(self.save_settings)
        buttons = QHBoxLayout()
        buttons.addWidget(self.backup_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(where)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.empty)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(close)
        # saving settings and backing up need a writable file; restoring is what a damaged one needs
        follow_access(
            store,
            self,
            lambda writable, why: enable(
                (self.save_button, self.backup_button, self.every, self.second, self.choose_button),
                writable,
                why,
            ),
        )
        main_window._background.backup_done.connect(lambda *_: self.refresh())
        self.refresh()

    # -- listing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        path, second = self.store.path, self._second_folder()
        key = self.store.key
        worker = self._worker
        threading.Thread(
            target=lambda: worker.listed.emit(backups.list_backups(path, second, key=key)),
            name="list backups",
            daemon=True,
        ).start()

    def _listed(self, rows: list) -> None:
        self.model.set_backups(rows)
        self.empty.setText("" if rows else "No backups yet.")
        self.empty.setVisible(not rows)
        if self._want_selected:
            self.select(self._want_selected)
        elif rows:
            self.view.selectRow(0)

    def select(self, path: Path) -> None:
        self._want_selected = Path(path)
        for row in range(self.model.rowCount()):
            if self.model.backup(row).path == self._want_selected:
                self.view.selectRow(row)
                return

    def selected(self) -> backups.Backup | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.backup(rows[0].row()) if rows else None

    def _second_folder(self) -> Path | None:
        text = self.second.text().strip()
        return Path(text) if text else None

    # -- settings ----------------------------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Second backup folder", self.second.text())
        if folder:
            self.second.setText(folder)

    def save_settings(self) -> None:
        try:
            self.store.save_settings(
                {
                    "backup_every_hours": self.every.value(),
                    "backup_second_folder": self.second.text().strip(),
                },
                who=self.who,
            )
        except StoreError as exc:
            QMessageBox.warning(self, "Settings not saved", str(exc))
            return
        self.main.restart_backup_timer()
        self.refresh()

    def back_up_now(self) -> None:
        if not self.main.backup_now():
            QMessageBox.information(self, "Backups", "A backup or check is already running.")

    # -- restoring ---------------------------------------------------------------------------------
    def restore_selected(self) -> QMessageBox | None:
        chosen = self.selected()
        if chosen is None:
            return None
        why_not = self.main.can_restore()
        if why_not:
            QMessageBox.information(self, "Cannot restore now", why_not)
            return None
        confirm = QMessageBox(
            QMessageBox.Icon.Warning,
            "Restore a backup",
            f"Replace the clinic file with the backup of {backups.describe(chosen)}?\n\n"
            "Everything saved since then will no longer be in the file. The file as it is now is "
            "backed up first, so this can be undone by restoring that backup.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        confirm.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_restore = confirm.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        confirm.accepted.connect(lambda: self._restore(chosen.path))
        confirm.open()
        return confirm

    def _restore(self, backup: Path) -> None:
        second = self.store.second_backup_folder() if self.store.writable else None
        path, key = self.store.path, self.store.key
        self.store.detach()
        self._progress = QProgressDialog("Restoring the backup…", "", 0, 0, self)
        self._progress.setCancelButton(None)
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._progress.setMinimumDuration(0)
        self._progress.show()
        worker = self._worker
        log.warning("Restoring %s", backup)

        def run():
            try:
                worker.restored.emit(backups.restore_file(path, backup, second, key=key), "")
            except StoreError as exc:
                worker.restored.emit(None, str(exc))

        threading.Thread(target=run, name="restore", daemon=True).start()

    def _restore_done(self, kept, error: str) -> None:
        if self._progress:
            self._progress.close()
            self._progress = None
        try:
            self.store.reattach(full_check=False)
        except StoreError as exc:
            error = f"{error}\n\n{exc}" if error else str(exc)
        if error:
            log.error("Restore failed: %s", error)
            box = QMessageBox(QMessageBox.Icon.Critical, "Restore failed", error, parent=self)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
        else:
            log.warning("Restored; the file as it was is kept in %s", kept)
            self.last_kept = kept
        self.restored.emit()
        self.refresh()
