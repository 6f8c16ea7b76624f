"""In-memory records of what the simulator accepted and delivered, for the control API."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from inbox_app.whatsapp.simulator.delivery_faults import DeliveryFaults
from inbox_app.whatsapp.simulator.ids import new_conversation_id

WebhookKind = Literal["message", "status", "call"]
FaultKind = Literal["error", "failed_status", "delay", "reset"]


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class SentMessage:
    """One accepted send and the statuses emitted for it so far."""

    wamid: str
    to: str
    wa_id: str
    type: str
    payload: dict[str, Any]
    at: str = field(default_factory=_iso_now)
    statuses: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Shape served by ``GET /_sim/sent``."""
        return {
            "wamid": self.wamid,
            "to": self.to,
            "wa_id": self.wa_id,
            "type": self.type,
            "payload": self.payload,
            "statuses": list(self.statuses),
            "at": self.at,
        }


@dataclass
class WebhookRecord:
    """One webhook the simulator tried to deliver (bodies are not kept: they hold text)."""

    kind: WebhookKind
    wamid: str
    status: str | None = None  # the message status for kind "status"
    attempts: int = 0
    last_status: int | None = None  # HTTP status of the last attempt; None: no answer
    last_error: str | None = None  # exception class name when the last attempt got no answer
    delivered: bool = False
    gave_up: bool = False
    redelivered: int = 0  # extra copies posted after success (delivery fault "duplicate")

    def to_json(self) -> dict[str, Any]:
        """Shape served by ``GET /_sim/webhooks``."""
        return {
            "kind": self.kind,
            "wamid": self.wamid,
            "status": self.status,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "delivered": self.delivered,
            "gave_up": self.gave_up,
            "redelivered": self.redelivered,
        }


@dataclass
class Fault:
    """A failure to inject into the next ``count`` sends (for outbox tests).

    ``error``: answer the send with an HTTP error; ``failed_status``: accept it, then
    deliver a ``failed`` status; ``delay``: accept it but answer after ``seconds``
    (a timeout after the request left, the ambiguous case); ``reset``: accept it, then
    drop the connection in the middle of the answer (also ambiguous).
    """

    kind: FaultKind
    code: int = 131000
    http_status: int = 400
    title: str | None = None
    details: str = "Injected by the simulator"
    seconds: float = 0.0
    count: int = 1


@dataclass
class MarkedRead:
    """A mark-as-read (optionally with typing indicator) call."""

    message_id: str
    typing: bool
    at: str = field(default_factory=_iso_now)

    def to_json(self) -> dict[str, Any]:
        """Shape served by ``GET /_sim/marked_read``."""
        return {"message_id": self.message_id, "typing": self.typing, "at": self.at}


class SimulatorStore:
    """All records of one simulator; lives on the event loop, so no locking."""

    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.webhooks: list[WebhookRecord] = []
        self.marked_read: list[MarkedRead] = []
        self._faults: deque[Fault] = deque()
        self._conversations: dict[str, str] = {}
        self.last_inbound: dict[str, float] = {}  # wa_id -> when the user last wrote
        self._recent_sends: deque[float] = deque()
        self._last_send_to: dict[str, float] = {}
        # How webhooks go out: tidy by default; shuffled, doubled, batched on request.
        self.delivery = DeliveryFaults()

    def reset(self) -> None:
        """Forget everything (tasks already running keep their own references)."""
        self.sent.clear()
        self.webhooks.clear()
        self.marked_read.clear()
        self._faults.clear()
        self._conversations.clear()
        self.last_inbound.clear()
        self._recent_sends.clear()
        self._last_send_to.clear()
        self.delivery = DeliveryFaults()

    def conversation_id(self, wa_id: str) -> str:
        """Stable conversation id per recipient, as in status webhooks."""
        if wa_id not in self._conversations:
            self._conversations[wa_id] = new_conversation_id()
        return self._conversations[wa_id]

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; faults are used up in the order they were added."""
        self._faults.append(fault)

    def take_fault(self) -> Fault | None:
        """The fault that applies to the next send, if any (uses one of its ``count``)."""
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.count -= 1
        if fault.count <= 0:
            self._faults.popleft()
        return fault

    def pending_faults(self) -> int:
        """How many sends will still be affected by queued faults."""
        return sum(f.count for f in self._faults)

    def rate_limited(
        self, wa_id: str, *, throughput: float | None, pair_gap: float | None, now: float
    ) -> int | None:
        """130429 or 131056 if this send exceeds a configured limit, else None (counted)."""
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        if throughput is not None and len(self._recent_sends) >= throughput:
            return 130429
        last = self._last_send_to.get(wa_id)
        if pair_gap is not None and last is not None and now - last < pair_gap:
            return 131056
        self._recent_sends.append(now)
        self._last_send_to[wa_id] = now
        return None
