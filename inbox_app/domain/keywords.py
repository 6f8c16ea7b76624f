"""Words in a patient's message that the relay must act on at once.

Opt-out/opt-in only when the whole message is the keyword (so "nicht stoppen" in a
sentence does not unsubscribe anyone); red flags anywhere in the text, erring on the side
of escalating (a negated "keine Brustschmerzen" still reaches a clinician).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

OPT_OUT = frozenset(
    {
        "stop",
        "stopp",
        "abmelden",
        "abbestellen",
        "austragen",
        "unsubscribe",
        "cancel all",
        "keine nachrichten",
        "no more messages",
    }
)
OPT_IN = frozenset({"start", "anmelden", "subscribe", "unstop"})

# (language, phrase) — matched on folded text (lower case, umlauts kept and also as ae/oe/ue).
RED_FLAGS: tuple[tuple[str, str], ...] = (
    ("de", "brustschmerz"),
    ("de", "schmerzen in der brust"),
    ("de", "engegefuehl in der brust"),
    ("de", "atemnot"),
    ("de", "kriege keine luft"),
    ("de", "bekomme keine luft"),
    ("de", "suizid"),
    ("de", "selbstmord"),
    ("de", "mich umbringen"),
    ("de", "nicht mehr leben"),
    ("de", "bewusstlos"),
    ("de", "schlaganfall"),
    ("de", "laehmung"),
    ("de", "starke blutung"),
    ("de", "blute stark"),
    ("en", "chest pain"),
    ("en", "shortness of breath"),
    ("en", "can't breathe"),
    ("en", "cannot breathe"),
    ("en", "suicidal"),
    ("en", "suicide"),
    ("en", "kill myself"),
    ("en", "unconscious"),
    ("en", "stroke"),
    ("en", "heavy bleeding"),
    ("en", "bleeding heavily"),
)


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def fold(text: str) -> str:
    """Lower case, ß→ss, umlauts→ae/oe/ue, other accents dropped, spaces collapsed."""
    text = text.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def keyword(text: str | None) -> Keyword | None:
    """The opt-out/opt-in keyword the whole message consists of, if any."""
    if not text:
        return None
    core = re.sub(r"[^\w' ]+", " ", fold(text))
    core = re.sub(r"\s+", " ", core).strip()
    if core in OPT_OUT:
        return Keyword.OPT_OUT
    if core in OPT_IN:
        return Keyword.OPT_IN
    return None


def red_flags(text: str | None) -> list[str]:
    """The red-flag phrases found in a message (empty when none)."""
    if not text:
        return []
    folded = fold(text)
    found = []
    for lang, phrase in RED_FLAGS:
        # German compounds grow at the end (Brustschmerzen, Suizidgedanken); English words don't.
        end = "" if lang == "de" else r"\b"
        if re.search(rf"\b{re.escape(phrase)}{end}", folded):
            found.append(phrase)
    return found
