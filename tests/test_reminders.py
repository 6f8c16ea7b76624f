"""The reminder scheduler with a controllable clock (issue 8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func, select

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.relay.db import Database, reminders
from inbox_app.relay.patients import AppointmentIn, PatientIn, Registry
from inbox_app.relay.reminders import DueReminder, ReminderPolicy, ReminderScheduler
from inbox_app.relay.store import Store

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hh: int, mm: int = 0) -> float:
    return datetime(2026, 12, day, hh, mm, tzinfo=BERLIN).timestamp()


class Outbox:
    """Stands in for the template send path: records what was enqueued, in the txn."""

    def __init__(self) -> None:
        self.sent: list[DueReminder] = []
        self.refuse: set[int] = set()

    def __call__(self, conn: Connection, reminder: DueReminder) -> str | None:
        if reminder.patient_id in self.refuse:
            return "no consent for reminders"
        self.sent.append(reminder)
        return None


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[Store, Registry]]:
    db = Database(db_url)
    db.create_schema()
    store = Store(db)
    registry = Registry(store)
    registry.upsert(
        [
            PatientIn("t|1", "Musterfrau", "Erika", wa_id="4915100000101", language="de"),
            PatientIn("t|2", "Mustermann", "Max", wa_id="4915100000102"),
        ],
        [
            AppointmentIn("t|a1", "t|1", at(10, 9, 15), at(10, 9, 45), AppointmentStatus.BOOKED),
            AppointmentIn(
                "t|a2", "t|2", at(10, 11, 0), at(10, 11, 15), AppointmentStatus.CONFIRMED
            ),
            AppointmentIn(
                "t|a3", "t|1", at(10, 15, 0), at(10, 15, 15), AppointmentStatus.CANCELLED
            ),
        ],
    )
    try:
        yield store, registry
    finally:
        db.dispose()


def scheduler(store: Store, outbox: Outbox) -> ReminderScheduler:
    return ReminderScheduler(store, ReminderPolicy(), outbox)


def test_48h_then_24h_reminders_go_out_once_each(world) -> None:
    store, _ = world
    outbox = Outbox()
    plan = scheduler(store, outbox)
    assert plan.run_once(at(8, 8, 0)) == []  # 49 h before: nothing yet
    first = plan.run_once(at(8, 9, 20))
    assert [(r.appointment_id, r.hours_before) for r in first] == [(1, 48)]
    assert plan.run_once(at(8, 9, 30)) == []  # already sent
    later = plan.run_once(at(8, 11, 5))
    assert [(r.appointment_id, r.hours_before) for r in later] == [(2, 48)]
    assert [(r.appointment_id, r.hours_before) for r in plan.run_once(at(9, 9, 20))] == [(1, 24)]
    # a restarted scheduler (new object, same database) sends nothing again
    assert scheduler(store, Outbox()).run_once(at(9, 9, 25)) == []
    assert len(outbox.sent) == 3  # the cancelled appointment never got one


def test_quiet_hours_defer_and_catch_up_is_bounded(world) -> None:
    store, _ = world
    outbox = Outbox()
    plan = scheduler(store, outbox)
    # 48 h before appointment 1 is 09:15 on the 8th; the relay was down until 14:00 (late
    # by under 6 h): sent. Appointment 2's was due at 11:00 — also within the window.
    sent = plan.run_once(at(8, 14, 0))
    assert {(r.appointment_id, r.hours_before) for r in sent} == {(1, 48), (2, 48)}
    # at 21:30 on the 9th the 24-h reminders are overdue, but it is quiet time
    assert plan.run_once(at(9, 21, 30)) == []
    # next morning 08:05: appointment 1 (09:15) is 1 h away; its 24-h reminder was due
    # 22 h ago — beyond the catch-up window, so it is not sent late
    assert plan.run_once(at(10, 8, 5)) == []


def test_after_a_long_outage_only_the_latest_reminder_is_considered(world) -> None:
    store, _ = world
    outbox = Outbox()
    sent = scheduler(store, outbox).run_once(at(9, 10, 0))  # both 48 h and 24 h have passed
    assert [(r.appointment_id, r.hours_before) for r in sent] == [(1, 24)]


def test_refused_reminders_are_recorded_as_skipped_not_retried(world) -> None:
    store, _ = world
    outbox = Outbox()
    outbox.refuse = {1}
    plan = scheduler(store, outbox)
    assert plan.run_once(at(8, 9, 20)) == []
    assert plan.run_once(at(8, 9, 25)) == []
    with store.db.read() as conn:
        states = conn.execute(
            select(reminders.c.state, func.count()).group_by(reminders.c.state)
        ).all()
    assert dict(states) == {"skipped": 1}


def test_reminders_need_recorded_consent_and_honour_opt_out(world) -> None:
    from inbox_app.domain.consent import ConsentPurpose, ConsentSource
    from inbox_app.relay.consent import Consents
    from inbox_app.relay.reminders import consent_gate

    store, _ = world
    consents = Consents(store)
    with store.db.write() as conn:
        consents.record(
            conn,
            wa_id="4915100000101",
            purposes=[ConsentPurpose.REMINDERS],
            granted=True,
            source=ConsentSource.FORM,
            at=at(1, 10),
        )
        consents.record(
            conn,
            wa_id="4915100000102",
            purposes=[ConsentPurpose.REMINDERS],
            granted=True,
            source=ConsentSource.FORM,
            at=at(1, 10),
        )
        consents.record(
            conn,
            wa_id="4915100000102",
            purposes=[ConsentPurpose.REMINDERS],
            granted=False,
            source=ConsentSource.KEYWORD,
            at=at(2, 10),
        )
    enqueued: list[int] = []

    def send(conn: Connection, reminder: DueReminder) -> str | None:
        reason = consent_gate(conn, reminder)
        if reason is None:
            enqueued.append(reminder.appointment_id)
        return reason

    plan = ReminderScheduler(store, ReminderPolicy(), send)
    plan.run_once(at(8, 11, 30))
    assert enqueued == [1]  # Max said STOP after consenting
    with store.db.read() as conn:
        rows = dict(conn.execute(select(reminders.c.appointment_id, reminders.c.reason)).all())
    assert rows == {1: None, 2: "opted out of reminders"}
