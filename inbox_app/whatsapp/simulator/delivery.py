"""Signed webhook delivery with Meta-like retries, and the background tasks doing it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from inbox_app.whatsapp.signature import HEADER, sign
from inbox_app.whatsapp.simulator.delivery_faults import Batcher, duplicate_now, shuffle_delay
from inbox_app.whatsapp.simulator.settings import SimulatorSettings
from inbox_app.whatsapp.simulator.store import SimulatorStore, WebhookKind, WebhookRecord
from inbox_app.whatsapp.wire import meta_json_bytes

logger = logging.getLogger("inbox.whatsapp.simulator")

# Seconds to wait before each retry: 10 attempts, ~45 s in all. Meta retries for days;
# a local stand-in only needs to outlast a relay restart.
RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0)

# Meta's crawler identifies itself like this; some relays log it.
_USER_AGENT = "facebookexternalua"


class TaskTracker:
    """Owns fire-and-forget tasks so shutdown can cancel them and failures get logged."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Run ``coro`` in the background, keeping a strong reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=exc)

    @property
    def active(self) -> int:
        """Number of tasks still running."""
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel every task and wait until they have all stopped."""
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(frozen=True)
class SignedBody:
    """Exact webhook bytes and the ``X-Hub-Signature-256`` value over them."""

    body: bytes
    signature: str


class WebhookSender:
    """POSTs signed webhooks to the configured URL and records every attempt."""

    def __init__(
        self,
        *,
        settings: SimulatorSettings,
        client: httpx.AsyncClient,
        store: SimulatorStore,
        tasks: TaskTracker,
    ) -> None:
        self._settings = settings
        self._client = client
        self._store = store
        self._tasks = tasks
        self._batcher = Batcher(
            self._post, settings.app_secret, lambda coro, name: tasks.spawn(coro, name=name)
        )

    def encode(self, payload: dict[str, Any]) -> SignedBody:
        """Serialise as Meta does (``\\uXXXX``, ``\\/``) and sign those exact bytes."""
        body = meta_json_bytes(payload)
        return SignedBody(body=body, signature=sign(body, self._settings.app_secret))

    def new_record(self, kind: WebhookKind, wamid: str, status: str | None = None) -> WebhookRecord:
        """Start a log entry for one webhook."""
        record = WebhookRecord(kind=kind, wamid=wamid, status=status)
        self._store.webhooks.append(record)
        return record

    async def deliver(
        self,
        signed: SignedBody,
        record: WebhookRecord,
        *,
        delays: Sequence[float] = RETRY_DELAYS,
    ) -> bool:
        """Post until a 2xx answer or until ``delays`` is used up; True if delivered."""
        if await self.attempt(signed, record):
            return True
        return await self._retry(signed, record, delays)

    async def deliver_in_background_after_first(
        self, signed: SignedBody, record: WebhookRecord
    ) -> int | None:
        """One attempt now; if it fails, retries continue in a background task.

        Returns the HTTP status of the first attempt (None: no answer).
        """
        if not await self.attempt(signed, record) and self._settings.webhook_url:
            self._tasks.spawn(
                self._retry_quietly(signed, record), name=f"webhook-retry {record.wamid}"
            )
        return record.last_status

    async def _retry_quietly(self, signed: SignedBody, record: WebhookRecord) -> None:
        await self._retry(signed, record, RETRY_DELAYS)

    async def _retry(
        self, signed: SignedBody, record: WebhookRecord, delays: Sequence[float]
    ) -> bool:
        if not self._settings.webhook_url:
            return False
        for delay in delays:
            await asyncio.sleep(delay)
            if await self.attempt(signed, record):
                return True
        record.gave_up = True
        logger.warning(
            "gave up on %s webhook %s after %d attempts", record.kind, record.wamid, record.attempts
        )
        return False

    async def attempt(self, signed: SignedBody, record: WebhookRecord) -> bool:
        """One POST; True on a 2xx answer. Never raises for network trouble."""
        url = self._settings.webhook_url
        if not url:
            logger.debug("no webhook_url; %s webhook %s not sent", record.kind, record.wamid)
            return False
        faults = self._store.delivery
        if record.attempts == 0 and (delay := shuffle_delay(faults)) > 0:
            await asyncio.sleep(delay)  # ready at a random moment: webhooks overtake each other
        record.attempts += 1
        if faults.batch_size > 1:
            status = await self._batcher.submit(signed.body, faults)
        else:
            status = await self._post(signed.body, signed.signature)
        if isinstance(status, str):
            record.last_status = None
            record.last_error = status
            # First failure at INFO; the rest at DEBUG, or waiting for a relay floods the log.
            logger.log(
                logging.INFO if record.attempts == 1 else logging.DEBUG,
                "%s webhook %s attempt %d: %s",
                record.kind,
                record.wamid,
                record.attempts,
                record.last_error,
            )
            return False
        record.last_status = status
        record.last_error = None
        record.delivered = 200 <= status < 300
        if record.delivered and duplicate_now(faults):
            record.redelivered += 1
            self._tasks.spawn(self._post_ignoring(signed), name=f"webhook-duplicate {record.wamid}")
        if not record.delivered:
            logger.log(
                logging.INFO if record.attempts == 1 else logging.DEBUG,
                "%s webhook %s attempt %d: HTTP %d",
                record.kind,
                record.wamid,
                record.attempts,
                status,
            )
        return record.delivered

    async def _post(self, body: bytes, signature: str) -> int | str:
        """One POST of exact bytes: the HTTP status, or the error's name without an answer."""
        assert self._settings.webhook_url
        headers = {"Content-Type": "application/json", HEADER: signature, "User-Agent": _USER_AGENT}
        try:
            response = await self._client.post(
                self._settings.webhook_url, content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return response.status_code

    async def _post_ignoring(self, signed: SignedBody) -> None:
        await self._post(signed.body, signed.signature)
