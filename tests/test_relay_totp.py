"""The optional TOTP second factor, over real HTTP: enrol, confirm, sign in with a code,
replays and wrong codes refused and throttled, disable (self or admin), CLI reset, audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.db import Database, totp_factors
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_800_000_000.0  # a fixed clock at the start of a 30 s step


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def relay(relay_settings: RelaySettings, clock: Clock) -> Iterator[LiveServer]:
    """A relay whose sign-in clock the test moves (codes depend on the time)."""
    relay_settings.totp_key = "test-totp-key-" + "x" * 20
    app = create_app(relay_settings)
    app.state.relay.accounts.clock = clock
    with LiveServer(app) as server:
        yield server


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(when)


def sign_in(url: str, name: str, code: str | None = None) -> httpx.Response:
    body: dict[str, str] = {"username": name, "password": "correct horse"}
    if code is not None:
        body["code"] = code
    return httpx.post(url + "/v1/auth/login", json=body)


def enrolled(url: str, name: str, clock: Clock) -> str:
    """Enrol and confirm ``name``'s second factor; returns the secret."""
    client = login(url, name)
    try:
        assert client.get("/v1/auth/totp").json() == {"enabled": False, "pending": False}
        made = client.post("/v1/auth/totp/enrol")
        assert made.status_code == 201, made.text
        secret = str(made.json()["secret"])
        assert made.json()["otpauth_uri"].startswith("otpauth://totp/")
        assert secret in made.json()["otpauth_uri"]
        assert client.get("/v1/auth/totp").json() == {"enabled": False, "pending": True}
        # not yet active: the password alone still signs in
        assert sign_in(url, name).status_code == 200
        wrong = client.post("/v1/auth/totp/confirm", json={"code": "000000"})
        if code_at(secret, clock.now) != "000000":
            assert wrong.status_code == 422 and wrong.json()["error"] == "totp_invalid"
        ok = client.post("/v1/auth/totp/confirm", json={"code": code_at(secret, clock.now)})
        assert ok.json() == {"enabled": True, "pending": False}, ok.text
        # the secret is shown once: enrolling again is refused, status never shows it
        assert client.post("/v1/auth/totp/enrol").status_code == 409
        assert secret not in client.get("/v1/auth/totp").text
    finally:
        client.close()
    return secret


def test_sign_in_asks_for_a_fresh_code_and_refuses_replays(
    relay: LiveServer, relay_settings: RelaySettings, clock: Clock
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    add_user(relay_settings, "root", Role.ADMIN)
    url = relay.url
    secret = enrolled(url, "anna", clock)

    missing = sign_in(url, "anna")
    assert missing.status_code == 401 and missing.json()["error"] == "totp_required"
    wrong_password = httpx.post(
        url + "/v1/auth/login",
        json={"username": "anna", "password": "falsch!!", "code": code_at(secret, clock.now)},
    )
    assert wrong_password.json()["error"] == "invalid_credentials"  # the code does not help

    # the confirming code's step is used up: the same code again is a replay
    replay = sign_in(url, "anna", code_at(secret, clock.now))
    assert replay.status_code == 401 and replay.json()["error"] == "totp_invalid"
    clock.now += 30
    fresh = code_at(secret, clock.now)
    assert sign_in(url, "anna", fresh).status_code == 200
    assert sign_in(url, "anna", fresh).json()["error"] == "totp_invalid"  # within its window
    assert sign_in(url, "anna", "12ab56").json()["error"] == "totp_invalid"
    # a code from the next step (the phone's clock a little ahead) is accepted once
    assert sign_in(url, "anna", code_at(secret, clock.now + 30)).status_code == 200
    # a code two steps old is not
    clock.now += 90
    assert sign_in(url, "anna", code_at(secret, clock.now - 60)).json()["error"] == "totp_invalid"

    root = login(url, "root")
    entries = root.get("/v1/admin/audit", params={"user": "anna"}).json()["entries"]
    root.close()
    actions = [e["action"] for e in entries]
    assert "totp_enrol_started" in actions and "totp_enabled" in actions
    reasons = [e["detail"].get("reason") for e in entries if e["action"] == "sign_in_failed"]
    # four wrong codes at sign-in, one while confirming
    assert reasons.count("totp_invalid") == 5 and "invalid_credentials" in reasons
    assert any(e["detail"] == {"second_factor": True} for e in entries if e["action"] == "sign_in")
    assert secret not in json.dumps(entries)

    # at rest the secret is sealed (INBOX_TOTP_KEY set)
    db = Database(relay_settings.database_url)
    try:
        with db.read() as conn:
            stored = conn.execute(select(totp_factors.c.secret)).scalar_one()
    finally:
        db.dispose()
    assert stored.startswith("v1:") and secret not in stored


def test_wrong_codes_count_toward_the_throttle(
    relay: LiveServer, relay_settings: RelaySettings, clock: Clock
) -> None:
    add_user(relay_settings, "ben", Role.NURSE)
    secret = enrolled(relay.url, "ben", clock)
    clock.now += 30
    right = code_at(secret, clock.now)
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(9):  # the tenth wrong code was the one tried while confirming
        assert sign_in(relay.url, "ben", wrong).json()["error"] == "totp_invalid"
    blocked = sign_in(relay.url, "ben", right)
    assert blocked.status_code == 429 and blocked.json()["error"] == "throttled"
    clock.now += 301  # the window passes
    assert sign_in(relay.url, "ben", code_at(secret, clock.now)).status_code == 200


def test_disable_with_own_code_or_by_an_admin_and_cli_reset(
    relay: LiveServer, relay_settings: RelaySettings, clock: Clock
) -> None:
    for name, role in (("anna", Role.RECEPTIONIST), ("cara", Role.CLINICIAN), ("root", Role.ADMIN)):
        add_user(relay_settings, name, role)
    url = relay.url
    secret = enrolled(url, "anna", clock)
    enrolled(url, "cara", clock)
    clock.now += 30
    anna = httpx.Client(
        base_url=url,
        headers={
            "Authorization": "Bearer "
            + sign_in(url, "anna", code_at(secret, clock.now)).json()["token"]
        },
    )
    assert anna.post("/v1/auth/totp/disable", json={}).json()["error"] == "totp_invalid"
    assert anna.post("/v1/auth/totp/disable", json={"code": "99999x"}).status_code == 422
    # a receptionist cannot remove a colleague's factor
    other = anna.post("/v1/auth/totp/disable", json={"username": "cara"})
    assert other.status_code == 403
    clock.now += 30
    off = anna.post("/v1/auth/totp/disable", json={"code": code_at(secret, clock.now)})
    assert off.json() == {"enabled": False, "pending": False}, off.text
    anna.close()
    assert sign_in(url, "anna").status_code == 200  # password alone again

    root = login(url, "root")
    assert root.post("/v1/auth/totp/disable", json={"username": "nobody"}).status_code == 404
    reset = root.post("/v1/auth/totp/disable", json={"username": "cara"})
    assert reset.json() == {"enabled": False, "pending": False}
    assert sign_in(url, "cara").status_code == 200
    disabled = [
        e for e in root.get("/v1/admin/audit").json()["entries"] if e["action"] == "totp_disabled"
    ]
    assert [(e["username"], e["detail"]["target_user_id"] is not None) for e in disabled] == [
        ("anna", True),
        ("root", True),
    ]
    root.close()

    # the command line, for the admin whose phone is lost
    enrolled(url, "cara", clock)
    env = {**os.environ, "INBOX_DATABASE_URL": relay_settings.database_url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inbox_app.relay.cli", "user", "totp", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )

    assert "second factor on" in cli("cara").stdout
    done = cli("cara", "--reset")
    assert done.returncode == 0 and "removed" in done.stdout, done.stderr
    assert "second factor off" in cli("cara").stdout
    assert sign_in(url, "cara").status_code == 200
    missing = cli("nobody", "--reset")
    assert missing.returncode == 1 and "no user" in missing.stderr
