"""Locking, unlocking, key rotation, user separation, sign-out wipe and remote wipe.

All against a real relay on loopback (``tests.test_client_sync.Relay``) and real SQLCipher
files. The relay has no wipe order yet (docs/protocol.md, "Remote wipe"), so those tests put
a thin httpx transport in front of the real one that answers as the contract says.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.client.api import DEVICE_HEADER, WipeOrdered
from inbox_app.client.cache import Cache, CacheKeyError
from inbox_app.client.engine import (
    DEVICE_FILE,
    EngineLocked,
    SessionState,
)
from inbox_app.client.idle import DEFAULT_IDLE_TIMEOUT, IdleLock
from inbox_app.client.keys import KEYRING_SERVICE, KeyStore, WrongPassword
from inbox_app.client.records import ChangeSummary, ConnectionState
from tests.test_client_keys import MemoryKeyring
from tests.test_client_sync import (
    FAST_KDF,
    PASSWORD,
    Relay,
    _async,
    _has_conversations,
    make_engine,
    wait_until,
)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    try:
        yield relay
    finally:
        relay.stop()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# -- idle timer -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_lock_fires_once_after_the_timeout_and_touch_restarts_it() -> None:
    clock = FakeClock()
    fired: list[float] = []
    idle = IdleLock(lambda: fired.append(clock.now), clock=clock)
    assert idle.timeout == DEFAULT_IDLE_TIMEOUT == 300

    async def scenario() -> None:
        clock.now += 299
        assert not await idle.check() and idle.remaining() == pytest.approx(1)
        idle.touch()  # activity
        clock.now += 299
        assert not await idle.check()
        clock.now += 1
        assert await idle.check() and fired == [clock.now]
        clock.now += 1000
        assert not await idle.check() and len(fired) == 1  # once, until the next touch
        idle.touch()
        idle.timeout = 10  # configurable
        clock.now += 5
        idle.pause()  # e.g. while the lock screen is up
        clock.now += 50
        assert not await idle.check()
        idle.resume()
        clock.now += 10
        assert await idle.check() and len(fired) == 2

    asyncio.run(scenario())
    with pytest.raises(ValueError):
        IdleLock(lambda: None, timeout=0)


def test_idle_lock_run_locks_the_engine_coroutine(relay: Relay, tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        await engine.sign_in("anna", PASSWORD)
        clock = FakeClock()
        idle = IdleLock(engine.lock, timeout=60, clock=clock)
        runner = asyncio.create_task(idle.run(poll=0.01))
        try:
            await asyncio.sleep(0.05)
            assert engine.session is SessionState.UNLOCKED
            clock.now += 61
            await wait_until(_async(lambda: engine.locked), what="idle lock")
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await engine.close()

    asyncio.run(scenario())


# -- lock and unlock --------------------------------------------------------------------------


def test_lock_closes_the_cache_and_unlock_needs_the_right_password(
    relay: Relay, tmp_path: Path
) -> None:
    relay.post_text("vor dem Sperren")

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        sessions: list[SessionState] = []
        engine.add_listener(lambda s: sessions.append(s.session) if s.session else None)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            (conv,) = await engine.conversations()
            await engine.lock()
            assert engine.locked and engine.session is SessionState.LOCKED
            assert sessions == [SessionState.LOCKED]
            assert engine.connection is ConnectionState.OFFLINE
            assert engine.sync_engine is None and engine.outbox is None  # paused
            assert engine._key is None and engine._cache is None  # key dropped
            with pytest.raises(EngineLocked):
                await engine.conversations()
            with pytest.raises(RuntimeError):
                await engine.sign_in("anna", PASSWORD)  # sign_out() first to switch users

            # Messages arriving while locked are caught up after unlock.
            await asyncio.to_thread(relay.post_text, "während gesperrt")
            with pytest.raises(WrongPassword):
                await engine.unlock("wrong password")
            assert engine.locked and engine._cache is None  # a wrong password opens nothing
            await engine.unlock(PASSWORD)
            assert engine.session is SessionState.UNLOCKED
            assert sessions == [SessionState.LOCKED, SessionState.UNLOCKED]

            async def both() -> bool:
                return len(await engine.messages(conv.id)) == 2

            await wait_until(both, what="sync resumed after unlock")
            await engine.lock()
            await engine.lock()  # harmless twice
        finally:
            await engine.close()
        assert engine.session is SessionState.SIGNED_OUT

    asyncio.run(scenario())


def test_unlock_offline_in_password_mode_then_reconnects(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("eins")

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            await engine.lock()
            await asyncio.to_thread(relay.stop)
            with pytest.raises(WrongPassword):
                await engine.unlock("nope")
            await engine.unlock(PASSWORD)  # the wrapped key proves the password offline
            assert len(await engine.conversations()) == 1
            await wait_until(_async(lambda: engine.offline_since is not None), what="offline_since")
            await asyncio.to_thread(relay.start)
            await wait_until(
                _async(lambda: engine.connection is ConnectionState.ONLINE), what="online"
            )
            assert engine.offline_since is None
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_keyring_mode_unlock_online_and_offline_checks_the_password(
    relay: Relay, tmp_path: Path
) -> None:
    store: dict[tuple[str, str], str] = {}

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data", keyring_backends=[MemoryKeyring(store)])
        await engine.sign_in("anna", PASSWORD)
        try:
            assert engine.protection.startswith("keyring:")
            header = json.loads((tmp_path / "data" / "anna" / "key.json").read_text())
            assert "verifier" in header and "ciphertext" not in header
            await engine.lock()
            # Online: the relay judges the password (the keyring would give the key anyway).
            with pytest.raises(WrongPassword):
                await engine.unlock("wrong password")
            assert engine.locked
            await engine.unlock(PASSWORD)
            assert engine.session is SessionState.UNLOCKED
            await engine.lock()
            # Offline: the Argon2id verifier judges it.
            await asyncio.to_thread(relay.stop)
            with pytest.raises(WrongPassword):
                await engine.unlock("wrong password")
            assert engine.locked
            await engine.unlock(PASSWORD)
            assert await engine.conversations() == []
        finally:
            await engine.close()
        # An offline sign-in in keyring mode works the same way (the relay is still down).
        again = make_engine(relay, tmp_path / "data", keyring_backends=[MemoryKeyring(store)])
        with pytest.raises(WrongPassword):
            await again.sign_in("anna", "wrong password")
        await again.sign_in("anna", PASSWORD)
        assert again.connection is ConnectionState.OFFLINE
        assert again.offline_since is not None
        await again.close()

    asyncio.run(scenario())


def test_offline_since_follows_the_connection(relay: Relay, tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        await engine.sign_in("anna", PASSWORD)
        assert engine.offline_since is None
        await engine.start()
        try:
            await wait_until(
                _async(lambda: engine.connection is ConnectionState.ONLINE), what="online"
            )
            assert engine.offline_since is None
            lost_after = time.time()
            await asyncio.to_thread(relay.stop)
            await wait_until(_async(lambda: engine.offline_since is not None), what="offline")
            since = engine.offline_since
            assert since is not None and lost_after <= since <= time.time()
            await asyncio.sleep(0.5)  # reconnect attempts keep the first loss time
            assert engine.offline_since == since
            await asyncio.to_thread(relay.start)
            await wait_until(_async(lambda: engine.offline_since is None), what="back online")
        finally:
            await engine.close()

    asyncio.run(scenario())


# -- key rotation -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["password", "keyring"])
def test_rotate_key_rekeys_the_file_and_keeps_the_data(
    relay: Relay, tmp_path: Path, mode: str
) -> None:
    relay.post_text("bleibt lesbar")
    store: dict[tuple[str, str], str] = {}
    backends = [MemoryKeyring(store)] if mode == "keyring" else []
    data_dir = tmp_path / "data"
    cache_path = data_dir / "anna" / "cache.db"

    async def scenario() -> None:
        engine = make_engine(relay, data_dir, keyring_backends=backends)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            assert engine._key is not None
            old_hex = engine._key.hex()
            if mode == "password":
                with pytest.raises(WrongPassword):
                    await engine.rotate_key("wrong password")
                await engine.rotate_key(PASSWORD)
            else:
                await engine.rotate_key()
            assert engine._key is not None
            new_hex = engine._key.hex()
            assert new_hex != old_hex
            (conv,) = await engine.conversations()
            assert [m.text for m in await engine.messages(conv.id)] == ["bleibt lesbar"]
            # Still writable after the rekey: sync keeps going.
            await asyncio.to_thread(relay.post_text, "nach dem Rekey")

            async def two() -> bool:
                return len(await engine.messages(conv.id)) == 2

            await wait_until(two, what="sync after rekey")
        finally:
            await engine.close()
        with pytest.raises(CacheKeyError):
            await Cache.open(cache_path, old_hex)
        cache = await Cache.open(cache_path, new_hex)
        try:
            assert await cache.integrity_check() == []
        finally:
            await cache.close()
        # The stored key is the new one: a fresh sign-in opens the cache.
        again = make_engine(relay, data_dir, keyring_backends=backends)
        await again.sign_in("anna", PASSWORD)
        try:
            assert len(await again.conversations()) == 1
            assert again._key is not None and again._key.hex() == new_hex
        finally:
            await again.close()
        if mode == "keyring":
            assert list(store.values()) == [new_hex]  # no staged key left behind
        header = json.loads((data_dir / "anna" / "key.json").read_text())
        assert "pending" not in header

    asyncio.run(scenario())


def test_a_rotation_interrupted_after_the_rekey_is_finished_at_the_next_unlock(
    relay: Relay, tmp_path: Path
) -> None:
    relay.post_text("Rotation")
    data_dir = tmp_path / "data"

    async def scenario() -> None:
        engine = make_engine(relay, data_dir)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            keystore = KeyStore(data_dir / "anna", keyring_backends=[], kdf=FAST_KDF)

            def die_before_commit(*_: Any) -> None:
                raise OSError("power cut")

            keystore_commit = KeyStore.commit_rotation
            KeyStore.commit_rotation = die_before_commit  # type: ignore[method-assign,assignment]
            try:
                with pytest.raises(OSError, match="power cut"):
                    await engine.rotate_key(PASSWORD)
            finally:
                KeyStore.commit_rotation = keystore_commit  # type: ignore[method-assign]
            assert keystore.pending_key(PASSWORD) is not None
        finally:
            await engine.close()
        again = make_engine(relay, data_dir)
        await again.sign_in("anna", PASSWORD)  # the old key fails, the staged one opens
        try:
            assert len(await again.conversations()) == 1
        finally:
            await again.close()
        assert "pending" not in json.loads((data_dir / "anna" / "key.json").read_text())

    asyncio.run(scenario())


# -- users on one PC --------------------------------------------------------------------------


def test_two_users_on_one_pc_never_read_each_others_cache(relay: Relay, tmp_path: Path) -> None:
    relay.add_user("berta")
    relay.post_text("für alle")
    data_dir = tmp_path / "data"

    async def session(name: str) -> str:
        engine = make_engine(relay, data_dir)
        await engine.sign_in(name, PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what=f"{name} catch-up")
            assert engine._key is not None
            return engine._key.hex()
        finally:
            await engine.sign_out()  # quick switch: sign out without wipe

    async def scenario() -> None:
        anna_key = await session("anna")
        berta_key = await session("berta")
        assert anna_key != berta_key
        # Each key opens only its own user's file.
        for owner, other_key in (("anna", berta_key), ("berta", anna_key)):
            with pytest.raises(CacheKeyError):
                await Cache.open(data_dir / owner / "cache.db", other_key)
        # And a user's password does not unwrap the other's key file.
        berta_store = KeyStore(data_dir / "berta", keyring_backends=[], kdf=FAST_KDF)
        anna_copy = KeyStore(tmp_path / "copy", keyring_backends=[], kdf=FAST_KDF)
        (tmp_path / "copy").mkdir()
        (tmp_path / "copy" / "key.json").write_bytes((data_dir / "anna" / "key.json").read_bytes())
        assert berta_store.unlock_with_password(PASSWORD).hex() == berta_key
        assert anna_copy.unlock_with_password(PASSWORD).hex() == anna_key

    asyncio.run(scenario())
    for name in ("anna", "berta"):
        assert stat.S_IMODE(os.stat(data_dir / name).st_mode) == 0o700
        for file in (data_dir / name).iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


@pytest.mark.parametrize("mode", ["password", "keyring"])
def test_sign_out_with_wipe_removes_every_file_of_that_user(
    relay: Relay, tmp_path: Path, mode: str
) -> None:
    relay.add_user("berta")
    relay.post_text("löschen")
    store: dict[tuple[str, str], str] = {}
    backends = [MemoryKeyring(store)] if mode == "keyring" else []
    data_dir = tmp_path / "data"

    async def scenario() -> None:
        berta = make_engine(relay, data_dir, keyring_backends=backends)
        await berta.sign_in("berta", PASSWORD)
        await berta.close()
        engine = make_engine(relay, data_dir, keyring_backends=backends)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
        await engine.send_text((await engine.conversations())[0].id, "x")
        assert {"cache.db", "key.json"} <= set(_files(data_dir / "anna"))
        await engine.lock()  # works from the lock screen too
        await engine.sign_out(wipe=True)

    asyncio.run(scenario())
    assert not (data_dir / "anna").exists()
    assert _files(data_dir / "berta")  # the other user's cache is untouched
    if mode == "keyring":
        accounts = [account for (service, account) in store if service == KEYRING_SERVICE]
        assert accounts == [str((data_dir / "berta").resolve())]


# -- remote wipe ------------------------------------------------------------------------------


class WipingTransport(httpx.AsyncBaseTransport):
    """The real relay behind, plus the wipe orders of docs/protocol.md ("Remote wipe")."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.answer_wiped = False
        self.wipe_event: dict[str, Any] | None = None
        self.devices: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if DEVICE_HEADER in request.headers:
            self.devices.add(request.headers[DEVICE_HEADER])
        if self.answer_wiped:
            body = {"error": "wiped", "message": "This device was wiped by the practice."}
            return httpx.Response(401, json=body)
        response = await self.inner.handle_async_request(request)
        if self.wipe_event is not None and request.url.path == "/v1/sync":
            await response.aread()
            page = json.loads(response.content)
            seq = page["next"] + 1
            page["events"].append({"seq": seq, "type": "wipe", "data": self.wipe_event})
            page["next"] = seq
            return httpx.Response(200, json=page)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_wipe_event_for_another_user_or_device_is_ignored_and_for_us_wipes(
    relay: Relay, tmp_path: Path
) -> None:
    relay.post_text("vertraulich")
    data_dir = tmp_path / "data"
    transport = WipingTransport()

    async def scenario() -> None:
        engine = make_engine(relay, data_dir, transport=transport)
        sessions: list[SessionState] = []
        engine.add_listener(
            lambda s: (
                sessions.append(s.session) if isinstance(s, ChangeSummary) and s.session else None
            )
        )
        user = await engine.sign_in("anna", PASSWORD)
        assert engine.device_id and transport.devices == {engine.device_id}
        assert (data_dir / DEVICE_FILE).read_text() == engine.device_id
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            sync = engine.sync_engine
            assert sync is not None
            # Not for us: another user, another device, or naming nobody.
            for data in (
                {"user_id": user.id + 1},
                {"device_id": "0" * 32},
                {"user_id": user.id, "device_id": "0" * 32},
                {},
            ):
                transport.wipe_event = data
                await sync.catch_up()
            assert engine.session is SessionState.UNLOCKED
            transport.wipe_event = {"user_id": user.id, "device_id": engine.device_id}
            await asyncio.to_thread(relay.stop)  # the stream breaks; the reconnect catches up
            await asyncio.to_thread(relay.start)
            await wait_until(
                _async(lambda: engine.session is SessionState.WIPED), what="wiped", timeout=15
            )
            await engine.wait_wiped()
            assert sessions[-1] is SessionState.WIPED
        finally:
            await engine.close()
            await transport.aclose()

    asyncio.run(scenario())
    assert not (data_dir / "anna").exists()


def test_a_fresh_cache_ignores_wipe_events_from_before_it_existed(
    relay: Relay, tmp_path: Path
) -> None:
    relay.post_text("nach der Löschung")
    transport = WipingTransport()

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data", transport=transport)
        user = await engine.sign_in("anna", PASSWORD)
        # The history the new cache downloads still holds the old order for this user.
        transport.wipe_event = {"user_id": user.id}
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            sync = engine.sync_engine
            assert sync is not None
            await sync.caught_up.wait()
            await asyncio.sleep(0.3)
            assert engine.session is SessionState.UNLOCKED
            assert (tmp_path / "data" / "anna" / "cache.db").exists()
        finally:
            await engine.close()
            await transport.aclose()

    asyncio.run(scenario())


def test_401_wiped_on_contact_wipes_during_sync_and_at_sign_in(
    relay: Relay, tmp_path: Path
) -> None:
    relay.post_text("vertraulich")
    data_dir = tmp_path / "data"
    transport = WipingTransport()

    async def scenario() -> None:
        engine = make_engine(relay, data_dir, transport=transport)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            transport.answer_wiped = True
            await asyncio.to_thread(relay.stop)  # next contact is a reconnect
            await asyncio.to_thread(relay.start)
            await wait_until(
                _async(lambda: engine.session is SessionState.WIPED), what="wiped", timeout=15
            )
            await engine.wait_wiped()
        finally:
            await engine.close()
        assert not (data_dir / "anna").exists()

        # At sign-in: a cache left from before is erased and the sign-in refused.
        transport.answer_wiped = False
        engine = make_engine(relay, data_dir, transport=transport)
        await engine.sign_in("anna", PASSWORD)
        await engine.close()
        assert (data_dir / "anna" / "cache.db").exists()
        transport.answer_wiped = True
        with pytest.raises(WipeOrdered):
            await engine.sign_in("anna", PASSWORD)
        assert not (data_dir / "anna").exists()
        await transport.aclose()

    asyncio.run(scenario())


def test_wipe_local_data_of_a_user_not_signed_in(relay: Relay, tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        await engine.sign_in("anna", PASSWORD)
        await engine.close()
        assert (tmp_path / "data" / "anna").exists()
        await engine.wipe_local_data("anna")
        assert not (tmp_path / "data" / "anna").exists()

    asyncio.run(scenario())
