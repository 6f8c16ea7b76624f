"""Everything the bots say, in German and English. The bots never give medical advice:
nothing here answers a question; free questions get ``staff_will_answer``."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("de", "en")

_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "greeting": (
            "Guten Tag! Hier ist der digitale Assistent der Praxis. Damit Ihnen unser Team "
            "schnell helfen kann, drei kurze Fragen.\n\n"
            "Wie ist Ihr vollständiger Name (Vor- und Nachname)?"
        ),
        "booking_greeting": (
            "Guten Tag! Gern buchen wir Ihnen hier einen Termin.\n\n"
            "Wie ist Ihr vollständiger Name (Vor- und Nachname)?"
        ),
        "ask_name": "Wie ist Ihr vollständiger Name (Vor- und Nachname)?",
        "bad_name": "Bitte schreiben Sie Ihren Vor- und Nachnamen, z. B. „Erika Musterfrau“.",
        "ask_dob": "Danke, {name}. Wann sind Sie geboren? (z. B. 24.12.1980)",
        "bad_dob": "Das Datum kann ich nicht lesen. Bitte so schreiben: 24.12.1980",
        "ask_reason": "Worum geht es? Bitte wählen Sie aus der Liste.",
        "reason_button": "Anliegen wählen",
        "choose_from_list": "Bitte tippen Sie auf eine Auswahl in der Liste.",
        "staff_will_answer": (
            "Fragen kann ich hier leider nicht beantworten – ein Mitglied unseres Teams "
            "antwortet Ihnen persönlich."
        ),
        "not_text": "Danke, unser Team sieht sich das an.",
        "handover": (
            "Vielen Dank! Ihre Angaben sind bei unserem Team, wir melden uns bald bei Ihnen."
        ),
        "ask_insurance": "Wie sind Sie versichert?",
        "ask_insurer": "Bei welcher Krankenkasse bzw. Versicherung?",
        "insurer_button": "Versicherung wählen",
        "other": "Andere",
        "ask_type": "Welche Art von Termin brauchen Sie?",
        "type_button": "Terminart wählen",
        "offer_slots": "Diese Termine sind frei. Bitte wählen Sie einen aus.",
        "slots_button": "Termine ansehen",
        "slot_taken": "Dieser Termin wurde gerade vergeben. Hier sind die nächsten freien Termine:",
        "slot_stale": "Bitte wählen Sie einen Termin aus der neuesten Liste.",
        "no_slots": (
            "Online finde ich gerade keinen freien Termin. Unser Team meldet sich bei Ihnen, "
            "um einen Termin zu vereinbaren."
        ),
        "confirmed": (
            "Ihr Termin ist gebucht: {when} bei {clinician} ({kind}). Wenn Sie nicht kommen "
            "können, schreiben Sie uns bitte hier."
        ),
        "out_of_hours": (
            "Vielen Dank für Ihre Nachricht. Die Praxis ist gerade geschlossen{why}; wir antworten "
            "{next_open}. In einem Notfall rufen Sie bitte sofort die {emergency} an "
            "(ärztlicher Bereitschaftsdienst: 116 117)."
        ),
        "next_open": "ab {when}",
        "next_open_unknown": "in unseren Öffnungszeiten",
        "other_language": "English",
        "statutory": "Gesetzlich",
        "private": "Privat",
    },
    "en": {
        "greeting": (
            "Hello! This is the practice's digital assistant. So that our team can help you "
            "quickly, three short questions.\n\n"
            "What is your full name (first and last name)?"
        ),
        "booking_greeting": (
            "Hello! We are glad to book an appointment for you here.\n\n"
            "What is your full name (first and last name)?"
        ),
        "ask_name": "What is your full name (first and last name)?",
        "bad_name": "Please write your first and last name, e.g. “Jane Doe”.",
        "ask_dob": "Thank you, {name}. What is your date of birth? (e.g. 24/12/1980)",
        "bad_dob": "I cannot read that date. Please write it like this: 24/12/1980",
        "ask_reason": "What is it about? Please choose from the list.",
        "reason_button": "Choose a topic",
        "choose_from_list": "Please tap one of the choices in the list.",
        "staff_will_answer": (
            "I cannot answer questions here, sorry – a member of our staff will answer you "
            "personally."
        ),
        "not_text": "Thank you, our team will look at it.",
        "handover": "Thank you! Your details are with our team; we will get back to you soon.",
        "ask_insurance": "How are you insured?",
        "ask_insurer": "Which health insurer?",
        "insurer_button": "Choose insurer",
        "other": "Other",
        "ask_type": "What kind of appointment do you need?",
        "type_button": "Choose a type",
        "offer_slots": "These times are free. Please choose one.",
        "slots_button": "See times",
        "slot_taken": "That time was just taken. Here are the next free times:",
        "slot_stale": "Please choose a time from the latest list.",
        "no_slots": (
            "I cannot find a free time online right now. Our team will contact you to "
            "arrange an appointment."
        ),
        "confirmed": (
            "Your appointment is booked: {when} with {clinician} ({kind}). If you cannot "
            "come, please write to us here."
        ),
        "out_of_hours": (
            "Thank you for your message. The practice is closed right now{why}; we will answer "
            "{next_open}. In an emergency, call {emergency} immediately (German on-call "
            "doctors: 116 117)."
        ),
        "next_open": "from {when}",
        "next_open_unknown": "during our opening hours",
        "other_language": "Deutsch",
        "statutory": "Statutory",
        "private": "Private",
    },
}

# The intake's reasons (list rows: id → title per language); "book" starts the booking.
REASONS: dict[str, dict[str, str]] = {
    "book": {"de": "Termin buchen", "en": "Book an appointment"},
    "appointment": {"de": "Termin ändern/absagen", "en": "Change/cancel appt."},
    "prescription": {"de": "Rezept", "en": "Prescription"},
    "referral": {"de": "Überweisung", "en": "Referral"},
    "results": {"de": "Befunde", "en": "Test results"},
    "sicknote": {"de": "Krankschreibung", "en": "Sick note"},
    "other": {"de": "Andere Frage", "en": "Other question"},
}

WEEKDAYS = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
WEEKDAYS_LONG = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS_SHORT_EN = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def say(language: str, key: str, **values: Any) -> str:
    table = _TEXTS.get(language) or _TEXTS["de"]
    return table[key].format(**values)
