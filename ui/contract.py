"""What the UI needs from the engine, as a Protocol.

``inbox_app.client.engine.ClientEngine`` satisfies it; tests pass in-memory fakes.

Optional operations the UI uses when an engine has them (looked up with ``getattr``, so
older engines and fakes keep working; the matching controls stay disabled otherwise):

- ``search(query, *, limit)`` → ``list[MessageRecord]``; ``retry_send(client_id)``
- ``lock()`` / ``unlock(password)`` (raises on a wrong password); ``ChangeSummary.session``
  tells the window when the session locked, unlocked or was wiped
- ``claim(conversation_id)``, ``resolve(…)``, ``escalate(…)``, ``add_note(…)``
- ``add_presence_listener(callback(conversation_id, typing_name | None, viewing))``
- the patient panel (ui/patient_panel.py): ``patients_for(wa_id)``,
  ``appointments_for(patient_id)``, ``consents_for(wa_id)``, ``search_patients(query)``;
  staff changes ``free_slots(type_code, *, clinician)`` → ``SlotOffer``,
  ``book_appointment(patient_id, *, type_code, clinician, start)`` (``SlotTakenError``
  with ``suggestions``), ``move_appointment(id, *, clinician, start, type_code)``,
  ``cancel_appointment(id)``, ``record_consent(conversation_id, purposes, *, granted,
  source)``, ``link_patient(conversation_id, patient_id)``, ``create_patient(**fields)``
- ``messages(…, after=(timestamp, id))`` is not used yet: after a search jump the window
  ends at the hit and "Jump to latest" reloads the newest page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from inbox_app.client.engine import ChangeSummary, ConnectionState, SignedInUser
from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.messages import MessageRecord


class InboxEngine(Protocol):
    def add_listener(self, listener: Callable[[ChangeSummary], None]) -> None: ...

    @property
    def connection(self) -> ConnectionState: ...

    async def conversations(self) -> list[ConversationRecord]: ...

    async def conversations_by_id(self, ids: frozenset[int]) -> list[ConversationRecord]: ...

    async def messages(
        self, conversation_id: int, *, before: tuple[float, int] | None = None, limit: int = 50
    ) -> list[MessageRecord]: ...

    async def messages_by_id(self, ids: frozenset[int]) -> list[MessageRecord]: ...

    async def outbox_entries(self, client_ids: frozenset[str]) -> list[MessageRecord]: ...

    async def send_text(self, conversation_id: int, text: str) -> MessageRecord: ...


class SessionEngine(InboxEngine, Protocol):
    """The engine as the app bootstrap uses it: sign in, start syncing, close."""

    async def sign_in(self, username: str, password: str) -> SignedInUser: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...
