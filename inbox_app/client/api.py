"""The relay's HTTP API as the desktop uses it (``docs/protocol.md``), on ``httpx.AsyncClient``.

Errors are sorted by what the caller should do:
``Unauthorized`` (sign in again), ``RelayUnavailable`` (wait and retry: network faults and
gateway errors), ``RelayError`` (the relay refused; carries its status, code and sentence).
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from inbox_app.client.network import NetworkOptions, check_relay_url
from inbox_app.client.records import FeedEvent, SignedInUser
from inbox_app.domain.messages import MessageRecord

log = logging.getLogger("inbox.client.api")

# Gateways answer these while the relay behind them restarts: the same as "not reachable".
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
WIPE_CODE = "wiped"  # docs/protocol.md, "Remote wipe"
DEVICE_HEADER = "X-Inbox-Device"


class RelayError(Exception):
    """The relay answered with an error; ``message`` is its sentence for the user."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class Unauthorized(RelayError):
    """401: wrong credentials, or the token expired or was revoked."""


# ``Unauthorized.code`` when the password was right but the account's second factor is
# missing or wrong: ask for the authenticator code and try again with it.
SECOND_FACTOR_CODES = frozenset({"totp_required", "totp_invalid"})


class WipeOrdered(Unauthorized):
    """401 ``{"error": "wiped"}``: the relay orders this user's/device's cache erased."""


class RelayUnavailable(RelayError):
    """The relay could not be reached (network fault, timeout, gateway error)."""


class ConversationClaimed(RelayError):
    """409 ``claimed``: a colleague holds the conversation; ``claimed_by`` is
    ``{"id", "display_name"}`` when the relay says who (take it over first)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        claimed_by: dict[str, Any] | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.claimed_by = claimed_by


class SlotTakenError(RelayError):
    """409 ``slot_taken``: someone booked the time first; ``suggestions`` are free slots
    (``{"clinician", "start", "end"}``) the relay offers instead."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        suggestions: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.suggestions = suggestions or []


@dataclass(frozen=True, slots=True)
class SyncPage:
    events: list[FeedEvent]
    next: int
    more: bool


def _error_from(response: httpx.Response) -> RelayError:
    status = response.status_code
    code: str | None = None
    message = f"The relay refused the request ({status})."
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            code = body["error"]
        if isinstance(body.get("message"), str) and body["message"]:
            message = body["message"]
        elif isinstance(body.get("detail"), str) and body["detail"]:
            message = body["detail"]
    if status == 401:
        if code == WIPE_CODE:
            return WipeOrdered(message, status=status, code=code)
        return Unauthorized(message, status=status, code=code)
    if status == 409 and code == "claimed" and isinstance(body, dict):
        holder = body.get("claimed_by")
        return ConversationClaimed(
            message,
            status=status,
            code=code,
            claimed_by=holder if isinstance(holder, dict) else None,
        )
    if status == 409 and code == "slot_taken" and isinstance(body, dict):
        offered = body.get("suggestions")
        return SlotTakenError(
            message,
            status=status,
            code=code,
            suggestions=[s for s in offered if isinstance(s, dict)]
            if isinstance(offered, list)
            else [],
        )
    if status in _UNAVAILABLE_STATUSES:
        return RelayUnavailable("The relay is not available right now.", status=status, code=code)
    return RelayError(message, status=status, code=code)


def _unreachable(exc: httpx.TransportError) -> RelayUnavailable:
    # A certificate we do not trust is not a network hiccup: say so, once, clearly.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return RelayUnavailable(
                "The relay's certificate is not trusted. If the clinic uses its own "
                "certificate authority, set INBOX_CA_BUNDLE to its CA file.",
                code="certificate",
            )
        cause = cause.__cause__ or cause.__context__
    return RelayUnavailable("The relay cannot be reached.")


class RelayClient:
    """One signed-in session with the relay. Close it with ``await client.aclose()``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        stream_read_timeout: float = 45.0,
        device_id: str | None = None,
        network: NetworkOptions | None = None,
    ) -> None:
        base_url = check_relay_url(base_url)
        network = network or NetworkOptions.from_env()
        self.token = token
        self._timeout = timeout
        # Called (on the loop thread) with the ``data`` of each SSE ``presence`` event; those
        # carry no seq and never reach the change feed (docs/protocol.md, "Presence").
        self.on_presence: Callable[[dict[str, Any]], None] | None = None
        # The relay pings at least every 15 s; three missed pings mean the stream is dead.
        self._stream_timeout = httpx.Timeout(timeout, read=stream_read_timeout)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={
                "Accept": "application/json",
                # Names this installation so the relay can order a wipe of one device.
                **({DEVICE_HEADER: device_id} if device_id else {}),
            },
            follow_redirects=False,
            # Always verified; a clinic CA is added, never a way around checking.
            verify=network.ssl_context(),
            proxy=network.proxy,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> RelayClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _auth(self) -> dict[str, str]:
        if not self.token:
            raise Unauthorized("Not signed in.", status=None, code="unauthorized")
        return {"Authorization": f"Bearer {self.token}"}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        headers = self._auth() if auth else {}
        try:
            response = await self._http.request(
                method, path, json=json_body, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            log.info("%s %s failed: %s", method, path, type(exc).__name__)
            raise _unreachable(exc) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        try:
            return response.json()
        except ValueError as exc:
            raise RelayError(
                "The relay sent an unreadable answer.", status=response.status_code
            ) from exc

    # -- auth -----------------------------------------------------------------------------

    async def login(self, username: str, password: str, *, code: str | None = None) -> SignedInUser:
        """Exchange credentials (and a TOTP ``code`` where the account has one) for a
        token (kept on this client, in memory only)."""
        credentials = {"username": username, "password": password}
        if code:
            credentials["code"] = code
        body = await self._request("POST", "/v1/auth/login", json_body=credentials, auth=False)
        try:
            self.token = str(body["token"])
            return SignedInUser.from_json(body["user"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc

    async def me(self) -> SignedInUser:
        body = await self._request("GET", "/v1/me")
        try:
            return SignedInUser.from_json(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc

    # -- change feed ----------------------------------------------------------------------

    async def sync(self, after: int, limit: int = 500) -> SyncPage:
        """Events after ``after``, oldest first (catch-up)."""
        body = await self._request("GET", "/v1/sync", params={"after": after, "limit": limit})
        try:
            events = [FeedEvent.from_json(e) for e in body["events"]]
            return SyncPage(events=events, next=int(body["next"]), more=bool(body["more"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc

    async def events(self, after: int) -> AsyncGenerator[FeedEvent, None]:
        """The live feed (SSE) from ``after`` on. Ends when the relay closes the stream.

        Raises ``RelayUnavailable`` when the connection fails or goes silent.
        Close the iterator (``contextlib.aclosing``) to close the connection.
        """
        headers = {**self._auth(), "Last-Event-ID": str(after)}
        try:
            async with aconnect_sse(
                self._http,
                "GET",
                "/v1/events",
                headers=headers,
                params={"after": after},
                timeout=self._stream_timeout,
            ) as source:
                response = source.response
                if response.status_code >= 400:
                    await response.aread()
                    raise _error_from(response)
                async for sse in source.aiter_sse():
                    if not sse.data:
                        continue
                    if sse.event == "presence":
                        self._presence(sse.data)
                        continue
                    try:
                        event = FeedEvent.from_json(json.loads(sse.data))
                    except (KeyError, TypeError, ValueError):
                        log.warning("unreadable feed event id=%s", sse.id)
                        continue
                    yield event
        except httpx.TransportError as exc:
            log.info("event stream failed: %s", type(exc).__name__)
            raise _unreachable(exc) from exc
        except SSEError as exc:
            raise RelayError("The relay did not send an event stream.") from exc

    def _presence(self, raw: str) -> None:
        handler = self.on_presence
        if handler is None:
            return
        try:
            body = json.loads(raw)
            data = body.get("data") if isinstance(body, dict) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.debug("unreadable presence event")
            return
        try:
            handler(data)
        except Exception:
            log.exception("presence handler failed")

    # -- commands -------------------------------------------------------------------------

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a JSON command to ``path`` (under ``/v1``) and return the answer object."""
        answer = await self._request("POST", path, json_body=body if body is not None else {})
        if not isinstance(answer, dict):
            raise RelayError("The relay sent an unreadable answer.", status=200)
        return answer

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` (under ``/v1``) and return the answer object."""
        answer = await self._request("GET", path, params=params)
        if not isinstance(answer, dict):
            raise RelayError("The relay sent an unreadable answer.", status=200)
        return answer

    async def conversation_command(
        self, conversation_id: int, command: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """``POST /v1/conversations/{id}/{command}``; returns the whole answer
        (``{"conversation": {...}}``, plus ``"note"`` for notes)."""
        return await self.post(f"/v1/conversations/{int(conversation_id)}/{command}", body)

    async def set_presence(self, conversation_id: int, state: str) -> None:
        await self.post("/v1/presence", {"conversation_id": int(conversation_id), "state": state})

    async def send_result(
        self,
        conversation_id: int,
        *,
        client_id: str,
        data: bytes,
        filename: str,
        mime_type: str,
        fields: dict[str, str],
    ) -> dict[str, Any]:
        """``POST /v1/conversations/{id}/results`` (multipart); the relay checks everything
        again. Returns the result's state; repeating a ``client_id`` is safe (deduped)."""
        try:
            response = await self._http.post(
                f"/v1/conversations/{int(conversation_id)}/results",
                data={**fields, "client_id": client_id},
                files={"file": (filename, data, mime_type)},
                headers=self._auth(),
            )
        except httpx.TransportError as exc:
            raise _unreachable(exc) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        try:
            result = response.json()["result"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        if not isinstance(result, dict):
            raise RelayError("The relay sent an unreadable answer.", status=200)
        return result

    async def send_message(self, conversation_id: int, client_id: str, text: str) -> MessageRecord:
        """Hand a text message to the relay; repeating a ``client_id`` is safe (deduped)."""
        body = await self._request(
            "POST",
            f"/v1/conversations/{int(conversation_id)}/messages",
            json_body={"client_id": client_id, "type": "text", "text": text},
        )
        try:
            return MessageRecord.from_json(body["message"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
