"""Call bubbles in the thread: each WhatsApp call event reads as one plain line (a missed or
declined call in the failure colour, no delivery ticks), on the caller's side, in English
and German, and screen readers hear the same words."""

from __future__ import annotations

import os
from datetime import datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QLocale, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QListView, QStyleOptionViewItem

from inbox_app.client.cache import call_message_id
from inbox_app.domain.escalations import CallRecord
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus
from tests.test_ui_support import NOW, FakeEngine, message, run
from ui.call_events import call_event_text, call_missed, talk_time
from ui.delegates import MessageDelegate
from ui.i18n import install_translator, remove_translators
from ui.models import ThreadModel
from ui.theme import colors

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


def call_row(
    log_id: int, ts: float, status: str, direction: str, duration: int | None = None
) -> MessageRecord:
    """A call event as the desktop cache lists it among the messages."""
    return MessageRecord(
        id=call_message_id(log_id),
        conversation_id=9,
        direction=Direction.INBOUND if direction == "USER_INITIATED" else Direction.OUTBOUND,
        type="call",
        text=None,
        status=MessageStatus.SENT,
        timestamp=ts,
        call=CallRecord(
            id=log_id,
            conversation_id=9,
            kind="webhook",
            created_at=ts,
            status=status,
            direction=direction,
            duration=duration,
        ),
    )


CASES = [
    ("connect", "USER_INITIATED", None, "☎ Incoming WhatsApp call from the patient", False),
    (
        "terminate:COMPLETED",
        "USER_INITIATED",
        187,
        "☎ WhatsApp call from the patient · 3:07",
        False,
    ),
    ("terminate:FAILED", "USER_INITIATED", None, "☎ Missed WhatsApp call from the patient", True),
    (
        "status:REJECTED",
        "BUSINESS_INITIATED",
        None,
        "☎ The patient declined the WhatsApp call",
        True,
    ),
    ("terminate:FAILED", "BUSINESS_INITIATED", None, "☎ WhatsApp call not answered", True),
    (
        "terminate:COMPLETED",
        "BUSINESS_INITIATED",
        3729,
        "☎ WhatsApp call to the patient · 1:02:09",
        False,
    ),
    ("hold:ON", "BUSINESS_INITIATED", None, "☎ WhatsApp call event: hold:ON", False),
]


@pytest.mark.parametrize(("status", "direction", "duration", "text", "missed"), CASES)
def test_call_event_words(
    qapp: QApplication, status: str, direction: str, duration: int | None, text: str, missed: bool
) -> None:
    rec = call_row(1, NOW, status, direction, duration)
    assert rec.call is not None
    assert call_event_text(rec.call) == text
    assert call_missed(rec.call) is missed


def test_talk_time() -> None:
    assert [talk_time(s) for s in (0, 59, 60, 3599, 3600, -5)] == [
        "0:00",
        "0:59",
        "1:00",
        "59:59",
        "1:00:00",
        "0:00",
    ]


def _option(view: QListView, rect: QRect) -> QStyleOptionViewItem:
    option = QStyleOptionViewItem()
    option.initFrom(view.viewport())
    option.rect = rect
    return option


def test_call_bubbles_sit_on_the_callers_side_without_ticks(qapp, qtbot, qloop) -> None:
    engine = FakeEngine(
        messages=[
            message(1, 9, NOW - 600, "Können Sie mich zurückrufen?"),
            call_row(2, NOW - 300, "terminate:FAILED", "USER_INITIATED"),
            call_row(3, NOW - 60, "terminate:COMPLETED", "BUSINESS_INITIATED", 95),
        ]
    )
    model = ThreadModel(engine)
    run(qloop, model.load(9))
    assert [model.index(r, 0).data() for r in range(3)] == [
        "Können Sie mich zurückrufen?",
        "☎ Missed WhatsApp call from the patient",
        "☎ WhatsApp call to the patient · 1:35",
    ]
    accessible = Qt.ItemDataRole.AccessibleTextRole
    assert model.index(1, 0).data(accessible) == "☎ Missed WhatsApp call from the patient"
    view = QListView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    delegate = MessageDelegate(view, clock=lambda: NOW)
    view.setModel(model)
    view.setItemDelegate(delegate)
    width = view.viewport().width()
    heights = [
        delegate.sizeHint(_option(view, QRect(0, 0, width, 10)), model.index(r, 0)).height()
        for r in range(3)
    ]
    image = QImage(width, sum(heights), QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    y = 0
    for row, h in enumerate(heights):
        delegate.paint(painter, _option(view, QRect(0, y, width, h)), model.index(row, 0))
        y += h
    painter.end()

    def columns_painted(top: int, bottom: int) -> tuple[int, int]:
        xs = [
            x
            for x in range(width)
            for y in range(top + 4, bottom - 4, 3)
            if QColor(image.pixel(x, y)) != QColor(Qt.GlobalColor.white)
        ]
        return min(xs), max(xs)

    missed_top = heights[0]
    missed = columns_painted(missed_top, missed_top + heights[1])
    answered = columns_painted(missed_top + heights[1], sum(heights))
    assert missed[1] < width * 0.75  # the patient's call: on the patient's (left) side
    assert answered[0] > width * 0.25  # the practice's call: on the practice's side
    # The missed call is written in the failure colour; the answered one is not.
    failed = colors().q("failed").rgb()
    in_missed = {
        image.pixel(x, y)
        for x in range(missed[0], missed[1])
        for y in range(missed_top, missed_top + heights[1])
    }
    in_answered = {
        image.pixel(x, y)
        for x in range(answered[0], answered[1])
        for y in range(missed_top + heights[1], sum(heights))
    }
    assert any(_near(p, failed) for p in in_missed)
    assert not any(_near(p, failed) for p in in_answered)
    # No delivery ticks on a call: its footer is as wide as an inbound message's (time only).
    font = view.font()
    sent_text = message(4, 9, NOW - 60, "ok", out=True, status=MessageStatus.DELIVERED)
    call = call_row(3, NOW - 60, "terminate:COMPLETED", "BUSINESS_INITIATED", 95)
    received = message(5, 9, NOW - 60, "ok")
    assert delegate._footer_width(call, font) == delegate._footer_width(received, font)
    assert delegate._footer_width(sent_text, font) > delegate._footer_width(call, font)


def _near(pixel: int, rgb: int, tolerance: int = 24) -> bool:
    a, b = QColor(pixel), QColor(rgb)
    return (
        abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance
    )


def test_call_words_in_german(qapp: QApplication) -> None:
    install_translator(qapp, QLocale(QLocale.Language.German))
    try:
        rec = call_row(1, NOW, "terminate:FAILED", "USER_INITIATED")
        assert rec.call is not None
        assert call_event_text(rec.call) == "☎ Verpasster WhatsApp-Anruf des Patienten"
    finally:
        remove_translators(qapp)


def test_outcome_notes_read_in_the_ui_language(qapp: QApplication) -> None:
    callback = datetime(2026, 11, 26, 17, 30).timestamp()  # local time, as staff read it
    outcome = CallRecord(
        id=7,
        conversation_id=9,
        kind="outcome",
        created_at=NOW,
        outcome="callback_scheduled",
        callback_at=callback,
        note="nach 17 Uhr",
    )
    assert call_event_text(outcome) == "☎ Callback scheduled · 26.11. 17:30 — nach 17 Uhr"
    reached = CallRecord(id=8, conversation_id=9, kind="outcome", created_at=NOW, outcome="reached")
    install_translator(qapp, QLocale(QLocale.Language.German))
    try:
        assert call_event_text(outcome) == "☎ Rückruf vereinbart · 26.11. 17:30 — nach 17 Uhr"
        assert call_event_text(reached) == "☎ Erreicht"
    finally:
        remove_translators(qapp)


def test_a_closed_day_escalation_reads_in_the_ui_language(qapp: QApplication) -> None:
    # Here with the other words-in-German tests: installing a translator retranslates every
    # live window, and this module leaves none behind.
    from inbox_app.domain.escalations import EscalationRecord, EscalationState, Priority
    from ui.escalations import reason_text

    rec = EscalationRecord(
        id=5,
        conversation_id=5,
        reason="Appointment on a day the practice is closed: 2026-12-24 10:30 (Heiligabend)",
        priority=Priority.ROUTINE,
        due_at=NOW + 3600,
        state=EscalationState.OPEN,
        created_at=NOW - 3600,
        source="closed_day",
    )
    assert reason_text(rec) == (
        "Appointment on a day the practice is closed: 24/12/2026 10:30 (Heiligabend). "
        "No reminder goes out until it is moved or this is resolved."
    )
    install_translator(qapp, QLocale(QLocale.Language.German))
    try:
        assert reason_text(rec).startswith(
            "Termin an einem Schließtag der Praxis: 24.12.2026 10:30 (Heiligabend). "
        )
    finally:
        remove_translators(qapp)
