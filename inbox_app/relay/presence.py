"""Who is viewing or typing where: ephemeral, in memory, never in the events table.

Each relay process keeps its own table of presence entries with an expiry; on
PostgreSQL the routes also broadcast each update (pgnotify) so streams of the other
relays show it too. SSE streams read updates newer than the last version they sent.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

PresenceState = Literal["viewing", "typing", "idle"]

# How long a state holds without a repeat (clients repeat while it lasts).
TTL = {"viewing": 60.0, "typing": 8.0, "idle": 0.0}
HISTORY = 2000


@dataclass(frozen=True, slots=True)
class Presence:
    conversation_id: int
    user_id: int
    display_name: str
    state: str
    expires_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "user_id": self.user_id,
            "display_name": self.display_name,
            "state": self.state,
            "expires_at": self.expires_at,
        }


class PresenceHub:
    """The live presence table of this process, with a version per update."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex  # tells our own broadcasts apart from other relays'
        self.version = 0
        self._current: dict[tuple[int, int], Presence] = {}
        self._history: deque[tuple[int, Presence]] = deque(maxlen=HISTORY)

    def update(
        self,
        *,
        conversation_id: int,
        user_id: int,
        display_name: str,
        state: str,
        now: float | None = None,
        expires_at: float | None = None,
    ) -> Presence:
        now = time.time() if now is None else now
        entry = Presence(
            conversation_id,
            user_id,
            display_name,
            state,
            expires_at if expires_at is not None else now + TTL.get(state, 0.0),
        )
        key = (conversation_id, user_id)
        if state == "idle":
            self._current.pop(key, None)
        else:
            self._current[key] = entry
        self.version += 1
        self._history.append((self.version, entry))
        return entry

    def since(self, version: int) -> tuple[int, list[Presence]]:
        """Updates after ``version`` (only the newest per user and conversation)."""
        newest: dict[tuple[int, int], Presence] = {}
        for v, entry in self._history:
            if v > version:
                newest[(entry.conversation_id, entry.user_id)] = entry
        return self.version, list(newest.values())

    def current(self, now: float | None = None) -> list[Presence]:
        now = time.time() if now is None else now
        for key in [k for k, e in self._current.items() if e.expires_at <= now]:
            del self._current[key]
        return list(self._current.values())
