"""Handing a conversation from the bot to the inbox: who the patient is (an existing
record, or a new one marked unverified), a summary note in the thread, a label."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from inbox_app.domain.roles import Role

from .. import audit
from ..db import conversations, notes, patients, users
from ..patients import _patient
from ..store import Store
from .understand import name_key

BOT_USERNAME = "praxis-bot"
BOT_DISPLAY_NAME = "Praxis-Bot"
LABEL_DONE = "intake-done"
LABEL_BOOKED = "booked-by-chat"
# Patients the bot registered: staff check them against the practice system.
UNVERIFIED_PREFIX = "chat-unverified|"
AUDIT_HANDOVER = "bot_handover"
AUDIT_BOOKING = "bot_booking"
AUDIT_STOPPED = "bot_stopped"


@dataclass(frozen=True, slots=True)
class Match:
    patient_id: int
    created: bool  # True: a new, unverified record


def match_or_create(
    store: Store,
    conn: Connection,
    *,
    wa_id: str,
    name: str,
    birth_date: str,
    language: str,
    now: float,
) -> Match:
    """The patient with this name and date of birth (several may share one number), or a
    new record marked unverified when none fits."""
    typed = set(name_key(name))
    rows = conn.execute(
        select(patients).where(patients.c.birth_date == birth_date).order_by(patients.c.id)
    ).all()
    fits = [
        r
        for r in rows
        if set(name_key(r.family_name)) <= typed and set(name_key(r.given_name)[:1]) <= typed
    ]
    # Someone registered under this number first (a family shares one phone).
    fits.sort(key=lambda r: (r.wa_id != wa_id, r.id))
    if fits:
        return Match(int(fits[0].id), created=False)
    words = name.split()
    pk = conn.execute(
        patients.insert().values(
            external_id=f"{UNVERIFIED_PREFIX}{uuid.uuid4()}",
            family_name=words[-1],
            given_name=" ".join(words[:-1]),
            birth_date=birth_date,
            wa_id=wa_id,
            language=language,
            record_number=None,
            updated_at=now,
        )
    ).inserted_primary_key
    assert pk is not None
    row = conn.execute(select(patients).where(patients.c.id == int(pk[0]))).one()
    store._append(conn, "patient", int(row.id), _patient(row).to_json())
    return Match(int(row.id), created=True)


def bot_user(conn: Connection, now: float) -> int:
    """The account the bot's notes are written under: disabled, it can never sign in and
    is not offered for assignment or mentions."""
    found = conn.execute(select(users.c.id).where(users.c.username == BOT_USERNAME)).scalar()
    if found is not None:
        return int(found)
    pk = conn.execute(
        users.insert().values(
            username=BOT_USERNAME,
            display_name=BOT_DISPLAY_NAME,
            role=Role.RECEPTIONIST.value,
            password_hash="!",  # noqa: S106  (not a hash: no password verifies against it)
            disabled=True,
            created_at=now,
        )
    ).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def add_note(store: Store, conn: Connection, conversation_id: int, text: str, now: float) -> int:
    """An internal note in the thread (staff see it; it is never sent to the patient)."""
    author = bot_user(conn, now)
    pk = conn.execute(
        notes.insert().values(
            conversation_id=conversation_id,
            author_id=author,
            text=text,
            mentions="[]",
            created_at=now,
        )
    ).inserted_primary_key
    assert pk is not None
    note_id = int(pk[0])
    store._append(
        conn,
        "note",
        note_id,
        {
            "id": note_id,
            "conversation_id": conversation_id,
            "author_id": author,
            "author_name": BOT_DISPLAY_NAME,
            "text": text,
            "mentions": [],
            "created_at": now,
        },
    )
    return note_id


def add_labels(store: Store, conn: Connection, conversation_id: int, *labels: str) -> None:
    current = conn.execute(
        select(conversations.c.labels).where(conversations.c.id == conversation_id)
    ).scalar_one()
    merged = sorted(set(json.loads(current or "[]")) | set(labels))
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(labels=json.dumps(merged, ensure_ascii=False))
    )
    store._emit_conversation(conn, conversation_id)


def record(
    conn: Connection, action: str, conversation_id: int, detail: dict[str, Any], now: float
) -> None:
    """Audit what the bot did (ids only: no health data in the audit log)."""
    audit.record(
        conn, action, username=BOT_USERNAME, conversation_id=conversation_id, detail=detail, now=now
    )
