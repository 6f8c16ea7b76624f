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
    # Teamwork fields (the relay adds them to ``conversation`` events); all optional so older
    # feeds and caches without them still parse.
    status: str = "open"  # open | pending (waiting for the patient) | snoozed | resolved
    assignee_id: int | None = None
    claimed_by: int | None = None
    claimed_by_name: str | None = None
    labels: tuple[str, ...] = ()
    escalated: bool = False
    team_id: int | None = None
    snoozed_until: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data

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
            status=str(data.get("status") or "open"),
            assignee_id=_optional_int(data.get("assignee_id")),
            claimed_by=_optional_int(data.get("claimed_by")),
            claimed_by_name=(
                str(data["claimed_by_name"]) if data.get("claimed_by_name") is not None else None
            ),
            labels=_labels(data.get("labels")),
            escalated=bool(data.get("escalated") or "escalated" in _labels(data.get("labels"))),
            team_id=_optional_int(data.get("team_id")),
            snoozed_until=(
                float(data["snoozed_until"]) if data.get("snoozed_until") is not None else None
            ),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _labels(value: Any) -> tuple[str, ...]:
    """Labels as a tuple of strings; tolerates a missing key, null or a single string."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value)
