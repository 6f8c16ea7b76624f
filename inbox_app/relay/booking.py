"""Booking and cancelling appointments in free slots, race-free."""

from __future__ import annotations

import time
import uuid
from datetime import date

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus
from inbox_app.domain.scheduling import ClinicSchedule, Slot

from .db import appointments, slot_locks
from .patients import _appointment
from .store import NotFound, Store


class SlotTaken(Exception):
    """Someone else booked (part of) this slot first."""


class Booking:
    def __init__(self, store: Store, schedule: ClinicSchedule) -> None:
        self.store = store
        self.schedule = schedule

    def busy(self, start: float, end: float) -> dict[str, list[tuple[float, float]]]:
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(appointments.c.clinician, appointments.c.start, appointments.c.end).where(
                    appointments.c.status != AppointmentStatus.CANCELLED.value,
                    appointments.c.end > start,
                    appointments.c.start < end,
                )
            ).all()
        taken: dict[str, list[tuple[float, float]]] = {}
        for row in rows:
            taken.setdefault(row.clinician or "", []).append((row.start, row.end))
        return taken

    def free_slots(
        self,
        *,
        type_code: str,
        first_day: date,
        days: int = 14,
        clinician: str | None = None,
        limit: int = 10,
        now: float | None = None,
    ) -> list[Slot]:
        now = time.time() if now is None else now
        horizon = now + (days + 2) * 86400
        return self.schedule.free_slots(
            type_code=type_code,
            first_day=first_day,
            days=days,
            busy=self.busy(now - 86400, horizon),
            now=now,
            clinician=clinician,
            limit=limit,
        )

    def book(
        self,
        *,
        patient_id: int,
        slot: Slot,
        type_code: str,
        reason: str | None = None,
        status: AppointmentStatus = AppointmentStatus.BOOKED,
    ) -> AppointmentRecord:
        """Book ``slot``; raises SlotTaken if any part of it was booked meanwhile."""
        with self.store.db.write() as conn:
            return self.book_in(
                conn,
                patient_id=patient_id,
                slot=slot,
                type_code=type_code,
                reason=reason,
                status=status,
            )

    def book_in(
        self,
        conn: Connection,
        *,
        patient_id: int,
        slot: Slot,
        type_code: str,
        reason: str | None = None,
        status: AppointmentStatus = AppointmentStatus.BOOKED,
        external_id: str | None = None,  # e.g. "chat:…" for bookings by chat (reports.py)
    ) -> AppointmentRecord:
        """``book`` in the caller's transaction (automation handlers); a lost race raises
        SlotTaken and leaves the caller's transaction usable (the insert runs in a savepoint)."""
        kind = self.schedule.types[type_code]
        try:
            with conn.begin_nested():
                result = conn.execute(
                    appointments.insert().values(
                        external_id=external_id or f"inbox|{uuid.uuid4()}",
                        patient_id=patient_id,
                        start=slot.start,
                        end=slot.end,
                        clinician=slot.clinician,
                        reason=reason or kind.label_de,
                        status=status.value,
                        updated_at=time.time(),
                    )
                )
                pk = result.inserted_primary_key
                assert pk is not None
                appointment_id = int(pk[0])
                for unit in self.schedule.units(slot.start, slot.end):
                    conn.execute(
                        slot_locks.insert().values(
                            clinician=slot.clinician, unit_start=unit, appointment_id=appointment_id
                        )
                    )
        except IntegrityError:
            raise SlotTaken() from None
        record = _appointment(
            conn.execute(select(appointments).where(appointments.c.id == appointment_id)).one()
        )
        self.store._append(conn, "appointment", appointment_id, record.to_json())
        return record

    def set_status(self, appointment_id: int, status: AppointmentStatus) -> AppointmentRecord:
        """Confirm, cancel (frees the slot), or record attendance."""
        with self.store.db.write() as conn:
            return set_status_in(self.store, conn, appointment_id, status)


def set_status_in(
    store: Store, conn: Connection, appointment_id: int, status: AppointmentStatus
) -> AppointmentRecord:
    """``Booking.set_status`` in the caller's transaction (no schedule needed)."""
    found = conn.execute(
        update(appointments)
        .where(appointments.c.id == appointment_id)
        .values(status=status.value, updated_at=time.time())
    )
    if found.rowcount == 0:
        raise NotFound("appointment")
    if status == AppointmentStatus.CANCELLED:
        from .closed_day_appointments import settle  # it builds on the store and escalations

        conn.execute(delete(slot_locks).where(slot_locks.c.appointment_id == appointment_id))
        settle(store, conn, appointment_id, time.time())  # moved or cancelled: nothing to do
    record = _appointment(
        conn.execute(select(appointments).where(appointments.c.id == appointment_id)).one()
    )
    store._append(conn, "appointment", appointment_id, record.to_json())
    return record
