"""Parsing Cloud API webhook envelopes into domain-level events.

Meta batches: every entry, change, message and status in one POST is returned. A message
type we do not know is kept as ``unsupported`` rather than dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KNOWN_TEXTUAL_TYPES = {"text"}
MEDIA_TYPES = {"image", "video", "document", "audio", "sticker"}


class WebhookFormatError(ValueError):
    """The body is not a WhatsApp webhook envelope at all."""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    wamid: str
    from_id: str  # phone digits, or a business-scoped user id; never assume a number
    timestamp: float
    type: str
    text: str | None
    contact_name: str | None
    phone_number_id: str | None
    context_wamid: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    wamid: str
    status: str  # sent | delivered | read | failed | played
    timestamp: float
    recipient_id: str | None
    error_code: int | None = None
    error_title: str | None = None
    callback_data: str | None = None


@dataclass(slots=True)
class WebhookBatch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)


def _ts(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _text_of(msg: dict[str, Any]) -> str | None:
    kind = msg.get("type")
    body = msg.get(kind) if isinstance(kind, str) else None
    if kind == "text" and isinstance(body, dict):
        value = body.get("body")
        return value if isinstance(value, str) else None
    if kind in MEDIA_TYPES and isinstance(body, dict):
        caption = body.get("caption")
        return caption if isinstance(caption, str) else None
    if kind == "button" and isinstance(body, dict):
        value = body.get("text")
        return value if isinstance(value, str) else None
    if kind == "interactive" and isinstance(body, dict):
        for key in ("button_reply", "list_reply"):
            reply = body.get(key)
            if isinstance(reply, dict) and isinstance(reply.get("title"), str):
                return str(reply["title"])
    return None


def _message(
    msg: dict[str, Any], names: dict[str, str], phone_number_id: str | None
) -> InboundMessage | None:
    wamid = msg.get("id")
    sender = msg.get("from")
    if not isinstance(wamid, str) or not wamid or not isinstance(sender, str) or not sender:
        return None
    kind = msg.get("type")
    kind = kind if isinstance(kind, str) and kind else "unsupported"
    context = msg.get("context")
    context_wamid = context.get("id") if isinstance(context, dict) else None
    return InboundMessage(
        wamid=wamid,
        from_id=sender,
        timestamp=_ts(msg.get("timestamp")),
        type=kind if kind != "unknown" else "unsupported",
        text=_text_of(msg),
        contact_name=names.get(sender),
        phone_number_id=phone_number_id,
        context_wamid=context_wamid if isinstance(context_wamid, str) else None,
        raw=msg,
    )


def _status(st: dict[str, Any]) -> StatusUpdate | None:
    wamid, status = st.get("id"), st.get("status")
    if not isinstance(wamid, str) or not isinstance(status, str):
        return None
    code: int | None = None
    title: str | None = None
    errors = st.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        raw_code = errors[0].get("code")
        code = raw_code if isinstance(raw_code, int) else None
        raw_title = errors[0].get("title") or errors[0].get("message")
        title = raw_title if isinstance(raw_title, str) else None
    opaque = st.get("biz_opaque_callback_data")
    recipient = st.get("recipient_id")
    return StatusUpdate(
        wamid=wamid,
        status=status.lower(),
        timestamp=_ts(st.get("timestamp")),
        recipient_id=recipient if isinstance(recipient, str) else None,
        error_code=code,
        error_title=title,
        callback_data=opaque if isinstance(opaque, str) else None,
    )


def parse_envelope(payload: Any) -> WebhookBatch:
    """Every message and status in a webhook body (all entries, all changes)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise WebhookFormatError("not a WhatsApp webhook envelope")
    batch = WebhookBatch()
    for entry in payload["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            continue
        for change in changes:
            if not isinstance(change, dict):
                continue
            value = change.get("value")
            field_name = str(change.get("field") or "")
            if field_name != "messages" or not isinstance(value, dict):
                batch.ignored_fields.append(field_name)
                continue
            metadata = value.get("metadata")
            pnid = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            names: dict[str, str] = {}
            for contact in value.get("contacts") or []:
                if not isinstance(contact, dict):
                    continue
                profile = contact.get("profile")
                name = profile.get("name") if isinstance(profile, dict) else None
                for key in ("wa_id", "user_id"):
                    ident = contact.get(key)
                    if isinstance(ident, str) and isinstance(name, str):
                        names[ident] = name
            for msg in value.get("messages") or []:
                if isinstance(msg, dict):
                    parsed = _message(msg, names, pnid if isinstance(pnid, str) else None)
                    if parsed is not None:
                        batch.messages.append(parsed)
            for st in value.get("statuses") or []:
                if isinstance(st, dict):
                    status = _status(st)
                    if status is not None:
                        batch.statuses.append(status)
    return batch
