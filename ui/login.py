"""The sign-in dialog: username, password and relay address.

Opened with ``open()`` and awaited through its ``finished`` signal, never ``exec()``:
a nested event loop inside a coroutine would stall the running asyncio tasks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = ""
    relay_url: str = ""

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"Credentials(username={self.username!r}, relay_url={self.relay_url!r})"


class LoginDialog(QDialog):
    """Asks for credentials; shows a sentence when signing in failed."""

    def __init__(
        self, *, relay_url: str = "", username: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Sign in — Praxis Inbox"))
        self.setModal(True)
        self.setMinimumWidth(380)

        title = QLabel(self.tr("Sign in to your practice inbox"), self)
        title.setObjectName("loginTitle")
        self.username = QLineEdit(username, self)
        self.username.setAccessibleName(self.tr("Username"))
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(self.tr("Password"))
        self.relay_url = QLineEdit(relay_url, self)
        self.relay_url.setAccessibleName(self.tr("Relay address"))
        self.relay_url.setPlaceholderText("https://relay.praxis.example")
        self.error_label = QLabel(self)
        self.error_label.setObjectName("loginError")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName(self.tr("Sign-in problem"))
        self.error_label.hide()

        form = QFormLayout()
        form.addRow(self.tr("&Username"), self.username)
        form.addRow(self.tr("&Password"), self.password)
        form.addRow(self.tr("&Relay"), self.relay_url)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Sign in"))
        ok.setAccessibleName(self.tr("Sign in"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        (self.password if username else self.username).setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_accept(self) -> None:
        if not self.username.text().strip() or not self.relay_url.text().strip():
            self.show_error(self.tr("Please enter your username and the relay address."))
            return
        self.accept()

    def show_error(self, sentence: str) -> None:
        """Show why signing in failed (one sentence, no details)."""
        self.error_label.setText(sentence)
        self.error_label.show()

    def credentials(self) -> Credentials:
        return Credentials(
            username=self.username.text().strip(),
            password=self.password.text(),
            relay_url=self.relay_url.text().strip(),
        )

    async def ask(self) -> Credentials | None:
        """Open the dialog and wait for it; None when cancelled."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[int] = loop.create_future()

        def done(code: int) -> None:
            if not result.done():
                result.set_result(code)

        self.finished.connect(done)
        try:
            self.open()
            code = await result
        finally:
            self.finished.disconnect(done)
        if code != QDialog.DialogCode.Accepted.value:
            return None
        creds = self.credentials()
        self.password.clear()
        return creds
