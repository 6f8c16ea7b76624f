"""The reminder scheduler with a controllable clock (issue 8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func, select

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.relay.db import Database, reminders
from inbox_app.relay.patients import AppointmentIn, PatientIn, Registry
from inbox_app.relay.reminders import DueReminder, ReminderPolicy, ReminderScheduler
from inbox_app.relay.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE_FILE = Path(__file__).resolve().parents[1] / "resources/demo/schedule.json"


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


def test_48h_then_24h_reminders_go_out_once_each(world: tuple[Store, Registry]) -> None:
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


def test_quiet_hours_defer_and_catch_up_is_bounded(world: tuple[Store, Registry]) -> None:
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


def test_after_a_long_outage_only_the_latest_reminder_is_considered(
    world: tuple[Store, Registry],
) -> None:
    store, _ = world
    outbox = Outbox()
    sent = scheduler(store, outbox).run_once(at(9, 10, 0))  # both 48 h and 24 h have passed
    assert [(r.appointment_id, r.hours_before) for r in sent] == [(1, 24)]


def test_refused_reminders_are_recorded_as_skipped_not_retried(
    world: tuple[Store, Registry],
) -> None:
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


def test_reminders_need_recorded_consent_and_honour_opt_out(world: tuple[Store, Registry]) -> None:
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


def test_per_type_offsets_from_the_config_file(
    world: tuple[Store, Registry], tmp_path: Path
) -> None:
    import json as _json

    from inbox_app.relay.reminder_config import load

    store, registry = world
    registry.upsert(
        [],
        [
            AppointmentIn(
                "t|blood",
                "t|2",
                at(10, 8, 0),
                at(10, 8, 15),
                AppointmentStatus.BOOKED,
                reason="Blutabnahme",
            )
        ],
    )
    path = tmp_path / "reminders.json"
    path.write_text(
        _json.dumps(
            {
                "types": {"bloodtest": {"hours_before": [24]}},
                "schedule": str(SCHEDULE_FILE),
            }
        )
    )
    config = load(str(path))
    outbox = Outbox()
    plan = ReminderScheduler(store, config.policy, outbox)
    # 48 h before the blood test (08:00 on the 8th): others get theirs, it does not
    sent = plan.run_once(at(8, 9, 20))
    assert 4 not in {r.appointment_id for r in sent}
    assert [(r.appointment_id, r.hours_before) for r in plan.run_once(at(9, 8, 10))] == [(4, 24)]


def test_follow_up_after_an_attended_visit_once(world: tuple[Store, Registry]) -> None:
    store, registry = world
    registry.upsert(
        [],
        [AppointmentIn("t|done", "t|1", at(10, 9, 0), at(10, 9, 30), AppointmentStatus.ATTENDED)],
    )
    outbox = Outbox()
    plan = scheduler(store, outbox)
    assert plan.run_once(at(10, 12, 0), follow_up_hours=3) == []  # 2.5 h after: not yet
    sent = plan.run_once(at(10, 12, 40), follow_up_hours=3)
    assert [(r.appointment_id, r.hours_before) for r in sent] == [(4, -3)]
    assert plan.run_once(at(10, 13, 0), follow_up_hours=3) == []
    with store.db.read() as conn:  # not counted as a reminder by reports ("sent")
        assert conn.execute(select(reminders.c.state)).scalars().all() == ["follow_up"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quiet_hours": "late"}, "quiet_hours"),
        ({"hours_before": [0]}, "hours_before"),
        ({"types": {"checkup": {}}}, "types.checkup"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"satisfaction": {"every_days": 0}}, "every_days"),
    ],
)
def test_a_bad_config_names_the_key(data: dict[str, Any], message: str) -> None:
    from inbox_app.relay.reminder_config import parse
    from inbox_app.relay.settings import ConfigError

    with pytest.raises(ConfigError, match=message):
        parse(data)
