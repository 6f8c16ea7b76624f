"""Calls between patient and practice: the ``calls`` webhooks Meta sends (signalling only).

A user-initiated call arrives as ``connect`` (with the caller's SDP offer) and ends with
``terminate`` (status, start/end, duration), both on the ``calls`` field (fixtures
call_connect.json#user_initiated, call_terminate.json). A business-initiated call (the
practice's phone system calling a patient who allowed it) first reports ``statuses`` of
type ``call`` (RINGING, then ACCEPTED or REJECTED; fixture call_status.json), then
``connect`` with the patient's SDP answer and ``terminate``. No audio is simulated.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from inbox_app.whatsapp.simulator.envelopes import contact
from inbox_app.whatsapp.simulator.runtime import Runtime

# Enough of an SDP offer to look like one; the relay never negotiates media.
_SDP_OFFER = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
)
_SDP_ANSWER = _SDP_OFFER.replace("o=- 0 0", "o=- 1 1")


def new_call_id() -> str:
    return "wacid." + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _calls_envelope(
    runtime: Runtime, wa_id: str, name: str, call: dict[str, Any], *, key: str = "calls"
) -> dict[str, Any]:
    settings = runtime.settings
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": settings.display_phone_number,
            "phone_number_id": settings.phone_number_id,
        },
        "contacts": [contact(settings, wa_id, name)],
        key: [call],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": settings.waba_id, "changes": [{"value": value, "field": "calls"}]}],
    }


def user_call(
    runtime: Runtime, *, wa_id: str, name: str, duration: int, status: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(call id, connect payload, terminate payload) for a call from ``wa_id``; the call
    has just ended (it began ``duration`` seconds ago), so no timestamp lies ahead."""
    call_id = new_call_id()
    start = int(time.time()) - duration
    base = {
        "id": call_id,
        "from": wa_id,
        "to": runtime.settings.display_phone_number,
        "direction": "USER_INITIATED",
    }
    connect = {
        **base,
        "event": "connect",
        "timestamp": str(start),
        "session": {"sdp": _SDP_OFFER, "sdp_type": "offer"},
    }
    terminate: dict[str, Any] = {
        **base,
        "event": "terminate",
        "timestamp": str(start + duration),
        "status": status,
    }
    if status == "COMPLETED":
        terminate.update(start_time=str(start), end_time=str(start + duration), duration=duration)
    return (
        call_id,
        _calls_envelope(runtime, wa_id, name, connect),
        _calls_envelope(runtime, wa_id, name, terminate),
    )


def business_call(
    runtime: Runtime,
    *,
    wa_id: str,
    name: str,
    duration: int,
    status: str,
    call_id: str | None = None,
    start: int | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """(call id, webhook payloads in order) for the practice calling ``wa_id``.

    ``status`` is how it ended: COMPLETED (answered), REJECTED (declined), NO_ANSWER or
    FAILED (rang out / failed; no ``connect``). ``start`` is when it began ringing (default:
    so that it has just ended)."""
    call_id = call_id or new_call_id()
    # As with user_call: the call has just ended, so every timestamp lies behind us.
    if start is None:
        start = int(time.time()) - duration - 2
    business = runtime.settings.display_phone_number

    def call_status(value: str, at: int) -> dict[str, Any]:
        return _calls_envelope(
            runtime,
            wa_id,
            name,
            {
                "id": call_id,
                "timestamp": str(at),
                "type": "call",
                "status": value,
                "recipient_id": wa_id,
            },
            key="statuses",
        )

    base = {"id": call_id, "from": business, "to": wa_id, "direction": "BUSINESS_INITIATED"}
    payloads = [call_status("RINGING", start)]
    if status == "COMPLETED":
        payloads.append(call_status("ACCEPTED", start + 1))
        connect = {
            **base,
            "event": "connect",
            "timestamp": str(start + 1),
            "session": {"sdp": _SDP_ANSWER, "sdp_type": "answer"},
        }
        payloads.append(_calls_envelope(runtime, wa_id, name, connect))
        terminate: dict[str, Any] = {
            **base,
            "event": "terminate",
            "timestamp": str(start + 1 + duration),
            "status": "COMPLETED",
            "start_time": str(start + 1),
            "end_time": str(start + 1 + duration),
            "duration": duration,
        }
    else:
        if status == "REJECTED":
            payloads.append(call_status("REJECTED", start + 2))
        terminate = {**base, "event": "terminate", "timestamp": str(start + 2), "status": "FAILED"}
    payloads.append(_calls_envelope(runtime, wa_id, name, terminate))
    return call_id, payloads


async def deliver_in_order(runtime: Runtime, call_id: str, payloads: list[dict[str, Any]]) -> None:
    """Deliver a call's webhooks one after the other (each retried like every webhook), so
    the relay sees RINGING before connect before terminate, as Meta sends them."""
    sender = runtime.sender
    for payload in payloads:
        change = payload["entry"][0]["changes"][0]["value"]
        what = "status" if "statuses" in change else change["calls"][0]["event"]
        await sender.deliver(sender.encode(payload), sender.new_record("call", call_id, what))
