"""A result's state in the thread: sent, delivered, read (from its message's statuses) and
opened or downloaded on the phi-safe page, each with when and how long after the send.

Emitted as a ``result`` event (entity = result id, with the conversation id, so feed.py
filters it like a message) whenever any of them changes. Imports only ``db``: store.py
calls it from ``_emit_message``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from .db import messages, results, status_receipts

Append = Callable[..., int]


def result_state(conn: Connection, result_id: int, *, now: float | None = None) -> dict[str, Any]:
    """The result's state as the client shows it (no health data: ids, times, counters)."""
    now = time.time() if now is None else now
    row = conn.execute(select(results).where(results.c.id == result_id)).one()
    message = None
    if row.message_id is not None:
        message = conn.execute(
            select(messages.c.status, messages.c.wamid, messages.c.timestamp).where(
                messages.c.id == row.message_id
            )
        ).one_or_none()
    times: dict[str, float | None] = {"sent": None, "delivered": None, "read": None}
    status = message.status if message is not None else "queued"
    if message is not None and message.wamid:
        for receipt in conn.execute(
            select(status_receipts.c.status, status_receipts.c.timestamp).where(
                status_receipts.c.wamid == message.wamid
            )
        ):
            if receipt.status in times:
                times[receipt.status] = float(receipt.timestamp)
    times["opened"] = row.opened_at
    times["downloaded"] = row.downloaded_at
    state = status
    for name in ("opened", "downloaded"):
        if times[name] is not None:
            state = name
    at = times.get(state)
    expired = row.expires_at is not None and now >= row.expires_at
    return {
        "id": int(row.id),
        "conversation_id": int(row.conversation_id),
        "patient_id": int(row.patient_id),
        "message_id": int(row.message_id) if row.message_id is not None else None,
        "author_id": int(row.author_id),
        "profile": row.profile,
        "mime_type": row.mime_type,
        "filename": row.filename,
        "size": int(row.size),
        "pages": int(row.pages),
        "identity": row.identity,
        "overridden": bool(row.overridden),
        "state": state,
        "created_at": row.created_at,
        "times": times,
        # How long the latest state took after the send, for "opened after 12 min";
        # WhatsApp's status times are whole seconds, hence never below zero.
        "took_seconds": round(max(0.0, at - row.created_at), 3) if at is not None else None,
        "expires_at": row.expires_at,
        "expired": expired,
        "locked": row.locked_at is not None,
    }


def emit_result(append: Append, conn: Connection, result_id: int) -> dict[str, Any]:
    """Append the result's current state to the feed (in the caller's transaction)."""
    data = result_state(conn, result_id)
    append(conn, "result", result_id, data)
    return data


def result_of_message(conn: Connection, message_id: int) -> int | None:
    found = conn.execute(
        select(results.c.id).where(results.c.message_id == message_id)
    ).scalar_one_or_none()
    return int(found) if found is not None else None


# What a message event carries of its result: the state and its times, nothing about the
# file (receptionists see the thread too; the whole state is for nurses and clinicians).
THREAD_FIELDS = ("id", "profile", "state", "times", "took_seconds", "expired", "locked")


def thread_summary(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state[k] for k in THREAD_FIELDS}
