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
    code: str = ""  # the second-factor code, once the relay asked for one

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
        # Shown only when the relay says the account has a second factor (ask_for_code).
        self.code = QLineEdit(self)
        self.code.setObjectName("loginCode")
        self.code.setAccessibleName(self.tr("Code from your authenticator app"))
        self.code.setPlaceholderText("123456")
        self.code.setMaxLength(8)
        self.code.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)

        form = QFormLayout()
        form.addRow(self.tr("&Username"), self.username)
        form.addRow(self.tr("&Password"), self.password)
        form.addRow(self.tr("&Relay"), self.relay_url)
        form.addRow(self.tr("&Code"), self.code)
        form.setRowVisible(self.code, False)
        self._form = form
        self._pending_password = ""

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
        if self.code_requested() and not self.code.text().strip():
            self.show_error(self.tr("Please enter the code from your authenticator app."))
            return
        self.accept()

    def code_requested(self) -> bool:
        return self._form.isRowVisible(self.code)

    def ask_for_code(self, sentence: str, credentials: Credentials) -> None:
        """The relay wants a second-factor code for ``credentials``: show the code field
        with ``sentence``; the password typed before is kept (in memory) for that step."""
        self._pending_password = credentials.password
        self._form.setRowVisible(self.password, False)
        self._form.setRowVisible(self.code, True)
        self.code.clear()
        self.show_error(sentence)
        self.code.setFocus(Qt.FocusReason.OtherFocusReason)

    def _end_code_step(self) -> None:
        self._pending_password = ""
        self._form.setRowVisible(self.code, False)
        self._form.setRowVisible(self.password, True)

    def show_error(self, sentence: str) -> None:
        """Show why signing in failed (one sentence, no details)."""
        self.error_label.setText(sentence)
        self.error_label.show()

    def credentials(self) -> Credentials:
        return Credentials(
            username=self.username.text().strip(),
            password=self._pending_password or self.password.text(),
            relay_url=self.relay_url.text().strip(),
            code=self.code.text().strip().replace(" ", "") if self.code_requested() else "",
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
        creds = self.credentials() if code == QDialog.DialogCode.Accepted.value else None
        # Nothing secret stays in the dialog (the app hands it back for a code step).
        self.password.clear()
        self.code.clear()
        self._end_code_step()
        return creds
