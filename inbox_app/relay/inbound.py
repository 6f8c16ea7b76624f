"""Storing what WhatsApp sends beyond plain text: every message type, and the events that
change other messages (reactions, edits, deletions), calls, template and preference updates.

All functions run inside the caller's write transaction (``Store.ingest_many``), so a webhook
is answered only after everything in it is committed (QUALITY I1).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, delete, func, select, update

from inbox_app.domain.messages import Direction, MessageStatus
from inbox_app.domain.send_errors import send_error
from inbox_app.whatsapp.webhook import (
    CallEvent,
    Content,
    InboundMessage,
    PreferenceUpdate,
    TemplateUpdate,
    ValueLevelError,
    WebhookBatch,
)

from .db import (
    call_events,
    conversations,
    inbound_actions,
    media,
    messages,
    templates,
    user_preferences,
    webhook_errors,
)

if TYPE_CHECKING:
    from .store import IngestResult, Store

PREVIEW_CHARS = 120
# System messages that move a conversation to the patient's new number.
RENUMBER_KINDS = ("user_changed_number", "customer_changed_number")
# Shown in the conversation list when a message has no text of its own.
_PREVIEW_LABELS = {
    "image": "📷 Photo",
    "video": "🎬 Video",
    "document": "📄 Document",
    "audio": "🎤 Audio",
    "sticker": "Sticker",
    "location": "📍 Location",
    "contacts": "👤 Contact",
    "order": "🛒 Order",
    "interactive": "Reply",
    "button": "Reply",
    "system": "System message",
    "unsupported": "Unsupported message",
}


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def content_details(content: Content | None) -> dict[str, Any]:
    """The domain fields of a message body, as stored in ``messages.details``."""
    if content is None:
        return {}
    details: dict[str, Any] = {}
    if content.media is not None:
        ref = content.media
        details["media"] = {
            "kind": ref.kind,
            "mime_type": ref.mime_type,
            "filename": ref.filename,
            "caption": ref.caption,
            "voice": ref.voice,
            "animated": ref.animated,
        }
    if content.location is not None:
        details["location"] = content.location.to_json()
    if content.contacts:
        details["contacts"] = [c.to_json() for c in content.contacts]
    if content.order is not None:
        details["order"] = content.order
    if content.interactive is not None:
        details["interactive"] = content.interactive.to_json()
    if content.quick_reply is not None:
        details["quick_reply"] = {
            "payload": content.quick_reply.payload,
            "text": content.quick_reply.text,
        }
    if content.unsupported_type is not None:
        details["unsupported_type"] = content.unsupported_type
    return details


def message_details(msg: InboundMessage) -> dict[str, Any]:
    details = content_details(msg.content)
    ctx = msg.context
    if ctx is not None:
        if ctx.forwarded:
            details["forwarded"] = True
        if ctx.frequently_forwarded:
            details["frequently_forwarded"] = True
        if ctx.referred_product:
            details["referred_product"] = ctx.referred_product
    if msg.referral is not None:
        details["referral"] = msg.referral
    if msg.system is not None:
        details["system"] = {
            "kind": msg.system.kind,
            "new_wa_id": msg.system.new_wa_id,
            "identity_acknowledged": msg.system.identity_acknowledged,
        }
    if msg.errors:
        details["errors"] = [{"code": e.code, "title": e.title} for e in msg.errors]
    if msg.user_id:
        details["user_id"] = msg.user_id
    return details


def preview_of(msg_type: str, text: str | None) -> str:
    return (text or _PREVIEW_LABELS.get(msg_type, f"[{msg_type}]"))[:PREVIEW_CHARS]


# -- messages --------------------------------------------------------------------------


def store_messages(
    store: Store, conn: Connection, batch: WebhookBatch, now: float, result: IngestResult
) -> set[int]:
    """Store every message of ``batch``; returns the conversations whose summary changed."""
    touched: set[int] = set()
    for msg in batch.messages:
        if msg.is_action:
            conversation_id = _store_action(store, conn, msg, now, result)
        else:
            conversation_id = _store_bubble(store, conn, msg, now, result)
        if conversation_id is not None:
            touched.add(conversation_id)
    return touched


_MESSAGE_INSERT_COLUMNS = (
    "conversation_id",
    "direction",
    "type",
    "text",
    "status",
    "timestamp",
    "wamid",
    "raw",
    "reply_to",
    "details",
)


def _insert_message(store: Store) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once per dialect (hot path: P2)."""
    key = "sqlite" if store.db.is_sqlite else "postgresql"
    stmt = _INSERTS.get(key)
    if stmt is None:
        stmt = (
            store.db.insert_ignore(messages)
            .values({name: bindparam(name) for name in _MESSAGE_INSERT_COLUMNS})
            .returning(messages.c.id)
        )
        _INSERTS[key] = stmt
    return stmt


_INSERTS: dict[str, Any] = {}


def _store_bubble(
    store: Store, conn: Connection, msg: InboundMessage, now: float, result: IngestResult
) -> int | None:
    conversation_id = store._conversation_for(conn, msg)
    timestamp = msg.timestamp or now
    details = message_details(msg)
    direction = Direction.OUTBOUND if msg.echo else Direction.INBOUND
    status = MessageStatus.SENT if msg.echo else MessageStatus.RECEIVED
    row = conn.execute(
        _insert_message(store),
        {
            "conversation_id": conversation_id,
            "direction": direction.value,
            "type": msg.type,
            "text": msg.text,
            "status": status.value,
            "timestamp": timestamp,
            "wamid": msg.wamid,
            "raw": json.dumps(msg.raw, separators=(",", ":")),
            "reply_to": msg.context_wamid,
            "details": _dumps(details) if details else None,
        },
    ).one_or_none()
    if row is None:
        result.duplicate_messages += 1
        return None
    message_id = int(row.id)
    ref = msg.media
    if ref is not None:
        upsert_media(conn, message_id, ref.kind, ref, now)
    greatest = func.max if store.db.is_sqlite else func.greatest
    summary: dict[str, Any] = {
        "last_message_at": greatest(conversations.c.last_message_at, timestamp),
        "last_message_preview": preview_of(msg.type, msg.text),
    }
    if not msg.echo:
        # The window counts from the newest inbound message, whatever order they came in.
        summary.update(
            last_inbound_at=greatest(
                func.coalesce(conversations.c.last_inbound_at, timestamp), timestamp
            ),
            unread=conversations.c.unread + 1,
        )
    conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(**summary)
    )
    if msg.system is not None and msg.system.kind in RENUMBER_KINDS:
        _renumber(conn, conversation_id, msg.system.new_wa_id)
    _apply_waiting_actions(store, conn, msg.wamid, message_id)
    store._emit_message(conn, message_id)
    result.stored_messages += 1
    result.events += 1
    return conversation_id


def upsert_media(conn: Connection, message_id: int, kind: str, ref: Any, now: float) -> None:
    values = {
        "media_id": ref.media_id,
        "kind": kind,
        "mime_type": ref.mime_type,
        "declared_sha256": ref.sha256,
        "filename": ref.filename,
        "state": "pending" if ref.media_id else "failed",
        "reason": None if ref.media_id else "WhatsApp sent no media id.",
        "attempts": 0,
        "next_attempt_at": now,
        "path": None,
        "size": None,
        "updated_at": now,
    }
    updated = conn.execute(update(media).where(media.c.message_id == message_id).values(**values))
    if updated.rowcount == 0:
        conn.execute(media.insert().values(message_id=message_id, **values))


def _renumber(conn: Connection, conversation_id: int, new_wa_id: str | None) -> None:
    """The patient changed their number: the conversation follows the new id.

    If a conversation with the new id already exists (the patient wrote from it first),
    both stay and the system message links them (``details.system.new_wa_id``).
    """
    if not new_wa_id:
        return
    exists = conn.execute(
        select(conversations.c.id).where(conversations.c.wa_id == new_wa_id)
    ).one_or_none()
    if exists is None:
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(wa_id=new_wa_id)
        )


# -- reactions, edits, deletions -------------------------------------------------------


def _action_data(msg: InboundMessage) -> dict[str, Any]:
    if msg.reaction is not None:
        return {"emoji": msg.reaction.emoji, "echo": msg.echo}
    if msg.edit_of is not None:
        content = msg.content
        return {
            "echo": msg.echo,
            "type": content.type if content is not None else "text",
            "text": msg.text,
            "details": content_details(content),
            "media": (
                {
                    "media_id": content.media.media_id,
                    "kind": content.media.kind,
                    "mime_type": content.media.mime_type,
                    "sha256": content.media.sha256,
                    "filename": content.media.filename,
                }
                if content is not None and content.media is not None
                else None
            ),
        }
    return {"echo": msg.echo}


def _store_action(
    store: Store, conn: Connection, msg: InboundMessage, now: float, result: IngestResult
) -> int | None:
    if msg.reaction is not None:
        kind, target = "reaction", msg.reaction.target_wamid
    elif msg.edit_of is not None:
        kind, target = "edit", msg.edit_of
    else:
        assert msg.revoke_of is not None
        kind, target = "revoke", msg.revoke_of
    inserted = conn.execute(
        store.db.insert_ignore(inbound_actions)
        .values(
            wamid=msg.wamid,
            kind=kind,
            target_wamid=target,
            from_id=msg.from_id,
            timestamp=msg.timestamp or now,
            data=_dumps(_action_data(msg)),
            applied=False,
        )
        .returning(inbound_actions.c.id)
    ).one_or_none()
    if inserted is None:
        result.duplicate_messages += 1
        return None
    row = conn.execute(select(messages.c.id).where(messages.c.wamid == target)).one_or_none()
    if row is None:
        return None  # the target has not arrived (yet): applied when it does
    if apply_action(store, conn, int(inserted.id), int(row.id), now):
        result.events += 1
    return None


def _apply_waiting_actions(store: Store, conn: Connection, wamid: str, message_id: int) -> None:
    waiting = conn.execute(
        select(inbound_actions.c.id)
        .where(inbound_actions.c.target_wamid == wamid, inbound_actions.c.applied.is_(False))
        .order_by(inbound_actions.c.timestamp, inbound_actions.c.id)
    ).all()
    for action in waiting:
        apply_action(store, conn, int(action.id), message_id, 0.0, emit=False)


def apply_action(
    store: Store,
    conn: Connection,
    action_id: int,
    message_id: int,
    now: float,
    *,
    emit: bool = True,
) -> bool:
    action = conn.execute(select(inbound_actions).where(inbound_actions.c.id == action_id)).one()
    conn.execute(
        update(inbound_actions).where(inbound_actions.c.id == action_id).values(applied=True)
    )
    target = conn.execute(
        select(
            messages.c.id,
            messages.c.direction,
            messages.c.reactions,
            messages.c.edited_at,
            messages.c.deleted_at,
            messages.c.details,
            conversations.c.wa_id,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(messages.c.id == message_id)
    ).one()
    # Only the patient of that conversation may change its messages.
    if target.wa_id != action.from_id:
        return False
    data = json.loads(action.data)
    echo = data.get("echo") is True
    # Patients edit and delete their own messages; echoes are the clinic's own (Business app).
    if action.kind != "reaction" and target.direction != ("out" if echo else "in"):
        return False
    if action.kind == "reaction":
        who = "clinic" if echo else action.from_id
        changed = _apply_reaction(conn, target, who, data.get("emoji"), action.timestamp)
    elif action.kind == "edit":
        changed = _apply_edit(conn, target, data, action.timestamp, now)
    else:
        changed = _apply_revoke(conn, target, action.timestamp)
    if changed and emit:
        store._emit_message(conn, message_id)
    return changed


def _apply_reaction(
    conn: Connection, target: Any, who: str, emoji: str | None, timestamp: float
) -> bool:
    reactions: dict[str, Any] = json.loads(target.reactions) if target.reactions else {}
    previous = reactions.get(who)
    if isinstance(previous, dict) and float(previous.get("at") or 0) > timestamp:
        return False  # an older reaction delivered late never replaces a newer one
    if emoji:
        reactions[who] = {"emoji": emoji, "at": timestamp}
    elif who in reactions:
        reactions[who] = {"emoji": None, "at": timestamp}  # removal, remembered for ordering
    else:
        return False
    conn.execute(
        update(messages).where(messages.c.id == target.id).values(reactions=_dumps(reactions))
    )
    return True


def _apply_edit(
    conn: Connection, target: Any, data: dict[str, Any], timestamp: float, now: float
) -> bool:
    if target.deleted_at is not None:
        return False
    if target.edited_at is not None and target.edited_at > timestamp:
        return False  # a later edit already applied
    details: dict[str, Any] = json.loads(target.details) if target.details else {}
    details.update(data.get("details") or {})
    conn.execute(
        update(messages)
        .where(messages.c.id == target.id)
        .values(text=data.get("text"), details=_dumps(details), edited_at=timestamp)
    )
    ref = data.get("media")
    if isinstance(ref, dict) and ref.get("media_id"):
        existing = conn.execute(
            select(media.c.media_id).where(media.c.message_id == target.id)
        ).one_or_none()
        if existing is None or existing.media_id != ref["media_id"]:
            upsert_media(conn, int(target.id), str(ref["kind"]), _Ref(ref), now or timestamp)
    return True


class _Ref:
    """A stored media reference, read like a ``MediaRef``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.media_id = data.get("media_id")
        self.mime_type = data.get("mime_type")
        self.sha256 = data.get("sha256")
        self.filename = data.get("filename")


def _apply_revoke(conn: Connection, target: Any, timestamp: float) -> bool:
    if target.deleted_at is not None:
        return False
    # The patient withdrew it: keep that it existed, drop what it said.
    conn.execute(
        update(messages)
        .where(messages.c.id == target.id)
        .values(text=None, details=None, deleted_at=timestamp, reactions=None)
    )
    conn.execute(delete(media).where(media.c.message_id == target.id, media.c.state != "ready"))
    conn.execute(
        update(media)
        .where(media.c.message_id == target.id)
        .values(state="deleted", reason="Deleted by the sender.")
    )
    return True


# -- the feed's view of a message ------------------------------------------------------


def message_extras(conn: Connection, row: Row[Any]) -> dict[str, Any]:
    """Fields a ``message`` event carries beyond ``MessageRecord`` (all optional)."""
    m = row._mapping
    extras: dict[str, Any] = {}
    details: dict[str, Any] = json.loads(m["details"]) if m.get("details") else {}
    # "_private" holds what only WhatsApp may see (a result link, a one-time code): never fed.
    details.pop("_private", None)
    extras.update(details)
    if m.get("reply_to"):
        extras["reply_to"] = m["reply_to"]
        quoted = conn.execute(
            select(messages.c.id).where(messages.c.wamid == m["reply_to"])
        ).one_or_none()
        if quoted is not None:
            extras["reply_to_id"] = int(quoted.id)
    if m.get("reactions"):
        by_sender = json.loads(m["reactions"])
        current = {k: v["emoji"] for k, v in by_sender.items() if v.get("emoji")}
        extras["reactions"] = list(current.values())
        extras["reactions_by"] = current
    if m.get("error_code") is not None:
        # The reason in both staff languages; error_title stays the English one.
        reason = send_error(m["error_code"])
        extras["error_reason"] = {"en": reason.en, "de": reason.de}
    extras["edited"] = m.get("edited_at") is not None
    extras["deleted"] = m.get("deleted_at") is not None
    if "media" in details:
        file = conn.execute(
            select(
                media.c.id, media.c.state, media.c.reason, media.c.size, media.c.mime_type
            ).where(media.c.message_id == m["id"])
        ).one_or_none()
        if file is not None:
            extras["media"] = {
                **details["media"],
                "id": int(file.id),
                "state": file.state,
                "reason": file.reason,
                "size": file.size,
                "mime_type": file.mime_type or details["media"].get("mime_type"),
            }
        if details["media"].get("filename"):
            extras["filename"] = details["media"]["filename"]
    return extras


# -- calls, templates, preferences, value-level errors ---------------------------------


def store_side_events(
    store: Store, conn: Connection, batch: WebhookBatch, now: float, result: IngestResult
) -> None:
    for call in batch.calls:
        if _store_call(store, conn, call):
            result.events += 1
    for tpl in batch.templates:
        _store_template_update(conn, tpl, now)
    for pref in batch.preferences:
        _store_preference(store, conn, pref)
    for error in batch.errors:
        _store_value_error(store, conn, error, now)


def _store_call(store: Store, conn: Connection, call: CallEvent) -> bool:
    patient = call.from_id if call.direction == "USER_INITIATED" else call.to_id
    conversation_id = None
    if patient:
        row = conn.execute(
            select(conversations.c.id).where(conversations.c.wa_id == patient)
        ).one_or_none()
        conversation_id = int(row.id) if row is not None else None
    inserted = conn.execute(
        store.db.insert_ignore(call_events).values(
            call_id=call.call_id,
            event=call.event,
            status=call.status or "",
            direction=call.direction,
            from_id=call.from_id,
            to_id=call.to_id,
            timestamp=call.timestamp,
            duration=call.duration,
            error_code=call.errors[0].code if call.errors else None,
            conversation_id=conversation_id,
        )
    )
    # PostgreSQL answers rowcount -1 here (RETURNING): a skipped row has no primary key.
    fresh = inserted.rowcount == 1 if store.db.is_sqlite else bool(inserted.inserted_primary_key)
    if fresh and conversation_id is not None:
        # Shown in the conversation's thread as a ``call`` event (calls.py).
        from .calls import record_call_webhook

        record_call_webhook(
            store,
            conn,
            conversation_id,
            call.event,
            call.status or "",
            call.timestamp,
            call_id=call.call_id,
            # Only business-initiated calls have status webhooks (RINGING, ACCEPTED …).
            direction=call.direction or ("BUSINESS_INITIATED" if call.event == "status" else None),
            duration=call.duration,
        )
    return fresh


def _store_template_update(conn: Connection, tpl: TemplateUpdate, now: float) -> None:
    if not tpl.name or not tpl.language:
        return
    values: dict[str, Any] = {"updated_at": now}
    if tpl.template_id:
        values["template_id"] = tpl.template_id
    if tpl.kind == "status" and tpl.status:
        values["status"] = tpl.status.upper()
    if tpl.kind in ("status", "category") and tpl.category:
        values["category"] = tpl.category.upper()
    if tpl.kind == "quality" and tpl.quality:
        values["quality"] = tpl.quality.upper()
    updated = conn.execute(
        update(templates)
        .where(templates.c.name == tpl.name, templates.c.language == tpl.language)
        .values(**values)
    )
    if updated.rowcount == 0:
        # Not synced yet: remember what we know; the next sync fills in the components.
        values.setdefault("status", "UNKNOWN")
        conn.execute(
            templates.insert().values(
                name=tpl.name, language=tpl.language, components="[]", **values
            )
        )


def _store_preference(store: Store, conn: Connection, pref: PreferenceUpdate) -> None:
    updated = conn.execute(
        update(user_preferences)
        .where(
            user_preferences.c.wa_id == pref.wa_id,
            user_preferences.c.category == pref.category,
            user_preferences.c.timestamp <= pref.timestamp,
        )
        .values(value=pref.value, timestamp=pref.timestamp)
    )
    if updated.rowcount == 0:
        conn.execute(
            store.db.insert_ignore(user_preferences).values(
                wa_id=pref.wa_id, category=pref.category, value=pref.value, timestamp=pref.timestamp
            )
        )


def _store_value_error(store: Store, conn: Connection, error: ValueLevelError, now: float) -> None:
    fingerprint = hashlib.sha256(
        _dumps([error.error.to_json(), list(error.message_wamids), error.phone_number_id]).encode()
    ).hexdigest()
    conn.execute(
        store.db.insert_ignore(webhook_errors).values(
            fingerprint=fingerprint,
            code=error.error.code,
            title=error.error.title,
            details=error.error.details,
            wamids=_dumps(list(error.message_wamids)),
            created_at=now,
        )
    )


def marketing_stopped(conn: Connection, wa_id: str) -> bool:
    """True if the patient stopped marketing messages (and did not resume)."""
    value = conn.execute(
        select(user_preferences.c.value).where(
            user_preferences.c.wa_id == wa_id,
            user_preferences.c.category == "marketing_messages",
        )
    ).scalar_one_or_none()
    return value == "stop"
