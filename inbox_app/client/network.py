"""How the desktop reaches the relay: TLS that is always verified, a clinic's own CA, a proxy.

Certificates are never ignored: a clinic network that inspects TLS adds its CA bundle
(``INBOX_CA_BUNDLE``) instead. Plain ``http://`` is accepted only for a relay on this
PC (the demo), since anything else would carry health data in clear text.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import certifi


class InsecureRelayUrl(ValueError):
    """The relay address would send patient data unencrypted or is not a URL."""


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    ca_bundle: Path | None = None  # added to the public CAs, never replacing verification
    proxy: str | None = None  # else the usual HTTPS_PROXY / NO_PROXY variables apply

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> NetworkOptions:
        env = dict(os.environ) if env is None else env
        bundle = env.get("INBOX_CA_BUNDLE") or None
        return cls(ca_bundle=Path(bundle) if bundle else None, proxy=env.get("INBOX_PROXY") or None)

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=certifi.where())
        if self.ca_bundle is not None:
            if not self.ca_bundle.is_file():
                raise FileNotFoundError(f"CA bundle not found: {self.ca_bundle}")
            context.load_verify_locations(cafile=str(self.ca_bundle))
        return context


def check_relay_url(url: str) -> str:
    """The URL, or InsecureRelayUrl when it is not https (loopback http is allowed)."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return url.strip()
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url.strip()
    if parts.scheme == "http":
        raise InsecureRelayUrl(
            "The relay address must start with https:// (http is only for a relay on this PC)."
        )
    raise InsecureRelayUrl("The relay address is not a web address (https://…).")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
