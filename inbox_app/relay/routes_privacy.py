"""Admin API for data-protection rights and retention (privacy.py, retention.py).

``GET  /v1/admin/patients/{ident}/export``   Art. 15: everything held, as JSON
``POST /v1/admin/patients/{ident}/erase``    Art. 17: erase; desktops follow at next sync
``GET|POST /v1/admin/legal-holds``, ``POST /v1/admin/legal-holds/{id}/release``
``POST /v1/admin/retention/run``             purge now (also runs periodically)

``ident`` is a relay patient id or ``wa:<number>``. Every call is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import privacy, retention
from .access import Admin, ApiProblem, client_address

router = APIRouter(prefix="/v1/admin", tags=["admin"])
Ident = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^(\d{1,18}|wa:\+?\d{4,20})$")]


class HoldBody(BaseModel):
    patient_id: int | None = Field(default=None, ge=1)
    conversation_id: int | None = Field(default=None, ge=1)
    reason: str = Field(min_length=1, max_length=256)


@router.get("/patients/{ident}/export")
async def export_patient(request: Request, ident: Ident, admin: Admin) -> JSONResponse:
    db = request.app.state.relay.db
    try:
        data = await to_thread.run_sync(
            lambda: privacy.export(db, ident, user_id=admin.id, address=client_address(request))
        )
    except privacy.NoSuchPatient as exc:
        raise ApiProblem(404, "not_found", str(exc)) from None
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": 'attachment; filename="patient-export.json"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/patients/{ident}/erase")
async def erase_patient(request: Request, ident: Ident, admin: Admin) -> dict[str, Any]:
    relay = request.app.state.relay
    try:
        done = await to_thread.run_sync(
            lambda: privacy.erase(
                relay.db, ident, user_id=admin.id, address=client_address(request)
            )
        )
    except privacy.NoSuchPatient as exc:
        raise ApiProblem(404, "not_found", str(exc)) from None
    except privacy.UnderLegalHold as exc:
        raise ApiProblem(409, "legal_hold", str(exc)) from None
    relay.committed()  # live desktops receive patient.erased now
    return {"erased": asdict(done)}


@router.get("/legal-holds")
async def list_holds(request: Request, admin: Admin) -> dict[str, Any]:
    db = request.app.state.relay.db
    return {"holds": await to_thread.run_sync(retention.list_holds, db)}


@router.post("/legal-holds", status_code=201)
async def place_hold(request: Request, body: HoldBody, admin: Admin) -> dict[str, Any]:
    db = request.app.state.relay.db
    try:
        hold_id = await to_thread.run_sync(
            lambda: retention.place_hold(
                db,
                patient_id=body.patient_id,
                conversation_id=body.conversation_id,
                reason=body.reason,
                user_id=admin.id,
            )
        )
    except retention.RetentionError as exc:
        raise ApiProblem(422, "invalid_hold", str(exc)) from None
    return {"id": hold_id}


@router.post("/legal-holds/{hold_id}/release")
async def release_hold(
    request: Request, hold_id: Annotated[int, Path(ge=1, le=2**62)], admin: Admin
) -> dict[str, bool]:
    db = request.app.state.relay.db
    try:
        await to_thread.run_sync(lambda: retention.release_hold(db, hold_id, user_id=admin.id))
    except retention.RetentionError as exc:
        raise ApiProblem(404, "not_found", str(exc)) from None
    return {"ok": True}


@router.post("/retention/run")
async def run_retention(request: Request, admin: Admin) -> dict[str, Any]:
    relay = request.app.state.relay
    policy = relay.retention
    if not policy.active:
        raise ApiProblem(409, "no_retention", "No retention period is configured.")
    report = await to_thread.run_sync(
        lambda: retention.Retention(relay.db, policy).run(user_id=admin.id)
    )
    relay.committed()
    return {"purged": asdict(report)}
