"""Building Meta-shaped webhook bodies for tests (signed the way Meta signs)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from inbox_app.whatsapp.signature import sign
from inbox_app.whatsapp.wire import meta_json_bytes
from tests.conftest import APP_SECRET, PHONE_NUMBER_ID


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "4930901820",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def text_message(
    text: str,
    *,
    wa_id: str = "4915100000001",
    name: str = "Erika Musterfrau",
    wamid: str | None = None,
    ts: float | None = None,
) -> dict[str, Any]:
    return envelope(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid or f"wamid.{uuid.uuid4().hex}",
                    "timestamp": str(int(ts if ts is not None else time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def status(
    wamid: str, state: str, *, recipient: str = "4915100000001", callback: str | None = None
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if callback:
        st["biz_opaque_callback_data"] = callback
    return envelope({"statuses": [st]})


def signed(payload: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = meta_json_bytes(payload)
    return body, {"X-Hub-Signature-256": sign(body, secret), "Content-Type": "application/json"}
