"""Patients writing in: Meta-shaped inbound webhooks, signed and posted."""

from __future__ import annotations

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


def build(runtime: Runtime, message: InboundText) -> tuple[str, SignedBody]:
    """The message's wamid and its signed webhook body."""
    wamid = message.wamid or new_wamid(message.wa_id, inbound=True)
    payload = envelopes.inbound_text(
        runtime.settings,
        wa_id=message.wa_id,
        name=message.name,
        wamid=wamid,
        text=message.text,
        reply_to=message.reply_to,
    )
    return wamid, runtime.sender.encode(payload)


async def post_first_attempt(runtime: Runtime, message: InboundText) -> tuple[str, int | None]:
    """Post once and return (wamid, HTTP status or None); retries go on in the background."""
    wamid, signed = build(runtime, message)
    sender = runtime.sender
    status = await sender.deliver_in_background_after_first(
        signed, sender.new_record("message", wamid)
    )
    return wamid, status


async def post_until_delivered(
    runtime: Runtime, message: InboundText, *, delays: Sequence[float] = RETRY_DELAYS
) -> bool:
    """Post and retry until delivered or ``delays`` runs out; True if delivered."""
    wamid, signed = build(runtime, message)
    sender = runtime.sender
    return await sender.deliver(signed, sender.new_record("message", wamid), delays=delays)
