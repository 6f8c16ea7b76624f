"""Days the practice is closed although its weekly hours say open: public holidays of one
country and state (from the ``holidays`` package, never a hand-kept list) and the clinic's
own closure days (vacation, training days), as configured in the schedule JSON::

    "holidays": {"country": "DE", "subdivision": "BY"},
    "closed": ["2026-12-24", {"from": "2026-08-03", "to": "2026-08-14", "reason": "Praxisurlaub"}]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import holidays


class ScheduleError(ValueError):
    """The schedule configuration is unusable; the message names the key and the value."""


@dataclass(frozen=True, slots=True)
class Closure:
    """The clinic's own closure, first to last day inclusive."""

    first: date
    last: date
    reason: str | None = None
    # The reason per language ({"de": "Praxisurlaub", "en": "Practice holiday"}), when the
    # configuration gives it that way; ``reason`` is then the German one.
    reasons: tuple[tuple[str, str], ...] = ()

    def reason_in(self, language: str) -> str:
        """The reason in ``language`` (else German, else the one given); "" when none."""
        by_language = dict(self.reasons)
        return by_language.get(language) or by_language.get("de") or self.reason or ""


def _day(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise ScheduleError(f"{where}: {value!r} is not a date (use YYYY-MM-DD).")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ScheduleError(f"{where}: {value!r} is not a date (use YYYY-MM-DD).") from None


def _closure(entry: Any, index: int) -> Closure:
    where = f"closed[{index}]"
    if isinstance(entry, str):
        day = _day(entry, where)
        return Closure(day, day)
    if not isinstance(entry, dict):
        raise ScheduleError(
            f"{where}: {entry!r} must be a date or an object with from, to and reason."
        )
    unknown = set(entry) - {"from", "to", "reason"}
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
    if "from" not in entry or "to" not in entry:
        raise ScheduleError(f"{where}: a closure needs both from and to.")
    first, last = _day(entry["from"], f"{where}.from"), _day(entry["to"], f"{where}.to")
    if last < first:
        raise ScheduleError(f"{where}: to ({last}) is before from ({first}).")
    reason = entry.get("reason")
    if isinstance(reason, dict):
        # {"de": "Praxisurlaub", "en": "Practice holiday"}: the patient's language is used.
        if not reason or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in reason.items()
        ):
            raise ScheduleError(f'{where}.reason must be text per language, e.g. {{"de": …}}.')
        texts = tuple(sorted((k, v.strip()) for k, v in reason.items()))
        main = dict(texts).get("de") or texts[0][1]
        return Closure(first, last, main, texts)
    if reason is not None and not isinstance(reason, str):
        raise ScheduleError(f"{where}.reason must be text.")
    return Closure(first, last, reason or None)


def _region(country: str, subdivision: str | None) -> tuple[str, str | None]:
    """The package's spelling of country and state (any case), refused now when unknown
    rather than on the first lookup: the relay stops at start with the bad value."""
    supported = holidays.list_supported_countries()
    code = country.strip().upper()
    if code not in supported:
        raise ScheduleError(
            f"holidays.country: {country!r} is not a supported country code "
            "(ISO 3166-1 alpha-2, e.g. 'DE')."
        )
    if subdivision is None:
        return code, None
    known = {s.upper(): s for s in supported[code]}
    if subdivision.strip().upper() not in known:
        raise ScheduleError(
            f"holidays.subdivision: {subdivision!r} is not a subdivision of {code} "
            f"(one of {', '.join(supported[code])})."
        )
    return code, known[subdivision.strip().upper()]


def _load(country: str, subdivision: str | None) -> None:
    """Import the country's calendar at start: a build missing it fails there, not later."""
    holidays.country_holidays(country, subdiv=subdivision)


@dataclass(frozen=True, slots=True)
class ClosedDays:
    """Public holidays (if a region is configured) plus the clinic's closures."""

    country: str | None = None
    subdivision: str | None = None
    closures: tuple[Closure, ...] = ()
    # One lazily filled calendar per language; filling mutates it, hence the lock
    # (the relay looks up days from several threads).
    _calendars: dict[str, holidays.HolidayBase] = field(
        default_factory=dict, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_json(cls, region: Any, closed: Any) -> ClosedDays:
        """From the schedule's optional ``holidays`` and ``closed`` keys (None: absent)."""
        country = subdivision = None
        if region is not None:
            if not isinstance(region, dict) or not isinstance(region.get("country"), str):
                raise ScheduleError(
                    'holidays must be an object like {"country": "DE", "subdivision": "BY"}.'
                )
            unknown = set(region) - {"country", "subdivision"}
            if unknown:
                raise ScheduleError(f"holidays: unknown key(s) {', '.join(sorted(unknown))}.")
            raw_sub = region.get("subdivision")
            if raw_sub is not None and not isinstance(raw_sub, str):
                raise ScheduleError(f"holidays.subdivision: {raw_sub!r} must be text.")
            country, subdivision = _region(region["country"], raw_sub or None)
            _load(country, subdivision)
        if closed is None:
            closed = []
        if not isinstance(closed, list):
            raise ScheduleError("closed must be a list of dates and {from, to, reason} ranges.")
        closures = tuple(_closure(entry, i) for i, entry in enumerate(closed))
        return cls(country, subdivision, closures)

    def _calendar(self, language: str) -> holidays.HolidayBase:
        assert self.country is not None
        calendar = self._calendars.get(language)
        if calendar is None:
            probe = holidays.country_holidays(self.country, subdiv=self.subdivision)
            # Names in the reader's language where the package has it (en → en_US).
            wanted = next(
                (lang for lang in probe.supported_languages if lang.split("_")[0] == language),
                probe.default_language,
            )
            calendar = holidays.country_holidays(
                self.country, subdiv=self.subdivision, language=wanted
            )
            self._calendars[language] = calendar
        return calendar

    def holiday(self, day: date, language: str = "de") -> str | None:
        """The public holiday's name on ``day``, or None."""
        if self.country is None:
            return None
        with self._lock:
            name = self._calendar(language).get(day)
        return str(name) if name else None

    def reason(self, day: date, language: str = "de") -> str | None:
        """Why the practice is closed on ``day`` (holiday name, closure reason or an empty
        string for a closure without one); None when it is not a closed day."""
        name = self.holiday(day, language)
        if name is not None:
            return name
        for closure in self.closures:
            if closure.first <= day <= closure.last:
                return closure.reason_in(language)
        return None

    def is_closed(self, day: date) -> bool:
        return self.reason(day) is not None
