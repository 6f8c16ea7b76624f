"""Praxis Inbox core: domain, WhatsApp wire format, relay and desktop engine (no Qt)."""

__version__ = "0.1.0"
