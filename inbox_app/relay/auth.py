"""Staff accounts: argon2id password hashes, random bearer tokens stored hashed."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, or_, select, update

from inbox_app.domain.roles import Role

from . import audit, throttle
from .audit import Action
from .db import Database, tokens, users, wipe_orders
from .totp import SecretUnreadable, TotpFactors

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user does not exist, so both failures take the same time.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")

log = logging.getLogger("inbox.relay.auth")


class Wiped(Exception):
    """An admin ordered this user's or device's desktop cache erased (remote wipe)."""


class InvalidCredentials(Exception):
    """Unknown user or wrong password (deliberately indistinguishable)."""


class Throttled(Exception):
    """Too many failed sign-ins for this user recently."""


class TotpRequired(Exception):
    """The password is right; the account has a second factor and no code was given."""


class TotpInvalid(Exception):
    """The password is right but the second-factor code is wrong or was used already."""


class UserExists(Exception):
    pass


class UnknownUser(Exception):
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
    def __init__(
        self,
        db: Database,
        *,
        idle_seconds: int,
        max_seconds: int,
        totp_key: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock
        self.totp = TotpFactors(
            db, totp_key, clock=lambda: self.clock()
        )  # replaceable so tests can move time (token lifetimes)

    def add_user(
        self,
        username: str,
        password: str,
        role: Role,
        display_name: str | None = None,
        *,
        actor_id: int | None = None,
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
            audit.record(
                conn,
                Action.USER_CREATED,
                user_id=actor_id,
                detail={"target_user_id": int(pk[0]), "role": role.value},
            )
            return StaffUser(int(pk[0]), username, display_name or username, role)

    def login(
        self,
        username: str,
        password: str,
        *,
        address: str | None = None,
        device_id: str | None = None,
        code: str | None = None,
    ) -> tuple[str, StaffUser]:
        """A new token for a right password (and, when enrolled, a fresh second-factor code).

        Raises ``Throttled``, ``InvalidCredentials``, ``TotpRequired`` (password right, code
        missing: ask for it), ``TotpInvalid`` (wrong or reused code), ``Wiped``. Wrong
        passwords and wrong codes both count toward the throttle.
        """
        now = self.clock()
        with self.db.read() as conn:
            blocked = throttle.throttled(conn, username, address, now)
            row = conn.execute(select(users).where(users.c.username == username)).one_or_none()
        user_id = row.id if row is not None else None
        if blocked:
            with self.db.write() as conn:
                audit.record(
                    conn,
                    Action.SIGN_IN_FAILED,
                    user_id=user_id,
                    username=username,
                    detail={"reason": "throttled"},
                    address=address,
                    now=now,
                )
            raise Throttled()
        try:
            _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
            ok = row is not None and not row.disabled
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            self._failed(username, user_id, address, "invalid_credentials", now)
            raise InvalidCredentials()
        with self.db.read() as conn:
            second_factor = self.totp.enabled(conn, row.id)
        if second_factor:
            if not code:
                raise TotpRequired()
            with self.db.write() as conn:
                try:
                    accepted = self.totp.use_code(conn, row.id, code, now)
                except SecretUnreadable:
                    log.error("user %d: TOTP secret unreadable (INBOX_TOTP_KEY?)", row.id)
                    raise
            if not accepted:
                self._failed(username, user_id, address, "totp_invalid", now)
                raise TotpInvalid()
        if self.wipe_ordered(row.id, device_id):
            raise Wiped()  # the right password, but this desktop must erase its cache first
        token = secrets.token_urlsafe(32)
        with self.db.write() as conn:
            throttle.clear(conn, username)
            conn.execute(
                tokens.insert().values(
                    token_hash=_token_hash(token),
                    user_id=row.id,
                    device_id=device_id[:64] if device_id else None,
                    created_at=now,
                    last_used_at=now,
                    revoked=False,
                )
            )
            audit.record(
                conn,
                Action.SIGN_IN,
                user_id=row.id,
                username=username,
                detail={"second_factor": True} if second_factor else None,
                address=address,
                now=now,
            )
        return token, StaffUser(row.id, row.username, row.display_name, Role(row.role))

    def _failed(
        self, username: str, user_id: int | None, address: str | None, reason: str, now: float
    ) -> None:
        with self.db.write() as conn:
            throttle.record_failure(conn, username, address, now)
            audit.record(
                conn,
                Action.SIGN_IN_FAILED,
                user_id=user_id,
                username=username,
                detail={"reason": reason},
                address=address,
                now=now,
            )

    def throttled(self, username: str, address: str | None) -> bool:
        with self.db.read() as conn:
            return throttle.throttled(conn, username, address, self.clock())

    def code_failed(self, user: StaffUser, address: str | None, reason: str) -> None:
        """A wrong code outside sign-in (confirming, disabling): counted like a sign-in."""
        self._failed(user.username, user.id, address, reason, self.clock())

    def authenticate(self, token: str) -> StaffUser | None:
        """The user behind a bearer token, or None when it is unknown, revoked or expired."""
        now = self.clock()
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
        if now - row.last_used_at > min(30.0, self.idle_seconds / 10):
            # Refresh the idle timer at most every 30 s: no write per request.
            with self.db.write() as conn:
                conn.execute(
                    update(tokens).where(tokens.c.id == row.token_id).values(last_used_at=now)
                )
        return StaffUser(row.id, row.username, row.display_name, Role(row.role))

    def logout(self, token: str, *, user_id: int | None = None, address: str | None = None) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(tokens).where(tokens.c.token_hash == _token_hash(token)).values(revoked=True)
            )
            audit.record(conn, Action.SIGN_OUT, user_id=user_id, address=address)

    # -- administration (admin API and CLI) ---------------------------------------------
    def users(self) -> list[dict[str, object]]:
        with self.db.read() as conn:
            rows = conn.execute(select(users).order_by(users.c.id)).all()
        return [
            {
                **StaffUser(r.id, r.username, r.display_name, Role(r.role)).to_json(),
                "disabled": bool(r.disabled),
            }
            for r in rows
        ]

    def _user_id(self, conn: Connection, username: str) -> int:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        if user_id is None:
            raise UnknownUser(username)
        return int(user_id)

    def token_owner(self, token: str) -> int | None:
        """The user a (possibly revoked or expired) token was issued to."""
        with self.db.read() as conn:
            owner = conn.execute(
                select(tokens.c.user_id).where(tokens.c.token_hash == _token_hash(token))
            ).scalar_one_or_none()
        return int(owner) if owner is not None else None

    def wipe_ordered(self, user_id: int, device_id: str | None) -> bool:
        """Whether an active wipe order covers this user, or this device."""
        with self.db.read() as conn:
            query = select(wipe_orders.c.id).where(wipe_orders.c.cleared_at.is_(None))
            target = wipe_orders.c.user_id == user_id
            if device_id:
                target = or_(target, wipe_orders.c.device_id == device_id)
            return conn.execute(query.where(target).limit(1)).first() is not None

    def order_wipe(
        self,
        username: str,
        *,
        device_id: str | None = None,
        actor_id: int | None = None,
        address: str | None = None,
    ) -> int:
        """Order the user's desktops (or one device of theirs) to erase their caches."""
        with self.db.write() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(
                wipe_orders.insert().values(
                    user_id=None if device_id else user_id,
                    device_id=device_id,
                    created_at=time.time(),
                )
            )
            if not device_id:
                conn.execute(update(tokens).where(tokens.c.user_id == user_id).values(revoked=True))
            audit.record(
                conn,
                Action.WIPE_ORDERED,
                user_id=actor_id,
                detail={"target_user_id": user_id, "device": bool(device_id)},
                address=address,
            )
            return user_id

    def clear_wipes(
        self, username: str, *, actor_id: int | None = None, address: str | None = None
    ) -> int:
        """End the user's wipe orders, so they can sign in again (to an empty cache)."""
        with self.db.write() as conn:
            user_id = self._user_id(conn, username)
            devices = select(tokens.c.device_id).where(tokens.c.user_id == user_id)
            conn.execute(
                update(wipe_orders)
                .where(
                    wipe_orders.c.cleared_at.is_(None),
                    or_(wipe_orders.c.user_id == user_id, wipe_orders.c.device_id.in_(devices)),
                )
                .values(cleared_at=time.time())
            )
            audit.record(
                conn,
                Action.WIPE_CLEARED,
                user_id=actor_id,
                detail={"target_user_id": user_id},
                address=address,
            )
            return user_id

    def disable(
        self, username: str, *, actor_id: int | None = None, address: str | None = None
    ) -> int:
        """Disable a user and revoke all its tokens (its live streams end at their next check)."""
        with self.db.write() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(update(users).where(users.c.id == user_id).values(disabled=True))
            conn.execute(update(tokens).where(tokens.c.user_id == user_id).values(revoked=True))
            audit.record(
                conn,
                Action.USER_DISABLED,
                user_id=actor_id,
                detail={"target_user_id": user_id},
                address=address,
            )
            return user_id

    def set_role(
        self,
        username: str,
        role: Role,
        *,
        actor_id: int | None = None,
        address: str | None = None,
    ) -> int:
        with self.db.write() as conn:
            user_id = self._user_id(conn, username)
            old = conn.execute(select(users.c.role).where(users.c.id == user_id)).scalar_one()
            conn.execute(update(users).where(users.c.id == user_id).values(role=role.value))
            audit.record(
                conn,
                Action.ROLE_CHANGED,
                user_id=actor_id,
                detail={"target_user_id": user_id, "from": old, "to": role.value},
                address=address,
            )
            return user_id
