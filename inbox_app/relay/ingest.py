"""Group commit for webhooks: many deliveries, one transaction, each answered after commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from anyio import to_thread

from inbox_app.whatsapp.webhook import WebhookBatch

from .store import IngestResult, Store

log = logging.getLogger("inbox.relay.ingest")

_Item = tuple[WebhookBatch, "asyncio.Future[IngestResult]"]


class GroupCommitter:
    """Collects webhooks that arrive while a commit is running and commits them together.

    Under light load each webhook is its own transaction (no added latency); under a
    backlog one fsync covers a whole group, which is what lets a drain outpace Meta.
    """

    def __init__(self, store: Store, *, on_commit: Callable[[], None], max_group: int = 256):
        self.store = store
        self.on_commit = on_commit
        self.max_group = max_group
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while not self._queue.empty():
            _batch, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("relay shutting down"))

    async def submit(self, batch: WebhookBatch) -> IngestResult:
        """Returns once ``batch`` is durably committed (raises if it could not be)."""
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((batch, future))
        return await future

    async def _run(self) -> None:
        while True:
            items = [await self._queue.get()]
            while len(items) < self.max_group and not self._queue.empty():
                items.append(self._queue.get_nowait())
            await self._commit(items)

    async def _commit(self, items: list[_Item]) -> None:
        batches = [batch for batch, _ in items]
        try:
            results = await to_thread.run_sync(self.store.ingest_many, batches)
        except Exception:
            if len(items) == 1:
                log.exception("storing a webhook failed")
                self._fail(items[0][1])
                return
            # One bad delivery must not fail its neighbours: retry them one by one.
            for item in items:
                await self._commit([item])
            return
        if any(r.events for r in results):
            self.on_commit()
        for (_, future), result in zip(items, results, strict=True):
            if not future.done():
                future.set_result(result)

    @staticmethod
    def _fail(future: asyncio.Future[IngestResult]) -> None:
        if not future.done():
            future.set_exception(RuntimeError("could not store webhook"))
