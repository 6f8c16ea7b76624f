"""The admin audit window's query: ``GET /v1/audit`` with filters (user, patient, action,
time), newest first, paged; an export through it is itself audited.

The whole-trail export and the chain check live in routes_admin.py
(``/v1/admin/audit``, ``/v1/admin/audit/verify``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, or_, select

from . import audit
from .access import Admin, ApiProblem, client_address
from .api_models import ErrorBody
from .audit import Action, AuditLog
from .db import Database, conversations, patients
from .db import audit as audit_table

router = APIRouter(prefix="/v1", tags=["audit"])

MAX_ROWS = 2000


class AuditRow(BaseModel):
    id: int
    at: str
    ts: float
    user_id: int | None
    username: str | None
    action: str
    conversation_id: int | None
    detail: dict[str, Any]
    address: str | None
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditRow]
    more: bool
    actions: list[str]


def _patient_conversations(conn: Any, needle: str) -> list[int]:
    """Conversations whose name or number, or whose linked patient's name, matches."""
    like = f"%{needle.lower()}%"
    wa_ids = select(patients.c.wa_id).where(
        or_(
            func.lower(patients.c.family_name + " " + patients.c.given_name).like(like),
            func.lower(patients.c.given_name + " " + patients.c.family_name).like(like),
            patients.c.record_number == needle,
        )
    )
    digits = "".join(c for c in needle if c.isdigit())
    conditions = [
        func.lower(conversations.c.display_name).like(like),
        conversations.c.wa_id.in_(wa_ids),
    ]
    if len(digits) >= 4:
        conditions.append(conversations.c.wa_id.like(f"%{digits}%"))
    found = conn.execute(select(conversations.c.id).where(or_(*conditions))).scalars()
    return [int(i) for i in found]


def _query(
    db: Database,
    *,
    user: str | None,
    patient: str | None,
    action: str | None,
    since: float | None,
    until: float | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], bool, list[str]]:
    query = select(audit_table)
    if user:
        query = query.where(audit_table.c.username == user)
    if action:
        query = query.where(audit_table.c.action == action)
    if since is not None:
        query = query.where(audit_table.c.at >= since)
    if until is not None:
        query = query.where(audit_table.c.at <= until)
    if before is not None:
        query = query.where(audit_table.c.id < before)
    with db.read() as conn:
        if patient:
            ids = _patient_conversations(conn, patient)
            query = query.where(audit_table.c.conversation_id.in_(ids or [-1]))
        rows = conn.execute(query.order_by(audit_table.c.id.desc()).limit(limit + 1)).all()
        actions = sorted(
            str(a) for a in conn.execute(select(audit_table.c.action).distinct()).scalars()
        )
    entries = [
        {
            "id": r.id,
            "at": audit._iso(r.at),
            "ts": r.at,
            "user_id": r.user_id,
            "username": r.username,
            "action": r.action,
            "conversation_id": r.conversation_id,
            "detail": json.loads(r.detail),
            "address": r.address,
            "hash": r.hash,
        }
        for r in rows[:limit]
    ]
    return entries, len(rows) > limit, actions


@router.get(
    "/audit",
    response_model=AuditPage,
    responses={403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def audit_page(
    request: Request,
    admin: Admin,
    user: Annotated[str | None, Query(max_length=64)] = None,
    patient: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 500,
    export: bool = False,
) -> dict[str, Any]:
    """Audit rows, newest first (``before`` = the last id seen, for the next page).
    ``patient`` matches a conversation's name or number or a linked patient's name or
    record number. ``export=true`` records the read as an export."""
    db: Database = request.app.state.relay.db
    try:
        since_ts = audit.parse_time(since) if since else None
        until_ts = audit.parse_time(until) if until else None
    except ValueError:
        raise ApiProblem(422, "invalid_request", "Times must be ISO 8601.") from None
    entries, more, actions = await to_thread.run_sync(
        lambda: _query(
            db,
            user=user,
            patient=(patient or "").strip() or None,
            action=action,
            since=since_ts,
            until=until_ts,
            before=before,
            limit=limit,
        )
    )
    if export:
        filters = {
            k: v
            for k, v in {"user": user, "action": action, "since": since, "until": until}.items()
            if v
        }
        # Never the patient filter's text (it may be a name): only that there was one.
        if patient:
            filters["patient"] = "set"
        await to_thread.run_sync(
            lambda: AuditLog(db).record(
                Action.EXPORT,
                user_id=admin.id,
                detail={"rows": len(entries), "via": "audit_view", "filters": filters},
                address=client_address(request),
            )
        )
    return {"entries": entries, "more": more, "actions": actions}
