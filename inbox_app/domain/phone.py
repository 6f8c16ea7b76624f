"""Phone numbers and WhatsApp user ids.

``from``/``wa_id`` is usually a phone number in international digits, but since
WhatsApp usernames it may be a business-scoped user id (``US.1349…``): never
assume it parses as a number.
"""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The text is not a valid international phone number."""


def normalize_msisdn(text: str, *, default_region: str = "DE") -> str:
    """Return the number as WhatsApp digits (E.164 without '+'), or raise InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc.error_type}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def display_phone(wa_id: str) -> str | None:
    """Pretty international form of a wa_id, or None when it is not a phone number."""
    if not wa_id.isdigit():
        return None
    try:
        parsed = phonenumbers.parse("+" + wa_id, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
