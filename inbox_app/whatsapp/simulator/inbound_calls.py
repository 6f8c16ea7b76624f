"""A patient calling the practice: the ``calls`` webhooks Meta sends (signalling only).

A user-initiated call arrives as ``connect`` (with the caller's SDP offer) and ends with
``terminate`` (status, start/end, duration), both on the ``calls`` field (fixtures
call_connect.json#user_initiated, call_terminate.json). No audio is simulated.
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


def new_call_id() -> str:
    return "wacid." + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _calls_envelope(
    runtime: Runtime, wa_id: str, name: str, call: dict[str, Any]
) -> dict[str, Any]:
    settings = runtime.settings
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": settings.display_phone_number,
            "phone_number_id": settings.phone_number_id,
        },
        "contacts": [contact(settings, wa_id, name)],
        "calls": [call],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": settings.waba_id, "changes": [{"value": value, "field": "calls"}]}],
    }


def user_call(
    runtime: Runtime, *, wa_id: str, name: str, duration: int, status: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(call id, connect payload, terminate payload) for a call from ``wa_id``."""
    call_id = new_call_id()
    start = int(time.time())
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
