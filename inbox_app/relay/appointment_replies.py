"""What a tap on a reminder's buttons does (automation order 30): Confirm confirms, Cancel
cancels and frees the slot, Reschedule offers free slots as a list and books the row the
patient chooses (race-free, booking.py), cancelling the old appointment.

Every answer is an automated message in the patient's thread, every change an
``appointment`` event (the patient panel updates); FHIR write-back follows the events
(fhir_writeback.py). A tap from another number, on an appointment that moved or is gone,
gets a polite answer and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.keywords import fold
from inbox_app.domain.scheduling import ClinicSchedule, Slot

from .automation import Automation, Context, Inbound
from .booking import Booking, SlotTaken, set_status_in
from .db import appointments, conversations, patients
from .reminder_config import ReminderConfig
from .reminder_sender import format_day, format_time, language_of

log = logging.getLogger("inbox.relay.appointments")

ACTIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value)
SLOT_CHOICES = 10  # WhatsApp lists hold at most 10 rows
SEARCH_DAYS = 14

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "confirmed": "Danke! Ihr Termin am {day} um {time} Uhr ist bestätigt.",
        "cancelled": "Ihr Termin am {day} um {time} Uhr ist abgesagt. Wenn Sie einen neuen "
        "Termin möchten, schreiben Sie uns einfach.",
        "choose": "Welcher Termin passt Ihnen? Bitte wählen Sie einen aus.",
        "choose_button": "Termine ansehen",
        "taken": "Dieser Termin wurde gerade vergeben. Hier sind die nächsten freien Termine:",
        "none": "Leider ist in den nächsten zwei Wochen kein Termin frei. Das Praxisteam "
        "meldet sich bei Ihnen.",
        "no_schedule": "Gern! Das Praxisteam meldet sich bei Ihnen mit einem neuen Termin.",
        "booked": "Ihr neuer Termin: {day} um {time} Uhr{with_whom}. Der bisherige Termin ist "
        "abgesagt.",
        "with": " bei {clinician}",
        "stale": "Diese Auswahl ist nicht mehr aktuell. Schreiben Sie uns gern, wir helfen "
        "Ihnen weiter.",
    },
    "en": {
        "confirmed": "Thank you! Your appointment on {day} at {time} is confirmed.",
        "cancelled": "Your appointment on {day} at {time} is cancelled. If you would like a "
        "new one, just write to us.",
        "choose": "Which time suits you? Please choose one.",
        "choose_button": "See times",
        "taken": "That time was just taken. Here are the next free times:",
        "none": "Sorry, there is no free time in the next two weeks. The practice team will "
        "get back to you.",
        "no_schedule": "Of course! The practice team will get back to you with a new time.",
        "booked": "Your new appointment: {day} at {time}{with_whom}. The previous appointment "
        "is cancelled.",
        "with": " with {clinician}",
        "stale": "This choice is no longer current. Please write to us and we will help.",
    },
}


def _say(lang: str, key: str, **values: str) -> str:
    return TEXTS[lang][key].format(**values)


def type_of(schedule: ClinicSchedule, reason: str | None, minutes: float) -> str:
    """The appointment type behind an appointment: by its reason (code or label), else the
    type whose length fits the appointment best."""
    if reason:
        key = fold(reason)
        for code, kind in schedule.types.items():
            if key in (fold(code), fold(kind.label_de), fold(kind.label_en)):
                return code
    return min(schedule.types, key=lambda c: abs(schedule.types[c].minutes - minutes))


class AppointmentReplies:
    def __init__(self, config: ReminderConfig) -> None:
        self.config = config
        self.tz = config.policy.timezone

    # -- entry point (automation handler) -----------------------------------------------
    def __call__(self, ctx: Context, msg: Inbound) -> bool:
        reply = msg.reply_id
        if not reply or not reply.startswith(("appt:", "slot:")):
            return False
        # appt:<appointment>:<action>:<its start>  |  slot:<appointment>:<new start>:<clinician>
        parts = reply.split(":", 3)
        try:
            appointment_id, number = (
                int(parts[1]),
                int(parts[3] if parts[0] == "appt" else parts[2]),
            )
            word = parts[2] if parts[0] == "appt" else parts[3]
        except (IndexError, ValueError):
            appointment_id, number, word = 0, 0, ""
        row = self._appointment(ctx, msg.conversation_id, appointment_id)
        lang = language_of(
            row.language if row is not None else self._language(ctx, msg.conversation_id)
        )
        if row is None or row.status not in ACTIVE or row.start <= ctx.now:
            return self._stale(ctx, msg, lang)
        if parts[0] == "slot":
            return self._book(ctx, msg, row, lang, word, float(number))
        if int(row.start) != number:  # the appointment moved since this reminder
            return self._stale(ctx, msg, lang)
        action = word
        if action == "confirm":
            set_status_in(ctx.store, ctx.conn, row.id, AppointmentStatus.CONFIRMED)
            self._answer(ctx, msg, "confirmed", lang, row, "confirmed")
        elif action == "cancel":
            set_status_in(ctx.store, ctx.conn, row.id, AppointmentStatus.CANCELLED)
            self._answer(ctx, msg, "cancelled", lang, row, "cancelled")
        elif action == "reschedule":
            self._offer(ctx, msg, row, lang, intro="choose")
        else:
            return self._stale(ctx, msg, lang)
        return True

    # -- steps --------------------------------------------------------------------------
    def _appointment(self, ctx: Context, conversation_id: int, appointment_id: int) -> Any:
        """The appointment, only if it belongs to a patient on this conversation's number."""
        return ctx.conn.execute(
            select(
                appointments.c.id,
                appointments.c.patient_id,
                appointments.c.start,
                appointments.c.end,
                appointments.c.status,
                appointments.c.reason,
                appointments.c.clinician,
                patients.c.language,
            )
            .join(patients, patients.c.id == appointments.c.patient_id)
            .join(conversations, conversations.c.wa_id == patients.c.wa_id)
            .where(appointments.c.id == appointment_id, conversations.c.id == conversation_id)
        ).first()

    @staticmethod
    def _language(ctx: Context, conversation_id: int) -> str | None:
        """The language of the patient(s) on this conversation's number, if known."""
        return ctx.conn.execute(
            select(patients.c.language)
            .join(conversations, conversations.c.wa_id == patients.c.wa_id)
            .where(conversations.c.id == conversation_id, patients.c.language.is_not(None))
            .order_by(patients.c.id)
        ).scalar()

    def _answer(
        self, ctx: Context, msg: Inbound, key: str, lang: str, row: Any, action: str
    ) -> None:
        text = _say(
            lang,
            key,
            day=format_day(row.start, lang, self.tz),
            time=format_time(row.start, self.tz),
        )
        self._send_text(ctx, msg, text, row.id, action)

    def _send_text(
        self, ctx: Context, msg: Inbound, text: str, appointment_id: int | None, action: str
    ) -> None:
        details: dict[str, Any] = {"appointment_action": action}
        if appointment_id is not None:
            details["appointment_id"] = appointment_id
        ctx.send(
            msg.conversation_id,
            purpose="appointment",
            text=text,
            details=details,
            key=f"appt-reply:{msg.message_id}",
        )

    def _stale(self, ctx: Context, msg: Inbound, lang: str) -> bool:
        self._send_text(ctx, msg, _say(lang, "stale"), None, "stale")
        return True

    def _slots(self, ctx: Context, row: Any, schedule: ClinicSchedule) -> list[Slot]:
        type_code = type_of(schedule, row.reason, (row.end - row.start) / 60)
        today = datetime.fromtimestamp(ctx.now, ZoneInfo(schedule.timezone)).date()
        busy: dict[str, list[tuple[float, float]]] = {}
        for other in ctx.conn.execute(
            select(appointments.c.clinician, appointments.c.start, appointments.c.end).where(
                appointments.c.status != AppointmentStatus.CANCELLED.value,
                appointments.c.end > ctx.now,
                appointments.c.start < ctx.now + (SEARCH_DAYS + 2) * 86400,
            )
        ):
            busy.setdefault(other.clinician or "", []).append((other.start, other.end))
        return schedule.free_slots(
            type_code=type_code,
            first_day=today,
            days=SEARCH_DAYS,
            busy=busy,
            now=ctx.now,
            limit=SLOT_CHOICES,
        )

    def _free(self, ctx: Context, schedule: ClinicSchedule, type_code: str, slot: Slot) -> bool:
        """Still a bookable slot (opening and working hours, lead time, nothing booked)."""
        day = datetime.fromtimestamp(slot.start, ZoneInfo(schedule.timezone)).date()
        busy: dict[str, list[tuple[float, float]]] = {}
        for other in ctx.conn.execute(
            select(appointments.c.start, appointments.c.end).where(
                appointments.c.clinician == slot.clinician,
                appointments.c.status != AppointmentStatus.CANCELLED.value,
                appointments.c.end > slot.start - 86400,
                appointments.c.start < slot.end + 86400,
            )
        ):
            busy.setdefault(slot.clinician, []).append((other.start, other.end))
        free = schedule.free_slots(
            type_code=type_code,
            first_day=day,
            days=1,
            busy=busy,
            now=ctx.now,
            clinician=slot.clinician,
            limit=1000,
        )
        return any(s.start == slot.start for s in free)

    def _offer(self, ctx: Context, msg: Inbound, row: Any, lang: str, *, intro: str) -> None:
        schedule = self.config.schedule
        if schedule is None:
            self._send_text(ctx, msg, _say(lang, "no_schedule"), row.id, "reschedule_requested")
            return
        slots = self._slots(ctx, row, schedule)
        if not slots:
            self._send_text(ctx, msg, _say(lang, "none"), row.id, "no_free_slots")
            return
        rows = [
            {
                "id": f"slot:{row.id}:{int(slot.start)}:{slot.clinician}"[:200],
                "title": (
                    f"{format_day(slot.start, lang, schedule.timezone)} "
                    f"{format_time(slot.start, schedule.timezone)}"
                )[:24],
                "description": slot.clinician[:72],
            }
            for slot in slots
        ]
        text = _say(lang, intro)
        interactive = {
            "type": "list",
            "body": {"text": text},
            "action": {"button": _say(lang, "choose_button"), "sections": [{"rows": rows}]},
        }
        ctx.send(
            msg.conversation_id,
            purpose="appointment",
            text=text,
            type="interactive",
            details={
                "interactive": interactive,
                "appointment_id": row.id,
                "appointment_action": "slots_offered",
            },
            key=f"appt-reply:{msg.message_id}",
        )

    def _book(
        self, ctx: Context, msg: Inbound, old: Row[Any], lang: str, clinician: str, start: float
    ) -> bool:
        schedule = self.config.schedule
        if schedule is None:
            return self._stale(ctx, msg, lang)
        type_code = type_of(schedule, old.reason, (old.end - old.start) / 60)
        kind = schedule.types[type_code]
        slot = Slot(clinician, start, start + kind.minutes * 60)
        if clinician not in schedule.clinicians or not self._free(ctx, schedule, type_code, slot):
            # Gone meanwhile (or never offered): the next free times instead.
            self._offer(ctx, msg, old, lang, intro="taken")
            return True
        try:
            new = Booking(ctx.store, schedule).book_in(
                ctx.conn,
                patient_id=old.patient_id,
                slot=slot,
                type_code=type_code,
                reason=old.reason,
                status=AppointmentStatus.CONFIRMED,
            )
        except SlotTaken:
            self._offer(ctx, msg, old, lang, intro="taken")
            return True
        set_status_in(ctx.store, ctx.conn, old.id, AppointmentStatus.CANCELLED)
        if self.config.fhir_url:
            # The new appointment is created on the FHIR server like a booking by chat
            # (bots/fhir.py); the old one's cancellation follows by fhir_writeback.py.
            from .bots.fhir import queue_booking

            queue_booking(ctx.conn, new.id, None, ctx.now)
        with_whom = _say(lang, "with", clinician=clinician) if clinician else ""
        text = _say(
            lang,
            "booked",
            day=format_day(new.start, lang, schedule.timezone),
            time=format_time(new.start, schedule.timezone),
            with_whom=with_whom,
        )
        self._send_text(ctx, msg, text, new.id, "rescheduled")
        return True


def register_appointment_replies(automation: Automation, config: ReminderConfig) -> None:
    automation.on_inbound("appointment_replies", AppointmentReplies(config), order=30)
