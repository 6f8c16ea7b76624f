"""Calling API, signalling only (shared notes §6): call permissions and call actions.

``GET /{version}/{pnid}/call_permissions?user_wa_id=…`` and ``POST /{version}/{pnid}/calls``
with ``action`` connect / pre_accept / accept / reject / terminate. No audio: the SDP is
accepted as given. Permissions are granted through ``POST /_sim/call_permission``.
A ``connect`` rings the patient, who answers at once (RINGING, ACCEPTED and ``connect``
webhooks); the business's ``terminate`` ends it (``terminate`` with the duration).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from inbox_app.whatsapp.simulator.errors import GraphError, graph_headers
from inbox_app.whatsapp.simulator.inbound_calls import business_call, deliver_in_order
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.send_api import authorize

_VERSION = re.compile(r"v\d+\.\d+")
_PERMISSION_SECONDS = 7 * 24 * 3600


def _age(iso: str) -> float:
    """Seconds since a ``SentMessage.at`` time."""
    return time.time() - datetime.fromisoformat(iso).timestamp()


def build_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    settings = runtime.settings
    # wa_id -> permission expiry; call id -> state
    permissions: dict[str, float] = {}
    calls: dict[str, str] = {}
    # call id -> (patient wa_id, when it was answered) for the terminate webhook
    answered: dict[str, tuple[str, int]] = {}

    def webhooks(call_id: str, payloads: list[dict[str, Any]]) -> None:
        if settings.webhook_url:
            runtime.tasks.spawn(
                deliver_in_order(runtime, call_id, payloads), name=f"call {call_id}"
            )

    def check(version: str, phone_number_id: str, request: Request) -> None:
        if not _VERSION.fullmatch(version):
            raise GraphError.invalid_parameter(f"Unknown Graph API version '{version}'")
        authorize(request, settings.access_token)
        if phone_number_id != settings.phone_number_id:
            raise GraphError.invalid_parameter(f"Unknown phone number id '{phone_number_id}'")

    @router.post("/_sim/call_permission")
    async def grant(body: dict[str, Any]) -> dict[str, Any]:
        wa_id = str(body.get("wa_id", ""))
        if body.get("response", "accept") == "accept":
            permissions[wa_id] = time.time() + _PERMISSION_SECONDS
        else:
            permissions.pop(wa_id, None)
        return {"ok": True}

    @router.get("/{version}/{phone_number_id}/call_permissions")
    async def call_permissions(
        version: str, phone_number_id: str, request: Request, user_wa_id: str = ""
    ) -> JSONResponse:
        check(version, phone_number_id, request)
        if not user_wa_id:
            raise GraphError.invalid_parameter("Param user_wa_id is required")
        expires = permissions.get(user_wa_id)
        granted = expires is not None and expires > time.time()
        # Meta allows one call-permission request per user in 24 hours: count the ones sent.
        requests_sent = sum(
            1
            for m in runtime.store.sent
            if m.wa_id == user_wa_id
            and m.type == "interactive"
            and m.payload.get("interactive", {}).get("type") == "call_permission_request"
            and _age(m.at) < 24 * 3600
        )
        permission: dict[str, Any] = {"status": "temporary" if granted else "no_permission"}
        if granted:
            permission["expiration_time"] = int(expires or 0)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "permission": permission,
                "actions": [
                    {
                        "action_name": "send_call_permission_request",
                        "can_perform_action": not granted and requests_sent < 1,
                        "limits": [
                            {
                                "time_period": "PT24H",
                                "max_allowed": 1,
                                "current_usage": requests_sent,
                            }
                        ],
                    },
                    {
                        "action_name": "start_call",
                        "can_perform_action": granted,
                        "limits": [{"time_period": "PT24H", "max_allowed": 5, "current_usage": 0}],
                    },
                ],
            },
            headers=graph_headers(version),
        )

    @router.post("/{version}/{phone_number_id}/calls")
    async def call_action(version: str, phone_number_id: str, request: Request) -> JSONResponse:
        check(version, phone_number_id, request)
        body = await request.json()
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            raise GraphError.invalid_parameter("The parameter messaging_product is required")
        action = body.get("action")
        headers = graph_headers(version)
        if action == "connect":
            to = str(body.get("to", ""))
            session = body.get("session")
            if not isinstance(session, dict) or session.get("sdp_type") != "offer":
                raise GraphError.invalid_parameter("Param session must carry an SDP offer")
            expires = permissions.get(to)
            if expires is None or expires < time.time():
                raise GraphError(
                    http_status=400, code=138006, details="No approved call permission"
                )
            call_id = "wacid." + secrets.token_urlsafe(24)
            calls[call_id] = "ringing"
            rang = int(time.time())
            answered[call_id] = (to, rang)
            # Everything up to the hang-up; ``terminate`` below sends that.
            _, payloads = business_call(
                runtime,
                wa_id=to,
                name="WhatsApp User",
                duration=0,
                status="COMPLETED",
                call_id=call_id,
                start=rang,
            )
            webhooks(call_id, payloads[:-1])
            return JSONResponse(
                {"messaging_product": "whatsapp", "calls": [{"id": call_id}]}, headers=headers
            )
        if action in ("pre_accept", "accept", "reject", "terminate"):
            known = body.get("call_id")
            if not isinstance(known, str) or known not in calls:
                raise GraphError.invalid_parameter("Param call_id is not a known call")
            if action in ("pre_accept", "accept"):
                session = body.get("session")
                if not isinstance(session, dict) or session.get("sdp_type") != "answer":
                    raise GraphError.invalid_parameter("Param session must carry an SDP answer")
            calls[known] = action
            if action == "terminate" and known in answered:
                wa_id, rang = answered.pop(known)
                _, payloads = business_call(
                    runtime,
                    wa_id=wa_id,
                    name="WhatsApp User",
                    duration=max(0, int(time.time()) - rang - 1),
                    status="COMPLETED",
                    call_id=known,
                    start=rang,
                )
                webhooks(known, payloads[-1:])
            return JSONResponse({"messaging_product": "whatsapp", "success": True}, headers=headers)
        raise GraphError.invalid_parameter(
            "Param action must be connect, pre_accept, accept, reject or terminate"
        )

    return router
