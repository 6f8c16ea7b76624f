"""HTTP routes for working together: conversation commands, opening, presence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES

from . import audit
from .access import ApiProblem, SignedIn, client_address, require_conversation
from .audit import Action
from .commands import STATUSES, Commands
from .feed import visible_conversation_ids
from .pgnotify import PgListener, notify_presence
from .presence import PresenceHub

log = logging.getLogger("inbox.relay.routes")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Presence for this process; on PostgreSQL, listen for other relays' commits."""
    relay = app.state.relay
    hub: PresenceHub = relay.presence
    loop = asyncio.get_running_loop()
    listener: PgListener | None = None
    if not relay.db.is_sqlite:

        def remote_presence(payload: dict[str, Any]) -> None:
            if payload.get("origin") == hub.origin:
                return

            def apply() -> None:
                hub.update(
                    conversation_id=int(payload["conversation_id"]),
                    user_id=int(payload["user_id"]),
                    display_name=str(payload["display_name"]),
                    state=str(payload["state"]),
                    expires_at=float(payload["expires_at"]),
                )
                relay.notifier.notify()

            loop.call_soon_threadsafe(apply)

        listener = PgListener(
            relay.db.url, on_feed=relay.notifier.notify, on_presence=remote_presence
        )
        await to_thread.run_sync(listener.start)
    try:
        yield
    finally:
        if listener is not None:
            await to_thread.run_sync(listener.stop)


router = APIRouter(prefix="/v1", tags=["conversations"], lifespan=_lifespan)

ConversationId = Annotated[int, Path(ge=1, le=2**62)]


class Command(BaseModel):
    """Every command carries the client's id for it: a retry changes nothing."""

    client_id: UUID


class AssignBody(Command):
    user_id: int | None = Field(default=None, ge=1, le=2**62)
    team_id: int | None = Field(default=None, ge=1, le=2**62)


class StatusBody(Command):
    status: Literal["open", "pending", "snoozed", "resolved"]
    snoozed_until: float | None = Field(default=None, ge=0, le=1e11)


class LabelsBody(Command):
    labels: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(max_length=20)


class NoteBody(Command):
    text: str = Field(min_length=1, max_length=4096)


class ConversationState(BaseModel):
    """A conversation as the feed carries it (the ``conversation`` event's data)."""

    model_config = ConfigDict(extra="allow")

    id: int
    status: str
    team_id: int | None
    assignee_id: int | None
    claimed_by: int | None
    claimed_by_name: str | None
    claim_expires_at: float | None
    snoozed_until: float | None
    labels: list[str]


class Note(BaseModel):
    id: int
    conversation_id: int
    author_id: int
    author_name: str
    text: str
    mentions: list[int]
    created_at: float


class CommandResult(BaseModel):
    conversation: ConversationState
    note: Note | None = None


class Ok(BaseModel):
    ok: bool


class PresenceBody(BaseModel):
    conversation_id: int = Field(ge=1, le=2**62)
    state: Literal["viewing", "typing", "idle"]


class PresenceEntry(BaseModel):
    conversation_id: int
    user_id: int
    display_name: str
    state: str
    expires_at: float


class PresenceList(BaseModel):
    presence: list[PresenceEntry]


def _commands(request: Request) -> Commands:
    relay = request.app.state.relay
    return Commands(relay.db, relay.store)


async def _command(request: Request, fn: Any, *args: Any, **kw: Any) -> dict[str, Any]:
    result: dict[str, Any] = await to_thread.run_sync(
        lambda: fn(*args, address=client_address(request), **kw)
    )
    request.app.state.relay.committed()
    return result


async def _authorised(request: Request, user: SignedIn, conversation_id: int) -> Commands:
    if user.role not in PATIENT_CONTENT_ROLES:
        raise ApiProblem(403, "forbidden", "Your role may not work on conversations.")
    await require_conversation(request, user, conversation_id)
    return _commands(request)


@router.post("/conversations/{conversation_id}/claim", response_model=CommandResult)
async def claim(
    request: Request, conversation_id: ConversationId, body: Command, user: SignedIn
) -> dict[str, Any]:
    """Claim the conversation (a lease of 10 minutes, renewed by the holder's activity)."""
    cmds = await _authorised(request, user, conversation_id)
    return await _command(request, cmds.claim, user, conversation_id, str(body.client_id))


@router.post("/conversations/{conversation_id}/release", response_model=CommandResult)
async def release(
    request: Request, conversation_id: ConversationId, body: Command, user: SignedIn
) -> dict[str, Any]:
    cmds = await _authorised(request, user, conversation_id)
    return await _command(request, cmds.release, user, conversation_id, str(body.client_id))


@router.post("/conversations/{conversation_id}/takeover", response_model=CommandResult)
async def takeover(
    request: Request, conversation_id: ConversationId, body: Command, user: SignedIn
) -> dict[str, Any]:
    """Take the claim from whoever holds it (explicit and audited)."""
    cmds = await _authorised(request, user, conversation_id)
    return await _command(request, cmds.takeover, user, conversation_id, str(body.client_id))


@router.post("/conversations/{conversation_id}/assign", response_model=CommandResult)
async def assign(
    request: Request, conversation_id: ConversationId, body: AssignBody, user: SignedIn
) -> dict[str, Any]:
    """Assign to a person and/or a team (null clears)."""
    cmds = await _authorised(request, user, conversation_id)
    return await _command(
        request,
        cmds.assign,
        user,
        conversation_id,
        str(body.client_id),
        assignee_id=body.user_id,
        team_id=body.team_id,
    )


@router.post("/conversations/{conversation_id}/status", response_model=CommandResult)
async def set_status(
    request: Request, conversation_id: ConversationId, body: StatusBody, user: SignedIn
) -> dict[str, Any]:
    assert body.status in STATUSES
    cmds = await _authorised(request, user, conversation_id)
    return await _command(
        request,
        cmds.status,
        user,
        conversation_id,
        str(body.client_id),
        status=body.status,
        snoozed_until=body.snoozed_until,
    )


@router.post("/conversations/{conversation_id}/labels", response_model=CommandResult)
async def set_labels(
    request: Request, conversation_id: ConversationId, body: LabelsBody, user: SignedIn
) -> dict[str, Any]:
    """Replace the conversation's labels."""
    cmds = await _authorised(request, user, conversation_id)
    return await _command(
        request, cmds.labels, user, conversation_id, str(body.client_id), labels=body.labels
    )


@router.post("/conversations/{conversation_id}/notes", response_model=CommandResult)
async def add_note(
    request: Request, conversation_id: ConversationId, body: NoteBody, user: SignedIn
) -> dict[str, Any]:
    """An internal note; ``@username`` mentions notify colleagues who may see it."""
    text = body.text.strip()
    if not text:
        raise ApiProblem(422, "invalid_request", "The note is empty.")
    cmds = await _authorised(request, user, conversation_id)
    return await _command(request, cmds.note, user, conversation_id, str(body.client_id), text=text)


@router.post("/conversations/{conversation_id}/opened", response_model=Ok)
async def opened(request: Request, conversation_id: ConversationId, user: SignedIn) -> Ok:
    """The client shows the conversation to its user: recorded in the audit trail."""
    await _authorised(request, user, conversation_id)
    relay = request.app.state.relay
    await to_thread.run_sync(
        lambda: audit.AuditLog(relay.db).record(
            Action.OPENED,
            user_id=user.id,
            conversation_id=conversation_id,
            address=client_address(request),
        )
    )
    return Ok(ok=True)


@router.post("/presence", response_model=Ok)
async def post_presence(request: Request, body: PresenceBody, user: SignedIn) -> Ok:
    """Viewing, typing or idle in a conversation: fanned out live, never stored."""
    await _authorised(request, user, body.conversation_id)
    relay = request.app.state.relay
    entry = relay.presence.update(
        conversation_id=body.conversation_id,
        user_id=user.id,
        display_name=user.display_name,
        state=body.state,
    )
    relay.notifier.notify()
    if not relay.db.is_sqlite:
        payload = {**entry.to_json(), "origin": relay.presence.origin}

        def broadcast() -> None:
            with relay.db.writer.begin() as conn:
                notify_presence(conn, payload)

        await to_thread.run_sync(broadcast)
    return Ok(ok=True)


@router.get("/presence", response_model=PresenceList)
async def get_presence(request: Request, user: SignedIn) -> dict[str, Any]:
    """Who is viewing or typing now, in conversations the caller may see."""
    relay = request.app.state.relay
    entries = relay.presence.current()
    allowed = await to_thread.run_sync(
        visible_conversation_ids, relay.db, user, {e.conversation_id for e in entries}
    )
    return {"presence": [e.to_json() for e in entries if e.conversation_id in allowed]}
