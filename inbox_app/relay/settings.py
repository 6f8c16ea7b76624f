"""Relay configuration from the environment (names are a promise to operators)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from inbox_app.whatsapp.graph import DEFAULT_GRAPH_URL


class ConfigError(Exception):
    """The relay cannot start with this configuration; the message says what to set."""


def default_database_url() -> str:
    folder = Path(platformdirs.user_data_dir("praxis-inbox-relay", appauthor=False))
    return f"sqlite:///{folder / 'relay.db'}"


@dataclass(slots=True)
class RelaySettings:
    app_secret: str
    verify_token: str
    access_token: str
    phone_number_id: str
    graph_url: str = DEFAULT_GRAPH_URL
    database_url: str = ""
    # Outbox pacing: global cap (messages/s) and minimum gap per recipient (s).
    send_rate: float = 80.0
    per_recipient_gap: float = 0.0
    token_idle_seconds: int = 30 * 60
    token_max_seconds: int = 12 * 3600
    run_outbox: bool = True
    graph_timeout: float = 15.0

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = default_database_url()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RelaySettings:
        env = dict(os.environ if env is None else env)
        return cls(
            app_secret=env.get("WHATSAPP_APP_SECRET", ""),
            verify_token=env.get("WHATSAPP_VERIFY_TOKEN", ""),
            access_token=env.get("WHATSAPP_ACCESS_TOKEN", ""),
            phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID", ""),
            graph_url=env.get("WHATSAPP_GRAPH_URL") or DEFAULT_GRAPH_URL,
            database_url=env.get("INBOX_DATABASE_URL", ""),
        )

    def check_for_serving(self) -> None:
        missing = [
            name
            for name, value in (
                ("WHATSAPP_APP_SECRET", self.app_secret),
                ("WHATSAPP_VERIFY_TOKEN", self.verify_token),
                ("WHATSAPP_ACCESS_TOKEN", self.access_token),
                ("WHATSAPP_PHONE_NUMBER_ID", self.phone_number_id),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                "Set " + ", ".join(missing) + " (see README: 'Connecting a real WhatsApp number')."
            )
