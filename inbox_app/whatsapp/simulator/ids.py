"""Identifiers shaped like Meta's: ``wamid.…``, conversation ids, ``fbtrace_id``."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string

import phonenumbers

_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


def new_wamid(wa_id: str, *, inbound: bool) -> str:
    """A message id built the way real ones decode: wa_id plus a random hex id, base64.

    Real wamids are standard base64 (so ``+`` and ``/`` can occur); keeping that makes a
    relay that mishandles ``\\/`` in webhook bodies or slashes in URLs fail here, not live.
    """
    user = wa_id.encode("ascii", "replace")[:255]
    hex_id = secrets.token_hex(10 if inbound else 9).upper().encode("ascii")
    direction = b"\x12" if inbound else b"\x11"
    raw = (
        b"\x1c\x18"
        + bytes([len(user)])
        + user
        + b"\x15\x02\x00"
        + direction
        + b"\x18"
        + bytes([len(hex_id)])
        + hex_id
        + b"\x00"
    )
    return "wamid." + base64.b64encode(raw).decode("ascii")


def new_conversation_id() -> str:
    """A conversation id as in status webhooks (32 hex characters)."""
    return secrets.token_hex(16)


def new_trace_id() -> str:
    """An ``fbtrace_id`` / ``x-fb-trace-id`` look-alike."""
    return "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(23))


_BSUID = re.compile(r"[A-Z]{2}\.(ENT\.)?[0-9A-Za-z.]+")


def is_bsuid(user: str) -> bool:
    """True for a business-scoped user id (``DE.1234…``), false for a phone number."""
    return _BSUID.fullmatch(user) is not None


def bsuid_for(wa_id: str, waba_id: str, *, parent: bool = False) -> str:
    """The stable business-scoped user id Meta gives this number for this business.

    Country prefix from the number, then 20 digits: the shape of ``US.13491208655302741918``
    (a parent BSUID has ``ENT.`` after the country).
    """
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id)) or "US"
    except phonenumbers.NumberParseException:
        region = "US"
    scope = b"parent" if parent else waba_id.encode()
    digits = int.from_bytes(hashlib.sha256(scope + b":" + wa_id.encode()).digest()[:9])
    return f"{region}.{'ENT.' if parent else ''}{digits % 10**20:020d}"
