"""``X-Hub-Signature-256``: HMAC-SHA256 of the raw body, keyed with the app secret."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    """Header value Meta would send for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, header_value: str | None, app_secret: str) -> bool:
    """True if ``header_value`` is a valid signature of the exact bytes ``body``.

    Accepts the value with or without the ``sha256=`` prefix; compares in constant time.
    """
    if not header_value or not app_secret:
        return False
    value = header_value.strip()
    if value.lower().startswith("sha256="):
        value = value[7:]
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), value.lower().encode())
