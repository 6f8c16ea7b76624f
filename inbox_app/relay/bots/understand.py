"""Reading what a patient wrote: language, intent, name and date of birth (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_DE_WORDS = frozenset(
    "hallo guten tag morgen abend ich bin mein meine möchte moechte bitte danke termin "
    "einen eine und ist habe brauche wann wie was wer sie ihr rezept überweisung frage "
    "nicht kann können praxis arzt ärztin servus moin grüß gruss".split()
)
_EN_WORDS = frozenset(
    "hello hi good morning evening i am my would like please thanks thank you appointment "
    "an a and is have need when how what who doctor prescription question can could the "
    "want book".split()
)
_BOOK_WORDS = re.compile(
    r"\b(termin\w*|appointment\w*|book(?:ing)?|buchen|terminvereinbarung)\b", re.IGNORECASE
)
# …and a wish: "Danke für den Termin" mentions one but asks for nothing.
_WISH_WORDS = re.compile(
    r"\b(buchen|vereinbaren|brauche\w*|benötige\w*|benoetige\w*|möchte|moechte|hätte|"
    r"haette|gerne?|bitte|neue[nr]?|einen|bekomme\w*|frei\w*|wann|need|like|want|book\w*|"
    r"make|get|schedule|free|available|please|an|any|can|could)\b",
    re.IGNORECASE,
)
# Changing or cancelling an existing appointment is for staff (or the reminder buttons).
_CHANGE_WORDS = re.compile(
    r"\b(absagen|absage|verschieben|stornieren|cancel\w*|reschedul\w*|postpone|verlegen)\b",
    re.IGNORECASE,
)
_GERMAN_PREFIXES = ("49", "43", "41", "423")

_MONTHS = {
    **dict.fromkeys(("januar", "jänner", "jaenner", "january", "jan"), 1),
    **dict.fromkeys(("februar", "february", "feb"), 2),
    **dict.fromkeys(("märz", "maerz", "march", "mar", "mrz"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("august", "aug"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("dezember", "december", "dez", "dec"), 12),
}
_NUMERIC = re.compile(r"^(\d{1,2})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})\.?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\.?\s+([a-zäöü]+)\.?,?\s+(\d{4})$")
_MONTH_NAME_DAY = re.compile(r"^([a-zäöü]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+\.?)*$")


def guess_language(text: str | None, wa_id: str, known: str | None = None) -> str:
    """German or English: the words of the first message, else the patient record, else
    the phone number's country (DACH → German)."""
    lowered = (text or "").lower()
    words = set(re.findall(r"[a-zäöüß]+", lowered))
    de = len(words & _DE_WORDS) + (2 if re.search(r"[äöüß]", lowered) else 0)
    en = len(words & _EN_WORDS)
    if de != en:
        return "de" if de > en else "en"
    if known in ("de", "en"):
        return known
    return "de" if wa_id.startswith(_GERMAN_PREFIXES) else "en"


def language_switch(text: str | None) -> str | None:
    """'EN' / 'English' / 'DE' / 'Deutsch' alone switches the bot's language."""
    word = (text or "").strip().strip(".!").lower()
    if word in ("en", "english", "englisch"):
        return "en"
    if word in ("de", "deutsch", "german"):
        return "de"
    return None


def wants_booking(text: str | None) -> bool:
    """'Ich brauche einen Termin' / 'I'd like an appointment' — not 'Termin absagen'."""
    if not text:
        return False
    return (
        bool(_BOOK_WORDS.search(text))
        and bool(_WISH_WORDS.search(text))
        and not _CHANGE_WORDS.search(text)
    )


def is_question(text: str | None) -> bool:
    return bool(text) and "?" in (text or "")


def clean_name(text: str | None) -> str | None:
    """A full name (at least two words, letters only), tidied; None when it is not one."""
    if not text:
        return None
    name = " ".join(text.split())
    if not 3 <= len(name) <= 120 or len(name.split()) < 2 or len(name.split()) > 6:
        return None
    if not _NAME.match(name):
        return None
    if any(w.lower() in _DE_WORDS | _EN_WORDS for w in name.split()):
        return None  # a sentence ("Ich habe Kopfschmerzen"), not a name
    # "erika musterfrau" → "Erika Musterfrau"; "van der Berg" stays as written.
    return " ".join(
        w[:1].upper() + w[1:] if w.islower() and len(w) > 3 else w for w in name.split()
    )


def parse_birth_date(text: str | None, today: date) -> date | None:
    """24.12.1980, 24/12/1980, 1980-12-24, 24. Dezember 1980, December 24, 1980.

    Slashes are read day first (as in Germany and the UK) unless only month-first makes
    sense (12/24/1980). Future dates and ages over 120 are refused.
    """
    if not text:
        return None
    raw = " ".join(text.strip().lower().split()).rstrip(".")
    found: tuple[int, int, int] | None = None
    if m := _ISO.match(raw):
        found = (int(m[1]), int(m[2]), int(m[3]))
    elif m := _NUMERIC.match(raw):
        first, second, year = int(m[1]), int(m[3]), int(m[4])
        if len(m[4]) == 2:
            year += 1900 if year > today.year % 100 else 2000
        day, month = (second, first) if m[2] == "/" and second > 12 >= first else (first, second)
        found = (year, month, day)
    elif m := _DAY_MONTH_NAME.match(raw):
        named = _MONTHS.get(m[2])
        found = (int(m[3]), named, int(m[1])) if named else None
    elif m := _MONTH_NAME_DAY.match(raw):
        named = _MONTHS.get(m[1])
        found = (int(m[3]), named, int(m[2])) if named else None
    if found is None:
        return None
    try:
        born = date(*found)
    except ValueError:
        return None
    if born > today or born.year < today.year - 120:
        return None
    return born


def name_key(name: str) -> list[str]:
    """Words of a name for matching: case, accents and ä/ae spellings do not matter."""
    lowered = name.casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        lowered = lowered.replace(a, b)
    plain = unicodedata.normalize("NFKD", lowered)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z]+", plain)
