"""Escalations on the relay: red flags escalate and answer at once, who may take them,
what each role sees, overdue escalations notified again, the admin's audit query."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.automation import Automation
from inbox_app.relay.db import Database, events
from inbox_app.relay.escalations import register_red_flags
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.store import Store
from inbox_app.relay.teams import Teams
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from inbox_app.whatsapp.webhook import parse_envelope
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer, free_port
from tests.test_relay_api import add_user, login, post_text
from tests.webhooks import text_message

PATIENT = "4915100000101"
OTHER = "4915100000202"


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def escalation_events(client: httpx.Client) -> list[dict[str, Any]]:
    page = client.get("/v1/sync", params={"limit": 1000}).json()
    return [e["data"] for e in page["events"] if e["type"] == "escalation"]


@dataclass
class Clinic:
    relay: LiveServer
    sim: LiveServer
    settings: RelaySettings

    def patient_writes(self, text: str, wa_id: str = PATIENT, wamid: str | None = None) -> None:
        body: dict[str, Any] = {"from": wa_id, "name": "Erika Musterfrau", "text": text}
        if wamid:
            body["wamid"] = wamid
        r = httpx.post(self.sim.url + "/_sim/inbound", json=body)
        assert r.status_code == 200 and r.json()["status"] == 200, r.text

    def sent_to(self, wa_id: str) -> list[dict[str, Any]]:
        sent = httpx.get(self.sim.url + "/_sim/sent").json()["messages"]
        return [m for m in sent if m["wa_id"] == wa_id]


@pytest.fixture
def clinic(relay_settings: RelaySettings) -> Iterator[Clinic]:
    relay_port, sim_port = free_port(), free_port()
    settings = replace(
        relay_settings,
        graph_url=f"http://127.0.0.1:{sim_port}",
        graph_timeout=2.0,
        emergency_guidance_en="Call 112 now or go to the nearest emergency department.",
    )
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
    )
    for name, role in (("anna", Role.RECEPTIONIST), ("doc", Role.CLINICIAN)):
        add_user(settings, name, role)
    with (
        LiveServer(create_app(settings), port=relay_port) as relay,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        yield Clinic(relay, sim, settings)


def test_red_flag_escalates_once_and_answers_with_emergency_guidance(clinic: Clinic) -> None:
    clinic.patient_writes("Ich habe seit einer Stunde Brustschmerzen", wamid="wamid.redflag1")
    guidance = wait_for(lambda: clinic.sent_to(PATIENT))
    assert len(guidance) == 1
    body = guidance[0]["payload"]["text"]["body"]
    assert "112" in body and "Notruf" in body  # the German default: the patient wrote German
    # Meta delivering the same message again changes nothing: one escalation, one answer.
    clinic.patient_writes("Ich habe seit einer Stunde Brustschmerzen", wamid="wamid.redflag1")
    # An English red flag from another patient is answered in English (configured text).
    clinic.patient_writes("I have chest pain and shortness of breath", wa_id=OTHER)
    english = wait_for(lambda: clinic.sent_to(OTHER))
    assert english[0]["payload"]["text"]["body"] == (
        "Call 112 now or go to the nearest emergency department."
    )
    # An ordinary message escalates nothing.
    clinic.patient_writes("Kann ich den Termin am Freitag verschieben?", wa_id=OTHER)
    doc = login(clinic.relay.url, "doc")
    queue = wait_for(lambda: doc.get("/v1/escalations").json()["escalations"])
    time.sleep(0.5)  # give a wrong second escalation time to appear
    queue = doc.get("/v1/escalations").json()["escalations"]
    assert [(e["priority"], e["state"], e["source"]) for e in queue] == [
        ("emergency", "open", "red_flag"),
        ("emergency", "open", "red_flag"),
    ]
    assert [e["reason"] for e in queue] == [
        "Red flag in the patient's message: brustschmerzen",
        "Red flag in the patient's message: chest pain, shortness of breath",
    ]
    assert len(clinic.sent_to(PATIENT)) == 1
    # The conversation shows as escalated to everyone who sees it.
    anna = login(clinic.relay.url, "anna")
    convs = [
        e["data"] for e in anna.get("/v1/sync").json()["events"] if e["type"] == "conversation"
    ]
    assert [c["escalated"] for c in convs if c["wa_id"] == PATIENT][-1] is True
    doc.close()
    anna.close()


def _create(client: httpx.Client, conversation_id: int = 1, **body: Any) -> httpx.Response:
    payload = {"client_id": str(uuid.uuid4()), "reason": "Rückruf wegen Befund", **body}
    return client.post(f"/v1/conversations/{conversation_id}/escalations", json=payload)


def test_roles_who_escalates_who_takes_it_who_sees_it(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    for name, role in (
        ("anna", Role.RECEPTIONIST),
        ("doc", Role.CLINICIAN),
        ("doc2", Role.CLINICIAN),
        ("root", Role.ADMIN),
    ):
        add_user(relay_settings, name, role)
    db = Database(relay_settings.database_url)
    teams = Teams(db)
    cardio = teams.add("Kardiologie")
    teams.set_member("Kardiologie", "doc")
    db.dispose()
    post_text(relay_server.url, "Bitte um Rückruf", wa_id=PATIENT)
    anna, doc, doc2, root = (login(relay_server.url, n) for n in ("anna", "doc", "doc2", "root"))
    # Before any escalation a clinician sees nothing of the conversation.
    assert doc.get("/v1/conversations/1/escalations").status_code == 404

    created = _create(anna, priority="urgent", team_id=cardio.id)
    assert created.status_code == 201, created.text
    esc = created.json()["escalation"]
    assert (esc["state"], esc["priority"], esc["team_name"]) == ("open", "urgent", "Kardiologie")
    assert esc["created_by_name"] and esc["due_at"] > time.time() + 3600
    # The team's clinician sees it, in the queue and in the feed; the other one does not.
    assert [e["id"] for e in doc.get("/v1/escalations").json()["escalations"]] == [esc["id"]]
    assert [e["id"] for e in escalation_events(doc)] == [esc["id"]]
    assert doc2.get("/v1/escalations").json()["escalations"] == []
    assert escalation_events(doc2) == []
    # Admins see no patient content; receptionists may not take escalations.
    assert root.get("/v1/escalations").status_code == 403
    assert escalation_events(root) == []
    ack = {"client_id": str(uuid.uuid4())}
    assert anna.post(f"/v1/escalations/{esc['id']}/acknowledge", json=ack).status_code == 403
    resolve = {"client_id": str(uuid.uuid4())}
    assert anna.post(f"/v1/escalations/{esc['id']}/resolve", json=resolve).status_code == 403
    # A clinician outside the team cannot take it either: it answers like a missing one.
    hidden = doc2.post(f"/v1/escalations/{esc['id']}/acknowledge", json=ack)
    missing = doc2.post("/v1/escalations/999/acknowledge", json=ack)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()

    first = doc.post(f"/v1/escalations/{esc['id']}/acknowledge", json=ack)
    again = doc.post(f"/v1/escalations/{esc['id']}/acknowledge", json=ack)  # a retry
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["escalation"]["state"] == "acknowledged"
    assert first.json()["escalation"]["acknowledged_by_name"]
    # Reassigned to every clinician: doc2 now sees it and must acknowledge it anew.
    moved = doc.post(f"/v1/escalations/{esc['id']}/reassign", json={"client_id": str(uuid.uuid4())})
    assert moved.json()["escalation"]["state"] == "open"
    assert [e["id"] for e in doc2.get("/v1/escalations").json()["escalations"]] == [esc["id"]]
    done = doc2.post(
        f"/v1/escalations/{esc['id']}/resolve",
        json={"client_id": str(uuid.uuid4()), "resolution": "Zurückgerufen"},
    )
    assert done.json()["escalation"]["state"] == "resolved"
    twice = doc2.post(f"/v1/escalations/{esc['id']}/resolve", json=resolve)
    assert twice.status_code == 409
    # Each change reached the receptionist's feed as the whole state.
    states = [e["state"] for e in escalation_events(anna)]
    assert states == ["open", "acknowledged", "open", "resolved"]
    # Bad input: a receptionist is not a clinician to escalate to; no reason is refused.
    anna_id = anna.get("/v1/me").json()["id"]
    assert _create(anna, assignee_id=anna_id).status_code == 422
    assert _create(anna, reason="").status_code == 422
    assert _create(anna, patient_id=12345).json()["message"] == (
        "That patient does not belong to this number."
    )

    # The audit trail: admin only, filterable by action and user, and it verifies.
    assert anna.get("/v1/audit").status_code == 403
    assert doc.get("/v1/audit").status_code == 403
    page = root.get("/v1/audit", params={"action": "escalation_acknowledged"}).json()
    assert [(e["username"], e["conversation_id"]) for e in page["entries"]] == [("doc", 1)]
    assert "escalation_resolved" in page["actions"]
    by_doc2 = root.get("/v1/audit", params={"user": "doc2"}).json()["entries"]
    assert {e["action"] for e in by_doc2} >= {"escalation_resolved", "sign_in"}
    refused = root.get("/v1/audit", params={"action": "access_denied", "user": "doc2"})
    assert [e["conversation_id"] for e in refused.json()["entries"]] == [1]
    by_patient = root.get("/v1/audit", params={"patient": "Musterfrau"}).json()["entries"]
    assert by_patient and {e["conversation_id"] for e in by_patient} == {1}
    nobody = root.get("/v1/audit", params={"patient": "Niemand"}).json()["entries"]
    assert nobody == []
    assert root.get("/v1/audit", params={"since": "gestern"}).status_code == 422
    assert root.get("/v1/admin/audit/verify").json()["ok"] is True
    for client in (anna, doc, doc2, root):
        client.close()


def test_overdue_escalations_are_notified_again_once_per_interval(db_url: str) -> None:
    db = Database(db_url)
    db.create_schema()
    store = Store(db)
    now = [1_800_000_000.0]
    auto = Automation(store, clock=lambda: now[0])
    settings = RelaySettings(
        app_secret="s",
        verify_token="v",
        access_token="a",
        phone_number_id="p",
        database_url=db_url,
        escalation_renotify_seconds=600,
    )
    register_red_flags(auto, settings)
    auto.init_cursor()
    store.ingest_many([parse_envelope(text_message("Ich habe Atemnot", ts=now[0]))])
    auto.process_inbound()

    def notices() -> list[float]:
        with db.read() as conn:
            rows = conn.execute(
                select(events.c.data).where(events.c.type == "escalation").order_by(events.c.seq)
            ).scalars()
            import json

            return [json.loads(r)["renotified_at"] for r in rows if '"notice":"overdue"' in r]

    start = now[0]
    auto.run_due_jobs(start + 60)  # emergency: due after 15 minutes, not yet
    assert notices() == []
    auto.run_due_jobs(start + 15 * 60 + 1)
    assert notices() == [start + 15 * 60 + 1]
    auto.run_due_jobs(start + 20 * 60)  # within the interval: not again
    assert len(notices()) == 1
    auto.run_due_jobs(start + 26 * 60)
    assert notices() == [start + 15 * 60 + 1, start + 26 * 60]
    db.dispose()
