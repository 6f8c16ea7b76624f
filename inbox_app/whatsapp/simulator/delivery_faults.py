"""Webhook delivery the way Meta really does it at its worst: out of order, twice, batched.

Meta delivers at least once and in no promised order, and under load packs several
entries into one POST. A relay that passes only against tidy one-by-one delivery would
break live, so tests switch these on (``POST /_sim/delivery``):

- ``shuffle_seconds``: each webhook waits a random 0..N seconds before its first attempt,
  and a message's statuses no longer wait for each other (``read`` may come before ``sent``);
- ``duplicate_rate``: after a delivery succeeded, the same signed bytes are posted again
  with this probability (Meta's redelivery);
- ``batch_size`` / ``batch_window``: webhooks that are ready within ``batch_window`` seconds
  go out as one POST with up to ``batch_size`` entries, signed over the merged bytes.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from inbox_app.whatsapp.signature import sign
from inbox_app.whatsapp.wire import meta_json_bytes


@dataclass
class DeliveryFaults:
    shuffle_seconds: float = 0.0
    duplicate_rate: float = 0.0
    batch_size: int = 1
    batch_window: float = 0.05

    @property
    def active(self) -> bool:
        return self.shuffle_seconds > 0 or self.duplicate_rate > 0 or self.batch_size > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "shuffle_seconds": self.shuffle_seconds,
            "duplicate_rate": self.duplicate_rate,
            "batch_size": self.batch_size,
            "batch_window": self.batch_window,
        }


# Posts exact bytes with their signature: the HTTP status, or the error's name (no answer).
Post = Callable[[bytes, str], Awaitable[int | str]]


@dataclass
class _Waiting:
    body: bytes
    answer: asyncio.Future[int | str]


@dataclass
class Batcher:
    """Merges webhooks ready at about the same time into one signed POST."""

    post: Post
    app_secret: str
    # Runs the window timers as tracked background tasks (counted, cancelled at shutdown).
    spawn: Callable[[Coroutine[Any, Any, None], str], object]
    _waiting: list[_Waiting] = field(default_factory=list)
    # A timer is due for what waits now; a POST in flight does not count, or webhooks
    # ready during a slow answer would wait for a full batch that may never come.
    _timer_due: bool = False

    async def submit(self, body: bytes, faults: DeliveryFaults) -> int | str:
        answer: asyncio.Future[int | str] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(body, answer))
        if len(self._waiting) >= faults.batch_size:
            await self._flush()
        elif not self._timer_due:
            self._timer_due = True
            self.spawn(self._flush_later(faults.batch_window), "webhook-batch-window")
        return await answer

    async def _flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timer_due = False
        await self._flush()

    async def _flush(self) -> None:
        group, self._waiting = self._waiting, []
        if not group:
            return
        body = group[0].body if len(group) == 1 else merge([w.body for w in group])
        try:
            status = await self.post(body, sign(body, self.app_secret))
        except BaseException as exc:  # cancelled at shutdown: the waiters see it too
            for item in group:
                if not item.answer.done():
                    item.answer.set_exception(exc)
            raise
        for item in group:
            if not item.answer.done():
                item.answer.set_result(status)


def merge(bodies: list[bytes]) -> bytes:
    """One envelope holding every entry of ``bodies``, serialised as Meta serialises."""
    entries: list[Any] = []
    for body in bodies:
        entries.extend(json.loads(body)["entry"])
    return meta_json_bytes({"object": "whatsapp_business_account", "entry": entries})


def shuffle_delay(faults: DeliveryFaults) -> float:
    return random.uniform(0, faults.shuffle_seconds) if faults.shuffle_seconds > 0 else 0.0


def duplicate_now(faults: DeliveryFaults) -> bool:
    return faults.duplicate_rate > 0 and random.random() < faults.duplicate_rate
