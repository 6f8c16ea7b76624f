"""The relay's HTTP surface: webhook, auth, change feed, commands."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal
from uuid import UUID

from anyio import to_thread
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES
from inbox_app.whatsapp import signature
from inbox_app.whatsapp.graph import GraphClient
from inbox_app.whatsapp.webhook import WebhookFormatError, parse_envelope

from .auth import Accounts, InvalidCredentials, StaffUser, Throttled
from .db import Database
from .feed import FeedNotifier
from .ingest import GroupCommitter
from .outbox import OutboxWorker
from .settings import RelaySettings
from .store import NotFound, Store, WindowClosed

log = logging.getLogger("inbox.relay.app")

MAX_WEBHOOK_BYTES = 3 * 1024 * 1024
HEARTBEAT_SECONDS = 15.0
SSE_BATCH = 500


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SendBody(BaseModel):
    client_id: UUID
    type: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=4096)


class Relay:
    """Everything one relay process holds; built by ``create_app``."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.db.create_schema()
        self.store = Store(self.db)
        self.accounts = Accounts(
            self.db,
            idle_seconds=settings.token_idle_seconds,
            max_seconds=settings.token_max_seconds,
        )
        self.notifier = FeedNotifier()
        self.worker: OutboxWorker | None = None
        self.ingest = GroupCommitter(self.store, on_commit=self.committed)
        self.graph: GraphClient | None = None

    def committed(self) -> None:
        self.notifier.notify()


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise ApiError(413, "too_large", "Webhook body over 3 MB.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise ApiError(413, "too_large", "Webhook body over 3 MB.")
        chunks.append(chunk)
    return b"".join(chunks)


async def current_user(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> StaffUser:
    """The signed-in staff member behind the bearer token (401 otherwise)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "unauthorized", "Sign in required.")
    relay: Relay = request.app.state.relay
    user = await to_thread.run_sync(relay.accounts.authenticate, authorization[7:].strip())
    if user is None:
        raise ApiError(401, "unauthorized", "Your session has ended; please sign in again.")
    return user


User = Annotated[StaffUser, Depends(current_user)]


def create_app(settings: RelaySettings) -> FastAPI:
    relay = Relay(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay.notifier.bind(asyncio.get_running_loop())
        relay.ingest.start()
        if settings.run_outbox and settings.access_token and settings.phone_number_id:
            relay.graph = GraphClient(
                base_url=settings.graph_url,
                access_token=settings.access_token,
                phone_number_id=settings.phone_number_id,
                timeout=settings.graph_timeout,
            )
            relay.worker = OutboxWorker(
                relay.store,
                relay.graph,
                on_commit=relay.committed,
                rate=settings.send_rate,
                per_recipient_gap=settings.per_recipient_gap,
            )
            relay.worker.start()
        try:
            yield
        finally:
            await relay.ingest.stop()
            if relay.worker is not None:
                await relay.worker.stop()
            if relay.graph is not None:
                await relay.graph.aclose()
            relay.db.dispose()

    app = FastAPI(title="Praxis Inbox relay", version="1", lifespan=lifespan)
    app.state.relay = relay

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors()})
        return JSONResponse(
            {"error": "invalid_request", "message": "Invalid field(s): " + ", ".join(fields)},
            status_code=422,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    # -- webhook -----------------------------------------------------------------------
    @app.get("/webhook", include_in_schema=False)
    async def verify_webhook(request: Request) -> Response:
        params = request.query_params
        mode = params.get("hub.mode")
        token = params.get("hub.verify_token") or ""
        challenge = params.get("hub.challenge") or ""
        if (
            mode == "subscribe"
            and settings.verify_token
            and hmac.compare_digest(token.encode(), settings.verify_token.encode())
        ):
            return PlainTextResponse(challenge)
        return PlainTextResponse("Forbidden", status_code=403)

    @app.post("/webhook", include_in_schema=False)
    async def receive_webhook(request: Request) -> Response:
        body = await _read_limited(request)
        header = request.headers.get(signature.HEADER)
        if not header:
            return PlainTextResponse("Missing signature", status_code=401)
        if not signature.verify(body, header, settings.app_secret):
            return PlainTextResponse("Invalid signature", status_code=403)
        try:
            batch = parse_envelope(json.loads(body))
        except (ValueError, WebhookFormatError):
            # Signed by Meta but not an envelope: a retry would not help; keep nothing.
            log.warning("signed webhook that is not an envelope (%d bytes)", len(body))
            return PlainTextResponse("Not a webhook envelope", status_code=400)
        try:
            result = await relay.ingest.submit(batch)
        except Exception:
            # Not stored: a 5xx makes Meta deliver it again later (QUALITY I1).
            return PlainTextResponse("Temporarily unavailable", status_code=503)
        log.debug(
            "webhook stored=%d duplicate=%d statuses=%d",
            result.stored_messages,
            result.duplicate_messages,
            result.applied_statuses,
        )
        return JSONResponse({"ok": True})

    # -- auth --------------------------------------------------------------------------
    @app.post("/v1/auth/login")
    async def login(body: LoginBody) -> dict[str, Any]:
        try:
            token, user = await to_thread.run_sync(
                relay.accounts.login, body.username, body.password
            )
        except InvalidCredentials:
            raise ApiError(401, "invalid_credentials", "Invalid username or password.") from None
        except Throttled:
            raise ApiError(
                429, "throttled", "Too many failed sign-ins; try again in a few minutes."
            ) from None
        return {"token": token, "user": user.to_json()}

    @app.post("/v1/auth/logout")
    async def logout(
        user: User, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, bool]:
        assert authorization is not None
        await to_thread.run_sync(relay.accounts.logout, authorization[7:].strip())
        return {"ok": True}

    @app.get("/v1/me")
    async def me(user: User) -> dict[str, Any]:
        return user.to_json()

    # -- feed --------------------------------------------------------------------------
    def visible(user: StaffUser, rows: list[Any]) -> list[dict[str, Any]]:
        # Admins manage the system but see no patient content by default.
        allowed = user.role in PATIENT_CONTENT_ROLES
        return [
            {"seq": r.seq, "type": r.type, "data": json.loads(r.data)}
            for r in rows
            if allowed or r.type not in ("conversation", "message")
        ]

    @app.get("/v1/sync")
    async def sync(
        user: User,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> dict[str, Any]:
        rows = await to_thread.run_sync(relay.store.events_after, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "events": visible(user, rows),
            "next": rows[-1].seq if rows else after,
            "more": more,
        }

    @app.get("/v1/events")
    async def live_events(
        request: Request,
        user: User,
        after: Annotated[int | None, Query(ge=0)] = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        cursor = after or 0
        if last_event_id and last_event_id.isdigit():
            cursor = int(last_event_id)

        async def stream() -> AsyncIterator[str]:
            position = cursor
            yield "retry: 2000\n\n"
            while True:
                waiter = relay.notifier.waiter()
                rows = await to_thread.run_sync(relay.store.events_after, position, SSE_BATCH)
                if rows:
                    position = rows[-1].seq
                    for ev in visible(user, rows):
                        yield (
                            f"id: {ev['seq']}\nevent: {ev['type']}\n"
                            f"data: {json.dumps(ev, separators=(',', ':'))}\n\n"
                        )
                    continue
                try:
                    await asyncio.wait_for(waiter.wait(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": ping\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # -- commands ----------------------------------------------------------------------
    @app.post("/v1/conversations/{conversation_id}/messages", status_code=202)
    async def send_message(conversation_id: int, body: SendBody, user: User) -> JSONResponse:
        if user.role not in PATIENT_CONTENT_ROLES:
            raise ApiError(403, "forbidden", "Your role may not write to patients.")
        text = body.text.strip()
        if not text:
            raise ApiError(422, "invalid_request", "The message is empty.")
        try:
            record, created = await to_thread.run_sync(
                lambda: relay.store.create_outgoing_text(
                    conversation_id=conversation_id,
                    client_id=str(body.client_id),
                    text=text,
                    author_id=user.id,
                )
            )
        except NotFound:
            raise ApiError(404, "not_found", "No such conversation.") from None
        except WindowClosed:
            raise ApiError(
                422,
                "window_closed",
                "The 24-hour window is closed: only an approved template may be sent.",
            ) from None
        if created:
            relay.committed()
            if relay.worker is not None:
                relay.worker.wake()
        return JSONResponse({"message": record.to_json()}, status_code=202 if created else 200)

    return app
