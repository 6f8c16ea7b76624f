"""The patient's data-protection rights on the relay (DSGVO Art. 15 and Art. 17).

A patient is named by the relay's patient id (imported from the practice system) or, for
someone who only ever wrote on WhatsApp, by ``wa:<number>``. ``export`` gathers everything
held about them as JSON; ``erase`` deletes it, leaves a ``patient.erased`` event that makes
every desktop cache drop the same conversations at its next sync, and wipes the freed
space. Both are audited with ids and counts only (the audit trail is kept, retention.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Table, delete, or_, select

from .audit import Action, record
from .db import (
    Database,
    appointments,
    audit,
    call_events,
    consents,
    conversations,
    events,
    inbound_actions,
    legal_holds,
    media,
    messages,
    notes,
    patients,
    results,
    user_preferences,
)
from .pgnotify import notify_feed
from .retention import delete_cascade, held_conversation_ids, remove_files

EXPORT_FORMAT = "praxis-inbox/patient-export/1"
ERASED_EVENT = "patient.erased"


class NoSuchPatient(LookupError):
    """Nothing is held under this patient id or number."""


class UnderLegalHold(RuntimeError):
    """A legal hold keeps this patient's data; release it first (retention.py)."""


@dataclass(frozen=True, slots=True)
class Subject:
    patient_id: int | None
    wa_ids: frozenset[str]
    conversation_ids: tuple[int, ...]


def _rows(conn: Connection, table: Table, *where: Any) -> list[dict[str, Any]]:
    out = []
    for row in conn.execute(select(table).where(*where).order_by(*table.primary_key.columns)):
        item = dict(row._mapping)
        for key in ("details", "reactions", "data", "labels", "mentions", "detail", "raw"):
            value = item.get(key)
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    item[key] = json.loads(value)
                except ValueError:
                    pass
        # Secrets of the phi-safe result page are not the patient's data.
        for key in ("token_hash", "code_hash", "session_hash"):
            item.pop(key, None)
        out.append(item)
    return out


def find(conn: Connection, ident: str) -> Subject:
    """``ident``: a relay patient id, or ``wa:<number>``."""
    ident = ident.strip()
    patient_id: int | None = None
    numbers: set[str] = set()
    if ident.startswith("wa:"):
        number = ident[3:].lstrip("+")
        if not number.isdigit():
            raise NoSuchPatient("A WhatsApp number is digits only, e.g. wa:4915112345678.")
        numbers.add(number)
        patient_id = conn.execute(
            select(patients.c.id).where(patients.c.wa_id == number).order_by(patients.c.id)
        ).scalar()
    elif ident.isdigit():
        row = conn.execute(
            select(patients.c.id, patients.c.wa_id).where(patients.c.id == int(ident))
        ).first()
        if row is None:
            raise NoSuchPatient(f"No patient {ident}.")
        patient_id = int(row.id)
        if row.wa_id:
            numbers.add(str(row.wa_id))
    else:
        raise NoSuchPatient("Name a patient by id (e.g. 12) or number (e.g. wa:4915112345678).")
    ids = (
        tuple(
            int(i)
            for i in conn.execute(
                select(conversations.c.id)
                .where(conversations.c.wa_id.in_(numbers))
                .order_by(conversations.c.id)
            ).scalars()
        )
        if numbers
        else ()
    )
    if patient_id is None and not ids:
        raise NoSuchPatient(f"Nothing is held about {ident}.")
    return Subject(patient_id, frozenset(numbers), ids)


def export(
    db: Database, ident: str, *, user_id: int | None = None, address: str | None = None
) -> dict[str, Any]:
    """Art. 15: everything held about one patient, machine-readable (JSON types only)."""
    with db.write() as conn:  # a write: the export itself is audited in the same breath
        who = find(conn, ident)
        conv = list(who.conversation_ids)
        numbers = list(who.wa_ids)
        pid = who.patient_id
        appointment_rows = (
            _rows(conn, appointments, appointments.c.patient_id == pid) if pid else []
        )
        data: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "exported_at": time.time(),
            "patient": next(iter(_rows(conn, patients, patients.c.id == pid)), None),
            "whatsapp_numbers": sorted(numbers),
            "conversations": [
                {
                    **conversation,
                    "messages": _rows(
                        conn, messages, messages.c.conversation_id == conversation["id"]
                    ),
                    "notes": _rows(conn, notes, notes.c.conversation_id == conversation["id"]),
                }
                for conversation in _rows(conn, conversations, conversations.c.id.in_(conv))
            ],
            "media": _rows(
                conn,
                media,
                media.c.message_id.in_(
                    select(messages.c.id).where(messages.c.conversation_id.in_(conv))
                ),
            ),
            "results": _rows(
                conn,
                results,
                or_(results.c.conversation_id.in_(conv), results.c.patient_id == pid),
            ),
            "appointments": appointment_rows,
            "consents": _rows(conn, consents, consents.c.wa_id.in_(numbers)),
            "marketing_preferences": _rows(
                conn, user_preferences, user_preferences.c.wa_id.in_(numbers)
            ),
            "calls": _rows(
                conn,
                call_events,
                or_(call_events.c.from_id.in_(numbers), call_events.c.to_id.in_(numbers)),
            ),
            "legal_holds": _rows(
                conn,
                legal_holds,
                or_(legal_holds.c.conversation_id.in_(conv), legal_holds.c.patient_id == pid),
            ),
            "audit": [
                {k: v for k, v in row.items() if k not in ("prev_hash",)}
                for row in _rows(conn, audit, _audit_about(pid, conv))
            ],
        }
        record(
            conn,
            Action.PATIENT_EXPORTED,
            user_id=user_id,
            detail={"patient_id": pid, "conversations": len(conv)},
            address=address,
        )
    return data


def _audit_about(patient_id: int | None, conversation_ids: list[int]) -> Any:
    about = [audit.c.conversation_id.in_(conversation_ids)]
    if patient_id is not None:
        # Rows that name the patient in their detail (exports, erasures, holds, results).
        about.append(audit.c.detail.like(f'%"patient_id":{int(patient_id)}%'))
    return or_(*about)


@dataclass(slots=True)
class Erased:
    patient_id: int | None
    conversations: int = 0
    messages: int = 0
    appointments: int = 0
    files: int = 0


def erase(
    db: Database, ident: str, *, user_id: int | None = None, address: str | None = None
) -> Erased:
    """Art. 17: delete the patient from the relay; desktops follow via ``patient.erased``."""
    files: list[str] = []
    with db.write() as conn:
        who = find(conn, ident)
        held = held_conversation_ids(conn)
        holds_patient = (
            who.patient_id is not None
            and conn.execute(
                select(legal_holds.c.id).where(
                    legal_holds.c.patient_id == who.patient_id, legal_holds.c.released_at.is_(None)
                )
            ).first()
        )
        if holds_patient or held & set(who.conversation_ids):
            raise UnderLegalHold("A legal hold keeps this patient's data; release it first.")
        conv = list(who.conversation_ids)
        numbers = list(who.wa_ids)
        done = Erased(who.patient_id)
        done.messages = len(
            conn.execute(select(messages.c.id).where(messages.c.conversation_id.in_(conv))).all()
        )
        # Feed events that quote the patient without naming a conversation.
        if who.patient_id is not None:
            appointment_ids = [
                int(i)
                for i in conn.execute(
                    select(appointments.c.id).where(appointments.c.patient_id == who.patient_id)
                ).scalars()
            ]
            conn.execute(
                delete(events).where(
                    events.c.type == "patient", events.c.entity_id == who.patient_id
                )
            )
            conn.execute(
                delete(events).where(
                    events.c.type == "appointment", events.c.entity_id.in_(appointment_ids)
                )
            )
            done.appointments = len(appointment_ids)
        consent_ids = [
            int(i)
            for i in conn.execute(
                select(consents.c.id).where(consents.c.wa_id.in_(numbers))
            ).scalars()
        ]
        conn.execute(
            delete(events).where(events.c.type == "consent", events.c.entity_id.in_(consent_ids))
        )
        done.conversations = delete_cascade(conn, conversations, conv, files)
        if who.patient_id is not None:
            delete_cascade(conn, patients, [who.patient_id], files)
        conn.execute(delete(consents).where(consents.c.wa_id.in_(numbers)))
        conn.execute(delete(user_preferences).where(user_preferences.c.wa_id.in_(numbers)))
        conn.execute(delete(inbound_actions).where(inbound_actions.c.from_id.in_(numbers)))
        conn.execute(
            delete(call_events).where(
                or_(call_events.c.from_id.in_(numbers), call_events.c.to_id.in_(numbers))
            )
        )
        done.files = len(files)
        # Ids only: desktops delete these conversations (and notes) from their caches.
        conn.execute(
            events.insert().values(
                type=ERASED_EVENT,
                entity_id=who.patient_id or 0,
                data=json.dumps({"patient_id": who.patient_id, "conversation_ids": conv}),
                created_at=time.time(),
                conversation_id=None,
                audience_id=None,
            )
        )
        if not db.is_sqlite:
            notify_feed(conn)
        record(
            conn,
            Action.PATIENT_ERASED,
            user_id=user_id,
            detail={k: v for k, v in asdict(done).items()},
            address=address,
        )
    remove_files(files)
    db.wipe_free_space()
    return done
