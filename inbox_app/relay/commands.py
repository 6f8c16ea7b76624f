"""Conversation commands: claim, release, take over, assign, status, labels, notes.

Each runs in one transaction that checks who may do it, changes the conversation,
appends a ``conversation`` event with its whole new state (plus ``note``/``mention``
events for notes), writes an audit row, and stores the client's command id with the
answer so a retry returns the same answer and changes nothing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, update

from inbox_app.domain.roles import PATIENT_CONTENT_ROLES, Role

from . import audit
from .access import ApiProblem
from .auth import StaffUser
from .db import Database, commands, conversations, events, notes, teams, users
from .store import Store
from .teams import CLAIM_SECONDS, Claimed, active_claim, can_see, renewed_claim

STATUSES = ("open", "pending", "snoozed", "resolved")
MAX_LABELS = 20
MENTION = re.compile(r"@([A-Za-z0-9_.\-]{1,64})")


def claimed_problem(conn: Connection, holder: int) -> ApiProblem:
    name = conn.execute(select(users.c.display_name).where(users.c.id == holder)).scalar()
    return ApiProblem(
        409,
        "claimed",
        f"{name or 'A colleague'} is working on this conversation; take it over first.",
        claimed_by={"id": holder, "display_name": name},
    )


def claimed_by_other(db: Database, exc: Claimed) -> ApiProblem:
    with db.read() as conn:
        return claimed_problem(conn, exc.holder)


def previous_answer(
    conn: Connection, client_id: str, user_id: int, kind: str, conversation_id: int
) -> dict[str, Any] | None:
    """The answer a command with this client id got before (a retry), or None.

    A client id reused for another command is refused: replaying its answer would lie.
    """
    done = conn.execute(select(commands).where(commands.c.client_id == client_id)).one_or_none()
    if done is None:
        return None
    if (done.user_id, done.kind, done.conversation_id) != (user_id, kind, conversation_id):
        raise ApiProblem(409, "client_id_reused", "This command id was used for another command.")
    answer: dict[str, Any] = json.loads(done.response)
    return answer


def remember_command(
    conn: Connection,
    *,
    client_id: str,
    user_id: int,
    kind: str,
    conversation_id: int,
    answer: dict[str, Any],
    action: str,
    detail: dict[str, Any],
    address: str | None,
    now: float,
) -> None:
    """Audit a command and keep its answer for retries, in the command's transaction."""
    audit.record(
        conn,
        action,
        user_id=user_id,
        conversation_id=conversation_id,
        detail=detail,
        address=address,
        now=now,
    )
    conn.execute(
        commands.insert().values(
            client_id=client_id,
            user_id=user_id,
            kind=kind,
            conversation_id=conversation_id,
            response=json.dumps(answer, separators=(",", ":")),
            created_at=now,
        )
    )


class Commands:
    def __init__(self, db: Database, store: Store) -> None:
        self.db = db
        self.store = store

    # -- the frame every command runs in ---------------------------------------------------
    def _run(
        self,
        kind: str,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        apply: Callable[[Connection, Any, float], dict[str, Any]],
        *,
        address: str | None,
    ) -> dict[str, Any]:
        if user.role not in PATIENT_CONTENT_ROLES:
            raise ApiProblem(403, "forbidden", "Your role may not work on conversations.")
        now = time.time()
        with self.db.write() as conn:
            earlier = previous_answer(conn, client_id, user.id, kind, conversation_id)
            if earlier is not None:
                return earlier
            row = conn.execute(
                select(conversations).where(conversations.c.id == conversation_id).with_for_update()
            ).one_or_none()
            if row is None or not can_see(conn, user.id, user.role, conversation_id):
                # Checked by the route already; this closes the gap to the transaction.
                raise ApiProblem(404, "not_found", "No such conversation.")
            detail = apply(conn, row, now)
            self.store._emit_conversation(conn, conversation_id)
            state = json.loads(
                conn.execute(
                    select(events.c.data)
                    .where(events.c.type == "conversation", events.c.entity_id == conversation_id)
                    .order_by(events.c.seq.desc())
                    .limit(1)
                ).scalar_one()
            )
            answer = {"conversation": state, **detail.pop("_answer", {})}
            remember_command(
                conn,
                client_id=client_id,
                user_id=user.id,
                kind=kind,
                conversation_id=conversation_id,
                answer=answer,
                action=detail.pop("_action", kind),
                detail=detail,
                address=address,
                now=now,
            )
            return answer

    def _set(self, conn: Connection, conversation_id: int, **values: Any) -> None:
        conn.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(**values)
        )

    # -- the commands ---------------------------------------------------------------------
    def claim(
        self, user: StaffUser, conversation_id: int, client_id: str, *, address: str | None
    ) -> dict[str, Any]:
        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            holder = active_claim(row, now)
            if holder is not None and holder != user.id:
                raise claimed_problem(conn, holder)
            self._set(conn, row.id, claimed_by=user.id, claim_expires_at=now + CLAIM_SECONDS)
            return {}

        return self._run("claim", user, conversation_id, client_id, apply, address=address)

    def release(
        self, user: StaffUser, conversation_id: int, client_id: str, *, address: str | None
    ) -> dict[str, Any]:
        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            holder = active_claim(row, now)
            if holder is not None and holder != user.id:
                raise claimed_problem(conn, holder)
            self._set(conn, row.id, claimed_by=None, claim_expires_at=None)
            return {}

        return self._run("release", user, conversation_id, client_id, apply, address=address)

    def takeover(
        self, user: StaffUser, conversation_id: int, client_id: str, *, address: str | None
    ) -> dict[str, Any]:
        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            previous = active_claim(row, now)
            self._set(conn, row.id, claimed_by=user.id, claim_expires_at=now + CLAIM_SECONDS)
            return {"from_user_id": previous}

        return self._run("takeover", user, conversation_id, client_id, apply, address=address)

    def assign(
        self,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        *,
        assignee_id: int | None,
        team_id: int | None,
        address: str | None,
    ) -> dict[str, Any]:
        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            if (
                team_id is not None
                and not conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first()
            ):
                raise ApiProblem(422, "invalid_request", "No such team.")
            if assignee_id is not None:
                target = conn.execute(
                    select(users.c.role, users.c.disabled).where(users.c.id == assignee_id)
                ).one_or_none()
                if (
                    target is None
                    or target.disabled
                    or Role(target.role) not in PATIENT_CONTENT_ROLES
                ):
                    raise ApiProblem(
                        422, "invalid_request", "That person cannot take conversations."
                    )
            self._set(
                conn,
                row.id,
                assignee_id=assignee_id,
                team_id=team_id,
                **renewed_claim(row, user.id, now),
            )
            return {"assignee_id": assignee_id, "team_id": team_id}

        return self._run("assign", user, conversation_id, client_id, apply, address=address)

    def status(
        self,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        *,
        status: str,
        snoozed_until: float | None,
        address: str | None,
    ) -> dict[str, Any]:
        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            if status == "snoozed" and (snoozed_until is None or snoozed_until <= now):
                raise ApiProblem(422, "invalid_request", "Snoozing needs a time in the future.")
            until = snoozed_until if status == "snoozed" else None
            self._set(
                conn, row.id, status=status, snoozed_until=until, **renewed_claim(row, user.id, now)
            )
            return {"status": status}

        return self._run("status", user, conversation_id, client_id, apply, address=address)

    def labels(
        self,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        *,
        labels: list[str],
        address: str | None,
    ) -> dict[str, Any]:
        cleaned = sorted({label.strip() for label in labels if label.strip()})
        if len(cleaned) > MAX_LABELS:
            raise ApiProblem(422, "invalid_request", f"At most {MAX_LABELS} labels.")

        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            self._set(
                conn,
                row.id,
                labels=json.dumps(cleaned, ensure_ascii=False),
                **renewed_claim(row, user.id, now),
            )
            return {"count": len(cleaned)}

        return self._run("labels", user, conversation_id, client_id, apply, address=address)

    def note(
        self,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        *,
        text: str,
        address: str | None,
    ) -> dict[str, Any]:
        def apply(conn: Connection, row: Any, now: float) -> dict[str, Any]:
            names = sorted(set(MENTION.findall(text)))
            mentioned: list[int] = []
            if names:
                for r in conn.execute(
                    select(users.c.id, users.c.role, users.c.disabled).where(
                        users.c.username.in_(names)
                    )
                ):
                    # Only colleagues who may see the conversation are told about it.
                    if not r.disabled and can_see(conn, r.id, Role(r.role), row.id):
                        mentioned.append(int(r.id))
            mentioned.sort()
            pk = conn.execute(
                notes.insert().values(
                    conversation_id=row.id,
                    author_id=user.id,
                    text=text,
                    mentions=json.dumps(mentioned),
                    created_at=now,
                )
            ).inserted_primary_key
            assert pk is not None
            note_id = int(pk[0])
            note = {
                "id": note_id,
                "conversation_id": row.id,
                "author_id": user.id,
                "author_name": user.display_name,
                "text": text,
                "mentions": mentioned,
                "created_at": now,
            }
            self.store._append(conn, "note", note_id, note)
            for target in mentioned:
                self.store._append(
                    conn,
                    "mention",
                    note_id,
                    {
                        "note_id": note_id,
                        "conversation_id": row.id,
                        "author_id": user.id,
                        "author_name": user.display_name,
                        "user_id": target,
                        "created_at": now,
                    },
                    audience_id=target,
                )
            renewed = renewed_claim(row, user.id, now)
            if renewed:
                self._set(conn, row.id, **renewed)
            return {"note_id": note_id, "mentions": len(mentioned), "_answer": {"note": note}}

        return self._run("note", user, conversation_id, client_id, apply, address=address)
