"""Booking by chat: insurance (statutory or private, then the insurer), the kind of
appointment, free slots as a list, the chosen one booked race-free and confirmed.

The booking runs inside the automation's write transaction (writes are serialised: BEGIN
IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so checking the slot and taking it
cannot interleave with another booking; the slot_locks key is the last line of defence.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus
from inbox_app.domain.scheduling import ClinicSchedule, Slot

from ..booking import Booking, SlotTaken
from ..db import appointments
from ..store import Store
from . import handover
from .dialogue import Turn, finish
from .fhir import OfferedSlot, queue_booking
from .texts import MONTHS_SHORT_EN, WEEKDAYS, WEEKDAYS_LONG

# How reports.py recognises a booking by chat (until FHIR makes it the practice system's).
CHAT_BOOKING_PREFIX = "chat:"
_STATUTORY_WORDS = ("gesetzlich", "statutory", "gkv", "kasse", "public")
_PRIVATE_WORDS = ("privat", "private", "pkv")


def start(turn: Turn) -> None:
    """Begin a booking: ask who the patient is unless the intake already knows."""
    turn.data["reason"] = "book"
    if turn.data.get("name") and turn.data.get("dob"):
        after_identity(turn)
        return
    turn.move("name")
    turn.greet("booking_greeting")


def after_identity(turn: Turn) -> None:
    turn.move("insurance")
    ask(turn)


def ask(turn: Turn) -> None:
    step = turn.state.step
    if step == "insurance":
        turn.buttons(
            turn.say("ask_insurance"),
            [
                ("bot-ins:statutory", turn.say("statutory")),
                ("bot-ins:private", turn.say("private")),
            ],
        )
    elif step == "insurer":
        names = _insurers(turn)
        rows: list[tuple[str, str, str | None]] = [
            (f"bot-insurer:{i}", name, None) for i, name in enumerate(names)
        ]
        rows.append(("bot-insurer:other", turn.say("other"), None))
        turn.choices(turn.say("ask_insurer"), turn.say("insurer_button"), rows)
    elif step == "type":
        schedule = _schedule(turn)
        label = "label_de" if turn.lang == "de" else "label_en"
        turn.choices(
            turn.say("ask_type"),
            turn.say("type_button"),
            [
                (f"bot-type:{code}", getattr(kind, label), f"{kind.minutes} min")
                for code, kind in list(schedule.types.items())[:10]
            ],
        )
    elif step == "slot":
        _offer(turn, turn.say("offer_slots"), fresh=False)


def answer(turn: Turn) -> None:
    """The patient's answer to the current booking question."""
    step, reply, text = turn.state.step, turn.msg.reply_id or "", (turn.msg.text or "").strip()
    if step == "insurance":
        kind = (
            reply.removeprefix("bot-ins:")
            if reply.startswith("bot-ins:")
            else _kind_from_text(text)
        )
        if kind is None:
            _again(turn)
            return
        turn.data["insurance"] = kind
        turn.move("insurer")
    elif step == "insurer":
        names = _insurers(turn)
        if reply.startswith("bot-insurer:") and reply != "bot-insurer:other":
            raw = reply.removeprefix("bot-insurer:")
            index = int(raw) if raw.isdigit() else -1
            insurer = names[index] if 0 <= index < len(names) else None
        elif reply == "bot-insurer:other":
            insurer = turn.say("other")
        else:  # typed: any short name is taken as it is
            insurer = text if 1 < len(text) <= 64 and "?" not in text else None
        if insurer is None:
            _again(turn)
            return
        turn.data["insurer"] = insurer
        turn.move("type")
    elif step == "type":
        code = (
            reply.removeprefix("bot-type:")
            if reply.startswith("bot-type:")
            else _type_from_text(turn, text)
        )
        if code not in _schedule(turn).types:
            _again(turn)
            return
        turn.data["type"] = code
        turn.move("slot")
        _offer(turn, turn.say("offer_slots"), fresh=True)
        return
    elif step == "slot":
        _choose(turn, reply)
        return
    ask(turn)


def _again(turn: Turn) -> None:
    if turn.tries() >= 3:
        finish(turn)
        return
    turn.text(turn.say("staff_will_answer" if "?" in (turn.msg.text or "") else "choose_from_list"))
    ask(turn)


def _kind_from_text(text: str) -> str | None:
    lowered = text.lower()
    if any(w in lowered for w in _PRIVATE_WORDS):
        return "private"
    if any(w in lowered for w in _STATUTORY_WORDS):
        return "statutory"
    return None


def _type_from_text(turn: Turn, text: str) -> str | None:
    lowered = text.casefold()
    for code, kind in _schedule(turn).types.items():
        if lowered and lowered in (kind.label_de.casefold(), kind.label_en.casefold(), code):
            return code
    return None


def _insurers(turn: Turn) -> tuple[str, ...]:
    s = turn.settings
    return s.private_insurers if turn.data.get("insurance") == "private" else s.statutory_insurers


def _schedule(turn: Turn) -> ClinicSchedule:
    schedule = turn.settings.schedule
    assert schedule is not None  # BotSettings refuses booking without one
    return schedule


# -- slots ---------------------------------------------------------------------------------
def _busy(conn: Connection, now: float, days: int) -> dict[str, list[tuple[float, float]]]:
    """Every clinician's appointments, seen from inside the current transaction."""
    rows = conn.execute(
        select(appointments.c.clinician, appointments.c.start, appointments.c.end).where(
            appointments.c.status != AppointmentStatus.CANCELLED.value,
            appointments.c.end > now - 86400,
            appointments.c.start < now + (days + 2) * 86400,
        )
    ).all()
    busy: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        busy.setdefault(row.clinician or "", []).append((row.start, row.end))
    return busy


def free_slots(turn: Turn, type_code: str) -> list[OfferedSlot]:
    """The next free slots: the FHIR server's Slot resources where configured, else the
    schedule's opening and working hours; both without what the inbox has booked."""
    schedule, now, conn = _schedule(turn), turn.ctx.now, turn.ctx.conn
    days, limit = turn.settings.booking_days, turn.settings.slots_offered
    busy = _busy(conn, now, days)
    if turn.slots is not None:
        return turn.slots.free_slots(
            conn, schedule, type_code=type_code, now=now, limit=limit, busy=busy
        )
    first_day = datetime.fromtimestamp(now, ZoneInfo(schedule.timezone)).date()
    found = schedule.free_slots(
        type_code=type_code, first_day=first_day, days=days, busy=busy, now=now, limit=limit
    )
    return [OfferedSlot(slot, None) for slot in found]


def _offered(turn: Turn) -> list[OfferedSlot]:
    return [
        OfferedSlot(Slot(c, s, e), rest[0] if rest else None)
        for c, s, e, *rest in turn.data.get("offered", [])
    ]


def _offer(turn: Turn, intro: str, *, fresh: bool) -> None:
    schedule = _schedule(turn)
    if fresh or not turn.data.get("offered"):
        turn.data["offered"] = [
            [o.slot.clinician, o.slot.start, o.slot.end, o.reference]
            for o in free_slots(turn, turn.data["type"])
        ]
    offered = _offered(turn)
    if not offered:
        turn.text(turn.say("no_slots"))
        finish(turn, tell_patient=False)
        return
    minutes = schedule.types[turn.data["type"]].minutes
    turn.choices(
        intro,
        turn.say("slots_button"),
        [
            (_slot_id(o.slot), _short(turn, o.slot.start), f"{o.slot.clinician} · {minutes} min")
            for o in offered
        ],
    )


def _slot_id(slot: Slot) -> str:
    return f"bot-slot:{int(slot.start)}:{slot.clinician}"


def _choose(turn: Turn, reply: str) -> None:
    offered = {_slot_id(o.slot): o for o in _offered(turn)}
    chosen = offered.get(reply)
    if chosen is None:
        if reply.startswith("bot-slot:"):
            turn.text(turn.say("slot_stale"))
            _offer(turn, turn.say("offer_slots"), fresh=True)
        else:
            _again(turn)
        return
    slot = chosen.slot
    record = book(
        turn.ctx.store,
        turn.ctx.conn,
        _schedule(turn),
        patient_id=_patient_id(turn),
        slot=slot,
        type_code=turn.data["type"],
    )
    if record is None:
        _offer(turn, turn.say("slot_taken"), fresh=True)
        return
    if turn.settings.fhir_url:
        queue_booking(turn.ctx.conn, record.id, chosen.reference, turn.ctx.now)
    kind = _schedule(turn).types[turn.data["type"]]
    handover.record(
        turn.ctx.conn,
        handover.AUDIT_BOOKING,
        turn.msg.conversation_id,
        {"appointment_id": record.id, "patient_id": record.patient_id},
        turn.ctx.now,
    )
    turn.text(
        turn.say(
            "confirmed",
            when=_long(turn, slot.start),
            clinician=slot.clinician,
            kind=kind.label_de if turn.lang == "de" else kind.label_en,
        )
    )
    turn.data.pop("offered", None)
    finish(turn, booked=record, tell_patient=False)


def _patient_id(turn: Turn) -> int:
    if turn.data.get("patient_id") is None:
        found = handover.match_or_create(
            turn.ctx.store,
            turn.ctx.conn,
            wa_id=turn.wa_id,
            name=turn.data["name"],
            birth_date=turn.data["dob"],
            language=turn.lang,
            now=turn.ctx.now,
        )
        turn.data["patient_id"], turn.data["patient_created"] = found.patient_id, found.created
    return int(turn.data["patient_id"])


def book(
    store: Store,
    conn: Connection,
    schedule: ClinicSchedule,
    *,
    patient_id: int,
    slot: Slot,
    type_code: str,
) -> AppointmentRecord | None:
    """Book ``slot`` in the caller's transaction (booking.py); None when any part of it is
    taken, also by an imported appointment that holds no slot lock."""
    overlapping = conn.execute(
        select(appointments.c.id).where(
            appointments.c.clinician == slot.clinician,
            appointments.c.status != AppointmentStatus.CANCELLED.value,
            appointments.c.end > slot.start,
            appointments.c.start < slot.end,
        )
    ).first()
    if overlapping is not None:
        return None
    try:
        # The appointment event it appends puts it in the desktop's patient panel.
        return Booking(store, schedule).book_in(
            conn,
            patient_id=patient_id,
            slot=slot,
            type_code=type_code,
            external_id=f"{CHAT_BOOKING_PREFIX}{uuid.uuid4()}",
        )
    except SlotTaken:
        return None


# -- dates as the patient reads them ---------------------------------------------------------
def _short(turn: Turn, moment: float) -> str:
    local = datetime.fromtimestamp(moment, turn.zone())
    day = WEEKDAYS[turn.lang][local.weekday()]
    if turn.lang == "de":
        return f"{day} {local:%d.%m.} {local:%H:%M}"
    return f"{day} {local.day} {MONTHS_SHORT_EN[local.month - 1]} {local:%H:%M}"


def _long(turn: Turn, moment: float) -> str:
    local = datetime.fromtimestamp(moment, turn.zone())
    day = WEEKDAYS_LONG[turn.lang][local.weekday()]
    if turn.lang == "de":
        return f"{day}, {local:%d.%m.%Y} um {local:%H:%M} Uhr"
    return f"{day}, {local.day} {MONTHS_SHORT_EN[local.month - 1]} {local.year} at {local:%H:%M}"
