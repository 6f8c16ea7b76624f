"""Meta's send endpoint: ``POST /{version}/{phone_number_id}/messages``."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from inbox_app.whatsapp.simulator.errors import GraphError, graph_headers
from inbox_app.whatsapp.simulator.ids import is_bsuid, new_wamid
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.statuses import play_statuses
from inbox_app.whatsapp.simulator.store import Fault, MarkedRead, SentMessage
from inbox_app.whatsapp.simulator.validation import MarkReadRequest, parse_request

logger = logging.getLogger("inbox.whatsapp.simulator")

_VERSION = re.compile(r"v\d+\.\d+")
_WINDOW = 24 * 3600.0  # the customer-service window


def authorize(request: Request, access_token: str) -> None:
    """401/104 without a token, 401/190 with a wrong one; Graph also takes ``?access_token=``."""
    token: str | None = None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
    elif request.query_params.get("access_token"):
        token = request.query_params["access_token"]
    if token is None:
        raise GraphError(
            http_status=401,
            code=104,
            details="An access token is required to request this resource.",
        )
    if not hmac.compare_digest(token.encode(), access_token.encode()):
        raise GraphError(
            http_status=401,
            code=190,
            details="Invalid OAuth access token - Cannot parse access token",
        )


class _ConnectionCut(Exception):
    """Raised mid-answer so the server drops the connection (fault ``reset``)."""


class _CutOff(JSONResponse):
    """Starts the answer, then fails: the client sees the connection drop after acceptance."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": self.body[:5], "more_body": True})
        raise _ConnectionCut("injected connection reset")


def build_router(runtime: Runtime) -> APIRouter:
    """Routes that imitate the Graph API for one phone number."""
    router = APIRouter()
    settings = runtime.settings

    @router.post("/{version}/{phone_number_id}/messages")
    async def send_message(version: str, phone_number_id: str, request: Request) -> JSONResponse:
        if not _VERSION.fullmatch(version):
            raise GraphError.invalid_parameter(f"Unknown Graph API version '{version}'")
        authorize(request, settings.access_token)
        if phone_number_id != settings.phone_number_id:
            raise GraphError(
                http_status=400,
                code=100,
                subcode=33,
                title="Unsupported post request",
                details=(
                    f"Object with ID '{phone_number_id}' does not exist, cannot be loaded due"
                    " to missing permissions, or does not support this operation"
                ),
            )
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise GraphError.invalid_parameter("The request body is not valid JSON") from None
        parsed = parse_request(body)
        headers = graph_headers(version)
        if isinstance(parsed, MarkReadRequest):
            runtime.store.marked_read.append(
                MarkedRead(message_id=parsed.message_id, typing=parsed.typing)
            )
            return JSONResponse({"success": True}, headers=headers)

        if parsed.type == "template":
            # Imported here: templates_api imports this module for ``authorize``.
            from inbox_app.whatsapp.simulator.templates_api import check_template_send

            check_template_send(runtime, parsed.payload["template"])
        limited = runtime.store.rate_limited(
            parsed.wa_id,
            throughput=settings.throughput_limit,
            pair_gap=settings.pair_gap,
            now=time.monotonic(),
        )
        if limited is not None:
            raise GraphError(http_status=400, code=limited, details="Rate limit exceeded")
        fault = runtime.store.take_fault()
        if fault is not None and fault.kind == "error":
            logger.info("injected error %d for a send", fault.code)
            raise GraphError(
                http_status=fault.http_status,
                code=fault.code,
                title=fault.title,
                details=fault.details,
            )
        failure = fault if fault is not None and fault.kind == "failed_status" else None
        if failure is None and parsed.wa_id in settings.undeliverable:
            failure = Fault(kind="failed_status", code=131026, details="Message undeliverable.")
        if (
            failure is None
            and settings.enforce_window
            and parsed.type != "template"
            and time.time() - runtime.store.last_inbound.get(parsed.wa_id, 0.0) > _WINDOW
        ):
            failure = Fault(
                kind="failed_status",
                code=131047,
                details="Message failed to send because more than 24 hours have passed since"
                " the customer last replied to this number.",
            )
        wamid = new_wamid(parsed.wa_id, inbound=False)
        message = SentMessage(
            wamid=wamid, to=parsed.to, wa_id=parsed.wa_id, type=parsed.type, payload=parsed.payload
        )
        runtime.store.sent.append(message)
        logger.info("accepted %s send %s", parsed.type, wamid)
        runtime.tasks.spawn(
            play_statuses(
                runtime,
                message,
                opaque=parsed.biz_opaque_callback_data,
                failure=failure,
            ),
            name=f"statuses {wamid}",
        )
        answer: dict[str, object] = {
            "messaging_product": "whatsapp",
            # Only one of wa_id / user_id: a BSUID send learns no phone number.
            "contacts": [
                {"input": parsed.to, "user_id" if is_bsuid(parsed.wa_id) else "wa_id": parsed.wa_id}
            ],
            "messages": [
                {"id": wamid, "message_status": "accepted"}
                if parsed.type == "template"
                else {"id": wamid}
            ],
        }
        if fault is not None and fault.kind == "delay":
            # Accepted but answered late: the caller's timeout fires after Meta took it.
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "reset":
            return _CutOff(answer, headers=headers)
        return JSONResponse(answer, headers=headers)

    return router
