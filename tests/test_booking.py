"""Free slots and race-free booking (issue 8): two patients never get the same slot."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.scheduling import ClinicSchedule, Slot
from inbox_app.relay.booking import Booking, SlotTaken
from inbox_app.relay.db import Database
from inbox_app.relay.patients import PatientIn, Registry
from inbox_app.relay.store import Store

SCHEDULE = ClinicSchedule.from_json(
    json.loads((Path(__file__).parents[1] / "resources/demo/schedule.json").read_text())
)
BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = date(2026, 12, 1)
MONDAY_BEFORE = datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN).timestamp()


def at(hh: int, mm: int, day: date = TUESDAY) -> float:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=BERLIN).timestamp()


def test_slots_follow_opening_and_working_hours() -> None:
    slots = SCHEDULE.free_slots(
        type_code="checkup", first_day=TUESDAY, days=1, busy={}, now=MONDAY_BEFORE, limit=100
    )
    # Tuesday: only Dr. Sommer works (08-12, 14-18); 30-min check-ups in 15-min steps.
    assert {s.clinician for s in slots} == {"Dr. Sommer"}
    assert slots[0].start == at(8, 0) and slots[0].end == at(8, 30)
    assert at(11, 30) in {s.start for s in slots} and at(11, 45) not in {s.start for s in slots}
    assert at(12, 0) not in {s.start for s in slots} and at(14, 0) in {s.start for s in slots}


def test_busy_time_lead_time_and_closed_days() -> None:
    busy = {"Dr. Sommer": [(at(8, 0), at(9, 0))]}
    slots = SCHEDULE.free_slots(
        type_code="acute", first_day=TUESDAY, days=1, busy=busy, now=at(7, 50), limit=3
    )
    assert [s.start for s in slots] == [at(9, 0), at(9, 15), at(9, 30)]  # lead 60 min: >= 8:50
    saturday = SCHEDULE.free_slots(
        type_code="acute", first_day=date(2026, 12, 5), days=2, busy={}, now=MONDAY_BEFORE
    )
    assert saturday == []


@pytest.fixture
def booking(db_url: str) -> Iterator[tuple[Booking, list[int]]]:
    db = Database(db_url)
    db.create_schema()
    store = Store(db)
    registry = Registry(store)
    registry.upsert([PatientIn(f"t|{i}", "Probe", f"P{i}") for i in range(10)], [])
    with db.read() as conn:
        from sqlalchemy import select

        from inbox_app.relay.db import patients

        ids = [int(r.id) for r in conn.execute(select(patients.c.id)).all()]
    try:
        yield Booking(store, SCHEDULE), ids
    finally:
        db.dispose()


def test_concurrent_bookings_of_one_slot_give_it_to_exactly_one(booking) -> None:
    service, patient_ids = booking
    slot = Slot("Dr. Sommer", at(9, 0), at(9, 30))
    results: list[str] = []
    barrier = threading.Barrier(len(patient_ids))

    def attempt(pid: int) -> None:
        barrier.wait()
        try:
            service.book(patient_id=pid, slot=slot, type_code="checkup")
            results.append("booked")
        except SlotTaken:
            results.append("taken")

    threads = [threading.Thread(target=attempt, args=(pid,)) for pid in patient_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["booked"] + ["taken"] * (len(patient_ids) - 1)


def test_overlapping_slot_is_taken_and_cancelling_frees_it(booking) -> None:
    service, (first, second, *_) = booking
    record = service.book(
        patient_id=first, slot=Slot("Dr. Sommer", at(9, 0), at(9, 30)), type_code="checkup"
    )
    with pytest.raises(SlotTaken):
        service.book(
            patient_id=second, slot=Slot("Dr. Sommer", at(9, 15), at(9, 30)), type_code="acute"
        )
    free = service.free_slots(
        type_code="acute", first_day=TUESDAY, days=1, now=MONDAY_BEFORE, limit=50
    )
    assert at(9, 15) not in {s.start for s in free}
    cancelled = service.set_status(record.id, AppointmentStatus.CANCELLED)
    assert cancelled.status == AppointmentStatus.CANCELLED
    service.book(
        patient_id=second, slot=Slot("Dr. Sommer", at(9, 15), at(9, 30)), type_code="acute"
    )
