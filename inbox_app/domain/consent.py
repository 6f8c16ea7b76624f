"""Consent per purpose, with where it came from and when."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class ConsentPurpose(StrEnum):
    CARE = "care"  # conversation about the patient's care on WhatsApp
    REMINDERS = "reminders"  # automated appointment reminders
    RESULTS = "results"  # results sent by WhatsApp


class ConsentSource(StrEnum):
    FORM = "form"  # signed at the practice
    STAFF = "staff"  # recorded by staff from a conversation
    KEYWORD = "keyword"  # STOP / START written by the patient
    WHATSAPP = "whatsapp"  # WhatsApp's own marketing-preference webhook
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    wa_id: str
    purpose: ConsentPurpose
    granted: bool
    source: ConsentSource
    at: float

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["purpose"] = self.purpose.value
        data["source"] = self.source.value
        return data
