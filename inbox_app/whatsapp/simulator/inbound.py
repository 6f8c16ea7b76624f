"""Patients writing in: Meta-shaped inbound webhooks, signed and posted."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from inbox_app.whatsapp.simulator import envelopes
from inbox_app.whatsapp.simulator.delivery import RETRY_DELAYS, SignedBody
from inbox_app.whatsapp.simulator.ids import new_wamid
from inbox_app.whatsapp.simulator.runtime import Runtime


@dataclass(frozen=True)
class InboundText:
    """A text message from a (virtual) patient."""

    wa_id: str
    name: str
    text: str
    wamid: str | None = None  # forced id, e.g. to redeliver the same message
    reply_to: str | None = None


@dataclass(frozen=True)
class InboundMedia:
    """An attachment from a (virtual) patient; the bytes go into the media library."""

    wa_id: str
    name: str
    kind: str  # image | document | audio | video | sticker
    data: bytes
    mime_type: str
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    declared_sha256: str | None = None  # overrides the true hash (to test verification)
    wamid: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class InboundReply:
    """A tap on a template quick-reply button ("button"), a reply button ("button_reply")
    or a list row ("list_reply"); ``reply_id`` is the payload / row id the business set."""

    wa_id: str
    name: str
    kind: str
    reply_id: str
    title: str
    description: str | None = None
    reply_to: str | None = None  # the wamid of the message with the buttons
    wamid: str | None = None


Inbound = InboundText | InboundMedia | InboundReply


def build(runtime: Runtime, message: Inbound) -> tuple[str, SignedBody]:
    """The message's wamid and its signed webhook body."""
    wamid = message.wamid or new_wamid(message.wa_id, inbound=True)
    runtime.store.last_inbound[message.wa_id] = time.time()  # opens the 24-hour window
    if isinstance(message, InboundReply):
        payload = envelopes.inbound_reply(
            runtime.settings,
            wa_id=message.wa_id,
            name=message.name,
            wamid=wamid,
            kind=message.kind,
            reply_id=message.reply_id,
            title=message.title,
            description=message.description,
            reply_to=message.reply_to,
        )
        return wamid, runtime.sender.encode(payload)
    if isinstance(message, InboundMedia):
        item = runtime.media.add(message.data, message.mime_type, message.filename)
        media: dict[str, object] = {
            "mime_type": message.mime_type,
            # Webhooks declare the hash base64-encoded (GET /{media-id} answers in hex).
            "sha256": message.declared_sha256
            or base64.b64encode(hashlib.sha256(message.data).digest()).decode("ascii"),
            "id": item.media_id,
        }
        if message.caption and message.kind in ("image", "video", "document"):
            media["caption"] = message.caption
        if message.filename and message.kind == "document":
            media["filename"] = message.filename
        if message.kind == "audio":
            media["voice"] = message.voice
        if message.kind == "sticker":
            media["animated"] = False
        payload = envelopes.inbound_media(
            runtime.settings,
            wa_id=message.wa_id,
            name=message.name,
            wamid=wamid,
            kind=message.kind,
            media=media,
            reply_to=message.reply_to,
        )
        return wamid, runtime.sender.encode(payload)
    payload = envelopes.inbound_text(
        runtime.settings,
        wa_id=message.wa_id,
        name=message.name,
        wamid=wamid,
        text=message.text,
        reply_to=message.reply_to,
    )
    return wamid, runtime.sender.encode(payload)


async def post_first_attempt(runtime: Runtime, message: Inbound) -> tuple[str, int | None]:
    """Post once and return (wamid, HTTP status or None); retries go on in the background."""
    wamid, signed = build(runtime, message)
    sender = runtime.sender
    status = await sender.deliver_in_background_after_first(
        signed, sender.new_record("message", wamid)
    )
    return wamid, status


async def post_until_delivered(
    runtime: Runtime, message: Inbound, *, delays: Sequence[float] = RETRY_DELAYS
) -> bool:
    """Post and retry until delivered or ``delays`` runs out; True if delivered."""
    wamid, signed = build(runtime, message)
    sender = runtime.sender
    return await sender.deliver(signed, sender.new_record("message", wamid), delays=delays)
