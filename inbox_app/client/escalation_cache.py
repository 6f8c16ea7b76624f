"""Escalations and call-log entries in the encrypted cache (``escalation`` and ``call``
feed events; whole state per event, the higher ``seq`` wins).

The tables are created with ``IF NOT EXISTS`` when the cache opens: they are new, no relay
sent these events before, so no cache needs replaying to fill them. All functions run in
the cache's executor thread, on a connection of the caller's transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text

from inbox_app.domain.escalations import CallRecord, EscalationRecord, queue_order

log = logging.getLogger("inbox.client.escalations")

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS escalations (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL,
        state TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS escalations_by_conversation ON escalations (conversation_id)",
    """
    CREATE TABLE IF NOT EXISTS call_log (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL,
        escalation_id INTEGER,
        seq INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS call_log_by_escalation ON call_log (escalation_id, id)",
    "CREATE INDEX IF NOT EXISTS call_log_by_conversation ON call_log (conversation_id)",
)

# The call-log rows the conversation's thread shows (cache.py ``messages()``): WhatsApp's
# call webhooks, without the ringing/accepted statuses the connect and hang-up make plain.
# Requests, permission answers and outcomes already have their own message or note.
IN_THREAD = (
    "json_extract(data, '$.kind') = 'webhook' "
    "AND coalesce(json_extract(data, '$.status'), '') NOT IN ('status:RINGING', 'status:ACCEPTED')"
)

_UPSERT_ESCALATION = text(
    """
    INSERT INTO escalations (id, conversation_id, state, seq, data)
    VALUES (:id, :conversation_id, :state, :seq, :data)
    ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id,
        state = excluded.state, seq = excluded.seq, data = excluded.data
    WHERE excluded.seq >= escalations.seq
    """
)
_UPSERT_CALL = text(
    """
    INSERT INTO call_log (id, conversation_id, escalation_id, seq, data)
    VALUES (:id, :conversation_id, :escalation_id, :seq, :data)
    ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data
    WHERE excluded.seq >= call_log.seq
    """
)


def ensure_schema(conn: Connection) -> None:
    for statement in SCHEMA:
        conn.exec_driver_sql(statement)


@dataclass(slots=True)
class Pending:
    """Escalation and call rows parsed from one batch of feed events."""

    escalations: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    overdue: set[int] = field(default_factory=set)

    def add(self, kind: str, seq: int, data: dict[str, Any]) -> None:
        """Parse one ``escalation``/``call`` event; raises on malformed data."""
        dump = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if kind == "escalation":
            record = EscalationRecord.from_json(data)
            self.escalations.append(
                {
                    "id": record.id,
                    "conversation_id": record.conversation_id,
                    "state": record.state.value,
                    "seq": seq,
                    "data": dump,
                }
            )
            if data.get("notice") == "overdue" and record.overdue(
                float(data.get("renotified_at") or record.due_at)
            ):
                self.overdue.add(record.id)
        else:
            call = CallRecord.from_json(data)
            self.calls.append(
                {
                    "id": call.id,
                    "conversation_id": call.conversation_id,
                    "escalation_id": call.escalation_id,
                    "seq": seq,
                    "data": dump,
                }
            )

    def __bool__(self) -> bool:
        return bool(self.escalations or self.calls)

    def write(self, conn: Connection) -> tuple[frozenset[int], frozenset[int]]:
        """Store them; returns (escalation ids touched, overdue notices)."""
        if self.escalations:
            conn.execute(_UPSERT_ESCALATION, self.escalations)
        if self.calls:
            conn.execute(_UPSERT_CALL, self.calls)
        touched = {int(e["id"]) for e in self.escalations}
        # A call changes what its escalation's row shows (the last attempt).
        touched |= {int(c["escalation_id"]) for c in self.calls if c["escalation_id"]}
        return frozenset(touched), frozenset(self.overdue)


def write_answer(engine: Engine, data: dict[str, Any]) -> None:
    """A command's answer (no seq): stored at the current row's seq, so the next feed event
    for it still wins."""
    record = EscalationRecord.from_json(data)
    with engine.begin() as conn:
        seq = conn.execute(
            text("SELECT seq FROM escalations WHERE id = :id"), {"id": record.id}
        ).scalar()
        conn.execute(
            _UPSERT_ESCALATION,
            {
                "id": record.id,
                "conversation_id": record.conversation_id,
                "state": record.state.value,
                "seq": int(seq or 0),
                "data": json.dumps(data, separators=(",", ":"), ensure_ascii=False),
            },
        )


def reconcile(engine: Engine, states: list[dict[str, Any]]) -> frozenset[int]:
    """Make the cache hold exactly the escalations the relay lists now (their state as
    listed; rows kept at their seq, so a newer feed event still wins). Escalations the user
    no longer sees (reassigned elsewhere) leave the cache: the feed cannot tell them.
    Returns every id that changed or left."""
    records = [EscalationRecord.from_json(d) for d in states]
    wanted = {r.id for r in records}
    with engine.begin() as conn:
        stored = {
            int(row.id): str(row.data)
            for row in conn.execute(text("SELECT id, data FROM escalations"))
        }
        gone = set(stored) - wanted
        if gone:
            conn.execute(
                text("DELETE FROM escalations WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": sorted(gone)},
            )
        changed = set(gone)
        for record, data in zip(records, states, strict=True):
            dump = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            if stored.get(record.id) is not None and _same(stored[record.id], data):
                continue
            seq = conn.execute(
                text("SELECT seq FROM escalations WHERE id = :id"), {"id": record.id}
            ).scalar()
            conn.execute(
                _UPSERT_ESCALATION,
                {
                    "id": record.id,
                    "conversation_id": record.conversation_id,
                    "state": record.state.value,
                    "seq": int(seq or 0),
                    "data": dump,
                },
            )
            changed.add(record.id)
    return frozenset(changed)


def _same(stored: str, data: dict[str, Any]) -> bool:
    try:
        old = json.loads(stored)
    except ValueError:
        return False
    old.pop("notice", None)
    return bool(old == data)


def _records(rows: Any) -> list[EscalationRecord]:
    found = []
    for row in rows:
        try:
            found.append(EscalationRecord.from_json(json.loads(row.data)))
        except (KeyError, TypeError, ValueError):
            log.warning("skipping unreadable cached escalation %s", row.id)
    return found


def read_escalations(engine: Engine, conversation_id: int | None) -> list[EscalationRecord]:
    """All cached escalations (or one conversation's), in queue order."""
    with engine.connect() as conn:
        if conversation_id is None:
            rows = conn.execute(text("SELECT id, data FROM escalations"))
        else:
            rows = conn.execute(
                text("SELECT id, data FROM escalations WHERE conversation_id = :c"),
                {"c": conversation_id},
            )
        return queue_order(_records(rows))


def read_escalations_by_id(engine: Engine, ids: list[int]) -> list[EscalationRecord]:
    if not ids:
        return []
    query = text("SELECT id, data FROM escalations WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    with engine.connect() as conn:
        return queue_order(_records(conn.execute(query, {"ids": ids})))


def read_calls(engine: Engine, escalation_id: int) -> list[CallRecord]:
    """An escalation's call attempts, permission answers, call events and outcomes, oldest
    first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, data FROM call_log WHERE escalation_id = :e ORDER BY id"),
            {"e": escalation_id},
        )
        found = []
        for row in rows:
            try:
                found.append(CallRecord.from_json(json.loads(row.data)))
            except (KeyError, TypeError, ValueError):
                log.warning("skipping unreadable cached call entry %s", row.id)
        return found
