"""The outbox worker: sends queued messages through the Graph API, once each."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from anyio import to_thread

from inbox_app.domain.messages import MessageStatus
from inbox_app.domain.send_errors import Retry, send_error
from inbox_app.whatsapp.graph import GraphClient, GraphError, GraphUnavailable

from .outgoing import ensure_uploaded, graph_payload
from .store import Store

log = logging.getLogger("inbox.relay.outbox")

MAX_ATTEMPTS = 8
INFLIGHT_TIMEOUT = 120.0


def backoff_delay(attempt: int, *, base: float = 0.5, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter (attempt counts from 1)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1))) + base / 2


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        graph: GraphClient,
        *,
        on_commit: Callable[[], None],
        rate: float = 80.0,
        per_recipient_gap: float = 0.0,
        on_outcome: Callable[[str], None] | None = None,
        inflight_timeout: float = INFLIGHT_TIMEOUT,
    ) -> None:
        self.store = store
        self.inflight_timeout = inflight_timeout
        # Told "sent" | "retry" | "failed" | "needs_review" per attempt (metrics.py).
        self.on_outcome = on_outcome or (lambda _outcome: None)
        self.graph = graph
        self.on_commit = on_commit
        self.min_interval = 1.0 / rate if rate > 0 else 0.0
        self.per_recipient_gap = per_recipient_gap
        self._wake = asyncio.Event()
        self._last_send = 0.0
        self._last_to: dict[str, float] = {}
        self._paused_until = 0.0  # after 130429: the whole number slows down
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    @property
    def alive(self) -> bool:
        """Started and still running (``/readyz``)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        recovered = await to_thread.run_sync(
            lambda: self.store.recover_inflight(older_than=time.time() - self.inflight_timeout)
        )
        if recovered:
            log.warning("flagged %d interrupted sends for review", recovered)
            self.on_commit()
        while True:
            try:
                jobs = await to_thread.run_sync(lambda: self.store.claim_due(limit=20))
            except Exception:
                log.exception("claiming outbox rows failed")
                jobs = []
            if jobs:
                self.on_commit()
                for job in jobs:
                    await self._send(job)
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            except TimeoutError:
                pass

    async def _pace(self, to: str) -> None:
        now = time.monotonic()
        wait = max(self._last_send + self.min_interval - now, self._paused_until - now, 0.0)
        if self.per_recipient_gap:
            last = self._last_to.get(to, -1e9)
            wait = max(wait, last + self.per_recipient_gap - now)
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_send = time.monotonic()
        self._last_to[to] = self._last_send

    async def _send(self, job: dict[str, Any]) -> None:
        outbox_id, message_id = job["outbox_id"], job["message_id"]
        await self._pace(job["to"])
        try:
            # Every send type (outgoing.py); files are uploaded first, once.
            media_id = await ensure_uploaded(self.store, self.graph, job)
            payload = graph_payload(job, media_id=media_id)
            payload["biz_opaque_callback_data"] = f"msg:{message_id}"
            result = await self.graph.send(payload)
        except GraphError as exc:
            meaning = send_error(exc.code)
            throttled = meaning.retry is Retry.THROTTLE
            limit = MAX_ATTEMPTS * 2 if throttled else MAX_ATTEMPTS
            if (exc.transient or throttled) and job["attempts"] < limit:
                delay = backoff_delay(job["attempts"])
                if exc.code == 131056:  # this patient gets too many: pause only them
                    self._last_to[job["to"]] = time.monotonic() + delay
                elif throttled:  # the number's throughput: slow everything down
                    self._paused_until = time.monotonic() + delay
                retry_at = time.time() + delay
                await self._settle(outbox_id, message_id, None, exc.code, exc.message, retry_at)
            else:
                log.info("message %s failed with code %s", message_id, exc.code)
                await self._settle(
                    outbox_id,
                    message_id,
                    MessageStatus.FAILED,
                    exc.code,
                    meaning.reason("en"),
                    None,
                )
            return
        except GraphUnavailable as exc:
            if exc.ambiguous:
                # No idempotency key at Meta: never resend blindly. A status webhook carrying
                # our callback tag reconciles it; otherwise staff decide.
                log.warning("message %s: send outcome unknown (%s)", message_id, exc)
                await self._settle(
                    outbox_id,
                    message_id,
                    MessageStatus.NEEDS_REVIEW,
                    None,
                    "The send may or may not have reached WhatsApp; check before resending.",
                    None,
                )
            elif job["attempts"] < MAX_ATTEMPTS:
                retry_at = time.time() + backoff_delay(job["attempts"])
                await self._settle(outbox_id, message_id, None, None, str(exc), retry_at)
            else:
                await self._settle(
                    outbox_id,
                    message_id,
                    MessageStatus.FAILED,
                    None,
                    "WhatsApp could not be reached.",
                    None,
                )
            return
        await to_thread.run_sync(
            lambda: self.store.record_sent(
                outbox_id=outbox_id, message_id=message_id, wamid=result.wamid
            )
        )
        self.on_commit()
        self.on_outcome("sent")

    async def _settle(
        self,
        outbox_id: int,
        message_id: int,
        final: MessageStatus | None,
        code: int | None,
        title: str,
        retry_at: float | None,
    ) -> None:
        await to_thread.run_sync(
            lambda: self.store.record_failure(
                outbox_id=outbox_id,
                message_id=message_id,
                final_status=final,
                error_code=code,
                error_title=title,
                retry_at=retry_at,
            )
        )
        self.on_commit()
        outcome = "failed" if final is not MessageStatus.NEEDS_REVIEW else "needs_review"
        self.on_outcome("retry" if final is None else outcome)
        if retry_at is not None:
            # Make sure we come back for it even if nothing else wakes us.
            asyncio.get_running_loop().call_later(max(0.0, retry_at - time.time()), self.wake)
