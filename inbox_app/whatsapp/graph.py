"""Async client for the Graph API calls the relay makes: send, media, templates, read marks."""

from __future__ import annotations

import hashlib
import hmac
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


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """``GET /{media-id}``: a download URL valid for about five minutes."""

    url: str
    mime_type: str | None
    sha256_hex: str | None
    file_size: int | None


class MediaTooLarge(Exception):
    """The download exceeded the size limit for its type (nothing kept)."""


class MediaUrlExpired(Exception):
    """The download URL no longer works; fetch a fresh one with ``media_info``."""


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Meta's ``appsecret_proof``: hex HMAC-SHA256 of the access token, keyed by the secret."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


class GraphClient:
    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        phone_number_id: str,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        app_secret: str = "",
    ) -> None:
        self._phone_number_id = phone_number_id
        self._token = access_token
        # appsecret_proof (HMAC-SHA256 of the token under the app secret) on every Graph
        # call: with "Require App Secret" on in the Meta app, a leaked token alone is useless.
        self._proof = appsecret_proof(access_token, app_secret) if app_secret else ""
        self._graph_host = httpx.URL(base_url).host
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            transport=transport,
            event_hooks={"request": [self._add_proof]},
        )

    async def _add_proof(self, request: httpx.Request) -> None:
        # Graph only: media download URLs (another host) are signed by Meta themselves.
        if self._proof and request.url.host == self._graph_host:
            if "appsecret_proof" not in request.url.params:
                request.url = request.url.copy_add_param("appsecret_proof", self._proof)

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

    # -- shared plumbing ---------------------------------------------------------------
    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        """One Graph call; raises GraphError / GraphUnavailable like ``send``."""
        try:
            response = await self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise GraphUnavailable(type(exc).__name__, ambiguous=False) from None
        except httpx.TransportError as exc:
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
        return data

    # -- read receipts and typing ------------------------------------------------------
    async def mark_read(self, wamid: str, *, typing: bool = False) -> None:
        """Blue ticks for ``wamid`` (and everything before it); optionally show typing."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._call("POST", f"/{API_VERSION}/{self._phone_number_id}/messages", json=body)

    # -- media -------------------------------------------------------------------------
    async def upload_media(self, data: bytes, *, mime_type: str, filename: str) -> str:
        """Upload a file (multipart); returns the media id to send it with."""
        answer = await self._call(
            "POST",
            f"/{API_VERSION}/{self._phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, data, mime_type)},
        )
        media_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(media_id, str):
            raise GraphUnavailable("unexpected answer", ambiguous=False)
        return media_id

    async def media_info(self, media_id: str) -> MediaInfo:
        answer = await self._call("GET", f"/{API_VERSION}/{media_id}")
        if not isinstance(answer, dict) or not isinstance(answer.get("url"), str):
            raise GraphUnavailable("unexpected answer", ambiguous=False)
        size = answer.get("file_size")
        if isinstance(size, str) and size.isdigit():  # the spec says string, pywa int
            size = int(size)
        mime, sha = answer.get("mime_type"), answer.get("sha256")
        return MediaInfo(
            url=answer["url"],
            mime_type=mime if isinstance(mime, str) else None,
            sha256_hex=sha if isinstance(sha, str) else None,
            file_size=size if isinstance(size, int) else None,
        )

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """Download a media URL with the bearer token, refusing more than ``max_bytes``."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with self._client.stream(
                "GET", url, headers={"Authorization": f"Bearer {self._token}"}
            ) as response:
                if response.status_code in (401, 403, 404, 410):
                    raise MediaUrlExpired(str(response.status_code))
                if response.status_code >= 400:
                    raise GraphError(
                        http_status=response.status_code,
                        code=None,
                        message=response.reason_phrase,
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise MediaTooLarge(declared)
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaTooLarge(str(size))
                    chunks.append(chunk)
        except httpx.TransportError as exc:
            raise GraphUnavailable(type(exc).__name__, ambiguous=False) from None
        return b"".join(chunks)

    # -- templates ---------------------------------------------------------------------
    async def call_permission(self, user_wa_id: str) -> dict[str, Any]:
        """Whether the user allows business-initiated calls, and whether a permission request
        may go out now (Calling API ``call_permissions``); the answer as Graph gives it."""
        answer = await self._call(
            "GET",
            f"/{API_VERSION}/{self._phone_number_id}/call_permissions",
            params={"user_wa_id": user_wa_id},
        )
        return answer if isinstance(answer, dict) else {}

    async def message_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the WhatsApp Business Account (follows paging)."""
        found: list[dict[str, Any]] = []
        url: str | None = f"/{API_VERSION}/{waba_id}/message_templates"
        params: dict[str, Any] | None = {"limit": 100}
        while url:
            answer = await self._call("GET", url, params=params)
            if not isinstance(answer, dict):
                break
            found.extend(t for t in answer.get("data") or [] if isinstance(t, dict))
            paging = answer.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            url, params = (following, None) if isinstance(following, str) else (None, None)
        return found
