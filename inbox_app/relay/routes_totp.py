"""HTTP routes for the optional TOTP second factor (totp.py): enrol, confirm, disable."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from inbox_app.domain.roles import Role

from .access import ApiProblem, SignedIn, client_address
from .api_models import ErrorBody
from .auth import Accounts
from .db import users
from .totp import AlreadyEnrolled, NotEnrolled, SecretUnreadable

router = APIRouter(prefix="/v1/auth/totp", tags=["auth"])

Code = Annotated[str, Field(min_length=1, max_length=16)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (403, 404, 409, 422, 429)
}


class TotpStatus(BaseModel):
    enabled: bool
    pending: bool


class TotpEnrolment(BaseModel):
    """Shown once: the secret is never returned again."""

    secret: str
    otpauth_uri: str


class CodeBody(BaseModel):
    code: Code


class DisableBody(BaseModel):
    code: Code | None = None
    # An administrator may remove a colleague's factor (lost phone) without a code.
    username: str | None = Field(default=None, min_length=1, max_length=64)


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.relay.accounts
    return accounts


def _throttle(request: Request, username: str) -> None:
    if _accounts(request).throttled(username, client_address(request)):
        raise ApiProblem(429, "throttled", "Too many wrong codes; try again in a few minutes.")


async def _wrong_code(request: Request, user: Any) -> ApiProblem:
    accounts = _accounts(request)
    address = client_address(request)
    await to_thread.run_sync(lambda: accounts.code_failed(user, address, "totp_invalid"))
    return ApiProblem(422, "totp_invalid", "The code is wrong or was used already.")


def _unavailable() -> ApiProblem:
    # INBOX_TOTP_KEY missing or changed since enrolment: the operator must restore it.
    return ApiProblem(
        503, "totp_unavailable", "The relay cannot check second-factor codes right now."
    )


@router.get("", response_model=TotpStatus)
async def totp_status(request: Request, user: SignedIn) -> dict[str, bool]:
    """Whether the caller's account has a second factor (or one waiting for confirmation)."""
    return await to_thread.run_sync(_accounts(request).totp.status, user.id)


@router.post("/enrol", response_model=TotpEnrolment, status_code=201, responses=_ERRORS)
async def enrol(request: Request, user: SignedIn) -> dict[str, str]:
    """A new secret for an authenticator app; active after ``/confirm`` with a first code."""
    totp = _accounts(request).totp
    try:
        made = await to_thread.run_sync(
            lambda: totp.enrol(user.id, user.username, address=client_address(request))
        )
    except AlreadyEnrolled:
        raise ApiProblem(
            409, "totp_enabled", "A second factor is active; disable it first."
        ) from None
    return {"secret": made.secret, "otpauth_uri": made.uri}


@router.post("/confirm", response_model=TotpStatus, responses=_ERRORS)
async def confirm(request: Request, body: CodeBody, user: SignedIn) -> dict[str, bool]:
    """Switch the second factor on with the first code the app shows."""
    accounts = _accounts(request)
    await to_thread.run_sync(_throttle, request, user.username)
    try:
        ok = await to_thread.run_sync(
            lambda: accounts.totp.confirm(user.id, body.code, address=client_address(request))
        )
    except NotEnrolled:
        raise ApiProblem(404, "totp_not_enrolled", "Start the enrolment first.") from None
    except SecretUnreadable:
        raise _unavailable() from None
    except AlreadyEnrolled:
        raise ApiProblem(409, "totp_enabled", "The second factor is active already.") from None
    if not ok:
        raise await _wrong_code(request, user)
    return await to_thread.run_sync(accounts.totp.status, user.id)


@router.post("/disable", response_model=TotpStatus, responses=_ERRORS)
async def disable(request: Request, body: DisableBody, user: SignedIn) -> dict[str, bool]:
    """Remove a second factor: one's own with a current code, or (administrators) a
    colleague's by ``username`` without one."""
    accounts = _accounts(request)
    target_id = user.id
    code: str | None = body.code
    if body.username is not None and body.username != user.username:
        if user.role != Role.ADMIN:
            raise ApiProblem(403, "forbidden", "Only an administrator may do this.")

        def lookup() -> int | None:
            with accounts.db.read() as conn:
                found = conn.execute(
                    select(users.c.id).where(users.c.username == body.username)
                ).scalar_one_or_none()
            return None if found is None else int(found)

        found_id = await to_thread.run_sync(lookup)
        if found_id is None:
            raise ApiProblem(404, "not_found", "No such user.")
        target_id, code = found_id, None
    elif code is None:
        raise ApiProblem(422, "totp_invalid", "Enter a current code to disable the factor.")
    else:
        await to_thread.run_sync(_throttle, request, user.username)
    try:
        ok = await to_thread.run_sync(
            lambda: accounts.totp.disable(
                target_id, code=code, actor_id=user.id, address=client_address(request)
            )
        )
    except SecretUnreadable:
        raise _unavailable() from None
    if not ok:
        raise await _wrong_code(request, user)
    return await to_thread.run_sync(accounts.totp.status, target_id)
