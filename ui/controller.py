"""The inbox controller: the one QObject that calls the engine for the main window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast

from PySide6.QtCore import QCoreApplication, QObject, Signal
from qasync import asyncSlot as _asyncSlot

from inbox_app.client.engine import ChangeSummary, ConnectionState
from ui.bridge import EngineBridge
from ui.contract import InboxEngine
from ui.models import ConversationListModel, ThreadModel

log = logging.getLogger("inbox.ui.controller")

_P = ParamSpec("_P")
_R = TypeVar("_R")


def asyncSlot(
    *types: type,
) -> Callable[[Callable[_P, Coroutine[Any, Any, _R]]], Callable[_P, asyncio.Task[_R]]]:
    """qasync's ``asyncSlot`` with types for mypy (untyped upstream): calling it starts a task."""
    return cast(
        Callable[[Callable[_P, Coroutine[Any, Any, _R]]], Callable[_P, asyncio.Task[_R]]],
        _asyncSlot(*types),
    )


class InboxController(QObject):
    """Owns the models, applies change summaries to them, and sends from the composer.

    Async work runs in ``@asyncSlot`` methods of this QObject (qasync 0.28 breaks on free
    functions); widgets only connect to its signals.
    """

    connection_changed = Signal(str)
    conversation_opened = Signal(int)
    conversation_updated = Signal(int)
    send_failed = Signal(str, str)  # (text to give back to the composer, sentence for the user)
    error = Signal(str)

    def __init__(self, engine: InboxEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.conversation_model = ConversationListModel(self)
        self.thread_model = ThreadModel(engine, parent=self)
        self.bridge = EngineBridge(engine, self)
        self.bridge.changed.connect(self.apply_changes)
        # Summaries are applied one at a time so their awaits never interleave out of order.
        self._apply_lock = asyncio.Lock()

    @property
    def current_conversation_id(self) -> int | None:
        return self.thread_model.conversation_id

    @asyncSlot()
    async def load(self) -> None:
        """Fill the conversation list from the cache."""
        await self.load_conversations()

    async def load_conversations(self) -> None:
        """Awaitable form of :meth:`load`."""
        records = await self.engine.conversations()
        self.conversation_model.upsert(records)
        self.connection_changed.emit(str(self.engine.connection))

    @asyncSlot(int)
    async def open_conversation(self, conversation_id: int) -> None:
        """Show ``conversation_id`` in the thread view."""
        await self.open_conversation_now(conversation_id)

    async def open_conversation_now(self, conversation_id: int) -> None:
        """Awaitable form of :meth:`open_conversation`."""
        if conversation_id == self.thread_model.conversation_id:
            return
        await self.thread_model.load(conversation_id)
        if self.thread_model.conversation_id == conversation_id:
            self.conversation_opened.emit(conversation_id)

    @asyncSlot(str)
    async def send(self, text: str) -> None:
        """Queue ``text`` for the open conversation; the queued bubble shows at once."""
        await self.send_now(text)

    async def send_now(self, text: str) -> None:
        """Awaitable form of :meth:`send`."""
        cid = self.thread_model.conversation_id
        if cid is None or not text.strip():
            return
        try:
            record = await self.engine.send_text(cid, text)
        except Exception as exc:
            # The engine's faults (cache, validation) reach the user as a sentence.
            log.warning("queueing a message failed: %s", type(exc).__name__)
            self.send_failed.emit(
                text, self.tr("The message could not be queued. Please try again.")
            )
            return
        self.thread_model.upsert([record])

    @asyncSlot(object)
    async def apply_changes(self, summary: ChangeSummary) -> None:
        """Refresh exactly what ``summary`` names."""
        await self.apply_changes_now(summary)

    async def apply_changes_now(self, summary: ChangeSummary) -> None:
        """Awaitable form of :meth:`apply_changes`."""
        async with self._apply_lock:
            if summary.connection is not None:
                self.connection_changed.emit(str(summary.connection))
            if summary.conversation_ids:
                records = await self.engine.conversations_by_id(summary.conversation_ids)
                self.conversation_model.upsert(records)
                current = self.thread_model.conversation_id
                if current is not None and current in summary.conversation_ids:
                    self.conversation_updated.emit(current)
            if summary.message_ids and self.thread_model.conversation_id is not None:
                self.thread_model.upsert(await self.engine.messages_by_id(summary.message_ids))
            if summary.client_ids and self.thread_model.conversation_id is not None:
                self.thread_model.upsert(await self.engine.outbox_entries(summary.client_ids))


def connection_label(state: str) -> str:
    """The status bar text for a connection state."""
    labels = {
        ConnectionState.ONLINE.value: QCoreApplication.translate("InboxController", "Online"),
        ConnectionState.CONNECTING.value: QCoreApplication.translate(
            "InboxController", "Connecting…"
        ),
        ConnectionState.OFFLINE.value: QCoreApplication.translate("InboxController", "Offline"),
    }
    return labels.get(state, state)
