"""Esc, Cancel or the window's close button on a form with changes asks before throwing them away."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QMessageBox


class AskBeforeDiscarding:
    """Mix into a ``QDialog`` (before it in the bases) that defines ``has_changes()``.

    ``reject()`` — Esc, Cancel, closing the window — closes at once when nothing changed; otherwise it
    asks (window-modal, not blocking the event loop) with "Keep editing" as the safe default.
    """

    DISCARD_QUESTION = "Discard the changes you made?"
    _asking: QMessageBox | None = None

    def has_changes(self) -> bool:  # pragma: no cover - each form says
        raise NotImplementedError

    def reject(self) -> None:
        if not self.has_changes():
            QDialog.reject(self)
            return
        if self._asking is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Discard changes?", self.DISCARD_QUESTION, parent=self)
        box.setObjectName("DiscardChanges")
        discard = box.addButton("Discard changes", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def answered() -> None:
            self._asking = None
            box.deleteLater()
            if box.clickedButton() is discard:
                QDialog.reject(self)

        box.finished.connect(answered)
        self._asking = box
        box.open()
