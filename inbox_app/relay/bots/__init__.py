"""The relay's chat bots: the out-of-hours reply (hours.py, automation order 50) and the
intake and booking bot (intake.py, booking_chat.py, order 60). Configured by BotSettings
(config.py); nothing runs unless INBOX_BOTS names the bots."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from inbox_app.domain.scheduling import ClinicSchedule

from .config import BotConfigError, BotSettings

if TYPE_CHECKING:  # settings.py imports this package: keep it light
    from ..automation import Automation


def register_bots(
    automation: Automation,
    settings: BotSettings | None,
    *,
    schedule: ClinicSchedule | None = None,
    fhir_url: str | None = None,
) -> None:
    """Register the configured bots' handlers and jobs (no settings: no bots). ``schedule``
    and ``fhir_url`` come from elsewhere (the reminders configuration) when the bots have
    none of their own."""
    if settings is None:
        return
    from ..settings import ConfigError
    from . import hours, intake

    if settings.schedule is None and schedule is not None:
        settings = replace(settings, schedule=schedule)
    if settings.fhir_url is None and fhir_url:
        settings = replace(settings, fhir_url=fhir_url)
    try:
        settings.check()
    except BotConfigError as exc:
        raise ConfigError(str(exc)) from None
    if settings.out_of_hours:
        hours.register(automation, settings)
    if settings.intake or settings.booking:
        slots = None
        if settings.booking and settings.fhir_url:
            from .fhir import FhirBookingWriter, FhirSlots

            writer = FhirBookingWriter(settings.fhir_url)
            automation.every("fhir_bookings", 30.0, writer.run)
            if settings.slot_source == "fhir":
                source = FhirSlots(settings.fhir_url)
                days = settings.booking_days
                automation.every("fhir_slots", 60.0, lambda _s, now: source.refresh(now, days))
                slots = source
        intake.register(automation, settings, slots=slots)
