"""Escalations: a conversation handed to a clinician (or the clinicians) with a reason, a
priority and a due time; and the outcome of calling the patient back.

The relay sends each escalation whole in an ``escalation`` feed event (state, not diff),
the desktop caches it and the queue shows it; both sides parse it with these types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class EscalationState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class CallOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    CALLBACK = "callback_scheduled"


# How long each priority may wait when the escalating person names no due time.
DEFAULT_DUE_SECONDS: dict[Priority, float] = {
    Priority.ROUTINE: 24 * 3600.0,
    Priority.URGENT: 2 * 3600.0,
    Priority.EMERGENCY: 15 * 60.0,
}

# Queue order: the most pressing first.
PRIORITY_RANK: dict[Priority, int] = {
    Priority.EMERGENCY: 0,
    Priority.URGENT: 1,
    Priority.ROUTINE: 2,
}

MAX_REASON = 500
MAX_NOTE = 2000


def _opt_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _opt_float(value: Any) -> float | None:
    return float(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    """One escalation as the feed carries it."""

    id: int
    conversation_id: int
    reason: str
    priority: Priority
    due_at: float
    state: EscalationState
    created_at: float
    patient_id: int | None = None
    assignee_id: int | None = None  # a clinician …
    team_id: int | None = None  # … or a team; neither: every clinician
    assignee_name: str | None = None
    team_name: str | None = None
    created_by: int | None = None  # None: the relay itself (a red flag)
    created_by_name: str | None = None
    acknowledged_by: int | None = None
    acknowledged_by_name: str | None = None
    acknowledged_at: float | None = None
    resolved_by: int | None = None
    resolved_by_name: str | None = None
    resolved_at: float | None = None
    resolution: str | None = None
    renotified_at: float | None = None
    source: str = "staff"  # staff | red_flag | closed_day (the relay)
    # The conversation's name, so the queue can show whom it is about without a lookup.
    display_name: str | None = None

    @property
    def open(self) -> bool:
        return self.state != EscalationState.RESOLVED

    def overdue(self, now: float) -> bool:
        """Past due and nobody has acknowledged it yet."""
        return self.state == EscalationState.OPEN and now >= self.due_at

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["priority"] = self.priority.value
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EscalationRecord:
        return cls(
            id=int(data["id"]),
            conversation_id=int(data["conversation_id"]),
            reason=str(data.get("reason") or ""),
            priority=Priority(str(data["priority"])),
            due_at=float(data["due_at"]),
            state=EscalationState(str(data["state"])),
            created_at=float(data["created_at"]),
            patient_id=_opt_int(data.get("patient_id")),
            assignee_id=_opt_int(data.get("assignee_id")),
            team_id=_opt_int(data.get("team_id")),
            assignee_name=data.get("assignee_name"),
            team_name=data.get("team_name"),
            created_by=_opt_int(data.get("created_by")),
            created_by_name=data.get("created_by_name"),
            acknowledged_by=_opt_int(data.get("acknowledged_by")),
            acknowledged_by_name=data.get("acknowledged_by_name"),
            acknowledged_at=_opt_float(data.get("acknowledged_at")),
            resolved_by=_opt_int(data.get("resolved_by")),
            resolved_by_name=data.get("resolved_by_name"),
            resolved_at=_opt_float(data.get("resolved_at")),
            resolution=data.get("resolution"),
            renotified_at=_opt_float(data.get("renotified_at")),
            source=str(data.get("source") or "staff"),
            display_name=data.get("display_name"),
        )


def queue_order(records: list[EscalationRecord]) -> list[EscalationRecord]:
    """Open ones first (by priority, then due time), resolved ones last (newest first)."""
    active = sorted(
        (r for r in records if r.open), key=lambda r: (PRIORITY_RANK[r.priority], r.due_at, r.id)
    )
    done = sorted(
        (r for r in records if not r.open), key=lambda r: -(r.resolved_at or r.created_at)
    )
    return active + done


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call attempt from an escalation, or a WhatsApp call's signalling, as the feed
    carries it (``call`` events)."""

    id: int
    conversation_id: int
    # permission_requested | permission_granted | permission_reply | webhook | outcome | tel
    # | video
    kind: str
    created_at: float
    escalation_id: int | None = None
    user_id: int | None = None
    user_name: str | None = None
    outcome: str | None = None
    callback_at: float | None = None
    note: str | None = None
    status: str | None = None  # a webhook's event/status, a permission answer
    direction: str | None = None  # a call webhook's USER_INITIATED | BUSINESS_INITIATED
    duration: int | None = None  # seconds talked, on a completed call's ``terminate``

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallRecord:
        return cls(
            id=int(data["id"]),
            conversation_id=int(data["conversation_id"]),
            kind=str(data["kind"]),
            created_at=float(data["created_at"]),
            escalation_id=_opt_int(data.get("escalation_id")),
            user_id=_opt_int(data.get("user_id")),
            user_name=data.get("user_name"),
            outcome=data.get("outcome"),
            callback_at=_opt_float(data.get("callback_at")),
            note=data.get("note"),
            status=data.get("status"),
            direction=data.get("direction"),
            duration=_opt_int(data.get("duration")),
        )
