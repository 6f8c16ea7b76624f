"""Messages the user wrote: stored in the encrypted outbox first, then handed to the relay.

``send_text`` only writes the cache (the UI shows the entry as queued at once, even
offline). A background flusher POSTs queued entries in creation order; the ``client_id``
makes a retry after a lost answer safe (the relay deduplicates on it). The relay's answer is
applied to the cache like a feed event, which removes the outbox entry (QUALITY R12).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable
from enum import Enum

from inbox_app.client.api import (
    RelayClient,
    RelayError,
    RelayUnavailable,
    Unauthorized,
    WipeOrdered,
)
from inbox_app.client.cache import Cache, OutboxEntry
from inbox_app.client.records import ChangeSummary
from inbox_app.client.sync import summary_of
from inbox_app.domain.messages import MessageRecord

log = logging.getLogger("inbox.client.outbox")

MAX_TEXT_LENGTH = 4096  # the relay's (and WhatsApp's) limit for a text body


class _Flush(Enum):
    DONE = "done"
    RETRY_LATER = "retry_later"
    UNAUTHORIZED = "unauthorized"


class Outbox:
    """The client side of the outbound path; ``run()`` is the flusher task."""

    def __init__(
        self,
        cache: Cache,
        api: RelayClient,
        *,
        on_change: Callable[[ChangeSummary], None],
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        on_wipe: Callable[[], None] | None = None,
    ) -> None:
        self._on_wipe = on_wipe
        self._cache = cache
        self._api = api
        self._on_change = on_change
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()  # set while nothing retryable is pending (tests)

    def wake(self) -> None:
        """Try again now (a new entry, or the relay came back)."""
        self._wake.set()

    async def send_text(self, conversation_id: int, text: str) -> MessageRecord:
        """Queue a text message; returns it with a negative id and status 'queued'."""
        if not text.strip():
            raise ValueError("A message cannot be empty.")
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(f"A message can have at most {MAX_TEXT_LENGTH} characters.")
        entry = await self._cache.enqueue_outbox(
            conversation_id=conversation_id, client_id=str(uuid.uuid4()), text_=text
        )
        log.info("queued outbox entry %s for conversation %d", entry.client_id, conversation_id)
        self.idle.clear()
        self._on_change(ChangeSummary(client_ids=frozenset({entry.client_id})))
        self.wake()
        return entry.to_record()

    async def retry(self, client_id: str) -> bool:
        """Queue a failed entry again (the user pressed "retry")."""
        ok = await self._cache.mark_outbox(client_id, "queued")
        if ok:
            self._on_change(ChangeSummary(client_ids=frozenset({client_id})))
            self.wake()
        return ok

    async def discard(self, client_id: str) -> bool:
        """Drop an entry the relay has not accepted (the user gave up on it)."""
        ok = await self._cache.discard_outbox(client_id)
        if ok:
            self._on_change(ChangeSummary(client_ids=frozenset({client_id})))
        return ok

    async def run(self) -> None:
        """Flush forever: after a fault wait (backoff with jitter, or until woken)."""
        delay = self._retry_initial
        while True:
            self._wake.clear()
            outcome = await self.flush()
            if outcome is _Flush.RETRY_LATER:
                wait = delay / 2 + random.random() * delay / 2
                delay = min(delay * 2, self._retry_max)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
                continue
            delay = self._retry_initial
            # DONE, or UNAUTHORIZED (nothing to do until signed in again): wait for a nudge.
            await self._wake.wait()

    async def flush(self) -> _Flush:
        """Send every pending entry in creation order; stop at the first retryable fault."""
        for entry in await self._cache.pending_outbox():
            outcome = await self._send(entry)
            if outcome is not _Flush.DONE:
                return outcome
        self.idle.set()
        return _Flush.DONE

    async def _send(self, entry: OutboxEntry) -> _Flush:
        cid = entry.client_id
        if not await self._cache.mark_outbox(cid, "sending", attempt=True):
            return _Flush.DONE  # acknowledged by a feed event meanwhile
        self._on_change(ChangeSummary(client_ids=frozenset({cid})))
        try:
            record = await self._api.send_message(entry.conversation_id, cid, entry.text or "")
        except WipeOrdered:
            log.warning("the relay ordered this cache wiped")
            if self._on_wipe is not None:
                self._on_wipe()
            return _Flush.UNAUTHORIZED
        except Unauthorized:
            await self._requeue(cid, None)
            log.warning("relay refused our token; outbox waits for sign-in")
            return _Flush.UNAUTHORIZED
        except RelayUnavailable:
            await self._requeue(cid, None)
            return _Flush.RETRY_LATER
        except RelayError as exc:
            if exc.status is None or exc.status >= 500 or exc.status in (408, 429):
                # Transient on the relay's side: keep the order, try again later.
                log.info("relay answered %s for outbox entry %s; will retry", exc.status, cid)
                await self._requeue(cid, None)
                return _Flush.RETRY_LATER
            log.warning("relay refused outbox entry %s: %s %s", cid, exc.status, exc.code)
            await self._cache.mark_outbox(cid, "failed", error=exc.message)
            self._on_change(ChangeSummary(client_ids=frozenset({cid})))
            return _Flush.DONE
        changes = await self._cache.apply_message(record, acknowledges=cid)
        log.info("outbox entry %s accepted as message %d", cid, record.id)
        summary = summary_of(changes)
        self._on_change(
            ChangeSummary(
                conversation_ids=summary.conversation_ids,
                message_ids=summary.message_ids,
                client_ids=summary.client_ids | {cid},
            )
        )
        return _Flush.DONE

    async def _requeue(self, client_id: str, error: str | None) -> None:
        if await self._cache.mark_outbox(client_id, "queued", error=error):
            self._on_change(ChangeSummary(client_ids=frozenset({client_id})))
