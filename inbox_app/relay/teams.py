"""Teams, and who may see which conversation (ARCHITECTURE.md, 'Who may do what').

The rule, checked on the relay for every request and every feed event:

- receptionist, nurse: conversations of their teams, conversations without a team, and
  conversations assigned to them personally;
- clinician: conversations assigned to them, and those with an escalation to them, to a
  team of theirs or to every clinician (escalations.py);
- admin: no patient content at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, false, or_, select

from inbox_app.domain.roles import Role

from .db import Database, conversations, escalations, team_members, teams, users

CLAIM_SECONDS = 600.0  # a claim is a lease; activity (commands, sends) renews it


class Claimed(Exception):
    """Someone else holds the conversation's claim; ``holder`` is their user id."""

    def __init__(self, holder: int) -> None:
        super().__init__("claimed")
        self.holder = holder


class TeamExists(Exception):
    pass


class UnknownName(Exception):
    """No team or user by that name."""


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    name: str
    members: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "members": list(self.members)}


def visible_conversations(user_id: int, role: Role) -> ColumnElement[bool]:
    """A WHERE clause over ``conversations``: the rows this user may see."""
    if role in (Role.RECEPTIONIST, Role.NURSE):
        my_teams = select(team_members.c.team_id).where(team_members.c.user_id == user_id)
        return or_(
            conversations.c.team_id.is_(None),
            conversations.c.team_id.in_(my_teams),
            conversations.c.assignee_id == user_id,
        )
    if role == Role.CLINICIAN:
        # Plus conversations escalated to them, to a team of theirs or to every clinician
        # (escalations.py); kept after resolving, so the queue's history stays readable.
        my_teams = select(team_members.c.team_id).where(team_members.c.user_id == user_id)
        escalated = select(escalations.c.conversation_id).where(
            or_(
                escalations.c.assignee_id == user_id,
                escalations.c.team_id.in_(my_teams),
                and_(escalations.c.assignee_id.is_(None), escalations.c.team_id.is_(None)),
            )
        )
        return or_(
            and_(conversations.c.assignee_id.is_not(None), conversations.c.assignee_id == user_id),
            conversations.c.id.in_(escalated),
        )
    return false()


def can_see(conn: Connection, user_id: int, role: Role, conversation_id: int) -> bool:
    return (
        conn.execute(
            select(conversations.c.id).where(
                conversations.c.id == conversation_id, visible_conversations(user_id, role)
            )
        ).first()
        is not None
    )


def active_claim(row: Any, now: float) -> int | None:
    """The user holding a conversation row's claim now (None when free or expired)."""
    holder = row.claimed_by
    expires = row.claim_expires_at
    if holder is None or expires is None or expires <= now:
        return None
    return int(holder)


def renewed_claim(row: Any, user_id: int, now: float) -> dict[str, Any]:
    """Column values that renew ``user_id``'s claim if they hold it (else nothing)."""
    if active_claim(row, now) == user_id:
        return {"claim_expires_at": now + CLAIM_SECONDS}
    return {}


def teamwork_state(conn: Connection, row: Any, now: float | None = None) -> dict[str, Any]:
    """The teamwork fields a ``conversation`` event carries besides the basic record."""
    now = time.time() if now is None else now
    holder = active_claim(row, now)
    name = None
    if holder is not None:
        name = conn.execute(
            select(users.c.display_name).where(users.c.id == holder)
        ).scalar_one_or_none()
    return {
        "team_id": row.team_id,
        "assignee_id": row.assignee_id,
        "claimed_by": holder,
        "claimed_by_name": name,
        "claim_expires_at": row.claim_expires_at if holder is not None else None,
        "status": row.status,
        "snoozed_until": row.snoozed_until,
        "labels": json.loads(row.labels or "[]"),
        # An escalation not yet resolved (escalations.py) marks the conversation escalated.
        "escalated": conn.execute(
            select(escalations.c.id)
            .where(escalations.c.conversation_id == row.id, escalations.c.state != "resolved")
            .limit(1)
        ).first()
        is not None,
    }


class Teams:
    """Creating teams and their memberships (admin API and CLI)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str) -> Team:
        with self.db.write() as conn:
            if conn.execute(select(teams.c.id).where(teams.c.name == name)).first():
                raise TeamExists(name)
            pk = conn.execute(
                teams.insert().values(name=name, created_at=time.time())
            ).inserted_primary_key
            assert pk is not None
            return Team(int(pk[0]), name, ())

    def set_member(self, team: str, username: str, *, member: bool = True) -> Team:
        with self.db.write() as conn:
            team_id = conn.execute(select(teams.c.id).where(teams.c.name == team)).scalar()
            user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
            if team_id is None or user_id is None:
                raise UnknownName(team if team_id is None else username)
            conn.execute(
                delete(team_members).where(
                    team_members.c.team_id == team_id, team_members.c.user_id == user_id
                )
            )
            if member:
                conn.execute(team_members.insert().values(team_id=team_id, user_id=user_id))
            return self._team(conn, int(team_id))

    def _team(self, conn: Connection, team_id: int) -> Team:
        row = conn.execute(select(teams).where(teams.c.id == team_id)).one()
        members = conn.execute(
            select(team_members.c.user_id)
            .where(team_members.c.team_id == team_id)
            .order_by(team_members.c.user_id)
        ).scalars()
        return Team(int(row.id), row.name, tuple(int(m) for m in members))

    def exists(self, conn: Connection, team_id: int) -> bool:
        return conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first() is not None

    def all(self) -> list[Team]:
        with self.db.read() as conn:
            ids = conn.execute(select(teams.c.id).order_by(teams.c.id)).scalars().all()
            return [self._team(conn, int(i)) for i in ids]
