"""What the relay's staff booking endpoints answer (routes_patients.py), as records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inbox_app.domain.scheduling import AppointmentType, Slot


def slot_from_json(data: dict[str, Any]) -> Slot:
    return Slot(
        clinician=str(data["clinician"]), start=float(data["start"]), end=float(data["end"])
    )


@dataclass(frozen=True, slots=True)
class SlotOffer:
    """Free slots of one type, with the schedule's types and clinicians to choose from."""

    slots: list[Slot]
    types: list[AppointmentType]
    clinicians: list[str]
    timezone: str
    type_code: str = ""  # the type the slots are for

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SlotOffer:
        return cls(
            slots=[slot_from_json(s) for s in data.get("slots") or []],
            types=[
                AppointmentType(str(t["code"]), str(t["de"]), str(t["en"]), int(t["minutes"]))
                for t in data.get("types") or []
            ],
            clinicians=[str(c) for c in data.get("clinicians") or []],
            timezone=str(data.get("timezone") or "Europe/Berlin"),
            type_code=str(data.get("type") or ""),
        )
