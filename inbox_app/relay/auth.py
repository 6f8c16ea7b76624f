"""Staff accounts: argon2id password hashes, random bearer tokens stored hashed."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update

from inbox_app.domain.roles import Role

from .db import Database, login_failures, tokens, users

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user does not exist, so both failures take the same time.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")

MAX_FAILURES = 10
FAILURE_WINDOW = 300.0


class InvalidCredentials(Exception):
    """Unknown user or wrong password (deliberately indistinguishable)."""


class Throttled(Exception):
    """Too many failed sign-ins for this user recently."""


class UserExists(Exception):
    pass


@dataclass(frozen=True, slots=True)
class StaffUser:
    id: int
    username: str
    display_name: str
    role: Role

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
        }


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, db: Database, *, idle_seconds: int, max_seconds: int) -> None:
        self.db = db
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def add_user(
        self, username: str, password: str, role: Role, display_name: str | None = None
    ) -> StaffUser:
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        with self.db.write() as conn:
            if conn.execute(select(users.c.id).where(users.c.username == username)).first():
                raise UserExists(username)
            result = conn.execute(
                users.insert().values(
                    username=username,
                    display_name=display_name or username,
                    role=role.value,
                    password_hash=_HASHER.hash(password),
                    disabled=False,
                    created_at=time.time(),
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            return StaffUser(int(pk[0]), username, display_name or username, role)

    def login(self, username: str, password: str) -> tuple[str, StaffUser]:
        now = time.time()
        with self.db.read() as conn:
            failures = conn.execute(
                select(func.count())
                .select_from(login_failures)
                .where(
                    login_failures.c.username == username,
                    login_failures.c.at > now - FAILURE_WINDOW,
                )
            ).scalar_one()
            row = conn.execute(select(users).where(users.c.username == username)).one_or_none()
        if failures >= MAX_FAILURES:
            raise Throttled()
        try:
            _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
            ok = row is not None and not row.disabled
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            with self.db.write() as conn:
                conn.execute(login_failures.insert().values(username=username[:64], at=now))
            raise InvalidCredentials()
        token = secrets.token_urlsafe(32)
        with self.db.write() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.username == username))
            conn.execute(
                tokens.insert().values(
                    token_hash=_token_hash(token),
                    user_id=row.id,
                    created_at=now,
                    last_used_at=now,
                    revoked=False,
                )
            )
        return token, StaffUser(row.id, row.username, row.display_name, Role(row.role))

    def authenticate(self, token: str) -> StaffUser | None:
        """The user behind a bearer token, or None when it is unknown, revoked or expired."""
        now = time.time()
        with self.db.read() as conn:
            row = conn.execute(
                select(
                    tokens.c.id.label("token_id"),
                    tokens.c.created_at.label("issued_at"),
                    tokens.c.last_used_at,
                    tokens.c.revoked,
                    users.c.id,
                    users.c.username,
                    users.c.display_name,
                    users.c.role,
                    users.c.disabled,
                )
                .join(users, users.c.id == tokens.c.user_id)
                .where(tokens.c.token_hash == _token_hash(token))
            ).one_or_none()
        if row is None or row.revoked or row.disabled:
            return None
        if now - row.issued_at > self.max_seconds or now - row.last_used_at > self.idle_seconds:
            return None
        if now - row.last_used_at > 30:
            # Refresh the idle timer at most every 30 s: no write per request.
            with self.db.write() as conn:
                conn.execute(
                    update(tokens).where(tokens.c.id == row.token_id).values(last_used_at=now)
                )
        return StaffUser(row.id, row.username, row.display_name, Role(row.role))

    def logout(self, token: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(tokens).where(tokens.c.token_hash == _token_hash(token)).values(revoked=True)
            )
