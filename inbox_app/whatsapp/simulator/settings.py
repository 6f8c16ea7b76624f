"""What a simulator instance pretends to be, and where it sends its webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
