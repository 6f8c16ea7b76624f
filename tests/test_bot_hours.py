"""Out-of-hours reply: names the emergency number, once per conversation per closed
period, in the patient's language, and the intake bot still runs after it."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from inbox_app.domain.closed_days import ScheduleError
from inbox_app.domain.scheduling import ClinicSchedule
from inbox_app.relay.bots.config import BotSettings
from inbox_app.relay.bots.hours import closed_period
from inbox_app.relay.store import Store
from tests.test_bot_intake import (  # noqa: F401
    BERLIN,
    SCHEDULE,
    WA,
    Chat,
    bot_settings,
    store,
)

SATURDAY_NIGHT = datetime(2026, 11, 21, 22, 0, tzinfo=BERLIN).timestamp()


def test_reply_names_the_emergency_number_once_per_closed_period(store: Store) -> None:  # noqa: F811
    chat = Chat(store, bot_settings(emergency_number="112"), now=SATURDAY_NIGHT)
    chat.write("Hallo, ich brauche Hilfe")
    first, greeting = chat.bot_said()
    assert first["details"]["automation"] == "out_of_hours"
    assert "geschlossen" in first["text"] and "112" in first["text"]
    assert "ab Montag, 08:00 Uhr" in first["text"]  # when the practice opens again
    assert "Vor- und Nachname" in greeting["text"]  # not consumed: the intake greets too
    chat.write("Erika Musterfrau")
    chat.now = datetime(2026, 11, 22, 11, 0, tzinfo=BERLIN).timestamp()  # Sunday: still closed
    chat.write("24.12.1980")
    replies = [m for m in chat.bot_said() if m["details"]["automation"] == "out_of_hours"]
    assert len(replies) == 1
    # Open on Monday; closed again on Monday evening: a new period, one new reply.
    chat.now = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN).timestamp()
    chat.write("Noch da?")
    chat.now = datetime(2026, 11, 23, 19, 0, tzinfo=BERLIN).timestamp()
    chat.write("Hallo?")
    chat.write("Hallo??")
    replies = [m for m in chat.bot_said() if m["details"]["automation"] == "out_of_hours"]
    assert len(replies) == 2 and "ab Dienstag, 08:00 Uhr" in replies[1]["text"]


def test_configured_text_in_english_with_the_clinics_number(store: Store) -> None:  # noqa: F811
    settings = bot_settings(
        emergency_number="+49 30 112 0000",
        out_of_hours_en="We are closed. Emergencies: {emergency}. Back {next_open}.",
        intake=False,
        booking=False,
    )
    chat = Chat(store, settings, now=SATURDAY_NIGHT)
    chat.write("Hello, is anybody there?", wa_id="447700900123")
    (reply,) = chat.bot_said("447700900123")
    assert reply["text"] == (
        "We are closed. Emergencies: +49 30 112 0000. Back from Monday, 08:00."
    )


def test_closed_periods_follow_the_opening_hours() -> None:
    def at(day: int, hour: int) -> float:
        return datetime(2026, 11, day, hour, 0, tzinfo=BERLIN).timestamp()

    assert closed_period(SCHEDULE, at(23, 10)) is None  # Monday morning
    lunch = closed_period(SCHEDULE, at(23, 13))
    assert lunch == (at(23, 12), at(23, 14))
    wednesday_afternoon = closed_period(SCHEDULE, at(25, 15))
    assert wednesday_afternoon == (at(25, 12), at(26, 8))


def holiday_schedule(**keys: Any) -> ClinicSchedule:
    data = json.loads((Path(__file__).parents[1] / "resources/demo/schedule.json").read_text())
    return ClinicSchedule.from_json({**data, **keys})


def out_of_hours_replies(chat: Chat, wa_id: str = WA) -> list[dict[str, Any]]:
    said = chat.bot_said(wa_id)
    return [m for m in said if m["details"]["automation"] == "out_of_hours"]


def test_on_a_holiday_the_reply_names_the_next_open_day(store: Store) -> None:  # noqa: F811
    # Christmas Eve closed by the clinic, 25/26 December public holidays, then a weekend.
    clinic = holiday_schedule(
        holidays={"country": "DE", "subdivision": "BY"}, closed=["2026-12-24"]
    )
    chat = Chat(
        store,
        BotSettings(schedule=clinic, intake=False, booking=False),
        now=datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN).timestamp(),  # a Thursday morning
    )
    chat.write("Guten Morgen, ist heute jemand da?")
    (reply,) = out_of_hours_replies(chat)
    assert "geschlossen" in reply["text"] and "ab Montag, 08:00 Uhr" in reply["text"]
    # A closure day without a reason names none; a public holiday names itself.
    assert "geschlossen;" in reply["text"]
    # Corpus Christi closes a Bavarian practice (open again on Friday), not a Berlin one.
    corpus_christi = datetime(2026, 6, 4, 10, 0, tzinfo=BERLIN).timestamp()
    chat.now = corpus_christi
    chat.write("Hallo?", wa_id="4915100000077")
    (reply,) = out_of_hours_replies(chat, "4915100000077")
    assert "ab Freitag, 08:00 Uhr" in reply["text"]
    assert "gerade geschlossen (Fronleichnam);" in reply["text"]
    berlin = holiday_schedule(holidays={"country": "DE", "subdivision": "BE"})
    assert closed_period(berlin, corpus_christi) is None


def test_after_a_long_closure_the_reply_names_the_date_or_no_time(store: Store) -> None:  # noqa: F811
    reason = {"de": "Praxisurlaub", "en": "practice holiday"}  # the patient's language is used
    vacation = {"from": "2026-08-03", "to": "2026-08-14", "reason": reason}
    clinic = holiday_schedule(closed=[vacation])
    monday = datetime(2026, 8, 3, 10, 0, tzinfo=BERLIN).timestamp()
    chat = Chat(store, BotSettings(schedule=clinic, intake=False, booking=False), now=monday)
    chat.write("Hello, I need a prescription", wa_id="447700900123")
    (reply,) = out_of_hours_replies(chat, "447700900123")
    # Two weeks away: "Monday" alone would mean the coming one, so the date comes along.
    assert "from Monday 17 August, 08:00" in reply["text"]
    assert "closed right now (practice holiday);" in reply["text"]
    assert clinic.closed_reason(date(2026, 8, 5), "de") == "Praxisurlaub"
    with pytest.raises(ScheduleError, match=r"closed\[0\]\.reason"):
        holiday_schedule(closed=[{**vacation, "reason": {"de": " "}}])
    closed_at, opens_at = closed_period(clinic, monday) or (0.0, None)
    assert closed_at == datetime(2026, 7, 31, 13, 0, tzinfo=BERLIN).timestamp()
    assert opens_at == datetime(2026, 8, 17, 8, 0, tzinfo=BERLIN).timestamp()
    # Closed for longer than the reply looks ahead: still a reply, without a time.
    sabbatical = holiday_schedule(closed=[{"from": "2026-08-03", "to": "2026-12-31"}])
    chat = Chat(store, BotSettings(schedule=sabbatical, intake=False, booking=False), now=monday)
    chat.write("Hallo, ich brauche ein Rezept")
    (reply,) = out_of_hours_replies(chat)
    assert "wir antworten in unseren Öffnungszeiten" in reply["text"] and "112" in reply["text"]
