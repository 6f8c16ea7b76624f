"""Every write the relay makes, each in one transaction with the events it appends."""

from __future__ import annotations

import json
import time
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
from inbox_app.whatsapp.webhook import InboundMessage, StatusUpdate, WebhookBatch

from .db import Database, conversations, events, messages, outbox, status_receipts

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
    )


_MESSAGE_COLUMNS = [c for c in messages.c if c.name != "raw"]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- events ------------------------------------------------------------------------
    def _append(self, conn: Connection, kind: str, entity_id: int, data: dict[str, Any]) -> int:
        result = conn.execute(
            events.insert().values(
                type=kind,
                entity_id=entity_id,
                data=json.dumps(data, separators=(",", ":")),
                created_at=time.time(),
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def _emit_conversation(self, conn: Connection, conversation_id: int) -> None:
        row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).one()
        self._append(conn, "conversation", conversation_id, conversation_record(row).to_json())

    def _emit_message(self, conn: Connection, message_id: int) -> MessageRecord:
        row = conn.execute(select(*_MESSAGE_COLUMNS).where(messages.c.id == message_id)).one()
        record = message_record(row)
        self._append(conn, "message", message_id, record.to_json())
        return record

    # -- inbound -----------------------------------------------------------------------
    def _conversation_for(self, conn: Connection, msg: InboundMessage) -> int:
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
        now = time.time() if now is None else now
        with self.db.write() as conn:
            return [self._ingest_into(conn, batch, now) for batch in batches]

    def _ingest_into(self, conn: Connection, batch: WebhookBatch, now: float) -> IngestResult:
        result = IngestResult()
        touched: set[int] = set()
        for msg in batch.messages:
            conversation_id = self._conversation_for(conn, msg)
            timestamp = msg.timestamp or now
            inserted = conn.execute(
                self.db.insert_ignore(messages).values(
                    conversation_id=conversation_id,
                    direction=Direction.INBOUND.value,
                    type=msg.type,
                    text=msg.text,
                    status=MessageStatus.RECEIVED.value,
                    timestamp=timestamp,
                    wamid=msg.wamid,
                    raw=json.dumps(msg.raw, separators=(",", ":")),
                )
            )
            if inserted.rowcount == 0:
                result.duplicate_messages += 1
                continue
            message_id = conn.execute(
                select(messages.c.id).where(messages.c.wamid == msg.wamid)
            ).scalar_one()
            preview = (msg.text or f"[{msg.type}]")[:PREVIEW_CHARS]
            latest = (
                func.max(conversations.c.last_message_at, timestamp)
                if self.db.is_sqlite
                else func.greatest(conversations.c.last_message_at, timestamp)
            )
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(
                    last_message_at=latest,
                    last_message_preview=preview,
                    last_inbound_at=timestamp,
                    unread=conversations.c.unread + 1,
                )
            )
            self._emit_message(conn, message_id)
            touched.add(conversation_id)
            result.stored_messages += 1
            result.events += 1
        for status in batch.statuses:
            if self._apply_status(conn, status):
                result.applied_statuses += 1
                result.events += 1
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
                error_code, error_title = st.error_code, st.error_title
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
        text: str,
        author_id: int,
        now: float | None = None,
    ) -> tuple[MessageRecord, bool]:
        """Store a staff message and enqueue it; returns (message, created)."""
        now = time.time() if now is None else now
        with self.db.write() as conn:
            existing = conn.execute(
                select(*_MESSAGE_COLUMNS).where(messages.c.client_id == client_id)
            ).one_or_none()
            if existing is not None:
                return message_record(existing), False
            conv = conn.execute(
                select(conversations).where(conversations.c.id == conversation_id)
            ).one_or_none()
            if conv is None:
                raise NotFound("conversation")
            if window_remaining(conv.last_inbound_at, now) <= 0:
                raise WindowClosed()
            result = conn.execute(
                messages.insert().values(
                    conversation_id=conversation_id,
                    direction=Direction.OUTBOUND.value,
                    type="text",
                    text=text,
                    status=MessageStatus.QUEUED.value,
                    timestamp=now,
                    client_id=client_id,
                    author_id=author_id,
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            message_id = int(pk[0])
            conn.execute(
                outbox.insert().values(
                    message_id=message_id, state="pending", attempts=0, next_attempt_at=now
                )
            )
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(
                    last_message_at=now,
                    last_message_preview=text[:PREVIEW_CHARS],
                    unread=0,
                )
            )
            record = self._emit_message(conn, message_id)
            self._emit_conversation(conn, conversation_id)
            return record, True

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
                    select(messages.c.id, messages.c.text, messages.c.type, conversations.c.wa_id)
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
            conn.execute(
                update(messages)
                .where(messages.c.id == message_id)
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
