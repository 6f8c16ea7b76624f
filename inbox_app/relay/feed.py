"""Waking live streams when events are committed."""

from __future__ import annotations

import asyncio


class FeedNotifier:
    """Each commit that appended events calls ``notify``; SSE streams ``wait`` for it.

    Callers take the current waiter *before* reading the database, so an event committed
    between their read and their wait still wakes them.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def waiter(self) -> asyncio.Event:
        return self._event

    def _fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def notify(self) -> None:
        """Safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fire()
        else:
            loop.call_soon_threadsafe(self._fire)
