"""Sessions over real HTTP: the idle timeout (refreshed by activity), the absolute lifetime,
revocation when a user is disabled, and sign-in throttling per client address behind a
trusted reverse proxy (INBOX_TRUSTED_PROXIES)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inbox_app.domain.roles import Role
from inbox_app.relay import throttle
from inbox_app.relay.app import create_app
from inbox_app.relay.db import Database
from inbox_app.relay.settings import ConfigError, RelaySettings
from inbox_app.relay.throttle import MAX_ADDRESS_FAILURES
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def started(settings: RelaySettings, clock: Clock | None = None) -> LiveServer:
    app = create_app(settings)
    if clock is not None:
        app.state.relay.accounts.clock = clock
    # As `inbox-relay serve` runs it: uvicorn leaves X-Forwarded-For to the relay.
    return LiveServer(app, proxy_headers=False).start()


@pytest.fixture
def clock() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture
def timed_relay(relay_settings: RelaySettings, clock: Clock) -> Iterator[LiveServer]:
    """Defaults as shipped (30 min idle, 12 h absolute) on a clock the test moves."""
    assert relay_settings.token_idle_seconds == 30 * 60
    assert relay_settings.token_max_seconds == 12 * 3600
    server = started(relay_settings, clock)
    try:
        yield server
    finally:
        server.stop()


def test_idle_timeout_is_refreshed_by_activity(
    timed_relay: LiveServer, relay_settings: RelaySettings, clock: Clock
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    anna = login(timed_relay.url, "anna")
    idle = login(timed_relay.url, "anna")
    try:
        # anna works every 20 minutes for 2 hours: her session stays
        for _ in range(6):
            clock.now += 20 * 60
            assert anna.get("/v1/me").status_code == 200
        # the other session was idle for 2 hours: ended
        ended = idle.get("/v1/me")
        assert ended.status_code == 401 and ended.json()["error"] == "unauthorized"
        # 31 idle minutes end anna's too
        clock.now += 31 * 60
        assert anna.get("/v1/me").status_code == 401
    finally:
        anna.close()
        idle.close()


def test_absolute_lifetime_ends_even_an_active_session(
    timed_relay: LiveServer, relay_settings: RelaySettings, clock: Clock
) -> None:
    add_user(relay_settings, "ben", Role.NURSE)
    ben = login(timed_relay.url, "ben")
    try:
        for _ in range(11 * 4 + 3):  # active every 15 minutes for 11 h 45 min
            clock.now += 15 * 60
            assert ben.get("/v1/me").status_code == 200
        clock.now += 16 * 60  # 12 h 01 min after sign-in
        assert ben.get("/v1/me").status_code == 401
        assert ben.get("/v1/sync").status_code == 401
    finally:
        ben.close()
    # signing in again gives a fresh 12 h
    again = login(timed_relay.url, "ben")
    assert again.get("/v1/me").status_code == 200
    again.close()


def test_disabling_a_user_revokes_every_session_at_once(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "cara", Role.CLINICIAN)
    add_user(relay_settings, "root", Role.ADMIN)
    sessions = [login(relay_server.url, "cara") for _ in range(2)]
    root = login(relay_server.url, "root")
    try:
        assert all(s.get("/v1/me").status_code == 200 for s in sessions)
        assert root.post("/v1/admin/users/cara/disable").status_code == 200
        assert [s.get("/v1/me").status_code for s in sessions] == [401, 401]
        refused = httpx.post(
            relay_server.url + "/v1/auth/login",
            json={"username": "cara", "password": "correct horse"},
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_credentials"
    finally:
        for s in (*sessions, root):
            s.close()


def wrong_login(url: str, name: str, forwarded: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return httpx.post(
        url + "/v1/auth/login",
        json={"username": name, "password": "wrong password"},
        headers=headers,
    )


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> RelaySettings:
    """Address handling does not depend on the database: SQLite only (argon2 is slow)."""
    return RelaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        graph_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'relay.db'}",
        run_outbox=False,
    )


def earlier_failures(settings: RelaySettings, address: str, count: int) -> None:
    """Failed attempts from ``address`` a moment ago (each would cost an argon2 check)."""
    db = Database(settings.database_url)
    try:
        db.create_schema()
        with db.write() as conn:
            for i in range(count):
                throttle.record_failure(conn, f"guess{i}", address, time.time())
    finally:
        db.dispose()


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    sqlite_settings: RelaySettings,
) -> None:
    # Without INBOX_TRUSTED_PROXIES the header is ignored: forging it evades nothing.
    earlier_failures(sqlite_settings, "127.0.0.1", MAX_ADDRESS_FAILURES - 1)
    server = started(sqlite_settings)
    try:
        assert wrong_login(server.url, "x", forwarded="203.0.113.1").status_code == 401
        assert wrong_login(server.url, "y", forwarded="198.51.100.7").status_code == 429
    finally:
        server.stop()


def test_throttling_per_client_behind_the_proxy(sqlite_settings: RelaySettings) -> None:
    sqlite_settings.trusted_proxies = ("127.0.0.0/8", "10.0.0.5")
    add_user(sqlite_settings, "root", Role.ADMIN)
    earlier_failures(sqlite_settings, "203.0.113.9", MAX_ADDRESS_FAILURES - 1)
    server = started(sqlite_settings)
    try:
        # one guesser behind the proxy (and a second proxy hop) is throttled on its address
        assert wrong_login(server.url, "a", forwarded="203.0.113.9, 10.0.0.5").status_code == 401
        blocked = wrong_login(server.url, "b", forwarded="203.0.113.9")
        assert blocked.status_code == 429
        # another client of the same proxy is not affected; a forged left part is skipped
        other = wrong_login(server.url, "c", forwarded="203.0.113.9, 198.51.100.7")
        assert other.status_code == 401
        # the proxy's own requests (no header) count as the proxy's
        assert wrong_login(server.url, "d").status_code == 401
        root = login(server.url, "root")
        entries = root.get("/v1/admin/audit").json()["entries"]
        root.close()
        addresses = [e["address"] for e in entries if e["action"] == "sign_in_failed"]
        assert addresses == ["203.0.113.9", "203.0.113.9", "198.51.100.7", "127.0.0.1"]
    finally:
        server.stop()


def test_a_malformed_proxy_setting_is_refused_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="INBOX_TRUSTED_PROXIES"):
        RelaySettings.from_env({"INBOX_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"})
    parsed = RelaySettings.from_env({"INBOX_TRUSTED_PROXIES": " 10.0.0.0/8 ,::1"})
    assert parsed.trusted_proxies == ("10.0.0.0/8", "::1")
