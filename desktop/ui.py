"""Small pieces the consent, series, recall, screening and erasure windows share.

Names and form text are never HTML: labels and message boxes here show plain text. Message boxes open
window-modal and return at once (``open()``), so the GUI thread never sits in a nested event loop.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox, QWidget

from desktop.widgets import set_invalid


def plain(text: str = "", name: str | None = None, wrap: bool = True) -> QLabel:
    """A label that never interprets its text as HTML."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    return label


def passphrase_field(placeholder: str = "") -> QLineEdit:
    """A field whose typing is never shown (a passphrase)."""
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


def recovery_key_label() -> QLabel:
    """Where a recovery key is shown once: large, monospaced, selectable, never HTML."""
    label = QLabel()
    label.setObjectName("RecoveryKey")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(16)
    font.setBold(True)
    label.setFont(font)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def field_error() -> QLabel:
    """The message shown beside a field that cannot be saved as it is (hidden until there is one)."""
    label = plain("", "FieldError")
    label.setVisible(False)
    return label


def show_errors(errors: dict[str, str], labels: dict[str, QLabel], fields: dict[str, QWidget]) -> None:
    """Each label shows its field's message or hides; each field is marked invalid or not."""
    for key, label in labels.items():
        label.setText(errors.get(key, ""))
        label.setVisible(key in errors)
    for key, field in fields.items():
        set_invalid(field, key in errors)


def error_box(parent: QWidget, title: str, text: str) -> QMessageBox:
    """Tell the user what went wrong, in words; the window behind keeps what they typed."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.open()
    return box


def ask(parent: QWidget, title: str, text: str, yes: QMessageBox.StandardButton, then: Callable[[], object]):
    """Ask before something that cannot be undone; ``then`` runs only if the user chose ``yes``."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, yes | QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.buttonClicked.connect(lambda b: box.standardButton(b) == yes and then())
    box.open()
    return box
