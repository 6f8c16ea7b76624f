"""Calling the patient back from an escalation, and what the thread shows about calls.

- "Call patient": where WhatsApp calling is set up (INBOX_WHATSAPP_CALLING=1) the relay
  sends the patient a call-permission request (an interactive ``call_permission_request``);
  otherwise it answers with the number for the desktop's ``tel:`` handler, or sends the
  clinic's video-visit link. Audio never passes the relay.
- The patient's permission answer (an inbound ``call_permission_reply``) and the call
  webhooks become ``call`` events of the conversation.
- The outcome (reached, not reached, callback scheduled with a time, a note) is stored,
  audited and shown in the thread as a note by the clinician who called.

Each ``call`` event carries the whole call-log row (state, not diff).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from inbox_app.domain.escalations import MAX_NOTE, CallOutcome
from inbox_app.domain.phone import display_phone
from inbox_app.domain.roles import Role

from .access import ApiProblem
from .auth import StaffUser
from .automation import Automation, Context, Inbound
from .db import call_log, conversations, escalations, messages, notes, users
from .escalations import EscalationAction, Escalations
from .settings import RelaySettings
from .store import Store, WindowClosed
from .templates import Template, TemplateCache

CALL_PERMISSION_ORDER = 21  # just after red flags: the answer is for us, not for the bots

PERMISSION_PROMPT = {
    "de": "Dürfen wir Sie über WhatsApp anrufen?",
    "en": "May we call you on WhatsApp?",
}

PERMISSION_MARK = {"accept": "☎ ✓", "reject": "☎ ✗"}


@dataclass(frozen=True, slots=True)
class CallPermission:
    """What Graph's ``call_permissions`` says about one patient (read before a call back)."""

    granted: bool
    expires_at: float | None = None
    can_request: bool = True  # False: the one request per 24 hours has gone out already

    @classmethod
    def from_graph(cls, answer: dict[str, Any]) -> CallPermission:
        permission = answer.get("permission")
        status = permission.get("status") if isinstance(permission, dict) else None
        expires = permission.get("expiration_time") if isinstance(permission, dict) else None
        can_request = True
        for action in answer.get("actions") or ():
            if isinstance(action, dict) and (
                action.get("action_name") == "send_call_permission_request"
            ):
                can_request = action.get("can_perform_action") is not False
        return cls(
            granted=status in ("temporary", "permanent"),
            expires_at=float(expires) if isinstance(expires, int | float) else None,
            can_request=can_request,
        )


OUTCOME_LABEL = {
    CallOutcome.REACHED: "reached",
    CallOutcome.NOT_REACHED: "not reached",
    CallOutcome.CALLBACK: "callback scheduled",
}


def call_state(conn: Connection, call_id: int) -> dict[str, Any]:
    row = conn.execute(select(call_log).where(call_log.c.id == call_id)).one()
    name = (
        conn.execute(select(users.c.display_name).where(users.c.id == row.user_id)).scalar()
        if row.user_id is not None
        else None
    )
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "escalation_id": row.escalation_id,
        "kind": row.kind,
        "user_id": row.user_id,
        "user_name": name,
        "outcome": row.outcome,
        "callback_at": row.callback_at,
        "note": row.note,
        "status": row.status,
        "created_at": row.created_at,
        "direction": row.direction,
        "duration": row.duration,
    }


def log_call(store: Store, conn: Connection, now: float, **values: Any) -> dict[str, Any]:
    """Insert one call-log row and append its ``call`` event (in the caller's transaction)."""
    pk = conn.execute(call_log.insert().values(created_at=now, **values)).inserted_primary_key
    assert pk is not None
    state = call_state(conn, int(pk[0]))
    store._append(conn, "call", state["id"], state)
    return state


def _latest_escalation(conn: Connection, conversation_id: int) -> int | None:
    value = conn.execute(
        select(escalations.c.id)
        .where(escalations.c.conversation_id == conversation_id)
        .order_by(escalations.c.id.desc())
        .limit(1)
    ).scalar()
    return int(value) if value is not None else None


# How far along a call's webhooks are; a later-arriving earlier event (Meta does not keep
# order) never takes the row back. A decline outranks the hang-up that follows it.
_CALL_STAGE = {
    "status:RINGING": 0,
    "status:ACCEPTED": 1,
    "connect": 2,
    "status:REJECTED": 4,
}
_ENDED = 3  # terminate:COMPLETED, terminate:FAILED …


def _stage(status: str | None) -> int:
    if status is None:
        return -1
    return _CALL_STAGE.get(status, _ENDED if status.startswith("terminate") else -1)


def record_call_webhook(
    store: Store,
    conn: Connection,
    conversation_id: int,
    event: str,
    status: str,
    at: float,
    *,
    call_id: str | None = None,
    direction: str | None = None,
    duration: int | None = None,
) -> None:
    """A stored call webhook (inbound.py) as the ``call`` event of its call: one call-log
    row per WhatsApp call (``call_id``, the wacid), whose state the webhooks move on, so the
    thread shows one bubble per call ("Missed WhatsApp call"), as WhatsApp itself does.
    ``status`` is ``event:STATUS``, e.g. ``connect``, ``terminate:COMPLETED``."""
    state = f"{event}:{status}".strip(":")[:64]
    talked = duration if duration is None or 0 <= duration < 2**31 else None
    row = (
        conn.execute(
            select(call_log.c.id, call_log.c.status, call_log.c.direction, call_log.c.duration)
            .where(call_log.c.call_id == call_id, call_log.c.conversation_id == conversation_id)
            .limit(1)
        ).one_or_none()
        if call_id
        else None
    )
    if row is None:
        log_call(
            store,
            conn,
            at,
            conversation_id=conversation_id,
            escalation_id=_latest_escalation(conn, conversation_id),
            kind="webhook",
            status=state,
            direction=(direction or None) and direction[:32],
            duration=talked,
            call_id=call_id[:256] if call_id else None,
        )
        return
    values: dict[str, Any] = {}
    if _stage(state) >= _stage(row.status):
        values["status"] = state
    if row.direction is None and direction:
        values["direction"] = direction[:32]
    if talked is not None and (row.duration or 0) < talked:
        values["duration"] = talked
    if not values:
        return  # an earlier stage arriving late: the row already says more
    conn.execute(update(call_log).where(call_log.c.id == row.id).values(**values))
    store._append(conn, "call", int(row.id), call_state(conn, int(row.id)))


class Calls:
    def __init__(self, escalations: Escalations, settings: RelaySettings) -> None:
        self.escalations = escalations
        self.store = escalations.store
        self.settings = settings

    def _allowed(self, user: StaffUser) -> None:
        # Calling back is the clinician's part (ARCHITECTURE.md, 'Who may do what').
        if user.role != Role.CLINICIAN:
            raise ApiProblem(403, "forbidden", "Only a clinician calls patients back.")

    def request(
        self,
        user: StaffUser,
        escalation_id: int,
        client_id: str,
        *,
        mode: str,
        language: str,
        address: str | None,
        permission: CallPermission | None = None,
    ) -> dict[str, Any]:
        """Start a call back; ``mode`` auto | whatsapp | tel | video. Answers the mode used
        and, for ``tel``, the number to dial. ``permission`` (read from Graph just before,
        None when unknown): a patient who already allows calls is not asked again, and a
        second request within 24 hours is refused as Meta would."""
        self._allowed(user)
        conversation_id = self.escalations.visible_conversation_of(
            user, escalation_id, address=address
        )
        if mode == "auto":
            mode = "whatsapp" if self.settings.whatsapp_calling else "tel"
        if mode == "whatsapp" and not self.settings.whatsapp_calling:
            raise ApiProblem(422, "calling_off", "WhatsApp calling is not set up for this number.")
        if mode == "video" and not self.settings.video_visit_url:
            raise ApiProblem(422, "video_off", "No video-visit link is configured.")
        # Read before the write transaction: outside the window the link needs a template.
        video_template = (
            TemplateCache(self.store.db).get(self.settings.video_visit_template, language)
            if mode == "video"
            else None
        )

        def apply(conn: Connection, now: float) -> tuple[dict[str, Any], str, dict[str, Any]]:
            wa_id = conn.execute(
                select(conversations.c.wa_id).where(conversations.c.id == conversation_id)
            ).scalar_one()
            answer: dict[str, Any] = {"mode": mode}
            try:
                if mode == "whatsapp" and permission is not None and permission.granted:
                    # Allowed already: the clinician calls from the phone system right away.
                    answer["permission"] = {
                        "status": "granted",
                        "expires_at": permission.expires_at,
                    }
                    kind = "permission_granted"
                elif mode == "whatsapp" and permission is not None and not permission.can_request:
                    raise ApiProblem(
                        422,
                        "permission_pending",
                        "A call-permission request went to the patient in the last 24 hours; "
                        "wait for the answer or call by phone.",
                    )
                elif mode == "whatsapp":
                    prompt = PERMISSION_PROMPT.get(language, PERMISSION_PROMPT["de"])
                    self.store.enqueue_outgoing(
                        conn,
                        conversation_id=conversation_id,
                        client_id=f"call:{client_id}"[:64],
                        text=prompt,
                        author_id=user.id,
                        now=now,
                        type="interactive",
                        details={
                            "interactive": {
                                "type": "call_permission_request",
                                "action": {"name": "call_permission_request"},
                                "body": {"text": prompt},
                            }
                        },
                    )
                    kind = "permission_requested"
                elif mode == "video":
                    answer["via"] = self._send_video_link(
                        conn, conversation_id, f"call:{client_id}"[:64], user, now, video_template
                    )
                    kind = "video"
                else:
                    answer["phone"] = display_phone(wa_id) if wa_id.isdigit() else None
                    answer["tel"] = f"tel:+{wa_id}" if wa_id.isdigit() else None
                    kind = "tel"
            except WindowClosed:
                raise ApiProblem(
                    422,
                    "window_closed",
                    "The 24-hour window is closed and no approved video-visit template is "
                    "available: call the patient by phone instead."
                    if mode == "video"
                    else "The 24-hour window is closed: call the patient by phone instead.",
                ) from None
            answer["call"] = log_call(
                self.store,
                conn,
                now,
                conversation_id=conversation_id,
                escalation_id=escalation_id,
                kind=kind,
                user_id=user.id,
            )
            detail = {"escalation_id": escalation_id, "mode": mode}
            return answer, EscalationAction.CALL_REQUESTED, detail

        return self.escalations._once(
            "call_request", user, conversation_id, client_id, apply, address=address
        )

    def wa_id_of(self, user: StaffUser, escalation_id: int, *, address: str | None) -> str:
        """The number of the escalation's patient, for a clinician who may see it (the same
        404 as ``request`` otherwise)."""
        self._allowed(user)
        conversation_id = self.escalations.visible_conversation_of(
            user, escalation_id, address=address
        )
        with self.store.db.read() as conn:
            return str(
                conn.execute(
                    select(conversations.c.wa_id).where(conversations.c.id == conversation_id)
                ).scalar_one()
            )

    def _send_video_link(
        self,
        conn: Connection,
        conversation_id: int,
        client_id: str,
        user: StaffUser,
        now: float,
        template: Template | None,
    ) -> str:
        """Queue the video-visit link: as text in the 24-hour window, else in the approved
        template; answers "text" or "template". Raises WindowClosed when neither may go."""
        url = self.settings.video_visit_url
        try:
            self.store.enqueue_outgoing(
                conn,
                conversation_id=conversation_id,
                client_id=client_id,
                text=url,
                author_id=user.id,
                now=now,
            )
            return "text"
        except WindowClosed:
            if template is None or template.status != "APPROVED":
                raise
        self.store.enqueue_outgoing(
            conn,
            conversation_id=conversation_id,
            client_id=client_id,
            text=template.render([url]),
            author_id=user.id,
            now=now,
            type="template",
            details={"template": template.graph_payload(header=[], body=[url], buttons={})},
            template=True,
        )
        return "template"

    def outcome(
        self,
        user: StaffUser,
        escalation_id: int,
        client_id: str,
        *,
        outcome: CallOutcome,
        note: str | None,
        callback_at: float | None,
        address: str | None,
    ) -> dict[str, Any]:
        self._allowed(user)
        text = (note or "").strip() or None
        if text is not None and len(text) > MAX_NOTE:
            raise ApiProblem(422, "invalid_request", f"At most {MAX_NOTE} characters.")
        if outcome == CallOutcome.CALLBACK and callback_at is None:
            raise ApiProblem(422, "invalid_request", "A scheduled callback needs its time.")
        if outcome != CallOutcome.CALLBACK:
            callback_at = None
        conversation_id = self.escalations.visible_conversation_of(
            user, escalation_id, address=address
        )

        def apply(conn: Connection, now: float) -> tuple[dict[str, Any], str, dict[str, Any]]:
            state = log_call(
                self.store,
                conn,
                now,
                conversation_id=conversation_id,
                escalation_id=escalation_id,
                kind="outcome",
                user_id=user.id,
                outcome=outcome.value,
                callback_at=callback_at,
                note=text,
            )
            # In the thread as the clinician's note (staff only, never sent to the patient).
            line = f"☎ {OUTCOME_LABEL[outcome]}"
            if callback_at is not None:
                line += " · " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(callback_at))
            if text:
                line += f" — {text}"
            pk = conn.execute(
                notes.insert().values(
                    conversation_id=conversation_id,
                    author_id=user.id,
                    text=line,
                    mentions="[]",
                    created_at=now,
                )
            ).inserted_primary_key
            assert pk is not None
            self.store._append(
                conn,
                "note",
                int(pk[0]),
                {
                    "id": int(pk[0]),
                    "conversation_id": conversation_id,
                    "author_id": user.id,
                    "author_name": user.display_name,
                    "text": line,
                    "mentions": [],
                    "created_at": now,
                    # The outcome itself, so a desktop can word the note in its language.
                    "call": state,
                },
            )
            detail = {
                "escalation_id": escalation_id,
                "outcome": outcome.value,
                "callback_at": callback_at,
            }
            return {"call": state}, EscalationAction.CALL_OUTCOME, detail

        return self.escalations._once(
            "call_outcome", user, conversation_id, client_id, apply, address=address
        )


def register_call_replies(automation: Automation) -> None:
    """The patient's answer to a call-permission request, as a ``call`` event."""

    def on_message(ctx: Context, msg: Inbound) -> bool:
        interactive = msg.details.get("interactive") or {}
        if msg.type != "interactive" or interactive.get("kind") != "call_permission_reply":
            return False
        answer = str(interactive.get("permission") or "unknown")[:64]
        log_call(
            ctx.store,
            ctx.conn,
            ctx.now,
            conversation_id=msg.conversation_id,
            escalation_id=_latest_escalation(ctx.conn, msg.conversation_id),
            kind="permission_reply",
            status=answer,
        )
        # The answer has no words of its own; the thread shows it as a phone with a mark.
        ctx.conn.execute(
            update(messages)
            .where(messages.c.id == msg.message_id, messages.c.text.is_(None))
            .values(text=PERMISSION_MARK.get(answer, "☎ ?"))
        )
        ctx.store._emit_message(ctx.conn, msg.message_id)
        return True  # an answer for the clinician, nothing for the bots to reply to

    automation.on_inbound("call_permission_replies", on_message, order=CALL_PERMISSION_ORDER)
