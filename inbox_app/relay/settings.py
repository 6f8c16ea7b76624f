"""Relay configuration from the environment (names are a promise to operators)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from inbox_app.whatsapp.graph import DEFAULT_GRAPH_URL

from .bots.config import BotConfigError, BotSettings
from .dbkey import ServerKey, key_from_env

if TYPE_CHECKING:
    from .reminder_config import ReminderConfig


class ConfigError(Exception):
    """The relay cannot start with this configuration; the message says what to set."""


def default_database_url() -> str:
    folder = Path(platformdirs.user_data_dir("praxis-inbox-relay", appauthor=False))
    return f"sqlite:///{folder / 'relay.db'}"


def _number(env: dict[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number (got {raw!r}).") from None
    if value <= 0:
        raise ConfigError(f"{name} must be above 0; leave it unset to keep that data.")
    return value


def _bots_from_env(env: dict[str, str]) -> BotSettings | None:
    try:
        return BotSettings.from_env(env)
    except BotConfigError as exc:
        raise ConfigError(str(exc)) from None


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
    # The relay's own handlers and clock jobs (automation.py); off only for tests that
    # drive automation by hand.
    run_automation: bool = True
    graph_timeout: float = 15.0
    # Sends a dead worker left in flight are flagged for review after this long
    # (INBOX_OUTBOX_INFLIGHT_TIMEOUT): long enough that another relay's are not taken.
    outbox_inflight_timeout: float = 120.0
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs): INBOX_TRUSTED_PROXIES.
    trusted_proxies: tuple[str, ...] = ()
    # Encrypts staff TOTP secrets at rest (INBOX_TOTP_KEY; any long random string).
    totp_key: str = ""
    # The server key (dbkey.py); None: INBOX_DB_KEY / INBOX_DB_KEY_FILE. Never printed.
    db_key: ServerKey | None = field(default=None, repr=False)
    # Demo mode (INBOX_DEMO=1 or `serve --demo`): a SQLite relay may run without a key.
    demo: bool = False
    # Retention per data class (retention.py); None keeps that class for ever.
    media_retention_days: float | None = None
    message_retention_years: float | None = None
    audit_retention_years: float | None = None
    retention_interval_seconds: float = 6 * 3600
    # "json": one JSON object per log line (logs.py); anything else: plain text.
    log_format: str = "text"
    # The intake/booking bots and the out-of-hours reply (relay/bots/config.py): INBOX_BOTS,
    # INBOX_SCHEDULE_FILE, INBOX_EMERGENCY_NUMBER, INBOX_OUT_OF_HOURS_TEXT_DE/_EN. None: off.
    bots: BotSettings | None = None
    # Reminders, follow-up, satisfaction question, FHIR write-back (reminder_config.py;
    # docs/reminders.md). None: read INBOX_REMINDERS_CONFIG when the relay starts.
    reminders: ReminderConfig | None = None
    # Escalations and calls (escalations.py, calls.py): WhatsApp calling set up on the
    # number (INBOX_WHATSAPP_CALLING=1), the emergency guidance red flags answer with
    # (INBOX_EMERGENCY_GUIDANCE_DE/_EN; empty: the built-in text naming 112), how often an
    # overdue escalation is notified again, and the video-visit link sent instead of a call.
    whatsapp_calling: bool = False
    emergency_guidance_de: str = ""
    emergency_guidance_en: str = ""
    escalation_renotify_seconds: float = 600.0
    video_visit_url: str = ""
    # The approved template that carries the link outside the 24-hour window (calls.py).
    video_visit_template: str = "video_visit"

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = default_database_url()
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(
                    f"INBOX_TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR range"
                ) from None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RelaySettings:
        env = dict(os.environ if env is None else env)
        return cls(
            app_secret=env.get("WHATSAPP_APP_SECRET", ""),
            verify_token=env.get("WHATSAPP_VERIFY_TOKEN", ""),
            access_token=env.get("WHATSAPP_ACCESS_TOKEN", ""),
            phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID", ""),
            graph_url=env.get("WHATSAPP_GRAPH_URL") or DEFAULT_GRAPH_URL,
            outbox_inflight_timeout=float(env.get("INBOX_OUTBOX_INFLIGHT_TIMEOUT") or 120.0),
            database_url=env.get("INBOX_DATABASE_URL", ""),
            trusted_proxies=tuple(
                p.strip() for p in env.get("INBOX_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            totp_key=env.get("INBOX_TOTP_KEY", ""),
            db_key=key_from_env(env),
            demo=env.get("INBOX_DEMO", "").strip().lower() in ("1", "true", "yes"),
            media_retention_days=_number(env, "INBOX_RETENTION_MEDIA_DAYS"),
            message_retention_years=_number(env, "INBOX_RETENTION_MESSAGE_YEARS"),
            audit_retention_years=_number(env, "INBOX_RETENTION_AUDIT_YEARS"),
            log_format=env.get("INBOX_LOG_FORMAT", "text").strip().lower(),
            bots=_bots_from_env(env),
            whatsapp_calling=env.get("INBOX_WHATSAPP_CALLING", "").strip().lower()
            in ("1", "true", "yes"),
            emergency_guidance_de=env.get("INBOX_EMERGENCY_GUIDANCE_DE", "").strip(),
            emergency_guidance_en=env.get("INBOX_EMERGENCY_GUIDANCE_EN", "").strip(),
            escalation_renotify_seconds=_number(env, "INBOX_ESCALATION_RENOTIFY_SECONDS") or 600.0,
            video_visit_url=env.get("INBOX_VIDEO_VISIT_URL", "").strip(),
            video_visit_template=env.get("INBOX_VIDEO_VISIT_TEMPLATE", "").strip() or "video_visit",
        )

    def server_key(self) -> ServerKey | None:
        return self.db_key if self.db_key is not None else key_from_env()

    def check_encryption(self) -> ServerKey | None:
        """The server key; refuses an unencrypted SQLite relay outside demo mode."""
        key = self.server_key()
        if key is None and self.database_url.startswith("sqlite") and not self.demo:
            raise ConfigError(
                "Refusing to store patient data unencrypted: set INBOX_DB_KEY_FILE (or "
                "INBOX_DB_KEY) to the relay key, created with `inbox-relay key new FILE`; "
                "for a demo without real patients set INBOX_DEMO=1 or pass --demo."
            )
        return key

    def check_for_serving(self) -> None:
        self.check_encryption()
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
