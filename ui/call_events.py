"""What a WhatsApp call event says in the thread ("☎ Missed call from the patient").

The desktop cache lists call webhooks among a conversation's messages (``type='call'``,
``MessageRecord.call``); the delegate paints them as bubbles on the caller's side, as
WhatsApp itself does, and the thread model reads the same words to screen readers.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication

from inbox_app.domain.escalations import CallRecord

PHONE = "☎"


def talk_time(seconds: int) -> str:
    """3:07, or 1:02:09 past the hour (how phones show a call's length)."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def outcome_text(call: CallRecord) -> str:
    """A logged call outcome in the UI's language: "☎ Callback scheduled · 26.11. 17:00 — …"
    (the relay's own note text is English; this replaces it in the thread)."""
    labels = {
        "reached": QCoreApplication.translate("CallEvents", "Reached"),
        "not_reached": QCoreApplication.translate("CallEvents", "Not reached"),
        "callback_scheduled": QCoreApplication.translate("CallEvents", "Callback scheduled"),
    }
    text = f"{PHONE} {labels.get(call.outcome or '', call.outcome or '?')}"
    if call.callback_at is not None:
        text += " · " + time.strftime("%d.%m. %H:%M", time.localtime(call.callback_at))
    if call.note:
        text += f" — {call.note}"
    return text


def call_event_text(call: CallRecord) -> str:
    """One line for a call webhook (``status`` is ``event`` or ``event:STATUS``), or for
    a logged outcome."""
    if call.kind == "outcome":
        return outcome_text(call)
    event, _, status = (call.status or "").partition(":")
    from_patient = call.direction == "USER_INITIATED"
    if event == "connect":
        text = (
            QCoreApplication.translate("CallEvents", "Incoming WhatsApp call from the patient")
            if from_patient
            else QCoreApplication.translate("CallEvents", "The patient answered the WhatsApp call")
        )
    elif event == "terminate" and status == "COMPLETED":
        text = (
            QCoreApplication.translate("CallEvents", "WhatsApp call from the patient · %1")
            if from_patient
            else QCoreApplication.translate("CallEvents", "WhatsApp call to the patient · %1")
        ).replace("%1", talk_time(call.duration or 0))
    elif event == "terminate":
        text = (
            QCoreApplication.translate("CallEvents", "Missed WhatsApp call from the patient")
            if from_patient
            else QCoreApplication.translate("CallEvents", "WhatsApp call not answered")
        )
    elif event == "status" and status == "REJECTED":
        text = QCoreApplication.translate("CallEvents", "The patient declined the WhatsApp call")
    else:
        # A newer webhook we have no words for: name it rather than hide it.
        text = QCoreApplication.translate("CallEvents", "WhatsApp call event: %1").replace(
            "%1", call.status or "?"
        )
    return f"{PHONE} {text}"


def call_missed(call: CallRecord) -> bool:
    """A call that did not come through: missed, not answered or declined."""
    event, _, status = (call.status or "").partition(":")
    return (event == "terminate" and status != "COMPLETED") or status == "REJECTED"
