"""Synthetic patients, appointments and reminder consents for the demo relay
(``python -m inbox_app.relay.demo_seed``, run by ui/demo.py before the relay starts).

Appointments are placed relative to now (resources/demo/appointments.json), so the relay's
reminders go out as soon as the demo runs, then moved to the nearest time in the clinician's
(else the practice's) hours (schedule.json) at which a reminder is still due, so a demo
started at night shows no 3 a.m. visits; seeding twice changes nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.domain.scheduling import ClinicSchedule, intersect

from .consent import Consents
from .db import Database, consents
from .patients import AppointmentIn, PatientIn, Registry
from .store import Store

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _patient(entry: dict[str, Any]) -> PatientIn:
    given, _, family = str(entry["name"]).partition(" ")
    # A family member shares the number: its own key keeps the external id unique.
    key = f"|{entry['key']}" if entry.get("key") else ""
    return PatientIn(
        external_id=f"demo|{entry['wa_id']}{key}",
        family_name=family or given,
        given_name=given,
        birth_date=entry.get("date_of_birth"),
        wa_id=entry["wa_id"],
        language=entry.get("language"),
        record_number=entry.get("record_number"),
    )


HOUR = 3600.0


@dataclass(frozen=True)
class _Timing:
    """What of reminders.json decides when the demo's appointments may be."""

    edges: list[float]  # seconds before a visit that a reminder goes out, ascending
    follow_up: float | None  # seconds after a visit that the follow-up goes out
    catch_up: float  # how late a due message still goes out

    @classmethod
    def read(cls, folder: Path) -> _Timing:
        path = folder / "reminders.json"
        config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        hours = list(config.get("hours_before", [48, 24]))
        for kind in config.get("types", {}).values():
            hours += kind.get("hours_before", [])
        follow = config.get("follow_up") or {}
        return cls(
            edges=sorted({int(h) * HOUR for h in hours if int(h) > 0}),
            follow_up=follow.get("hours_after", 3) * HOUR if follow.get("enabled") else None,
            catch_up=float(config.get("catch_up_hours", 6)) * HOUR,
        )


def _bands(start: float, length: float, now: float, timing: _Timing) -> list[tuple[float, float]]:
    """Where an appointment may start, best first. A coming one: its own band between two
    reminder offsets (the same reminder is due at once), then the nearer bands (another is
    due), then the farther ones, an hour clear of now. A past one: where its follow-up is
    due now, else within four days."""
    if start <= now:
        recent = []
        if timing.follow_up is not None:
            latest_end = now - timing.follow_up
            recent = [(latest_end - timing.catch_up + 1800 - length, latest_end - length)]
        return [*recent, (now - 96 * HOUR, now - HOUR - length)]
    edges = timing.edges
    bounds = [0.0, *edges, max(start - now, edges[-1] if edges else 0.0) + 24 * HOUR]
    bands = [(now + lo + HOUR, now + hi - 300) for lo, hi in pairwise(bounds)]
    own = next(i for i, (lo, hi) in enumerate(bands) if start <= hi + 300)
    return [bands[own], *reversed(bands[:own]), *bands[own + 1 :]]


def _spans(
    schedule: ClinicSchedule, day: date, clinician: str | None
) -> list[tuple[dt_time, dt_time]]:
    spans = schedule.opening_on(day)
    if clinician is None:
        return spans
    return intersect(spans, schedule.clinicians.get(clinician, {}).get(day.weekday(), []))


def _in_hours(
    start: float,
    minutes: int,
    band: tuple[float, float],
    schedule: ClinicSchedule,
    clinician: str | None,
    busy: list[tuple[float, float]],
) -> float | None:
    """The free start inside ``band`` nearest to ``start`` when the practice is open (and,
    with ``clinician``, that clinician works); None if the band has none."""
    zone = ZoneInfo(schedule.timezone)
    length, step = minutes * 60, timedelta(minutes=schedule.step_minutes)
    day, last = (datetime.fromtimestamp(t, zone).date() for t in band)
    found: list[float] = []
    while day <= last:
        for opens, closes in _spans(schedule, day, clinician):
            moment, closing = (datetime.combine(day, t, zone) for t in (opens, closes))
            while moment.timestamp() + length <= closing.timestamp():
                t = moment.timestamp()
                free = all(t + length <= b0 or t >= b1 for b0, b1 in busy)
                if band[0] <= t <= band[1] and free:
                    found.append(t)
                moment += step
        day += timedelta(days=1)
    return min(found, key=lambda t: abs(t - start)) if found else None


def seed(database_url: str, *, now: float | None = None, folder: Path = DEMO) -> int:
    """Write the demo data; returns how many appointments were created."""
    now = time.time() if now is None else now
    register = json.loads((folder / "patients.json").read_text(encoding="utf-8"))
    people = register["patients"]
    family = register.get("family_members", [])
    plan = json.loads((folder / "appointments.json").read_text(encoding="utf-8"))
    # Whole five minutes, as a practice system would book them.
    base = now - now % 300
    hours_file = folder / "schedule.json"
    schedule = (
        ClinicSchedule.from_json(json.loads(hours_file.read_text(encoding="utf-8")))
        if hours_file.is_file()
        else None
    )
    timing = _Timing.read(folder)
    busy: dict[str | None, list[tuple[float, float]]] = {}
    wanted = []
    for index, item in enumerate(plan["appointments"]):
        start = base + float(item["in_hours"]) * 3600
        minutes = int(item["minutes"])
        if schedule is not None:
            clinician = item.get("clinician")
            taken = busy.setdefault(clinician, [])
            # The clinician's own hours first, else the practice's; the planned time only
            # if no band has an opening at all.
            bands = _bands(start, minutes * 60, now, timing)
            tries = ((band, who) for band in bands for who in (clinician, None))
            for band, who in tries:
                moved = _in_hours(start, minutes, band, schedule, who, taken)
                if moved is not None:
                    start = moved
                    break
            taken.append((start, start + minutes * 60))
        wanted.append(
            AppointmentIn(
                external_id=f"demo|appointment-{index + 1}",
                patient_external_id=f"demo|{item['wa_id']}",
                start=start,
                end=start + int(item["minutes"]) * 60,
                status=AppointmentStatus(item.get("status", "booked")),
                clinician=item.get("clinician"),
                place=item.get("place"),
                reason=item.get("reason"),
            )
        )
    db = Database(database_url)
    try:
        db.create_schema()
        store = Store(db)
        registry = Registry(store)
        if registry.patients_for(people[0]["wa_id"]):
            return 0  # seeded before: the demo's times stay as they were
        counts = registry.upsert([_patient(p) for p in people + family], wanted)
        with db.write() as conn:
            for item in plan["appointments"]:
                known = conn.execute(
                    select(consents.c.id).where(consents.c.wa_id == item["wa_id"])
                ).first()
                if item.get("consent") and known is None:
                    Consents(store).record(
                        conn,
                        wa_id=item["wa_id"],
                        purposes=[ConsentPurpose.CARE, ConsentPurpose.REMINDERS],
                        granted=True,
                        source=ConsentSource.FORM,
                        at=now - 30 * 86400,
                    )
        return counts.created - len(people) - len(family)
    finally:
        db.dispose()


def main() -> int:
    url = os.environ.get("INBOX_DATABASE_URL", "")
    if not url or os.environ.get("INBOX_DEMO", "") not in ("1", "true", "yes"):
        print("demo_seed: only for a demo relay (INBOX_DEMO=1, INBOX_DATABASE_URL)")
        return 2
    created = seed(url)
    print(f"demo_seed: {created} appointments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
