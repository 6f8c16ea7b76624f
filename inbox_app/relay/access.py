"""Who is calling and what they may touch, for the routers in routes_*.py.

A conversation the caller may not see answers exactly like one that does not exist
(404, same body), and the attempt is audited (QUALITY S7, S9).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES, Role

from . import audit
from .audit import Action
from .auth import Accounts, StaffUser
from .db import Database
from .teams import can_see

log = logging.getLogger("inbox.relay.access")

NOT_FOUND_MESSAGE = "No such conversation."


class ApiProblem(Exception):
    """An error answer: ``{"error": code, "message": sentence, **extra}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


async def _problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return JSONResponse(
        {"error": exc.code, "message": exc.message, **exc.extra}, status_code=exc.status
    )


def install_problem_handler(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _problem)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_address(request: Request) -> str | None:
    """The caller's address, for throttling and the audit trail.

    Behind a reverse proxy listed in INBOX_TRUSTED_PROXIES the relay reads X-Forwarded-For
    from the right, skipping trusted proxies: the first other hop is the client. From any
    other peer the header is ignored (a client could write anything into it).
    """
    peer = request.client.host if request.client else None
    relay = getattr(request.app.state, "relay", None)
    proxies: tuple[str, ...] = relay.settings.trusted_proxies if relay is not None else ()
    if peer is None or not proxies:
        return peer
    networks = _networks(proxies)
    if not _trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
    ]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage from before our proxy: stop at the last hop we could read
        client = hop
        if not _trusted(hop, networks):
            break
    return client


def bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip()


WIPED_MESSAGE = "This computer's copy of the inbox must be erased; sign in again afterwards."


async def signed_in(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_inbox_device: Annotated[str | None, Header()] = None,
) -> StaffUser:
    """The signed-in staff member behind the bearer token (401 otherwise).

    A remote wipe ordered for the user or this device answers ``401 wiped`` instead, so
    the desktop erases its cache on contact (docs/protocol.md, "Remote wipe").
    """
    token = bearer(authorization)
    if token is None:
        raise ApiProblem(401, "unauthorized", "Sign in required.")
    accounts: Accounts = request.app.state.relay.accounts
    user = await to_thread.run_sync(accounts.authenticate, token)
    if user is None:
        # A user-wide wipe revokes the tokens: say "wiped", not just "signed out".
        owner = await to_thread.run_sync(accounts.token_owner, token)
        if owner is not None and await to_thread.run_sync(
            accounts.wipe_ordered, owner, x_inbox_device
        ):
            raise ApiProblem(401, "wiped", WIPED_MESSAGE)
        raise ApiProblem(401, "unauthorized", "Your session has ended; please sign in again.")
    if await to_thread.run_sync(accounts.wipe_ordered, user.id, x_inbox_device):
        raise ApiProblem(401, "wiped", WIPED_MESSAGE)
    return user


SignedIn = Annotated[StaffUser, Depends(signed_in)]


async def admin(user: SignedIn) -> StaffUser:
    if user.role != Role.ADMIN:
        raise ApiProblem(403, "forbidden", "Only an administrator may do this.")
    return user


Admin = Annotated[StaffUser, Depends(admin)]


def check_conversation(
    db: Database, user: StaffUser, conversation_id: int, *, address: str | None
) -> bool:
    """Whether the user may see it; a refusal is audited (never says whether it exists)."""
    if user.role in PATIENT_CONTENT_ROLES:
        with db.read() as conn:
            if can_see(conn, user.id, user.role, conversation_id):
                return True
    with db.write() as conn:
        audit.record(
            conn,
            Action.ACCESS_DENIED,
            user_id=user.id,
            conversation_id=conversation_id,
            address=address,
        )
    log.info("user %d refused conversation %d", user.id, conversation_id)
    return False


async def require_conversation(request: Request, user: StaffUser, conversation_id: int) -> None:
    """404 unless the caller may see the conversation (same answer as a missing one)."""
    db: Database = request.app.state.relay.db
    if not await to_thread.run_sync(
        lambda: check_conversation(db, user, conversation_id, address=client_address(request))
    ):
        raise ApiProblem(404, "not_found", NOT_FOUND_MESSAGE)
