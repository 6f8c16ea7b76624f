"""Async client for the Graph API calls the relay makes (send messages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
API_VERSION = "v23.0"

# Codes after which a retry can succeed (throughput, pair rate, Meta hiccups).
TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131056, 131057})


class GraphError(Exception):
    """Meta answered with its error shape."""

    def __init__(self, *, http_status: int, code: int | None, message: str) -> None:
        super().__init__(f"Graph API error {code} (HTTP {http_status})")
        self.http_status = http_status
        self.code = code
        self.message = message

    @property
    def transient(self) -> bool:
        return self.http_status >= 500 or (self.code in TRANSIENT_CODES)


class GraphUnavailable(Exception):
    """The request may not have reached Meta, or its answer was lost."""

    def __init__(self, reason: str, *, ambiguous: bool) -> None:
        super().__init__(reason)
        # True when the request left us and we do not know whether Meta accepted it.
        self.ambiguous = ambiguous


@dataclass(frozen=True, slots=True)
class SendResult:
    wamid: str
    wa_id: str | None


class GraphClient:
    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        phone_number_id: str,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._phone_number_id = phone_number_id
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, payload: dict[str, Any]) -> SendResult:
        """POST a message body; return the wamid Meta assigned."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        url = f"/{API_VERSION}/{self._phone_number_id}/messages"
        try:
            response = await self._client.post(url, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise GraphUnavailable(type(exc).__name__, ambiguous=False) from None
        except httpx.TransportError as exc:
            # Read timeouts and resets after the request was written: Meta may have sent it.
            raise GraphUnavailable(type(exc).__name__, ambiguous=True) from None
        data: Any
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise GraphError(
                http_status=response.status_code,
                code=code if isinstance(code, int) else None,
                message=message if isinstance(message, str) else response.reason_phrase,
            )
        try:
            wamid = data["messages"][0]["id"]
            contacts = data.get("contacts") or [{}]
            wa_id = contacts[0].get("wa_id")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise GraphUnavailable("unexpected answer", ambiguous=True) from None
        return SendResult(wamid=str(wamid), wa_id=wa_id if isinstance(wa_id, str) else None)

    async def send_text(
        self, to: str, text: str, *, callback_data: str | None = None, preview_url: bool = False
    ) -> SendResult:
        payload: dict[str, Any] = {
            "to": to,
            "type": "text",
            "text": {"body": text, "preview_url": preview_url},
        }
        if callback_data:
            payload["biz_opaque_callback_data"] = callback_data
        return await self.send(payload)
