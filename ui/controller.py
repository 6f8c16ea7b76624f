"""The inbox controller: the one QObject that calls the engine for the main window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast

from PySide6.QtCore import QCoreApplication, QObject, Signal
from qasync import asyncSlot as _asyncSlot

from inbox_app.client.api import SECOND_FACTOR_CODES
from inbox_app.client.cache import is_outbox_id
from inbox_app.client.engine import ChangeSummary, ConnectionState
from inbox_app.domain.messages import MessageRecord
from ui.bridge import EngineBridge
from ui.contract import InboxEngine
from ui.models import ConversationListModel, ThreadModel
from ui.search import SearchHit

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
    # A conversation got new unread messages (its id); the window decides what to notify.
    new_inbound = Signal(int)
    search_finished = Signal(str, object)  # (query, list[SearchHit])
    jumped = Signal(int, int)  # (conversation id, row of the target message)
    # "locked", "unlocked", "wiped", "signed_out" (from engines that report their session)
    session_changed = Signal(str)
    # The relay wants the authenticator code to unlock / reconnect (the sentence to show).
    second_factor_needed = Signal(str)
    idle_timeout = Signal()

    def __init__(self, engine: InboxEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.conversation_model = ConversationListModel(self)
        self.thread_model = ThreadModel(engine, parent=self)
        self.bridge = EngineBridge(engine, self)
        self.bridge.changed.connect(self.apply_changes)
        # Summaries are applied one at a time so their awaits never interleave out of order.
        self._apply_lock = asyncio.Lock()
        self._search_generation = 0
        # Presence ("Ben is typing") when the engine offers it; absent engines just skip it.
        self.idle = _make_idle_lock(self.idle_timeout.emit) if self.supports("lock") else None
        add_presence = getattr(engine, "add_presence_listener", None)
        if callable(add_presence):
            add_presence(self._on_presence)

    def supports(self, operation: str) -> bool:
        """Whether the engine offers ``operation`` (newer engines add claim, resolve, lock…)."""
        return callable(getattr(self.engine, operation, None))

    def _on_presence(
        self, conversation_id: int, typing_name: str | None, viewing: list[str] | None = None
    ) -> None:
        # Who is only viewing is not painted on the row yet; typing is.
        self.conversation_model.set_presence(conversation_id, typing_name)

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
            await self._audit_opened(conversation_id, "list")

    async def _audit_opened(self, conversation_id: int, via: str) -> None:
        """Opening a conversation is a read the audit trail records (queued offline)."""
        opened = getattr(self.engine, "opened", None)
        if not callable(opened):
            return
        try:
            await opened(conversation_id, via=via)
        except Exception as exc:
            log.warning("recording an opened conversation failed: %s", type(exc).__name__)

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

    @asyncSlot(str)
    async def conversation_command(self, operation: str) -> None:
        """Run ``engine.<operation>(conversation_id)`` on the open conversation (claim,
        resolve, escalate …, as the engine adds them); failures reach the user as a sentence."""
        await self.conversation_command_now(operation)

    async def conversation_command_now(self, operation: str) -> None:
        """Awaitable form of :meth:`conversation_command`."""
        cid = self.thread_model.conversation_id
        command = getattr(self.engine, operation, None)
        if cid is None or not callable(command):
            return
        try:
            await command(cid)
        except Exception as exc:
            log.warning("%s failed: %s", operation, type(exc).__name__)
            self.error.emit(self.tr("That did not work. Please try again."))

    @asyncSlot()
    async def check_idle(self) -> None:
        """Lock when the user has been idle too long (a window timer calls this)."""
        if self.idle is not None:
            await self.idle.check()

    def touch(self) -> None:
        """User activity: the idle period starts again."""
        if self.idle is not None:
            self.idle.touch()

    @asyncSlot()
    async def lock_engine(self) -> None:
        """Lock the engine's cache when it supports that (the window shows the lock page)."""
        lock = getattr(self.engine, "lock", None)
        if callable(lock):
            try:
                await lock()
            except Exception as exc:
                log.warning("locking failed: %s", type(exc).__name__)

    @asyncSlot(str, object, str)
    async def unlock_engine(
        self, password: str, done: Callable[[bool, str], None], code: str = ""
    ) -> None:
        """Unlock with ``password`` (and the authenticator ``code`` once the relay asked for
        it); ``done(ok, sentence)`` reports the outcome."""
        await self.unlock_engine_now(password, done, code)

    async def unlock_engine_now(
        self, password: str, done: Callable[[bool, str], None], code: str = ""
    ) -> None:
        """Awaitable form of :meth:`unlock_engine`."""
        unlock = getattr(self.engine, "unlock", None)
        if not callable(unlock):
            done(
                False, self.tr("Unlocking needs a newer engine; restart the app to sign in again.")
            )
            return
        try:
            result = await (unlock(password, code=code) if code else unlock(password))
        except Exception as exc:
            log.warning("unlocking failed: %s", type(exc).__name__)
            reason = getattr(exc, "code", None)
            if reason in SECOND_FACTOR_CODES:
                sentence = (
                    self.tr(
                        "That code did not work (wrong, or used already). Enter the current one."
                    )
                    if reason == "totp_invalid"
                    else self.tr("Enter the code from your authenticator app as well.")
                )
                self.second_factor_needed.emit(sentence)
                done(False, sentence)
                return
            done(False, self.tr("That password did not unlock the inbox."))
            return
        if result is False:
            done(False, self.tr("That password did not unlock the inbox."))
        else:
            done(True, "")

    @asyncSlot(str)
    async def retry(self, client_id: str) -> None:
        """Queue a failed message again (one click on "Retry")."""
        await self.retry_now(client_id)

    async def retry_now(self, client_id: str) -> None:
        """Awaitable form of :meth:`retry`."""
        retry_send = getattr(self.engine, "retry_send", None)
        if not callable(retry_send):
            self.error.emit(self.tr("Retrying is not available in this version."))
            return
        try:
            await retry_send(client_id)
        except Exception as exc:
            log.warning("retrying a message failed: %s", type(exc).__name__)
            self.error.emit(self.tr("The message could not be queued again. Please try later."))
            return
        self.thread_model.upsert(await self.engine.outbox_entries(frozenset({client_id})))

    @asyncSlot(str)
    async def search(self, query: str) -> None:
        """Search the cached history; emits ``search_finished``."""
        await self.search_now(query)

    async def search_now(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Awaitable form of :meth:`search` (a newer query drops an older one's answer)."""
        self._search_generation += 1
        generation = self._search_generation
        hits: list[SearchHit] = []
        engine_search = getattr(self.engine, "search", None)
        if query.strip() and callable(engine_search):
            try:
                found: list[MessageRecord] = await engine_search(query, limit=limit)
            except Exception as exc:
                log.warning("search failed: %s", type(exc).__name__)
                found = []
            model = self.conversation_model
            for m in found:
                row = model.row_of_id(m.conversation_id)
                rec = None if row is None else model.record_at(row)
                name = rec.display_name if rec is not None else f"#{m.conversation_id}"
                hits.append(SearchHit(m, name))
        if generation == self._search_generation:
            self.search_finished.emit(query, hits)
        return hits

    @asyncSlot(object)
    async def jump_to(self, message: MessageRecord) -> None:
        """Open the message's conversation with a window around it; emits ``jumped``."""
        await self.jump_to_now(message)

    async def jump_to_now(self, message: MessageRecord) -> int | None:
        """Awaitable form of :meth:`jump_to`; returns the target's row."""
        row = await self.thread_model.load_around(message.conversation_id, message)
        if row is not None and self.thread_model.conversation_id == message.conversation_id:
            self.conversation_opened.emit(message.conversation_id)
            self.jumped.emit(message.conversation_id, row)
            await self._audit_opened(message.conversation_id, "search")
        return row

    @asyncSlot()
    async def show_latest(self) -> None:
        """Back to the newest page of the open conversation (after a jump)."""
        cid = self.thread_model.conversation_id
        if cid is not None:
            await self.thread_model.load(cid)
            self.conversation_opened.emit(cid)

    @asyncSlot(object)
    async def apply_changes(self, summary: ChangeSummary) -> None:
        """Refresh exactly what ``summary`` names."""
        await self.apply_changes_now(summary)

    async def apply_changes_now(self, summary: ChangeSummary) -> None:
        """Awaitable form of :meth:`apply_changes`."""
        async with self._apply_lock:
            if summary.connection is not None:
                self.connection_changed.emit(str(summary.connection))
            session = getattr(summary, "session", None)
            if session is not None:
                state = str(session)
                if state != "unlocked":
                    # The cache is closed: drop what the models hold, show nothing more.
                    self.thread_model.clear()
                    self.conversation_model.clear()
                    self.session_changed.emit(state)
                    return
                self.session_changed.emit(state)
                await self.load_conversations()
            if summary.conversation_ids:
                records = await self.engine.conversations_by_id(summary.conversation_ids)
                model = self.conversation_model
                grew = []
                for rec in records:
                    row = model.row_of_id(rec.id)
                    old = None if row is None else model.record_at(row)
                    if rec.unread > (old.unread if old is not None else 0):
                        grew.append(rec.id)
                model.upsert(records)
                # Named but no longer in the cache: erased or purged (retention_sync.py).
                gone = summary.conversation_ids - {rec.id for rec in records}
                if gone and model.remove_ids(gone) and self.thread_model.conversation_id in gone:
                    self.thread_model.clear()
                for cid in grew:
                    self.new_inbound.emit(cid)
                current = self.thread_model.conversation_id
                if current is not None and current in summary.conversation_ids:
                    self.conversation_updated.emit(current)
            if summary.message_ids and self.thread_model.conversation_id is not None:
                found = await self.engine.messages_by_id(summary.message_ids)
                self.thread_model.upsert(found)
                # Relay messages, notes and calls named but gone from the cache were purged
                # or erased. (Outbox rows are left alone: their relay copy replaces them.)
                named = {i for i in summary.message_ids if not is_outbox_id(i)}
                self.thread_model.remove_ids(named - {m.id for m in found})
            if summary.client_ids and self.thread_model.conversation_id is not None:
                self.thread_model.upsert(await self.engine.outbox_entries(summary.client_ids))


def _make_idle_lock(on_idle: Callable[[], None]) -> Any:
    """The engine's idle auto-lock, when this version has it (``inbox_app.client.idle``)."""
    try:
        from inbox_app.client.idle import IdleLock
    except ImportError:
        return None
    return IdleLock(on_idle)


def connection_label(state: str) -> str:
    """The status bar text for a connection state."""
    labels = {
        ConnectionState.ONLINE.value: QCoreApplication.translate("InboxController", "Online"),
        ConnectionState.CONNECTING.value: QCoreApplication.translate(
            "InboxController", "Connecting…"
        ),
        ConnectionState.OFFLINE.value: QCoreApplication.translate("InboxController", "Offline"),
        # Not an engine connection state: the window shows it while the session is locked.
        "locked": QCoreApplication.translate("InboxController", "Locked: sync paused"),
    }
    return labels.get(state, state)
