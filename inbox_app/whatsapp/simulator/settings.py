"""What a simulator instance pretends to be, and where it sends its webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class SimulatorSettings:
    """Configuration of one simulated WhatsApp Business phone number."""

    app_secret: str  # WHATSAPP_APP_SECRET: signs webhooks
    access_token: str  # WHATSAPP_ACCESS_TOKEN: Bearer token the Graph routes require
    phone_number_id: str  # WHATSAPP_PHONE_NUMBER_ID
    webhook_url: str | None  # where signed webhooks are POSTed (the relay's /webhook)
    display_phone_number: str = "4930901820"
    waba_id: str = "102290129340398"
    status_delay: float = 0.05  # seconds between sent -> delivered -> read status webhooks
    scenario: Path | None = None  # optional JSON scenario of virtual patients writing in
    auto_read: bool = True  # send "read" after "delivered"
    # The WABA's message templates (Graph's shape); None: a small default catalogue.
    templates: list[dict[str, Any]] | None = None
    # Meta's limits, when a test wants them: sends per second for the number (130429),
    # minimum seconds between sends to one user (131056), numbers that never receive
    # (a failed status 131026), and the 24-hour window for free-form sends (131047).
    throughput_limit: float | None = None
    pair_gap: float | None = None
    undeliverable: frozenset[str] = frozenset()
    enforce_window: bool = False
