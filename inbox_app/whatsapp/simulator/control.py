"""The simulator's own control API under ``/_sim`` (not Meta's): for tests and the demo."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from inbox_app.whatsapp.simulator import inbound
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.store import Fault


class InboundBody(BaseModel):
    """``POST /_sim/inbound``: a patient sends a text message."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", pattern=r"^\+?\d{8,15}$")
    name: str = Field(default="WhatsApp User", max_length=256)
    type: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=65536)
    wamid: str | None = Field(default=None, pattern=r"^wamid\.\S+$")
    reply_to: str | None = Field(default=None, pattern=r"^wamid\.\S+$")
    deliver: bool = True


class FaultBody(BaseModel):
    """``POST /_sim/faults``: make the next ``count`` sends fail (see ``store.Fault``)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["error", "failed_status", "delay"]
    code: int = 131000
    http_status: int = Field(default=400, ge=400, le=599)
    title: str | None = None
    details: str = "Injected by the simulator"
    seconds: float = Field(default=0.0, ge=0, le=300)
    count: int = Field(default=1, ge=1, le=1_000_000)


def build_router(runtime: Runtime) -> APIRouter:
    """Control routes bound to one simulator."""
    router = APIRouter(prefix="/_sim")
    store = runtime.store

    @router.post("/inbound")
    async def post_inbound(body: InboundBody) -> dict[str, Any]:
        message = inbound.InboundText(
            wa_id=body.from_.lstrip("+"),
            name=body.name,
            text=body.text,
            wamid=body.wamid,
            reply_to=body.reply_to,
        )
        if not body.deliver:
            wamid, signed = inbound.build(runtime, message)
            return {
                "wamid": wamid,
                "body": signed.body.decode("ascii"),
                "signature": signed.signature,
            }
        if not runtime.settings.webhook_url:
            raise HTTPException(status_code=409, detail="no webhook_url configured")
        wamid, status = await inbound.post_first_attempt(runtime, message)
        return {"wamid": wamid, "status": status}

    @router.get("/sent")
    async def sent() -> dict[str, Any]:
        return {"messages": [m.to_json() for m in store.sent]}

    @router.get("/webhooks")
    async def webhooks() -> dict[str, Any]:
        return {"webhooks": [w.to_json() for w in store.webhooks]}

    @router.get("/marked_read")
    async def marked_read() -> dict[str, Any]:
        return {"marked_read": [m.to_json() for m in store.marked_read]}

    @router.post("/faults")
    async def add_fault(body: FaultBody) -> dict[str, Any]:
        store.add_fault(Fault(**body.model_dump()))
        return {"pending": store.pending_faults()}

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        store.reset()
        return {"ok": True}

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "background_tasks": runtime.tasks.active}

    return router
