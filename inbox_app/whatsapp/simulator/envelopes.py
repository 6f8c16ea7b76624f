"""Webhook payloads exactly as Meta nests them (see fixtures message.json, message_status.json)."""

from __future__ import annotations

import time
from typing import Any

from inbox_app.whatsapp.simulator.errors import title_for
from inbox_app.whatsapp.simulator.ids import bsuid_for, is_bsuid
from inbox_app.whatsapp.simulator.settings import SimulatorSettings

# A customer-service window lasts 24 h; "sent" statuses carry its end.
_WINDOW_SECONDS = 24 * 60 * 60


def unix_now() -> str:
    """Webhook timestamps are Unix seconds as a *string*."""
    return str(int(time.time()))


def contact(settings: SimulatorSettings, user: str, name: str | None = None) -> dict[str, Any]:
    """A ``contacts[]`` entry as in 2026 webhooks: the BSUID always, the phone number only
    for a user who has one to share (fixture message.json#text; usernames hide it)."""
    entry: dict[str, Any] = {"profile": {"name": name}} if name else {}
    if is_bsuid(user):
        entry["user_id"] = user
        return entry
    entry["wa_id"] = user
    entry["user_id"] = bsuid_for(user, settings.waba_id)
    entry["parent_user_id"] = bsuid_for(user, settings.waba_id, parent=True)
    return entry


def _envelope(settings: SimulatorSettings, value: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": settings.display_phone_number,
            "phone_number_id": settings.phone_number_id,
        },
    }
    body.update(value)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": settings.waba_id, "changes": [{"value": body, "field": "messages"}]}],
    }


def inbound_text(
    settings: SimulatorSettings,
    *,
    wa_id: str,
    name: str,
    wamid: str,
    text: str,
    reply_to: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A patient's text message (fixture message.json#text; #reply for ``reply_to``)."""
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": timestamp or unix_now(),
        "text": {"body": text},
        "type": "text",
    }
    if reply_to:
        message["context"] = {"from": settings.display_phone_number, "id": reply_to}
    return _envelope(
        settings,
        {"contacts": [contact(settings, wa_id, name)], "messages": [message]},
    )


def inbound_media(
    settings: SimulatorSettings,
    *,
    wa_id: str,
    name: str,
    wamid: str,
    kind: str,
    media: dict[str, Any],
    reply_to: str | None = None,
) -> dict[str, Any]:
    """A patient's image / document / audio / video / sticker (fixture message.json#image)."""
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": unix_now(),
        "type": kind,
        kind: media,
    }
    if reply_to:
        message["context"] = {"from": settings.display_phone_number, "id": reply_to}
    return _envelope(
        settings,
        {"contacts": [contact(settings, wa_id, name)], "messages": [message]},
    )


def inbound_reply(
    settings: SimulatorSettings,
    *,
    wa_id: str,
    name: str,
    wamid: str,
    kind: str,
    reply_id: str,
    title: str,
    description: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    """A tap: a template quick-reply button (``kind`` "button": ``reply_id`` is the payload),
    a reply button ("button_reply") or a list row ("list_reply"), as Meta nests them."""
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": unix_now()}
    if kind == "button":
        message.update(type="button", button={"payload": reply_id, "text": title})
    else:
        reply: dict[str, Any] = {"id": reply_id, "title": title}
        if description:
            reply["description"] = description
        message.update(type="interactive", interactive={"type": kind, kind: reply})
    if reply_to:
        message["context"] = {"from": settings.display_phone_number, "id": reply_to}
    return _envelope(
        settings,
        {"contacts": [contact(settings, wa_id, name)], "messages": [message]},
    )


def pricing_for(message_type: str) -> dict[str, Any]:
    """Per-message pricing (PMP, since July 2025): replies in the window are free."""
    if message_type == "template":
        return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    return {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }


def status_update(
    settings: SimulatorSettings,
    *,
    wamid: str,
    status: str,
    recipient_id: str,
    message_type: str,
    conversation_id: str,
    biz_opaque_callback_data: str | None = None,
) -> dict[str, Any]:
    """A ``sent`` / ``delivered`` / ``read`` status (fixture message_status.json)."""
    now = unix_now()
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": now,
        "recipient_id": recipient_id,
    }
    if biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = biz_opaque_callback_data
    conversation: dict[str, Any] = {"id": conversation_id}
    if status == "sent":  # delivered/read omit it, as in the fixtures
        conversation["expiration_timestamp"] = str(int(now) + _WINDOW_SECONDS)
    conversation["origin"] = {"type": "utility" if message_type == "template" else "service"}
    entry["conversation"] = conversation
    entry["pricing"] = pricing_for(message_type)
    return _envelope(settings, _with_recipient(settings, entry, recipient_id))


def failed_status(
    settings: SimulatorSettings,
    *,
    wamid: str,
    recipient_id: str,
    code: int,
    details: str,
    title: str | None = None,
    biz_opaque_callback_data: str | None = None,
) -> dict[str, Any]:
    """A ``failed`` status: ``errors[]`` and no pricing (fixture message_status.json#failed)."""
    text = title or title_for(code)
    entry: dict[str, Any] = {
        "id": wamid,
        "status": "failed",
        "timestamp": unix_now(),
        "recipient_id": recipient_id,
    }
    if biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = biz_opaque_callback_data
    entry["errors"] = [
        {
            "code": code,
            "title": text,
            "message": text,
            "error_data": {"details": details},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ]
    return _envelope(settings, _with_recipient(settings, entry, recipient_id))


def _with_recipient(
    settings: SimulatorSettings, entry: dict[str, Any], recipient: str
) -> dict[str, Any]:
    """A status names its recipient by BSUID too, and comes with their contact entry
    (fixture message_status.json)."""
    person = contact(settings, recipient)
    entry["recipient_user_id"] = person["user_id"]
    if is_bsuid(recipient):
        entry.pop("recipient_id", None)  # sent to a BSUID: no phone number to name
    return {"contacts": [person], "statuses": [entry]}
