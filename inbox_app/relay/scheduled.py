"""Scheduled sends: a staff message that leaves later, inside the 24-hour window only.

``POST /v1/conversations/{id}/messages`` with ``"send_at": unix time`` stores the message
(status ``queued``, ``send_at`` set, its timestamp = ``send_at``) and an outbox row due then;
the outbox worker sends it like any other when it is due. A time past the window's end is
refused (422 ``schedule_refused``) with the window's end in the message.
``POST /v1/messages/{id}/cancel`` withdraws it while it has not left (status ``cancelled``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Path, Request
from sqlalchemy import select, update

from inbox_app.domain.conversations import SERVICE_WINDOW_SECONDS
from inbox_app.domain.messages import MessageStatus
from inbox_app.domain.roles import PATIENT_CONTENT_ROLES

from .access import ApiProblem, SignedIn, require_conversation
from .db import messages, outbox

# A time this close to now (or in the past) is a mistake, not a schedule.
MIN_LEAD_SECONDS = 1.0
# No further ahead than the window can ever reach (24 h after the last patient message).
CANCELLED_NOTE = "Cancelled before sending."

Id = Annotated[int, Path(ge=1, le=2**62)]


class ScheduleRefused(Exception):
    """A schedule WhatsApp could not honour; the message says why, for staff."""


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_schedule(last_inbound_at: float | None, send_at: float, now: float) -> None:
    """Raise ``ScheduleRefused`` unless ``send_at`` is ahead of now and before the window
    closes (free text outside it would fail at WhatsApp with 131047)."""
    if send_at < now + MIN_LEAD_SECONDS:
        raise ScheduleRefused("The time to send is in the past; choose a later time.")
    if last_inbound_at is None:
        raise ScheduleRefused("The 24-hour window is closed: nothing can be scheduled.")
    closes = last_inbound_at + SERVICE_WINDOW_SECONDS
    if send_at >= closes:
        raise ScheduleRefused(
            f"The 24-hour window closes at {_utc(closes)}; "
            "a message can only be scheduled before then."
        )


router = APIRouter(prefix="/v1")


def _cancel(request: Request, message_id: int) -> tuple[str, dict[str, Any] | None]:
    """(outcome, the cancelled message as JSON): 'cancelled', 'not_found', 'not_scheduled'."""
    relay = request.app.state.relay
    with relay.db.write() as conn:
        row = conn.execute(
            select(messages.c.status, messages.c.send_at).where(messages.c.id == message_id)
        ).one_or_none()
        if row is None:
            return "not_found", None
        if row.send_at is None or row.status != MessageStatus.QUEUED.value:
            return "not_scheduled", None
        # Only while the worker has not picked it up: a row in flight may already be out.
        taken = conn.execute(
            update(outbox)
            .where(outbox.c.message_id == message_id, outbox.c.state == "pending")
            .values(state="done", last_error=CANCELLED_NOTE)
        ).rowcount
        if not taken:
            return "not_scheduled", None
        conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status=MessageStatus.CANCELLED.value)
        )
        record = relay.store._emit_message(conn, message_id)
        return "cancelled", record.to_json()


def _conversation_of(request: Request, message_id: int) -> int | None:
    with request.app.state.relay.db.read() as conn:
        found = conn.execute(
            select(messages.c.conversation_id).where(messages.c.id == message_id)
        ).scalar_one_or_none()
    return int(found) if found is not None else None


@router.post("/messages/{message_id}/cancel")
async def cancel(request: Request, message_id: Id, user: SignedIn) -> dict[str, Any]:
    """Withdraw a scheduled message that has not left yet; answers ``{"message": {...}}``."""
    if user.role not in PATIENT_CONTENT_ROLES:
        raise ApiProblem(403, "forbidden", "Your role may not write to patients.")
    conversation_id = await to_thread.run_sync(lambda: _conversation_of(request, message_id))
    if conversation_id is None:
        raise ApiProblem(404, "not_found", "No such message.")
    try:
        await require_conversation(request, user, conversation_id)
    except ApiProblem:
        raise ApiProblem(404, "not_found", "No such message.") from None
    outcome, record = await to_thread.run_sync(lambda: _cancel(request, message_id))
    if outcome == "not_found":
        raise ApiProblem(404, "not_found", "No such message.")
    if outcome == "not_scheduled" or record is None:
        raise ApiProblem(
            409,
            "not_scheduled",
            "Only a scheduled message that has not been sent yet can be cancelled.",
        )
    request.app.state.relay.committed()
    return {"message": record}
