"""HTTP routes around sending: read receipts, typing, one-click retry, templates; and the
preparation of a send (``prepare_send``) used by ``POST /v1/conversations/{id}/messages``."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Path, Request
from sqlalchemy import Connection, select, update

from inbox_app.domain.messages import MessageStatus
from inbox_app.domain.roles import PATIENT_CONTENT_ROLES
from inbox_app.whatsapp.graph import GraphError, GraphUnavailable

from .access import ApiProblem, SignedIn, require_conversation
from .db import conversations, media, messages, outbox
from .media import default_media_dir
from .outgoing import Invalid, Prepared, SendBody, prepare
from .templates import SYNC_INTERVAL, TemplateCache, TemplateProblem, sync_templates, waba_id
from .vault import Vault

log = logging.getLogger("inbox.relay.send")

Id = Annotated[int, Path(ge=1, le=2**62)]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    relay = app.state.relay
    app.state.templates = TemplateCache(relay.db)
    task: asyncio.Task[None] | None = None
    waba = waba_id()
    if relay.graph is not None and waba:
        task = asyncio.create_task(_sync_periodically(app, waba), name="template-sync")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass


async def _sync_periodically(app: FastAPI, waba: str) -> None:
    relay = app.state.relay
    failures = 0
    while True:
        try:
            await sync_templates(app.state.templates, relay.graph, waba)
            failures = 0
        except (GraphError, GraphUnavailable) as exc:
            failures += 1
            if failures > 3:
                log.warning("template sync failed: %s", type(exc).__name__)
        # Soon again after a failure (e.g. Graph not reachable yet at start-up).
        await asyncio.sleep(min(SYNC_INTERVAL, 0.5 * 2**failures) if failures else SYNC_INTERVAL)


router = APIRouter(prefix="/v1", lifespan=_lifespan)


# -- preparing a send --------------------------------------------------------------------


@dataclass(slots=True)
class SendPlan:
    prepared: Prepared
    reply_to: str | None
    on_insert: Callable[[Connection, int], None] | None
    cleanup: Callable[[], None]


def _message_wamid(request: Request, conversation_id: int, message_id: int) -> str:
    with request.app.state.relay.db.read() as conn:
        row = conn.execute(
            select(messages.c.wamid).where(
                messages.c.id == message_id, messages.c.conversation_id == conversation_id
            )
        ).one_or_none()
    if row is None or not row.wamid:
        raise Invalid("The message replied or reacted to is not (yet) on WhatsApp.")
    return str(row.wamid)


def _save_outgoing_file(request: Request, data: bytes) -> FsPath:
    relay = request.app.state.relay
    folder = default_media_dir(relay.settings.database_url)
    # Sealed under the server key like received media (vault.py).
    vault: Vault = relay.db.vault
    return vault.write(folder / f"out-{secrets.token_hex(12)}", data, temp_prefix=".outgoing-")


def _plan(request: Request, conversation_id: int, body: SendBody) -> SendPlan:
    prepared = prepare(body)
    reply_to = _message_wamid(request, conversation_id, body.reply_to) if body.reply_to else None
    on_insert: Callable[[Connection, int], None] | None = None
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if prepared.type == "reaction":
        assert prepared.target_id is not None
        target_id = prepared.target_id
        target = _message_wamid(request, conversation_id, target_id)
        prepared.details["reaction"]["target_wamid"] = target
        emoji = prepared.details["reaction"]["emoji"]
        store = request.app.state.relay.store

        def on_insert(conn: Connection, _message_id: int) -> None:
            # The clinic's reaction shows on the message it belongs to.
            current = conn.execute(
                select(messages.c.reactions).where(messages.c.id == target_id)
            ).scalar_one()
            reactions = json.loads(current) if current else {}
            reactions["clinic"] = {"emoji": emoji or None, "at": time.time()}
            conn.execute(
                update(messages)
                .where(messages.c.id == target_id)
                .values(reactions=json.dumps(reactions, separators=(",", ":")))
            )
            store._emit_message(conn, target_id)

    elif prepared.type == "template":
        choice = body.template
        assert choice is not None
        cache: TemplateCache = request.app.state.templates
        template = cache.get(choice.name, choice.language)
        if template is None or template.status != "APPROVED":
            raise Invalid(f"No approved template '{choice.name}' in '{choice.language}'.")
        try:
            prepared.details["template"] = template.graph_payload(
                header=choice.header,
                body=choice.body,
                buttons={b.index: b.values for b in choice.buttons},
            )
        except TemplateProblem as exc:
            raise Invalid(str(exc)) from None
        prepared.text = template.render(choice.body)
    elif prepared.file is not None:
        path = _save_outgoing_file(request, prepared.file)
        info = prepared.details["media"]
        size = len(prepared.file)
        prepared.file = None

        def on_insert(conn: Connection, message_id: int) -> None:
            conn.execute(
                media.insert().values(
                    message_id=message_id,
                    media_id=None,  # set once uploaded to WhatsApp
                    kind=info["kind"],
                    mime_type=info["mime_type"],
                    filename=info["filename"],
                    size=size,
                    state="ready",
                    attempts=0,
                    next_attempt_at=time.time(),
                    path=str(path),
                    updated_at=time.time(),
                )
            )

        def cleanup() -> None:
            path.unlink(missing_ok=True)

    return SendPlan(prepared, reply_to, on_insert, cleanup)


async def prepare_send(request: Request, conversation_id: int, body: SendBody) -> SendPlan:
    """Check a send before it is queued: 422 with a clear reason if WhatsApp would refuse."""
    try:
        return await to_thread.run_sync(lambda: _plan(request, conversation_id, body))
    except Invalid as exc:
        raise ApiProblem(422, "invalid_message", str(exc)) from None


# -- read receipts and typing --------------------------------------------------------------


def _last_inbound_wamid(request: Request, conversation_id: int) -> str | None:
    with request.app.state.relay.db.read() as conn:
        wamid: str | None = conn.execute(
            select(messages.c.wamid)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.direction == "in",
                messages.c.wamid.is_not(None),
            )
            .order_by(messages.c.timestamp.desc(), messages.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return wamid


def _mark_read(request: Request, conversation_id: int) -> bool:
    relay = request.app.state.relay
    with relay.db.write() as conn:
        changed = conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.unread != 0)
            .values(unread=0)
        ).rowcount
        if changed:
            relay.store._emit_conversation(conn, conversation_id)
    return bool(changed)


async def _tell_whatsapp(request: Request, conversation_id: int, *, typing: bool) -> bool:
    """Blue ticks (and typing) for the patient's last message; best effort, never blocks."""
    graph = request.app.state.relay.graph
    if graph is None:
        return False
    wamid = await to_thread.run_sync(lambda: _last_inbound_wamid(request, conversation_id))
    if wamid is None:
        return False
    try:
        await graph.mark_read(wamid, typing=typing)
    except (GraphError, GraphUnavailable) as exc:
        log.info("conversation %d: read mark not sent (%s)", conversation_id, type(exc).__name__)
        return False
    return True


def _staff(user: Any) -> None:
    if user.role not in PATIENT_CONTENT_ROLES:
        raise ApiProblem(403, "forbidden", "Your role may not write to patients.")


@router.post("/conversations/{conversation_id}/read")
async def mark_read(request: Request, conversation_id: Id, user: SignedIn) -> dict[str, Any]:
    """Staff opened the conversation: unread = 0, and the patient sees blue ticks."""
    await require_conversation(request, user, conversation_id)
    if await to_thread.run_sync(lambda: _mark_read(request, conversation_id)):
        request.app.state.relay.committed()
    sent = await _tell_whatsapp(request, conversation_id, typing=False)
    return {"ok": True, "whatsapp": sent}


@router.post("/conversations/{conversation_id}/typing")
async def typing(request: Request, conversation_id: Id, user: SignedIn) -> dict[str, Any]:
    """Show "typing…" to the patient (WhatsApp shows it up to 25 s or until we send)."""
    _staff(user)
    await require_conversation(request, user, conversation_id)
    sent = await _tell_whatsapp(request, conversation_id, typing=True)
    return {"ok": True, "whatsapp": sent}


# -- retry -------------------------------------------------------------------------------


def _retry(request: Request, message_id: int) -> int | None:
    relay = request.app.state.relay
    now = time.time()
    with relay.db.write() as conn:
        row = conn.execute(
            select(messages.c.conversation_id, messages.c.status, messages.c.direction).where(
                messages.c.id == message_id
            )
        ).one_or_none()
        if row is None or row.direction != "out":
            return None
        if row.status not in (MessageStatus.FAILED.value, MessageStatus.NEEDS_REVIEW.value):
            return -1
        conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status=MessageStatus.QUEUED.value, error_code=None, error_title=None)
        )
        updated = conn.execute(
            update(outbox)
            .where(outbox.c.message_id == message_id)
            .values(state="pending", attempts=0, next_attempt_at=now, last_error=None)
        )
        if updated.rowcount == 0:
            conn.execute(
                outbox.insert().values(
                    message_id=message_id, state="pending", attempts=0, next_attempt_at=now
                )
            )
        relay.store._emit_message(conn, message_id)
        return int(row.conversation_id)


def _conversation_of(request: Request, message_id: int) -> int | None:
    with request.app.state.relay.db.read() as conn:
        found = conn.execute(
            select(messages.c.conversation_id).where(messages.c.id == message_id)
        ).scalar_one_or_none()
        return int(found) if found is not None else None


@router.post("/messages/{message_id}/retry", status_code=202)
async def retry(request: Request, message_id: Id, user: SignedIn) -> dict[str, Any]:
    """Send a failed (or needs-review) message again, with one action."""
    _staff(user)
    conversation_id = await to_thread.run_sync(lambda: _conversation_of(request, message_id))
    if conversation_id is None:
        raise ApiProblem(404, "not_found", "No such message.")
    try:
        await require_conversation(request, user, conversation_id)
    except ApiProblem:
        raise ApiProblem(404, "not_found", "No such message.") from None
    outcome = await to_thread.run_sync(lambda: _retry(request, message_id))
    if outcome is None:
        raise ApiProblem(404, "not_found", "No such message.")
    if outcome == -1:
        raise ApiProblem(409, "not_failed", "Only a failed message can be sent again.")
    relay = request.app.state.relay
    relay.committed()
    if relay.worker is not None:
        relay.worker.wake()
    return {"ok": True}


# -- templates ---------------------------------------------------------------------------


@router.get("/templates")
async def list_templates(request: Request, user: SignedIn) -> dict[str, Any]:
    """Approved templates only: the ones staff may send outside the 24-hour window."""
    _staff(user)
    cache: TemplateCache = request.app.state.templates
    found = await to_thread.run_sync(cache.approved)
    return {"templates": [t.to_json() for t in found]}


@router.post("/templates/sync")
async def sync_now(request: Request, user: SignedIn) -> dict[str, Any]:
    relay = request.app.state.relay
    waba = waba_id()
    if relay.graph is None or not waba:
        raise ApiProblem(409, "not_configured", "Set WHATSAPP_WABA_ID to sync templates.")
    try:
        count = await sync_templates(request.app.state.templates, relay.graph, waba)
    except (GraphError, GraphUnavailable):
        raise ApiProblem(502, "whatsapp_unavailable", "WhatsApp could not be reached.") from None
    return {"ok": True, "templates": count}
