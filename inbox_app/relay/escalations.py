"""Escalations on the relay: create, acknowledge, reassign, resolve; red flags; overdue.

Every change runs in one write transaction that checks the caller's role and access,
changes the row, appends an ``escalation`` event with the whole state (plus the
conversation's new state: its ``escalated`` flag), writes an audit row and stores the
client's command id with the answer, so a retry returns the same answer and changes nothing.

Who may do what (ARCHITECTURE.md, 'Who may do what'): any staff member who may see the
conversation escalates it; clinicians take escalations (acknowledge, reassign, resolve);
admins see no patient content, so they do neither. Clinicians see the conversations
escalated to them, to a team of theirs, or to every clinician (teams.py).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from inbox_app.domain.escalations import (
    DEFAULT_DUE_SECONDS,
    MAX_REASON,
    EscalationState,
    Priority,
)
from inbox_app.domain.keywords import RED_FLAGS, fold, red_flags
from inbox_app.domain.roles import PATIENT_CONTENT_ROLES, Role

from . import audit
from .access import ApiProblem, check_conversation
from .auth import StaffUser
from .automation import Automation, Context, Inbound
from .commands import previous_answer, remember_command
from .db import (
    Database,
    conversations,
    escalations,
    patients,
    team_members,
    teams,
    users,
)
from .settings import RelaySettings
from .store import Store, WindowClosed
from .teams import can_see

log = logging.getLogger("inbox.relay.escalations")


class EscalationAction:
    """Audit actions of escalations and calls (audit.py keeps the shared vocabulary)."""

    CREATED = "escalation_created"
    ACKNOWLEDGED = "escalation_acknowledged"
    REASSIGNED = "escalation_reassigned"
    RESOLVED = "escalation_resolved"
    RED_FLAG = "escalation_red_flag"
    CLOSED_DAY = "escalation_closed_day"  # an appointment on a day the practice is closed
    CALL_REQUESTED = "call_requested"
    CALL_OUTCOME = "call_outcome"


# The clinic's emergency guidance when none is configured: where to get help now, nothing
# else (no medical advice beyond sending the patient to emergency services).
DEFAULT_GUIDANCE = {
    "de": (
        "Ihre Nachricht klingt nach einem möglichen Notfall. Bitte rufen Sie sofort den "
        "Notruf 112 an oder gehen Sie in die nächste Notaufnahme. Bei Gedanken, sich das "
        "Leben zu nehmen: Telefonseelsorge 0800 111 0 111 (rund um die Uhr). Unser Team "
        "wurde informiert und meldet sich so bald wie möglich."
    ),
    "en": (
        "Your message sounds like a possible emergency. Please call the emergency number 112 "
        "now or go to the nearest emergency department. If you are thinking about ending "
        "your life, call 0800 111 0 111 (free, day and night). Our team has been told and "
        "will contact you as soon as possible."
    ),
}

RED_FLAG_ORDER = 20
RED_FLAG_REASON = "Red flag in the patient's message"


def guidance_text(settings: RelaySettings, language: str) -> str:
    configured = {
        "de": settings.emergency_guidance_de,
        "en": settings.emergency_guidance_en,
    }.get(language)
    return configured or DEFAULT_GUIDANCE.get(language) or DEFAULT_GUIDANCE["de"]


def guess_language(conn: Connection, conversation_id: int, found: list[str]) -> str:
    """The patient's recorded language (de/en), else the red flag's language, else German."""
    wa_id = conn.execute(
        select(conversations.c.wa_id).where(conversations.c.id == conversation_id)
    ).scalar()
    recorded = conn.execute(
        select(patients.c.language)
        .where(patients.c.wa_id == wa_id, patients.c.language.is_not(None))
        .order_by(patients.c.id)
        .limit(1)
    ).scalar()
    if recorded:
        code = str(recorded).lower()[:2]
        if code in ("de", "en"):
            return code
    languages = {phrase: lang for lang, phrase in RED_FLAGS}
    for phrase in found:
        if phrase in languages:
            return languages[phrase]
    return "de"


# -- the state an event carries --------------------------------------------------------


def escalation_state(conn: Connection, escalation_id: int) -> dict[str, Any]:
    row = conn.execute(select(escalations).where(escalations.c.id == escalation_id)).one()
    wanted = {row.assignee_id, row.created_by, row.acknowledged_by, row.resolved_by} - {None}
    names = (
        dict(
            conn.execute(
                select(users.c.id, users.c.display_name).where(users.c.id.in_(wanted))
            ).all()
        )
        if wanted
        else {}
    )
    team_name = (
        conn.execute(select(teams.c.name).where(teams.c.id == row.team_id)).scalar()
        if row.team_id is not None
        else None
    )
    display_name = conn.execute(
        select(conversations.c.display_name).where(conversations.c.id == row.conversation_id)
    ).scalar()
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "patient_id": row.patient_id,
        "reason": row.reason,
        "priority": row.priority,
        "due_at": row.due_at,
        "state": row.state,
        "created_at": row.created_at,
        "assignee_id": row.assignee_id,
        "team_id": row.team_id,
        "assignee_name": names.get(row.assignee_id),
        "team_name": team_name,
        "created_by": row.created_by,
        "created_by_name": names.get(row.created_by),
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_by_name": names.get(row.acknowledged_by),
        "acknowledged_at": row.acknowledged_at,
        "resolved_by": row.resolved_by,
        "resolved_by_name": names.get(row.resolved_by),
        "resolved_at": row.resolved_at,
        "resolution": row.resolution,
        "renotified_at": row.renotified_at,
        "source": row.source,
        "appointment_id": row.appointment_id,
        "display_name": display_name,
    }


def emit_escalation(
    store: Store, conn: Connection, escalation_id: int, *, notice: str | None = None
) -> dict[str, Any]:
    """Append the escalation's whole state (and its conversation's) to the feed.

    ``notice`` ("overdue") tells clients to notify again; the state is the same as always.
    """
    state = escalation_state(conn, escalation_id)
    data = {**state, "notice": notice} if notice else state
    store._append(conn, "escalation", escalation_id, data)
    store._emit_conversation(conn, state["conversation_id"])
    return state


def visible_escalations_query(user: StaffUser) -> Any:
    """Escalations this user may list: those of conversations they may see (teams.py)."""
    from .teams import visible_conversations

    return (
        select(escalations.c.id)
        .select_from(
            escalations.join(conversations, conversations.c.id == escalations.c.conversation_id)
        )
        .where(visible_conversations(user.id, user.role))
    )


class Escalations:
    def __init__(self, db: Database, store: Store) -> None:
        self.db = db
        self.store = store

    # -- the frame ------------------------------------------------------------------------
    def _once(
        self,
        kind: str,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        apply: Callable[[Connection, float], tuple[dict[str, Any], str, dict[str, Any]]],
        *,
        address: str | None,
    ) -> dict[str, Any]:
        """Run ``apply`` once per client id; it returns (answer, audit action, detail)."""
        now = time.time()
        with self.db.write() as conn:
            earlier = previous_answer(conn, client_id, user.id, kind, conversation_id)
            if earlier is not None:
                return earlier
            if not can_see(conn, user.id, user.role, conversation_id):
                # Same answer as a missing one (the routes audit refusals they can see).
                raise ApiProblem(404, "not_found", "No such escalation.")
            answer, action, detail = apply(conn, now)
            remember_command(
                conn,
                client_id=client_id,
                user_id=user.id,
                kind=kind,
                conversation_id=conversation_id,
                answer=answer,
                action=action,
                detail=detail,
                address=address,
                now=now,
            )
            return answer

    def visible_conversation_of(
        self, user: StaffUser, escalation_id: int, *, address: str | None
    ) -> int:
        """The escalation's conversation; 404 alike for a missing one and one the user may
        not see (that attempt is audited, as for conversations)."""
        conversation_id = self.conversation_of(escalation_id)
        if conversation_id is None or not check_conversation(
            self.db, user, conversation_id, address=address
        ):
            raise ApiProblem(404, "not_found", "No such escalation.")
        return conversation_id

    def conversation_of(self, escalation_id: int) -> int | None:
        with self.db.read() as conn:
            value = conn.execute(
                select(escalations.c.conversation_id).where(escalations.c.id == escalation_id)
            ).scalar()
            return int(value) if value is not None else None

    @staticmethod
    def _check_target(conn: Connection, assignee_id: int | None, team_id: int | None) -> None:
        if assignee_id is not None and team_id is not None:
            raise ApiProblem(
                422, "invalid_request", "Escalate to a clinician or to a team, not both."
            )
        if assignee_id is not None:
            target = conn.execute(
                select(users.c.role, users.c.disabled).where(users.c.id == assignee_id)
            ).one_or_none()
            if target is None or target.disabled or target.role != Role.CLINICIAN.value:
                raise ApiProblem(422, "invalid_request", "Escalations go to a clinician.")
        if team_id is not None:
            if not conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first():
                raise ApiProblem(422, "invalid_request", "No such team.")
            clinicians = conn.execute(
                select(users.c.id)
                .join(team_members, team_members.c.user_id == users.c.id)
                .where(
                    team_members.c.team_id == team_id,
                    users.c.role == Role.CLINICIAN.value,
                    users.c.disabled.is_(False),
                )
                .limit(1)
            ).first()
            if clinicians is None:
                raise ApiProblem(422, "invalid_request", "That team has no clinician.")

    @staticmethod
    def _require_clinician(user: StaffUser) -> None:
        if user.role != Role.CLINICIAN:
            raise ApiProblem(403, "forbidden", "Only a clinician takes escalations.")

    def _row(self, conn: Connection, escalation_id: int) -> Any:
        row = conn.execute(
            select(escalations).where(escalations.c.id == escalation_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise ApiProblem(404, "not_found", "No such escalation.")
        return row

    # -- commands -------------------------------------------------------------------------
    def create(
        self,
        user: StaffUser,
        conversation_id: int,
        client_id: str,
        *,
        reason: str,
        priority: Priority,
        due_at: float | None,
        assignee_id: int | None,
        team_id: int | None,
        patient_id: int | None,
        address: str | None,
    ) -> dict[str, Any]:
        if user.role not in PATIENT_CONTENT_ROLES:
            raise ApiProblem(403, "forbidden", "Your role may not work on conversations.")
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise ApiProblem(
                422, "invalid_request", f"Give a reason (at most {MAX_REASON} characters)."
            )

        def apply(conn: Connection, now: float) -> tuple[dict[str, Any], str, dict[str, Any]]:
            self._check_target(conn, assignee_id, team_id)
            due = due_at if due_at is not None else now + DEFAULT_DUE_SECONDS[priority]
            if due < now - 60:
                raise ApiProblem(422, "invalid_request", "The due time is in the past.")
            if patient_id is not None:
                wa_id = conn.execute(
                    select(conversations.c.wa_id).where(conversations.c.id == conversation_id)
                ).scalar()
                owner = conn.execute(
                    select(patients.c.wa_id).where(patients.c.id == patient_id)
                ).scalar()
                if owner is None or owner != wa_id:
                    raise ApiProblem(
                        422, "invalid_request", "That patient does not belong to this number."
                    )
            pk = conn.execute(
                escalations.insert().values(
                    conversation_id=conversation_id,
                    patient_id=patient_id,
                    reason=reason,
                    priority=priority.value,
                    due_at=due,
                    assignee_id=assignee_id,
                    team_id=team_id,
                    state=EscalationState.OPEN.value,
                    source="staff",
                    created_by=user.id,
                    created_at=now,
                )
            ).inserted_primary_key
            assert pk is not None
            state = emit_escalation(self.store, conn, int(pk[0]))
            detail = {
                "escalation_id": state["id"],
                "priority": priority.value,
                "assignee_id": assignee_id,
                "team_id": team_id,
            }
            return {"escalation": state}, EscalationAction.CREATED, detail

        return self._once("esc_create", user, conversation_id, client_id, apply, address=address)

    def _change(
        self,
        kind: str,
        user: StaffUser,
        escalation_id: int,
        client_id: str,
        change: Callable[[Connection, Any, float], tuple[dict[str, Any], str, dict[str, Any]]],
        *,
        address: str | None,
    ) -> dict[str, Any]:
        self._require_clinician(user)
        conversation_id = self.visible_conversation_of(user, escalation_id, address=address)

        def apply(conn: Connection, now: float) -> tuple[dict[str, Any], str, dict[str, Any]]:
            row = self._row(conn, escalation_id)
            values, action, detail = change(conn, row, now)
            conn.execute(
                update(escalations).where(escalations.c.id == escalation_id).values(**values)
            )
            state = emit_escalation(self.store, conn, escalation_id)
            return {"escalation": state}, action, {"escalation_id": escalation_id, **detail}

        return self._once(kind, user, conversation_id, client_id, apply, address=address)

    def acknowledge(
        self, user: StaffUser, escalation_id: int, client_id: str, *, address: str | None
    ) -> dict[str, Any]:
        def change(conn: Connection, row: Any, now: float) -> tuple[Any, str, Any]:
            if row.state != EscalationState.OPEN.value:
                raise ApiProblem(409, "conflict", f"This escalation is {row.state} already.")
            # The target stays (everyone it was for keeps seeing who took it).
            values = {
                "state": EscalationState.ACKNOWLEDGED.value,
                "acknowledged_by": user.id,
                "acknowledged_at": now,
            }
            return values, EscalationAction.ACKNOWLEDGED, {}

        return self._change("esc_ack", user, escalation_id, client_id, change, address=address)

    def reassign(
        self,
        user: StaffUser,
        escalation_id: int,
        client_id: str,
        *,
        assignee_id: int | None,
        team_id: int | None,
        address: str | None,
    ) -> dict[str, Any]:
        def change(conn: Connection, row: Any, now: float) -> tuple[Any, str, Any]:
            if row.state == EscalationState.RESOLVED.value:
                raise ApiProblem(409, "conflict", "This escalation is resolved already.")
            self._check_target(conn, assignee_id, team_id)
            # A new person must acknowledge it again; until then it counts as open.
            values = {
                "assignee_id": assignee_id,
                "team_id": team_id,
                "state": EscalationState.OPEN.value,
                "acknowledged_by": None,
                "acknowledged_at": None,
            }
            detail = {
                "from_assignee_id": row.assignee_id,
                "assignee_id": assignee_id,
                "team_id": team_id,
            }
            return values, EscalationAction.REASSIGNED, detail

        return self._change("esc_reassign", user, escalation_id, client_id, change, address=address)

    def resolve(
        self,
        user: StaffUser,
        escalation_id: int,
        client_id: str,
        *,
        resolution: str | None,
        address: str | None,
    ) -> dict[str, Any]:
        text = (resolution or "").strip() or None
        if text is not None and len(text) > MAX_REASON:
            raise ApiProblem(422, "invalid_request", f"At most {MAX_REASON} characters.")

        def change(conn: Connection, row: Any, now: float) -> tuple[Any, str, Any]:
            if row.state == EscalationState.RESOLVED.value:
                raise ApiProblem(409, "conflict", "This escalation is resolved already.")
            values: dict[str, Any] = {
                "state": EscalationState.RESOLVED.value,
                "resolved_by": user.id,
                "resolved_at": now,
                "resolution": text,
            }
            if row.acknowledged_at is None:
                values.update(acknowledged_by=user.id, acknowledged_at=now)
            return values, EscalationAction.RESOLVED, {}

        return self._change("esc_resolve", user, escalation_id, client_id, change, address=address)

    # -- reads ----------------------------------------------------------------------------
    def listing(
        self,
        user: StaffUser,
        *,
        conversation_id: int | None = None,
        states: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        if user.role not in PATIENT_CONTENT_ROLES:
            raise ApiProblem(403, "forbidden", "Your role sees no patient content.")
        query = visible_escalations_query(user)
        if conversation_id is not None:
            query = query.where(escalations.c.conversation_id == conversation_id)
        if states:
            query = query.where(escalations.c.state.in_(states))
        if user.role == Role.CLINICIAN and conversation_id is None:
            # The queue: theirs, their teams', everyone's (not the ones of conversations
            # they see only because they are the conversation's assignee).
            my_teams = select(team_members.c.team_id).where(team_members.c.user_id == user.id)
            query = query.where(
                or_(
                    escalations.c.assignee_id == user.id,
                    escalations.c.team_id.in_(my_teams),
                    and_(escalations.c.assignee_id.is_(None), escalations.c.team_id.is_(None)),
                )
            )
        with self.db.read() as conn:
            ids = conn.execute(query.order_by(escalations.c.id)).scalars().all()
            return [escalation_state(conn, int(i)) for i in ids]


# -- red flags (automation, order 20) ----------------------------------------------------


def register_red_flags(automation: Automation, settings: RelaySettings) -> None:
    """Escalate red-flag messages at once and answer with the emergency guidance; notify
    overdue escalations again."""

    def on_message(ctx: Context, msg: Inbound) -> bool:
        return red_flag(ctx, msg, settings)

    automation.on_inbound("red_flags", on_message, order=RED_FLAG_ORDER)
    interval = settings.escalation_renotify_seconds
    automation.every(
        "overdue_escalations",
        min(60.0, interval),
        lambda store, now: renotify_overdue(store, now, interval=interval),
    )


def red_flag(ctx: Context, msg: Inbound, settings: RelaySettings) -> bool:
    """Escalate (emergency, every clinician) once per message; answer the patient at once.

    Not consuming: the message may still carry a booking request or an answer for the bots.
    """
    found = red_flags(msg.text)
    if not found:
        return False
    conn = ctx.conn
    exists = conn.execute(
        select(escalations.c.id).where(escalations.c.source_message_id == msg.message_id)
    ).first()
    if exists is not None:
        return False
    pk = conn.execute(
        escalations.insert().values(
            conversation_id=msg.conversation_id,
            reason=f"{RED_FLAG_REASON}: {', '.join(flag_words(msg.text or '', found))}"[
                :MAX_REASON
            ],
            priority=Priority.EMERGENCY.value,
            due_at=ctx.now + DEFAULT_DUE_SECONDS[Priority.EMERGENCY],
            state=EscalationState.OPEN.value,
            source="red_flag",
            source_message_id=msg.message_id,
            created_at=ctx.now,
        )
    ).inserted_primary_key
    assert pk is not None
    escalation_id = int(pk[0])
    emit_escalation(ctx.store, conn, escalation_id)
    language = guess_language(conn, msg.conversation_id, found)
    try:
        ctx.send(
            msg.conversation_id,
            purpose="emergency_guidance",
            text=guidance_text(settings, language),
            key=f"redflag:{msg.message_id}",
        )
    except WindowClosed:  # an inbound message opens the window; only an old one is closed
        log.warning("emergency guidance not sent for message %d: window closed", msg.message_id)
    audit.record(
        conn,
        EscalationAction.RED_FLAG,
        conversation_id=msg.conversation_id,
        # The phrases are a closed vocabulary (keywords.py), not the patient's words.
        detail={"escalation_id": escalation_id, "flags": found, "language": language},
        now=ctx.now,
    )
    log.info("red flag in message %d: escalation %d", msg.message_id, escalation_id)
    return False


def flag_words(text: str, found: list[str]) -> list[str]:
    """The words as the patient wrote them (folded), e.g. "brustschmerzen" for the stem."""
    folded = fold(text)
    words = []
    for phrase in found:
        match = re.search(rf"\b{re.escape(phrase)}\w*", folded)
        words.append(match.group(0) if match else phrase)
    return list(dict.fromkeys(words))


def renotify_overdue(store: Store, now: float, *, interval: float) -> int:
    """Mark unacknowledged escalations past due and notify again, once per ``interval``."""
    with store.db.write() as conn:
        ids = (
            conn.execute(
                select(escalations.c.id)
                .where(
                    escalations.c.state == EscalationState.OPEN.value,
                    escalations.c.due_at <= now,
                    or_(
                        escalations.c.renotified_at.is_(None),
                        escalations.c.renotified_at <= now - interval,
                    ),
                )
                .order_by(escalations.c.id)
            )
            .scalars()
            .all()
        )
        for escalation_id in ids:
            conn.execute(
                update(escalations)
                .where(escalations.c.id == escalation_id)
                .values(renotified_at=now)
            )
            emit_escalation(store, conn, int(escalation_id), notice="overdue")
    return len(ids)
