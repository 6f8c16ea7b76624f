"""The desktop engine against a real relay on loopback: catch-up, SSE, reconnect, outbox.

Each test runs its own relay (uvicorn in a thread, SQLite in tmp_path) so it can stop and
restart it on the same port and database; the relay's own outbox worker is off, so sent
messages stay as the relay accepted them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.client.api import RelayClient, RelayError, RelayUnavailable, Unauthorized
from inbox_app.client.cache import Cache
from inbox_app.client.engine import (
    CacheUnreadable,
    ChangeSummary,
    ClientEngine,
    ConnectionState,
    EngineConfig,
    user_folder_name,
)
from inbox_app.client.keys import KdfParams, KeyStore, WrongPassword
from inbox_app.client.sync import SyncEngine
from inbox_app.domain.messages import MessageRecord
from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.auth import Accounts
from inbox_app.relay.db import Database
from inbox_app.relay.settings import RelaySettings
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.live_server import LiveServer, free_port
from tests.test_client_keys import MemoryKeyring
from tests.webhooks import signed, text_message

FAST_KDF = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse"
SENTINEL = "ZEBRA-SENTINEL-0815"


class Relay:
    """A relay that can be stopped and started again on the same port and database."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = RelaySettings(
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            access_token=ACCESS_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            graph_url="http://127.0.0.1:9",
            database_url=f"sqlite:///{tmp_path / 'relay.db'}",
            run_outbox=False,
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: LiveServer | None = None

    def start(self) -> None:
        server = LiveServer(create_app(self.settings), port=self.port)
        # Open SSE streams would otherwise hold a graceful shutdown forever.
        server.server.config.timeout_graceful_shutdown = 1
        self.server = server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            assert not self.server.thread.is_alive()
            self.server = None

    def add_user(self, name: str, role: Role = Role.RECEPTIONIST) -> None:
        db = Database(self.settings.database_url)
        try:
            Accounts(db, idle_seconds=3600, max_seconds=3600).add_user(name, PASSWORD, role)
        finally:
            db.dispose()

    def post_text(self, text: str, **kw: Any) -> None:
        body, headers = signed(text_message(text, **kw))
        response = httpx.post(self.url + "/webhook", content=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text

    def all_events(self, name: str = "anna") -> list[dict[str, Any]]:
        token = httpx.post(
            self.url + "/v1/auth/login", json={"username": name, "password": PASSWORD}
        ).json()["token"]
        events: list[dict[str, Any]] = []
        after = 0
        with httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            while True:
                page = client.get("/v1/sync", params={"after": after, "limit": 1000}).json()
                events += page["events"]
                after = page["next"]
                if not page["more"]:
                    return events


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    try:
        yield relay
    finally:
        relay.stop()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def make_engine(relay: Relay, data_dir: Path, **kw: Any) -> ClientEngine:
    kw.setdefault("keyring_backends", [])
    return ClientEngine(
        EngineConfig(relay_url=relay.url, data_dir=data_dir),
        kdf=FAST_KDF,
        backoff_initial=0.2,
        backoff_max=1.0,
        **kw,
    )


def latest_messages(events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    state: dict[int, dict[str, Any]] = {}
    for ev in events:
        if ev["type"] == "message":
            state[ev["data"]["id"]] = ev["data"]
    return state


# -- api ------------------------------------------------------------------------------------


def test_api_maps_errors(relay: Relay) -> None:
    async def scenario() -> None:
        async with RelayClient(relay.url) as api:
            with pytest.raises(Unauthorized, match="Invalid username or password"):
                await api.login("anna", "wrong password")
            user = await api.login("anna", PASSWORD)
            assert (user.username, user.role) == ("anna", "receptionist")
            assert (await api.me()).id == user.id
            with pytest.raises(RelayError) as refused:
                await api.send_message(999, "0d9f7b7e-8f0a-4c1e-9d7e-3d0c2a3b4c5d", "x")
            assert refused.value.status == 404 and refused.value.code == "not_found"
            assert not isinstance(refused.value, (Unauthorized, RelayUnavailable))
            api.token = "bogus"
            with pytest.raises(Unauthorized):
                await api.sync(0)
        async with RelayClient(f"http://127.0.0.1:{free_port()}") as nowhere:
            with pytest.raises(RelayUnavailable):
                await nowhere.login("anna", PASSWORD)

    asyncio.run(scenario())


# -- sync -----------------------------------------------------------------------------------


def test_catch_up_in_batches_matches_the_relay(relay: Relay, tmp_path: Path) -> None:
    for i in range(25):
        relay.post_text(f"Nachricht {i}", wa_id=f"49151000000{i % 4}")
    relay_events = relay.all_events()
    assert len(relay_events) >= 50

    async def scenario() -> None:
        cache = await Cache.open(tmp_path / "c" / "cache.db", "ab" * 32)
        api = RelayClient(relay.url)
        batches: list[ChangeSummary] = []
        calls: list[int] = []
        try:
            await api.login("anna", PASSWORD)
            original_sync = api.sync

            async def counting_sync(after: int, limit: int = 500) -> Any:
                calls.append(after)
                return await original_sync(after, limit)

            api.sync = counting_sync  # type: ignore[method-assign]
            engine = SyncEngine(
                cache, api, on_change=batches.append, on_state=lambda s: None, batch_size=10
            )
            applied = await engine.catch_up()
            assert applied == len(relay_events)
            assert len(calls) == -(-len(relay_events) // 10)  # ceil: batches of 10
            assert await cache.cursor() == relay_events[-1]["seq"]
            # the cache equals the relay: same ids, same content
            want = latest_messages(relay_events)
            got = {}
            for conv in await cache.conversations():
                for m in await cache.messages(conv.id, limit=1000):
                    got[m.id] = m.to_json()
            assert got == {k: MessageRecord.from_json(v).to_json() for k, v in want.items()}
            assert len(await cache.conversations()) == 4
            # a second catch-up finds nothing new
            assert await engine.catch_up() == 0
        finally:
            await api.aclose()
            await cache.close()

    asyncio.run(scenario())


def test_engine_live_events_send_and_no_plaintext(
    relay: Relay, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="inbox")
    relay.post_text("Guten Morgen", name=f"Patient {SENTINEL}")
    data_dir = tmp_path / "data"

    async def scenario() -> None:
        engine = make_engine(relay, data_dir)
        summaries: list[ChangeSummary] = []
        loop_thread: set[int] = set()
        import threading

        def listener(summary: ChangeSummary) -> None:
            loop_thread.add(threading.get_ident())
            summaries.append(summary)

        engine.add_listener(listener)
        user = await engine.sign_in("anna", PASSWORD)
        assert user.username == "anna"
        assert engine.protection == "password"
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            await wait_until(
                _async(lambda: engine.connection is ConnectionState.ONLINE), what="online"
            )

            # live: a webhook at the relay reaches the cache over SSE
            seen_before = len(summaries)
            started = time.monotonic()
            await asyncio.to_thread(relay.post_text, f"Befund {SENTINEL}")
            (conv,) = await engine.conversations()

            async def arrived() -> bool:
                return any(m.text == f"Befund {SENTINEL}" for m in await engine.messages(conv.id))

            await wait_until(arrived, timeout=5, what="live event")
            assert time.monotonic() - started < 5
            assert any(s.message_ids for s in summaries[seen_before:])

            # send: queued locally first, then acknowledged by the relay
            queued = await engine.send_text(conv.id, f"Antwort {SENTINEL}")
            assert queued.id < 0 and queued.status == "queued" and queued.client_id

            async def acknowledged() -> bool:
                return await engine.outbox_entries(frozenset({queued.client_id or ""})) == []

            await wait_until(acknowledged, what="outbox ack")
            sent = [m for m in await engine.messages(conv.id) if m.client_id == queued.client_id]
            assert len(sent) == 1 and sent[0].id > 0 and sent[0].direction == "out"
            assert any(queued.client_id in s.client_ids for s in summaries)
            assert (await engine.search("befund"))[0].text == f"Befund {SENTINEL}"
        finally:
            await engine.close()
        assert loop_thread == {threading.get_ident()}

    asyncio.run(scenario())
    folder = data_dir / "anna"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("cache.db-")) == [
        "cache.db",
        "key.json",
    ]
    for file in folder.iterdir():
        assert SENTINEL.encode() not in file.read_bytes(), file.name
    assert SENTINEL not in caplog.text
    assert PASSWORD not in caplog.text


def test_reconnects_after_the_relay_restarts(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("eins")

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        states: list[ConnectionState] = []
        engine.add_listener(lambda s: states.append(s.connection) if s.connection else None)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            sync = engine.sync_engine
            assert sync is not None
            await wait_until(_async(lambda: sync.connects == 1), what="first connect")

            await asyncio.to_thread(relay.stop)
            await wait_until(
                _async(lambda: engine.connection is not ConnectionState.ONLINE),
                what="offline after relay stop",
            )
            await asyncio.to_thread(relay.start)
            restarted = time.monotonic()
            await wait_until(_async(lambda: sync.connects >= 2), what="reconnect")
            assert time.monotonic() - restarted < 5  # R10
            await asyncio.to_thread(relay.post_text, "zwei")

            async def both() -> bool:
                (conv,) = await engine.conversations()
                return [m.text for m in await engine.messages(conv.id)] == ["eins", "zwei"]

            await wait_until(both, what="event after restart")
            assert engine.connection is ConnectionState.ONLINE
            assert ConnectionState.OFFLINE in states and states[-1] is ConnectionState.ONLINE
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_outbox_sends_once_in_order_after_the_relay_returns(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Hallo Praxis")

    async def scenario() -> list[str]:
        engine = make_engine(relay, tmp_path / "data")
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            (conv,) = await engine.conversations()
            await asyncio.to_thread(relay.stop)
            queued = [await engine.send_text(conv.id, f"Nachricht {i}") for i in range(3)]
            await asyncio.sleep(0.8)  # the flusher tries, fails, backs off
            pending = await engine.outbox_entries(frozenset(q.client_id or "" for q in queued))
            assert [p.text for p in pending] == ["Nachricht 0", "Nachricht 1", "Nachricht 2"]
            assert all(p.status in ("queued", "sending") for p in pending)
            shown = await engine.messages(conv.id)
            assert [m.text for m in shown[-3:]] == ["Nachricht 0", "Nachricht 1", "Nachricht 2"]

            await asyncio.to_thread(relay.start)

            async def all_acked() -> bool:
                ids = frozenset(q.client_id or "" for q in queued)
                return await engine.outbox_entries(ids) == []

            await wait_until(all_acked, what="outbox drained")
            return [q.client_id or "" for q in queued]
        finally:
            await engine.close()

    client_ids = asyncio.run(scenario())
    sent = [m for m in latest_messages(relay.all_events()).values() if m["direction"] == "out"]
    assert sorted(m["client_id"] for m in sent) == sorted(client_ids)  # each exactly once
    in_relay_order = [m["client_id"] for m in sorted(sent, key=lambda m: m["id"])]
    assert in_relay_order == client_ids  # in the order they were written


def test_refused_send_is_marked_failed_with_the_reason(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("alt", ts=time.time() - 25 * 3600)  # the 24-hour window is closed

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
            (conv,) = await engine.conversations()
            queued = await engine.send_text(conv.id, "Hallo?")
            ids = frozenset({queued.client_id or ""})

            async def failed() -> bool:
                entries = await engine.outbox_entries(ids)
                return bool(entries) and entries[0].status == "failed"

            await wait_until(failed, what="failed entry")
            (entry,) = await engine.outbox_entries(ids)
            assert entry.error_title and "24-hour" in entry.error_title
            with pytest.raises(ValueError):
                await engine.send_text(conv.id, "   ")
            assert await engine.discard_send(queued.client_id or "")
            assert await engine.outbox_entries(ids) == []
        finally:
            await engine.close()

    asyncio.run(scenario())


# -- sign-in --------------------------------------------------------------------------------


def test_wrong_credentials_create_nothing(relay: Relay, tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data")
        with pytest.raises(Unauthorized):
            await engine.sign_in("anna", "wrong password")
        await engine.close()

    asyncio.run(scenario())
    assert not (tmp_path / "data").exists()


def test_offline_unlock_then_back_online(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("vorher")
    data_dir = tmp_path / "data"

    async def first_session() -> None:
        engine = make_engine(relay, data_dir)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
        finally:
            await engine.close()

    async def offline_session() -> None:
        engine = make_engine(relay, data_dir)
        with pytest.raises(WrongPassword):
            await engine.sign_in("anna", "wrong password")
        user = await engine.sign_in("anna", PASSWORD)
        assert user.username == "anna"
        assert engine.connection is ConnectionState.OFFLINE
        assert len(await engine.conversations()) == 1  # readable while offline
        await engine.start()
        try:
            await asyncio.sleep(0.5)
            assert engine.connection is not ConnectionState.ONLINE
            await asyncio.to_thread(relay.start)
            await wait_until(
                _async(lambda: engine.connection is ConnectionState.ONLINE),
                what="online after offline unlock",
            )
            await asyncio.to_thread(relay.post_text, "nachher")

            async def arrived() -> bool:
                (conv,) = await engine.conversations()
                return len(await engine.messages(conv.id)) == 2

            await wait_until(arrived, what="sync after offline unlock")
        finally:
            await engine.close()

    asyncio.run(first_session())
    relay.stop()
    asyncio.run(offline_session())


def test_keyring_protection_through_the_engine(relay: Relay, tmp_path: Path) -> None:
    store: dict[tuple[str, str], str] = {}

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "data", keyring_backends=[MemoryKeyring(store)])
        await engine.sign_in("anna", PASSWORD)
        try:
            assert engine.protection.startswith("keyring:")
            assert len(store) == 1
        finally:
            await engine.close()
        again = make_engine(relay, tmp_path / "data", keyring_backends=[MemoryKeyring(store)])
        await again.sign_in("anna", PASSWORD)
        await again.close()

    asyncio.run(scenario())


async def _has_conversations(engine: ClientEngine, n: int) -> bool:
    return len(await engine.conversations()) >= n


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def run() -> bool:
        return check()

    return run


def test_unreadable_cache_is_reported_and_can_be_reset(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("vorher")
    data_dir = tmp_path / "data"

    async def scenario() -> None:
        engine = make_engine(relay, data_dir)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await wait_until(lambda: _has_conversations(engine, 1), what="catch-up")
        finally:
            await engine.close()
        # As after a password change on the relay: key.json is wrapped under another password.
        other = KeyStore(tmp_path / "other", keyring_backends=[], kdf=FAST_KDF)
        other.load_or_create("another password")
        (data_dir / "anna" / "key.json").write_bytes(other.path.read_bytes())

        engine = make_engine(relay, data_dir)
        with pytest.raises(CacheUnreadable, match="different password"):
            await engine.sign_in("anna", PASSWORD)
        await engine.sign_in("anna", PASSWORD, reset_unreadable_cache=True)
        try:
            assert await engine.conversations() == []  # a fresh cache…
            await engine.start()
            await wait_until(lambda: _has_conversations(engine, 1), what="resync")  # …refilled
        finally:
            await engine.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("name", "safe"),
    [("anna", True), ("a.b-c@praxis", True), ("../evil", False), ("..", False), ("a/b", False)],
)
def test_user_folder_names_stay_inside_the_data_dir(name: str, safe: bool) -> None:
    folder = user_folder_name(name)
    assert (folder == name) is safe
    assert "/" not in folder and folder not in (".", "..") and not folder.startswith(".")
