"""The clinic's settings for automated patient messages: reminders, the post-visit
follow-up, the satisfaction question, the schedule behind Reschedule, FHIR write-back.

One JSON file per clinic (one relay serves one clinic), named by ``INBOX_REMINDERS_CONFIG``;
every key is optional and docs/reminders.md describes them. A bad file stops the relay at
start with a message naming the key, rather than sending reminders at the wrong time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inbox_app.domain.closed_days import ScheduleError
from inbox_app.domain.keywords import fold
from inbox_app.domain.scheduling import ClinicSchedule

from .reminders import ReminderPolicy
from .settings import ConfigError

ENV_CONFIG = "INBOX_REMINDERS_CONFIG"
ENV_SCHEDULE = "INBOX_SCHEDULE_FILE"
ENV_FHIR_URL = "INBOX_FHIR_URL"

REMINDER_TEMPLATE = "appointment_reminder_actions"
FOLLOW_UP_TEMPLATE = "visit_follow_up"
SATISFACTION_TEMPLATE = "satisfaction_survey"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A message some hours after an attended appointment (off unless switched on)."""

    enabled: bool = False
    hours_after: int = 3
    template: str = FOLLOW_UP_TEMPLATE


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The question after a resolved conversation: at most once per ``every_days`` per number.
    Off unless the clinic switches it on (it writes to patients on its own)."""

    enabled: bool = False
    every_days: float = 30.0
    # Only conversations resolved at least this long ago (staff may still add something).
    delay_minutes: float = 10.0
    # Outside the 24-hour window the question needs an approved template; "" = don't ask then.
    template: str = SATISFACTION_TEMPLATE


@dataclass(frozen=True, slots=True)
class ReminderConfig:
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    template: str = REMINDER_TEMPLATE
    # Without recorded consent for reminders nothing is sent (issue 8); a clinic whose
    # registration form covers reminders may import that consent instead of turning this off.
    require_consent: bool = True
    follow_up: FollowUp = field(default_factory=FollowUp)
    satisfaction: Satisfaction = field(default_factory=Satisfaction)
    schedule: ClinicSchedule | None = None
    fhir_url: str | None = None
    interval_seconds: float = 60.0


def _hours_list(value: Any, where: str) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(h, int) and 0 < h <= 24 * 14 for h in value)
    ):
        raise ConfigError(f"{where} must be a list of whole hours between 1 and 336.")
    return tuple(sorted(set(value), reverse=True))


def _quiet(value: Any) -> tuple[clock_time | None, clock_time | None]:
    if value is None:
        return None, None
    try:
        start, end = str(value).split("-")
        return clock_time.fromisoformat(start.strip()), clock_time.fromisoformat(end.strip())
    except ValueError:
        raise ConfigError(
            f'quiet_hours must look like "20:00-08:00" or be null (got {value!r}).'
        ) from None


def _type_keys(code: str, schedule: ClinicSchedule | None) -> list[str]:
    """An appointment type is recognised by its code or either label (appointments carry
    the type in ``reason``: booking.py writes the German label, imports the FHIR text)."""
    keys = [fold(code)]
    if schedule is not None and code in schedule.types:
        kind = schedule.types[code]
        keys += [fold(kind.label_de), fold(kind.label_en)]
    return keys


def parse(data: dict[str, Any], *, base: Path | None = None) -> ReminderConfig:
    """The configuration from a decoded file (``base``: where relative paths start)."""
    if not isinstance(data, dict):
        raise ConfigError("The reminders configuration must be a JSON object.")
    schedule = None
    schedule_path = data.get("schedule") or os.environ.get(ENV_SCHEDULE)
    if schedule_path:
        path = Path(schedule_path)
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            schedule = ClinicSchedule.from_json(json.loads(path.read_text(encoding="utf-8")))
        except ScheduleError as exc:  # names the bad holiday region or closure date
            raise ConfigError(f"schedule {path}: {exc}") from None
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"schedule: cannot read {path} ({type(exc).__name__}).") from None
    tz = str(data.get("timezone") or (schedule.timezone if schedule else "Europe/Berlin"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {tz!r}.") from None
    hours = _hours_list(data.get("hours_before", [48, 24]), "hours_before")
    by_type: dict[str, tuple[int, ...]] = {}
    for code, spec in (data.get("types") or {}).items():
        if not isinstance(spec, dict) or "hours_before" not in spec:
            raise ConfigError(f"types.{code} needs hours_before.")
        offsets = _hours_list(spec["hours_before"], f"types.{code}.hours_before")
        for key in _type_keys(str(code), schedule):
            by_type[key] = offsets
    quiet_start, quiet_end = _quiet(data.get("quiet_hours", "20:00-08:00"))
    catch_up = data.get("catch_up_hours", 6)
    if not isinstance(catch_up, int | float) or catch_up < 0:
        raise ConfigError("catch_up_hours must be a number of hours (0 or more).")
    follow = data.get("follow_up") or {}
    survey = data.get("satisfaction") or {}
    every_days = float(survey.get("every_days", 30))
    if every_days < 1:
        raise ConfigError("satisfaction.every_days must be at least 1.")
    return ReminderConfig(
        policy=ReminderPolicy(
            hours_before=hours,
            timezone=tz,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            catch_up=timedelta(hours=float(catch_up)),
            by_type=by_type,
        ),
        template=str(data.get("template") or REMINDER_TEMPLATE),
        require_consent=bool(data.get("require_consent", True)),
        follow_up=FollowUp(
            enabled=bool(follow.get("enabled", False)),
            hours_after=int(follow.get("hours_after", 3)),
            template=str(follow.get("template") or FOLLOW_UP_TEMPLATE),
        ),
        satisfaction=Satisfaction(
            enabled=bool(survey.get("enabled", False)),
            every_days=every_days,
            delay_minutes=float(survey.get("delay_minutes", 10)),
            template=str(survey.get("template", SATISFACTION_TEMPLATE)),
        ),
        schedule=schedule,
        fhir_url=(str(data.get("fhir_url") or os.environ.get(ENV_FHIR_URL) or "") or None),
        interval_seconds=float(data.get("interval_seconds", 60)),
    )


def load(path: str | None = None) -> ReminderConfig:
    """From ``path`` or ``INBOX_REMINDERS_CONFIG``; the defaults when neither is set."""
    path = path or os.environ.get(ENV_CONFIG)
    if not path:
        return parse({})
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{ENV_CONFIG}: cannot read {file} ({exc.strerror}).") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ENV_CONFIG}: {file} is not JSON (line {exc.lineno}).") from None
    return parse(data, base=file.parent)
