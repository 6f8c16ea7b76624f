"""The one object the UI talks to: sign-in, the encrypted cache, sync and the outbox.

Everything here is plain asyncio; the UI bridges ``ChangeSummary`` callbacks to Qt signals.
(INTERFACE SKELETON — being implemented; signatures are the contract with ``ui/``.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.messages import MessageRecord


class ConnectionState(StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What changed in the cache: views refresh only these ids."""

    conversation_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()
    # client ids of outbox entries that changed (queued locally, or acknowledged by the relay)
    client_ids: frozenset[str] = frozenset()
    connection: ConnectionState | None = None


@dataclass(frozen=True, slots=True)
class SignedInUser:
    id: int
    username: str
    display_name: str
    role: str


@dataclass(slots=True)
class EngineConfig:
    relay_url: str
    data_dir: Path  # per-user subfolder is made below it
    extra: dict[str, str] = field(default_factory=dict)


class ClientEngine:
    def __init__(self, config: EngineConfig) -> None:
        raise NotImplementedError

    async def sign_in(self, username: str, password: str) -> SignedInUser:
        """Log in to the relay, unlock (or create) this user's encrypted cache."""
        raise NotImplementedError

    async def start(self) -> None:
        """Start syncing (catch-up, then SSE) and flushing the outbox in the background."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop background tasks, close the cache and drop the key from memory."""
        raise NotImplementedError

    def add_listener(self, listener: Callable[[ChangeSummary], None]) -> None:
        """Call ``listener`` on the event loop after each committed change."""
        raise NotImplementedError

    @property
    def connection(self) -> ConnectionState:
        raise NotImplementedError

    @property
    def protection(self) -> str:
        """Which key protection is in use: 'keyring:<backend>' or 'password'."""
        raise NotImplementedError

    async def conversations(self) -> list[ConversationRecord]:
        """All cached conversations, newest activity first."""
        raise NotImplementedError

    async def conversations_by_id(self, ids: frozenset[int]) -> list[ConversationRecord]:
        raise NotImplementedError

    async def messages(
        self, conversation_id: int, *, before: tuple[float, int] | None = None, limit: int = 50
    ) -> list[MessageRecord]:
        """Up to ``limit`` messages older than the (timestamp, id) key, returned oldest first.

        Includes outbox entries not yet acknowledged, with negative ids and status 'queued'.
        """
        raise NotImplementedError

    async def messages_by_id(self, ids: frozenset[int]) -> list[MessageRecord]:
        raise NotImplementedError

    async def outbox_entries(self, client_ids: frozenset[str]) -> list[MessageRecord]:
        """Pending outbox entries (negative ids) for these client ids; acknowledged ones absent."""
        raise NotImplementedError

    async def send_text(self, conversation_id: int, text: str) -> MessageRecord:
        """Write to the encrypted outbox (status 'queued') and return it; sending follows."""
        raise NotImplementedError
