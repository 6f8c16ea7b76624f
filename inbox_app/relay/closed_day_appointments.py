"""Booked appointments that fall on a day the practice is closed (a public holiday or a
closure configured after they were booked): staff get a routine escalation to reschedule,
once per appointment, and no reminder invites the patient to a locked door until staff
have dealt with it. Moving or cancelling the visit settles the escalation by itself; a
clinician resolving it means "it stays" (a special opening), and reminders go out again.

A periodic job looks 60 days ahead every five minutes; the reminder sender checks the
single appointment too, so a reminder due before the job's next round cannot slip through.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.escalations import DEFAULT_DUE_SECONDS, EscalationState, Priority
from inbox_app.domain.scheduling import ClinicSchedule

from . import audit
from .automation import Automation
from .db import appointments, escalations, patients
from .escalations import EscalationAction, emit_escalation
from .reminder_sender import conversation_for
from .store import Store

log = logging.getLogger("inbox.relay.closed_days")

SOURCE = "closed_day"
# English like every text the relay writes itself; desktops word it in their language
# from what follows ": " (ui/escalations.py).
REASON = "Appointment on a day the practice is closed"
# The resolution text of an escalation the relay settles itself (English, like REASON).
SETTLED = "Appointment moved, cancelled or the day opened again"
HORIZON_DAYS = 60
CHECK_SECONDS = 300.0
_ACTIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value)


def closure_of(schedule: ClinicSchedule, start: float) -> str | None:
    """The holiday's or closure's name ("" when none was given) if ``start`` falls on a
    closed day, else None."""
    day = datetime.fromtimestamp(start, ZoneInfo(schedule.timezone)).date()
    return schedule.closed_reason(day, "de")


def flag(
    store: Store, conn: Connection, schedule: ClinicSchedule, row: Any, now: float
) -> str | None:
    """Open the escalation for one appointment on a closed day unless it has one; returns
    the state of its escalation (None: not on a closed day, or no number to attach it to)."""
    name = closure_of(schedule, row.start)
    if name is None:
        return None
    existing = conn.execute(
        select(escalations.c.state)
        .where(escalations.c.appointment_id == row.id, escalations.c.source == SOURCE)
        .order_by(escalations.c.id.desc())
    ).first()
    if existing is not None:
        return str(existing.state)
    if not row.wa_id:
        return None  # no WhatsApp number, so no conversation to hang it on (nor a reminder)
    local = datetime.fromtimestamp(row.start, ZoneInfo(schedule.timezone))
    detail = f"{local:%Y-%m-%d %H:%M}" + (f" ({name})" if name else "")
    conversation_id = conversation_for(conn, store, row.wa_id, now)
    # Due a day before the visit at the latest, so the patient can still be told.
    due = max(now, min(now + DEFAULT_DUE_SECONDS[Priority.ROUTINE], row.start - 24 * 3600))
    pk = conn.execute(
        escalations.insert().values(
            conversation_id=conversation_id,
            patient_id=row.patient_id,
            appointment_id=row.id,
            reason=f"{REASON}: {detail}",
            priority=Priority.ROUTINE.value,
            due_at=due,
            state=EscalationState.OPEN.value,
            source=SOURCE,
            created_at=now,
        )
    ).inserted_primary_key
    assert pk is not None
    escalation_id = int(pk[0])
    emit_escalation(store, conn, escalation_id)
    audit.record(
        conn,
        EscalationAction.CLOSED_DAY,
        conversation_id=conversation_id,
        detail={"escalation_id": escalation_id, "appointment_id": row.id},
        now=now,
    )
    log.info("appointment %d falls on a closed day: escalation %d", row.id, escalation_id)
    return EscalationState.OPEN.value


def _upcoming(conn: Connection, now: float, appointment_id: int | None = None) -> list[Any]:
    query = (
        select(
            appointments.c.id,
            appointments.c.start,
            appointments.c.patient_id,
            patients.c.wa_id,
        )
        .join(patients, patients.c.id == appointments.c.patient_id)
        .where(appointments.c.start > now, appointments.c.status.in_(_ACTIVE))
    )
    if appointment_id is not None:
        query = query.where(appointments.c.id == appointment_id)
    else:
        query = query.where(appointments.c.start <= now + HORIZON_DAYS * 86400)
    return list(conn.execute(query.order_by(appointments.c.start)).all())


def settle(store: Store, conn: Connection, appointment_id: int, now: float) -> None:
    """Resolve the appointment's open closed-day escalation: it was moved or cancelled (or
    the closure was taken back), so no one need call the patient about it."""
    open_ids = conn.execute(
        select(escalations.c.id).where(
            escalations.c.appointment_id == appointment_id,
            escalations.c.source == SOURCE,
            escalations.c.state != EscalationState.RESOLVED.value,
        )
    ).scalars()
    for escalation_id in list(open_ids):
        conn.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id)
            .values(state=EscalationState.RESOLVED.value, resolved_at=now, resolution=SETTLED)
        )
        emit_escalation(store, conn, int(escalation_id))
        log.info("escalation %d settled: appointment %d moved", escalation_id, appointment_id)


def check_all(store: Store, schedule: ClinicSchedule, now: float) -> int:
    """Flag every upcoming appointment on a closed day, settle those no longer on one;
    returns how many were newly flagged."""
    opened = 0
    with store.db.write() as conn:
        stale = conn.execute(
            select(escalations.c.appointment_id, appointments.c.start, appointments.c.status)
            .join(appointments, appointments.c.id == escalations.c.appointment_id)
            .where(
                escalations.c.source == SOURCE,
                escalations.c.state != EscalationState.RESOLVED.value,
            )
        ).all()
        for row in stale:
            if (
                row.status not in _ACTIVE
                or row.start <= now
                or closure_of(schedule, row.start) is None
            ):
                settle(store, conn, int(row.appointment_id), now)
        for row in _upcoming(conn, now):
            if closure_of(schedule, row.start) is None:
                continue
            had = conn.execute(
                select(escalations.c.id).where(
                    escalations.c.appointment_id == row.id, escalations.c.source == SOURCE
                )
            ).first()
            if had is None and flag(store, conn, schedule, row, now) is not None:
                opened += 1
    if opened:
        log.info("%d appointment(s) on closed days flagged for rescheduling", opened)
    return opened


def reminder_held(
    store: Store, conn: Connection, schedule: ClinicSchedule | None, appointment_id: int, now: float
) -> bool:
    """True while the appointment sits on a closed day and staff have not resolved its
    escalation (flagging it now if the periodic check has not yet)."""
    if schedule is None:
        return False
    rows = _upcoming(conn, now, appointment_id)
    if not rows:
        return False
    state = flag(store, conn, schedule, rows[0], now)
    return state is not None and state != EscalationState.RESOLVED.value


def register(automation: Automation, schedule: ClinicSchedule | None) -> None:
    if schedule is None:
        return
    days = schedule.closed_days
    if days.country is None and not days.closures:
        return
    known = schedule
    automation.every(
        "closed_day_appointments", CHECK_SECONDS, lambda store, now: check_all(store, known, now)
    )
