"""The composer's modes in the window: template mode outside the 24-hour window (the
fitting template suggested and prefilled, a missing value blocks sending), internal notes
with @mentions (and the mentioned colleague's notification), and "Send later…" with its
scheduled bubble that can be cancelled."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QDateTime, QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QStyleOptionViewItem

from inbox_app.client.cache import note_message_id
from inbox_app.client.engine import ChangeSummary, SignedInUser
from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus, PatientRecord
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus
from tests.test_ui_support import NOW, FakeEngine, conversation, message, run, settle
from ui.main_window import MainWindow
from ui.models import IdRole

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

ME = SignedInUser(id=1, username="anna", display_name="Anna Empfang", role="receptionist")
H = 3600.0
APPOINTMENT_AT = NOW + 2 * 24 * H

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "appointment_confirmation",
        "language": "de",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "header_params": ["1"],
        "body_params": ["1", "2"],
        "button_params": [{"index": 1, "count": 1}],
        "body": "Hallo {{1}}, Ihr Termin ist am {{2}}. Bitte antworten Sie kurz.",
    },
    {
        "name": "appointment_reminder",
        "language": "de",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "header_params": [],
        "body_params": [],
        "button_params": [],
        "body": "Erinnerung an Ihren Termin morgen.",
    },
    {
        "name": "hello_world",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "header_params": [],
        "body_params": [],
        "button_params": [],
        "body": "Hello from the practice.",
    },
    {
        "name": "results_ready",
        "language": "de",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "header_params": [],
        "body_params": ["first_name", "date"],
        "button_params": [],
        "body": "Guten Tag {{first_name}}, Ihre Befunde vom {{date}} liegen vor.",
    },
]


class ComposeEngine(FakeEngine):
    """FakeEngine plus the engine's template, note, schedule and directory operations."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.templates_sent: list[tuple[Any, ...]] = []
        self.notes: list[tuple[int, str]] = []
        self.scheduled: list[tuple[int, str, float]] = []
        self.cancelled: list[int] = []
        self.note_store: dict[int, dict[str, Any]] = {}
        self._ids = 5000

    async def templates(self) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return TEMPLATES

    async def directory(self) -> dict[str, list[dict[str, Any]]]:
        await asyncio.sleep(0)
        return {
            "users": [
                {"id": 1, "username": "anna", "display_name": "Anna Empfang", "role": "x"},
                {"id": 2, "username": "ben", "display_name": "Ben Pflege", "role": "nurse"},
                {"id": 3, "username": "carla", "display_name": "Carla Ärztin", "role": "x"},
            ],
            "teams": [{"id": 10, "name": "Empfang"}, {"id": 11, "name": "Labor"}],
        }

    async def patients_for(self, wa_id: str) -> list[PatientRecord]:
        await asyncio.sleep(0)
        if wa_id != self.convs[7].wa_id:
            return []
        return [PatientRecord(70, "P-70", "Krause", "Peter", "1961-02-03", wa_id)]

    async def appointments_for(self, patient_id: int) -> list[AppointmentRecord]:
        await asyncio.sleep(0)
        start = APPOINTMENT_AT
        return [
            AppointmentRecord(
                7, "A-77", patient_id, start, start + 900, AppointmentStatus.BOOKED, "Dr. Beispiel"
            )
        ]

    def _record(self, cid: int, text: str, **kw: Any) -> MessageRecord:
        self._ids += 1
        rec = MessageRecord(
            id=self._ids,
            conversation_id=cid,
            direction=Direction.OUTBOUND,
            type=kw.pop("type", "text"),
            text=text,
            status=MessageStatus.QUEUED,
            timestamp=kw.pop("timestamp", self.clock()),
            **kw,
        )
        self.msgs[rec.id] = rec
        return rec

    async def send_template(
        self,
        conversation_id: int,
        name: str,
        language: str,
        params: Any,
        *,
        header: Any = (),
        buttons: Any = None,
    ) -> MessageRecord:
        await asyncio.sleep(0)
        self.templates_sent.append((conversation_id, name, language, params, header, buttons))
        return self._record(conversation_id, f"[{name}]", type="template")

    async def add_note(self, conversation_id: int, text: str) -> MessageRecord:
        await asyncio.sleep(0)
        self.notes.append((conversation_id, text))
        return self._record(conversation_id, text, type="note", author_id=1)

    async def note_details(self, message_id: int) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        return self.note_store.get(message_id)

    async def schedule_text(self, conversation_id: int, text: str, send_at: float) -> MessageRecord:
        await asyncio.sleep(0)
        self.scheduled.append((conversation_id, text, send_at))
        return self._record(conversation_id, text, timestamp=send_at, send_at=send_at)

    async def cancel_scheduled(self, message_id: int) -> MessageRecord:
        await asyncio.sleep(0)
        self.cancelled.append(message_id)
        rec = replace(self.msgs[message_id], status=MessageStatus.CANCELLED)
        self.msgs[message_id] = rec
        return rec


def make_window(qtbot: Any, qloop: Any) -> tuple[MainWindow, ComposeEngine]:
    engine = ComposeEngine(
        [
            conversation(1, "Lena Hoffmann", NOW - 60, "Hallo", last_inbound_at=NOW - 60),
            conversation(7, "Peter Krause", NOW - 40 * H, "Tschüss", last_inbound_at=NOW - 40 * H),
        ],
        [
            message(101, 1, NOW - 60, "Hallo?"),
            message(104, 7, NOW - 40 * H, "Tschüss"),
        ],
    )
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    return win, engine


def open_conversation(win: MainWindow, qloop: Any, cid: int) -> None:
    model = win.filter_model
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data(IdRole) == cid)
    win.conversation_list.setCurrentIndex(model.index(row, 0))
    run(qloop, settle(0.3))
    assert win.controller.current_conversation_id == cid


def test_window_expired_composer_suggests_the_template_and_prefills_it(qtbot, qloop) -> None:
    win, engine = make_window(qtbot, qloop)
    open_conversation(win, qloop, 7)
    modes = win.composer_modes
    panel = modes.template_panel
    assert modes.template_mode and panel.isVisibleTo(win)
    assert not win.composer.isEnabled()
    assert win.send_button.isEnabled() and win.send_button.text() == "Send template"
    # The patient has an appointment: the confirmation fits, every value is filled.
    chosen = panel.current()
    assert chosen is not None and chosen.name == "appointment_confirmation"
    values = panel.slot_values()
    assert values["body.1"] == "Peter"
    assert values["button.1.1"] == "A-77"
    assert values["header.1"] == time.strftime("%d.%m.%Y", time.localtime(APPOINTMENT_AT))
    assert time.strftime("%H:%M", time.localtime(APPOINTMENT_AT)) in values["body.2"]
    assert panel.missing() == []
    assert "Hallo Peter, Ihr Termin ist am" in panel.preview.text()

    win.submit()
    run(qloop, settle(0.1))
    assert len(engine.templates_sent) == 1
    cid, name, language, body, header, buttons = engine.templates_sent[0]
    assert (cid, name, language) == (7, "appointment_confirmation", "de")
    assert body == ["Peter", values["body.2"]] and header == [values["header.1"]]
    assert buttons == {1: ["A-77"]}
    assert any(r.type == "template" for r in win.controller.thread_model.records()), (
        "the sent template shows in the thread"
    )


def test_a_missing_template_value_blocks_sending(qtbot, qloop) -> None:
    win, engine = make_window(qtbot, qloop)
    open_conversation(win, qloop, 7)
    panel = win.composer_modes.template_panel
    panel.fields["body.1"].setText("   ")
    assert panel.missing() == ["body.1"]
    assert "{{1}}" in panel.missing_label.text()
    win.submit()
    run(qloop, settle(0.1))
    assert engine.templates_sent == []
    assert "Fill in" in win.statusBar().currentMessage()
    # Another template can be chosen by hand; its named values are matched by name.
    results = panel.model.row_of(
        next(t for t in panel.model.templates() if t.name == "results_ready")
    )
    panel.choice.setCurrentIndex(results)
    assert panel.slot_values()["body.first_name"] == "Peter"
    assert panel.slot_values()["body.date"]  # the appointment date, editable


def test_inside_the_window_the_composer_stays_free_text(qtbot, qloop) -> None:
    win, _ = make_window(qtbot, qloop)
    open_conversation(win, qloop, 1)
    assert not win.composer_modes.template_mode
    assert not win.composer_modes.template_panel.isVisibleTo(win)
    assert win.composer.isEnabled() and win.composer_modes.later_button.isEnabled()


def test_note_mode_completes_mentions_and_posts_a_note(qtbot, qloop) -> None:
    win, engine = make_window(qtbot, qloop)
    open_conversation(win, qloop, 7)  # notes work outside the window too
    win.actions_by_key["note"].trigger()
    modes = win.composer_modes
    assert modes.note_mode and win.composer.isEnabled()
    assert not modes.template_panel.isVisibleTo(win)
    assert win.send_button.text() == "Add note"
    win.composer.setFocus()
    qtbot.keyClicks(win.composer, "Bitte ansehen @be")
    assert win.composer.mentions_visible()
    assert win.composer.mention_list is not None
    assert win.composer.mention_list.currentIndex().data() == "Ben Pflege (@ben)"
    # The signed-in user is not offered.
    names = [c.username for c in win.composer.colleagues.colleagues()]
    assert names == ["ben", "carla"]
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    assert win.composer.toPlainText() == "Bitte ansehen @ben "
    qtbot.keyClick(win.composer, Qt.Key.Key_Return)
    run(qloop, settle(0.1))
    assert engine.notes == [(7, "Bitte ansehen @ben ")]
    assert win.composer.toPlainText() == ""
    assert any(r.type == "note" for r in win.controller.thread_model.records())
    assert engine.templates_sent == [] and engine.sent == []


def test_a_mention_notifies_without_patient_data(qtbot, qloop) -> None:
    win, engine = make_window(qtbot, qloop)
    note_id = note_message_id(42)
    engine.note_store[note_id] = {
        "id": 42,
        "conversation_id": 7,
        "author_id": 2,
        "author_name": "Ben Pflege",
        "text": "@anna bitte Herrn Krause zurückrufen",
        "mentions": [1],
        "created_at": time.time(),
    }
    # Ben's note about someone else, and an old note: neither notifies.
    engine.note_store[note_message_id(43)] = {
        **engine.note_store[note_id],
        "id": 43,
        "mentions": [3],
    }
    engine.note_store[note_message_id(44)] = {
        **engine.note_store[note_id],
        "id": 44,
        "created_at": time.time() - 3 * H,
    }
    before = len(win.notifications)
    engine.emit(
        ChangeSummary(message_ids=frozenset({note_id, note_message_id(43), note_message_id(44)}))
    )
    run(qloop, settle(0.3))
    new = win.notifications[before:]
    assert new == [("Praxis Inbox", "A colleague mentioned you in an internal note")]
    for _, text in new:
        assert "Krause" not in text and "Peter" not in text
    # The same note again (a re-sync) does not notify twice.
    engine.emit(ChangeSummary(message_ids=frozenset({note_id})))
    run(qloop, settle(0.3))
    assert len(win.notifications) == before + 1


def test_send_later_schedules_shows_and_cancels(qtbot, qloop) -> None:
    win, engine = make_window(qtbot, qloop)
    open_conversation(win, qloop, 1)
    modes = win.composer_modes
    win.composer.setPlainText("Bitte denken Sie an die Versichertenkarte.")
    modes.later_button.click()
    dialog = modes.schedule_dialog
    assert dialog is not None and dialog.isVisible()
    # The picker stops at the window's end (24 h after the patient's last message).
    end = NOW - 60 + 24 * H
    assert dialog.when.maximumDateTime().toSecsSinceEpoch() <= end
    send_at = NOW + 2 * H
    dialog.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(send_at)))
    dialog.accept()
    run(qloop, settle(0.2))
    assert engine.scheduled == [(1, "Bitte denken Sie an die Versichertenkarte.", send_at)]
    assert win.composer.toPlainText() == ""
    model = win.controller.thread_model
    row = next(r for r in range(model.rowCount()) if model.record_at(r).send_at is not None)
    index = model.index(row, 0)
    option = QStyleOptionViewItem()
    option.initFrom(win.thread_view)
    option.rect = win.thread_view.visualRect(index)
    delegate = win.message_delegate
    g = delegate.geometry(option, index)
    assert g is not None and g.schedule is not None and g.cancel is not None
    rec = model.record_at(row)
    assert rec is not None
    shown = delegate._schedule_text(rec)
    assert shown.startswith("Scheduled for ")
    assert time.strftime("%H:%M", time.localtime(send_at)) in shown
    pos = QPointF(option.rect.topLeft()) + g.cancel.center()
    click = QMouseEvent(
        QEvent.Type.MouseButtonRelease,
        pos,
        win.thread_view.viewport().mapToGlobal(pos),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert delegate.editorEvent(click, model, option, index)
    run(qloop, settle(0.2))
    assert engine.cancelled == [rec.id]
    cancelled = model.record_at(model.row_of_id(rec.id) or 0)
    assert cancelled is not None and cancelled.status == MessageStatus.CANCELLED
    g2 = delegate.geometry(option, model.index(model.row_of_id(rec.id) or 0, 0))
    assert g2 is not None and g2.cancel is None and g2.schedule is not None


def test_a_time_past_the_window_is_refused_with_the_reason(qtbot, qloop) -> None:
    win, engine = make_window(qtbot, qloop)
    open_conversation(win, qloop, 1)
    win.composer.setPlainText("Morgen Nachmittag")
    end = NOW - 60 + 24 * H
    assert not win.composer_modes.schedule("Morgen Nachmittag", end + 3600)
    assert "window closes at" in win.statusBar().currentMessage()
    assert engine.scheduled == []
    assert win.composer.toPlainText() == "Morgen Nachmittag"  # nothing lost
    # Outside the window there is no "Send later".
    open_conversation(win, qloop, 7)
    assert not win.composer_modes.later_button.isEnabled()


def test_templates_the_relay_had_not_synced_yet_are_fetched_again(qtbot, qloop) -> None:
    class LateTemplates(ComposeEngine):
        calls = 0

        async def templates(self) -> list[dict[str, Any]]:
            await asyncio.sleep(0)
            LateTemplates.calls += 1
            return [] if LateTemplates.calls == 1 else TEMPLATES  # first: not synced yet

    engine = LateTemplates(
        [conversation(7, "Peter Krause", NOW - 40 * H, last_inbound_at=NOW - 40 * H)]
    )
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.5))
    assert win.controller.current_conversation_id == 7
    panel = win.composer_modes.template_panel
    assert LateTemplates.calls == 2
    chosen = panel.current()
    assert chosen is not None and chosen.name == "appointment_confirmation"


def test_template_values_follow_the_template_language(qapp) -> None:
    from ui.quick_replies import record_values
    from ui.templates import load_template_variables, parse_templates, prefill, suggest

    templates = {t.name: t for t in parse_templates(TEMPLATES)}
    mapping = load_template_variables()
    patient = PatientRecord(70, "P-70", "Krause", "Peter", None, "49151", language="en")
    appointment = AppointmentRecord(
        7, "A-77", 70, APPOINTMENT_AT, APPOINTMENT_AT + 900, AppointmentStatus.BOOKED
    )
    values = record_values(patient, appointment)
    assert "Uhr" not in values["appointment.when"]  # the patient's own language
    german = prefill(templates["appointment_confirmation"], values, mapping)
    assert german["body.2"].endswith(" Uhr")  # a German template writes German dates
    assert german["header.1"] == time.strftime("%d.%m.%Y", time.localtime(APPOINTMENT_AT))
    # An English-speaking patient gets the English template suggested first.
    chosen = suggest(list(templates.values()), values, mapping)
    assert chosen is not None and chosen.language == "en_US"
    assert suggest([], values, mapping) is None
