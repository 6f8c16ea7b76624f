"""Idle auto-lock: after ``timeout`` seconds without user activity the session locks.

The UI calls ``touch()`` on every key press or mouse event and drives the timer, either by
calling ``check()`` from a periodic Qt timer or by running ``run()`` as an asyncio task.
The clock is injectable so tests don't sleep.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("inbox.client.idle")

DEFAULT_IDLE_TIMEOUT = 300.0  # five minutes (issue 5)


class IdleLock:
    """Fires ``on_idle`` once when ``timeout`` seconds pass without ``touch()``.

    After firing it stays quiet until ``touch()`` (the user unlocked and is active again).
    ``on_idle`` may be a plain function or a coroutine function (e.g. ``engine.lock``).
    """

    def __init__(
        self,
        on_idle: Callable[[], Awaitable[None] | None],
        *,
        timeout: float = DEFAULT_IDLE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError("the idle timeout must be positive")
        self._on_idle = on_idle
        self._clock = clock
        self._timeout = float(timeout)
        self._last = clock()
        self._fired = False
        self._paused = False

    @property
    def timeout(self) -> float:
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        if value <= 0:
            raise ValueError("the idle timeout must be positive")
        self._timeout = float(value)

    @property
    def fired(self) -> bool:
        """True after locking, until the next ``touch()``."""
        return self._fired

    def touch(self) -> None:
        """User activity: start the idle period again."""
        self._last = self._clock()
        self._fired = False

    def pause(self) -> None:
        """Stop counting (e.g. while a modal sign-in is shown); ``resume()`` restarts."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self.touch()

    def remaining(self) -> float:
        """Seconds until the lock fires (0 when due or already fired)."""
        if self._fired:
            return 0.0
        return max(0.0, self._timeout - (self._clock() - self._last))

    def due(self) -> bool:
        return not self._paused and not self._fired and self.remaining() <= 0

    async def check(self) -> bool:
        """Fire ``on_idle`` if the idle time has passed; True when it fired now."""
        if not self.due():
            return False
        self._fired = True
        log.info("idle for %.0f s; locking", self._timeout)
        result = self._on_idle()
        if inspect.isawaitable(result):
            await result
        return True

    async def run(self, *, poll: float = 1.0) -> None:
        """Check until cancelled, waking at most every ``poll`` seconds."""
        while True:
            await self.check()
            wait = self.remaining() if not (self._fired or self._paused) else poll
            await asyncio.sleep(min(poll, max(0.01, wait)))
