"""Reads a desktop reports for the audit trail: searches (which run offline on the desktop's
encrypted cache), conversations opened, exports. Never the query text or any content: the
kind, a count, conversation ids. Reports may arrive late (queued while offline); each is
recorded once per client id.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from . import audit
from .access import NOT_FOUND_MESSAGE, ApiProblem, SignedIn, check_conversation, client_address
from .api_models import ErrorBody
from .audit import Action
from .auth import StaffUser
from .db import Database, read_reports
from .feed import visible_conversation_ids

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_IDS = 50
# A desktop offline for days still reports its reads; older than this is not believable.
MAX_REPORT_AGE = 90 * 86400.0

ConversationRef = Annotated[int, Field(ge=1, le=2**62)]


class ReadReport(BaseModel):
    client_id: UUID
    kind: Literal["search", "opened", "export"]
    # When the read happened on the desktop (Unix seconds); defaults to arrival.
    at: float | None = Field(default=None, ge=0, le=1e11)
    results: int | None = Field(default=None, ge=0, le=1_000_000)
    conversation_ids: list[ConversationRef] = Field(default_factory=list, max_length=MAX_IDS)
    # How an opened conversation was reached: from the list or from a search result.
    via: Literal["list", "search", "notification"] = "list"


class ReadRecorded(BaseModel):
    ok: bool
    duplicate: bool


def _record(
    db: Database, user: StaffUser, body: ReadReport, address: str | None
) -> dict[str, bool]:
    now = time.time()
    at = body.at if body.at is not None and now - MAX_REPORT_AGE <= body.at <= now + 300 else now
    ids = list(dict.fromkeys(body.conversation_ids))
    client_id = str(body.client_id)
    with db.write() as conn:
        seen = conn.execute(
            select(read_reports.c.user_id).where(read_reports.c.client_id == client_id)
        ).first()
        if seen is not None:
            return {"ok": True, "duplicate": True}
        conn.execute(read_reports.insert().values(client_id=client_id, user_id=user.id, at=now))
        common: dict[str, Any] = {"user_id": user.id, "address": address, "now": now}
        late = {"reported_late_s": round(now - at)} if now - at > 60 else {}
        if body.kind == "search":
            audit.record(
                conn,
                Action.SEARCH,
                detail={"results": body.results, "conversation_ids": ids, **late},
                **common,
            )
        elif body.kind == "export":
            audit.record(
                conn,
                Action.EXPORT,
                detail={"rows": body.results, "via": "desktop", "conversation_ids": ids, **late},
                **common,
            )
        else:
            for conversation_id in ids:
                audit.record(
                    conn,
                    Action.OPENED,
                    conversation_id=conversation_id,
                    detail={"via": body.via, **late},
                    **common,
                )
    return {"ok": True, "duplicate": False}


@router.post(
    "/reads",
    response_model=ReadRecorded,
    responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def report_read(request: Request, body: ReadReport, user: SignedIn) -> dict[str, bool]:
    """Record a read done on the desktop: ``search`` (``results`` = hit count,
    ``conversation_ids`` = conversations opened from the hits), ``opened`` (one row per
    conversation), ``export``. Conversations the caller may not see answer 404 like
    missing ones (audited as refused)."""
    if body.kind == "opened" and not body.conversation_ids:
        raise ApiProblem(422, "invalid_request", "Name the conversation(s) opened.")
    db: Database = request.app.state.relay.db
    address = client_address(request)
    wanted = set(body.conversation_ids)
    allowed = await to_thread.run_sync(visible_conversation_ids, db, user, wanted)
    hidden = sorted(wanted - allowed)
    if hidden:

        def refuse() -> None:
            for conversation_id in hidden:  # each refusal audited, as on every route
                check_conversation(db, user, conversation_id, address=address)

        await to_thread.run_sync(refuse)
        raise ApiProblem(404, "not_found", NOT_FOUND_MESSAGE)
    return await to_thread.run_sync(_record, db, user, body, address)
