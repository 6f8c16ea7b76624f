"""Staff book, move and cancel appointments and create or link patients from the desktop's
patient panel (issues 6 and 8).

``GET /v1/slots`` lists free slots from the clinic schedule; ``POST /v1/appointments``,
``/v1/appointments/{id}/move`` and ``/cancel`` change the scheduling store race-free
(booking.py: slot locks, a lost race answers ``409 slot_taken`` with fresh suggestions);
``POST /v1/patients`` creates a patient flagged as created by staff (external id
``staff|<client id>``, which also makes a retry idempotent) and
``POST /v1/conversations/{id}/patient`` links a conversation's number to a patient. Every
change appends the same ``patient``/``appointment`` feed events the importer and the booking
bot append, so every desk sees it, and an audit row (ids only, no health data).
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from anyio import to_thread
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select, update

from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus
from inbox_app.domain.roles import PATIENT_CONTENT_ROLES
from inbox_app.domain.scheduling import ClinicSchedule, Slot

from . import audit
from .access import ApiProblem, SignedIn, client_address, require_conversation
from .booking import Booking, SlotTaken, set_status_in
from .db import appointments, conversations, patients
from .patients import _appointment, _patient
from .store import NotFound

router = APIRouter(prefix="/v1")

Id = Annotated[int, Path(ge=1, le=2**62)]
ClientId = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
SUGGESTIONS = 5
SEARCH_DAYS = 14


class BookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = ClientId
    patient_id: int = Field(ge=1, le=2**62)
    type: str = Field(min_length=1, max_length=64)
    clinician: str = Field(min_length=1, max_length=128)
    start: float = Field(gt=0)
    reason: str | None = Field(default=None, max_length=256)


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = ClientId
    type: str | None = Field(default=None, min_length=1, max_length=64)
    clinician: str = Field(min_length=1, max_length=128)
    start: float = Field(gt=0)


class PatientBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = ClientId
    family_name: str = Field(min_length=1, max_length=128)
    given_name: str = Field(min_length=1, max_length=128)
    birth_date: date | None = None
    record_number: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16)
    # The number comes from a conversation the caller may see (never typed in freely).
    conversation_id: int | None = Field(default=None, ge=1, le=2**62)


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: int = Field(ge=1, le=2**62)


def _staff(user: Any) -> None:
    if user.role not in PATIENT_CONTENT_ROLES:
        raise ApiProblem(403, "forbidden", "Your role may not see or change patient records.")


def _schedule(request: Request) -> ClinicSchedule:
    schedule: ClinicSchedule | None = getattr(request.app.state.relay, "schedule", None)
    if schedule is None:
        raise ApiProblem(
            409, "no_schedule", "No clinic schedule is configured (INBOX_SCHEDULE_CONFIG)."
        )
    return schedule


def _slot_json(slot: Slot) -> dict[str, Any]:
    return {"clinician": slot.clinician, "start": slot.start, "end": slot.end}


def _busy(conn: Connection, start: float, end: float) -> dict[str, list[tuple[float, float]]]:
    taken: dict[str, list[tuple[float, float]]] = {}
    for row in conn.execute(
        select(appointments.c.clinician, appointments.c.start, appointments.c.end).where(
            appointments.c.status != AppointmentStatus.CANCELLED.value,
            appointments.c.end > start,
            appointments.c.start < end,
        )
    ):
        taken.setdefault(row.clinician or "", []).append((row.start, row.end))
    return taken


def _free(
    conn: Connection,
    schedule: ClinicSchedule,
    *,
    type_code: str,
    first_day: date,
    days: int,
    now: float,
    clinician: str | None,
    limit: int,
) -> list[Slot]:
    horizon = datetime.combine(first_day, datetime.min.time(), ZoneInfo(schedule.timezone))
    start = horizon.timestamp() - 86400
    return schedule.free_slots(
        type_code=type_code,
        first_day=first_day,
        days=days,
        busy=_busy(conn, start, start + (days + 2) * 86400),
        now=now,
        clinician=clinician,
        limit=limit,
    )


def _check_type(schedule: ClinicSchedule, type_code: str, clinician: str | None) -> None:
    if type_code not in schedule.types:
        raise ApiProblem(422, "unknown_type", f"Unknown appointment type {type_code!r}.")
    if clinician is not None and clinician not in schedule.clinicians:
        raise ApiProblem(422, "unknown_clinician", "That clinician is not in the schedule.")


def _suggestions(
    relay: Any, schedule: ClinicSchedule, type_code: str, clinician: str, now: float
) -> list[dict[str, Any]]:
    today = datetime.fromtimestamp(now, ZoneInfo(schedule.timezone)).date()
    with relay.db.read() as conn:
        found = _free(
            conn,
            schedule,
            type_code=type_code,
            first_day=today,
            days=SEARCH_DAYS,
            now=now,
            clinician=clinician,
            limit=SUGGESTIONS,
        )
    return [_slot_json(s) for s in found]


def _book_checked(
    conn: Connection,
    relay: Any,
    schedule: ClinicSchedule,
    *,
    patient_id: int,
    type_code: str,
    clinician: str,
    start: float,
    reason: str | None,
    external_id: str,
    now: float,
) -> AppointmentRecord:
    """Book a slot that the schedule offers and nobody holds; SlotTaken otherwise."""
    day = datetime.fromtimestamp(start, ZoneInfo(schedule.timezone)).date()
    offered = _free(
        conn,
        schedule,
        type_code=type_code,
        first_day=day,
        days=1,
        now=now,
        clinician=clinician,
        limit=1000,
    )
    slot = next((s for s in offered if s.start == start), None)
    if slot is None:
        raise SlotTaken()
    return Booking(relay.store, schedule).book_in(
        conn,
        patient_id=patient_id,
        slot=slot,
        type_code=type_code,
        reason=reason,
        external_id=external_id,
    )


def _existing(conn: Connection, external_id: str) -> AppointmentRecord | None:
    row = conn.execute(
        select(appointments).where(appointments.c.external_id == external_id)
    ).one_or_none()
    return _appointment(row) if row is not None else None


def _type_of(schedule: ClinicSchedule, reason: str | None, minutes: float) -> str:
    # The same recognition as a patient's Reschedule tap (appointments carry the label).
    from .appointment_replies import type_of

    return type_of(schedule, reason, minutes)


@router.get("/slots")
async def free_slots(
    request: Request,
    user: SignedIn,
    type: Annotated[str | None, Query(max_length=64)] = None,
    clinician: Annotated[str | None, Query(max_length=128)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    days: Annotated[int, Query(ge=1, le=60)] = SEARCH_DAYS,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Free slots of one appointment type (and clinician), earliest first; the schedule's
    types and clinicians come along so the booking dialog can offer them."""
    _staff(user)
    schedule = _schedule(request)
    type_code = type or next(iter(schedule.types))  # none given: the schedule's first
    _check_type(schedule, type_code, clinician or None)
    relay = request.app.state.relay
    now = time.time()
    first = from_ or datetime.fromtimestamp(now, ZoneInfo(schedule.timezone)).date()

    def find() -> list[Slot]:
        with relay.db.read() as conn:
            return _free(
                conn,
                schedule,
                type_code=type_code,
                first_day=first,
                days=days,
                now=now,
                clinician=clinician or None,
                limit=limit,
            )

    found = await to_thread.run_sync(find)
    return {
        "slots": [_slot_json(s) for s in found],
        "type": type_code,
        "types": [
            {"code": k.code, "de": k.label_de, "en": k.label_en, "minutes": k.minutes}
            for k in schedule.types.values()
        ],
        "clinicians": sorted(schedule.clinicians),
        "timezone": schedule.timezone,
    }


@router.post("/appointments")
async def book_appointment(body: BookBody, user: SignedIn, request: Request) -> dict[str, Any]:
    """Book a free slot for a patient; a retry with the same client id answers the first
    booking; a slot someone else took meanwhile answers 409 with new suggestions."""
    _staff(user)
    schedule = _schedule(request)
    _check_type(schedule, body.type, body.clinician)
    relay = request.app.state.relay
    address = client_address(request)
    external_id = f"staff|{body.client_id}"

    def apply() -> tuple[AppointmentRecord, bool]:
        now = time.time()
        with relay.db.write() as conn:
            found = _existing(conn, external_id)
            if found is not None:
                return found, False
            exists = conn.execute(
                select(patients.c.id).where(patients.c.id == body.patient_id)
            ).scalar_one_or_none()
            if exists is None:
                raise NotFound("patient")
            record = _book_checked(
                conn,
                relay,
                schedule,
                patient_id=body.patient_id,
                type_code=body.type,
                clinician=body.clinician,
                start=body.start,
                reason=body.reason,
                external_id=external_id,
                now=now,
            )
            audit.record(
                conn,
                audit.Action.APPOINTMENT_BOOKED,
                user_id=user.id,
                detail={"appointment_id": record.id, "patient_id": body.patient_id},
                address=address,
                now=now,
            )
            return record, True

    try:
        record, created = await to_thread.run_sync(apply)
    except NotFound:
        raise ApiProblem(404, "not_found", "No such patient.") from None
    except SlotTaken:
        raise ApiProblem(
            409,
            "slot_taken",
            "Someone booked this time first; please choose another.",
            suggestions=await to_thread.run_sync(
                lambda: _suggestions(relay, schedule, body.type, body.clinician, time.time())
            ),
        ) from None
    if created:
        relay.committed()
    return {"appointment": record.to_json(), "created": created}


@router.post("/appointments/{appointment_id}/move")
async def move_appointment(
    appointment_id: Id, body: MoveBody, user: SignedIn, request: Request
) -> dict[str, Any]:
    """Move an appointment to another free slot: the old one is cancelled (its slot freed)
    and a new one booked, in one transaction (a lost race changes nothing)."""
    _staff(user)
    schedule = _schedule(request)
    _check_type(schedule, body.type or next(iter(schedule.types)), body.clinician)
    relay = request.app.state.relay
    address = client_address(request)
    external_id = f"staff|{body.client_id}"
    chosen: dict[str, str] = {}

    def apply() -> tuple[AppointmentRecord, bool]:
        now = time.time()
        with relay.db.write() as conn:
            found = _existing(conn, external_id)
            if found is not None:
                return found, False
            row = conn.execute(
                select(appointments).where(appointments.c.id == appointment_id)
            ).one_or_none()
            if row is None:
                raise NotFound("appointment")
            if row.status in (AppointmentStatus.CANCELLED.value, AppointmentStatus.ATTENDED.value):
                raise ApiProblem(409, "not_movable", "This appointment can no longer be moved.")
            type_code = body.type or _type_of(schedule, row.reason, (row.end - row.start) / 60)
            chosen["type"] = type_code
            set_status_in(relay.store, conn, appointment_id, AppointmentStatus.CANCELLED)
            record = _book_checked(
                conn,
                relay,
                schedule,
                patient_id=int(row.patient_id),
                type_code=type_code,
                clinician=body.clinician,
                start=body.start,
                reason=row.reason,
                external_id=external_id,
                now=now,
            )
            audit.record(
                conn,
                audit.Action.APPOINTMENT_MOVED,
                user_id=user.id,
                detail={"appointment_id": appointment_id, "new_appointment_id": record.id},
                address=address,
                now=now,
            )
            return record, True

    try:
        record, created = await to_thread.run_sync(apply)
    except NotFound:
        raise ApiProblem(404, "not_found", "No such appointment.") from None
    except SlotTaken:
        type_code = chosen.get("type") or body.type or next(iter(schedule.types))
        raise ApiProblem(
            409,
            "slot_taken",
            "Someone booked this time first; please choose another.",
            suggestions=await to_thread.run_sync(
                lambda: _suggestions(relay, schedule, type_code, body.clinician, time.time())
            ),
        ) from None
    if created:
        relay.committed()
    return {"appointment": record.to_json(), "cancelled_id": appointment_id, "created": created}


@router.post("/appointments/{appointment_id}/cancel")
async def cancel_appointment(appointment_id: Id, user: SignedIn, request: Request) -> Any:
    """Cancel (frees the slot); cancelling a cancelled appointment changes nothing."""
    _staff(user)
    relay = request.app.state.relay
    address = client_address(request)

    def apply() -> tuple[AppointmentRecord, bool]:
        now = time.time()
        with relay.db.write() as conn:
            row = conn.execute(
                select(appointments).where(appointments.c.id == appointment_id)
            ).one_or_none()
            if row is None:
                raise NotFound("appointment")
            if row.status == AppointmentStatus.CANCELLED.value:
                return _appointment(row), False
            record = set_status_in(relay.store, conn, appointment_id, AppointmentStatus.CANCELLED)
            audit.record(
                conn,
                audit.Action.APPOINTMENT_CANCELLED,
                user_id=user.id,
                detail={"appointment_id": appointment_id},
                address=address,
                now=now,
            )
            return record, True

    try:
        record, changed = await to_thread.run_sync(apply)
    except NotFound:
        raise ApiProblem(404, "not_found", "No such appointment.") from None
    if changed:
        relay.committed()
    return {"appointment": record.to_json(), "changed": changed}


def _conversation_wa_id(conn: Connection, conversation_id: int) -> str:
    return str(
        conn.execute(
            select(conversations.c.wa_id).where(conversations.c.id == conversation_id)
        ).scalar_one()
    )


@router.post("/patients")
async def create_patient(body: PatientBody, user: SignedIn, request: Request) -> Any:
    """A new patient, flagged as created by staff (``staff|`` external id); with a
    conversation id the patient gets that conversation's number."""
    _staff(user)
    if body.conversation_id is not None:
        await require_conversation(request, user, body.conversation_id)
    relay = request.app.state.relay
    address = client_address(request)
    external_id = f"staff|{body.client_id}"

    def apply() -> tuple[dict[str, Any], bool]:
        now = time.time()
        with relay.db.write() as conn:
            row = conn.execute(
                select(patients).where(patients.c.external_id == external_id)
            ).one_or_none()
            if row is not None:
                return _patient(row).to_json(), False
            wa_id = (
                _conversation_wa_id(conn, body.conversation_id)
                if body.conversation_id is not None
                else None
            )
            result = conn.execute(
                patients.insert().values(
                    external_id=external_id,
                    family_name=body.family_name.strip(),
                    given_name=body.given_name.strip(),
                    birth_date=body.birth_date.isoformat() if body.birth_date else None,
                    wa_id=wa_id,
                    language=body.language,
                    record_number=body.record_number,
                    updated_at=now,
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            record = _patient(conn.execute(select(patients).where(patients.c.id == pk[0])).one())
            relay.store._append(conn, "patient", record.id, record.to_json())
            audit.record(
                conn,
                audit.Action.PATIENT_CREATED,
                user_id=user.id,
                conversation_id=body.conversation_id,
                detail={"patient_id": record.id},
                address=address,
                now=now,
            )
            return record.to_json(), True

    patient, created = await to_thread.run_sync(apply)
    if created:
        relay.committed()
    return {"patient": {**patient, "created_by_staff": True}, "created": created}


@router.post("/conversations/{conversation_id}/patient")
async def link_patient(
    conversation_id: Id, body: LinkBody, user: SignedIn, request: Request
) -> dict[str, Any]:
    """Register a patient under this conversation's number (a parent's number may carry
    several patients); linking an already linked patient changes nothing."""
    _staff(user)
    await require_conversation(request, user, conversation_id)
    relay = request.app.state.relay
    address = client_address(request)

    def apply() -> tuple[dict[str, Any], bool]:
        now = time.time()
        with relay.db.write() as conn:
            wa_id = _conversation_wa_id(conn, conversation_id)
            row = conn.execute(
                select(patients).where(patients.c.id == body.patient_id)
            ).one_or_none()
            if row is None:
                raise NotFound("patient")
            if row.wa_id == wa_id:
                return _patient(row).to_json(), False
            conn.execute(
                update(patients)
                .where(patients.c.id == body.patient_id)
                .values(wa_id=wa_id, updated_at=now)
            )
            record = _patient(
                conn.execute(select(patients).where(patients.c.id == body.patient_id)).one()
            )
            relay.store._append(conn, "patient", record.id, record.to_json())
            audit.record(
                conn,
                audit.Action.PATIENT_LINKED,
                user_id=user.id,
                conversation_id=conversation_id,
                detail={"patient_id": record.id},
                address=address,
                now=now,
            )
            return record.to_json(), True

    try:
        patient, changed = await to_thread.run_sync(apply)
    except NotFound:
        raise ApiProblem(404, "not_found", "No such patient.") from None
    if changed:
        relay.committed()
    return {"patient": patient, "changed": changed}
