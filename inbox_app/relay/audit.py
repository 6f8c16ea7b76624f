"""The audit trail: append-only, hash-chained, who did what to which conversation and when.

Each row stores ``hash = sha256(prev_hash + canonical fields)`` where ``prev_hash`` is
the previous row's hash, so changing a row breaks its own hash and deleting one breaks
the next row's link. Rows never hold message content: ids, an action name and small
facts (a role, a status, a count).

Rows are written inside ``Database.write()`` transactions, which the relay serialises
(SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so the chain never forks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from .db import Database, audit, retention_marks, users

GENESIS = "0" * 64


class Action:
    """The audited actions (a closed vocabulary keeps exports comparable)."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    OPENED = "conversation_opened"
    SEARCH = "search"
    EXPORT = "export"
    SEND = "send"
    CLAIM = "claim"
    RELEASE = "release"
    TAKEOVER = "takeover"
    ASSIGN = "assign"
    STATUS = "status"
    LABELS = "labels"
    NOTE = "note"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    ROLE_CHANGED = "role_changed"
    TEAM_CREATED = "team_created"
    TEAM_MEMBER = "team_member"
    ACCESS_DENIED = "access_denied"
    WIPE_ORDERED = "wipe_ordered"
    WIPE_CLEARED = "wipe_cleared"
    TOTP_ENROL = "totp_enrol_started"
    TOTP_ENABLED = "totp_enabled"
    TOTP_DISABLED = "totp_disabled"
    CONSENT = "consent_recorded"  # staff recorded a patient's consent (routes_consent.py)
    # Staff booking and the patient register from the desktop (routes_patients.py).
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_MOVED = "appointment_moved"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    PATIENT_CREATED = "patient_created"
    PATIENT_LINKED = "patient_linked"
    # Results (results.py): the send (with an override's reason), and every view/download
    # by staff or by the patient on the phi-safe page, plus the page's refusals.
    RESULT_SENT = "result_sent"
    RESULT_OVERRIDE = "result_override"
    RESULT_VIEWED = "result_viewed"
    RESULT_DOWNLOADED = "result_downloaded"
    RESULT_PAGE_FAILED = "result_page_failed"
    RESULT_PAGE_LOCKED = "result_page_locked"
    # Retention and data-protection rights (retention.py, privacy.py): counts and ids only.
    RETENTION_PURGE = "retention_purge"
    LEGAL_HOLD = "legal_hold"
    LEGAL_HOLD_RELEASED = "legal_hold_released"
    PATIENT_EXPORTED = "patient_exported"
    PATIENT_ERASED = "patient_erased"


def _canonical(prev_hash: str, row: dict[str, Any]) -> bytes:
    fields = [
        prev_hash,
        repr(float(row["at"])),
        row["user_id"],
        row["username"],
        row["action"],
        row["conversation_id"],
        row["detail"],
        row["address"],
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()


def _anchor(conn: Connection) -> str | None:
    """Where the chain starts after retention purged its oldest rows (retention.py)."""
    value = conn.execute(
        select(retention_marks.c.value).where(retention_marks.c.name == "audit_anchor")
    ).scalar()
    return str(value) if value else None


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(prev_hash, row)).hexdigest()


def record(
    conn: Connection,
    action: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    conversation_id: int | None = None,
    detail: dict[str, Any] | None = None,
    address: str | None = None,
    now: float | None = None,
) -> None:
    """Append one audit row inside the caller's (serialised) write transaction."""
    if username is None and user_id is not None:
        username = conn.execute(
            select(users.c.username).where(users.c.id == user_id)
        ).scalar_one_or_none()
    prev = conn.execute(select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)).scalar()
    prev_hash = prev or _anchor(conn) or GENESIS
    row: dict[str, Any] = {
        "at": time.time() if now is None else now,
        "user_id": user_id,
        "username": username[:64] if username else None,
        "action": action,
        "conversation_id": conversation_id,
        "detail": json.dumps(detail or {}, separators=(",", ":"), sort_keys=True),
        "address": address[:64] if address else None,
    }
    conn.execute(audit.insert().values(**row, prev_hash=prev_hash, hash=_digest(prev_hash, row)))


@dataclass(frozen=True, slots=True)
class Problem:
    row_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit row {self.row_id}: {self.reason}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def parse_time(value: str) -> float:
    """An ISO 8601 time (naive means UTC) as Unix seconds."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, action: str, **kw: Any) -> None:
        """Append one row in its own transaction."""
        with self.db.write() as conn:
            record(conn, action, **kw)

    def _rows(self, conn: Connection, query: Any, batch: int = 1000) -> Iterator[Any]:
        last = 0
        while True:
            rows = conn.execute(query.where(audit.c.id > last).order_by(audit.c.id).limit(batch))
            chunk = rows.all()
            if not chunk:
                return
            yield from chunk
            last = chunk[-1].id

    def verify(self) -> list[Problem]:
        """Every break in the chain: altered rows and rows missing before a row."""
        problems: list[Problem] = []
        with self.db.read() as conn:
            prev_hash = _anchor(conn) or GENESIS
            for row in self._rows(conn, select(audit)):
                fields = dict(row._mapping)
                if row.prev_hash != prev_hash:
                    problems.append(
                        Problem(row.id, "the row before it was deleted or altered (broken link)")
                    )
                if _digest(row.prev_hash, fields) != row.hash:
                    problems.append(Problem(row.id, "altered (its hash does not match)"))
                prev_hash = row.hash
        return problems

    def entries(
        self,
        *,
        username: str | None = None,
        since: float | None = None,
        until: float | None = None,
        conversation_id: int | None = None,
    ) -> list[dict[str, Any]]:
        query = select(audit)
        if username is not None:
            query = query.where(audit.c.username == username)
        if since is not None:
            query = query.where(audit.c.at >= since)
        if until is not None:
            query = query.where(audit.c.at <= until)
        if conversation_id is not None:
            query = query.where(audit.c.conversation_id == conversation_id)
        with self.db.read() as conn:
            return [
                {
                    "id": r.id,
                    "at": _iso(r.at),
                    "user_id": r.user_id,
                    "username": r.username,
                    "action": r.action,
                    "conversation_id": r.conversation_id,
                    "detail": json.loads(r.detail),
                    "address": r.address,
                    "hash": r.hash,
                }
                for r in self._rows(conn, query)
            ]


EXPORT_COLUMNS = [
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "conversation_id",
    "detail",
    "address",
    "hash",
]


def to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(
            {**entry, "detail": json.dumps(entry["detail"], separators=(",", ":"), sort_keys=True)}
        )
    return out.getvalue()
