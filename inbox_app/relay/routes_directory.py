"""The staff directory every signed-in colleague may read: who can be @mentioned or
assigned, and the teams (names only; no passwords, no patient data)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from sqlalchemy import select

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES

from .access import SignedIn
from .db import teams, users

router = APIRouter(prefix="/v1")


def _directory(request: Request) -> dict[str, list[dict[str, Any]]]:
    with request.app.state.relay.db.read() as conn:
        staff = conn.execute(
            select(users.c.id, users.c.username, users.c.display_name, users.c.role)
            .where(
                users.c.disabled.is_(False),
                users.c.role.in_(sorted(r.value for r in PATIENT_CONTENT_ROLES)),
            )
            .order_by(users.c.display_name, users.c.id)
        ).all()
        found = conn.execute(select(teams.c.id, teams.c.name).order_by(teams.c.name)).all()
    return {
        "users": [
            {
                "id": int(u.id),
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
            }
            for u in staff
        ],
        "teams": [{"id": int(t.id), "name": t.name} for t in found],
    }


@router.get("/directory")
async def directory(request: Request, user: SignedIn) -> dict[str, Any]:
    """Active colleagues who work with patients, and the teams."""
    return await to_thread.run_sync(lambda: _directory(request))
