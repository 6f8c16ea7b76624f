"""Patients and appointments as the feed carries them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no-show"


# FHIR R4 Appointment.status → ours; statuses with no meaning for reminders map to None
# (the resource is reported and skipped by an import).
FHIR_STATUS: dict[str, AppointmentStatus | None] = {
    "proposed": AppointmentStatus.BOOKED,
    "pending": AppointmentStatus.BOOKED,
    "booked": AppointmentStatus.BOOKED,
    "arrived": AppointmentStatus.ATTENDED,
    "checked-in": AppointmentStatus.ATTENDED,
    "fulfilled": AppointmentStatus.ATTENDED,
    "cancelled": AppointmentStatus.CANCELLED,
    "noshow": AppointmentStatus.NO_SHOW,
    "waitlist": None,
    "entered-in-error": None,
}


@dataclass(frozen=True, slots=True)
class PatientRecord:
    id: int
    external_id: str
    family_name: str
    given_name: str
    birth_date: str | None
    wa_id: str | None
    language: str | None = None
    record_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    id: int
    external_id: str
    patient_id: int
    start: float
    end: float
    status: AppointmentStatus
    clinician: str | None = None
    place: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data
