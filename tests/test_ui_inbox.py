"""The inbox around the thread: views and counts, quick replies, drafts, search jumps,
retry, notifications, shortcuts, languages and themes."""

from __future__ import annotations

import os
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QAbstractItemModel, QEvent, QLocale, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

from inbox_app.client.engine import ChangeSummary, SignedInUser
from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus
from tests.test_ui_support import NOW, FakeEngine, conversation, demo_engine, message, run, settle
from ui.i18n import install_language, pseudo, remove_translators
from ui.main_window import MainWindow
from ui.models import ConversationListModel
from ui.quick_replies import QuickReply, fill, load_quick_replies, patient_values, unfilled
from ui.search import SearchHit, SearchResultsModel
from ui.theme import apply_theme, colors
from ui.views import VIEW_KEYS, ConversationFilterModel, ViewCountsModel, matches

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

ME = SignedInUser(id=1, username="demo", display_name="Anna Empfang", role="receptionist")
H = 3600.0


def attach_tester(model: QAbstractItemModel) -> QAbstractItemModelTester:
    return QAbstractItemModelTester(
        model, QAbstractItemModelTester.FailureReportingMode.Warning, model
    )


def team_conversations() -> list[ConversationRecord]:
    """One conversation per interesting state (synthetic names)."""
    return [
        conversation(1, "Lena Hoffmann", NOW - 60, "Hallo", last_inbound_at=NOW - 60, unread=2),
        conversation(
            2,
            "Murat Yılmaz",
            NOW - 600,
            "Rezept?",
            last_inbound_at=NOW - 600,
            claimed_by=1,
            claimed_by_name="Anna Empfang",
        ),
        conversation(
            3,
            "Familie Schneider",
            NOW - 23 * H,
            "Befund?",
            last_inbound_at=NOW - 23 * H,
            claimed_by=2,
            claimed_by_name="Ben Pflege",
            escalated=True,
        ),
        conversation(
            4, "Sophie Wagner", NOW - 2 * H, "Sie: Bis morgen", last_inbound_at=NOW - 5 * H
        ),
        conversation(5, "Jonas Becker", NOW - 3 * H, "Danke", status="resolved"),
        conversation(6, "Aylin Demir", NOW - 4 * H, "Später", status="snoozed"),
        conversation(
            7, "Peter Krause", NOW - 40 * H, "Tschüss", last_inbound_at=NOW - 40 * H, assignee_id=1
        ),
    ]


def test_view_rules() -> None:
    recs = {r.id: r for r in team_conversations()}
    inside = {
        key: {i for i, r in recs.items() if matches(key, r, me=1, now=NOW)} for key in VIEW_KEYS
    }
    assert inside["all"] == {1, 2, 3, 4, 7}
    assert inside["mine"] == {2, 7}
    assert inside["unassigned"] == {1, 4}
    assert inside["escalated"] == {3}
    assert inside["waiting"] == {4}  # we wrote last
    assert inside["closing"] == {3}  # under 2 h left
    assert inside["snoozed"] == {6}
    assert inside["resolved"] == {5}


def test_filter_and_counts_models_pass_the_model_tester(qapp) -> None:
    source = ConversationListModel()
    attach_tester(source)
    proxy = ConversationFilterModel(clock=lambda: NOW)
    proxy.setSourceModel(source)
    attach_tester(proxy)
    counts = ViewCountsModel(source, clock=lambda: NOW)
    counts.set_user(1)
    attach_tester(counts)
    proxy.set_user(1)
    source.upsert(team_conversations())
    counts.recount()
    assert proxy.rowCount() == 5
    assert counts.count("mine") == 2 and counts.count("resolved") == 1
    assert counts.unread_conversations() == 1
    proxy.set_view("escalated")
    assert proxy.rowCount() == 1
    # a claim moves a conversation between views live
    rec = source.record_at(source.row_of_id(1) or 0)
    assert rec is not None
    source.upsert([replace(rec, claimed_by=1, claimed_by_name="Anna Empfang")])
    counts.recount()
    assert counts.count("mine") == 3 and counts.count("unassigned") == 1
    proxy.set_view("mine")
    assert proxy.rowCount() == 3


def test_search_and_quick_reply_models_pass_the_model_tester(qapp) -> None:
    model = SearchResultsModel()
    attach_tester(model)
    model.set_hits("rezept", [SearchHit(message(1, 2, NOW, "Rezept bitte"), "Murat Yılmaz")])
    assert model.rowCount() == 1
    from ui.quick_replies import QuickReplyPalette

    palette = QuickReplyPalette(
        [QuickReply("a", "hallo", "Begrüßung", "Hallo {{patient.first_name}}")]
    )
    attach_tester(palette.model)
    attach_tester(palette.proxy)
    palette.deleteLater()


def test_domain_records_tolerate_missing_and_new_fields() -> None:
    old = {
        "id": 1,
        "wa_id": "49",
        "display_name": "X",
        "phone": None,
        "last_message_at": 1.0,
        "last_message_preview": "",
        "last_inbound_at": None,
        "unread": 0,
    }
    rec = ConversationRecord.from_json(old)
    assert rec.status == "open" and rec.assignee_id is None and rec.labels == ()
    new = {**old, "status": "waiting", "claimed_by": "2", "labels": ["escalated", "lab"]}
    rec = ConversationRecord.from_json(new)
    assert rec.claimed_by == 2 and rec.escalated and rec.labels == ("escalated", "lab")
    assert ConversationRecord.from_json(rec.to_json()) == rec
    msg = message(5, 1, NOW, "x")
    assert MessageRecord.from_json({**msg.to_json(), "reactions": None}) == msg
    assert MessageRecord.from_json(msg.to_json()) == msg


def test_quick_reply_variables_fill_and_flag_missing_values() -> None:
    replies, clinic = load_quick_replies()
    assert {r.language for r in replies} == {"de", "en"}
    values = {**clinic, **patient_values("Lena Hoffmann")}
    done = fill("Hallo {{patient.first_name}}, rufen Sie {{clinic.phone}} an.", values)
    assert done.complete and "Lena" in done.text and "{{" not in done.text
    partial = fill("Ihr Termin am {{appointment.date}}, {{patient.first_name}}.", values)
    assert partial.missing == ("appointment.date",)
    assert "{{appointment.date}}" in partial.text  # never filled with a blank
    assert unfilled(partial.text) == ["appointment.date"]
    assert patient_values("+49 151 000") == {}  # a number is no first name


@pytest.fixture
def team_window(qtbot, qloop):
    engine = FakeEngine(
        team_conversations(),
        [
            message(101, 1, NOW - 120, "Guten Morgen, ich brauche einen Termin."),
            message(102, 1, NOW - 60, "Hallo?"),
            message(103, 2, NOW - 600, "Können Sie das Rezept schicken?"),
            message(104, 7, NOW - 40 * H, "Tschüss"),
        ],
    )
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    return win, engine


def test_views_and_counts_in_the_window(team_window, qloop) -> None:
    win, _ = team_window
    assert win.filter_model.rowCount() == 5
    assert win.view_counts.count("escalated") == 1
    win.set_view("mine")
    run(qloop, settle(0.05))
    ids = {win.filter_model.index(r, 0).data(Qt.ItemDataRole.UserRole + 2) for r in range(2)}
    assert ids == {2, 7}
    assert win.list_title.text() == "Mine"
    assert win.windowTitle() == "(1) Praxis Inbox"


def test_quick_reply_palette_inserts_filled_text_and_blocks_missing(
    team_window, qtbot, qloop
) -> None:
    win, engine = team_window
    assert win.controller.current_conversation_id == 1
    qtbot.keyClicks(win.composer, "/")
    assert win.palette_popup.isVisible() and win.composer.toPlainText() == ""
    qtbot.keyClicks(win.palette_popup.search, "rezept")
    assert "Lena" in win.palette_popup.preview.text()
    qtbot.keyClick(win.palette_popup.search, Qt.Key.Key_Return)
    assert not win.palette_popup.isVisible()
    assert win.composer.toPlainText().startswith("Hallo Lena")
    win.composer.clear()
    # a reply needing an appointment date: flagged in the preview, kept as {{…}}, not sent
    win.open_quick_replies("appointment confirmed")
    assert "appointment.date" in win.palette_popup.missing.text()
    qtbot.keyClick(win.palette_popup.search, Qt.Key.Key_Return)
    assert "{{appointment.date}}" in win.composer.toPlainText()
    win.submit()
    run(qloop, settle(0.05))
    assert engine.sent == []
    assert "appointment.date" in win.statusBar().currentMessage()


def test_drafts_are_kept_per_conversation(team_window, qtbot, qloop) -> None:
    win, _ = team_window
    qtbot.keyClicks(win.composer, "Entwurf fuer Lena")
    win.conversation_list.setCurrentIndex(win.filter_model.index(1, 0))
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 2
    assert win.composer.toPlainText() == ""
    assert win.draft_for(1) == "Entwurf fuer Lena"
    win.conversation_list.setCurrentIndex(win.filter_model.index(0, 0))
    run(qloop, settle(0.1))
    assert win.composer.toPlainText() == "Entwurf fuer Lena"


def test_closed_window_switches_to_template_mode(team_window, qloop) -> None:
    win, _ = team_window
    win.set_view("mine")
    run(qloop, settle(0.05))
    row = next(
        r
        for r in range(win.filter_model.rowCount())
        if win.filter_model.index(r, 0).data(Qt.ItemDataRole.UserRole + 2) == 7
    )
    win.conversation_list.setCurrentIndex(win.filter_model.index(row, 0))
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 7
    assert not win.composer.isEnabled() and not win.quick_reply_button.isEnabled()
    assert win.composer_note.isVisibleTo(win) and "template" in win.composer_note.text()


def test_search_jumps_to_the_message_in_its_thread(team_window, qtbot, qloop) -> None:
    win, _ = team_window
    qtbot.keyClicks(win.search_field, "rezept")
    run(qloop, settle(0.45))
    assert win.list_stack.currentWidget() is win.search_page
    assert win.search_model.rowCount() == 1
    assert "1" in win.search_info.text()
    win._on_search_activated(win.search_model.index(0, 0))
    run(qloop, settle(0.2))
    assert win.controller.current_conversation_id == 2
    rec = win.controller.thread_model.record_at(win.thread_view.highlighted_row or 0)
    assert rec is not None and rec.id == 103
    win.search_field.clear()
    assert win.list_stack.currentWidget() is win.conversation_list


def test_jump_into_long_history_loads_a_window_around_the_hit(qtbot, qloop) -> None:
    engine = demo_engine()  # conversation 4 has 121 messages
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    target = next(m for m in engine.msgs.values() if m.text == "Verlauf 10")
    row = run(qloop, win.controller.jump_to_now(target))
    model = win.controller.thread_model
    assert isinstance(row, int) and model.record_at(row) == target
    assert model.rowCount() <= 50 and model.has_newer and win.jump_latest.isVisibleTo(win)
    # live messages beyond the window wait for "jump to latest"
    engine.receive(4, 999, "neu", NOW)
    run(qloop, settle(0.2))
    assert model.row_of_id(999) is None
    win.jump_latest.click()
    run(qloop, settle(0.2))
    assert model.row_of_id(999) is not None and not win.jump_latest.isVisibleTo(win)


def test_failed_message_shows_reason_and_retries_on_click(qtbot, qloop) -> None:
    engine = FakeEngine([conversation(1, "Lena Hoffmann", NOW, last_inbound_at=NOW - 60)])
    failed = MessageRecord(
        id=-1,
        conversation_id=1,
        direction=Direction.OUTBOUND,
        type="text",
        text="Bis morgen",
        status=MessageStatus.FAILED,
        timestamp=NOW - 30,
        client_id="c-1",
        error_title="Re-engagement message",
    )
    engine.outbox["c-1"] = failed
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    index = win.controller.thread_model.index(0, 0)
    option = QStyleOptionViewItem()
    option.initFrom(win.thread_view)
    option.rect = win.thread_view.visualRect(index)
    g = win.message_delegate.geometry(option, index)
    assert g is not None and g.failure is not None and g.retry is not None
    assert "Re-engagement" in win.message_delegate._failure_text(failed)
    pos = QPointF(option.rect.topLeft()) + g.retry.center()
    press = QMouseEvent(
        QEvent.Type.MouseButtonRelease,
        pos,
        win.thread_view.viewport().mapToGlobal(pos),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert win.message_delegate.editorEvent(press, win.controller.thread_model, option, index)
    run(qloop, settle(0.1))
    assert engine.retried == ["c-1"]
    rec = win.controller.thread_model.record_at(0)
    assert rec is not None and rec.status == MessageStatus.QUEUED


def test_rich_messages_measure_and_paint(qtbot, qloop) -> None:
    base = dict(conversation_id=1, status=MessageStatus.RECEIVED, direction=Direction.INBOUND)
    msgs = [
        MessageRecord(id=1, type="text", text="Frage", timestamp=NOW - 50, **base),  # type: ignore[arg-type]
        MessageRecord(id=2, type="image", text=None, timestamp=NOW - 40, **base),  # type: ignore[arg-type]
        MessageRecord(
            id=3, type="document", text=None, filename="befund.pdf", timestamp=NOW - 30, **base
        ),  # type: ignore[arg-type]
        MessageRecord(
            id=4,
            type="text",
            text="Antwort",
            reply_to_id=1,
            reactions=("👍",),
            timestamp=NOW - 20,
            **base,
        ),  # type: ignore[arg-type]
        MessageRecord(
            id=5,
            conversation_id=1,
            direction=Direction.OUTBOUND,
            type="note",
            text="Bitte Dr. Weber fragen",
            status=MessageStatus.SENT,
            timestamp=NOW - 10,
        ),
    ]
    engine = FakeEngine([conversation(1, "Lena", NOW, last_inbound_at=NOW)], msgs)
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    d = win.message_delegate
    option = QStyleOptionViewItem()
    option.initFrom(win.thread_view)
    geoms = [d.geometry(option, win.controller.thread_model.index(r, 0)) for r in range(5)]
    assert all(g is not None for g in geoms)
    assert geoms[1] is not None and geoms[1].media is not None
    assert geoms[1].media.height() == d.MEDIA_H
    assert geoms[3] is not None and geoms[3].quote is not None and geoms[3].reactions is not None
    assert geoms[4] is not None and geoms[4].note_header > 0
    assert d.quoted_text(win.controller.thread_model.index(3, 0), 1) == "Frage"
    assert not win.grab().isNull()


def test_notifications_carry_no_patient_data(team_window, qloop) -> None:
    win, engine = team_window
    engine.receive(4, 500, "Meine Telefonnummer ist 0151 2345", NOW)
    run(qloop, settle(0.2))
    assert win.notifications, "a new message must notify"
    for title, text in win.notifications:
        for secret in ("Sophie", "Wagner", "0151", "Telefonnummer", "+49"):
            assert secret not in title and secret not in text
    assert win.notifications[-1][1] == "New message in Unassigned"
    assert win.windowTitle().startswith("(2)")


def test_next_unread_and_shortcuts_overview(team_window, qloop) -> None:
    win, engine = team_window
    engine.receive(4, 501, "neu", NOW - 1)
    run(qloop, settle(0.2))
    win.next_unread()
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 4
    assert not win.actions_by_key["claim"].isEnabled()  # placeholder until the relay has it
    assert win.actions_by_key["search"].isEnabled()
    win.show_shortcuts()
    dialog = win.shortcuts_dialog
    assert dialog is not None and dialog.isVisible() and dialog.model.rowCount() >= 10
    attach_tester(dialog.model)
    dialog.close()


def test_presence_shows_on_the_row(team_window) -> None:
    win, _ = team_window
    model = win.controller.conversation_model
    attach_tester(model)
    model.set_presence(2, "Ben")
    from ui.delegates import ConversationDelegate

    row = model.row_of_id(2)
    assert row is not None
    index = model.index(row, 0)
    rec = index.data(Qt.ItemDataRole.UserRole + 1)
    delegate = ConversationDelegate()
    assert delegate.meta_text(rec, "Ben", 1) == "Ben is typing…"
    assert delegate.meta_text(rec, None, 1) == "Yours"
    other = model.record_at(model.row_of_id(3) or 0)
    assert other is not None
    assert "Claimed by Ben Pflege" in delegate.meta_text(other, None, 1)
    model.set_presence(2, None)
    delegate.deleteLater()


def test_accessible_names_everywhere(team_window) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QLineEdit,
        QPlainTextEdit,
        QWidget,
    )

    win, _ = team_window
    kinds = (QAbstractButton, QAbstractItemView, QLineEdit, QPlainTextEdit, QComboBox)
    for page in ("inbox", "settings", "lock"):
        win.show_page(page)
        missing = [
            w.objectName() or type(w).__name__
            for w in win.findChildren(QWidget)
            if isinstance(w, kinds) and w.isVisibleTo(win) and not w.accessibleName()
        ]
        assert missing == [], page


def test_language_switch_and_pseudo_locale(team_window, qapp, qloop) -> None:
    win, _ = team_window
    try:
        assert install_language(qapp, "de") == "de"
        qapp.processEvents()
        assert win.send_button.text() == "Senden"
        assert win.list_title.text() == "Alle offenen"
        assert install_language(qapp, "pseudo") == "pseudo"
        qapp.processEvents()
        text = win.send_button.text()
        assert text.startswith("[") and len(text) >= len("Send") * 1.3
        assert pseudo("Window open: %n h left").count("%n") == 1
        assert "{{patient.first_name}}" in pseudo("Hi {{patient.first_name}}")
    finally:
        remove_translators(qapp)
        install_language(qapp, "en")
        qapp.processEvents()
    assert win.send_button.text() == "Send"
    assert QLocale  # imported for the locale rules in test_ui_window


def test_settings_page_emits_choices_and_theme_applies(team_window, qapp) -> None:
    win, _ = team_window
    chosen: list[str] = []
    win.language_requested.connect(chosen.append)
    win.theme_requested.connect(chosen.append)
    win.show_page("settings")
    page = win.settings_page
    page.language.setCurrentIndex(page.LANGUAGES.index("de"))
    page.theme.setCurrentIndex(1)
    assert chosen == ["de", "dark"]
    try:
        apply_theme(qapp, "dark")
        win.repaint_all()
        assert colors().name == "dark"
        assert not win.grab().isNull()
    finally:
        apply_theme(qapp, "light")
    assert colors().name == "light"
    assert isinstance(QApplication.instance(), QApplication)


def test_lock_page_hides_the_inbox_and_needs_engine_support(team_window, qloop) -> None:
    win, _ = team_window
    assert not win.rail_buttons["lock"].isEnabled()  # this engine cannot lock its cache
    win.show_page("lock")
    assert win.current_page() == "lock" and not win.thread_view.isVisible()
    win.lock_page.password.setText("demo-password")
    win.lock_page.unlock_button.click()
    run(qloop, settle(0.1))
    assert win.current_page() == "lock" and win.lock_page.error.text()


def test_demo_parser_accepts_language_theme_and_view() -> None:
    from ui.app import build_parser

    args = build_parser().parse_args(
        ["demo", "--screenshot", "x.png", "--lang", "de", "--theme", "dark", "--view", "settings"]
    )
    assert (args.lang, args.theme, args.view) == ("de", "dark", "settings")
    assert build_parser().parse_args(["demo"]).view == "inbox"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--theme", "sepia"])


def test_unchanged_conversation_emits_no_notification(team_window, qloop) -> None:
    win, engine = team_window
    engine.emit(ChangeSummary(conversation_ids=frozenset({1})))
    run(qloop, settle(0.2))
    assert win.notifications == []


def test_every_german_string_is_translated() -> None:
    import xml.etree.ElementTree as ET

    from ui.i18n import TRANSLATIONS_DIR

    root = ET.parse(TRANSLATIONS_DIR / "inbox_de.ts").getroot()  # noqa: S314 (our own file)
    unfinished = [
        m.findtext("source")
        for m in root.iter("message")
        if (m.find("translation") is not None and m.find("translation").get("type"))
    ]
    assert unfinished == []
    qm = TRANSLATIONS_DIR / "inbox_de.qm"
    assert qm.stat().st_mtime >= (TRANSLATIONS_DIR / "inbox_de.ts").stat().st_mtime - 1


def test_screenshot_opens_an_answered_conversation(team_window, qloop) -> None:
    win, _ = team_window
    win.open_top_conversation(prefer_answered=True)
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 4  # staff wrote last there
    win.open_top_conversation()
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 1


class LockingEngine(FakeEngine):
    """A fake with the engine's lock/unlock (cache closed while locked)."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.locked = False

    async def lock(self) -> None:
        from inbox_app.client.records import SessionState

        self.locked = True
        self.emit(ChangeSummary(session=SessionState.LOCKED))

    async def unlock(self, password: str) -> None:
        from inbox_app.client.records import SessionState

        if password != "demo-password":
            raise PermissionError("wrong password")
        self.locked = False
        self.emit(ChangeSummary(session=SessionState.UNLOCKED))

    async def conversations(self) -> list[ConversationRecord]:
        assert not self.locked, "the cache is closed while locked"
        return await super().conversations()


def test_lock_clears_the_models_and_unlock_brings_them_back(qtbot, qloop) -> None:
    engine = LockingEngine(team_conversations())
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    assert win.rail_buttons["lock"].isEnabled()
    win.rail_buttons["lock"].click()
    run(qloop, settle(0.2))
    assert engine.locked and win.current_page() == "lock"
    assert win.controller.conversation_model.rowCount() == 0  # no patient data kept in view
    assert win.controller.thread_model.rowCount() == 0
    assert win.thread_name.text() == "" and win.panel_values["name"].text() == "—"
    assert "Locked" in win.connection_status.text()
    win.lock_page.password.setText("wrong")
    win.lock_page.unlock_button.click()
    run(qloop, settle(0.1))
    assert win.current_page() == "lock" and win.lock_page.error.text()
    win.lock_page.password.setText("demo-password")
    win.lock_page.unlock_button.click()
    run(qloop, settle(0.3))
    assert not engine.locked and win.current_page() == "inbox"
    assert win.controller.conversation_model.rowCount() == len(team_conversations())
    assert win.lock_page.password.text() == ""


def test_idle_time_locks_the_inbox(qtbot, qloop) -> None:
    from inbox_app.client.idle import IdleLock

    engine = LockingEngine(team_conversations())
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    now = [0.0]
    win.controller.idle = IdleLock(
        win.controller.idle_timeout.emit, timeout=60, clock=lambda: now[0]
    )
    now[0] = 30
    run(qloop, win.controller.check_idle())
    assert win.current_page() == "inbox"
    now[0] = 61
    run(qloop, win.controller.check_idle())
    run(qloop, settle(0.2))
    assert win.current_page() == "lock" and engine.locked


def test_conversation_commands_run_once_the_engine_offers_them(qtbot, qloop) -> None:
    claimed: list[int] = []

    class ClaimingEngine(FakeEngine):
        async def claim(self, conversation_id: int) -> None:
            claimed.append(conversation_id)

    engine = ClaimingEngine(team_conversations())
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    assert win.actions_by_key["claim"].isEnabled()
    assert not win.actions_by_key["resolve"].isEnabled()
    assert not win.actions_by_key["lock"].isEnabled()
    win.actions_by_key["claim"].trigger()
    run(qloop, settle(0.1))
    assert claimed == [1]


def test_pseudo_locale_run_finds_no_clipped_text(team_window, qapp, qloop) -> None:
    from PySide6.QtWidgets import QPushButton, QWidget

    from ui.clipping import clipped_widgets

    win, _ = team_window
    try:
        install_language(qapp, "pseudo")
        qapp.processEvents()
        for page in ("inbox", "settings", "lock"):
            win.show_page(page)
            run(qloop, settle(0.05))  # layouts of a page shown just now settle first
            b = win.settings_page.back_button
            print(
                page, b.width(), b.sizeHint().width(), b.fontMetrics().horizontalAdvance(b.text())
            )
            assert clipped_widgets(win) == [], page
    finally:
        install_language(qapp, "en")
        win.show_page("inbox")
    # and the check does catch a clipped button
    box = QWidget()
    button = QPushButton("A rather long caption", box)
    button.setObjectName("narrow")
    button.setFixedWidth(40)
    box.show()
    assert clipped_widgets(box) == ["narrow: A rather long caption"]
    box.deleteLater()


def test_label_filter_appears_with_labels_and_narrows_the_list(qtbot, qloop) -> None:
    recs = team_conversations()
    recs[0] = replace(recs[0], labels=("labor",))
    recs[3] = replace(recs[3], labels=("Rezept", "labor"))
    engine = FakeEngine(recs)
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    combo = win.label_filter
    assert combo.isVisibleTo(win)
    assert [combo.itemText(i) for i in range(combo.count())] == ["All labels", "labor", "Rezept"]
    combo.setCurrentIndex(1)
    assert win.filter_model.rowCount() == 2
    combo.setCurrentIndex(0)
    assert win.filter_model.rowCount() == 5


def test_label_filter_hidden_without_labels(team_window) -> None:
    win, _ = team_window
    assert not win.label_filter.isVisibleTo(win)


def test_replying_where_a_colleague_holds_the_conversation_asks_first(
    team_window, qtbot, qloop
) -> None:
    from PySide6.QtWidgets import QMessageBox

    win, engine = team_window
    win.conversation_list.setCurrentIndex(win.filter_model.index(3, 0))  # Schneider, Ben's
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 3
    qtbot.keyClicks(win.composer, "Der Befund ist da")
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    run(qloop, settle(0.05))
    box = win.take_over_question
    assert box is not None and box.isVisible() and "Ben Pflege" in box.text()
    assert engine.sent == []
    box.done(QMessageBox.StandardButton.No)
    run(qloop, settle(0.05))
    assert engine.sent == [] and win.composer.toPlainText() == "Der Befund ist da"
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    run(qloop, settle(0.05))
    win.take_over_question.done(QMessageBox.StandardButton.Yes)
    run(qloop, settle(0.1))
    assert engine.sent == [(3, "Der Befund ist da")]
    # asked once: the next reply goes straight out
    qtbot.keyClicks(win.composer, "Noch etwas")
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    run(qloop, settle(0.1))
    assert engine.sent[-1] == (3, "Noch etwas")


def test_own_claim_sends_without_asking(team_window, qtbot, qloop) -> None:
    win, engine = team_window
    win.conversation_list.setCurrentIndex(win.filter_model.index(1, 0))  # Murat, mine
    run(qloop, settle(0.1))
    assert win.controller.current_conversation_id == 2
    qtbot.keyClicks(win.composer, "Rezept ist raus")
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    run(qloop, settle(0.1))
    assert engine.sent == [(2, "Rezept ist raus")]


def test_saved_views_are_named_applied_removed_and_kept(qtbot, qloop, tmp_path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QDialog

    from ui.preferences import Preferences
    from ui.views import SavedView

    recs = team_conversations()
    recs[0] = replace(recs[0], labels=("labor",))
    engine = FakeEngine(recs)
    settings = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    prefs = Preferences(settings)
    win = MainWindow(engine, ME, clock=lambda: NOW, saved_views=prefs.saved_views)
    win.saved_views_changed.connect(prefs.set_saved_views)
    qtbot.addWidget(win)
    attach_tester(win.saved_views)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    assert not win.saved_list.isVisibleTo(win)
    win.set_view("unassigned")
    win.label_filter.setCurrentIndex(1)  # "labor"
    win.rail_buttons["save_view"].click()
    dialog = win.save_view_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("Labor offen")
    dialog.done(QDialog.DialogCode.Accepted)
    run(qloop, settle(0.05))
    assert win.saved_list.isVisibleTo(win)
    assert prefs.saved_views == [SavedView("Labor offen", "unassigned", "labor")]
    # applying it from another view restores view and label
    win.set_view("all")
    win.label_filter.setCurrentIndex(0)
    win._on_saved_view_chosen(win.saved_views.index(0, 0))
    assert win.filter_model.view_key == "unassigned" and win.filter_model.label == "labor"
    assert win.filter_model.rowCount() == 1
    # kept across starts
    assert Preferences(settings).saved_views == prefs.saved_views
    win.saved_list.setCurrentIndex(win.saved_views.index(0, 0))
    qtbot.keyClick(win.saved_list, Qt.Key.Key_Delete)
    assert prefs.saved_views == [] and not win.saved_list.isVisibleTo(win)
    assert SavedView.from_json({"name": "x", "view": "nonsense"}) is None


def test_demo_lock_view_really_locks_and_settings_view_shows(qloop, qapp, tmp_path, capsys) -> None:
    from PySide6.QtGui import QImage

    from tests.test_ui_app import FakeStack
    from ui.app import run_demo

    qapp.setQuitOnLastWindowClosed(False)
    engines: list[LockingEngine] = []

    def engine_factory(config: object) -> LockingEngine:
        engines.append(LockingEngine(team_conversations()))
        return engines[-1]

    try:
        for view in ("lock", "settings"):
            shot = tmp_path / f"{view}.png"
            code = run(
                qloop,
                run_demo(
                    data_dir=tmp_path / view,
                    screenshot=shot,
                    quit_after=1.2,
                    stack_factory=FakeStack,
                    engine_factory=engine_factory,  # type: ignore[arg-type]
                    view=view,
                ),
                timeout=10,
            )
            assert code == 0, capsys.readouterr().err
            assert not QImage(str(shot)).isNull()
        assert engines[0].locked  # the lock view locked the engine, not just the screen
        assert not engines[1].locked
    finally:
        qapp.setQuitOnLastWindowClosed(True)


class SecondFactorEngine(LockingEngine):
    """Unlocking needs the authenticator code too (an account with TOTP, relay reachable);
    it can also lock itself because the relay came back and wants the code."""

    second_factor_needed = False

    async def unlock(self, password: str, *, code: str | None = None) -> None:
        from inbox_app.client.api import Unauthorized

        if password != "demo-password":
            raise PermissionError("wrong password")
        if code is None:
            raise Unauthorized("second factor", status=401, code="totp_required")
        if code != "123456":
            raise Unauthorized("bad code", status=401, code="totp_invalid")
        self.second_factor_needed = False
        await super().unlock(password)


def test_unlock_asks_for_the_authenticator_code_when_the_relay_wants_it(qtbot, qloop) -> None:
    engine = SecondFactorEngine(team_conversations())
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.2))
    # The relay came back after an offline unlock and wants the code: the engine locks.
    engine.second_factor_needed = True
    run(qloop, engine.lock())
    run(qloop, settle(0.2))
    page = win.lock_page
    assert win.current_page() == "lock"
    assert page.code.isVisible() and "second factor" in page.error.text()
    page.password.setText("demo-password")
    page.unlock_button.click()  # no code typed yet: nothing is sent
    run(qloop, settle(0.1))
    assert engine.locked and page.code.hasFocus()
    page.code.setText("999999")
    page.unlock_button.click()
    run(qloop, settle(0.2))
    assert engine.locked and "did not work" in page.error.text()
    page.code.setText("123456")
    page.unlock_button.click()
    run(qloop, settle(0.3))
    assert not engine.locked and win.current_page() == "inbox"
    # Next time the page starts plain again; a password alone then learns about the code.
    win.rail_buttons["lock"].click()
    run(qloop, settle(0.2))
    assert not page.code.isVisible()
    page.password.setText("demo-password")
    page.unlock_button.click()
    run(qloop, settle(0.2))
    assert engine.locked and page.code.isVisible()
    assert "authenticator" in page.error.text()
