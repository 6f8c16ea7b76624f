"""What an operator configures for the bots: which run, the clinic's schedule, the
emergency number and the out-of-hours text (environment variables, see from_env)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from inbox_app.domain.scheduling import ClinicSchedule

# The insurers offered as a list (WhatsApp lists hold at most 10 rows; "other" is the 10th).
STATUTORY_INSURERS = (
    "AOK",
    "Techniker (TK)",
    "BARMER",
    "DAK-Gesundheit",
    "IKK",
    "KKH",
    "hkk",
    "BKK",
    "Knappschaft",
)
PRIVATE_INSURERS = (
    "Debeka",
    "DKV",
    "Allianz",
    "AXA",
    "Signal Iduna",
    "HUK-COBURG",
    "Barmenia",
    "Gothaer",
    "HALLESCHE",
)


class BotConfigError(Exception):
    """The bot configuration cannot work; the message names the variable to fix."""


@dataclass(frozen=True, slots=True)
class BotSettings:
    intake: bool = True
    booking: bool = True
    out_of_hours: bool = True
    # Opening hours, clinicians and appointment types; booking and out-of-hours need it.
    schedule: ClinicSchedule | None = None
    emergency_number: str = "112"
    # {emergency} and {next_open} are filled in; None: the built-in text (texts.py).
    out_of_hours_de: str | None = None
    out_of_hours_en: str | None = None
    slots_offered: int = 8  # at most 10: one WhatsApp list
    booking_days: int = 14  # how far ahead free slots are looked for
    # The practice system's FHIR server (INBOX_FHIR_URL): new bookings are written there;
    # with slot_source "fhir" (INBOX_SLOT_SOURCE) its free Slot resources are offered.
    fhir_url: str | None = None
    slot_source: str = "schedule"
    statutory_insurers: tuple[str, ...] = STATUTORY_INSURERS
    private_insurers: tuple[str, ...] = PRIVATE_INSURERS

    def __post_init__(self) -> None:
        if not 1 <= self.slots_offered <= 10:
            raise BotConfigError("INBOX_BOT_SLOTS must be between 1 and 10.")

    def check(self) -> None:
        """Refuse a configuration that cannot work (called when the relay starts)."""
        if self.slot_source not in ("schedule", "fhir"):
            raise BotConfigError("INBOX_SLOT_SOURCE must be schedule or fhir.")
        if self.slot_source == "fhir" and not self.fhir_url:
            raise BotConfigError("INBOX_SLOT_SOURCE=fhir needs INBOX_FHIR_URL.")
        if (self.booking or self.out_of_hours) and self.schedule is None:
            raise BotConfigError(
                "Booking by chat and the out-of-hours reply need the clinic's schedule: "
                "set INBOX_SCHEDULE_FILE (see resources/demo/schedule.json)."
            )

    @classmethod
    def from_env(cls, env: dict[str, str]) -> BotSettings | None:
        """``INBOX_BOTS=intake,booking,hours`` turns bots on (unset: none run)."""
        wanted = {w.strip().lower() for w in env.get("INBOX_BOTS", "").split(",") if w.strip()}
        if not wanted:
            return None
        unknown = wanted - {"intake", "booking", "hours"}
        if unknown:
            raise BotConfigError(
                f"INBOX_BOTS: unknown bot(s) {', '.join(sorted(unknown))}; "
                "use intake, booking, hours."
            )
        schedule = None
        path = env.get("INBOX_SCHEDULE_FILE", "").strip()
        if path:
            try:
                schedule = ClinicSchedule.from_json(json.loads(Path(path).read_text("utf-8")))
            except (OSError, ValueError, KeyError) as exc:
                raise BotConfigError(
                    f"INBOX_SCHEDULE_FILE {path!r} cannot be read: {exc}"
                ) from None
        try:
            slots = int(env.get("INBOX_BOT_SLOTS", "8"))
        except ValueError:
            raise BotConfigError("INBOX_BOT_SLOTS must be a whole number.") from None
        return cls(
            intake="intake" in wanted,
            booking="booking" in wanted,
            out_of_hours="hours" in wanted,
            schedule=schedule,
            emergency_number=env.get("INBOX_EMERGENCY_NUMBER", "").strip() or "112",
            out_of_hours_de=env.get("INBOX_OUT_OF_HOURS_TEXT_DE") or None,
            out_of_hours_en=env.get("INBOX_OUT_OF_HOURS_TEXT_EN") or None,
            slots_offered=slots,
            fhir_url=env.get("INBOX_FHIR_URL", "").strip() or None,
            slot_source=env.get("INBOX_SLOT_SOURCE", "").strip().lower() or "schedule",
        )
