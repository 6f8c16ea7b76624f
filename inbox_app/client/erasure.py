"""Applying a ``patient.erased`` feed event (DSGVO Art. 17) to the desktop cache.

The relay erased a patient and names, by id only, the conversations that went with them;
the cache deletes the same conversations with their messages, notes, queued sends,
escalations and calls, and the patient's register entry, appointments and consents.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

PATIENT_ERASED_EVENT = "patient.erased"
# Cache tables keyed by the relay's conversation id (the optional ones may be absent).
_BY_CONVERSATION = ("messages", "notes", "outbox", "escalations", "call_log")


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({int(v) for v in values if v is not None})


def erase_patients(conn: Connection, events: list[dict[str, Any]]) -> frozenset[int]:
    """Delete what the events name; returns the conversation ids removed."""
    conversation_ids = _ids(c for ev in events for c in ev.get("conversation_ids") or [])
    patient_ids = _ids(ev.get("patient_id") for ev in events)
    present = {
        str(r[0]) for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
    }
    numbers: set[str] = set()
    # Only integers from the event reach the SQL (as bound parameters).
    for conversation_id in conversation_ids:
        params = {"c": conversation_id}
        wa = conn.execute(text("SELECT wa_id FROM conversations WHERE id = :c"), params).scalar()
        if wa:
            numbers.add(str(wa))
        for table in _BY_CONVERSATION:
            if table in present:
                conn.execute(text(f"DELETE FROM {table} WHERE conversation_id = :c"), params)  # noqa: S608
        conn.execute(text("DELETE FROM conversations WHERE id = :c"), params)
    for patient_id in patient_ids:
        params = {"p": patient_id}
        if "patients" in present:
            wa = conn.execute(text("SELECT wa_id FROM patients WHERE id = :p"), params).scalar()
            if wa:
                numbers.add(str(wa))
            conn.execute(text("DELETE FROM patients WHERE id = :p"), params)
        if "appointments" in present:
            conn.execute(text("DELETE FROM appointments WHERE patient_id = :p"), params)
    if "consents" in present:
        for number in numbers:
            conn.execute(text("DELETE FROM consents WHERE wa_id = :w"), {"w": number})
    return frozenset(conversation_ids)
