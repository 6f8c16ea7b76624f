"""The main window over a fake engine: opening threads, sending, live ticks, grabbing."""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from inbox_app.client.engine import ChangeSummary, ConnectionState, SignedInUser
from inbox_app.domain.messages import Direction, MessageStatus
from tests.test_ui_support import (
    NOW,
    demo_engine,
    run,
    settle,
)
from ui.login import Credentials, LoginDialog
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),  # offscreen platform note on show()
]

USER = SignedInUser(id=1, username="demo", display_name="Anna Empfang", role="receptionist")


@pytest.fixture
def window(qtbot, qloop):
    engine = demo_engine()
    win = MainWindow(engine, USER, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    return win, engine


def test_first_conversation_opens_by_itself(window) -> None:
    win, _ = window
    assert win.conversation_list.currentIndex().row() == 0
    assert win.controller.current_conversation_id == 1
    assert win.thread_name.text() == "Lena Hoffmann"
    assert "24 h" in win.window_label.text()
    assert win.controller.thread_model.rowCount() == 8
    assert win.composer.isEnabled()
    assert "Anna Empfang" in win.user_status.text()
    assert "Online" in win.connection_status.text()


def test_selecting_a_conversation_loads_its_thread(window, qloop) -> None:
    win, _ = window
    win.conversation_list.setCurrentIndex(win.filter_model.index(4, 0))
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 5
    assert win.thread_name.text() == "Jonas Becker"
    # the 24-hour window is closed there: free text is blocked
    assert "closed" in win.window_label.text()
    assert not win.composer.isEnabled() and not win.send_button.isEnabled()


def test_enter_sends_and_shift_enter_adds_a_line(window, qtbot, qloop) -> None:
    win, engine = window
    composer = win.composer
    composer.setFocus()
    qtbot.keyClicks(composer, "Bis Donnerstag")
    qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer, "Ihre Praxis")
    assert engine.sent == []
    assert composer.toPlainText() == "Bis Donnerstag\nIhre Praxis"

    qtbot.keyClick(composer, Qt.Key.Key_Return)
    run(qloop, settle(0.1))
    assert engine.sent == [(1, "Bis Donnerstag\nIhre Praxis")]
    assert composer.toPlainText() == ""
    last = win.controller.thread_model.records()[-1]
    assert last.id < 0 and last.status == MessageStatus.QUEUED
    assert last.direction == Direction.OUTBOUND

    # the relay acknowledges, then the patient reads it: the same row updates live
    engine.acknowledge(last.client_id, 700, MessageStatus.SENT)  # type: ignore[arg-type]
    run(qloop, settle(0.15))
    assert win.controller.thread_model.records()[-1].id == 700
    engine.set_status(700, MessageStatus.READ)
    run(qloop, settle(0.15))
    assert win.controller.thread_model.records()[-1].status == MessageStatus.READ


def test_send_button_and_failure_gives_the_text_back(window, qtbot, qloop) -> None:
    win, engine = window
    engine.fail_send = True
    win.composer.setPlainText("Rückruf morgen")
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    run(qloop, settle(0.1))
    assert win.composer.toPlainText() == "Rückruf morgen"
    assert "could not be queued" in win.statusBar().currentMessage()


def test_blank_composer_sends_nothing(window, qtbot, qloop) -> None:
    win, engine = window
    win.composer.setPlainText("   \n ")
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    run(qloop, settle(0.05))
    assert engine.sent == []


def test_new_message_moves_conversation_up_and_keeps_selection(window, qloop) -> None:
    win, engine = window
    engine.receive(4, 999, "Bin gleich da", NOW + 1)
    run(qloop, settle(0.15))
    model = win.controller.conversation_model
    assert model.record_at(0).id == 4  # type: ignore[union-attr]
    assert win.conversation_list.currentIndex().data(0) == "Lena Hoffmann"
    assert win.controller.current_conversation_id == 1


def test_connection_state_shows_in_status_bar(window, qloop) -> None:
    win, engine = window
    engine.emit(ChangeSummary(connection=ConnectionState.OFFLINE))
    run(qloop, settle(0.1))
    assert "Offline" in win.connection_status.text()


def test_offline_shows_since_when(window, qloop) -> None:
    import time

    win, engine = window
    lost = time.mktime((2026, 11, 25, 7, 42, 0, 0, 0, -1))
    engine.offline_since = lost
    engine.emit(ChangeSummary(connection=ConnectionState.OFFLINE))
    run(qloop, settle(0.1))
    assert win.connection_status.text().endswith("Offline since 07:42")


def test_grab_produces_a_picture(window, tmp_path) -> None:
    win, _ = window
    pixmap = win.grab()
    assert not pixmap.isNull()
    assert pixmap.width() >= 800 and pixmap.height() >= 500
    out = tmp_path / "inbox.png"
    assert pixmap.save(str(out))
    assert out.stat().st_size > 10_000


def test_accessible_names_on_controls(window) -> None:
    win, _ = window
    for widget in (win.conversation_list, win.thread_view, win.composer, win.send_button):
        assert widget.accessibleName()


@pytest.fixture
def no_quit_on_close(qapp):
    # As in the app: closing the only window must not make Qt quit the running loop.
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


def test_login_dialog_returns_credentials_or_none(qtbot, qloop, no_quit_on_close) -> None:
    dialog = LoginDialog(relay_url="http://127.0.0.1:9", username="demo")
    qtbot.addWidget(dialog)

    async def accept_later(password: str) -> Credentials | None:
        async def fill() -> None:
            await settle(0.05)
            dialog.password.setText(password)
            dialog.buttons.accepted.emit()

        task = asyncio.ensure_future(fill())
        creds = await dialog.ask()
        await task
        return creds

    creds = run(qloop, accept_later("geheim"))
    assert creds == Credentials("demo", "geheim", "http://127.0.0.1:9")
    assert "geheim" not in repr(creds)
    assert dialog.password.text() == ""  # not kept around after use

    async def cancel_later() -> Credentials | None:
        asyncio.get_running_loop().call_later(0.05, dialog.reject)
        return await dialog.ask()

    assert run(qloop, cancel_later()) is None
    assert dialog.result() == QDialog.DialogCode.Rejected.value


def test_login_dialog_needs_username(qtbot) -> None:
    dialog = LoginDialog(relay_url="http://x")
    qtbot.addWidget(dialog)
    dialog.buttons.accepted.emit()
    assert dialog.error_label.isVisibleTo(dialog)
    assert dialog.result() != QDialog.DialogCode.Accepted.value


def test_german_translation_is_used_for_a_german_locale(qapp, qtbot, qloop) -> None:
    from PySide6.QtCore import QLocale

    from ui.i18n import TRANSLATIONS_DIR, install_translator, remove_translators

    # The compiled catalogue ships in the repo; without it the app is English-only.
    assert (TRANSLATIONS_DIR / "inbox_de.qm").is_file(), "run pyside6-lrelease on inbox_de.ts"
    assert install_translator(qapp, QLocale(QLocale.Language.English)) == "en"
    assert install_translator(qapp, QLocale(QLocale.Language.German)) == "de"
    try:
        win = MainWindow(demo_engine(), USER, clock=lambda: NOW)
        qtbot.addWidget(win)
        win.show()
        win.start()
        run(qloop, settle(0.2))
        assert win.send_button.text() == "Senden"
        assert win.window_label.text() == "Fenster offen: noch 24 h"
    finally:
        remove_translators(qapp)


def test_dates_follow_the_chosen_language_not_the_system(qapp) -> None:
    """English chosen on a German system shows English dates; German shows German ones."""
    from datetime import date

    from PySide6.QtCore import QLocale

    from ui.i18n import install_language, remove_translators
    from ui.locale_dates import format_date, ui_locale

    system = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        install_language(qapp, "en")
        assert ui_locale().language() == QLocale.Language.English
        assert format_date(date(2026, 11, 23)) == "23/11/2026"
        install_language(qapp, "de")
        assert format_date(date(2026, 11, 23)) == "23.11.2026"
    finally:
        remove_translators(qapp)
        QLocale.setDefault(system)
