"""Opt-out/opt-in keywords and red-flag words, German and English."""

from __future__ import annotations

import pytest

from inbox_app.domain.keywords import Keyword, keyword, red_flags


@pytest.mark.parametrize(
    "text", ["STOP", "Stopp", " stopp! ", "ABMELDEN", "abbestellen.", "Unsubscribe"]
)
def test_opt_out_words(text: str) -> None:
    assert keyword(text) == Keyword.OPT_OUT


@pytest.mark.parametrize("text", ["START", "Anmelden", "start."])
def test_opt_in_words(text: str) -> None:
    assert keyword(text) == Keyword.OPT_IN


@pytest.mark.parametrize(
    "text",
    [
        "Bitte nicht stoppen, ich komme",
        "Stop by tomorrow?",
        "Kann ich mich für die Grippeimpfung anmelden?",
        "",
        None,
    ],
)
def test_keywords_only_as_the_whole_message(text: str | None) -> None:
    assert keyword(text) is None


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Ich habe seit einer Stunde starke Brustschmerzen", "brustschmerz"),
        ("BRUSTSCHMERZEN und Übelkeit", "brustschmerz"),
        ("Ich kriege keine Luft mehr", "kriege keine luft"),
        ("Mein Vater hat eine Lähmung im Arm", "laehmung"),
        ("I have chest pain since this morning", "chest pain"),
        ("I feel suicidal", "suicidal"),
        ("I can’t breathe properly", "can't breathe"),
    ],
)
def test_red_flags(text: str, flag: str) -> None:
    assert flag in red_flags(text)


@pytest.mark.parametrize(
    "text", ["Ich brauche ein Rezept", "Termin für Blutabnahme", "Strokes of luck", None]
)
def test_no_red_flags(text: str | None) -> None:
    assert red_flags(text) == []
