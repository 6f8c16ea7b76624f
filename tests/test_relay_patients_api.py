"""Staff booking and the patient register over real HTTP (issues 6 and 8): free slots,
book / move / cancel, create / link patients, role checks, a race for one slot, and the
feed events reaching a real desktop cache."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from inbox_app.client.api import SlotTakenError
from inbox_app.domain.roles import Role
from inbox_app.domain.scheduling import ClinicSchedule
from inbox_app.relay.app import create_app
from inbox_app.relay.db import Database, audit
from inbox_app.relay.reminder_config import ReminderConfig
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_client_sync import PASSWORD, Relay, make_engine, wait_until
from tests.test_relay_api import add_user, post_text
from tests.test_relay_api import login as open_session

SCHEDULE = ClinicSchedule.from_json(
    json.loads((Path(__file__).parents[1] / "resources/demo/schedule.json").read_text())
)
WA_ID = "4915100000001"


OPEN: list[httpx.Client] = []


def login(url: str, name: str) -> httpx.Client:
    """A signed-in client, closed when the test ends (unclosed sockets fail tests)."""
    client = open_session(url, name)
    OPEN.append(client)
    return client


def cid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def staff_relay(relay_settings: RelaySettings) -> Iterator[tuple[str, RelaySettings]]:
    settings = replace(
        relay_settings, reminders=ReminderConfig(schedule=SCHEDULE), run_outbox=False
    )
    with LiveServer(create_app(settings)) as server:
        for name, role in (
            ("anna", Role.RECEPTIONIST),
            ("ben", Role.RECEPTIONIST),
            ("root", Role.ADMIN),
        ):
            add_user(settings, name, role)
        try:
            yield server.url, settings
        finally:
            while OPEN:
                OPEN.pop().close()


def events_of(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get("/v1/sync", params={"after": after, "limit": 1000}).json()
        found += [e["data"] for e in page["events"] if e["type"] == kind]
        after = page["next"]
        if not page["more"]:
            return found


def conversation_id(client: httpx.Client) -> int:
    return int(events_of(client, "conversation")[-1]["id"])


def new_patient(client: httpx.Client, **kw: Any) -> dict[str, Any]:
    body = {"client_id": cid(), "family_name": "Probe", "given_name": "Paula", **kw}
    response = client.post("/v1/patients", json=body)
    assert response.status_code == 200, response.text
    patient: dict[str, Any] = response.json()["patient"]
    return patient


def test_book_move_cancel_with_roles_and_feed_events(staff_relay) -> None:
    url, settings = staff_relay
    anna, root = login(url, "anna"), login(url, "root")
    patient = new_patient(anna, birth_date="1980-02-29")
    assert patient["birth_date"] == "1980-02-29" and patient["external_id"].startswith("staff|")

    offer = anna.get("/v1/slots", params={"type": "checkup", "days": 14}).json()
    assert offer["clinicians"] == ["Dr. Sommer", "Dr. Winter"]
    assert {t["code"] for t in offer["types"]} >= {"checkup", "acute"}
    first, second = offer["slots"][0], offer["slots"][1]
    assert first["end"] - first["start"] == 30 * 60

    # An administrator sees no patient content and books nothing.
    assert root.get("/v1/slots", params={"type": "checkup"}).status_code == 403
    body = {
        "client_id": cid(),
        "patient_id": patient["id"],
        "type": "checkup",
        "clinician": first["clinician"],
        "start": first["start"],
    }
    assert root.post("/v1/appointments", json=body).status_code == 403

    booked = anna.post("/v1/appointments", json=body)
    assert booked.status_code == 200, booked.text
    appointment = booked.json()["appointment"]
    assert appointment["status"] == "booked" and appointment["reason"] == "Vorsorge"
    # A retry with the same client id answers the first booking, nothing new.
    again = anna.post("/v1/appointments", json=body).json()
    assert again["appointment"]["id"] == appointment["id"] and again["created"] is False
    # The slot is gone from the free list.
    after = anna.get("/v1/slots", params={"type": "checkup", "clinician": first["clinician"]})
    assert first["start"] not in {s["start"] for s in after.json()["slots"]}

    moved = anna.post(
        f"/v1/appointments/{appointment['id']}/move",
        json={"client_id": cid(), "clinician": second["clinician"], "start": second["start"]},
    )
    assert moved.status_code == 200, moved.text
    new = moved.json()["appointment"]
    assert new["start"] == second["start"] and new["id"] != appointment["id"]

    assert root.post(f"/v1/appointments/{new['id']}/cancel").status_code == 403
    cancelled = anna.post(f"/v1/appointments/{new['id']}/cancel")
    assert cancelled.json()["appointment"]["status"] == "cancelled"
    assert anna.post(f"/v1/appointments/{new['id']}/cancel").json()["changed"] is False
    assert anna.post("/v1/appointments/999999/cancel").status_code == 404

    # Both freed slots are offered again.
    free = {s["start"] for s in anna.get("/v1/slots", params={"type": "checkup"}).json()["slots"]}
    assert {first["start"], second["start"]} <= free

    states = {}
    for data in events_of(anna, "appointment"):
        states[data["id"]] = data["status"]
    assert states == {appointment["id"]: "cancelled", new["id"]: "cancelled"}
    assert [p["id"] for p in events_of(anna, "patient")] == [patient["id"]]

    db = Database(settings.database_url)
    try:
        with db.read() as conn:
            actions = [r.action for r in conn.execute(select(audit.c.action, audit.c.detail))]
    finally:
        db.dispose()
    assert {
        "patient_created",
        "appointment_booked",
        "appointment_moved",
        "appointment_cancelled",
    } <= set(actions)


def test_a_slot_outside_the_schedule_or_taken_is_refused_with_suggestions(staff_relay) -> None:
    url, _ = staff_relay
    anna = login(url, "anna")
    patient = new_patient(anna)
    slot = anna.get("/v1/slots", params={"type": "acute"}).json()["slots"][0]
    body = {
        "patient_id": patient["id"],
        "type": "acute",
        "clinician": slot["clinician"],
        "start": slot["start"],
    }
    assert anna.post("/v1/appointments", json={**body, "client_id": cid()}).status_code == 200
    taken = anna.post("/v1/appointments", json={**body, "client_id": cid()})
    assert taken.status_code == 409 and taken.json()["error"] == "slot_taken"
    suggestions = taken.json()["suggestions"]
    assert suggestions and slot["start"] not in {s["start"] for s in suggestions}
    # Moving another appointment onto the taken slot changes nothing (one transaction).
    other = anna.get("/v1/slots", params={"type": "acute"}).json()["slots"][0]
    second = anna.post(
        "/v1/appointments",
        json={**body, "client_id": cid(), "clinician": other["clinician"], "start": other["start"]},
    ).json()["appointment"]
    refused = anna.post(
        f"/v1/appointments/{second['id']}/move",
        json={"client_id": cid(), "clinician": slot["clinician"], "start": slot["start"]},
    )
    assert refused.status_code == 409 and refused.json()["suggestions"]
    latest = {a["id"]: a["status"] for a in events_of(anna, "appointment")}
    assert latest[second["id"]] == "booked" and len(latest) == 2
    odd = anna.post("/v1/appointments", json={**body, "client_id": cid(), "start": 12345.0})
    assert odd.status_code == 409
    bad_type = anna.post("/v1/appointments", json={**body, "client_id": cid(), "type": "x"})
    assert bad_type.status_code == 422 and bad_type.json()["error"] == "unknown_type"


def test_two_staff_booking_one_slot_at_once_one_gets_409(staff_relay) -> None:
    url, _ = staff_relay
    anna, ben = login(url, "anna"), login(url, "ben")
    p1, p2 = new_patient(anna), new_patient(ben, given_name="Peter")
    slot = anna.get("/v1/slots", params={"type": "checkup"}).json()["slots"][0]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def book(client: httpx.Client, patient_id: int) -> None:
        body = {
            "client_id": cid(),
            "patient_id": patient_id,
            "type": "checkup",
            "clinician": slot["clinician"],
            "start": slot["start"],
        }
        barrier.wait()
        codes.append(client.post("/v1/appointments", json=body).status_code)

    threads = [
        threading.Thread(target=book, args=(anna, p1["id"])),
        threading.Thread(target=book, args=(ben, p2["id"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    live = [a for a in events_of(anna, "appointment") if a["status"] != "cancelled"]
    assert len(live) == 1


def test_create_and_link_patients_to_a_conversation(staff_relay) -> None:
    url, _ = staff_relay
    anna, root = login(url, "anna"), login(url, "root")
    post_text(url, "Hallo, hier Paula")
    conv = conversation_id(anna)
    created = new_patient(anna, conversation_id=conv, record_number="K-1001")
    assert created["wa_id"] == WA_ID and created["created_by_staff"] is True
    child = new_patient(anna, given_name="Lina")
    assert child["wa_id"] is None
    assert root.post(
        f"/v1/conversations/{conv}/patient", json={"patient_id": child["id"]}
    ).status_code in (403, 404)
    linked = anna.post(f"/v1/conversations/{conv}/patient", json={"patient_id": child["id"]})
    assert linked.status_code == 200 and linked.json()["patient"]["wa_id"] == WA_ID
    again = anna.post(f"/v1/conversations/{conv}/patient", json={"patient_id": child["id"]})
    assert again.json()["changed"] is False
    missing = anna.post(f"/v1/conversations/{conv}/patient", json={"patient_id": 999999})
    assert missing.status_code == 404
    # Creating with the same client id twice gives one patient.
    key = cid()
    body = {"client_id": key, "family_name": "Eins", "given_name": "Erik"}
    one = anna.post("/v1/patients", json=body).json()
    two = anna.post("/v1/patients", json=body).json()
    assert one["patient"]["id"] == two["patient"]["id"] and two["created"] is False
    assert (
        anna.post("/v1/patients", json={**body, "client_id": cid(), "family_name": ""}).status_code
        == 422
    )
    wa_ids = {p["id"]: p["wa_id"] for p in events_of(anna, "patient")}
    assert wa_ids[child["id"]] == WA_ID


def test_booking_reaches_a_real_desktop_cache(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    relay.settings = replace(relay.settings, reminders=ReminderConfig(schedule=SCHEDULE))
    relay.start()
    relay.add_user("anna")
    engine = make_engine(relay, tmp_path / "desk")

    async def scenario() -> None:
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        relay.post_text("Guten Tag")
        await wait_until(lambda: _has_conversation(engine), what="the conversation in the cache")
        conv = (await engine.conversations())[0]
        patient = await engine.create_patient(
            family_name="Probe",
            given_name="Paula",
            birth_date="1990-05-17",
            conversation_id=conv.id,
        )
        await wait_until(lambda: _patients(engine, conv.wa_id, 1), what="the patient in the cache")
        offer = await engine.free_slots("checkup")
        slot = offer.slots[0]
        booked = await engine.book_appointment(
            patient.id, type_code="checkup", clinician=slot.clinician, start=slot.start
        )
        await wait_until(
            lambda: _appointment_status(engine, patient.id, booked.id, "booked"),
            what="the booking in the cache",
        )
        with pytest.raises(SlotTakenError) as taken:
            await engine.book_appointment(
                patient.id, type_code="checkup", clinician=slot.clinician, start=slot.start
            )
        assert taken.value.suggestions
        await engine.cancel_appointment(booked.id)
        await wait_until(
            lambda: _appointment_status(engine, patient.id, booked.id, "cancelled"),
            what="the cancellation in the cache",
        )
        consents = await engine.record_consent(conv.id, ["reminders"], granted=True)
        assert [c.purpose.value for c in consents] == ["reminders"]
        found = await engine.search_patients("paula 17.05.1990")
        assert [p.id for p in found] == [patient.id]
        await engine.close()

    try:
        asyncio.run(scenario())
    finally:
        relay.stop()


async def _has_conversation(engine: Any) -> bool:
    return bool(await engine.conversations())


async def _patients(engine: Any, wa_id: str, count: int) -> bool:
    return len(await engine.patients_for(wa_id)) == count


async def _appointment_status(
    engine: Any, patient_id: int, appointment_id: int, status: str
) -> bool:
    return any(
        a.id == appointment_id and a.status.value == status
        for a in await engine.appointments_for(patient_id)
    )
