"""What a failed WhatsApp send means for staff: a reason in German and English, and whether
trying again can help (Graph error codes; see the shared Cloud API notes §4-5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Retry(StrEnum):
    """How the outbox treats a code."""

    NEVER = "never"  # permanent: tell staff why
    BACKOFF = "backoff"  # transient: retry with exponential backoff and jitter
    THROTTLE = "throttle"  # a rate limit: slow down (globally or for this recipient)


@dataclass(frozen=True, slots=True)
class SendError:
    code: int
    retry: Retry
    en: str
    de: str

    def reason(self, language: str = "en") -> str:
        return self.de if language.lower().startswith("de") else self.en


_ERRORS: dict[int, SendError] = {
    e.code: e
    for e in (
        SendError(
            1,
            Retry.BACKOFF,
            "WhatsApp had a temporary problem.",
            "WhatsApp hatte ein vorübergehendes Problem.",
        ),
        SendError(
            2,
            Retry.BACKOFF,
            "WhatsApp is temporarily unavailable.",
            "WhatsApp ist vorübergehend nicht erreichbar.",
        ),
        SendError(
            4,
            Retry.THROTTLE,
            "Too many requests to WhatsApp; sending is slowed down.",
            "Zu viele Anfragen an WhatsApp; der Versand wird verlangsamt.",
        ),
        SendError(
            100,
            Retry.NEVER,
            "WhatsApp rejected the message as invalid.",
            "WhatsApp hat die Nachricht als ungültig abgelehnt.",
        ),
        SendError(
            190,
            Retry.NEVER,
            "The WhatsApp access token is invalid or expired; an administrator must renew it.",
            "Der WhatsApp-Zugangsschlüssel ist ungültig oder abgelaufen; "
            "ein Administrator muss ihn erneuern.",
        ),
        SendError(
            368,
            Retry.NEVER,
            "The WhatsApp account is temporarily blocked for policy violations.",
            "Das WhatsApp-Konto ist wegen Richtlinienverstößen vorübergehend gesperrt.",
        ),
        SendError(
            80007,
            Retry.THROTTLE,
            "WhatsApp rate limit reached; sending is slowed down.",
            "WhatsApp-Ratenlimit erreicht; der Versand wird verlangsamt.",
        ),
        SendError(
            130429,
            Retry.THROTTLE,
            "Too many messages per second; sending is slowed down.",
            "Zu viele Nachrichten pro Sekunde; der Versand wird verlangsamt.",
        ),
        SendError(
            130472,
            Retry.NEVER,
            "The patient's number is part of a WhatsApp experiment; the message was not sent.",
            "Die Nummer des Patienten ist Teil eines WhatsApp-Experiments; "
            "die Nachricht wurde nicht gesendet.",
        ),
        SendError(
            131000,
            Retry.BACKOFF,
            "WhatsApp had an unknown problem.",
            "WhatsApp hatte ein unbekanntes Problem.",
        ),
        SendError(
            131008,
            Retry.NEVER,
            "A required part of the message is missing.",
            "Ein notwendiger Teil der Nachricht fehlt.",
        ),
        SendError(
            131009,
            Retry.NEVER,
            "A value in the message is not allowed.",
            "Ein Wert in der Nachricht ist nicht erlaubt.",
        ),
        SendError(
            131026,
            Retry.NEVER,
            "The message could not be delivered: the number may not use WhatsApp, "
            "or the patient must accept new terms first.",
            "Die Nachricht konnte nicht zugestellt werden: Die Nummer nutzt evtl. kein "
            "WhatsApp, oder der Patient muss erst neue Bedingungen akzeptieren.",
        ),
        SendError(
            131030,
            Retry.NEVER,
            "This number is not on the test allow-list.",
            "Diese Nummer steht nicht auf der Test-Freigabeliste.",
        ),
        SendError(
            131031,
            Retry.NEVER,
            "The WhatsApp business account is locked.",
            "Das WhatsApp-Business-Konto ist gesperrt.",
        ),
        SendError(
            131047,
            Retry.NEVER,
            "More than 24 hours since the patient last wrote: only an approved template "
            "may be sent.",
            "Mehr als 24 Stunden seit der letzten Nachricht des Patienten: nur eine "
            "freigegebene Vorlage darf gesendet werden.",
        ),
        SendError(
            131048,
            Retry.NEVER,
            "WhatsApp limited sending because of spam reports.",
            "WhatsApp hat den Versand wegen Spam-Meldungen eingeschränkt.",
        ),
        SendError(
            131049,
            Retry.NEVER,
            "WhatsApp held back this marketing message to protect the patient's inbox.",
            "WhatsApp hat diese Werbenachricht zurückgehalten, um den Patienten zu schützen.",
        ),
        SendError(
            131050,
            Retry.NEVER,
            "The patient has stopped marketing messages.",
            "Der Patient hat Werbenachrichten abbestellt.",
        ),
        SendError(
            131051,
            Retry.NEVER,
            "WhatsApp does not support this message type.",
            "WhatsApp unterstützt diesen Nachrichtentyp nicht.",
        ),
        SendError(
            131052,
            Retry.NEVER,
            "The patient's attachment could not be downloaded.",
            "Der Anhang des Patienten konnte nicht heruntergeladen werden.",
        ),
        SendError(
            131053,
            Retry.NEVER,
            "The attachment could not be uploaded (wrong type or too large).",
            "Der Anhang konnte nicht hochgeladen werden (falscher Typ oder zu groß).",
        ),
        SendError(
            131056,
            Retry.THROTTLE,
            "Too many messages to this patient in a short time; sending is paused briefly.",
            "Zu viele Nachrichten an diesen Patienten in kurzer Zeit; der Versand pausiert kurz.",
        ),
        SendError(
            131057,
            Retry.BACKOFF,
            "The WhatsApp account is in maintenance; sending resumes shortly.",
            "Das WhatsApp-Konto wird gewartet; der Versand geht gleich weiter.",
        ),
        SendError(
            132000,
            Retry.NEVER,
            "The template's parameters do not match the approved template.",
            "Die Parameter passen nicht zur freigegebenen Vorlage.",
        ),
        SendError(
            132001,
            Retry.NEVER,
            "This template does not exist in this language.",
            "Diese Vorlage gibt es in dieser Sprache nicht.",
        ),
        SendError(
            132005,
            Retry.NEVER,
            "The filled-in template text is too long.",
            "Der ausgefüllte Vorlagentext ist zu lang.",
        ),
        SendError(
            132007,
            Retry.NEVER,
            "The template's content breaks WhatsApp policy.",
            "Der Inhalt der Vorlage verstößt gegen WhatsApp-Richtlinien.",
        ),
        SendError(
            132012,
            Retry.NEVER,
            "A template parameter has the wrong format.",
            "Ein Vorlagenparameter hat das falsche Format.",
        ),
        SendError(
            132015,
            Retry.NEVER,
            "The template is paused because of low quality.",
            "Die Vorlage ist wegen geringer Qualität pausiert.",
        ),
        SendError(
            132016,
            Retry.NEVER,
            "The template is disabled because of low quality.",
            "Die Vorlage ist wegen geringer Qualität deaktiviert.",
        ),
        SendError(
            133010,
            Retry.NEVER,
            "The clinic's WhatsApp number is not registered.",
            "Die WhatsApp-Nummer der Praxis ist nicht registriert.",
        ),
    )
}

_UNKNOWN = SendError(
    0,
    Retry.NEVER,
    "WhatsApp did not accept the message.",
    "WhatsApp hat die Nachricht nicht angenommen.",
)


def send_error(code: int | None) -> SendError:
    """The staff-facing meaning of a Graph error code (a generic one for unknown codes)."""
    if code is None:
        return _UNKNOWN
    known = _ERRORS.get(code)
    if known is not None:
        return known
    return SendError(code, _UNKNOWN.retry, _UNKNOWN.en, _UNKNOWN.de)


def is_permanent(code: int | None) -> bool:
    return send_error(code).retry is Retry.NEVER


def staff_reason(code: int | None, language: str = "en") -> str:
    """One sentence for the message's ``error_title``."""
    return send_error(code).reason(language)
