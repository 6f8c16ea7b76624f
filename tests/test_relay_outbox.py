"""Replies travel relay → simulator (Graph API) and their statuses come back, under faults."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer, free_port
from tests.test_relay_api import add_user, login


@dataclass
class Pair:
    relay: LiveServer
    sim: LiveServer
    staff: httpx.Client

    def inbound(self, text: str, wa_id: str = "4915100000101") -> None:
        r = httpx.post(
            self.sim.url + "/_sim/inbound",
            json={"from": wa_id, "name": "Erika Musterfrau", "type": "text", "text": text},
        )
        assert r.status_code == 200 and r.json()["status"] == 200, r.text

    def reply(self, text: str) -> dict[str, Any]:
        r = self.staff.post(
            "/v1/conversations/1/messages",
            json={"client_id": str(uuid.uuid4()), "type": "text", "text": text},
        )
        assert r.status_code == 202, r.text
        return r.json()["message"]

    def message(self, message_id: int) -> dict[str, Any]:
        events = self.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        states = [
            e["data"] for e in events if e["type"] == "message" and e["data"]["id"] == message_id
        ]
        return states[-1]

    def wait_status(self, message_id: int, wanted: set[str], timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.message(message_id)
            if state["status"] in wanted or time.monotonic() > deadline:
                return state
            time.sleep(0.05)

    def sent(self) -> list[dict[str, Any]]:
        return httpx.get(self.sim.url + "/_sim/sent").json()["messages"]

    def fault(self, **fault: Any) -> None:
        assert httpx.post(self.sim.url + "/_sim/faults", json=fault).status_code == 200


@pytest.fixture
def pair(relay_settings: RelaySettings) -> Iterator[Pair]:
    relay_port, sim_port = free_port(), free_port()
    settings = replace(relay_settings, graph_url=f"http://127.0.0.1:{sim_port}", graph_timeout=1.0)
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    with (
        LiveServer(create_app(settings), port=relay_port) as relay,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        staff = login(relay.url, "anna")
        yield Pair(relay, sim, staff)
        staff.close()


def test_reply_is_sent_once_and_reaches_read(pair: Pair) -> None:
    pair.inbound("Kann ich den Termin verschieben?")
    message = pair.reply("Gern, wann passt es Ihnen?")
    final = pair.wait_status(message["id"], {"read"})
    assert final["status"] == "read" and final["wamid"]
    sent = pair.sent()
    assert len(sent) == 1
    assert sent[0]["to"] == "4915100000101" and sent[0]["wamid"] == final["wamid"]
    assert sent[0]["payload"]["text"]["body"] == "Gern, wann passt es Ihnen?"


def test_transient_errors_are_retried_and_sent_once(pair: Pair) -> None:
    pair.inbound("Hallo")
    pair.fault(kind="error", code=131000, http_status=500, count=2)
    message = pair.reply("Antwort nach Störung")
    final = pair.wait_status(message["id"], {"read", "failed"})
    assert final["status"] == "read"
    assert len(pair.sent()) == 1


def test_permanent_error_fails_with_its_code_without_resending(pair: Pair) -> None:
    pair.inbound("Hallo")
    pair.fault(kind="error", code=131026, http_status=400)
    message = pair.reply("Geht nicht zu")
    final = pair.wait_status(message["id"], {"failed"})
    assert final["status"] == "failed" and final["error_code"] == 131026
    time.sleep(1.5)
    assert pair.sent() == []


def test_failed_status_webhook_marks_message_failed(pair: Pair) -> None:
    pair.inbound("Hallo")
    pair.fault(kind="failed_status", code=131047)
    message = pair.reply("Zu spät")
    final = pair.wait_status(message["id"], {"failed"})
    assert final["status"] == "failed" and final["error_code"] == 131047


def test_ambiguous_send_is_reconciled_from_status_webhooks_not_resent(pair: Pair) -> None:
    """Timeout after Meta accepted: never resent; the callback tag recovers the wamid."""
    pair.inbound("Hallo")
    pair.fault(kind="delay", seconds=3.0)
    message = pair.reply("Antwort mit Zeitüberschreitung")
    final = pair.wait_status(message["id"], {"read"})
    assert final["status"] == "read" and final["wamid"]
    assert len(pair.sent()) == 1
