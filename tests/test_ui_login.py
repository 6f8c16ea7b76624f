"""The sign-in dialog's second-factor step: the code field appears only when the relay
asks for a code, the password typed before is kept for that step, nothing stays behind."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication

from inbox_app.client.api import Unauthorized
from inbox_app.client.records import SignedInUser
from tests.test_ui_support import FakeEngine, run, settle
from ui import app as app_module
from ui.login import Credentials, LoginDialog
from ui.main_window import MainWindow
from ui.preferences import Preferences

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


@pytest.fixture
def no_quit_on_close(qapp: Any) -> Iterator[None]:
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


def test_code_field_appears_when_the_relay_asks_and_returns_the_code(
    qtbot: Any, qloop: Any, no_quit_on_close: None
) -> None:
    dialog = LoginDialog(relay_url="https://relay.praxis.example", username="anna")
    qtbot.addWidget(dialog)
    assert not dialog.code.isVisibleTo(dialog) and not dialog.code_requested()

    async def answer(fill: dict[str, str]) -> Credentials | None:
        async def type_in() -> None:
            await settle(0.05)
            for field, text in fill.items():
                getattr(dialog, field).setText(text)
            dialog.buttons.accepted.emit()

        task = asyncio.ensure_future(type_in())
        creds = await dialog.ask()
        await task
        return creds

    first = run(qloop, answer({"password": "correct horse"}))
    assert first == Credentials("anna", "correct horse", "https://relay.praxis.example")

    # the relay said totp_required: the dialog asks for the code only
    assert first is not None
    dialog.ask_for_code("Enter the code from your authenticator app.", first)
    assert dialog.code_requested()
    assert dialog.code.isVisibleTo(dialog) and not dialog.password.isVisibleTo(dialog)
    assert dialog.error_label.text() == "Enter the code from your authenticator app."
    assert dialog.focusWidget() is dialog.code

    # an empty code is not sent; the dialog says what is missing
    async def empty_then_code() -> Credentials | None:
        async def type_in() -> None:
            await settle(0.05)
            dialog.buttons.accepted.emit()
            await settle(0.05)
            assert dialog.isVisible()
            assert "code" in dialog.error_label.text()
            dialog.code.setText("123 456")
            dialog.buttons.accepted.emit()

        task = asyncio.ensure_future(type_in())
        creds = await dialog.ask()
        await task
        return creds

    second = run(qloop, empty_then_code())
    assert second == Credentials(
        "anna", "correct horse", "https://relay.praxis.example", code="123456"
    )
    assert "123456" not in repr(second) and "correct horse" not in repr(second)
    # after the step: nothing secret kept, the ordinary form is back
    assert dialog.password.text() == "" and dialog.code.text() == ""
    assert not dialog.code_requested()
    assert dialog.password.isVisibleTo(dialog) and not dialog.code.isVisibleTo(dialog)


def test_cancelling_the_code_step_forgets_the_password(
    qtbot: Any, qloop: Any, no_quit_on_close: None
) -> None:
    dialog = LoginDialog(relay_url="https://relay.praxis.example", username="anna")
    qtbot.addWidget(dialog)
    dialog.ask_for_code("code please", Credentials("anna", "geheim123", "https://x"))

    async def cancel_later() -> Credentials | None:
        asyncio.get_running_loop().call_later(0.05, dialog.reject)
        return await dialog.ask()

    assert run(qloop, cancel_later()) is None
    assert not dialog.code_requested()
    assert dialog.credentials().password == ""


class CodeCheckingEngine(FakeEngine):
    """Signs in only with a second-factor code, as the relay does for an enrolled account."""

    calls: ClassVar[list[tuple[str, str, str | None]]] = []

    async def sign_in(self, username: str, password: str, code: str | None = None) -> SignedInUser:
        self.calls.append((username, password, code))
        if code is None:
            raise Unauthorized("code needed", status=401, code="totp_required")
        if code != "654321":
            raise Unauthorized("wrong code", status=401, code="totp_invalid")
        return await super().sign_in(username, password)


class ScriptedDialog:
    """Stands in for LoginDialog in run_app: answers as a user would, records prompts."""

    prompts: ClassVar[list[str]] = []

    def __init__(self, **_: Any) -> None:
        self.answers = iter(["", "111111", "654321"])
        self.pending: Credentials | None = None

    async def ask(self) -> Credentials | None:
        code = next(self.answers)
        base = self.pending or Credentials("anna", "demo-password", "http://127.0.0.1:9")
        return Credentials(base.username, base.password, base.relay_url, code=code)

    def ask_for_code(self, sentence: str, credentials: Credentials) -> None:
        self.prompts.append(sentence)
        self.pending = credentials

    def show_error(self, sentence: str) -> None:
        raise AssertionError(f"not a code problem: {sentence}")

    def deleteLater(self) -> None:
        pass


def test_the_app_asks_for_the_code_until_the_relay_accepts_it(
    qtbot: Any, qloop: Any, no_quit_on_close: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(app_module, "LoginDialog", ScriptedDialog)
    CodeCheckingEngine.calls.clear()
    ScriptedDialog.prompts.clear()
    engines: list[CodeCheckingEngine] = []

    def engine_factory(config: object) -> CodeCheckingEngine:
        engines.append(CodeCheckingEngine())
        return engines[-1]

    async def close_window_soon() -> None:
        for _ in range(100):
            await asyncio.sleep(0.05)
            for widget in QApplication.topLevelWidgets():
                if isinstance(widget, MainWindow) and widget.isVisible():
                    widget.close()
                    return

    async def scenario() -> int:
        closer = asyncio.ensure_future(close_window_soon())
        code = await app_module.run_app(
            data_dir=tmp_path,
            engine_factory=engine_factory,
            preferences=Preferences(None),
        )
        await closer
        return code

    assert run(qloop, scenario(), timeout=20) == 0
    assert CodeCheckingEngine.calls == [
        ("anna", "demo-password", None),
        ("anna", "demo-password", "111111"),
        ("anna", "demo-password", "654321"),
    ]
    assert len(ScriptedDialog.prompts) == 2
    assert "authenticator" in ScriptedDialog.prompts[0]
    assert "did not work" in ScriptedDialog.prompts[1]
    assert engines[-1].started
