"""Free appointment slots from opening hours, clinicians' hours and appointment types;
none on public holidays and the clinic's closure days (closed_days.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .closed_days import ClosedDays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Hours = dict[int, list[tuple[time, time]]]


@dataclass(frozen=True, slots=True)
class AppointmentType:
    code: str
    label_de: str
    label_en: str
    minutes: int


@dataclass(frozen=True, slots=True)
class Slot:
    clinician: str
    start: float
    end: float


def _hours(data: dict[str, Any]) -> Hours:
    hours: Hours = {}
    for name, spans in data.items():
        day = WEEKDAYS.index(name[:3].lower())
        hours[day] = [
            (time.fromisoformat(a), time.fromisoformat(b)) for a, b in (s.split("-") for s in spans)
        ]
    return hours


def intersect(a: list[tuple[time, time]], b: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """The spans two lists of (start, end) times share, in order."""
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            start, end = max(s1, s2), min(e1, e2)
            if start < end:
                out.append((start, end))
    return sorted(out)


@dataclass(frozen=True, slots=True)
class ClinicSchedule:
    timezone: str
    opening: Hours
    clinicians: dict[str, Hours]
    types: dict[str, AppointmentType]
    step_minutes: int = 15
    lead_minutes: int = 60  # no slot that starts sooner than this
    closed_days: ClosedDays = field(default_factory=ClosedDays)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClinicSchedule:
        return cls(
            timezone=str(data["timezone"]),
            opening=_hours(data["opening_hours"]),
            clinicians={name: _hours(h) for name, h in data["clinicians"].items()},
            types={
                code: AppointmentType(code, t["de"], t["en"], int(t["minutes"]))
                for code, t in data["appointment_types"].items()
            },
            step_minutes=int(data.get("step_minutes", 15)),
            lead_minutes=int(data.get("lead_minutes", 60)),
            closed_days=ClosedDays.from_json(data.get("holidays"), data.get("closed")),
        )

    def is_closed_day(self, day: date) -> bool:
        """A public holiday or a closure day: no slots, the out-of-hours reply answers."""
        return self.closed_days.is_closed(day)

    def closed_reason(self, day: date, language: str = "de") -> str | None:
        """The holiday's name or the closure's reason ("" when none was given) for display;
        None on a day the practice keeps its weekly hours."""
        return self.closed_days.reason(day, language)

    def opening_on(self, day: date) -> list[tuple[time, time]]:
        """The opening spans of one local day (none on a closed day)."""
        return [] if self.is_closed_day(day) else self.opening.get(day.weekday(), [])

    def units(self, start: float, end: float) -> list[float]:
        """The step-sized units an appointment occupies (what a booking locks)."""
        step = self.step_minutes * 60
        first = start - (start % step)
        return [first + i * step for i in range(int((end - first + step - 1) // step))]

    def free_slots(
        self,
        *,
        type_code: str,
        first_day: date,
        days: int,
        busy: dict[str, list[tuple[float, float]]],
        now: float,
        clinician: str | None = None,
        limit: int = 10,
    ) -> list[Slot]:
        """Bookable slots, earliest first, over ``days`` days from ``first_day`` (local)."""
        zone = ZoneInfo(self.timezone)
        length = timedelta(minutes=self.types[type_code].minutes)
        step = timedelta(minutes=self.step_minutes)
        earliest = now + self.lead_minutes * 60
        names = [clinician] if clinician else sorted(self.clinicians)
        found: list[Slot] = []
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            opening = self.opening_on(day)
            if not opening:
                continue
            for name in names:
                spans = intersect(
                    opening,
                    self.clinicians.get(name, {}).get(day.weekday(), []),
                )
                taken = busy.get(name, [])
                for span_start, span_end in spans:
                    moment = datetime.combine(day, span_start, zone)
                    closing = datetime.combine(day, span_end, zone)
                    while moment + length <= closing:
                        s, e = moment.timestamp(), (moment + length).timestamp()
                        if s >= earliest and all(e <= b0 or s >= b1 for b0, b1 in taken):
                            found.append(Slot(name, s, e))
                        moment += step
            if len(found) >= limit:
                break
        found.sort(key=lambda slot: (slot.start, slot.clinician))
        return found[:limit]
