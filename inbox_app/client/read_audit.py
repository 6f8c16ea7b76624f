"""Reads this desktop does without the relay (searching its cache, opening a conversation
from it), reported to the relay's audit trail: ``POST /v1/audit/reads``.

Each report is written to the encrypted cache first and sent in the background, so a read
done offline is audited once the relay answers again; its ``client_id`` makes a resend
after a lost answer harmless. Reports hold the kind, a count and conversation ids: never
the words searched for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from inbox_app.client.api import (
    RelayClient,
    RelayError,
    RelayUnavailable,
    Unauthorized,
    WipeOrdered,
)
from inbox_app.client.cache import Cache

log = logging.getLogger("inbox.client.read_audit")

PENDING_KEY = "pending_read_reports"  # cache meta: a JSON list of reports not yet accepted
MAX_PENDING = 20_000  # weeks offline; beyond this the oldest are dropped (and logged)
KINDS = ("search", "opened", "export")


class ReadReports:
    """The queue of read reports; ``run()`` is the sending task."""

    def __init__(
        self,
        cache: Cache,
        api: RelayClient,
        *,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        on_wipe: Callable[[], None] | None = None,
    ) -> None:
        self._cache = cache
        self._api = api
        self._retry = (retry_initial, retry_max)
        self._on_wipe = on_wipe
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()  # set while nothing is waiting to be sent (tests)

    def wake(self) -> None:
        """Send now (a new report, or the relay is back)."""
        self._wake.set()

    async def pending(self) -> list[dict[str, Any]]:
        found = await self._cache.get_json(PENDING_KEY)
        return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []

    async def record(
        self,
        kind: str,
        *,
        results: int | None = None,
        conversation_ids: Iterable[int] = (),
        via: str | None = None,
    ) -> None:
        """Queue one report (stored before this returns) and wake the sender."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        report: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "kind": kind,
            "at": time.time(),
            "conversation_ids": sorted({int(c) for c in conversation_ids}),
        }
        if results is not None:
            report["results"] = int(results)
        if via is not None:
            report["via"] = via
        async with self._lock:
            queue = await self.pending()
            queue.append(report)
            if len(queue) > MAX_PENDING:
                log.warning("read-report queue full: dropping %d oldest", len(queue) - MAX_PENDING)
                queue = queue[-MAX_PENDING:]
            await self._cache.set_meta(PENDING_KEY, json.dumps(queue))
        self.idle.clear()
        self.wake()

    async def _forget(self, client_ids: set[str]) -> None:
        async with self._lock:
            queue = [r for r in await self.pending() if r.get("client_id") not in client_ids]
            await self._cache.set_meta(PENDING_KEY, json.dumps(queue))

    async def flush(self) -> bool:
        """Send what is queued, oldest first; False when the relay should be tried later."""
        async with self._lock:
            queue = await self.pending()
        done: set[str] = set()
        outcome = True
        try:
            for report in queue:
                try:
                    await self._api.post("/v1/audit/reads", report)
                except WipeOrdered:
                    if self._on_wipe is not None:
                        self._on_wipe()
                    outcome = False
                    break
                except (RelayUnavailable, Unauthorized):
                    outcome = False  # offline or signed out: kept for later
                    break
                except RelayError as exc:
                    if exc.status is None or exc.status >= 500 or exc.status in (408, 429):
                        outcome = False
                        break
                    # Refused for good (a conversation no longer visible): resending cannot
                    # help. The relay recorded the refusal itself.
                    log.warning("relay refused a %s report: %s", report.get("kind"), exc.status)
                done.add(str(report.get("client_id")))
        finally:
            # Reads recorded meanwhile stay queued; only what was answered is removed.
            if done:
                await self._forget(done)
        if outcome:
            async with self._lock:
                if not await self.pending():
                    self.idle.set()
        return outcome

    async def run(self) -> None:
        """Send forever; after a failure wait (backoff with jitter, or until woken)."""
        delay = self._retry[0]
        while True:
            self._wake.clear()
            if await self.flush():
                delay = self._retry[0]
                await self._wake.wait()
                continue
            wait = delay / 2 + random.random() * delay / 2
            delay = min(delay * 2, self._retry[1])
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass
