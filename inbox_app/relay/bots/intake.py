"""The intake bot (automation order 60): greets a conversation no one on staff is
handling, asks name, date of birth and the reason (a list), then hands over to the inbox.
"Book an appointment" (or a first message asking for one) continues in booking_chat.py.

Staff take over at any moment: a staff message, a claim, an assignment, a status change
or ``POST /v1/conversations/{id}/bot/stop`` ends the bot in that conversation. The bot
never answers questions itself (texts.py); it says a member of staff will.
"""

from __future__ import annotations

from sqlalchemy import select

from inbox_app.domain.conversations import window_remaining

from ..automation import Automation, Context, Inbound
from ..db import conversations, patients
from . import booking_chat, handover
from .config import BotSettings
from .dialogue import LANGUAGE_BUTTON, Turn, finish
from .fhir import FhirSlots
from .state import BOOKING, HANDED_OVER, INTAKE, STOPPED, BotState, load, save, staff_active, stop
from .texts import LANGUAGES, REASONS
from .understand import (
    clean_name,
    guess_language,
    is_question,
    language_switch,
    parse_birth_date,
    wants_booking,
)

ORDER = 60
MAX_TRIES = 3
_TEXT_TYPES = ("text", "interactive", "button")
# What a patient sends that opens a dialogue (not system notices or unsupported types).
_STARTERS = (
    *_TEXT_TYPES,
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "contacts",
    "request_welcome",
)


class ChatBots:
    """The registered handler: starts, continues or stays out of a conversation."""

    def __init__(self, settings: BotSettings, slots: FhirSlots | None = None) -> None:
        self.settings = settings
        self.slots = slots  # FHIR Slot resources instead of the schedule's free slots

    def __call__(self, ctx: Context, msg: Inbound) -> bool:
        conn, conv_id = ctx.conn, msg.conversation_id
        state = load(conn, conv_id)
        if state is not None and state.flow == STOPPED:
            return False
        busy = staff_active(conn, conv_id, ctx.now)
        if busy is not None:
            if state is not None and stop(conn, conv_id, busy, ctx.now):
                handover.record(conn, handover.AUDIT_STOPPED, conv_id, {"reason": busy}, ctx.now)
            return False
        conv = conn.execute(
            select(conversations.c.wa_id, conversations.c.last_inbound_at).where(
                conversations.c.id == conv_id
            )
        ).one()
        if window_remaining(conv.last_inbound_at, ctx.now) < 600:
            return False  # a late redelivery of an old message: free text may not go out
        wa_id = str(conv.wa_id)
        if state is None:
            return self._start(ctx, msg, wa_id)
        turn = Turn(ctx, msg, state, self.settings, wa_id, self.slots)
        if state.flow == HANDED_OVER:
            # After the hand-over the bot is quiet, unless the patient asks to book.
            if not (self.settings.booking and wants_booking(msg.text)):
                return False
            state.flow = BOOKING
            booking_chat.start(turn)
        else:
            self._continue(turn)
        save(conn, state, ctx.now)
        return True

    def _start(self, ctx: Context, msg: Inbound, wa_id: str) -> bool:
        if msg.type not in _STARTERS:
            return False  # e.g. a number-change notice from WhatsApp is not the patient
        booking = self.settings.booking and wants_booking(msg.text)
        if not booking and not self.settings.intake:
            return False
        known = ctx.conn.execute(
            select(patients.c.language).where(
                patients.c.wa_id == wa_id, patients.c.language.is_not(None)
            )
        ).scalar()
        language = guess_language(msg.text, wa_id, known)
        state = BotState(
            msg.conversation_id,
            flow=BOOKING if booking else INTAKE,
            step="name",
            language=language,
            started_at=ctx.now,
            is_new=True,
        )
        turn = Turn(ctx, msg, state, self.settings, wa_id, self.slots)
        if booking:
            state.data["reason"] = "book"
        turn.greet("booking_greeting" if booking else "greeting")
        save(ctx.conn, state, ctx.now)
        return True

    def _continue(self, turn: Turn) -> None:
        msg = turn.msg
        reply = msg.reply_id or ""
        if reply.startswith(LANGUAGE_BUTTON):
            switch: str | None = reply.removeprefix(LANGUAGE_BUTTON)
            switch = switch if switch in LANGUAGES else None
        else:
            switch = language_switch(msg.text)
        if switch is not None:
            turn.state.language = switch
            ask(turn)
            return
        if msg.type not in _TEXT_TYPES:
            turn.text(turn.say("not_text"))
            ask(turn)
            return
        step = turn.state.step
        if step == "name":
            self._name(turn)
        elif step == "dob":
            self._dob(turn)
        elif step == "reason":
            self._reason(turn)
        else:
            booking_chat.answer(turn)

    # -- the intake's questions -----------------------------------------------------------
    def _name(self, turn: Turn) -> None:
        name = None if turn.msg.reply_id else clean_name(turn.msg.text)
        if name is None:
            self._retry(turn, "bad_name")
            return
        turn.data["name"] = name
        turn.move("dob")
        ask(turn)

    def _dob(self, turn: Turn) -> None:
        born = parse_birth_date(turn.msg.text, turn.today())
        if born is None:
            self._retry(turn, "bad_dob")
            return
        turn.data["dob"] = born.isoformat()
        if turn.state.flow == BOOKING:
            booking_chat.after_identity(turn)
        else:
            turn.move("reason")
            ask(turn)

    def _reason(self, turn: Turn) -> None:
        reply = turn.msg.reply_id or ""
        code = reply.removeprefix("bot-reason:") if reply.startswith("bot-reason:") else None
        if code is None and wants_booking(turn.msg.text):
            code = "book"
        if code == "book" and self.settings.booking:
            turn.data["reason"] = "book"
            turn.state.flow = BOOKING
            booking_chat.after_identity(turn)
            return
        if code not in REASONS:
            # Free text: kept in the thread for staff; the bot does not try to answer it.
            code = "other"
            if is_question(turn.msg.text):
                turn.text(turn.say("staff_will_answer"))
        turn.data["reason"] = code
        finish(turn)

    def _retry(self, turn: Turn, key: str) -> None:
        if turn.tries() >= MAX_TRIES:
            finish(turn)  # not getting anywhere: a person takes it from here
        elif is_question(turn.msg.text):
            turn.text(turn.say("staff_will_answer"))
            ask(turn)
        else:
            turn.text(turn.say(key))


def ask(turn: Turn) -> None:
    """(Re)send the question of the current step, e.g. after a language switch."""
    step = turn.state.step
    if step == "name":
        turn.text(turn.say("ask_name"))
    elif step == "dob":
        turn.text(turn.say("ask_dob", name=turn.data.get("name", "")))
    elif step == "reason":
        turn.choices(
            turn.say("ask_reason"),
            turn.say("reason_button"),
            [(f"bot-reason:{code}", titles[turn.lang], None) for code, titles in REASONS.items()],
        )
    else:
        booking_chat.ask(turn)


def register(
    automation: Automation, settings: BotSettings, *, slots: FhirSlots | None = None
) -> None:
    automation.on_inbound("chat_bots", ChatBots(settings, slots), order=ORDER)
