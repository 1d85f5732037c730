"""Administrator → People (add, roles, deactivate); Account → Change my passphrase; a new recovery key.

The logic is ``desktop/accounts.py`` (``Clinic.add_person``, ``set_roles``, ``deactivate``,
``change_passphrase``, ``new_recovery_key``); each writes its audit entry there. Each of these runs
argon2id once or twice (~0.2 s each) on the GUI thread, because it writes the database through the
window's connection; a running treatment's window may pause that long when an administrator adds someone.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.accounts import AccountError, Clinic, Role
from desktop.keys import KeyFileError
from desktop.store import StoreError
from desktop.ui import passphrase_field, plain, recovery_key_label

PROBLEMS = (AccountError, KeyFileError, StoreError)


def _role_boxes() -> dict[Role, QCheckBox]:
    return {r: QCheckBox(r.label) for r in (Role.PRACTITIONER, Role.FRONT_DESK, Role.ADMINISTRATOR)}


class PeopleDialog(QDialog):
    """Everyone who can log in (and who could: deactivated people stay, with their history)."""

    def __init__(self, clinic: Clinic, parent=None):
        super().__init__(parent)
        self.clinic = clinic
        self.setWindowTitle("People")
        self.resize(720, 600)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Roles", "Status"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._selected)

        self.roles = _role_boxes()
        self.save_roles_button = QPushButton("Save roles")
        self.save_roles_button.clicked.connect(self.save_roles)
        self.deactivate_button = QPushButton("Deactivate…")
        self.deactivate_button.clicked.connect(self.deactivate)
        chosen = QGroupBox("The person chosen above")
        row = QHBoxLayout(chosen)
        for box in self.roles.values():
            row.addWidget(box)
        row.addStretch(1)
        row.addWidget(self.save_roles_button)
        row.addWidget(self.deactivate_button)

        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("Full name, as it will appear on records")
        self.new_roles = _role_boxes()
        self.new_roles[Role.PRACTITIONER].setChecked(True)
        self.new_passphrase = passphrase_field("At least 10 characters; they can change it later")
        self.new_passphrase2 = passphrase_field("The same again")
        self.add_button = QPushButton("Add this person")
        self.add_button.clicked.connect(self.add)
        add = QGroupBox("Add a person")
        form = QFormLayout(add)
        form.addRow("Name", self.new_name)
        roles = QHBoxLayout()
        for box in self.new_roles.values():
            roles.addWidget(box)
        form.addRow("Roles", roles)
        form.addRow("First passphrase", self.new_passphrase)
        form.addRow("Repeat it", self.new_passphrase2)
        form.addRow(self.add_button)

        self.message = plain("", "Problem")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.table, 1)
        col.addWidget(chosen)
        col.addWidget(add)
        col.addWidget(self.message)
        col.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.people = self.clinic.people()
        self.table.setRowCount(len(self.people))
        for i, p in enumerate(self.people):
            status = "active" if p.active else "deactivated"
            if p.id == self.clinic.person.id:
                status += " (you)"
            for j, text in enumerate((p.name, p.roles_label, status)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self._selected()

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.people[rows[0].row()] if rows else None

    def select(self, name: str) -> None:
        for i, p in enumerate(self.people):
            if p.name == name:
                self.table.selectRow(i)

    def _selected(self) -> None:
        p = self.selected()
        for role, box in self.roles.items():
            box.setChecked(p is not None and role in p.roles)
            box.setEnabled(p is not None and p.active)
        self.save_roles_button.setEnabled(p is not None and p.active)
        self.deactivate_button.setEnabled(p is not None and p.active and p.id != self.clinic.person.id)

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def add(self) -> None:
        name = self.new_name.text().strip()
        if self.new_passphrase.text() != self.new_passphrase2.text():
            self._say("The two passphrases are not the same.")
            return
        roles = [r for r, box in self.new_roles.items() if box.isChecked()]
        try:
            person = self.clinic.add_person(name, roles, self.new_passphrase.text())
        except PROBLEMS as exc:
            self._say(str(exc))
            return
        for edit in (self.new_name, self.new_passphrase, self.new_passphrase2):
            edit.clear()
        self.refresh()
        self.select(person.name)
        self._say(
            f"{person.name} was added ({person.roles_label}). They log in with the passphrase you chose."
        )

    def save_roles(self) -> None:
        p = self.selected()
        if p is None:
            return
        roles = [r for r, box in self.roles.items() if box.isChecked()]
        try:
            self.clinic.set_roles(p.id, roles)
        except PROBLEMS as exc:
            self._say(str(exc))
            return
        self.refresh()
        self.select(p.name)
        self._say(f"{p.name}'s roles were saved.")

    def deactivate(self) -> None:
        p = self.selected()
        if p is None:
            return
        try:
            self.clinic.deactivate(p.id)
        except PROBLEMS as exc:
            self._say(str(exc))
            return
        self.refresh()
        self._say(f"{p.name} was deactivated: they can no longer log in; their records still name them.")


class ChangePassphraseDialog(QDialog):
    """The logged-in person's own passphrase (the key file's entry is rewrapped, nothing re-encrypted)."""

    def __init__(self, clinic: Clinic, parent=None):
        super().__init__(parent)
        self.clinic = clinic
        self.setWindowTitle("Change my passphrase")
        self.old = passphrase_field("Your passphrase now")
        self.new = passphrase_field("At least 10 characters")
        self.new2 = passphrase_field("The same again")
        self.problem = plain("", "Problem")
        form = QFormLayout(self)
        form.addRow(plain(f"{clinic.person.name}: a new passphrase for logging in and unlocking."))
        form.addRow("Current passphrase", self.old)
        form.addRow("New passphrase", self.new)
        form.addRow("Repeat it", self.new2)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.change_button = buttons.addButton("Change it", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.change)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def change(self) -> None:
        if self.new.text() != self.new2.text():
            self.problem.setText("The two new passphrases are not the same.")
            return
        try:
            self.clinic.change_passphrase(self.old.text(), self.new.text())
        except PROBLEMS as exc:
            self.problem.setText(str(exc))
            return
        self.accept()


class NewRecoveryKeyDialog(QDialog):
    """Replace the recovery key (after it was used, or lost): the old one stops working."""

    def __init__(self, clinic: Clinic, parent=None):
        super().__init__(parent)
        self.clinic = clinic
        self.recovery_key = ""
        self.setWindowTitle("New recovery key")
        self.resize(620, 320)
        self.explain = plain(
            "A new recovery key replaces the old one, which stops working at once. Print it or save it to a "
            "USB stick, and keep it locked away: with it and the database file, anyone can read every record."
        )
        self.key = recovery_key_label()
        self.make_button = QPushButton("Make a new recovery key")
        self.make_button.clicked.connect(self.make)
        self.save_button = QPushButton("Save to a file…")
        self.save_button.clicked.connect(self.save_dialog)
        self.save_button.setEnabled(False)
        self.status = plain("", "Problem")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.explain)
        col.addWidget(self.key)
        row = QHBoxLayout()
        row.addWidget(self.make_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        col.addLayout(row)
        col.addWidget(self.status)
        col.addStretch(1)
        col.addWidget(buttons)

    def make(self) -> None:
        try:
            self.recovery_key = self.clinic.new_recovery_key()
        except PROBLEMS as exc:
            self.status.setText(str(exc))
            return
        self.key.setText(self.recovery_key)
        self.make_button.setEnabled(False)
        self.save_button.setEnabled(True)
        self.status.setText("The old recovery key no longer works. Print or save this one now.")

    def save(self, path: Path) -> None:
        from desktop.security_ui import recovery_sheet

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(recovery_sheet(self.clinic.store.path, self.clinic.person.name, self.recovery_key))
        self.status.setText(f"Saved to {path}.")

    def save_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the recovery key", str(Path.home() / "abrasio-recovery-key.txt"), "Text (*.txt)"
        )
        if name:
            try:
                self.save(Path(name))
            except OSError as exc:
                self.status.setText(f"Could not save to {name}: {exc.strerror}.")
