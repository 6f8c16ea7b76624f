"""The demo's synthetic appointments: inside opening and clinicians' hours whenever the demo
starts, still due for their reminder, and never two at once for one clinician."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from inbox_app.domain.scheduling import ClinicSchedule
from inbox_app.relay.db import Database, appointments
from inbox_app.relay.demo_seed import DEMO, seed

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = ClinicSchedule.from_json(json.loads((DEMO / "schedule.json").read_text("utf-8")))
PLAN = json.loads((DEMO / "appointments.json").read_text("utf-8"))["appointments"]


def _inside(start: float, end: float, clinician: str) -> bool:
    begin, finish = datetime.fromtimestamp(start, BERLIN), datetime.fromtimestamp(end, BERLIN)
    day = begin.date()
    own = SCHEDULE.clinicians[clinician].get(day.weekday(), [])
    return finish.date() == day and any(
        a <= begin.time() and finish.time() <= b and c <= begin.time() and finish.time() <= d
        for a, b in SCHEDULE.opening_on(day)
        for c, d in own
    )


def _in_practice_hours(start: float, end: float) -> bool:
    begin, finish = datetime.fromtimestamp(start, BERLIN), datetime.fromtimestamp(end, BERLIN)
    return finish.date() == begin.date() and any(
        a <= begin.time() and finish.time() <= b for a, b in SCHEDULE.opening_on(begin.date())
    )


@pytest.mark.parametrize(
    "started",
    [
        datetime(2026, 11, 26, 3, 0, tzinfo=BERLIN),  # Thursday night
        datetime(2026, 11, 27, 10, 7, tzinfo=BERLIN),  # Friday morning: 48 h ahead is Sunday
        datetime(2026, 11, 28, 22, 40, tzinfo=BERLIN),  # Saturday night: nothing open for 24 h
        datetime(2026, 12, 23, 18, 30, tzinfo=BERLIN),  # before Christmas (holidays in BE)
    ],
)
def test_demo_appointments_fall_in_opening_hours_whenever_it_starts(
    db_url: str, started: datetime
) -> None:
    now = started.timestamp()
    rows = _seeded(db_url, now)
    for index, item in enumerate(PLAN):
        row = rows[f"demo|appointment-{index + 1}"]
        assert _in_practice_hours(row.start, row.end), (item, started, row.start)
        ahead = (row.start - now) / 3600
        if float(item["in_hours"]) > 0:
            assert ahead >= 1, (item, ahead)  # still to come, so still to be reminded of
        else:
            assert row.end <= now, (item, ahead)  # an attended visit stays in the past
    for clinician in {r.clinician for r in rows.values()}:
        spans = sorted((r.start, r.end) for r in rows.values() if r.clinician == clinician)
        assert all(a[1] <= b[0] for a, b in pairwise(spans)), clinician


def test_on_a_weekday_each_keeps_its_reminder_and_its_clinicians_hours(db_url: str) -> None:
    now = datetime(2026, 11, 26, 3, 0, tzinfo=BERLIN).timestamp()  # a Thursday, 3 a.m.
    rows = _seeded(db_url, now)
    for index, item in enumerate(PLAN):
        row = rows[f"demo|appointment-{index + 1}"]
        assert _inside(row.start, row.end, row.clinician), (item, row.start)
        ahead, wanted = (row.start - now) / 3600, float(item["in_hours"])
        # The same reminder (48 h or 24 h ahead) is due when the demo starts.
        assert [ahead > h for h in (0, 24, 48)] == [wanted > h for h in (0, 24, 48)], item


def _seeded(db_url: str, now: float) -> dict[str, Any]:
    assert seed(db_url, now=now) == len(PLAN)
    assert seed(db_url, now=now + 60) == 0  # seeding again changes nothing
    db = Database(db_url)
    try:
        with db.read() as conn:
            return {r.external_id: r for r in conn.execute(select(appointments)).all()}
    finally:
        db.dispose()


def test_in_the_afternoon_the_attended_visit_is_recent_enough_for_its_follow_up(
    db_url: str,
) -> None:
    now = datetime(2026, 11, 26, 15, 10, tzinfo=BERLIN).timestamp()  # Thursday afternoon
    rows = _seeded(db_url, now)
    (visit,) = [r for r in rows.values() if r.status == "attended"]
    # reminders.json: the follow-up 3 h after the visit, sent up to 6 h late.
    assert visit.end + 3 * 3600 <= now <= visit.end + 9 * 3600
    assert _in_practice_hours(visit.start, visit.end)
