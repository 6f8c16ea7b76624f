"""QUALITY R6 and R7 (at CI scale): the outbox against a simulator that fails in every way
Meta does, and its pacing under a queue of many sends."""

from __future__ import annotations

import collections
import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer, free_port
from tests.test_relay_api import add_user, login
from tests.test_relay_outbox import Pair

FINAL = frozenset({"read", "failed", "needs_review"})


@contextmanager
def running_pair(settings: RelaySettings, **relay: Any) -> Iterator[Pair]:
    relay_port, sim_port = free_port(), free_port()
    settings = replace(
        settings, graph_url=f"http://127.0.0.1:{sim_port}", graph_timeout=1.0, **relay
    )
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    with (
        LiveServer(create_app(settings), port=relay_port) as relay_server,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        staff = login(relay_server.url, "anna")
        try:
            yield Pair(relay_server, sim, staff)
        finally:
            staff.close()


def open_conversations(p: Pair, count: int) -> list[int]:
    for i in range(count):
        r = httpx.post(
            p.sim.url + "/_sim/inbound",
            json={"from": f"49151000{i:05d}", "name": f"Patient {i}", "text": "Hallo"},
        )
        assert r.status_code == 200 and r.json()["status"] == 200
    events = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    return sorted({e["data"]["id"] for e in events if e["type"] == "conversation"})


def queue(p: Pair, conversation_id: int, text: str) -> int:
    r = p.staff.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"client_id": str(uuid.uuid4()), "type": "text", "text": text},
    )
    assert r.status_code == 202, r.text
    message_id: int = r.json()["message"]["id"]
    return message_id


def final_states(
    p: Pair, ids: list[int], timeout: float, wanted: frozenset[str] = FINAL
) -> dict[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        latest: dict[int, dict[str, Any]] = {}
        after, more = 0, True
        while more:
            page = p.staff.get("/v1/sync", params={"after": after, "limit": 1000}).json()
            for e in page["events"]:
                if e["type"] == "message":
                    latest[e["data"]["id"]] = e["data"]
            after, more = page["next"], page["more"]
        done = {i: latest[i] for i in ids if latest.get(i, {}).get("status") in wanted}
        if len(done) == len(ids) or time.monotonic() > deadline:
            return done
        time.sleep(0.1)


def test_r6_every_fault_ends_in_a_final_state_without_duplicates(
    relay_settings: RelaySettings,
) -> None:
    with running_pair(relay_settings) as p:
        (conversation,) = open_conversations(p, 1)
        for fault in (
            {"kind": "error", "code": 131000, "http_status": 500, "count": 3},
            {"kind": "error", "code": 130429, "http_status": 400, "count": 2},
            {"kind": "error", "code": 131056, "http_status": 400, "count": 2},
            {"kind": "delay", "seconds": 2.0, "count": 2},  # timeout after Meta accepted
            {"kind": "reset", "count": 2},  # connection cut after Meta accepted
            {"kind": "error", "code": 131026, "http_status": 400, "count": 1},
        ):
            p.fault(**fault)
        ids = [queue(p, conversation, f"Nachricht {i}") for i in range(20)]
        # Ambiguous sends pass through needs_review until their status webhooks arrive.
        states = final_states(p, ids, timeout=60, wanted=frozenset({"read", "failed"}))
        assert len(states) == len(ids), "stuck: " + str(set(ids) - set(states))
        # Nothing dropped or sent twice: each message reached Meta at most once.
        tags = collections.Counter(s["payload"].get("biz_opaque_callback_data") for s in p.sent())
        assert all(n == 1 for n in tags.values()), tags
        failed = [s for s in states.values() if s["status"] == "failed"]
        assert [s["error_code"] for s in failed] == [131026]
        # The ambiguous ones were accepted by Meta: their status webhooks reconciled them.
        assert sum(tags.values()) == len(ids) - 1
        assert all(s["status"] == "read" for s in states.values() if s["status"] != "failed")


def sim_times(p: Pair) -> list[tuple[float, str]]:
    return sorted((datetime.fromisoformat(s["at"]).timestamp(), s["to"]) for s in p.sent())


def test_r7_global_cap_and_per_recipient_pacing(relay_settings: RelaySettings) -> None:
    rate, gap = 40.0, 0.3
    with running_pair(relay_settings, send_rate=rate, per_recipient_gap=gap) as p:
        conversations = open_conversations(p, 10)
        ids = [
            queue(p, conversations[i % len(conversations)], f"Erinnerung {i}") for i in range(120)
        ]
        states = final_states(p, ids, timeout=60)
        assert len(states) == len(ids)
        times = sim_times(p)
    assert len(times) == 120
    # Global cap: no one-second window holds more than the cap (plus one at its edge).
    stamps = [t for t, _ in times]
    for i, start in enumerate(stamps):
        in_window = sum(1 for t in stamps[i:] if t < start + 1.0)
        assert in_window <= rate + 1
    # Per recipient: consecutive sends to the same patient at least the gap apart.
    by_recipient: dict[str, list[float]] = collections.defaultdict(list)
    for t, to in times:
        by_recipient[to].append(t)
    for sends in by_recipient.values():
        gaps = [b - a for a, b in itertools.pairwise(sends)]
        assert min(gaps) >= gap * 0.9, gaps
