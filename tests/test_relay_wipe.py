"""Remote wipe, relay side: an admin orders it, the desktop erases its cache on contact."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from inbox_app.client.engine import ClientEngine, EngineConfig, SessionState
from inbox_app.domain.roles import Role
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_client_sync import FAST_KDF
from tests.test_relay_api import add_user, post_text

PASSWORD = "correct horse"


def _login(url: str, device: str) -> httpx.Response:
    return httpx.post(
        url + "/v1/auth/login",
        json={"username": "anna", "password": PASSWORD},
        headers={"X-Inbox-Device": device},
    )


def _cli(settings: RelaySettings, *args: str) -> None:
    env = {**os.environ, "INBOX_DATABASE_URL": settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "inbox_app.relay.cli", "user", "wipe", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_device_wipe_answers_wiped_to_that_device_only_until_cleared(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    d1, d2 = "a" * 32, "b" * 32
    token1 = _login(relay_server.url, d1).json()["token"]
    token2 = _login(relay_server.url, d2).json()["token"]
    _cli(relay_settings, "anna", "--device", d1)
    on_d1 = httpx.get(
        relay_server.url + "/v1/sync",
        headers={"Authorization": f"Bearer {token1}", "X-Inbox-Device": d1},
    )
    assert on_d1.status_code == 401 and on_d1.json()["error"] == "wiped"
    on_d2 = httpx.get(
        relay_server.url + "/v1/sync",
        headers={"Authorization": f"Bearer {token2}", "X-Inbox-Device": d2},
    )
    assert on_d2.status_code == 200
    again = _login(relay_server.url, d1)
    assert again.status_code == 401 and again.json()["error"] == "wiped"
    _cli(relay_settings, "anna", "--clear")
    assert _login(relay_server.url, d1).status_code == 200


def test_user_wipe_erases_the_running_desktops_cache(
    relay_server: LiveServer,
    relay_settings: RelaySettings,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    post_text(relay_server.url, "Befund bitte")
    engine = ClientEngine(
        EngineConfig(relay_url=relay_server.url, data_dir=tmp_path),
        keyring_backends=[],
        kdf=FAST_KDF,
        backoff_initial=0.2,
        backoff_max=1.0,
    )

    async def scenario() -> None:
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        deadline = time.monotonic() + 10
        while not await engine.conversations():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        folder = engine.user_folder("anna")
        assert (folder / "cache.db").exists()
        await asyncio.to_thread(_cli, relay_settings, "anna")
        deadline = time.monotonic() + 20
        while engine.session != SessionState.WIPED:
            assert time.monotonic() < deadline, "the desktop never erased its cache"
            await asyncio.sleep(0.1)
        await engine.wait_wiped()
        assert not (folder / "cache.db").exists() and not (folder / "key.json").exists()
        await engine.close()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    refused = _login(relay_server.url, "c" * 32)
    assert refused.status_code == 401 and refused.json()["error"] == "wiped"
