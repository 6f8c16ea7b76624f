"""Operations endpoints: ``/readyz`` (may this relay take traffic?) and ``/metrics``.

``/metrics`` is Prometheus text; when ``INBOX_METRICS_TOKEN`` is set it needs
``Authorization: Bearer <token>`` (metrics carry no patient data, but volumes are the
practice's business).
"""

from __future__ import annotations

import hmac
import os
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from .migrate import MIGRATIONS

router = APIRouter(include_in_schema=False)


@cache
def _script_heads() -> frozenset[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return frozenset(script.get_heads())


def _database_checks(relay: Any) -> dict[str, bool]:
    try:
        with relay.db.read() as conn:
            conn.execute(text("SELECT 1"))
            applied = {
                str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))
            }
    except Exception:
        return {"database": False, "migrations": False}
    return {"database": True, "migrations": applied == set(_script_heads())}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    relay = request.app.state.relay
    checks = await to_thread.run_sync(_database_checks, relay)
    settings = relay.settings
    if settings.run_outbox and settings.access_token and settings.phone_number_id:
        checks["outbox_worker"] = relay.worker is not None and relay.worker.alive
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    token = os.environ.get("INBOX_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return PlainTextResponse("Unauthorized", status_code=401)
    body = await to_thread.run_sync(request.app.state.relay.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
