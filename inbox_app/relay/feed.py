"""The change feed: waking live streams, what each user may receive, the SSE stream."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from anyio import to_thread
from sqlalchemy import or_, select

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES, Role

from .auth import Accounts, StaffUser
from .db import Database, conversations, events
from .presence import PresenceHub
from .teams import visible_conversations

log = logging.getLogger("inbox.relay.feed")


class FeedNotifier:
    """Each commit that appended events calls ``notify``; SSE streams ``wait`` for it.

    Callers take the current waiter *before* reading the database, so an event committed
    between their read and their wait still wakes them.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def waiter(self) -> asyncio.Event:
        return self._event

    def _fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def notify(self) -> None:
        """Safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fire()
        else:
            loop.call_soon_threadsafe(self._fire)


# -- what each user may receive ----------------------------------------------------------

# Types that carry patient content even when an event names no conversation: admins never
# receive them (new patient-data event types belong here or carry a conversation_id).
PATIENT_EVENT_TYPES = frozenset(
    {
        "conversation",
        "message",
        "note",
        "mention",
        "media",
        "patient",
        "appointment",
        "consent",
        "reminder",
        "result",
        "escalation",
        "call",
    }
)


RESULT_ROLES = frozenset({Role.NURSE, Role.CLINICIAN})


def visible_events(db: Database, user: StaffUser, after: int, limit: int) -> list[Any]:
    """Events after ``after`` this user may receive, oldest first (filtered in SQL)."""
    query = (
        select(events.c.seq, events.c.type, events.c.data)
        .select_from(
            events.outerjoin(conversations, conversations.c.id == events.c.conversation_id)
        )
        .where(
            events.c.seq > after,
            or_(events.c.audience_id.is_(None), events.c.audience_id == user.id),
        )
    )
    if user.role in PATIENT_CONTENT_ROLES:
        query = query.where(
            or_(
                events.c.conversation_id.is_(None),
                visible_conversations(user.id, user.role),
            )
        )
        if user.role not in RESULT_ROLES:
            # Results are for nurses and clinicians (ARCHITECTURE "Who may do what").
            query = query.where(events.c.type != "result")
    else:
        query = query.where(
            events.c.conversation_id.is_(None), events.c.type.not_in(PATIENT_EVENT_TYPES)
        )
    with db.read() as conn:
        return list(conn.execute(query.order_by(events.c.seq).limit(limit)).all())


def as_json(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"seq": r.seq, "type": r.type, "data": json.loads(r.data)} for r in rows]


def visible_conversation_ids(db: Database, user: StaffUser, ids: set[int]) -> set[int]:
    if not ids or user.role not in PATIENT_CONTENT_ROLES:
        return set()
    with db.read() as conn:
        return set(
            conn.execute(
                select(conversations.c.id).where(
                    conversations.c.id.in_(ids), visible_conversations(user.id, user.role)
                )
            ).scalars()
        )


# -- the live stream ---------------------------------------------------------------------

HEARTBEAT_SECONDS = 15.0
# Revoked tokens and disabled users lose their streams within this time; after a commit
# (which may be a sign-out or a disabled account) the session is checked again sooner, but
# not more often than TOKEN_RECHECK_MIN.
TOKEN_CHECK_SECONDS = 5.0
TOKEN_RECHECK_MIN = 1.0
SSE_BATCH = 500


def _sse(ev: dict[str, Any]) -> str:
    return (
        f"id: {ev['seq']}\nevent: {ev['type']}\ndata: {json.dumps(ev, separators=(',', ':'))}\n\n"
    )


async def event_stream(
    *,
    db: Database,
    accounts: Accounts,
    notifier: FeedNotifier,
    presence: PresenceHub,
    user: StaffUser,
    token: str,
    cursor: int,
    is_disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """SSE lines: stored events with ``id:`` (the resume cursor), presence without one."""
    position = cursor
    presence_version = presence.version
    yield "retry: 2000\n\n"
    loop = asyncio.get_running_loop()
    last_check = last_output = loop.time()
    woken = False  # a commit happened since the last session check (maybe a sign-out)
    while True:
        waiter = notifier.waiter()
        since_check = loop.time() - last_check
        if since_check >= TOKEN_CHECK_SECONDS or (woken and since_check >= TOKEN_RECHECK_MIN):
            # Cheap (one indexed read); ends the stream of a revoked or disabled user.
            if await to_thread.run_sync(accounts.authenticate, token) is None:
                log.info("stream of user %d ended: session no longer valid", user.id)
                return
            last_check, woken = loop.time(), False
        rows = await to_thread.run_sync(visible_events, db, user, position, SSE_BATCH)
        if rows:
            position = rows[-1].seq
            for ev in as_json(rows):
                yield _sse(ev)
            last_output = loop.time()
            continue
        presence_version, updates = presence.since(presence_version)
        if updates:
            allowed = await to_thread.run_sync(
                visible_conversation_ids, db, user, {p.conversation_id for p in updates}
            )
            for p in updates:
                if p.conversation_id in allowed and p.user_id != user.id:
                    data = {"type": "presence", "data": p.to_json()}
                    yield f"event: presence\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
                    last_output = loop.time()
        now = loop.time()
        next_check = (TOKEN_RECHECK_MIN if woken else TOKEN_CHECK_SECONDS) - (now - last_check)
        timeout = max(0.0, min(next_check, HEARTBEAT_SECONDS - (now - last_output)))
        try:
            await asyncio.wait_for(waiter.wait(), timeout=timeout)
            woken = True
        except TimeoutError:
            if await is_disconnected():
                return
            if loop.time() - last_output >= HEARTBEAT_SECONDS - 0.01:
                yield ": ping\n\n"
                last_output = loop.time()
