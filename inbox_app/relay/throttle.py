"""Failed sign-in attempts (wrong passwords and wrong second-factor codes), per user name
and per client address, over a sliding window: too many and further attempts are refused."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, select

from .db import login_failures

MAX_FAILURES = 10  # per user name in FAILURE_WINDOW
MAX_ADDRESS_FAILURES = 30  # per client address in FAILURE_WINDOW (one guesser, many names)
FAILURE_WINDOW = 300.0


def throttled(conn: Connection, username: str, address: str | None, now: float) -> bool:
    """Whether this user name, or this address, failed too often recently."""
    recent = login_failures.c.at > now - FAILURE_WINDOW
    failures = conn.execute(
        select(func.count())
        .select_from(login_failures)
        .where(login_failures.c.username == username[:64], recent)
    ).scalar_one()
    if failures >= MAX_FAILURES:
        return True
    if not address:
        return False
    from_address = conn.execute(
        select(func.count())
        .select_from(login_failures)
        .where(login_failures.c.address == address[:64], recent)
    ).scalar_one()
    return bool(from_address >= MAX_ADDRESS_FAILURES)


def record_failure(conn: Connection, username: str, address: str | None, now: float) -> None:
    conn.execute(
        login_failures.insert().values(
            username=username[:64], at=now, address=address[:64] if address else None
        )
    )


def clear(conn: Connection, username: str) -> None:
    """A successful sign-in forgets the user name's failures (not the address's)."""
    conn.execute(delete(login_failures).where(login_failures.c.username == username))
