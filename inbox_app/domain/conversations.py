"""Conversations as the feed carries them, and the 24-hour customer-service window."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SERVICE_WINDOW_SECONDS = 24 * 3600


def window_remaining(last_inbound_at: float | None, now: float) -> float:
    """Seconds left in the 24-hour window (0 when closed or never opened)."""
    if last_inbound_at is None:
        return 0.0
    return max(0.0, last_inbound_at + SERVICE_WINDOW_SECONDS - now)


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """A conversation in the state the feed sends it."""

    id: int
    wa_id: str
    display_name: str
    phone: str | None
    last_message_at: float
    last_message_preview: str
    last_inbound_at: float | None = None
    unread: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationRecord:
        return cls(
            id=int(data["id"]),
            wa_id=str(data["wa_id"]),
            display_name=str(data["display_name"]),
            phone=data.get("phone"),
            last_message_at=float(data["last_message_at"]),
            last_message_preview=str(data.get("last_message_preview") or ""),
            last_inbound_at=(
                float(data["last_inbound_at"]) if data.get("last_inbound_at") is not None else None
            ),
            unread=int(data.get("unread") or 0),
        )
