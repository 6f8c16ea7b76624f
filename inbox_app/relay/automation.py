"""What the relay does by itself: when a patient writes (opt-out words, red flags, button
replies, the intake and booking bots) and on a clock (reminders, overdue escalations, surveys).

Inbound handlers run after the webhook's commit (the 200 to Meta never waits for them),
reading from a cursor kept in the database. The cursor moves in the same transaction as
the handlers' effects, so a crash delays automation but never loses or repeats it, and two
relays on one PostgreSQL never both answer (writes are serialised, the cursor is read
inside the write transaction).

Handlers are registered in order; the first that returns True consumes the message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from sqlalchemy import Connection, func, select, update

from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus

from .db import automation_cursors, messages, outbox
from .store import Store

log = logging.getLogger("inbox.relay.automation")

INBOUND_CURSOR = "inbound"
AUTOMATED_KEY = "automation"  # messages.details[AUTOMATED_KEY] = purpose of an automated send


@dataclass(frozen=True, slots=True)
class Inbound:
    """One stored inbound message, as the handlers see it."""

    message_id: int
    conversation_id: int
    type: str
    text: str | None
    details: dict[str, Any]
    timestamp: float

    @property
    def reply_id(self) -> str | None:
        """The id behind a tapped reply button, list row or template quick-reply button."""
        interactive = self.details.get("interactive") or {}
        if interactive.get("reply_id"):
            return str(interactive["reply_id"])
        quick = self.details.get("quick_reply") or {}
        payload = quick.get("payload")
        return str(payload) if payload else None


@dataclass(slots=True)
class Context:
    """What a handler may do: read and write in the automation's transaction, and send."""

    store: Store
    conn: Connection
    now: float

    def send(
        self,
        conversation_id: int,
        *,
        purpose: str,
        text: str | None,
        type: str = "text",
        details: dict[str, Any] | None = None,
        template: bool = False,
        key: str | None = None,
    ) -> MessageRecord | None:
        """Queue an automated message (author: the relay); None when ``key`` was sent before.

        ``key`` makes a send idempotent across restarts (e.g. ``reminder:42:24``); the
        store raises WindowClosed for free text outside the 24-hour window.
        """
        client_id = f"auto:{key}" if key else f"auto:{purpose}:{uuid.uuid4()}"
        if len(client_id) > 64:
            raise ValueError("automation key too long")
        if key is not None:
            seen = self.conn.execute(
                select(messages.c.id).where(messages.c.client_id == client_id)
            ).first()
            if seen is not None:
                return None
        return self.store.enqueue_outgoing(
            self.conn,
            conversation_id=conversation_id,
            client_id=client_id,
            text=text,
            author_id=None,
            now=self.now,
            type=type,
            details={**(details or {}), AUTOMATED_KEY: purpose},
            template=template,
        )

    def cancel_automated(self, conversation_id: int, *, reason: str) -> int:
        """Cancel queued automated messages of a conversation (an opt-out); returns how many."""
        rows = self.conn.execute(
            select(messages.c.id, messages.c.details)
            .join(outbox, outbox.c.message_id == messages.c.id)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.author_id.is_(None),
                messages.c.direction == Direction.OUTBOUND.value,
                outbox.c.state == "pending",
            )
        ).all()
        cancelled = 0
        for row in rows:
            if AUTOMATED_KEY not in json.loads(row.details or "{}"):
                continue
            self.conn.execute(
                update(outbox).where(outbox.c.message_id == row.id).values(state="cancelled")
            )
            self.conn.execute(
                update(messages)
                .where(messages.c.id == row.id)
                .values(status=MessageStatus.FAILED.value, error_title=reason)
            )
            self.store._emit_message(self.conn, row.id)
            cancelled += 1
        return cancelled


Handler = Callable[[Context, Inbound], bool]
Job = Callable[[Store, float], object]


@dataclass(slots=True)
class _Periodic:
    name: str
    seconds: float
    job: Job
    next_at: float = 0.0


@dataclass(slots=True)
class _Registered:
    order: int
    name: str
    handler: Handler


@dataclass(slots=True)
class Automation:
    store: Store
    clock: Callable[[], float] = time.time
    batch: int = 100
    # Called on the event loop after a round that may have committed events or queued
    # sends: the relay tells SSE clients and wakes the outbox (no 1 s poll per bot turn).
    on_commit: Callable[[], None] | None = None
    _handlers: list[_Registered] = field(default_factory=list)
    _jobs: list[_Periodic] = field(default_factory=list)
    _wake: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = None

    # -- registration ------------------------------------------------------------------
    def on_inbound(self, name: str, handler: Handler, *, order: int = 100) -> None:
        """Run ``handler`` for every new inbound message; lower ``order`` runs first."""
        self._handlers.append(_Registered(order, name, handler))
        self._handlers.sort(key=lambda r: r.order)

    def every(self, name: str, seconds: float, job: Job) -> None:
        """Run ``job(store, now)`` every ``seconds`` (and once at start)."""
        self._jobs.append(_Periodic(name, seconds, job))

    @property
    def handler_names(self) -> list[str]:
        return [r.name for r in self._handlers]

    # -- the work (synchronous: called in a worker thread, or directly by tests) --------
    def init_cursor(self) -> None:
        """A relay that starts automation on an existing database skips the old messages."""
        with self.store.db.write() as conn:
            exists = conn.execute(
                select(automation_cursors.c.last_id).where(
                    automation_cursors.c.name == INBOUND_CURSOR
                )
            ).first()
            if exists is None:
                last = conn.execute(select(func.max(messages.c.id))).scalar() or 0
                conn.execute(automation_cursors.insert().values(name=INBOUND_CURSOR, last_id=last))

    def process_inbound(self) -> int:
        """Handle every inbound message past the cursor; returns how many were looked at."""
        done = 0
        while True:
            count = self._process_batch()
            done += count
            if count < self.batch:
                return done

    def _process_batch(self) -> int:
        now = self.clock()
        try:
            with self.store.db.write() as conn:
                pending = self._pending(conn)
                for item in pending:
                    self._handle(Context(self.store, conn, now), item)
                if pending:
                    self._move_cursor(conn, pending[-1].message_id)
                return len(pending)
        except Exception:
            log.exception("automation batch failed; retrying message by message")
        # One bad message must not hold up the others (nor be retried for ever).
        with self.store.db.write() as conn:
            pending = self._pending(conn)
        for item in pending:
            try:
                with self.store.db.write() as conn:
                    self._handle(Context(self.store, conn, now), item)
                    self._move_cursor(conn, item.message_id)
            except Exception:
                log.exception("automation skipped message %s", item.message_id)
                with self.store.db.write() as conn:
                    self._move_cursor(conn, item.message_id)
        return len(pending)

    def _pending(self, conn: Connection) -> list[Inbound]:
        last = conn.execute(
            select(automation_cursors.c.last_id).where(automation_cursors.c.name == INBOUND_CURSOR)
        ).scalar()
        rows = conn.execute(
            select(
                messages.c.id,
                messages.c.conversation_id,
                messages.c.type,
                messages.c.text,
                messages.c.details,
                messages.c.timestamp,
            )
            .where(messages.c.id > (last or 0), messages.c.direction == Direction.INBOUND.value)
            .order_by(messages.c.id)
            .limit(self.batch)
        ).all()
        return [
            Inbound(
                message_id=r.id,
                conversation_id=r.conversation_id,
                type=r.type,
                text=r.text,
                details=json.loads(r.details) if r.details else {},
                timestamp=r.timestamp,
            )
            for r in rows
        ]

    def _handle(self, ctx: Context, item: Inbound) -> None:
        for registered in self._handlers:
            if registered.handler(ctx, item):
                return

    @staticmethod
    def _move_cursor(conn: Connection, last_id: int) -> None:
        moved = conn.execute(
            update(automation_cursors)
            .where(automation_cursors.c.name == INBOUND_CURSOR)
            .values(last_id=last_id)
        )
        if moved.rowcount == 0:
            conn.execute(automation_cursors.insert().values(name=INBOUND_CURSOR, last_id=last_id))

    def run_due_jobs(self, now: float | None = None) -> list[str]:
        """Run the periodic jobs whose time has come; returns their names."""
        now = self.clock() if now is None else now
        ran = []
        for job in self._jobs:
            if now < job.next_at:
                continue
            job.next_at = now + job.seconds
            try:
                job.job(self.store, now)
            except Exception:
                log.exception("automation job %s failed", job.name)
            ran.append(job.name)
        return ran

    # -- the relay's background task ----------------------------------------------------
    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="automation")

    def wake(self) -> None:
        """Called after a commit that may have stored inbound messages (thread-safe)."""
        if self._wake is not None and self._task is not None:
            loop = self._task.get_loop()
            loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        assert self._wake is not None
        await to_thread.run_sync(self.init_cursor)
        while True:
            self._wake.clear()
            try:
                handled = await to_thread.run_sync(self.process_inbound) if self._handlers else 0
                ran = await to_thread.run_sync(self.run_due_jobs) if self._jobs else []
                if (handled or ran) and self.on_commit is not None:
                    self.on_commit()
            except Exception:
                log.exception("automation round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._sleep())
            except TimeoutError:
                pass

    def _sleep(self) -> float:
        if not self._jobs:
            return 5.0
        soonest = min(job.next_at for job in self._jobs) - self.clock()
        return max(0.05, min(5.0, soonest))
