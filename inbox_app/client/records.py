"""Plain records the engine's parts hand to each other and to the UI.

They live here rather than in ``engine.py`` so the cache, sync and outbox modules can use
them without importing the engine (which imports them). ``engine.py`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus, PatientRecord
from inbox_app.domain.consent import ConsentPurpose, ConsentRecord, ConsentSource


class ConnectionState(StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"


class SessionState(StrEnum):
    """Whether the cache is open: the UI shows the inbox only while UNLOCKED."""

    SIGNED_OUT = "signed_out"
    UNLOCKED = "unlocked"
    LOCKED = "locked"  # idle or by hand: cache closed, key dropped; unlock(password)
    WIPED = "wiped"  # the relay ordered this user's/device's cache erased; sign in again


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What changed in the cache: views refresh only these ids."""

    conversation_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()
    # client ids of outbox entries that changed (queued locally, or acknowledged by the relay)
    client_ids: frozenset[str] = frozenset()
    connection: ConnectionState | None = None
    session: SessionState | None = None  # set when the session locked, unlocked or was wiped
    # Patient-register changes: patient ids, appointment ids, and the numbers (wa_id) whose
    # consent changed. Views showing ``patients_for``/``appointments_for``/``consents_for``
    # refresh on these.
    patient_ids: frozenset[int] = frozenset()
    appointment_ids: frozenset[int] = frozenset()
    consent_wa_ids: frozenset[str] = frozenset()
    # Escalations that changed, and those the relay notified again as overdue.
    escalation_ids: frozenset[int] = frozenset()
    overdue_escalation_ids: frozenset[int] = frozenset()

    def is_empty(self) -> bool:
        return not (
            self.conversation_ids
            or self.message_ids
            or self.client_ids
            or self.connection
            or self.session
            or self.patient_ids
            or self.appointment_ids
            or self.consent_wa_ids
            or self.escalation_ids
        )


@dataclass(frozen=True, slots=True)
class SignedInUser:
    id: int
    username: str
    display_name: str
    role: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedInUser:
        return cls(
            id=int(data["id"]),
            username=str(data["username"]),
            display_name=str(data.get("display_name") or data["username"]),
            role=str(data.get("role") or ""),
        )


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One change-feed event as the relay sends it (``docs/protocol.md``)."""

    seq: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FeedEvent:
        data = raw.get("data")
        return cls(
            seq=int(raw["seq"]),
            type=str(raw["type"]),
            data=data if isinstance(data, dict) else {},
        )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def patient_from_json(data: dict[str, Any]) -> PatientRecord:
    """A ``patient`` feed event's data (``PatientRecord.to_json``) as a record."""
    return PatientRecord(
        id=int(data["id"]),
        external_id=str(data["external_id"]),
        family_name=str(data.get("family_name") or ""),
        given_name=str(data.get("given_name") or ""),
        birth_date=_opt_str(data.get("birth_date")),
        wa_id=_opt_str(data.get("wa_id")),
        language=_opt_str(data.get("language")),
        record_number=_opt_str(data.get("record_number")),
    )


def appointment_from_json(data: dict[str, Any]) -> AppointmentRecord:
    """An ``appointment`` feed event's data (``AppointmentRecord.to_json``) as a record."""
    return AppointmentRecord(
        id=int(data["id"]),
        external_id=str(data["external_id"]),
        patient_id=int(data["patient_id"]),
        start=float(data["start"]),
        end=float(data["end"]),
        status=AppointmentStatus(data["status"]),
        clinician=_opt_str(data.get("clinician")),
        place=_opt_str(data.get("place")),
        reason=_opt_str(data.get("reason")),
    )


def consent_from_json(data: dict[str, Any]) -> ConsentRecord:
    """A ``consent`` feed event's data (``ConsentRecord.to_json``) as a record."""
    return ConsentRecord(
        wa_id=str(data["wa_id"]),
        purpose=ConsentPurpose(data["purpose"]),
        granted=bool(data["granted"]),
        source=ConsentSource(data["source"]),
        at=float(data["at"]),
    )
