"""Messages as the feed carries them, and the rule that a status only moves forward."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from .escalations import CallRecord


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class MessageStatus(StrEnum):
    """Lifecycle of a message; inbound messages are simply ``received``."""

    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"
    # A scheduled message staff withdrew before it left (terminal; never sent).
    CANCELLED = "cancelled"


# A status may replace another only if its rank is higher (QUALITY I2).
# failed outranks the positive path so a late "sent" never hides a failure;
# read outranks failed because a message the patient read was clearly delivered.
_RANK: dict[MessageStatus, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.SENDING: 2,
    MessageStatus.NEEDS_REVIEW: 3,
    MessageStatus.SENT: 4,
    MessageStatus.DELIVERED: 5,
    MessageStatus.FAILED: 6,
    MessageStatus.READ: 7,
    MessageStatus.CANCELLED: 8,
}


def status_rank(status: MessageStatus | str) -> int:
    """Return the forward-only rank of a status."""
    return _RANK[MessageStatus(status)]


def advance_status(current: MessageStatus | str, new: MessageStatus | str) -> MessageStatus:
    """Return the status a message should have after ``new`` arrives (never backwards)."""
    cur, nxt = MessageStatus(current), MessageStatus(new)
    return nxt if _RANK[nxt] > _RANK[cur] else cur


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message in the state the feed sends it (whole state, not a diff)."""

    id: int
    conversation_id: int
    direction: Direction
    type: str
    text: str | None
    status: MessageStatus
    timestamp: float
    wamid: str | None = None
    client_id: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    author_id: int | None = None
    # Optional extras (older feeds and caches lack them): the quoted message, reactions,
    # and the file name of a document.
    reply_to_id: int | None = None
    reactions: tuple[str, ...] = ()
    filename: str | None = None
    # A scheduled send: when the relay's outbox sends it (None: as soon as possible).
    send_at: float | None = None
    # A result (relay result_state.py): sent, delivered, read, opened, downloaded …, and
    # how many seconds after the send it got there.
    result_state: str | None = None
    result_took: float | None = None
    # A WhatsApp call event shown in the thread (``type='call'``; the desktop cache's
    # call log, never a relay message).
    call: CallRecord | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["reactions"] = list(self.reactions)
        data["direction"] = self.direction.value
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageRecord:
        return cls(
            id=int(data["id"]),
            conversation_id=int(data["conversation_id"]),
            direction=Direction(data["direction"]),
            type=str(data["type"]),
            text=data.get("text"),
            status=MessageStatus(data["status"]),
            timestamp=float(data["timestamp"]),
            wamid=data.get("wamid"),
            client_id=data.get("client_id"),
            error_code=data.get("error_code"),
            error_title=data.get("error_title"),
            author_id=data.get("author_id"),
            reply_to_id=(int(data["reply_to_id"]) if data.get("reply_to_id") is not None else None),
            reactions=tuple(str(r) for r in data.get("reactions") or ()),
            filename=(str(data["filename"]) if data.get("filename") is not None else None),
            send_at=(float(data["send_at"]) if data.get("send_at") is not None else None),
            **_result_fields(data),
            call=CallRecord.from_json(data["call"]) if isinstance(data.get("call"), dict) else None,
        )


def _result_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A result's state from a message event's ``result`` object (or a stored record)."""
    result = data.get("result")
    if isinstance(result, dict) and isinstance(result.get("state"), str):
        took = result.get("took_seconds")
        return {
            "result_state": result["state"],
            "result_took": float(took) if isinstance(took, int | float) else None,
        }
    took = data.get("result_took")
    return {
        "result_state": str(data["result_state"]) if data.get("result_state") else None,
        "result_took": float(took) if isinstance(took, int | float) else None,
    }
