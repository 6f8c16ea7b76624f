"""A desktop whose account has the TOTP second factor, against a real relay and a real
SQLCipher cache: unlocking after a lock asks for the authenticator code (nothing opens
without it), and after an offline unlock the relay coming back locks the session until the
code is entered, instead of sync stopping silently."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_app.client.api import Unauthorized
from inbox_app.client.engine import ClientEngine, ConnectionState
from inbox_app.client.records import SessionState
from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer, free_port
from tests.test_client_sync import PASSWORD, make_engine, wait_until
from tests.test_relay_api import add_user
from tests.test_relay_totp import Clock, code_at, enrolled


class TotpRelay:
    """A relay on a fixed port that can be stopped and started again (same database)."""

    def __init__(self, settings: RelaySettings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: LiveServer | None = None
        self.secret = ""

    def start(self) -> None:
        app = create_app(self.settings)
        app.state.relay.accounts.clock = self.clock
        self.server = LiveServer(app, port=self.port).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def code(self) -> str:
        """A fresh code: each step signs in once (the relay refuses replays)."""
        self.clock.now += 30
        return code_at(self.secret, self.clock.now)


@pytest.fixture
def relay(relay_settings: RelaySettings) -> Iterator[TotpRelay]:
    relay_settings.totp_key = "test-totp-key-" + "x" * 20
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    relay = TotpRelay(relay_settings, Clock())
    relay.start()
    relay.secret = enrolled(relay.url, "anna", relay.clock)
    try:
        yield relay
    finally:
        relay.stop()


async def _signed_in(relay: TotpRelay, folder: Path) -> ClientEngine:
    engine = make_engine(relay, folder)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized) as asked:
        await engine.sign_in("anna", PASSWORD)
    assert asked.value.code == "totp_required"
    await engine.sign_in("anna", PASSWORD, code=relay.code())
    await engine.start()

    async def online() -> bool:
        return engine.connection is ConnectionState.ONLINE

    await wait_until(online, what="online")
    return engine


def test_unlock_needs_the_code_while_the_relay_answers(relay: TotpRelay, tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = await _signed_in(relay, tmp_path / "anna")
        try:
            await engine.lock()
            with pytest.raises(Unauthorized) as asked:
                await engine.unlock(PASSWORD)
            assert asked.value.code == "totp_required"
            assert engine.session is SessionState.LOCKED  # nothing opened without it
            with pytest.raises(Unauthorized) as wrong:
                await engine.unlock(PASSWORD, code="000000")
            assert wrong.value.code == "totp_invalid"
            await engine.unlock(PASSWORD, code=relay.code())
            assert engine.session is SessionState.UNLOCKED

            async def online() -> bool:
                return engine.connection is ConnectionState.ONLINE

            await wait_until(online, what="syncing again after the unlock")
        finally:
            await engine.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_relay_back_after_an_offline_unlock_locks_until_the_code(
    relay: TotpRelay, tmp_path: Path
) -> None:
    async def scenario() -> None:
        engine = await _signed_in(relay, tmp_path / "anna")
        try:
            await engine.lock()
            relay.stop()
            await engine.unlock(PASSWORD)  # offline: the cache opens with the password alone
            assert engine.session is SessionState.UNLOCKED
            assert not engine.second_factor_needed
            relay.start()

            async def locked_for_code() -> bool:
                return engine.session is SessionState.LOCKED and engine.second_factor_needed

            await wait_until(locked_for_code, what="the lock asking for the second factor")
            await engine.unlock(PASSWORD, code=relay.code())
            assert not engine.second_factor_needed

            async def online() -> bool:
                return engine.connection is ConnectionState.ONLINE

            await wait_until(online, what="syncing again with the code")
        finally:
            await engine.close()

    asyncio.run(asyncio.wait_for(scenario(), 90))
