"""What the composer's modes ask of the engine: templates, internal notes, scheduled sends,
the staff directory, the patient context for variables, and mention notifications.

Beside ``InboxController`` (same engine, same thread model), so the controller stays as it
is; every engine operation here is optional (looked up with ``getattr``) and a missing one
leaves its control disabled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from inbox_app.client.cache import note_id_of
from inbox_app.client.engine import ChangeSummary
from inbox_app.domain.messages import MessageRecord
from ui.controller import InboxController, asyncSlot
from ui.quick_replies import record_values

log = logging.getLogger("inbox.ui.compose")

# Notes older than this (a catch-up after a day offline) do not pop up as notifications.
MENTION_FRESH_SECONDS = 15 * 60


def relay_sentence(exc: Exception) -> str | None:
    """The relay's own sentence for a refusal (422/409 carry one meant for staff)."""
    status = getattr(exc, "status", None)
    message = getattr(exc, "message", None)
    if isinstance(status, int) and 400 <= status < 500 and isinstance(message, str):
        return message
    return None


class ComposeActions(QObject):
    templates_loaded = Signal(list)  # list[dict] as the relay lists them
    directory_loaded = Signal(dict)  # {"users": [...], "teams": [...]}
    context_loaded = Signal(int, dict)  # (conversation id, variable values)
    # A colleague mentioned the user in a note (conversation id); no patient data.
    mentioned = Signal(int)
    failed = Signal(str)  # a sentence for the status bar
    # (text to give back to the composer, sentence): a note or schedule did not go through
    give_back = Signal(str, str)

    def __init__(
        self,
        controller: InboxController,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self.controller = controller
        self.engine = controller.engine
        self.user_id: int | None = None
        self._notified: set[int] = set()
        controller.bridge.changed.connect(self.on_changes)

    def supports(self, operation: str) -> bool:
        return self.controller.supports(operation)

    def _op(self, name: str) -> Callable[..., Any] | None:
        op = getattr(self.engine, name, None)
        return op if callable(op) else None

    # -- loading -----------------------------------------------------------------------

    @asyncSlot()
    async def load(self) -> None:
        """Templates and the directory (each when the engine offers it)."""
        await self.load_now()

    async def load_now(self) -> None:
        for name, signal in (
            ("templates", self.templates_loaded),
            ("directory", self.directory_loaded),
        ):
            op = self._op(name)
            if op is None:
                continue
            try:
                signal.emit(await op())
            except Exception as exc:  # offline without a stored copy: controls stay empty
                log.info("%s not loaded: %s", name, type(exc).__name__)

    @asyncSlot(int)
    async def load_context(self, conversation_id: int) -> None:
        await self.load_context_now(conversation_id)

    async def load_context_now(self, conversation_id: int) -> dict[str, str]:
        """Variable values from the patient register for this conversation's number."""
        values: dict[str, str] = {}
        patients_for = self._op("patients_for")
        appointments_for = self._op("appointments_for")
        row = self.controller.conversation_model.row_of_id(conversation_id)
        rec = None if row is None else self.controller.conversation_model.record_at(row)
        if rec is not None and patients_for is not None:
            try:
                patients = await patients_for(rec.wa_id)
                patient = patients[0] if patients else None
                appointment = None
                if patient is not None and appointments_for is not None:
                    now = self._clock()
                    upcoming = [a for a in await appointments_for(patient.id) if a.start > now]
                    appointment = upcoming[0] if upcoming else None
                values = record_values(patient, appointment)
            except Exception as exc:
                log.info("patient context not loaded: %s", type(exc).__name__)
        self.context_loaded.emit(conversation_id, values)
        return values

    # -- sending -----------------------------------------------------------------------

    @asyncSlot(str, str, object, object, object)
    async def send_template(
        self, name: str, language: str, body: object, header: object, buttons: object
    ) -> None:
        await self.send_template_now(name, language, body, header, buttons)

    async def send_template_now(
        self, name: str, language: str, body: object, header: object, buttons: object
    ) -> MessageRecord | None:
        cid = self.controller.current_conversation_id
        op = self._op("send_template")
        if cid is None or op is None:
            return None
        try:
            record: MessageRecord = await op(
                cid, name, language, body, header=header, buttons=buttons
            )
        except Exception as exc:
            log.warning("template send failed: %s", type(exc).__name__)
            self.failed.emit(
                relay_sentence(exc)
                or self.tr("The template could not be sent. Check the connection and try again.")
            )
            return None
        self.controller.thread_model.upsert([record])
        return record

    @asyncSlot(str)
    async def add_note(self, text: str) -> None:
        await self.add_note_now(text)

    async def add_note_now(self, text: str) -> MessageRecord | None:
        cid = self.controller.current_conversation_id
        op = self._op("add_note")
        if cid is None or op is None or not text.strip():
            return None
        try:
            record: MessageRecord = await op(cid, text)
        except Exception as exc:
            log.warning("adding a note failed: %s", type(exc).__name__)
            self.give_back.emit(
                text,
                relay_sentence(exc)
                or self.tr("The note could not be saved: it needs a connection. Try again."),
            )
            return None
        self.controller.thread_model.upsert([record])
        return record

    @asyncSlot(str, float)
    async def schedule(self, text: str, send_at: float) -> None:
        await self.schedule_now(text, send_at)

    async def schedule_now(self, text: str, send_at: float) -> MessageRecord | None:
        cid = self.controller.current_conversation_id
        op = self._op("schedule_text")
        if cid is None or op is None or not text.strip():
            return None
        try:
            record: MessageRecord = await op(cid, text, send_at)
        except Exception as exc:
            log.warning("scheduling failed: %s", type(exc).__name__)
            self.give_back.emit(
                text,
                relay_sentence(exc)
                or self.tr("The message could not be scheduled: it needs a connection."),
            )
            return None
        self.controller.thread_model.upsert([record])
        return record

    @asyncSlot(int)
    async def cancel_scheduled(self, message_id: int) -> None:
        await self.cancel_scheduled_now(message_id)

    async def cancel_scheduled_now(self, message_id: int) -> MessageRecord | None:
        op = self._op("cancel_scheduled")
        if op is None:
            return None
        try:
            record: MessageRecord = await op(message_id)
        except Exception as exc:
            log.warning("cancelling failed: %s", type(exc).__name__)
            self.failed.emit(
                relay_sentence(exc) or self.tr("The scheduled message could not be cancelled.")
            )
            return None
        self.controller.thread_model.upsert([record])
        return record

    # -- mentions ----------------------------------------------------------------------

    @asyncSlot(object)
    async def on_changes(self, summary: ChangeSummary) -> None:
        await self.on_changes_now(summary)

    async def on_changes_now(self, summary: ChangeSummary) -> list[int]:
        """Emit ``mentioned`` for fresh notes that mention the user; returns their ids."""
        details_of = self._op("note_details")
        if details_of is None or self.user_id is None:
            return []
        found: list[int] = []
        for message_id in sorted(summary.message_ids):
            if note_id_of(message_id) is None or message_id in self._notified:
                continue
            try:
                note = await details_of(message_id)
            except Exception as exc:
                log.info("note not read: %s", type(exc).__name__)
                continue
            if not isinstance(note, dict):
                continue
            mentions = note.get("mentions") or []
            fresh = float(note.get("created_at") or 0) > time.time() - MENTION_FRESH_SECONDS
            if self.user_id in mentions and note.get("author_id") != self.user_id and fresh:
                self._notified.add(message_id)
                found.append(message_id)
                self.mentioned.emit(int(note["conversation_id"]))
        return found
