"""``POST /webhook`` served in front of FastAPI's routing.

Meta's deliveries are the relay's hot path: after an outage they arrive as a backlog of
thousands (QUALITY P2), and FastAPI's request, dependency and response machinery cost more
per delivery than storing it does. This plain ASGI layer answers only ``POST /webhook``
and hands every other request (``GET /webhook`` verification included) to the app.

Order per delivery: size limit (413 before parsing), signature over the exact bytes,
parse, then the group commit; 200 only once the commit is durable (QUALITY I1).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from inbox_app.whatsapp import signature
from inbox_app.whatsapp.webhook import WebhookBatch, WebhookFormatError, parse_envelope

from .store import IngestResult

log = logging.getLogger("inbox.relay.app")

MAX_WEBHOOK_BYTES = 3 * 1024 * 1024
_SIGNATURE_HEADER = signature.HEADER.lower().encode()

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json"
_TOO_LARGE = json.dumps({"error": "too_large", "message": "Webhook body over 3 MB."}).encode()


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class WebhookEndpoint:
    """ASGI middleware: ``submit`` stores a parsed delivery and returns after commit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        app_secret: str,
        submit: Callable[[WebhookBatch], Awaitable[IngestResult]],
    ) -> None:
        self.app = app
        self.app_secret = app_secret
        self.submit = submit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/webhook" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            body = await _read_limited(receive, headers.get(b"content-length"))
        except _TooLarge:
            await _answer(send, 413, _TOO_LARGE, _JSON)
            return
        except _Disconnected:
            return
        header = headers.get(_SIGNATURE_HEADER)
        if not header:
            await _answer(send, 401, b"Missing signature")
            return
        if not signature.verify(body, header.decode("latin-1"), self.app_secret):
            await _answer(send, 403, b"Invalid signature")
            return
        try:
            batch = parse_envelope(json.loads(body))
        except (ValueError, RecursionError, WebhookFormatError):
            # Signed by Meta but not an envelope: a retry would not help; keep nothing.
            log.warning("signed webhook that is not an envelope (%d bytes)", len(body))
            await _answer(send, 400, b"Not a webhook envelope")
            return
        try:
            result = await self.submit(batch)
        except Exception:
            # Not stored: a 5xx makes Meta deliver it again later (QUALITY I1).
            await _answer(send, 503, b"Temporarily unavailable")
            return
        log.debug(
            "webhook stored=%d duplicate=%d statuses=%d",
            result.stored_messages,
            result.duplicate_messages,
            result.applied_statuses,
        )
        await _answer(send, 200, b'{"ok":true}', _JSON)


async def _read_limited(receive: Receive, declared: bytes | None) -> bytes:
    """The body, refused as soon as it is known to be over the limit (never parsed)."""
    if declared is not None and declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes, content_type: bytes = _TEXT) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
