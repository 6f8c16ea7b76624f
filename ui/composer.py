"""The message composer: Enter sends, Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class ComposerEdit(QPlainTextEdit):
    """A plain-text editor that emits ``submitted`` on Enter."""

    submitted = Signal()
    # "/" typed into an empty composer: open the quick-reply palette (with this query).
    quick_reply_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            event.accept()
            self.submitted.emit()
            return
        if event.text() == "/" and not self.toPlainText():
            event.accept()
            self.quick_reply_requested.emit("")
            return
        if enter:
            # Shift+Enter: a plain newline (QPlainTextEdit would insert a line separator).
            event.accept()
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)
