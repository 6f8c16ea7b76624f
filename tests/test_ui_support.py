"""Shared pieces for the UI tests: an in-memory fake engine and synthetic demo records.

The fake implements the async interface of ``inbox_app.client.engine.ClientEngine`` that
the UI consumes (see ``ui.contract.InboxEngine``); the end-to-end tests use the real one.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Callable
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from inbox_app.client.engine import ChangeSummary, ConnectionState, SignedInUser
from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus

NOW = 1_760_000_000.0  # a fixed "now" so times and windows render the same every run


class FakeEngine:
    """In-memory stand-in for ClientEngine, with helpers to play relay events."""

    def __init__(
        self,
        conversations: list[ConversationRecord] | None = None,
        messages: list[MessageRecord] | None = None,
        *,
        clock: Callable[[], float] = lambda: NOW,
    ) -> None:
        self.convs: dict[int, ConversationRecord] = {c.id: c for c in conversations or []}
        self.msgs: dict[int, MessageRecord] = {m.id: m for m in messages or []}
        self.outbox: dict[str, MessageRecord] = {}
        self.listeners: list[Callable[[ChangeSummary], None]] = []
        self.state = ConnectionState.ONLINE
        self.clock = clock
        self.sent: list[tuple[int, str]] = []
        self.fail_send = False
        self.message_calls: list[tuple[int, tuple[float, int] | None, int]] = []
        self._outbox_ids = itertools.count(-1, -1)
        self.started = False
        self.closed = False
        self.retried: list[str] = []

    # -- the interface the UI uses --
    async def sign_in(self, username: str, password: str) -> SignedInUser:
        await asyncio.sleep(0)
        if password != "demo-password":
            raise PermissionError("Invalid username or password.")
        return SignedInUser(
            id=1, username=username, display_name="Anna Empfang", role="receptionist"
        )

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    def add_listener(self, listener: Callable[[ChangeSummary], None]) -> None:
        self.listeners.append(listener)

    @property
    def connection(self) -> ConnectionState:
        return self.state

    async def conversations(self) -> list[ConversationRecord]:
        await asyncio.sleep(0)
        return sorted(self.convs.values(), key=lambda c: (-c.last_message_at, -c.id))

    async def conversations_by_id(self, ids: frozenset[int]) -> list[ConversationRecord]:
        await asyncio.sleep(0)
        return [self.convs[i] for i in ids if i in self.convs]

    async def messages(
        self, conversation_id: int, *, before: tuple[float, int] | None = None, limit: int = 50
    ) -> list[MessageRecord]:
        await asyncio.sleep(0)
        self.message_calls.append((conversation_id, before, limit))
        rows = [
            m
            for m in [*self.msgs.values(), *self.outbox.values()]
            if m.conversation_id == conversation_id
        ]
        rows.sort(key=lambda m: (m.timestamp, m.id))
        if before is not None:
            rows = [m for m in rows if (m.timestamp, m.id) < before]
        return rows[-limit:]

    async def messages_by_id(self, ids: frozenset[int]) -> list[MessageRecord]:
        await asyncio.sleep(0)
        return [self.msgs[i] for i in ids if i in self.msgs]

    async def outbox_entries(self, client_ids: frozenset[str]) -> list[MessageRecord]:
        await asyncio.sleep(0)
        return [self.outbox[c] for c in client_ids if c in self.outbox]

    async def send_text(self, conversation_id: int, text: str) -> MessageRecord:
        await asyncio.sleep(0)
        if self.fail_send:
            raise OSError("cache is locked")
        self.sent.append((conversation_id, text))
        client_id = str(uuid.uuid4())
        rec = MessageRecord(
            id=next(self._outbox_ids),
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND,
            type="text",
            text=text,
            status=MessageStatus.QUEUED,
            timestamp=self.clock(),
            client_id=client_id,
        )
        self.outbox[client_id] = rec
        return rec

    async def search(self, query: str, *, limit: int = 50) -> list[MessageRecord]:
        await asyncio.sleep(0)
        words = query.lower().split()
        hits = [m for m in self.msgs.values() if all(w in (m.text or "").lower() for w in words)]
        hits.sort(key=lambda m: (-m.timestamp, -m.id))
        return hits[:limit]

    async def retry_send(self, client_id: str) -> bool:
        await asyncio.sleep(0)
        self.retried.append(client_id)
        entry = self.outbox.get(client_id)
        if entry is None:
            return False
        self.outbox[client_id] = replace(entry, status=MessageStatus.QUEUED, error_title=None)
        return True

    # -- playing the relay --
    def emit(self, summary: ChangeSummary) -> None:
        for listener in self.listeners:
            listener(summary)

    def acknowledge(self, client_id: str, message_id: int, status: MessageStatus) -> MessageRecord:
        """The relay accepted an outbox entry: it becomes a real message."""
        entry = self.outbox.pop(client_id)
        rec = replace(entry, id=message_id, status=status, wamid=f"wamid.{message_id}")
        self.msgs[message_id] = rec
        self.emit(
            ChangeSummary(message_ids=frozenset({message_id}), client_ids=frozenset({client_id}))
        )
        return rec

    def set_status(self, message_id: int, status: MessageStatus) -> None:
        self.msgs[message_id] = replace(self.msgs[message_id], status=status)
        self.emit(ChangeSummary(message_ids=frozenset({message_id})))

    def receive(self, conversation_id: int, message_id: int, text: str, ts: float) -> None:
        """An inbound message arrives and bumps its conversation."""
        self.msgs[message_id] = MessageRecord(
            id=message_id,
            conversation_id=conversation_id,
            direction=Direction.INBOUND,
            type="text",
            text=text,
            status=MessageStatus.RECEIVED,
            timestamp=ts,
        )
        conv = self.convs[conversation_id]
        self.convs[conversation_id] = replace(
            conv,
            last_message_at=ts,
            last_message_preview=text,
            last_inbound_at=ts,
            unread=conv.unread + 1,
        )
        self.emit(
            ChangeSummary(
                conversation_ids=frozenset({conversation_id}), message_ids=frozenset({message_id})
            )
        )


def conversation(
    cid: int, name: str, at: float, preview: str = "", **kw: object
) -> ConversationRecord:
    return ConversationRecord(
        id=cid,
        wa_id=f"49151000000{cid:02d}",
        display_name=name,
        phone=f"+49 151 000000{cid:02d}",
        last_message_at=at,
        last_message_preview=preview or f"Nachricht {cid}",
        **kw,  # type: ignore[arg-type]
    )


def message(
    mid: int,
    cid: int,
    ts: float,
    text: str,
    *,
    out: bool = False,
    status: MessageStatus | None = None,
    client_id: str | None = None,
) -> MessageRecord:
    return MessageRecord(
        id=mid,
        conversation_id=cid,
        direction=Direction.OUTBOUND if out else Direction.INBOUND,
        type="text",
        text=text,
        status=status or (MessageStatus.READ if out else MessageStatus.RECEIVED),
        timestamp=ts,
        client_id=client_id,
    )


def demo_engine() -> FakeEngine:
    """Synthetic patients and a realistic morning at the front desk (no real people)."""
    h = 3600.0
    convs = [
        conversation(
            1,
            "Lena Hoffmann",
            NOW - 120,
            "Danke! Dann bis Donnerstag um 9:30.",
            last_inbound_at=NOW - 120,
            unread=2,
        ),
        conversation(
            2,
            "Murat Yılmaz",
            NOW - 25 * 60,
            "Können Sie mir das Rezept schicken?",
            last_inbound_at=NOW - 25 * 60,
            unread=1,
        ),
        conversation(
            3,
            "Familie Schneider",
            NOW - 2 * h,
            "Sie: Der Befund liegt bereit.",
            last_inbound_at=NOW - 9 * h,
        ),
        conversation(
            4,
            "Sophie Wagner",
            NOW - 5 * h,
            "Ich komme ca. 10 Minuten später",
            last_inbound_at=NOW - 5 * h,
        ),
        conversation(
            5,
            "Jonas Becker",
            NOW - 27 * h,
            "Sie: Ihre Überweisung ist fertig.",
            last_inbound_at=NOW - 30 * h,
        ),
        conversation(
            6,
            "Aylin Demir",
            NOW - 50 * h,
            "Vielen Dank für die schnelle Antwort!",
            last_inbound_at=NOW - 50 * h,
        ),
        conversation(
            7,
            "Peter Krause-Lindemann",
            NOW - 4 * 24 * h,
            "Ist die Praxis am Brückentag geöffnet?",
            last_inbound_at=NOW - 4 * 24 * h,
        ),
    ]
    m = 100
    thread: list[MessageRecord] = []

    def add(cid: int, ago: float, text: str, **kw: object) -> None:
        nonlocal m
        m += 1
        thread.append(message(m, cid, NOW - ago, text, **kw))  # type: ignore[arg-type]

    add(1, 40 * 60, "Guten Morgen! Ich bräuchte einen Termin zur Kontrolle meiner Blutwerte.")
    add(
        1,
        38 * 60,
        "Guten Morgen Frau Hoffmann, gern. Passt Ihnen Donnerstag um 9:30 Uhr?",
        out=True,
        status=MessageStatus.READ,
    )
    add(1, 30 * 60, "Donnerstag ist gut. Muss ich nüchtern kommen?")
    add(
        1,
        28 * 60,
        "Ja, bitte nüchtern kommen – Wasser und ungesüßter Tee sind in Ordnung. "
        "Bringen Sie bitte Ihre Versichertenkarte mit.",
        out=True,
        status=MessageStatus.READ,
    )
    add(1, 20 * 60, "Alles klar, danke.")
    add(
        1,
        12 * 60,
        "Wir haben Ihnen den Termin eingetragen: Donnerstag, 9:30 Uhr, Labor.",
        out=True,
        status=MessageStatus.DELIVERED,
    )
    add(1, 2 * 60, "Danke! Dann bis Donnerstag um 9:30.")
    add(1, 60, "Gern geschehen, einen schönen Tag!", out=True, status=MessageStatus.SENT)
    add(2, 26 * 60, "Hallo, können Sie mir das Rezept schicken?")
    add(3, 9 * h, "Ist der Befund von Lisa schon da?")
    add(3, 2 * h, "Der Befund liegt bereit.", out=True, status=MessageStatus.FAILED)
    for i in range(120):
        add(
            4,
            6 * h + (120 - i) * 60,
            f"Verlauf {i}",
            out=bool(i % 2),
            status=MessageStatus.READ if i % 2 else None,
        )
    add(4, 5 * h, "Ich komme ca. 10 Minuten später")
    return FakeEngine(convs, thread)


def run(loop: asyncio.AbstractEventLoop, coro: object, timeout: float = 5.0) -> object:
    """Run ``coro`` on the qasync loop with a timeout, so a hang fails instead of blocking."""
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


async def settle(seconds: float = 0.1) -> None:
    """Let timers, queued signals and async slots run."""
    await asyncio.sleep(seconds)
