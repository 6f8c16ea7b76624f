"""The escalation queue: priorities and timers, the overdue highlight, acknowledging,
calling the patient back and logging the outcome, the escalate dialog, and the overdue
notification (without patient data)."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QDateTime, QUrl
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QDialogButtonBox

from inbox_app.client.engine import ChangeSummary, SignedInUser
from inbox_app.domain.appointments import PatientRecord
from inbox_app.domain.escalations import (
    CallOutcome,
    CallRecord,
    EscalationRecord,
    EscalationState,
    Priority,
)
from tests.test_ui_support import NOW, FakeEngine, conversation, run, settle
from ui.call_dialog import CallOutcomeDialog
from ui.escalations import EscalateDialog, EscalationListModel, EscalationsPage, timer_text
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

DOC = SignedInUser(id=7, username="doc", display_name="Dr. Weber", role="clinician")
ANNA = SignedInUser(id=1, username="anna", display_name="Anna Empfang", role="receptionist")


def escalation(eid: int, priority: Priority, due_in: float, **kw: Any) -> EscalationRecord:
    values: dict[str, Any] = {
        "id": eid,
        "conversation_id": eid,
        "reason": f"Grund {eid}",
        "priority": priority,
        "due_at": NOW + due_in,
        "state": EscalationState.OPEN,
        "created_at": NOW - 3600,
        "display_name": f"Patient {eid}",
    }
    values.update(kw)
    return EscalationRecord(**values)


class EscalationEngine(FakeEngine):
    """The fake engine with the escalation part of ClientEngine's interface."""

    def __init__(self, records: list[EscalationRecord], **kw: Any) -> None:
        super().__init__(
            [conversation(r.conversation_id, r.display_name or "", NOW - 60) for r in records],
            **kw,
        )
        self.escalation_records = {r.id: r for r in records}
        self.call_log: list[CallRecord] = []
        self.calls: list[tuple[str, Any]] = []
        self.call_answer: dict[str, Any] = {"mode": "tel", "tel": "tel:+4915100000001"}

    async def escalations(self, conversation_id: int | None = None) -> list[EscalationRecord]:
        return list(self.escalation_records.values())

    async def escalations_by_id(self, ids: frozenset[int]) -> list[EscalationRecord]:
        return [self.escalation_records[i] for i in ids if i in self.escalation_records]

    async def patients_for(self, wa_id: str) -> list[PatientRecord]:
        if wa_id != self.convs[2].wa_id:
            return []
        return [PatientRecord(41, "pvs|41", "Muster", "Paula", "1990-04-01", wa_id)]

    async def calls_for(self, escalation_id: int) -> list[CallRecord]:
        return [c for c in self.call_log if c.escalation_id == escalation_id]

    async def directory(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "users": [
                {"id": 7, "username": "doc", "display_name": "Dr. Weber", "role": "clinician"}
            ],
            "teams": [{"id": 3, "name": "Kardiologie"}],
        }

    async def acknowledge_escalation(self, escalation_id: int) -> EscalationRecord:
        self.calls.append(("acknowledge", escalation_id))
        rec = replace(
            self.escalation_records[escalation_id],
            state=EscalationState.ACKNOWLEDGED,
            acknowledged_by=7,
            acknowledged_at=NOW,
            acknowledged_by_name="Dr. Weber",
        )
        self.escalation_records[escalation_id] = rec
        return rec

    async def create_escalation(self, conversation_id: int, reason: str, **kw: Any) -> Any:
        self.calls.append(("create", (conversation_id, reason, kw)))
        rec = escalation(99, Priority(kw["priority"]), 600, conversation_id=conversation_id)
        self.escalation_records[99] = rec
        return rec

    async def request_call(self, escalation_id: int, *, mode: str, language: str) -> Any:
        self.calls.append(("call", (escalation_id, mode)))
        self.call_log.append(
            CallRecord(
                1, escalation_id, "tel", NOW, escalation_id=escalation_id, user_name="Dr. Weber"
            )
        )
        return self.call_answer

    async def log_call_outcome(
        self, escalation_id: int, outcome: str, *, note: str | None, callback_at: float | None
    ) -> CallRecord:
        self.calls.append(("outcome", (escalation_id, outcome, note, callback_at)))
        record = CallRecord(
            2,
            escalation_id,
            "outcome",
            NOW,
            escalation_id=escalation_id,
            user_name="Dr. Weber",
            outcome=outcome,
            note=note,
            callback_at=callback_at,
        )
        self.call_log.append(record)
        return record


def queue() -> list[EscalationRecord]:
    return [
        escalation(1, Priority.ROUTINE, 20 * 3600),
        escalation(2, Priority.URGENT, 30 * 60),
        escalation(3, Priority.EMERGENCY, -5 * 60, source="red_flag"),  # overdue
        escalation(4, Priority.EMERGENCY, 600, state=EscalationState.RESOLVED, resolved_at=NOW),
    ]


@pytest.fixture
def page(qtbot, qloop):
    engine = EscalationEngine(queue())
    opened: list[QUrl] = []

    def opener(url: QUrl) -> bool:
        opened.append(url)
        return True

    widget = EscalationsPage(engine, role="clinician", clock=lambda: NOW, url_opener=opener)
    QAbstractItemModelTester(
        widget.controller.model,
        QAbstractItemModelTester.FailureReportingMode.Warning,
        widget,
    )
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    widget.show()
    run(qloop, widget.controller.refresh_now())
    run(qloop, settle(0.05))
    return widget, engine, opened


def _row_color(widget: EscalationsPage, row: int, x: int) -> QColor:
    image = widget.list.viewport().grab().toImage()
    rect = widget.list.visualRect(widget.proxy.index(row, 0))
    return image.pixelColor(x, rect.center().y())


def test_queue_orders_by_priority_shows_timers_and_highlights_overdue(page) -> None:
    widget, _engine, _ = page
    shown = [widget.proxy.index(r, 0).data(256 + 1).id for r in range(widget.proxy.rowCount())]
    assert shown == [3, 2, 1]  # emergency (overdue) first; the resolved one is hidden
    assert widget.count_label.text() == "3 open · 1 overdue"
    recs = {r.id: r for r in widget.controller.model.records()}
    assert timer_text(recs[3], NOW) == "Overdue 05:00"
    assert timer_text(recs[2], NOW) == "Due in 30:00"
    assert timer_text(recs[1], NOW) == "Due in 20 h 00 min"
    # The priority stripe is red for the emergency, blue for routine; the overdue row is
    # tinted, the one due later is not.
    stripe_emergency = _row_color(widget, 0, 2)
    stripe_routine = _row_color(widget, 2, 2)
    assert stripe_emergency.red() > 180 and stripe_emergency.green() < 90
    assert stripe_routine.blue() > 180 and stripe_routine.red() < 90
    widget.list.clearSelection()
    widget.list.setCurrentIndex(widget.proxy.index(2, 0))  # not the overdue row
    overdue_bg = _row_color(widget, 0, 400)
    normal_bg = _row_color(widget, 1, 400)
    assert overdue_bg != normal_bg and overdue_bg.red() > overdue_bg.blue()
    widget.show_resolved.setChecked(True)
    assert widget.proxy.rowCount() == 4


def test_acknowledge_from_the_queue(page, qloop) -> None:
    widget, engine, _ = page
    assert widget.select(3)
    assert widget.buttons["acknowledge"].isEnabled()
    widget.buttons["acknowledge"].click()
    run(qloop, settle(0.1))
    assert engine.calls == [("acknowledge", 3)]
    rec = widget.selected()
    assert rec is not None and rec.state == EscalationState.ACKNOWLEDGED
    assert not widget.buttons["acknowledge"].isEnabled()
    assert "Acknowledged" in widget.detail_text.text() and "Dr. Weber" in widget.detail_text.text()
    assert widget.count_label.text() == "3 open"  # no longer overdue once taken


def test_receptionist_sees_the_queue_but_cannot_take_escalations(qtbot, qloop) -> None:
    widget = EscalationsPage(EscalationEngine(queue()), role="receptionist", clock=lambda: NOW)
    qtbot.addWidget(widget)
    run(qloop, widget.controller.refresh_now())
    run(qloop, settle(0.05))
    assert widget.select(2)
    assert widget.buttons["open"].isEnabled()
    for key in ("acknowledge", "reassign", "resolve", "call", "outcome"):
        assert not widget.buttons[key].isEnabled()
    assert widget.buttons["acknowledge"].toolTip() == "Only a clinician takes escalations."


def test_call_patient_dials_and_the_outcome_dialog_logs_a_callback(page, qloop) -> None:
    widget, engine, opened = page
    assert widget.select(2)
    widget.buttons["call"].click()
    run(qloop, settle(0.1))
    assert engine.calls[0] == ("call", (2, "auto"))
    assert [u.toString() for u in opened] == ["tel:+4915100000001"]
    dialog = widget.outcome_dialog
    assert isinstance(dialog, CallOutcomeDialog)  # opened for the outcome after dialling
    dialog.buttons[CallOutcome.CALLBACK].setChecked(True)
    assert dialog.callback_time.isEnabled()
    dialog.callback_time.setDateTime(QDateTime.fromSecsSinceEpoch(int(NOW) - 60))
    dialog.note.setPlainText("Bitte nach 17 Uhr")
    dialog.box.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible() and dialog.problem.text() == "Choose a callback time in the future."
    dialog.callback_time.setDateTime(QDateTime.fromSecsSinceEpoch(int(NOW) + 7200))
    dialog.box.button(QDialogButtonBox.StandardButton.Ok).click()
    run(qloop, settle(0.1))
    assert engine.calls[1] == (
        "outcome",
        (2, "callback_scheduled", "Bitte nach 17 Uhr", NOW + 7200),
    )
    lines = [widget.calls.item(i).text() for i in range(widget.calls.count())]
    assert len(lines) == 2
    assert "Dialled by phone" in lines[0]
    assert "Callback scheduled" in lines[1] and "Bitte nach 17 Uhr" in lines[1]
    assert widget.status.text() == "Call outcome saved; it shows in the conversation."


def test_whatsapp_call_request_says_what_happens_next(page, qloop) -> None:
    widget, engine, opened = page
    engine.call_answer = {"mode": "whatsapp", "call": {}}
    assert widget.select(1)
    widget.buttons["call"].click()
    run(qloop, settle(0.1))
    assert opened == [] and widget.outcome_dialog is None
    assert "call request was sent on WhatsApp" in widget.status.text()
    # The patient's answer arrives by the feed: the open escalation's call list follows.
    engine.call_log.append(
        CallRecord(3, 1, "permission_reply", NOW, escalation_id=1, status="accept")
    )
    run(qloop, widget.controller.apply_changes_now(ChangeSummary(escalation_ids=frozenset({1}))))
    run(qloop, settle(0.1))
    lines = [widget.calls.item(i).text() for i in range(widget.calls.count())]
    assert len(lines) == 2 and lines[1].endswith("WhatsApp · Patient allowed calls")


def test_window_escalate_dialog_and_overdue_notification_without_patient_data(qtbot, qloop) -> None:
    engine = EscalationEngine(queue())
    window = MainWindow(engine, DOC, clock=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    window.start()
    run(qloop, settle(0.3))
    page = window.escalations_page
    assert isinstance(page, EscalationsPage)
    window.rail_buttons["escalations"].click()
    assert window.pages.currentWidget() is page
    page.back_button.click()
    assert window.pages.currentWidget() is window.inbox_page
    # Ctrl+Shift+E opens the escalate dialog for the open conversation.
    run(qloop, window.controller.open_conversation_now(2))
    window.actions_by_key["escalate"].trigger()
    dialog = window.escalate_dialog
    assert isinstance(dialog, EscalateDialog)
    run(qloop, settle(0.05))
    assert [dialog.target.itemText(i) for i in range(dialog.target.count())] == [
        "All clinicians",
        "Team Kardiologie",
        "Dr. Weber",
    ]
    dialog.box.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.problem.text() == "Give a reason."
    dialog.reason.setPlainText("Starke Kopfschmerzen seit drei Tagen")
    dialog.priority.setCurrentIndex(2)  # emergency: due in 15 minutes by default
    assert dialog.due.dateTime().toSecsSinceEpoch() == int(NOW + 15 * 60)
    dialog.target.setCurrentIndex(1)
    assert dialog.patient.currentText() == "Paula Muster (1990-04-01)"
    dialog.box.button(QDialogButtonBox.StandardButton.Ok).click()
    run(qloop, settle(0.1))
    kind, (cid, reason, values) = engine.calls[-1]
    assert (kind, cid, reason) == ("create", 2, "Starke Kopfschmerzen seit drei Tagen")
    assert values["priority"] == "emergency" and values["team_id"] == 3
    assert values["assignee_id"] is None
    assert values["patient_id"] == 41  # the number's only patient, chosen for the user
    assert page.controller.model.row_of(99) >= 0
    # The thread header offers the same dialog as a button.
    window.escalate_button.click()
    assert isinstance(window.escalate_dialog, EscalateDialog)
    window.escalate_dialog.reject()
    run(qloop, settle(0.05))
    assert window.escalate_dialog is None
    # The relay notifies an overdue escalation again: a notification, no name in it.
    engine.emit(ChangeSummary(escalation_ids=frozenset({3}), overdue_escalation_ids=frozenset({3})))
    run(qloop, settle(0.2))
    assert window.notifications[-1] == (
        "Praxis Inbox",
        "An escalation is overdue and not yet acknowledged",
    )
    assert all("Patient" not in text for _, text in window.notifications)


def test_the_queue_is_not_installed_for_engines_without_escalations(qtbot, qloop) -> None:
    window = MainWindow(
        FakeEngine([conversation(1, "Lena Hoffmann", NOW)]), ANNA, clock=lambda: NOW
    )
    qtbot.addWidget(window)
    window.show()
    window.start()
    run(qloop, settle(0.1))
    assert getattr(window, "escalations_page", None) is None
    assert "escalations" not in window.rail_buttons


def test_view_escalations_is_offered_and_shows_the_queue(qtbot, qloop) -> None:
    from ui import app

    assert app.build_parser().parse_args(["demo", "--view", "escalations"]).view == "escalations"
    assert app.build_parser().parse_args(["demo", "--view", "audit"]).view == "audit"
    window = MainWindow(EscalationEngine(queue()), DOC, clock=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    window.start()
    run(qloop, settle(0.1))
    app.open_view(window, "escalations")
    run(qloop, settle(0.1))
    assert window.pages.currentWidget() is window.escalations_page
    assert window.escalations_page.proxy.rowCount() == 3


def test_queue_model_moves_and_removes_rows_one_by_one(qtbot) -> None:
    model = EscalationListModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning, model)
    model.upsert(queue())
    assert [r.id for r in model.records()] == [3, 2, 1, 4]
    moved: list[int] = []
    model.rowsInserted.connect(lambda _p, first, _last: moved.append(first))
    # Routine becomes an emergency due now: it moves to the top, nothing is reset.
    routine = model.records()[2]
    model.upsert([replace(routine, priority=Priority.EMERGENCY, due_at=NOW - 600)])
    assert [r.id for r in model.records()] == [1, 3, 2, 4] and moved == [0]
    model.upsert([replace(model.records()[2], state=EscalationState.RESOLVED, resolved_at=NOW + 1)])
    assert [r.id for r in model.records()] == [1, 3, 2, 4]
    model.remove({3, 99})
    assert [r.id for r in model.records()] == [1, 2, 4]
