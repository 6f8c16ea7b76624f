"""HTTP routes for administrators: staff accounts, roles, teams, the audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from inbox_app.domain.roles import Role

from . import audit
from .access import Admin, ApiProblem, client_address
from .audit import Action, AuditLog
from .auth import UnknownUser, UserExists
from .teams import TeamExists, Teams, UnknownName

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Username = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    disabled: bool = False


class UserList(BaseModel):
    users: list[UserOut]


class NewUser(BaseModel):
    username: Username
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    display_name: str | None = Field(default=None, min_length=1, max_length=128)


class RoleBody(BaseModel):
    role: Role


class TeamOut(BaseModel):
    id: int
    name: str
    members: list[int]


class TeamList(BaseModel):
    teams: list[TeamOut]


class NewTeam(BaseModel):
    name: str = Field(min_length=1, max_length=64)


class MemberBody(BaseModel):
    username: Username
    member: bool = True


class AuditEntry(BaseModel):
    id: int
    at: str
    user_id: int | None
    username: str | None
    action: str
    conversation_id: int | None
    detail: dict[str, Any]
    address: str | None
    hash: str


class AuditList(BaseModel):
    entries: list[AuditEntry]


class AuditCheck(BaseModel):
    ok: bool
    problems: list[str]


def _relay(request: Request) -> Any:
    return request.app.state.relay


@router.get("/users", response_model=UserList)
async def list_users(request: Request, admin: Admin) -> dict[str, Any]:
    return {"users": await to_thread.run_sync(_relay(request).accounts.users)}


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(request: Request, body: NewUser, admin: Admin) -> dict[str, Any]:
    accounts = _relay(request).accounts
    try:
        user = await to_thread.run_sync(
            lambda: accounts.add_user(
                body.username, body.password, body.role, body.display_name, actor_id=admin.id
            )
        )
    except UserExists:
        raise ApiProblem(409, "exists", "A user with this name exists already.") from None
    except ValueError as exc:
        raise ApiProblem(422, "invalid_request", str(exc)) from None
    return {**user.to_json(), "disabled": False}


@router.post("/users/{username}/disable", response_model=UserOut)
async def disable_user(request: Request, username: str, admin: Admin) -> dict[str, Any]:
    """Disable the account and revoke its sessions; its live streams end within seconds."""
    relay = _relay(request)
    if username == admin.username:
        raise ApiProblem(422, "invalid_request", "You cannot disable your own account.")
    try:
        await to_thread.run_sync(
            lambda: relay.accounts.disable(
                username, actor_id=admin.id, address=client_address(request)
            )
        )
    except UnknownUser:
        raise ApiProblem(404, "not_found", "No such user.") from None
    relay.notifier.notify()  # streams re-check their session now
    return _user(relay, username)


@router.post("/users/{username}/role", response_model=UserOut)
async def change_role(
    request: Request, username: str, body: RoleBody, admin: Admin
) -> dict[str, Any]:
    relay = _relay(request)
    try:
        await to_thread.run_sync(
            lambda: relay.accounts.set_role(
                username, body.role, actor_id=admin.id, address=client_address(request)
            )
        )
    except UnknownUser:
        raise ApiProblem(404, "not_found", "No such user.") from None
    return _user(relay, username)


def _user(relay: Any, username: str) -> dict[str, Any]:
    found: dict[str, Any] = next(u for u in relay.accounts.users() if u["username"] == username)
    return found


@router.get("/teams", response_model=TeamList)
async def list_teams(request: Request, admin: Admin) -> dict[str, Any]:
    teams = await to_thread.run_sync(Teams(_relay(request).db).all)
    return {"teams": [t.to_json() for t in teams]}


@router.post("/teams", response_model=TeamOut, status_code=201)
async def create_team(request: Request, body: NewTeam, admin: Admin) -> dict[str, Any]:
    relay = _relay(request)
    try:
        team = await to_thread.run_sync(Teams(relay.db).add, body.name)
    except TeamExists:
        raise ApiProblem(409, "exists", "A team with this name exists already.") from None
    await to_thread.run_sync(
        lambda: AuditLog(relay.db).record(
            Action.TEAM_CREATED,
            user_id=admin.id,
            detail={"team_id": team.id},
            address=client_address(request),
        )
    )
    return team.to_json()


@router.post("/teams/{name}/members", response_model=TeamOut)
async def set_member(request: Request, name: str, body: MemberBody, admin: Admin) -> dict[str, Any]:
    """Add (``member: true``) or remove a user from a team."""
    relay = _relay(request)
    try:
        team = await to_thread.run_sync(
            lambda: Teams(relay.db).set_member(name, body.username, member=body.member)
        )
    except UnknownName:
        raise ApiProblem(404, "not_found", "No such team or user.") from None
    await to_thread.run_sync(
        lambda: AuditLog(relay.db).record(
            Action.TEAM_MEMBER,
            user_id=admin.id,
            detail={"team_id": team.id, "username": body.username, "member": body.member},
            address=client_address(request),
        )
    )
    return team.to_json()


@router.get("/audit", response_model=AuditList)
async def audit_entries(
    request: Request,
    admin: Admin,
    user: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    conversation: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    format: Literal["json"] = "json",
) -> dict[str, Any]:
    """The audit trail for the data-protection officer (itself audited as an export)."""
    relay = _relay(request)
    try:
        since_ts = audit.parse_time(since) if since else None
        until_ts = audit.parse_time(until) if until else None
    except ValueError:
        raise ApiProblem(422, "invalid_request", "Times must be ISO 8601.") from None
    entries = await to_thread.run_sync(
        lambda: AuditLog(relay.db).entries(
            username=user, since=since_ts, until=until_ts, conversation_id=conversation
        )
    )
    await to_thread.run_sync(
        lambda: AuditLog(relay.db).record(
            Action.EXPORT,
            user_id=admin.id,
            conversation_id=conversation,
            detail={"rows": len(entries), "via": "api"},
            address=client_address(request),
        )
    )
    return {"entries": entries}


@router.get("/audit/verify", response_model=AuditCheck)
async def audit_verify(request: Request, admin: Admin) -> dict[str, Any]:
    problems = await to_thread.run_sync(AuditLog(_relay(request).db).verify)
    return {"ok": not problems, "problems": [str(p) for p in problems]}
