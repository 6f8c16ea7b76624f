"""Keeps the cache converging to the relay: catch-up over ``/v1/sync``, then live SSE.

Every (re)connect first catches up in batches of 500 from the cursor stored in the cache,
then follows the SSE stream from that cursor. Live events are drained in small batches
(whatever has arrived, at most ``batch_size``), each applied in one cache transaction with
its cursor, so a crash or disconnect anywhere resumes without a gap (QUALITY I4, R9, R10).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from inbox_app.client.api import (
    RelayClient,
    RelayError,
    RelayUnavailable,
    Unauthorized,
    WipeOrdered,
)
from inbox_app.client.cache import AppliedChanges, Cache
from inbox_app.client.records import ChangeSummary, ConnectionState, FeedEvent

log = logging.getLogger("inbox.client.sync")

BATCH_SIZE = 500
WIPE_EVENT = "wipe"  # docs/protocol.md, "Remote wipe"
HISTORY_SYNCED = "history_synced"  # meta key: the first full catch-up has completed
# meta key: feed seqs up to this were applied before a schema migration replayed the feed;
# wipe events among them were judged then and are not acted on again (cache._migrate).
WIPE_FLOOR = "wipe_floor"


class _WipeSeen(Exception):
    """A wipe event for this cache arrived: stop syncing at once."""


@dataclass(frozen=True, slots=True)
class _StreamEnd:
    error: BaseException | None


def summary_of(changes: AppliedChanges) -> ChangeSummary:
    return ChangeSummary(
        conversation_ids=changes.conversation_ids,
        message_ids=changes.message_ids,
        client_ids=changes.client_ids,
        patient_ids=changes.patient_ids,
        appointment_ids=changes.appointment_ids,
        consent_wa_ids=changes.consent_wa_ids,
        escalation_ids=changes.escalation_ids,
        overdue_escalation_ids=changes.overdue_escalation_ids,
    )


class SyncEngine:
    """Runs until cancelled (or until the relay refuses the token)."""

    def __init__(
        self,
        cache: Cache,
        api: RelayClient,
        *,
        on_change: Callable[[ChangeSummary], None],
        on_state: Callable[[ConnectionState], None],
        authenticate: Callable[[], Awaitable[None]] | None = None,
        on_wipe: Callable[[], None] | None = None,
        wipe_applies: Callable[[FeedEvent], bool] | None = None,
        batch_size: int = BATCH_SIZE,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
    ) -> None:
        self._cache = cache
        self._api = api
        self._on_change = on_change
        self._on_state = on_state
        self._authenticate = authenticate
        self._on_wipe = on_wipe
        self._wipe_applies = wipe_applies
        self._batch_size = batch_size
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._state = ConnectionState.OFFLINE
        self._cursor = 0
        self.connects = 0  # successful (re)connects, for tests and diagnostics
        self.caught_up = asyncio.Event()
        self.unauthorized = False
        # Set once this cache has completed a full catch-up; until then the feed it reads is
        # history from before it existed, and wipe events in it are not for it.
        self._history_synced = False
        self._wipe_floor = 0

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def cursor(self) -> int:
        return self._cursor

    def _set_state(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            log.info("connection %s", state.value)
            self._on_state(state)

    async def run(self) -> None:
        """Connect, catch up, stream; on any fault back off and do it again."""
        delay = self._backoff_initial
        try:
            while True:
                self._set_state(ConnectionState.CONNECTING)
                try:
                    if self._authenticate is not None and not self._api.token:
                        await self._authenticate()
                    await self.catch_up()
                    self.connects += 1
                    self._set_state(ConnectionState.ONLINE)
                    # The relay was reachable: the next fault starts again from a short wait.
                    delay = self._backoff_initial
                    await self._stream()
                    log.info("event stream ended by the relay")
                except _WipeSeen:
                    return
                except WipeOrdered:
                    log.warning("the relay ordered this cache wiped")
                    if self._on_wipe is not None:
                        self._on_wipe()
                    return
                except Unauthorized:
                    log.warning("the relay refused our token; sync stops until sign-in")
                    self.unauthorized = True
                    return
                except RelayUnavailable as exc:
                    log.info("relay unavailable (%s)", exc.status or "network")
                except RelayError as exc:
                    log.warning("relay error %s (%s) during sync", exc.status, exc.code)
                self._set_state(ConnectionState.OFFLINE)
                # Equal jitter: never all clients at once after a relay restart.
                await asyncio.sleep(delay / 2 + random.random() * delay / 2)
                delay = min(delay * 2, self._backoff_max)
        finally:
            self._set_state(ConnectionState.OFFLINE)

    async def catch_up(self) -> int:
        """Fetch and apply everything after the stored cursor; returns events applied."""
        after = await self._cache.cursor()
        self._cursor = after
        if not self._history_synced:
            self._history_synced = await self._cache.get_meta(HISTORY_SYNCED) == "1"
        floor = await self._cache.get_meta(WIPE_FLOOR)
        self._wipe_floor = int(floor) if floor and floor.isdigit() else 0
        applied = 0
        while True:
            page = await self._api.sync(after, self._batch_size)
            if page.events or page.next > after:
                await self._apply(page.events, max(page.next, after))
                applied += len(page.events)
            if not page.more or page.next <= after:
                break
            after = page.next
        if not self._history_synced:
            await self._cache.set_meta(HISTORY_SYNCED, "1")
            self._history_synced = True
        self.caught_up.set()
        if applied:
            log.info("caught up %d events, cursor %d", applied, self._cursor)
        return applied

    async def _apply(self, events: Sequence[FeedEvent], cursor: int) -> None:
        for event in events:
            if event.type == WIPE_EVENT and self._wipe_applies is not None:
                if not self._history_synced or event.seq <= self._wipe_floor:
                    log.info("wipe event seq=%d predates this cache; ignored", event.seq)
                elif self._wipe_applies(event):
                    # Nothing more is written to a cache that is about to be erased.
                    log.warning("wipe event seq=%d for this cache", event.seq)
                    if self._on_wipe is not None:
                        self._on_wipe()
                    raise _WipeSeen()
        changes = await self._cache.apply_events(events, cursor)
        self._cursor = max(self._cursor, cursor)
        summary = summary_of(changes)
        if not summary.is_empty():
            self._on_change(summary)

    async def _stream(self) -> None:
        """Follow the SSE stream until it ends or fails (the failure is raised)."""
        queue: asyncio.Queue[FeedEvent | _StreamEnd] = asyncio.Queue()
        reader = asyncio.create_task(self._read_stream(self._cursor, queue))
        try:
            while True:
                item = await queue.get()
                batch: list[FeedEvent] = []
                end: _StreamEnd | None = None
                # Drain what has arrived while the last batch was written, up to a limit.
                while True:
                    if isinstance(item, _StreamEnd):
                        end = item
                        break
                    if item.seq > self._cursor:  # a resumed stream may repeat its edge
                        batch.append(item)
                    if len(batch) >= self._batch_size or queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    await self._apply(batch, max(e.seq for e in batch))
                if end is not None:
                    if end.error is not None:
                        raise end.error
                    return
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read_stream(self, after: int, queue: asyncio.Queue[FeedEvent | _StreamEnd]) -> None:
        try:
            async with contextlib.aclosing(self._api.events(after)) as stream:
                async for event in stream:
                    queue.put_nowait(event)
        except Exception as exc:
            queue.put_nowait(_StreamEnd(exc))
        else:
            queue.put_nowait(_StreamEnd(None))
