"""``GET /v1/reports``: the figures, for administrators and clinicians (aggregates only)."""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Query, Request

from inbox_app.domain.roles import Role

from . import audit
from .access import ApiProblem, SignedIn, client_address
from .audit import Action
from .reports import build_report

router = APIRouter(prefix="/v1", tags=["reports"])

REPORT_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN})


@router.get("/reports")
async def reports(
    request: Request,
    user: SignedIn,
    since: Annotated[float | None, Query(ge=0)] = None,
    until: Annotated[float | None, Query(ge=0)] = None,
    group: Literal["day", "week"] = "day",
) -> dict[str, Any]:
    if user.role not in REPORT_ROLES:
        raise ApiProblem(403, "forbidden", "Reports are for administrators and clinicians.")
    relay = request.app.state.relay
    end = time.time() if until is None else until
    start = end - 30 * 86400 if since is None else since
    if end < start:
        raise ApiProblem(422, "bad_range", "The report's end is before its start.")

    def build() -> dict[str, Any]:
        with relay.db.read() as conn:
            return build_report(
                conn, since=start, until=end, group=group, timezone=report_timezone()
            ).to_json()

    try:
        result = await to_thread.run_sync(build)
    except ValueError as exc:
        raise ApiProblem(422, "bad_range", str(exc)) from exc

    def log() -> None:
        # Aggregates only, but who looked at clinic figures when is still worth knowing.
        with relay.db.write() as conn:
            audit.record(
                conn,
                Action.EXPORT,
                user_id=user.id,
                username=user.username,
                detail={"what": "report", "since": start, "until": end, "group": group},
                address=client_address(request),
            )

    await to_thread.run_sync(log)
    return result


def report_timezone() -> str:
    """Days and weeks are the clinic's (``INBOX_TIMEZONE``, default Europe/Berlin)."""
    return os.environ.get("INBOX_TIMEZONE") or "Europe/Berlin"
