"""The relay's HTTP surface: webhook, auth, change feed, commands."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from anyio import to_thread
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES
from inbox_app.whatsapp.graph import GraphClient

from . import (
    api_models,
    retention,
    routes_admin,
    routes_audit,
    routes_audit_view,
    routes_consent,
    routes_conversations,
    routes_directory,
    routes_escalations,
    routes_media,
    routes_messages,
    routes_ops,
    routes_patients,
    routes_privacy,
    routes_reports,
    routes_results,
    routes_totp,
    scheduled,
)
from . import result_page as result_page_routes
from .access import (
    WIPED_MESSAGE,
    SignedIn,
    bearer,
    client_address,
    install_problem_handler,
    require_conversation,
)
from .appointment_replies import register_appointment_replies
from .audit import Action, AuditLog
from .auth import Accounts, InvalidCredentials, Throttled, TotpInvalid, TotpRequired, Wiped
from .automation import Automation
from .bots import register_bots
from .bots import routes as bot_routes
from .calls import register_call_replies
from .closed_day_appointments import register as register_closed_days
from .commands import claimed_by_other
from .db import Database
from .escalations import register_red_flags
from .feed import FeedNotifier, as_json, event_stream, visible_events
from .fhir_writeback import register_fhir_writeback
from .ingest import GroupCommitter
from .metrics import RelayMetrics, WebhookCounter, counted_stream
from .optout import register_optout
from .outbox import OutboxWorker
from .outgoing import SendBody
from .presence import PresenceHub
from .reminder_config import load as load_reminder_config
from .reminder_sender import register_reminders
from .satisfaction import register_satisfaction
from .settings import RelaySettings
from .store import NotFound, Store, WindowClosed
from .teams import Claimed
from .totp import SecretUnreadable
from .webhook_endpoint import WebhookEndpoint

log = logging.getLogger("inbox.relay.app")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    # The second-factor code, for accounts with TOTP (login answers totp_required first).
    code: str | None = Field(default=None, max_length=16)


class Relay:
    """Everything one relay process holds; built by ``create_app``."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        # Refuses an unencrypted SQLite relay outside demo mode (settings.py).
        self.db = Database(settings.database_url, settings.check_encryption())
        self.db.create_schema()
        self.store = Store(self.db)
        self.accounts = Accounts(
            self.db,
            idle_seconds=settings.token_idle_seconds,
            max_seconds=settings.token_max_seconds,
            totp_key=settings.totp_key,
        )
        self.notifier = FeedNotifier()
        self.presence = PresenceHub()
        self.worker: OutboxWorker | None = None
        self.ingest = GroupCommitter(self.store, on_commit=self.committed)
        self.graph: GraphClient | None = None
        self.metrics = RelayMetrics(self.db)  # /metrics (routes_ops.py): no patient data
        self.retention = retention.policy_of(settings)  # checked at start (audit >= messages)
        # What the relay does by itself (automation.py); modules register their handlers
        # and periodic jobs here, in the order they must run.
        self.automation = Automation(self.store)
        self.automation.on_commit = self.automation_committed
        register_red_flags(self.automation, settings)  # order 20; overdue escalations
        register_call_replies(self.automation)  # order 21: call-permission answers
        retention.register(self.automation, settings, self.db)  # the periodic purge
        # Reminders, their buttons, opt-out, satisfaction (INBOX_REMINDERS_CONFIG).
        reminders = settings.reminders or load_reminder_config()
        register_optout(self.automation)  # order 10: STOP / START
        register_appointment_replies(self.automation, reminders)  # order 30: reminder taps
        register_satisfaction(self.automation, reminders)  # order 40; the question (job)
        register_reminders(self.automation, reminders)  # job: reminders, follow-ups
        register_closed_days(self.automation, reminders.schedule)  # job: visits on holidays
        register_fhir_writeback(self.automation, reminders.fhir_url)  # job, if configured
        # Out-of-hours reply (order 50), intake and booking bots (order 60): INBOX_BOTS.
        register_bots(self.automation, settings.bots, schedule=reminders.schedule)
        # Staff booking from the patient panel (routes_patients.py) uses the same schedule.
        self.schedule = reminders.schedule or (settings.bots.schedule if settings.bots else None)

    def committed(self) -> None:
        self.notifier.notify()
        self.automation.wake()

    def automation_committed(self) -> None:
        # What automation wrote reaches desks at once, and what it queued leaves at once.
        self.notifier.notify()
        if self.worker is not None:
            self.worker.wake()


# One definition of 'signed in' for every route (remote wipe included): access.signed_in.
User = SignedIn


def create_app(settings: RelaySettings) -> FastAPI:
    relay = Relay(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay.notifier.bind(asyncio.get_running_loop())
        relay.ingest.start()
        if settings.run_automation:
            relay.automation.start()
        if settings.run_outbox and settings.access_token and settings.phone_number_id:
            relay.graph = GraphClient(
                base_url=settings.graph_url,
                access_token=settings.access_token,
                phone_number_id=settings.phone_number_id,
                timeout=settings.graph_timeout,
                app_secret=settings.app_secret,  # appsecret_proof on every Graph call
            )
            relay.worker = OutboxWorker(
                relay.store,
                relay.graph,
                on_commit=relay.committed,
                rate=settings.send_rate,
                per_recipient_gap=settings.per_recipient_gap,
                on_outcome=relay.metrics.send_outcome,
                inflight_timeout=settings.outbox_inflight_timeout,
            )
            relay.worker.start()
        try:
            yield
        finally:
            await relay.ingest.stop()
            await relay.automation.stop()
            if relay.worker is not None:
                await relay.worker.stop()
            if relay.graph is not None:
                await relay.graph.aclose()
            await to_thread.run_sync(relay.db.dispose)

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

    # POST /webhook is answered in front of the routing (webhook_endpoint.py: the hot path).
    app.add_middleware(WebhookEndpoint, app_secret=settings.app_secret, submit=relay.ingest.submit)
    # Outside it: counts deliveries by answer for /metrics (metrics.py).
    app.add_middleware(WebhookCounter, metrics=relay.metrics)

    # -- auth --------------------------------------------------------------------------
    @app.post(
        "/v1/auth/login",
        response_model=api_models.LoginResult,
        responses={
            401: {"model": api_models.ErrorBody, "description": "wrong credentials or code"},
            429: {"model": api_models.ErrorBody, "description": "too many failed attempts"},
        },
    )
    async def login(body: LoginBody, request: Request) -> dict[str, Any]:
        try:
            token, user = await to_thread.run_sync(
                lambda: relay.accounts.login(
                    body.username,
                    body.password,
                    address=client_address(request),
                    device_id=request.headers.get("x-inbox-device"),
                    code=body.code,
                )
            )
        except TotpRequired:
            raise ApiError(
                401, "totp_required", "Enter the code from your authenticator app."
            ) from None
        except TotpInvalid:
            raise ApiError(
                401, "totp_invalid", "The code is wrong or was used already; enter a new one."
            ) from None
        except SecretUnreadable:
            raise ApiError(
                503, "totp_unavailable", "The relay cannot check second-factor codes right now."
            ) from None
        except Wiped:
            raise ApiError(401, "wiped", WIPED_MESSAGE) from None
        except InvalidCredentials:
            raise ApiError(401, "invalid_credentials", "Invalid username or password.") from None
        except Throttled:
            raise ApiError(
                429, "throttled", "Too many failed sign-ins; try again in a few minutes."
            ) from None
        return {"token": token, "user": user.to_json()}

    @app.post("/v1/auth/logout", response_model=api_models.Ok)
    async def logout(
        user: User, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, bool]:
        assert authorization is not None
        await to_thread.run_sync(
            lambda: relay.accounts.logout(
                authorization[7:].strip(), user_id=user.id, address=client_address(request)
            )
        )
        relay.notifier.notify()  # this session's live streams end at their next check
        return {"ok": True}

    @app.get("/v1/me", response_model=api_models.UserInfo)
    async def me(user: User) -> dict[str, Any]:
        return user.to_json()

    # -- feed (filtered per user on the relay: feed.py, teams.py) ----------------------
    @app.get("/v1/sync", response_model=api_models.SyncPage)
    async def sync(
        user: User,
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> dict[str, Any]:
        rows = await to_thread.run_sync(visible_events, relay.db, user, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        if rows:
            await to_thread.run_sync(relay.metrics.observe_sync, rows[0].seq)
        return {
            "events": as_json(rows),
            "next": rows[-1].seq if rows else after,
            "more": more,
        }

    @app.get("/v1/events")
    async def live_events(
        request: Request,
        user: User,
        after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
        last_event_id: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        cursor = after or 0
        if last_event_id and last_event_id.isdigit():
            cursor = int(last_event_id)
        stream = event_stream(
            db=relay.db,
            accounts=relay.accounts,
            notifier=relay.notifier,
            presence=relay.presence,
            user=user,
            token=bearer(authorization) or "",
            cursor=cursor,
            is_disconnected=request.is_disconnected,
        )

        return StreamingResponse(
            counted_stream(stream, relay.metrics.sse_clients),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # -- commands ----------------------------------------------------------------------
    @app.post(
        "/v1/conversations/{conversation_id}/messages",
        status_code=202,
        responses={
            200: {"model": api_models.MessageResult, "description": "a repeated client_id"},
            202: {"model": api_models.MessageResult},
            404: {"model": api_models.ErrorBody},
            409: {"model": api_models.ErrorBody, "description": "claimed by a colleague"},
            422: {"model": api_models.ErrorBody},
        },
    )
    async def send_message(
        conversation_id: routes_conversations.ConversationId,
        body: SendBody,
        user: User,
        request: Request,
    ) -> JSONResponse:
        if user.role not in PATIENT_CONTENT_ROLES:
            raise ApiError(403, "forbidden", "Your role may not write to patients.")
        await require_conversation(request, user, conversation_id)
        # Every send type, checked against WhatsApp's limits first (routes_messages.py).
        plan = await routes_messages.prepare_send(request, conversation_id, body)
        try:
            record, created = await to_thread.run_sync(
                lambda: relay.store.create_outgoing_text(
                    conversation_id=conversation_id,
                    client_id=str(body.client_id),
                    text=plan.prepared.text,
                    author_id=user.id,
                    type=plan.prepared.type,
                    details=plan.prepared.details,
                    reply_to=plan.reply_to,
                    template=plan.prepared.is_template,
                    on_insert=plan.on_insert,
                    send_at=body.send_at,
                )
            )
            if not created:
                plan.cleanup()
        except NotFound:
            raise ApiError(404, "not_found", "No such conversation.") from None
        except Claimed as exc:
            raise await to_thread.run_sync(claimed_by_other, relay.db, exc) from None
        except scheduled.ScheduleRefused as exc:
            raise ApiError(422, "schedule_refused", str(exc)) from None
        except WindowClosed:
            raise ApiError(
                422,
                "window_closed",
                "The 24-hour window is closed: only an approved template may be sent.",
            ) from None
        if created:
            await to_thread.run_sync(
                lambda: AuditLog(relay.db).record(
                    Action.SEND,
                    user_id=user.id,
                    conversation_id=conversation_id,
                    detail={"message_id": record.id},
                    address=client_address(request),
                )
            )
            relay.committed()
            if relay.worker is not None:
                relay.worker.wake()
        return JSONResponse({"message": record.to_json()}, status_code=202 if created else 200)

    install_problem_handler(app)
    app.include_router(routes_ops.router)  # /readyz, /metrics
    app.include_router(routes_privacy.router)  # Art. 15/17, legal holds, retention
    app.include_router(routes_conversations.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_media.router)
    app.include_router(routes_messages.router)
    app.include_router(scheduled.router)
    app.include_router(routes_directory.router)
    app.include_router(routes_consent.router)
    app.include_router(routes_patients.router)  # staff booking, create/link patients
    app.include_router(routes_totp.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_escalations.router)
    app.include_router(routes_audit_view.router)
    app.include_router(routes_results.router)
    app.include_router(bot_routes.router)
    app.include_router(result_page_routes.router)  # the patient's phi-safe page, /r/{token}
    return app
