"""The bot's place in each conversation, kept in the database (bot_states) so a restarted
relay carries on the dialogue where it was, and whether staff have taken over."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from inbox_app.domain.messages import Direction

from ..db import bot_states, conversations, escalations, messages

INTAKE = "intake"
BOOKING = "booking"
HANDED_OVER = "handed_over"
STOPPED = "stopped"
ACTIVE_FLOWS = (INTAKE, BOOKING)


@dataclass(slots=True)
class BotState:
    conversation_id: int
    flow: str
    step: str
    language: str
    data: dict[str, Any] = field(default_factory=dict)
    started_at: float = 0.0
    ended_reason: str | None = None
    is_new: bool = False

    @property
    def active(self) -> bool:
        return self.flow in ACTIVE_FLOWS


def load(conn: Connection, conversation_id: int) -> BotState | None:
    row = conn.execute(
        select(bot_states).where(bot_states.c.conversation_id == conversation_id)
    ).one_or_none()
    if row is None:
        return None
    return BotState(
        conversation_id=conversation_id,
        flow=row.flow,
        step=row.step,
        language=row.language,
        data=json.loads(row.data or "{}"),
        started_at=row.started_at,
        ended_reason=row.ended_reason,
    )


def save(conn: Connection, state: BotState, now: float) -> None:
    values = {
        "flow": state.flow,
        "step": state.step,
        "language": state.language,
        "data": json.dumps(state.data, separators=(",", ":"), ensure_ascii=False),
        "updated_at": now,
        "ended_reason": state.ended_reason,
    }
    if state.is_new:
        conn.execute(
            bot_states.insert().values(
                conversation_id=state.conversation_id, started_at=state.started_at, **values
            )
        )
        state.is_new = False
    else:
        conn.execute(
            update(bot_states)
            .where(bot_states.c.conversation_id == state.conversation_id)
            .values(**values)
        )


def staff_active(conn: Connection, conversation_id: int, now: float) -> str | None:
    """Why the conversation is in a human's hands (None: it is not).

    Any message written by staff, a claim, an assignee, a status other than open or an
    open escalation (a red flag) means a person is on it, and the bot keeps out.
    """
    conv = conn.execute(
        select(
            conversations.c.claimed_by,
            conversations.c.claim_expires_at,
            conversations.c.assignee_id,
            conversations.c.status,
        ).where(conversations.c.id == conversation_id)
    ).one()
    if conv.claimed_by is not None and (conv.claim_expires_at or 0) > now:
        return "claimed"
    if conv.assignee_id is not None:
        return "assigned"
    if conv.status != "open":
        return "status"
    urgent = conn.execute(
        select(escalations.c.id)
        .where(
            escalations.c.conversation_id == conversation_id,
            escalations.c.state != "resolved",
        )
        .limit(1)
    ).first()
    if urgent is not None:
        return "escalation"  # a red flag (or staff) escalated it: no questionnaire now
    wrote = conn.execute(
        select(messages.c.id)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == Direction.OUTBOUND.value,
            messages.c.author_id.is_not(None),
        )
        .limit(1)
    ).first()
    return "staff_message" if wrote is not None else None


def stop(conn: Connection, conversation_id: int, reason: str, now: float) -> bool:
    """End the bot in a conversation (staff took over); False if it was not running."""
    done = conn.execute(
        update(bot_states)
        .where(
            bot_states.c.conversation_id == conversation_id,
            bot_states.c.flow.in_((*ACTIVE_FLOWS, HANDED_OVER)),
        )
        .values(flow=STOPPED, step="", ended_reason=reason[:32], updated_at=now)
    )
    return done.rowcount > 0
