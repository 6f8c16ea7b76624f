"""Optional second factor for staff accounts: time-based one-time codes (RFC 6238, pyotp).

A user enrols (the relay makes a secret and shows it once, as text and as an otpauth URI
for an authenticator app), confirms with a first code, and from then on signs in with
password and code. Each accepted code's time step is stored, so a code is never accepted
twice (a replay within its 30 s window is refused). The secret is encrypted at rest with
AES-GCM under INBOX_TOTP_KEY when set, bound to its user id; it is never logged, and no
route returns it after enrolment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, or_, select, update

from . import audit
from .audit import Action
from .db import Database, totp_factors, users

log = logging.getLogger("inbox.relay.totp")

STEP = 30  # seconds per code
DRIFT_STEPS = 1  # codes one step before or after are accepted (clock drift, typing time)
ISSUER = "Praxis Inbox"


class AlreadyEnrolled(Exception):
    """The user has a confirmed second factor; disable it before enrolling again."""


class NotEnrolled(Exception):
    """No (pending) second factor to confirm."""


class CodeRejected(Exception):
    """A wrong, malformed or already used code."""


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted (INBOX_TOTP_KEY missing or changed)."""


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str

    def __repr__(self) -> str:  # never show the secret in logs or tracebacks
        return "Enrolment(secret=…)"


class SecretBox:
    """Seals secrets with AES-GCM under a key derived from INBOX_TOTP_KEY (plain without)."""

    def __init__(self, key: str) -> None:
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest()) if key else None

    def seal(self, user_id: int, secret: str) -> str:
        if self._aead is None:
            log.warning("INBOX_TOTP_KEY not set: this second-factor secret is stored unencrypted")
            return "plain:" + secret
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), str(user_id).encode())
        return "v1:" + base64.b64encode(nonce + sealed).decode()

    def open(self, user_id: int, stored: str) -> str:
        if stored.startswith("plain:"):
            return stored[6:]
        if not stored.startswith("v1:") or self._aead is None:
            raise SecretUnreadable()
        raw = base64.b64decode(stored[3:])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], str(user_id).encode()).decode()
        except InvalidTag:
            raise SecretUnreadable() from None


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code ``code`` is (within the drift allowance), else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    generator = pyotp.TOTP(secret, interval=STEP)
    current = int(now // STEP)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit) so timing says nothing about which matched.
        if hmac.compare_digest(generator.at(step * STEP), code):
            found = step
    return found


class TotpFactors:
    def __init__(self, db: Database, key: str = "", clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self.box = SecretBox(key)

    # -- used by sign-in, inside the caller's transaction ----------------------------------
    @staticmethod
    def enabled(conn: Connection, user_id: int) -> bool:
        confirmed = conn.execute(
            select(totp_factors.c.confirmed_at).where(totp_factors.c.user_id == user_id)
        ).scalar_one_or_none()
        return confirmed is not None

    def use_code(self, conn: Connection, user_id: int, code: str, now: float) -> bool:
        """Check a code against the user's factor and consume its time step (once only)."""
        row = conn.execute(
            select(totp_factors).where(totp_factors.c.user_id == user_id)
        ).one_or_none()
        if row is None:
            return False
        step = matching_step(self.box.open(user_id, row.secret), code, now)
        if step is None:
            return False
        # Conditional update: of two requests racing with the same code only one wins.
        taken = conn.execute(
            update(totp_factors)
            .where(
                totp_factors.c.user_id == user_id,
                or_(totp_factors.c.last_step.is_(None), totp_factors.c.last_step < step),
            )
            .values(last_step=step)
        )
        return taken.rowcount == 1

    # -- the user's own enrolment ----------------------------------------------------------
    def status(self, user_id: int) -> dict[str, bool]:
        with self.db.read() as conn:
            row = conn.execute(
                select(totp_factors.c.confirmed_at).where(totp_factors.c.user_id == user_id)
            ).one_or_none()
        return {
            "enabled": row is not None and row.confirmed_at is not None,
            "pending": (row is not None and row.confirmed_at is None),
        }

    def enrol(self, user_id: int, username: str, *, address: str | None = None) -> Enrolment:
        """A new secret (replacing an unconfirmed one); active once confirmed with a code."""
        secret = pyotp.random_base32()
        uri = pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=username, issuer_name=ISSUER)
        now = self.clock()
        with self.db.write() as conn:
            if self.enabled(conn, user_id):
                raise AlreadyEnrolled()
            conn.execute(delete(totp_factors).where(totp_factors.c.user_id == user_id))
            conn.execute(
                totp_factors.insert().values(
                    user_id=user_id, secret=self.box.seal(user_id, secret), created_at=now
                )
            )
            audit.record(conn, Action.TOTP_ENROL, user_id=user_id, address=address, now=now)
        return Enrolment(secret, uri)

    def confirm(self, user_id: int, code: str, *, address: str | None = None) -> bool:
        """Turn the pending factor on with its first code; False when the code is wrong."""
        now = self.clock()
        with self.db.write() as conn:
            pending = conn.execute(
                select(totp_factors.c.confirmed_at).where(totp_factors.c.user_id == user_id)
            ).one_or_none()
            if pending is None:
                raise NotEnrolled()
            if pending.confirmed_at is not None:
                raise AlreadyEnrolled()
            if not self.use_code(conn, user_id, code, now):
                return False
            conn.execute(
                update(totp_factors)
                .where(totp_factors.c.user_id == user_id)
                .values(confirmed_at=now)
            )
            audit.record(conn, Action.TOTP_ENABLED, user_id=user_id, address=address, now=now)
        return True

    def disable(
        self,
        user_id: int,
        *,
        code: str | None,
        actor_id: int,
        address: str | None = None,
    ) -> bool:
        """Remove the factor. ``code=None`` only for an administrator acting on someone
        else (checked by the route); False when the user's own code is wrong."""
        now = self.clock()
        with self.db.write() as conn:
            if code is not None and self.enabled(conn, user_id):
                if not self.use_code(conn, user_id, code, now):
                    return False
            removed = conn.execute(delete(totp_factors).where(totp_factors.c.user_id == user_id))
            if removed.rowcount:
                audit.record(
                    conn,
                    Action.TOTP_DISABLED,
                    user_id=actor_id,
                    detail={"target_user_id": user_id},
                    address=address,
                    now=now,
                )
        return True

    def reset(self, username: str) -> bool:
        """Remove a user's factor from the command line (lost phone); False if none."""
        with self.db.write() as conn:
            user_id = conn.execute(
                select(users.c.id).where(users.c.username == username)
            ).scalar_one_or_none()
            if user_id is None:
                raise LookupError(username)
            removed = conn.execute(delete(totp_factors).where(totp_factors.c.user_id == user_id))
            audit.record(
                conn,
                Action.TOTP_DISABLED,
                detail={"target_user_id": int(user_id), "via": "cli"},
            )
        return bool(removed.rowcount)
