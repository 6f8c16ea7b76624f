"""Staff's handle on the bot: see where it is in a conversation, and stop it."""

from __future__ import annotations

import time
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES

from .. import audit
from ..access import ApiProblem, SignedIn, client_address, require_conversation
from ..db import Database
from . import handover
from .state import STOPPED, BotState, load, save, stop

router = APIRouter(prefix="/v1")


def _view(found: BotState | None) -> dict[str, Any]:
    if found is None:
        return {"flow": None, "step": None, "language": None, "ended_reason": None}
    return {
        "flow": found.flow,
        "step": found.step or None,
        "language": found.language,
        "ended_reason": found.ended_reason,
    }


@router.get("/conversations/{conversation_id}/bot")
async def bot_state(conversation_id: int, request: Request, user: SignedIn) -> dict[str, Any]:
    """Where the bot is in this conversation (flow null: it never spoke here)."""
    await require_conversation(request, user, conversation_id)
    db: Database = request.app.state.relay.db

    def read() -> dict[str, Any]:
        with db.read() as conn:
            return _view(load(conn, conversation_id))

    return await to_thread.run_sync(read)


@router.post("/conversations/{conversation_id}/bot/stop")
async def stop_bot(conversation_id: int, request: Request, user: SignedIn) -> dict[str, Any]:
    """Staff take over: the bot says nothing more in this conversation (idempotent)."""
    if user.role not in PATIENT_CONTENT_ROLES:
        raise ApiProblem(403, "forbidden", "Your role may not work on conversations.")
    await require_conversation(request, user, conversation_id)
    relay = request.app.state.relay
    address = client_address(request)

    def apply() -> dict[str, Any]:
        now = time.time()
        with relay.db.write() as conn:
            if load(conn, conversation_id) is None:
                # Before the bot ever spoke: it never will.
                save(
                    conn,
                    BotState(
                        conversation_id,
                        STOPPED,
                        "",
                        "de",
                        started_at=now,
                        ended_reason="stop_command",
                        is_new=True,
                    ),
                    now,
                )
                changed = True
            else:
                changed = stop(conn, conversation_id, "stop_command", now)
            if changed:
                audit.record(
                    conn,
                    handover.AUDIT_STOPPED,
                    user_id=user.id,
                    conversation_id=conversation_id,
                    detail={"reason": "stop_command"},
                    address=address,
                    now=now,
                )
            return _view(load(conn, conversation_id))

    return await to_thread.run_sync(apply)
