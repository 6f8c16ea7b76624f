"""Two relay processes on one PostgreSQL: live events and presence cross between them
within a second (LISTEN/NOTIFY), and two outbox workers never send a message twice."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from httpx_sse import aconnect_sse

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PG_MISSING, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.live_server import LiveServer, free_port
from tests.test_relay_api import add_user, login, post_text

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(PG_MISSING, reason="no PostgreSQL server binaries here"),
]


def settings_for(pg_url: str, graph_url: str = "http://127.0.0.1:9") -> RelaySettings:
    return RelaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        graph_url=graph_url,
        database_url=pg_url,
        graph_timeout=2.0,
    )


@pytest.fixture
def two_relays(pg_url: str) -> Iterator[tuple[LiveServer, LiveServer, RelaySettings]]:
    settings = settings_for(pg_url)
    add_user(settings, "anna", Role.RECEPTIONIST)
    add_user(settings, "bert", Role.RECEPTIONIST)
    with LiveServer(create_app(settings)) as one, LiveServer(create_app(settings)) as two:
        yield one, two, settings


def test_an_event_committed_on_one_relay_reaches_streams_of_the_other_within_a_second(
    two_relays: tuple[LiveServer, LiveServer, RelaySettings],
) -> None:
    one, two, _ = two_relays
    post_text(one.url, "erste")  # conversation 1 exists before the stream starts
    anna_on_two = login(two.url, "anna")
    bert_on_one = login(one.url, "bert")
    token = anna_on_two.headers["Authorization"]
    latencies: list[float] = []
    presence_latency: list[float] = []

    async def scenario() -> None:
        sent_at: dict[str, float] = {}
        cursor = anna_on_two.get("/v1/sync").json()["next"]
        async with httpx.AsyncClient(base_url=two.url, timeout=30) as client:
            headers = {"Authorization": token, "Last-Event-ID": str(cursor)}
            async with aconnect_sse(client, "GET", "/v1/events", headers=headers) as source:
                loop = asyncio.get_running_loop()

                def traffic() -> None:
                    for i in range(5):
                        time.sleep(0.3)
                        text = f"live {i}"
                        sent_at[text] = time.monotonic()
                        post_text(one.url, text)  # answered after commit on relay one
                    time.sleep(0.3)
                    sent_at["presence"] = time.monotonic()
                    r = bert_on_one.post(
                        "/v1/presence", json={"conversation_id": 1, "state": "viewing"}
                    )
                    assert r.status_code == 200

                loop.run_in_executor(None, traffic)
                async for sse in source.aiter_sse():
                    if not sse.data:
                        continue
                    ev = json.loads(sse.data)
                    now = time.monotonic()
                    if ev["type"] == "message":
                        latencies.append(now - sent_at[ev["data"]["text"]])
                    elif ev["type"] == "presence":
                        assert ev["data"]["display_name"] == "bert"
                        presence_latency.append(now - sent_at["presence"])
                        return

    asyncio.run(asyncio.wait_for(scenario(), 30))
    anna_on_two.close()
    bert_on_one.close()
    assert len(latencies) == 5
    # without NOTIFY the other relay would only look again at its next 5 s check
    assert max(latencies) < 1.0, latencies
    assert presence_latency and presence_latency[0] < 1.0


def test_two_outbox_workers_never_send_a_message_twice(pg_url: str) -> None:
    sim_port = free_port()
    one_port = free_port()
    settings = settings_for(pg_url, graph_url=f"http://127.0.0.1:{sim_port}")
    settings = replace(settings, send_rate=0)  # no pacing: let the workers race
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{one_port}/webhook",
        status_delay=0.01,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    count = 120
    with (
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
        LiveServer(create_app(settings), port=one_port) as one,
        LiveServer(create_app(settings)) as two,
    ):
        r = httpx.post(
            sim.url + "/_sim/inbound",
            json={"from": "4915100000101", "name": "Erika", "type": "text", "text": "Hallo"},
        )
        assert r.status_code == 200
        staff = [login(one.url, "anna"), login(two.url, "anna")]
        for i in range(count):
            reply = staff[i % 2].post(
                "/v1/conversations/1/messages",
                json={"client_id": str(uuid.uuid4()), "type": "text", "text": f"Antwort {i}"},
            )
            assert reply.status_code == 202, reply.text
        deadline = time.monotonic() + 60
        while True:
            sent = httpx.get(sim.url + "/_sim/sent").json()["messages"]
            if len(sent) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # anything sent twice would show up now
        sent = httpx.get(sim.url + "/_sim/sent").json()["messages"]
        bodies = [m["payload"]["text"]["body"] for m in sent]
        assert sorted(bodies) == sorted(f"Antwort {i}" for i in range(count))
        assert len(bodies) == len(set(bodies)) == count
        for client in staff:
            client.close()
