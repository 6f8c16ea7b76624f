"""The life of an accepted send: ``sent`` → ``delivered`` → ``read`` (or ``failed``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from inbox_app.whatsapp.simulator import envelopes
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.store import Fault, SentMessage

logger = logging.getLogger("inbox.whatsapp.simulator")


async def play_statuses(
    runtime: Runtime,
    message: SentMessage,
    *,
    opaque: str | None,
    failure: Fault | None = None,
) -> None:
    """Deliver the status webhooks for ``message`` one after another.

    Each status waits until the previous one was delivered (or given up on), so a
    relay sees them in order; out-of-order delivery is a relay test of its own.
    """
    settings = runtime.settings
    sender = runtime.sender
    if failure is not None:
        await asyncio.sleep(settings.status_delay)
        payload = envelopes.failed_status(
            settings,
            wamid=message.wamid,
            recipient_id=message.wa_id,
            code=failure.code,
            title=failure.title,
            details=failure.details,
            biz_opaque_callback_data=opaque,
        )
        message.statuses.append("failed")
        await sender.deliver(
            sender.encode(payload), sender.new_record("status", message.wamid, "failed")
        )
        return
    steps = ["sent", "delivered"] + (["read"] if settings.auto_read else [])
    conversation_id = runtime.store.conversation_id(message.wa_id)
    for status in steps:
        await asyncio.sleep(settings.status_delay)
        payload = envelopes.status_update(
            settings,
            wamid=message.wamid,
            status=status,
            recipient_id=message.wa_id,
            message_type=message.type,
            conversation_id=conversation_id,
            biz_opaque_callback_data=opaque,
        )
        message.statuses.append(status)
        record = sender.new_record("status", message.wamid, status)
        if runtime.store.delivery.shuffle_seconds > 0:
            # Shuffled delivery (delivery_faults.py): the statuses race each other.
            runtime.tasks.spawn(
                _deliver(sender.deliver(sender.encode(payload), record)),
                name=f"status {status} {message.wamid}",
            )
            continue
        await sender.deliver(sender.encode(payload), record)
    logger.debug("statuses done for %s", message.wamid)


async def _deliver(delivery: Awaitable[bool]) -> None:
    await delivery
