"""Out-of-hours reply: names the emergency number, once per conversation per closed
period, in the patient's language, and the intake bot still runs after it."""

from __future__ import annotations

from datetime import datetime

from inbox_app.relay.bots.hours import closed_period
from inbox_app.relay.store import Store
from tests.test_bot_intake import BERLIN, SCHEDULE, Chat, bot_settings, store  # noqa: F401

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
