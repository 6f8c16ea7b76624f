"""Every write the relay makes, each in one transaction with the events it appends."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from inbox_app.domain.conversations import ConversationRecord, window_remaining
from inbox_app.domain.messages import (
    Direction,
    MessageRecord,
    MessageStatus,
    advance_status,
)
from inbox_app.domain.phone import display_phone
from inbox_app.domain.send_errors import staff_reason
from inbox_app.whatsapp.webhook import InboundMessage, StatusUpdate, WebhookBatch

from .db import Database, conversations, events, messages, outbox, status_receipts
from .inbound import message_extras, preview_of, store_messages, store_side_events
from .pgnotify import notify_feed
from .result_state import emit_result, result_of_message, thread_summary
from .scheduled import check_schedule
from .teams import Claimed, active_claim, renewed_claim, teamwork_state

PREVIEW_CHARS = 120
INTERRUPTED = "Send interrupted; check with the patient before resending."
# WhatsApp statuses that move a message forward; "played" (voice notes) is kept as a receipt.
_STATUS_MAP = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
}


class NotFound(Exception):
    """The entity does not exist (or the caller may not see it)."""


class WindowClosed(Exception):
    """Free text outside the 24-hour customer-service window."""


@dataclass(slots=True)
class IngestResult:
    stored_messages: int = 0
    duplicate_messages: int = 0
    applied_statuses: int = 0
    events: int = 0


def conversation_record(row: Row[Any]) -> ConversationRecord:
    m = row._mapping
    return ConversationRecord(
        id=m["id"],
        wa_id=m["wa_id"],
        display_name=m["display_name"],
        phone=display_phone(m["wa_id"]),
        last_message_at=m["last_message_at"],
        last_message_preview=m["last_message_preview"] or "",
        last_inbound_at=m["last_inbound_at"],
        unread=m["unread"],
    )


def message_record(row: Row[Any]) -> MessageRecord:
    m = row._mapping
    return MessageRecord(
        id=m["id"],
        conversation_id=m["conversation_id"],
        direction=Direction(m["direction"]),
        type=m["type"],
        text=m["text"],
        status=MessageStatus(m["status"]),
        timestamp=m["timestamp"],
        wamid=m["wamid"],
        client_id=m["client_id"],
        error_code=m["error_code"],
        error_title=m["error_title"],
        author_id=m["author_id"],
        send_at=m.get("send_at"),
    )


_MESSAGE_COLUMNS = [c for c in messages.c if c.name != "raw"]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- events ------------------------------------------------------------------------
    def _append(
        self,
        conn: Connection,
        kind: str,
        entity_id: int,
        data: dict[str, Any],
        *,
        audience_id: int | None = None,
    ) -> int:
        # The conversation an event belongs to decides who receives it (feed.py).
        conversation_id = entity_id if kind == "conversation" else data.get("conversation_id")
        result = conn.execute(
            events.insert().values(
                type=kind,
                entity_id=entity_id,
                data=json.dumps(data, separators=(",", ":")),
                created_at=time.time(),
                conversation_id=conversation_id,
                audience_id=audience_id,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        if not self.db.is_sqlite:
            notify_feed(conn)
        return int(pk[0])

    def _emit_conversation(self, conn: Connection, conversation_id: int) -> None:
        row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).one()
        data = {**conversation_record(row).to_json(), **teamwork_state(conn, row)}
        self._append(conn, "conversation", conversation_id, data)

    def _emit_message(self, conn: Connection, message_id: int) -> MessageRecord:
        row = conn.execute(select(*_MESSAGE_COLUMNS).where(messages.c.id == message_id)).one()
        record = message_record(row)
        # WhatsApp detail (media, reply, reactions, edits …) rides along as extra fields.
        extras = message_extras(conn, row)
        if "result" in extras:  # a result's state follows its message (result_state.py)
            result_id = result_of_message(conn, message_id)
            if result_id is not None:
                extras["result"] = thread_summary(emit_result(self._append, conn, result_id))
        self._append(conn, "message", message_id, {**record.to_json(), **extras})
        return record

    # -- inbound -----------------------------------------------------------------------
    def _conversation_for(self, conn: Connection, msg: InboundMessage) -> int:
        # Look up first: nearly every message belongs to a known conversation (one query).
        row = conn.execute(
            select(conversations.c.id, conversations.c.display_name).where(
                conversations.c.wa_id == msg.from_id
            )
        ).one_or_none()
        if row is None:
            name = msg.contact_name or display_phone(msg.from_id) or msg.from_id
            conn.execute(
                self.db.insert_ignore(conversations).values(
                    wa_id=msg.from_id,
                    display_name=name,
                    last_message_at=msg.timestamp,
                    last_message_preview="",
                    unread=0,
                )
            )
            row = conn.execute(
                select(conversations.c.id, conversations.c.display_name).where(
                    conversations.c.wa_id == msg.from_id
                )
            ).one()
        if msg.contact_name and row.display_name != msg.contact_name:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == row.id)
                .values(display_name=msg.contact_name)
            )
        return int(row.id)

    def ingest(self, batch: WebhookBatch, *, now: float | None = None) -> IngestResult:
        """Store a parsed webhook in one transaction; returns only after commit."""
        return self.ingest_many([batch], now=now)[0]

    def ingest_many(
        self, batches: list[WebhookBatch], *, now: float | None = None
    ) -> list[IngestResult]:
        """Store several webhooks in one transaction (group commit: one fsync for all)."""
        from .inbound_bulk import ingest_group  # it builds on this module

        now = time.time() if now is None else now
        with self.db.write() as conn:
            # Runs of plain deliveries set-wise, the rest row by row (inbound_bulk.py).
            return ingest_group(self, conn, batches, now)

    def _ingest_into(self, conn: Connection, batch: WebhookBatch, now: float) -> IngestResult:
        result = IngestResult()
        # Every message type, and reactions/edits/deletions applied to their targets.
        touched = store_messages(self, conn, batch, now, result)
        for status in batch.statuses:
            if self._apply_status(conn, status):
                result.applied_statuses += 1
                result.events += 1
        store_side_events(self, conn, batch, now, result)
        for conversation_id in touched:
            self._emit_conversation(conn, conversation_id)
            result.events += 1
        return result

    def _apply_status(self, conn: Connection, status: StatusUpdate) -> bool:
        inserted = conn.execute(
            self.db.insert_ignore(status_receipts).values(
                wamid=status.wamid,
                status=status.status,
                timestamp=status.timestamp,
                error_code=status.error_code,
                error_title=status.error_title,
                callback_data=status.callback_data,
            )
        )
        if inserted.rowcount == 0:
            return False  # replayed status: already applied once
        row = conn.execute(
            select(messages.c.id).where(messages.c.wamid == status.wamid)
        ).one_or_none()
        if row is None and status.callback_data and status.callback_data.startswith("msg:"):
            # An ambiguous send whose answer was lost: the tag tells us which message it was.
            row = self._adopt_wamid(conn, status.callback_data, status.wamid)
        if row is None:
            return False  # kept as a receipt; applied when the send's answer records the wamid
        return self._advance(conn, int(row.id), [status])

    def _adopt_wamid(self, conn: Connection, callback_data: str, wamid: str) -> Row[Any] | None:
        try:
            message_id = int(callback_data.removeprefix("msg:"))
        except ValueError:
            return None
        conn.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.wamid.is_(None))
            .values(wamid=wamid)
        )
        return conn.execute(
            select(messages.c.id).where(messages.c.id == message_id, messages.c.wamid == wamid)
        ).one_or_none()

    def _advance(self, conn: Connection, message_id: int, statuses: list[StatusUpdate]) -> bool:
        row = conn.execute(
            select(messages.c.status, messages.c.error_code).where(messages.c.id == message_id)
        ).one()
        current = MessageStatus(row.status)
        new = current
        error_code, error_title = row.error_code, None
        for st in statuses:
            mapped = _STATUS_MAP.get(st.status)
            if mapped is None:
                continue
            candidate = advance_status(new, mapped)
            if candidate != new and mapped == MessageStatus.FAILED:
                # Staff read why in their words (domain/send_errors.py), not Meta's title.
                error_code = st.error_code
                error_title = staff_reason(st.error_code) if st.error_code else st.error_title
            new = candidate
        if new == current:
            return False
        values: dict[str, Any] = {"status": new.value}
        if new == MessageStatus.FAILED:
            values.update(error_code=error_code, error_title=error_title)
        conn.execute(update(messages).where(messages.c.id == message_id).values(**values))
        self._emit_message(conn, message_id)
        return True

    # -- outbound ----------------------------------------------------------------------
    def create_outgoing_text(
        self,
        *,
        conversation_id: int,
        client_id: str,
        text: str | None,
        author_id: int,
        now: float | None = None,
        type: str = "text",
        details: dict[str, Any] | None = None,
        reply_to: str | None = None,
        template: bool = False,
        on_insert: Callable[[Connection, int], None] | None = None,
        send_at: float | None = None,
    ) -> tuple[MessageRecord, bool]:
        """Store a staff message and enqueue it; returns (message, created).

        ``type``/``details``/``reply_to`` carry what routes_messages prepared (media,
        buttons, lists, templates, reactions); ``on_insert`` runs in the same transaction.
        """
        now = time.time() if now is None else now
        with self.db.write() as conn:
            existing = conn.execute(
                select(*_MESSAGE_COLUMNS).where(messages.c.client_id == client_id)
            ).one_or_none()
            if existing is not None:
                return message_record(existing), False
            record = self.enqueue_outgoing(
                conn,
                conversation_id=conversation_id,
                client_id=client_id,
                text=text,
                author_id=author_id,
                now=now,
                type=type,
                details=details,
                reply_to=reply_to,
                template=template,
                on_insert=on_insert,
                send_at=send_at,
            )
            return record, True

    def enqueue_outgoing(
        self,
        conn: Connection,
        *,
        conversation_id: int,
        client_id: str,
        text: str | None,
        author_id: int | None,
        now: float,
        type: str = "text",
        details: dict[str, Any] | None = None,
        reply_to: str | None = None,
        template: bool = False,
        on_insert: Callable[[Connection, int], None] | None = None,
        send_at: float | None = None,
    ) -> MessageRecord:
        """Insert an outgoing message and its outbox row in the caller's transaction.

        ``author_id`` None is the relay itself (automation.py): it ignores claims, since an
        automated answer (emergency guidance, a reminder) must not wait for a colleague.
        """
        conv = conn.execute(
            select(conversations).where(conversations.c.id == conversation_id)
        ).one_or_none()
        if conv is None:
            raise NotFound("conversation")
        # Outside the 24-hour window only an approved template may go out.
        if not template and window_remaining(conv.last_inbound_at, now) <= 0:
            raise WindowClosed()
        if author_id is not None:
            holder = active_claim(conv, now)
            if holder is not None and holder != author_id:
                raise Claimed(holder)
        if send_at is not None:
            # A scheduled send must leave while the window is still open (scheduled.py).
            check_schedule(conv.last_inbound_at, send_at, now)
        result = conn.execute(
            messages.insert().values(
                conversation_id=conversation_id,
                direction=Direction.OUTBOUND.value,
                type=type,
                text=text,
                status=MessageStatus.QUEUED.value,
                # A scheduled message sits in the thread at the time it will leave.
                timestamp=send_at if send_at is not None else now,
                client_id=client_id,
                author_id=author_id,
                details=json.dumps(details, separators=(",", ":")) if details else None,
                reply_to=reply_to,
                send_at=send_at,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        message_id = int(pk[0])
        if on_insert is not None:
            on_insert(conn, message_id)
        conn.execute(
            outbox.insert().values(
                message_id=message_id,
                state="pending",
                attempts=0,
                next_attempt_at=send_at if send_at is not None else now,
            )
        )
        values: dict[str, Any] = {
            "last_message_at": now,
            "last_message_preview": preview_of(type, text),
        }
        if author_id is not None:
            # Staff answering clears unread; sending is activity, so the claim is renewed.
            values.update(unread=0, **renewed_claim(conv, author_id, now))
        conn.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(**values)
        )
        record = self._emit_message(conn, message_id)
        self._emit_conversation(conn, conversation_id)
        return record

    # -- outbox worker support ---------------------------------------------------------
    def claim_due(self, *, limit: int, now: float | None = None) -> list[dict[str, Any]]:
        """Claim due outbox rows for this worker (never the same row for two workers)."""
        now = time.time() if now is None else now
        with self.db.write() as conn:
            query = (
                select(outbox.c.id, outbox.c.message_id, outbox.c.attempts)
                .where(outbox.c.state == "pending", outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            claimed = []
            for row in rows:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(state="inflight", claimed_at=now, attempts=row.attempts + 1)
                )
                msg = conn.execute(
                    select(
                        messages.c.id,
                        messages.c.text,
                        messages.c.type,
                        messages.c.details,
                        messages.c.reply_to,
                        conversations.c.wa_id,
                    )
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .where(messages.c.id == row.message_id)
                ).one()
                conn.execute(
                    update(messages)
                    .where(messages.c.id == msg.id, messages.c.status == "queued")
                    .values(status=MessageStatus.SENDING.value)
                )
                self._emit_message(conn, msg.id)
                claimed.append(
                    {
                        "outbox_id": row.id,
                        "message_id": msg.id,
                        "to": msg.wa_id,
                        "type": msg.type,
                        "text": msg.text,
                        "details": json.loads(msg.details) if msg.details else {},
                        "reply_to": msg.reply_to,
                        "attempts": row.attempts + 1,
                    }
                )
            return claimed

    def record_sent(self, *, outbox_id: int, message_id: int, wamid: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(state="done"))
            conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.wamid.is_(None))
                .values(wamid=wamid)
            )
            pending = conn.execute(
                select(status_receipts).where(status_receipts.c.wamid == wamid)
            ).all()
            receipts = [
                StatusUpdate(
                    wamid=r.wamid,
                    status=r.status,
                    timestamp=r.timestamp,
                    recipient_id=None,
                    error_code=r.error_code,
                    error_title=r.error_title,
                )
                for r in pending
            ]
            accepted = StatusUpdate(
                wamid=wamid, status="sent", timestamp=time.time(), recipient_id=None
            )
            if not self._advance(conn, message_id, [accepted, *receipts]):
                self._emit_message(conn, message_id)

    def record_failure(
        self,
        *,
        outbox_id: int,
        message_id: int,
        final_status: MessageStatus | None,
        error_code: int | None,
        error_title: str,
        retry_at: float | None,
    ) -> None:
        """Either reschedule (retry_at) or settle the message as failed / needs_review."""
        with self.db.write() as conn:
            if retry_at is not None:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == outbox_id)
                    .values(state="pending", next_attempt_at=retry_at, last_error=error_title)
                )
                return
            conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(state="done", last_error=error_title)
            )
            assert final_status is not None
            # Only a message still on its way is settled here: status webhooks may already
            # have moved an ambiguous send forward (its callback tag found it).
            conn.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.status.in_(
                        (MessageStatus.QUEUED.value, MessageStatus.SENDING.value)
                    ),
                )
                .values(status=final_status.value, error_code=error_code, error_title=error_title)
            )
            self._emit_message(conn, message_id)

    def recover_inflight(self, *, older_than: float) -> int:
        """Rows a dead worker left in flight: the request may have left, so flag, don't resend."""
        with self.db.write() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.message_id).where(
                    outbox.c.state == "inflight", outbox.c.claimed_at < older_than
                )
            ).all()
            for row in rows:
                conn.execute(update(outbox).where(outbox.c.id == row.id).values(state="done"))
                msg_status = conn.execute(
                    select(messages.c.status).where(messages.c.id == row.message_id)
                ).scalar_one()
                if msg_status in ("queued", "sending"):
                    conn.execute(
                        update(messages)
                        .where(messages.c.id == row.message_id)
                        .values(
                            status=MessageStatus.NEEDS_REVIEW.value,
                            error_title=INTERRUPTED,
                        )
                    )
                    self._emit_message(conn, row.message_id)
            return len(rows)

    # -- reads -------------------------------------------------------------------------
    def events_after(self, after: int, limit: int) -> list[Any]:
        with self.db.read() as conn:
            return list(
                conn.execute(
                    select(events.c.seq, events.c.type, events.c.data)
                    .where(events.c.seq > after)
                    .order_by(events.c.seq)
                    .limit(limit)
                ).all()
            )

    def last_seq(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    def message_by_wamid(self, wamid: str) -> MessageRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(*_MESSAGE_COLUMNS).where(messages.c.wamid == wamid)
            ).one_or_none()
            return message_record(row) if row is not None else None

    def count_messages(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())
