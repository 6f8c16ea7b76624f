"""HTTP routes for escalations and calling patients back (escalations.py, calls.py)."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from inbox_app.domain.escalations import MAX_NOTE, MAX_REASON, CallOutcome, Priority
from inbox_app.whatsapp.graph import GraphError, GraphUnavailable

from .access import SignedIn, client_address, require_conversation
from .api_models import ErrorBody
from .calls import CallPermission, Calls
from .escalations import Escalations

log = logging.getLogger("inbox.relay.escalations")
router = APIRouter(prefix="/v1", tags=["escalations"])

EntityId = Annotated[int, Path(ge=1, le=2**62)]
Ref = Annotated[int, Field(ge=1, le=2**62)]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


class Command(BaseModel):
    client_id: UUID


class CreateBody(Command):
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    priority: Priority = Priority.URGENT
    # Unix seconds; omitted: the priority's default (15 min, 2 h, 24 h).
    due_at: float | None = Field(default=None, ge=0, le=1e11)
    # To one clinician, or a team; neither: every clinician.
    assignee_id: Ref | None = None
    team_id: Ref | None = None
    patient_id: Ref | None = None


class ReassignBody(Command):
    assignee_id: Ref | None = None
    team_id: Ref | None = None


class ResolveBody(Command):
    resolution: str | None = Field(default=None, max_length=MAX_REASON)


class CallBody(Command):
    mode: Literal["auto", "whatsapp", "tel", "video"] = "auto"
    language: Literal["de", "en"] = "de"


class OutcomeBody(Command):
    outcome: CallOutcome
    note: str | None = Field(default=None, max_length=MAX_NOTE)
    callback_at: float | None = Field(default=None, ge=0, le=1e11)


class EscalationState(BaseModel):
    """An escalation as the feed carries it (the ``escalation`` event's data)."""

    model_config = ConfigDict(extra="allow")

    id: int
    conversation_id: int
    reason: str
    priority: str
    due_at: float
    state: str
    created_at: float


class EscalationResult(BaseModel):
    escalation: EscalationState


class EscalationList(BaseModel):
    escalations: list[EscalationState]


class CallState(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    conversation_id: int
    kind: str
    created_at: float


class CallResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    call: CallState
    mode: str | None = None
    phone: str | None = None
    tel: str | None = None
    # How a video-visit link went: "text" in the 24-hour window, else "template".
    via: str | None = None
    # WhatsApp calling: the patient allows calls already ({"status": "granted", "expires_at"}).
    permission: dict[str, Any] | None = None


def _escalations(request: Request) -> Escalations:
    relay = request.app.state.relay
    return Escalations(relay.db, relay.store)


async def _run(request: Request, fn: Any, *args: Any, **kw: Any) -> dict[str, Any]:
    relay = request.app.state.relay
    result: dict[str, Any] = await to_thread.run_sync(
        lambda: fn(*args, address=client_address(request), **kw)
    )
    relay.committed()
    if relay.worker is not None:
        relay.worker.wake()  # a call-permission request or video link waits in the outbox
    return result


@router.post(
    "/conversations/{conversation_id}/escalations",
    status_code=201,
    response_model=EscalationResult,
    responses=ERRORS,
)
async def create_escalation(
    request: Request, conversation_id: EntityId, body: CreateBody, user: SignedIn
) -> dict[str, Any]:
    """Escalate the conversation (any staff member who may see it)."""
    await require_conversation(request, user, conversation_id)
    return await _run(
        request,
        _escalations(request).create,
        user,
        conversation_id,
        str(body.client_id),
        reason=body.reason,
        priority=body.priority,
        due_at=body.due_at,
        assignee_id=body.assignee_id,
        team_id=body.team_id,
        patient_id=body.patient_id,
    )


@router.get(
    "/conversations/{conversation_id}/escalations",
    response_model=EscalationList,
    responses=ERRORS,
)
async def conversation_escalations(
    request: Request, conversation_id: EntityId, user: SignedIn
) -> dict[str, Any]:
    await require_conversation(request, user, conversation_id)
    esc = _escalations(request)
    found = await to_thread.run_sync(lambda: esc.listing(user, conversation_id=conversation_id))
    return {"escalations": found}


@router.get("/escalations", response_model=EscalationList, responses=ERRORS)
async def list_escalations(
    request: Request,
    user: SignedIn,
    state: Annotated[list[Literal["open", "acknowledged", "resolved"]] | None, Query()] = None,
) -> dict[str, Any]:
    """The caller's queue: for clinicians the escalations to them, their teams or everyone;
    for other staff those of conversations they see."""
    esc = _escalations(request)
    states = tuple(state or ())
    found = await to_thread.run_sync(lambda: esc.listing(user, states=states))
    return {"escalations": found}


@router.post(
    "/escalations/{escalation_id}/acknowledge", response_model=EscalationResult, responses=ERRORS
)
async def acknowledge(
    request: Request, escalation_id: EntityId, body: Command, user: SignedIn
) -> dict[str, Any]:
    """Take the escalation (clinicians)."""
    return await _run(
        request, _escalations(request).acknowledge, user, escalation_id, str(body.client_id)
    )


@router.post(
    "/escalations/{escalation_id}/reassign", response_model=EscalationResult, responses=ERRORS
)
async def reassign(
    request: Request, escalation_id: EntityId, body: ReassignBody, user: SignedIn
) -> dict[str, Any]:
    """Hand it to another clinician, a team, or (both null) every clinician."""
    return await _run(
        request,
        _escalations(request).reassign,
        user,
        escalation_id,
        str(body.client_id),
        assignee_id=body.assignee_id,
        team_id=body.team_id,
    )


@router.post(
    "/escalations/{escalation_id}/resolve", response_model=EscalationResult, responses=ERRORS
)
async def resolve(
    request: Request, escalation_id: EntityId, body: ResolveBody, user: SignedIn
) -> dict[str, Any]:
    return await _run(
        request,
        _escalations(request).resolve,
        user,
        escalation_id,
        str(body.client_id),
        resolution=body.resolution,
    )


@router.post(
    "/escalations/{escalation_id}/call",
    status_code=201,
    response_model=CallResult,
    responses=ERRORS,
)
async def call_patient(
    request: Request, escalation_id: EntityId, body: CallBody, user: SignedIn
) -> JSONResponse:
    """Call the patient back: a WhatsApp call-permission request where calling is set up,
    else the number for ``tel:`` (or, with ``mode=video``, the video-visit link)."""
    relay = request.app.state.relay
    calls = Calls(_escalations(request), relay.settings)
    permission = None
    if relay.settings.whatsapp_calling and body.mode in ("auto", "whatsapp") and relay.graph:
        wa_id = await to_thread.run_sync(
            lambda: calls.wa_id_of(user, escalation_id, address=client_address(request))
        )
        try:
            permission = CallPermission.from_graph(await relay.graph.call_permission(wa_id))
        except (GraphError, GraphUnavailable) as exc:
            # Unknown: ask the patient, as without the check (Meta refuses a second ask).
            log.warning("call permission check failed (%s)", type(exc).__name__)
    result = await _run(
        request,
        calls.request,
        user,
        escalation_id,
        str(body.client_id),
        mode=body.mode,
        language=body.language,
        permission=permission,
    )
    return JSONResponse(result, status_code=201)


@router.post(
    "/escalations/{escalation_id}/call-outcome",
    status_code=201,
    response_model=CallResult,
    responses=ERRORS,
)
async def call_outcome(
    request: Request, escalation_id: EntityId, body: OutcomeBody, user: SignedIn
) -> JSONResponse:
    """Log how the call went; shown in the thread and audited."""
    relay = request.app.state.relay
    calls = Calls(_escalations(request), relay.settings)
    result = await _run(
        request,
        calls.outcome,
        user,
        escalation_id,
        str(body.client_id),
        outcome=body.outcome,
        note=body.note,
        callback_at=body.callback_at,
    )
    return JSONResponse(result, status_code=201)
