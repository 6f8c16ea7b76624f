"""The simulator's own control API under ``/_sim`` (not Meta's): for tests and the demo."""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from inbox_app.whatsapp.simulator import inbound
from inbox_app.whatsapp.simulator.delivery_faults import DeliveryFaults
from inbox_app.whatsapp.simulator.inbound_calls import business_call, deliver_in_order, user_call
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.store import Fault


class InboundBody(BaseModel):
    """``POST /_sim/inbound``: a patient sends a text message."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # A phone number, or a business-scoped user id (WhatsApp usernames).
    from_: str = Field(alias="from", pattern=r"^(\+?\d{8,15}|[A-Z]{2}\.[0-9A-Za-z.]{1,64})$")
    name: str = Field(default="WhatsApp User", max_length=256)
    type: Literal["text", "image", "document", "audio", "video", "sticker"] = "text"
    text: str | None = Field(default=None, min_length=1, max_length=65536)
    # For media types: the bytes (base64), their MIME type, and the optional extras.
    data: str | None = Field(default=None, max_length=150_000_000)
    mime_type: str | None = Field(default=None, max_length=128)
    caption: str | None = Field(default=None, max_length=1024)
    filename: str | None = Field(default=None, max_length=256)
    voice: bool = False
    sha256: str | None = Field(default=None, max_length=128)
    wamid: str | None = Field(default=None, pattern=r"^wamid\.\S+$")
    reply_to: str | None = Field(default=None, pattern=r"^wamid\.\S+$")
    deliver: bool = True

    @model_validator(mode="after")
    def _complete(self) -> InboundBody:
        # Checked here, not in the route: bad input is a validation error (422) like any other.
        if self.type == "text" and self.text is None:
            raise ValueError("text is required")
        if self.type != "text":
            if self.data is None or self.mime_type is None:
                raise ValueError("data and mime_type are required")
            try:
                base64.b64decode(self.data, validate=True)
            except ValueError:
                raise ValueError("data must be base64") from None
        return self


class FaultBody(BaseModel):
    """``POST /_sim/faults``: make the next ``count`` sends fail (see ``store.Fault``)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["error", "failed_status", "delay", "reset"]
    code: int = 131000
    http_status: int = Field(default=400, ge=400, le=599)
    title: str | None = None
    details: str = "Injected by the simulator"
    seconds: float = Field(default=0.0, ge=0, le=300)
    count: int = Field(default=1, ge=1, le=1_000_000)


class TapBody(BaseModel):
    """``POST /_sim/tap``: the patient taps choice ``index`` (0-based) of the newest message
    sent to them that has buttons or a list (a template's quick replies included)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", pattern=r"^\+?\d{8,15}$")
    name: str = Field(default="WhatsApp User", max_length=256)
    index: int = Field(default=0, ge=0, le=9)
    kind: Literal["button", "button_reply", "list_reply"] | None = None


class DeliveryBody(BaseModel):
    """``POST /_sim/delivery``: how webhooks go out from now on (delivery_faults.py)."""

    model_config = ConfigDict(extra="forbid")

    shuffle_seconds: float = Field(default=0.0, ge=0, le=30)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    batch_size: int = Field(default=1, ge=1, le=100)
    batch_window: float = Field(default=0.05, ge=0, le=5)


class CallBody(BaseModel):
    """``POST /_sim/call``: a patient calls the practice (``connect``, then ``terminate``);
    with ``direction: "business"`` the practice's phone system calls the patient ``from``
    names (call statuses RINGING / ACCEPTED or REJECTED, ``connect``, ``terminate``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    direction: Literal["user", "business"] = "user"
    from_: str = Field(alias="from", pattern=r"^(\+?\d{8,15}|[A-Z]{2}\.[0-9A-Za-z.]{1,64})$")
    name: str = Field(default="WhatsApp User", max_length=256)
    duration: int = Field(default=0, ge=0, le=86_400)
    # How the call ended: answered and hung up, or not answered / rejected / failed.
    status: Literal["COMPLETED", "FAILED", "REJECTED", "NO_ANSWER"] = "COMPLETED"


class ExpireBody(BaseModel):
    """``POST /_sim/media/expire``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=1000)


def build_router(runtime: Runtime) -> APIRouter:
    """Control routes bound to one simulator."""
    router = APIRouter(prefix="/_sim")
    store = runtime.store

    @router.post("/inbound")
    async def post_inbound(body: InboundBody) -> dict[str, Any]:
        message: inbound.InboundText | inbound.InboundMedia
        if body.type == "text":
            assert body.text is not None  # InboundBody._complete
            message = inbound.InboundText(
                wa_id=body.from_.lstrip("+"),
                name=body.name,
                text=body.text,
                wamid=body.wamid,
                reply_to=body.reply_to,
            )
        else:
            assert body.data is not None and body.mime_type is not None  # InboundBody._complete
            data = base64.b64decode(body.data, validate=True)
            message = inbound.InboundMedia(
                wa_id=body.from_.lstrip("+"),
                name=body.name,
                kind=body.type,
                data=data,
                mime_type=body.mime_type,
                caption=body.caption or body.text,
                filename=body.filename,
                voice=body.voice,
                declared_sha256=body.sha256,
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

    @router.post("/tap")
    async def tap(body: TapBody) -> dict[str, Any]:
        from inbox_app.whatsapp.simulator.taps import tap_last

        reply = tap_last(runtime, body.from_.lstrip("+"), body.name, body.index, kind=body.kind)
        if reply is None:
            raise HTTPException(status_code=404, detail="no message with that many choices")
        if not runtime.settings.webhook_url:
            raise HTTPException(status_code=409, detail="no webhook_url configured")
        wamid, status = await inbound.post_first_attempt(runtime, reply)
        return {"wamid": wamid, "status": status, "reply_id": reply.reply_id, "kind": reply.kind}

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

    @router.post("/media/expire")
    async def expire_media_urls(body: ExpireBody) -> dict[str, Any]:
        """The next ``count`` media downloads answer 404, as an expired URL does."""
        runtime.media.expire_next_downloads += body.count
        return {"pending": runtime.media.expire_next_downloads}

    @router.get("/media")
    async def media_stats() -> dict[str, Any]:
        return {"files": len(runtime.media.items), "downloads": runtime.media.downloads}

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        store.reset()
        runtime.media.reset()
        return {"ok": True}

    @router.post("/call")
    async def call(body: CallBody) -> dict[str, Any]:
        if not runtime.settings.webhook_url:
            raise HTTPException(status_code=409, detail="no webhook_url configured")
        if body.direction == "business":
            call_id, payloads = business_call(
                runtime,
                wa_id=body.from_.lstrip("+"),
                name=body.name,
                duration=body.duration,
                status=body.status,
            )
            runtime.tasks.spawn(
                deliver_in_order(runtime, call_id, payloads), name=f"call {call_id}"
            )
            return {"call_id": call_id, "status": None}
        call_id, connect, terminate = user_call(
            runtime,
            wa_id=body.from_.lstrip("+"),
            name=body.name,
            duration=body.duration,
            status=body.status,
        )
        sender = runtime.sender
        record = sender.new_record("call", call_id, "connect")
        status = await sender.deliver_in_background_after_first(sender.encode(connect), record)
        # The hang-up follows in the background (retried like every webhook).
        runtime.tasks.spawn(
            _deliver(
                sender.deliver(
                    sender.encode(terminate), sender.new_record("call", call_id, "terminate")
                )
            ),
            name=f"call terminate {call_id}",
        )
        return {"call_id": call_id, "status": status}

    @router.post("/delivery")
    async def set_delivery(body: DeliveryBody) -> dict[str, Any]:
        store.delivery = DeliveryFaults(**body.model_dump())
        return store.delivery.to_json()

    @router.get("/delivery")
    async def get_delivery() -> dict[str, Any]:
        return store.delivery.to_json()

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "background_tasks": runtime.tasks.active}

    return router


async def _deliver(delivery: Awaitable[bool]) -> None:
    await delivery
