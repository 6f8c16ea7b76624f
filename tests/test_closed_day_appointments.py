"""Appointments on a day the practice is closed (a holiday or closure configured after they
were booked): staff get one escalation to reschedule, the patient no reminder inviting them
to a locked door until staff have moved the visit or resolved the escalation.

A real relay and the simulator over HTTP (tests/test_reminders_relay.py's clinic).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from inbox_app.domain.roles import Role
from inbox_app.relay.db import reminders
from inbox_app.relay.reminder_config import parse
from inbox_app.relay.settings import RelaySettings
from tests.test_relay_api import add_user, login
from tests.test_reminders_relay import (
    ANY_TIME,
    BERLIN,
    SCHEDULE_FILE,
    Clinic,
    reminder_of,
    start_clinic,
)
from tests.test_reminders_relay import _waba as _waba


def _day(offset: int) -> date:
    return datetime.now(BERLIN).date() + timedelta(days=offset)


def _at_ten(day: date) -> float:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=BERLIN).timestamp()


@pytest.fixture
def closure() -> date:
    return _day(3)


def _clinic(
    relay_settings: RelaySettings, tmp_path: Path, closure: date, **config: Any
) -> Iterator[Clinic]:
    schedule = json.loads(SCHEDULE_FILE.read_text("utf-8"))
    schedule.pop("holidays")  # only the closure below, whatever day the test runs
    schedule["closed"] = [
        {"from": closure.isoformat(), "to": closure.isoformat(), "reason": "Praxisurlaub"}
    ]
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(schedule), "utf-8")
    yield from start_clinic(relay_settings, parse({**ANY_TIME, **config, "schedule": str(path)}))


@pytest.fixture
def clinic(relay_settings: RelaySettings, tmp_path: Path, closure: date) -> Iterator[Clinic]:
    yield from _clinic(relay_settings, tmp_path, closure)


def _reminded(clinic: Clinic, appointment_id: int) -> bool:
    return any(
        reminder_of(m) and f"appt:{appointment_id}:" in json.dumps(m["payload"])
        for m in clinic.sent()
    )


def _escalations(clinic: Clinic) -> dict[int, dict[str, Any]]:
    return {e["id"]: e for e in clinic.events("escalation")}


def test_a_visit_on_a_closure_day_is_flagged_and_waits_for_staff(
    clinic: Clinic, closure: date
) -> None:
    clinic.patient()
    clinic.consent()
    on_closure = clinic.appointment(_at_ten(closure))
    next_day = clinic.appointment(_at_ten(closure + timedelta(days=1)))
    clinic.run_jobs()
    clinic.wait_sent(lambda m: reminder_of(m) and f"appt:{next_day}:" in json.dumps(m["payload"]))
    clinic.run_jobs()  # a second round opens nothing twice and still holds the reminder
    time.sleep(0.5)
    assert not _reminded(clinic, on_closure)

    (flagged,) = _escalations(clinic).values()
    assert (flagged["source"], flagged["appointment_id"]) == ("closed_day", on_closure)
    assert flagged["priority"] == "routine" and flagged["state"] == "open"
    assert flagged["reason"].endswith(f"{closure.isoformat()} 10:00 (Praxisurlaub)")
    assert flagged["due_at"] <= _at_ten(closure) - 24 * 3600
    with clinic.relay.db.read() as conn:
        handled = conn.execute(select(reminders.c.appointment_id, reminders.c.state)).all()
    assert [tuple(r) for r in handled] == [(next_day, "sent")]  # the held one is not done

    # A clinician calls the patient and keeps the visit (a special opening): resolving
    # the escalation releases the reminder.
    add_user(clinic.settings, "dr_sommer", Role.CLINICIAN)
    with login(clinic.relay_server.url, "dr_sommer") as clinician:
        r = clinician.post(
            f"/v1/escalations/{flagged['id']}/resolve",
            json={"client_id": str(uuid.uuid4()), "resolution": "Sondersprechstunde"},
        )
    assert r.status_code == 200, r.text
    clinic.run_jobs()
    clinic.wait_sent(lambda m: reminder_of(m) and f"appt:{on_closure}:" in json.dumps(m["payload"]))
    assert len(_escalations(clinic)) == 1

    admin_log = _audit_actions(clinic)
    assert admin_log.count("escalation_closed_day") == 1


def test_the_check_looks_weeks_ahead_before_any_reminder_is_due(
    relay_settings: RelaySettings, tmp_path: Path
) -> None:
    closure = _day(20)
    # The usual 48 h reminder: nothing is due yet, yet staff learn of the clash now.
    config = {"hours_before": [48], "catch_up_hours": 6}
    for clinic in _clinic(relay_settings, tmp_path, closure, **config):
        clinic.patient()
        appointment_id = clinic.appointment(_at_ten(closure))
        clinic.appointment(_at_ten(closure - timedelta(days=1)))
        clinic.run_jobs()
        (flagged,) = _escalations(clinic).values()
        assert flagged["appointment_id"] == appointment_id
        # A routine day to deal with it: far from the visit, not far from now.
        assert flagged["due_at"] <= time.time() + 24 * 3600 + 60
        assert clinic.sent() == []


def test_cancelling_or_moving_the_visit_settles_its_escalation(
    clinic: Clinic, closure: date
) -> None:
    clinic.patient()
    clinic.consent()
    appointment_id = clinic.appointment(_at_ten(closure))
    clinic.run_jobs()
    (flagged,) = _escalations(clinic).values()
    assert flagged["state"] == "open"
    # Reception cancels it (a move cancels the old one the same way) after calling.
    r = clinic.staff.post(f"/v1/appointments/{appointment_id}/cancel")
    assert r.status_code == 200 and r.json()["changed"], r.text
    settled = _escalations(clinic)[flagged["id"]]
    assert settled["state"] == "resolved" and settled["resolution"]
    clinic.run_jobs()
    assert len(_escalations(clinic)) == 1 and not _reminded(clinic, appointment_id)


def test_a_closure_taken_back_settles_the_escalation_and_releases_the_reminder(
    relay_settings: RelaySettings, tmp_path: Path, closure: date
) -> None:
    for clinic in _clinic(relay_settings, tmp_path, closure):
        clinic.patient()
        clinic.consent()
        appointment_id = clinic.appointment(_at_ten(closure))
        clinic.run_jobs()
        assert [e["state"] for e in _escalations(clinic).values()] == ["open"]
    # The practice opens after all: the relay restarts with the closure removed.
    for clinic in _clinic(relay_settings, tmp_path, closure + timedelta(days=30)):
        clinic.run_jobs()
        assert [e["state"] for e in _escalations(clinic).values()] == ["resolved"]
        clinic.wait_sent(
            lambda m: reminder_of(m) and f"appt:{appointment_id}:" in json.dumps(m["payload"])
        )


def _audit_actions(clinic: Clinic) -> list[str]:
    add_user(clinic.settings, "root", Role.ADMIN)
    with login(clinic.relay_server.url, "root") as admin:
        r = admin.get("/v1/audit", params={"limit": 500})
        assert r.status_code == 200, r.text
        return [e["action"] for e in r.json()["entries"]]
