"""What the bots read from a patient's words: dates of birth in German and English
formats, the language, a wish to book (not to cancel), and names."""

from __future__ import annotations

from datetime import date

import pytest

from inbox_app.relay.bots.config import BotConfigError, BotSettings
from inbox_app.relay.bots.understand import (
    clean_name,
    guess_language,
    parse_birth_date,
    wants_booking,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("24.12.1980", date(1980, 12, 24)),
        ("24.12.80", date(1980, 12, 24)),
        ("1.2.2001", date(2001, 2, 1)),
        ("05.03.12", date(2012, 3, 5)),
        ("1980-12-24", date(1980, 12, 24)),
        ("24/12/1980", date(1980, 12, 24)),
        ("12/24/1980", date(1980, 12, 24)),  # only month-first makes sense
        ("03/04/1980", date(1980, 4, 3)),  # ambiguous: day first, as in Germany and the UK
        ("24. Dezember 1980", date(1980, 12, 24)),
        ("5. März 2012", date(2012, 3, 5)),
        ("24 December 1980", date(1980, 12, 24)),
        ("December 24, 1980", date(1980, 12, 24)),
        ("24th Dec 1980", date(1980, 12, 24)),
    ],
)
def test_birth_dates_in_german_and_english_formats(typed: str, born: date) -> None:
    assert parse_birth_date(typed, TODAY) == born


@pytest.mark.parametrize(
    "typed", ["31.02.1980", "24.12.2030", "01.01.1880", "gestern", "13/13/1980", "", "1980"]
)
def test_impossible_or_unreadable_dates_are_refused(typed: str) -> None:
    assert parse_birth_date(typed, TODAY) is None


def test_language_from_words_then_record_then_number() -> None:
    assert guess_language("Hallo, ich brauche einen Termin", "447700900123") == "de"
    assert guess_language("Hello, I need an appointment", "4915100000001") == "en"
    assert guess_language("Grüezi", "447700900123") == "de"  # an umlaut is German enough
    assert guess_language("👍", "4915100000001", known="en") == "en"
    assert guess_language("👍", "4915100000001") == "de"
    assert guess_language("👍", "447700900123") == "en"


def test_booking_wish_but_not_a_cancellation() -> None:
    assert wants_booking("Ich hätte gern einen Termin")
    assert wants_booking("Can I book an appointment?")
    assert not wants_booking("Ich muss meinen Termin absagen")
    assert not wants_booking("I need to cancel my appointment")
    assert not wants_booking("Ich habe Kopfschmerzen")
    assert not wants_booking("Danke für den Termin!")
    assert not wants_booking("Thanks for the appointment")
    assert wants_booking("Termin bitte")


def test_names() -> None:
    assert clean_name("  erika   musterfrau ") == "Erika Musterfrau"
    assert clean_name("Anna-Lena van der Berg") == "Anna-Lena van der Berg"
    assert clean_name("Erika") is None  # first and last name
    assert clean_name("Ich habe seit 3 Tagen Fieber") is None
    assert clean_name("Ich habe Kopfschmerzen") is None
    assert clean_name("I have a headache") is None
    assert clean_name("Was kostet das?") is None


def test_booking_without_a_schedule_is_a_clear_configuration_error() -> None:
    no_schedule = BotSettings.from_env({"INBOX_BOTS": "intake,booking"})
    assert no_schedule is not None
    with pytest.raises(BotConfigError, match="INBOX_SCHEDULE_FILE"):
        no_schedule.check()
    with pytest.raises(BotConfigError, match="unknown bot"):
        BotSettings.from_env({"INBOX_BOTS": "intake,psychic"})
    assert BotSettings.from_env({}) is None
    only_intake = BotSettings.from_env({"INBOX_BOTS": "intake"})
    assert only_intake is not None and not only_intake.booking and not only_intake.out_of_hours
