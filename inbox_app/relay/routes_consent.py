"""Staff record a patient's consent per purpose (a signed form, or what the patient said):
``POST /v1/conversations/{id}/consent``. Each purpose becomes a ``consent`` feed event
(consent.py) and an audit row; withdrawing reminders cancels queued automated messages,
as the patient's own STOP does (optout.py)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.domain.roles import PATIENT_CONTENT_ROLES

from . import audit
from .access import ApiProblem, SignedIn, client_address, require_conversation
from .automation import Context
from .consent import Consents
from .db import conversations

router = APIRouter(prefix="/v1")

Id = Annotated[int, Path(ge=1, le=2**62)]


class ConsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purposes: list[Literal["care", "reminders", "results"]] = Field(min_length=1, max_length=3)
    granted: bool
    source: Literal["form", "staff"] = "staff"


@router.post("/conversations/{conversation_id}/consent")
async def record_consent(
    conversation_id: Id, body: ConsentBody, user: SignedIn, request: Request
) -> dict[str, Any]:
    if user.role not in PATIENT_CONTENT_ROLES:
        raise ApiProblem(403, "forbidden", "Your role may not record patients' consent.")
    await require_conversation(request, user, conversation_id)
    relay = request.app.state.relay
    address = client_address(request)

    def apply() -> list[dict[str, Any]]:
        now = time.time()
        with relay.db.write() as conn:
            wa_id = conn.execute(
                select(conversations.c.wa_id).where(conversations.c.id == conversation_id)
            ).scalar_one()
            purposes = [ConsentPurpose(p) for p in dict.fromkeys(body.purposes)]
            records = Consents(relay.store).record(
                conn,
                wa_id=wa_id,
                purposes=purposes,
                granted=body.granted,
                source=ConsentSource(body.source),
                at=now,
            )
            cancelled = 0
            if not body.granted and ConsentPurpose.REMINDERS in purposes:
                cancelled = Context(relay.store, conn, now).cancel_automated(
                    conversation_id, reason="Consent withdrawn"
                )
            audit.record(
                conn,
                audit.Action.CONSENT,
                user_id=user.id,
                conversation_id=conversation_id,
                detail={
                    "purposes": [p.value for p in purposes],
                    "granted": body.granted,
                    "source": body.source,
                    "cancelled": cancelled,
                },
                address=address,
                now=now,
            )
            return [r.to_json() for r in records]

    found = await to_thread.run_sync(apply)
    relay.committed()
    return {"consents": found}
