"""The baseline for webhook benchmarks: an ASGI app that only checks the signature."""

from __future__ import annotations

import os
from typing import Any

from inbox_app.whatsapp.signature import verify

SECRET = os.environ.get("WHATSAPP_APP_SECRET", "bench-secret")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    ok = verify(body, headers.get(b"x-hub-signature-256", b"").decode(), SECRET)
    status = 200 if ok else 403
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
