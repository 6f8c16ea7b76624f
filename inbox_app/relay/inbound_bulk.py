"""Group commit's fast path: a run of webhooks stored with a handful of set-wise statements.

A backlog after an outage arrives as thousands of small deliveries (QUALITY P2). Stored one
row at a time, most of the time went into building SQL; here a run of plain deliveries (new
messages, statuses, side events) is stored with statements built once per dialect, each
executed once for the whole run. Reactions, edits, deletions and number changes depend on
what came before them, so a delivery holding one goes through the row-by-row path
(``Store._ingest_into``) in its place in the group.

Everything runs in the caller's write transaction: nothing is acknowledged before the commit
(I1), and ``wamid`` stays unique by constraint (I2): inserts are ``ON CONFLICT DO NOTHING``
and what was inserted is read back from ``RETURNING``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.sql import Executable

from inbox_app.domain.messages import Direction, MessageStatus
from inbox_app.domain.phone import display_phone
from inbox_app.whatsapp.webhook import InboundMessage, StatusUpdate, WebhookBatch

from .db import (
    conversations,
    events,
    inbound_actions,
    messages,
    status_receipts,
)
from .inbound import (
    RENUMBER_KINDS,
    apply_action,
    message_details,
    message_extras,
    preview_of,
    store_side_events,
    upsert_media,
)
from .pgnotify import notify_feed
from .store import (
    _MESSAGE_COLUMNS,
    IngestResult,
    Store,
    conversation_record,
    message_record,
)
from .teams import teamwork_state

# Expanding IN lists stay well below SQLite's limit on bound parameters.
_IN_CHUNK = 500


def ingest_group(
    store: Store, conn: Connection, batches: list[WebhookBatch], now: float
) -> list[IngestResult]:
    """Store ``batches`` in order; runs of plain ones together, the others one by one."""
    results = [IngestResult() for _ in batches]
    run: list[int] = []
    for index, batch in enumerate(batches):
        if _plain(batch):
            run.append(index)
            continue
        if run:
            _store_run(store, conn, [batches[i] for i in run], [results[i] for i in run], now)
            run = []
        results[index] = store._ingest_into(conn, batch, now)
    if run:
        _store_run(store, conn, [batches[i] for i in run], [results[i] for i in run], now)
    return results


def _plain(batch: WebhookBatch) -> bool:
    """No message in it changes another message or conversation (those need their order)."""
    return not any(
        msg.is_action or (msg.system is not None and msg.system.kind in RENUMBER_KINDS)
        for msg in batch.messages
    )


# -- statements, built once per dialect ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Statements:
    conversations_by_wa_id: Executable
    insert_conversation: Executable
    rename_conversation: Executable
    summarise_inbound: Executable
    summarise_echo: Executable
    insert_message: Executable
    waiting_actions: Executable
    messages_by_id: Executable
    conversations_by_id: Executable
    insert_event: Executable
    insert_receipt: Executable
    messages_by_wamid: Executable


_STATEMENTS: dict[bool, _Statements] = {}


def _statements(store: Store) -> _Statements:
    cached = _STATEMENTS.get(store.db.is_sqlite)
    if cached is not None:
        return cached
    greatest = func.max if store.db.is_sqlite else func.greatest
    c = conversations.c
    latest = greatest(c.last_message_at, bindparam("at"))
    made = _Statements(
        conversations_by_wa_id=select(c.id, c.wa_id, c.display_name).where(
            c.wa_id.in_(bindparam("keys", expanding=True))
        ),
        insert_conversation=store.db.insert_ignore(conversations),
        rename_conversation=update(conversations)
        .where(c.id == bindparam("cid"))
        .values(display_name=bindparam("name")),
        summarise_inbound=update(conversations)
        .where(c.id == bindparam("cid"))
        .values(
            last_message_at=latest,
            last_message_preview=bindparam("preview"),
            # The window counts from the newest inbound message, whatever order they came in.
            last_inbound_at=greatest(
                func.coalesce(c.last_inbound_at, bindparam("inbound_at")), bindparam("inbound_at")
            ),
            unread=c.unread + bindparam("added"),
        ),
        summarise_echo=update(conversations)
        .where(c.id == bindparam("cid"))
        .values(last_message_at=latest, last_message_preview=bindparam("preview")),
        insert_message=store.db.insert_ignore(messages).returning(messages.c.id, messages.c.wamid),
        waiting_actions=select(inbound_actions.c.id, inbound_actions.c.target_wamid)
        .where(
            inbound_actions.c.target_wamid.in_(bindparam("keys", expanding=True)),
            inbound_actions.c.applied.is_(False),
        )
        .order_by(inbound_actions.c.timestamp, inbound_actions.c.id),
        messages_by_id=select(*_MESSAGE_COLUMNS).where(
            messages.c.id.in_(bindparam("keys", expanding=True))
        ),
        conversations_by_id=select(conversations).where(
            c.id.in_(bindparam("keys", expanding=True))
        ),
        insert_event=events.insert(),
        insert_receipt=store.db.insert_ignore(status_receipts).returning(
            status_receipts.c.wamid, status_receipts.c.status
        ),
        messages_by_wamid=select(messages.c.id, messages.c.wamid).where(
            messages.c.wamid.in_(bindparam("keys", expanding=True))
        ),
    )
    _STATEMENTS[store.db.is_sqlite] = made
    return made


def _chunks(keys: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _IN_CHUNK):
        yield list(keys[start : start + _IN_CHUNK])


def _select_in(conn: Connection, stmt: Executable, keys: Sequence[Any]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(keys):
        rows.extend(conn.execute(stmt, {"keys": chunk}).all())
    return rows


# -- one run of plain webhooks ---------------------------------------------------------


@dataclass(slots=True)
class _Summary:
    """What a run's new messages change in one conversation."""

    last_at: float = 0.0
    preview: str = ""
    inbound_at: float | None = None
    added_unread: int = 0
    result: IngestResult | None = None  # the last delivery that touched it gets the event


@dataclass(slots=True)
class _Run:
    store: Store
    conn: Connection
    sql: _Statements
    now: float
    events: list[dict[str, Any]] = field(default_factory=list)


def _store_run(
    store: Store,
    conn: Connection,
    batches: list[WebhookBatch],
    results: list[IngestResult],
    now: float,
) -> None:
    run = _Run(store, conn, _statements(store), now)
    _store_bubbles(run, batches, results)
    _store_statuses(run, batches, results)
    for batch, result in zip(batches, results, strict=True):
        store_side_events(store, conn, batch, now, result)


def _store_bubbles(run: _Run, batches: list[WebhookBatch], results: list[IngestResult]) -> None:
    # First delivery of each wamid in the run; a repeat is a duplicate like a stored one.
    fresh: list[tuple[InboundMessage, IngestResult]] = []
    seen: set[str] = set()
    for batch, result in zip(batches, results, strict=True):
        for msg in batch.messages:
            if msg.wamid in seen:
                result.duplicate_messages += 1
            else:
                seen.add(msg.wamid)
                fresh.append((msg, result))
    if not fresh:
        return
    conversation_ids = _conversations_for(run, [msg for msg, _ in fresh])
    rows = [_message_row(msg, conversation_ids[msg.from_id], run.now) for msg, _ in fresh]
    inserted = {r.wamid: int(r.id) for r in run.conn.execute(run.sql.insert_message, rows).all()}
    stored: list[tuple[InboundMessage, int]] = []
    summaries: dict[int, _Summary] = {}
    for (msg, result), row in zip(fresh, rows, strict=True):
        message_id = inserted.get(msg.wamid)
        if message_id is None:
            result.duplicate_messages += 1
            continue
        stored.append((msg, message_id))
        result.stored_messages += 1
        result.events += 1
        ref = msg.media
        if ref is not None:
            upsert_media(run.conn, message_id, ref.kind, ref, run.now)
        summary = summaries.setdefault(row["conversation_id"], _Summary())
        summary.last_at = max(summary.last_at, row["timestamp"])
        summary.preview = preview_of(msg.type, msg.text)
        if not msg.echo:
            summary.inbound_at = max(summary.inbound_at or 0.0, row["timestamp"])
            summary.added_unread += 1
        summary.result = result
    if not stored:
        return
    _summarise(run, summaries)
    # Reactions/edits/deletions that arrived before their message now apply to it.
    ids_by_wamid = {msg.wamid: message_id for msg, message_id in stored}
    for action in _select_in(run.conn, run.sql.waiting_actions, list(ids_by_wamid)):
        apply_action(
            run.store, run.conn, int(action.id), ids_by_wamid[action.target_wamid], 0.0, emit=False
        )
    by_id = {
        int(r.id): r for r in _select_in(run.conn, run.sql.messages_by_id, list(inserted.values()))
    }
    for _msg, message_id in stored:
        row = by_id[message_id]
        data = {**message_record(row).to_json(), **message_extras(run.conn, row)}
        _event(run, "message", message_id, data)
    for conv in _select_in(run.conn, run.sql.conversations_by_id, list(summaries)):
        data = {**conversation_record(conv).to_json(), **teamwork_state(run.conn, conv)}
        _event(run, "conversation", int(conv.id), data)
        owner = summaries[int(conv.id)].result
        assert owner is not None
        owner.events += 1
    _flush_events(run)


def _conversations_for(run: _Run, msgs: list[InboundMessage]) -> dict[str, int]:
    """The conversation of every sender, created for first-time senders."""
    wanted = list(dict.fromkeys(msg.from_id for msg in msgs))
    found = {r.wa_id: r for r in _select_in(run.conn, run.sql.conversations_by_wa_id, wanted)}
    missing = [wa_id for wa_id in wanted if wa_id not in found]
    if missing:
        first: dict[str, InboundMessage] = {}
        for msg in msgs:
            first.setdefault(msg.from_id, msg)
        run.conn.execute(
            run.sql.insert_conversation,
            [
                {
                    "wa_id": wa_id,
                    "display_name": first[wa_id].contact_name or display_phone(wa_id) or wa_id,
                    "last_message_at": first[wa_id].timestamp,
                    "last_message_preview": "",
                    "unread": 0,
                }
                for wa_id in missing
            ],
        )
        found.update(
            (r.wa_id, r) for r in _select_in(run.conn, run.sql.conversations_by_wa_id, missing)
        )
    # The newest name the patient's profile carried wins.
    names: dict[str, str] = {}
    for msg in msgs:
        if msg.contact_name:
            names[msg.from_id] = msg.contact_name
    renames = [
        {"cid": found[wa_id].id, "name": name}
        for wa_id, name in names.items()
        if found[wa_id].display_name != name
    ]
    if renames:
        run.conn.execute(run.sql.rename_conversation, renames)
    return {wa_id: int(row.id) for wa_id, row in found.items()}


def _message_row(msg: InboundMessage, conversation_id: int, now: float) -> dict[str, Any]:
    details = message_details(msg)
    return {
        "conversation_id": conversation_id,
        "direction": (Direction.OUTBOUND if msg.echo else Direction.INBOUND).value,
        "type": msg.type,
        "text": msg.text,
        "status": (MessageStatus.SENT if msg.echo else MessageStatus.RECEIVED).value,
        "timestamp": msg.timestamp or now,
        "wamid": msg.wamid,
        "raw": json.dumps(msg.raw, separators=(",", ":")),
        "reply_to": msg.context_wamid,
        "details": json.dumps(details, separators=(",", ":"), ensure_ascii=False)
        if details
        else None,
    }


def _summarise(run: _Run, summaries: dict[int, _Summary]) -> None:
    inbound = [
        {
            "cid": cid,
            "at": s.last_at,
            "preview": s.preview,
            "inbound_at": s.inbound_at,
            "added": s.added_unread,
        }
        for cid, s in summaries.items()
        if s.inbound_at is not None
    ]
    echo = [
        {"cid": cid, "at": s.last_at, "preview": s.preview}
        for cid, s in summaries.items()
        if s.inbound_at is None
    ]
    if inbound:
        run.conn.execute(run.sql.summarise_inbound, inbound)
    if echo:
        run.conn.execute(run.sql.summarise_echo, echo)


def _store_statuses(run: _Run, batches: list[WebhookBatch], results: list[IngestResult]) -> None:
    fresh: list[tuple[StatusUpdate, IngestResult]] = []
    seen: set[tuple[str, str]] = set()
    for batch, result in zip(batches, results, strict=True):
        for status in batch.statuses:
            key = (status.wamid, status.status)
            if key not in seen:
                seen.add(key)
                fresh.append((status, result))
    if not fresh:
        return
    inserted = {
        (r.wamid, r.status)
        for r in run.conn.execute(
            run.sql.insert_receipt,
            [
                {
                    "wamid": s.wamid,
                    "status": s.status,
                    "timestamp": s.timestamp,
                    "error_code": s.error_code,
                    "error_title": s.error_title,
                    "callback_data": s.callback_data,
                }
                for s, _ in fresh
            ],
        ).all()
    }
    # A replayed status was applied when it first came; only new receipts move messages.
    new = [(s, result) for s, result in fresh if (s.wamid, s.status) in inserted]
    if not new:
        return
    targets = {
        r.wamid: int(r.id)
        for r in _select_in(run.conn, run.sql.messages_by_wamid, list({s.wamid for s, _ in new}))
    }
    for status, result in new:
        message_id = targets.get(status.wamid)
        if message_id is None and status.callback_data and status.callback_data.startswith("msg:"):
            # An ambiguous send whose answer was lost: the tag tells us which message it was.
            adopted = run.store._adopt_wamid(run.conn, status.callback_data, status.wamid)
            if adopted is not None:
                message_id = targets[status.wamid] = int(adopted.id)
        if message_id is not None and run.store._advance(run.conn, message_id, [status]):
            result.applied_statuses += 1
            result.events += 1


def _event(run: _Run, kind: str, entity_id: int, data: dict[str, Any]) -> None:
    # The same row Store._append writes, collected to be inserted in one statement.
    conversation_id = entity_id if kind == "conversation" else data.get("conversation_id")
    run.events.append(
        {
            "type": kind,
            "entity_id": entity_id,
            "data": json.dumps(data, separators=(",", ":")),
            "created_at": time.time(),
            "conversation_id": conversation_id,
            "audience_id": None,
        }
    )


def _flush_events(run: _Run) -> None:
    if not run.events:
        return
    run.conn.execute(run.sql.insert_event, run.events)
    run.events = []
    if not run.store.db.is_sqlite:
        notify_feed(run.conn)
