"""QUALITY R9 and R10 at CI scale, against a real relay on loopback.

R9: the client is stopped while 2,000 messages and 6,000 statuses (sent/delivered/read for
1,000 staff messages, then all of them again, replayed in reverse order) arrive as signed
webhooks; after it starts again the cache equals the relay's state: no gap, no duplicate.
R10: the SSE stream is cut 20 times (a TCP proxy between engine and relay aborts every
connection) while messages flow; every reconnect takes under 5 s and nothing is missed.
(R12, queued sends going out once and in order after an outage, is
``test_client_sync.test_outbox_sends_once_in_order_after_the_relay_returns``.)
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.client.engine import ClientEngine, ConnectionState
from inbox_app.domain.messages import MessageRecord
from tests.test_client_sync import PASSWORD, Relay, make_engine, wait_until
from tests.webhooks import envelope, signed


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    try:
        yield relay
    finally:
        relay.stop()


def _post(relay: Relay, value: dict[str, Any]) -> None:
    body, headers = signed(envelope(value))
    response = httpx.post(relay.url + "/webhook", content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text


def post_inbound(relay: Relay, count: int, *, conversations: int, per_post: int = 100) -> None:
    """``count`` text messages from ``conversations`` patients, ``per_post`` per webhook."""
    now = int(time.time())
    for start in range(0, count, per_post):
        batch = range(start, min(count, start + per_post))
        wa_ids = {i: f"49151{i % conversations:08d}" for i in batch}
        _post(
            relay,
            {
                "contacts": [
                    {"profile": {"name": f"Patient {w[-4:]}"}, "wa_id": w}
                    for w in sorted(set(wa_ids.values()))
                ],
                "messages": [
                    {
                        "from": wa_ids[i],
                        "id": f"wamid.in.{uuid.uuid4().hex}",
                        "timestamp": str(now),
                        "type": "text",
                        "text": {"body": f"Nachricht {i}"},
                    }
                    for i in batch
                ],
            },
        )


def relay_state(relay: Relay) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]], int]:
    """The relay's current messages and conversations (last event per id) and last seq."""
    events = relay.all_events()
    messages: dict[int, dict[str, Any]] = {}
    conversations: dict[int, dict[str, Any]] = {}
    for ev in events:
        if ev["type"] == "message":
            messages[ev["data"]["id"]] = ev["data"]
        elif ev["type"] == "conversation":
            conversations[ev["data"]["id"]] = ev["data"]
    return messages, conversations, events[-1]["seq"] if events else 0


async def assert_cache_equals_relay(engine: ClientEngine, relay: Relay) -> int:
    want_messages, want_conversations, last_seq = await asyncio.to_thread(relay_state, relay)
    sync = engine.sync_engine
    assert sync is not None

    async def caught_up() -> bool:
        return sync.cursor >= last_seq

    await wait_until(caught_up, timeout=60, what="cursor at the relay's last seq")
    cached_conversations = await engine.conversations()
    assert sorted(c.id for c in cached_conversations) == sorted(want_conversations)
    for conv in cached_conversations:
        want = dict(want_conversations[conv.id])
        assert conv.to_json() == {k: want[k] for k in conv.to_json()}
    got: list[MessageRecord] = []
    for conv in cached_conversations:
        got += await engine.messages(conv.id, limit=1_000_000)
    ids = [m.id for m in got]
    assert len(ids) == len(set(ids)), "duplicate messages in the cache"
    assert all(i > 0 for i in ids), "outbox entries left"
    assert {m.id: m.to_json() for m in got} == {
        k: MessageRecord.from_json(v).to_json() for k, v in want_messages.items()
    }
    return len(got)


def test_r9_offline_client_catches_up_2000_messages_and_6000_statuses(
    relay: Relay, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    relay.post_text("erste Nachricht", wa_id="4915100000000")

    async def first_session() -> None:
        engine = make_engine(relay, data_dir)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:
            await assert_cache_equals_relay(engine, relay)
        finally:
            await engine.close()

    asyncio.run(first_session())

    # -- while the client is stopped --------------------------------------------------------
    started = time.perf_counter()
    post_inbound(relay, 1_999, conversations=50)  # with the first one: 2,000 inbound

    async def staff_sends() -> list[int]:
        async with httpx.AsyncClient(base_url=relay.url, timeout=30) as http:
            token = (
                await http.post("/v1/auth/login", json={"username": "anna", "password": PASSWORD})
            ).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            conversations = {
                e["data"]["id"] for e in relay.all_events() if e["type"] == "conversation"
            }
            targets = sorted(conversations)
            semaphore = asyncio.Semaphore(8)

            async def send(i: int) -> int:
                async with semaphore:
                    answer = await http.post(
                        f"/v1/conversations/{targets[i % len(targets)]}/messages",
                        json={"client_id": str(uuid.uuid4()), "type": "text", "text": f"R {i}"},
                    )
                    assert answer.status_code in (200, 202), answer.text
                    return int(answer.json()["message"]["id"])

            return list(await asyncio.gather(*(send(i) for i in range(1_000))))

    sent_ids = asyncio.run(staff_sends())
    statuses = [
        {
            "id": f"wamid.out.{mid}",
            "status": state,
            "timestamp": str(int(time.time())),
            "recipient_id": "4915100000000",
            "biz_opaque_callback_data": f"msg:{mid}",
        }
        for state in ("sent", "delivered", "read")
        for mid in sent_ids
    ]
    arriving = statuses + statuses[::-1]  # 6,000: every status twice, the second time reversed
    for start in range(0, len(arriving), 200):
        _post(relay, {"statuses": arriving[start : start + 200]})
    feeding = time.perf_counter() - started

    # -- the client comes back ----------------------------------------------------------------
    async def second_session() -> tuple[int, float]:
        engine = make_engine(relay, data_dir)
        await engine.sign_in("anna", PASSWORD)
        began = time.perf_counter()
        await engine.start()
        try:
            count = await assert_cache_equals_relay(engine, relay)
            elapsed = time.perf_counter() - began
            read = [
                m
                for c in await engine.conversations()
                for m in await engine.messages(c.id, limit=1_000_000)
                if m.direction == "out"
            ]
            assert len(read) == 1_000 and {m.status for m in read} == {"read"}
            return count, elapsed
        finally:
            await engine.close()

    count, elapsed = asyncio.run(second_session())
    assert count == 3_000
    print(f"\nR9: fed in {feeding:.1f} s; client caught up {count} messages in {elapsed:.2f} s")


class CuttingProxy:
    """A loopback TCP proxy that can abort every open connection at once."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._open -= {writer, up_writer}

    def cut(self) -> int:
        """Abort every connection (RST); returns how many were open."""
        victims = list(self._open)
        for writer in victims:
            writer.transport.abort()
        return len(victims) // 2

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def test_r10_stream_cut_20_times_while_messages_flow(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Start", wa_id="4915100000000")

    async def scenario() -> list[float]:
        proxy = CuttingProxy(relay.port)
        await proxy.start()
        engine = make_engine(relay, tmp_path / "data")
        engine._config.relay_url = f"http://127.0.0.1:{proxy.port}"
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        stop_feeding = asyncio.Event()
        posted = 0

        def feed() -> None:
            nonlocal posted
            while not stop_feeding.is_set():
                relay.post_text(f"Live {posted}", wa_id=f"49151000000{posted % 7}")
                posted += 1
                time.sleep(0.02)

        reconnects: list[float] = []
        try:
            sync = engine.sync_engine
            assert sync is not None
            await wait_until(
                _is(lambda: engine.connection is ConnectionState.ONLINE), what="online"
            )
            feeder = asyncio.create_task(asyncio.to_thread(feed))
            for _ in range(20):
                before = sync.connects
                await asyncio.sleep(0.15)  # let events flow on the live stream
                assert proxy.cut() >= 1
                cut_at = time.monotonic()
                await wait_until(
                    _is(lambda before=before: sync.connects > before), timeout=5.0, what="reconnect"
                )
                reconnects.append(time.monotonic() - cut_at)
            stop_feeding.set()
            await feeder
            assert posted >= 20
            await assert_cache_equals_relay(engine, relay)
            texts = {
                m.text
                for c in await engine.conversations()
                for m in await engine.messages(c.id, limit=100_000)
            }
            assert {f"Live {i}" for i in range(posted)} <= texts
        finally:
            stop_feeding.set()
            await engine.close()
            await proxy.close()
        return reconnects

    reconnects = asyncio.run(scenario())
    assert len(reconnects) == 20 and max(reconnects) < 5.0
    print(f"\nR10: 20 cuts, reconnect max {max(reconnects):.2f} s")


def _is(check: Any) -> Any:
    async def run() -> bool:
        return bool(check())

    return run
