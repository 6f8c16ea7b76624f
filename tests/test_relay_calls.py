"""Calling a patient back from an escalation: the WhatsApp call-permission request reaches
the simulator, the patient's answer and the call webhooks show in the conversation, the
outcome is logged in the thread and audited; without calling, the number for ``tel:``."""

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
from tests.test_relay_escalations import wait_for
from tests.webhooks import envelope, signed

PATIENT = "4915100000101"


@dataclass
class Setup:
    relay: LiveServer
    sim: LiveServer
    doc: httpx.Client
    anna: httpx.Client
    escalation_id: int

    def webhook(self, payload: dict[str, Any]) -> None:
        body, headers = signed(payload)
        r = httpx.post(self.relay.url + "/webhook", content=body, headers=headers)
        assert r.status_code == 200, r.text

    def calls(self) -> list[dict[str, Any]]:
        page = self.doc.get("/v1/sync", params={"limit": 1000}).json()
        return [e["data"] for e in page["events"] if e["type"] == "call"]

    def call(self, **body: Any) -> httpx.Response:
        return self.doc.post(
            f"/v1/escalations/{self.escalation_id}/call",
            json={"client_id": str(uuid.uuid4()), **body},
        )


def _setup(settings: RelaySettings) -> Iterator[Setup]:
    relay_port, sim_port = free_port(), free_port()
    settings = replace(settings, graph_url=f"http://127.0.0.1:{sim_port}", graph_timeout=2.0)
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    add_user(settings, "doc", Role.CLINICIAN)
    add_user(settings, "root", Role.ADMIN)
    with (
        LiveServer(create_app(settings), port=relay_port) as relay,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        r = httpx.post(
            sim.url + "/_sim/inbound",
            json={"from": PATIENT, "name": "Erika Musterfrau", "text": "Bitte rufen Sie mich an"},
        )
        assert r.status_code == 200
        anna, doc = login(relay.url, "anna"), login(relay.url, "doc")
        created = anna.post(
            "/v1/conversations/1/escalations",
            json={"client_id": str(uuid.uuid4()), "reason": "Rückruf", "priority": "urgent"},
        )
        assert created.status_code == 201, created.text
        yield Setup(relay, sim, doc, anna, created.json()["escalation"]["id"])
        anna.close()
        doc.close()


@pytest.fixture
def calling(relay_settings: RelaySettings) -> Iterator[Setup]:
    yield from _setup(replace(relay_settings, whatsapp_calling=True))


@pytest.fixture
def no_calling(relay_settings: RelaySettings) -> Iterator[Setup]:
    yield from _setup(replace(relay_settings, video_visit_url="https://video.example/praxis"))


def test_call_permission_request_reaches_the_patient_and_the_answer_shows(
    calling: Setup,
) -> None:
    assert (
        calling.anna.post(
            f"/v1/escalations/{calling.escalation_id}/call",
            json={"client_id": str(uuid.uuid4())},
        ).status_code
        == 403
    )  # calling back is the clinician's part
    started = calling.call(language="de")
    assert started.status_code == 201, started.text
    assert started.json()["mode"] == "whatsapp"
    assert started.json()["call"]["kind"] == "permission_requested"

    def request_sent() -> list[dict[str, Any]]:
        sent = httpx.get(calling.sim.url + "/_sim/sent").json()["messages"]
        return [m for m in sent if m["type"] == "interactive"]

    sent = wait_for(request_sent)
    assert len(sent) == 1 and sent[0]["wa_id"] == PATIENT
    interactive = sent[0]["payload"]["interactive"]
    assert interactive["type"] == "call_permission_request"
    assert interactive["action"] == {"name": "call_permission_request"}

    # The patient accepts (Meta sends the answer as an interactive message) …
    calling.webhook(
        envelope(
            {
                "contacts": [{"profile": {"name": "Erika Musterfrau"}, "wa_id": PATIENT}],
                "messages": [
                    {
                        "from": PATIENT,
                        "id": f"wamid.{uuid.uuid4().hex}",
                        "timestamp": str(int(time.time())),
                        "type": "interactive",
                        "interactive": {
                            "type": "call_permission_reply",
                            "call_permission_reply": {
                                "response": "accept",
                                "expiration_timestamp": int(time.time()) + 7 * 86400,
                                "response_source": "user_action",
                            },
                        },
                    }
                ],
            }
        )
    )
    reply = wait_for(lambda: [c for c in calling.calls() if c["kind"] == "permission_reply"])
    assert [(c["status"], c["escalation_id"]) for c in reply] == [("accept", calling.escalation_id)]
    # In the thread the answer reads as a phone with a tick (it has no words of its own).
    events = calling.doc.get("/v1/sync", params={"limit": 1000}).json()["events"]
    replies = [
        e["data"]
        for e in events
        if e["type"] == "message"
        and e["data"]["type"] == "interactive"
        and e["data"]["direction"] == "in"
    ]
    assert replies[-1]["text"] == "☎ ✓"
    # … and the call's webhooks (placed from the phone system) show in the conversation.
    call_payload = envelope(
        {
            "contacts": [{"profile": {"name": "Erika Musterfrau"}, "wa_id": PATIENT}],
            "calls": [
                {
                    "id": "wacid.test1",
                    "to": PATIENT,
                    "from": PHONE_NUMBER_ID,
                    "event": "terminate",
                    "direction": "BUSINESS_INITIATED",
                    "timestamp": str(int(time.time())),
                    "status": "COMPLETED",
                    "duration": 95,
                }
            ],
        }
    )
    call_payload["entry"][0]["changes"][0]["field"] = "calls"
    calling.webhook(call_payload)
    calling.webhook(call_payload)  # delivered twice: shown once
    webhooks = wait_for(lambda: [c for c in calling.calls() if c["kind"] == "webhook"])
    time.sleep(0.2)
    webhooks = [c for c in calling.calls() if c["kind"] == "webhook"]
    assert [c["status"] for c in webhooks] == ["terminate:COMPLETED"]


def test_outcome_is_logged_in_the_thread_and_audited(no_calling: Setup) -> None:
    # Without WhatsApp calling the desktop dials the number itself.
    started = no_calling.call()
    assert started.status_code == 201
    assert started.json()["mode"] == "tel"
    assert started.json()["tel"] == f"tel:+{PATIENT}"
    assert no_calling.call(mode="whatsapp").status_code == 422
    video = no_calling.call(mode="video")
    assert video.status_code == 201 and video.json()["mode"] == "video"
    sent = wait_for(lambda: httpx.get(no_calling.sim.url + "/_sim/sent").json()["messages"])
    assert sent[0]["payload"]["text"]["body"] == "https://video.example/praxis"

    url = f"/v1/escalations/{no_calling.escalation_id}/call-outcome"
    missing_time = {"client_id": str(uuid.uuid4()), "outcome": "callback_scheduled"}
    assert no_calling.doc.post(url, json=missing_time).status_code == 422
    callback = time.time() + 3600
    body = {
        "client_id": str(uuid.uuid4()),
        "outcome": "callback_scheduled",
        "callback_at": callback,
        "note": "Patientin bittet um Rückruf nach 17 Uhr",
    }
    first = no_calling.doc.post(url, json=body)
    again = no_calling.doc.post(url, json=body)  # a retry logs nothing twice
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["call"]["outcome"] == "callback_scheduled"
    assert first.json()["call"]["callback_at"] == pytest.approx(callback)
    reached = {"client_id": str(uuid.uuid4()), "outcome": "reached"}
    assert no_calling.doc.post(url, json=reached).status_code == 201
    assert no_calling.anna.post(url, json=reached).status_code == 403

    events = no_calling.anna.get("/v1/sync", params={"limit": 1000}).json()["events"]
    notes = [e["data"]["text"] for e in events if e["type"] == "note"]
    assert len(notes) == 2
    assert notes[0].startswith("☎ callback scheduled") and "nach 17 Uhr" in notes[0]
    assert notes[1] == "☎ reached"
    outcomes = [e["data"]["outcome"] for e in events if e["type"] == "call"]
    assert outcomes == [None, None, "callback_scheduled", "reached"]

    root = login(no_calling.relay.url, "root")
    audited = root.get("/v1/audit", params={"action": "call_outcome"}).json()["entries"]
    assert [(e["username"], e["detail"]["outcome"]) for e in audited] == [
        ("doc", "reached"),
        ("doc", "callback_scheduled"),
    ]
    requested = root.get("/v1/audit", params={"action": "call_requested"}).json()["entries"]
    assert sorted(e["detail"]["mode"] for e in requested) == ["tel", "video"]
    root.close()
