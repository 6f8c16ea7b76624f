"""Booking by chat end to end: the simulator delivers the patient's signed webhooks (text
and list/button taps) to a live relay; the relay's outbox sends the bot's questions and
lists back to the simulator. Also two patients racing for one slot, and staff stopping
the bot over the API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from inbox_app.domain.roles import Role
from inbox_app.domain.scheduling import Slot
from inbox_app.relay.app import create_app
from inbox_app.relay.booking import Booking, SlotTaken
from inbox_app.relay.db import (
    Database,
    appointments,
    audit,
    automation_cursors,
    conversations,
    messages,
    slot_locks,
)
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.store import Store
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer, free_port
from tests.test_bot_intake import BERLIN, MONDAY_MORNING, SCHEDULE, bot_settings
from tests.test_relay_api import add_user, login

# The first free check-up from Monday 09:30 (60 minutes' lead): 10:30 with Dr. Sommer.
FIRST_SLOT = datetime(2026, 11, 23, 10, 30, tzinfo=BERLIN).timestamp()


@dataclass
class Clinic:
    relay: LiveServer
    sim: LiveServer
    staff: httpx.Client
    database_url: str

    def sent_to(self, wa_id: str) -> list[dict[str, Any]]:
        messages = httpx.get(self.sim.url + "/_sim/sent").json()["messages"]
        return [m for m in messages if m["wa_id"] == wa_id]

    def answers_after_handling(self, wa_id: str, timeout: float = 15) -> int:
        """How many messages the relay queued to ``wa_id``, once its automation has handled
        the patient's latest message (so "nothing more" is not just "not yet")."""
        db = Database(self.database_url)
        try:
            deadline = time.monotonic() + timeout
            while True:
                with db.read() as conn:
                    theirs = (
                        select(func.max(messages.c.id))
                        .join(conversations, conversations.c.id == messages.c.conversation_id)
                        .where(conversations.c.wa_id == wa_id)
                    )
                    last_in = conn.execute(theirs.where(messages.c.direction == "in")).scalar()
                    cursor = conn.execute(
                        select(automation_cursors.c.last_id).where(
                            automation_cursors.c.name == "inbound"
                        )
                    ).scalar()
                    if last_in is not None and cursor is not None and cursor >= last_in:
                        return len(
                            conn.execute(
                                select(messages.c.id)
                                .join(
                                    conversations, conversations.c.id == messages.c.conversation_id
                                )
                                .where(
                                    conversations.c.wa_id == wa_id, messages.c.direction == "out"
                                )
                            ).all()
                        )
                assert time.monotonic() < deadline, "automation did not handle the message"
                time.sleep(0.05)
        finally:
            db.dispose()

    def events(self, kind: str) -> list[dict[str, Any]]:
        found = self.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        return [e["data"] for e in found if e["type"] == kind]


class Patient:
    def __init__(self, clinic: Clinic, wa_id: str, name: str) -> None:
        self.clinic, self.wa_id, self.name = clinic, wa_id, name

    def write(self, text: str) -> None:
        r = httpx.post(
            self.clinic.sim.url + "/_sim/inbound",
            json={"from": self.wa_id, "name": self.name, "type": "text", "text": text},
        )
        assert r.status_code == 200 and r.json()["status"] == 200, r.text

    def tap(self, index: int) -> str:
        r = httpx.post(
            self.clinic.sim.url + "/_sim/tap",
            json={"from": self.wa_id, "name": self.name, "index": index},
        )
        assert r.status_code == 200 and r.json()["status"] == 200, r.text
        return str(r.json()["reply_id"])

    def receives(self, count: int, timeout: float = 15) -> dict[str, Any]:
        """The ``count``-th message the practice sent to this patient (waits for it)."""
        deadline = time.monotonic() + timeout
        while len(sent := self.clinic.sent_to(self.wa_id)) < count:
            assert time.monotonic() < deadline, [m["payload"] for m in sent]
            time.sleep(0.05)
        assert len(sent) == count, [m["payload"] for m in sent]  # nothing more than asked
        return dict(sent[count - 1]["payload"])


def body(payload: dict[str, Any]) -> str:
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    return str(payload["interactive"]["body"]["text"])


def rows(payload: dict[str, Any]) -> list[tuple[str, str]]:
    action = payload["interactive"]["action"]
    if payload["interactive"]["type"] == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
    return [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]


@pytest.fixture
def clinic(relay_settings: RelaySettings) -> Iterator[Clinic]:
    relay_port, sim_port = free_port(), free_port()
    settings = replace(
        relay_settings,
        graph_url=f"http://127.0.0.1:{sim_port}",
        graph_timeout=2.0,
        bots=bot_settings(),
    )
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    app = create_app(settings)
    # The practice's clock: Monday morning, so free slots and opening hours are known.
    app.state.relay.automation.clock = lambda: MONDAY_MORNING
    with (
        LiveServer(app, port=relay_port) as relay,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        staff = login(relay.url, "anna")
        yield Clinic(relay, sim, staff, settings.database_url)
        staff.close()


def book_up_to_the_slot_list(patient: Patient, first: str, name: str, born: str) -> dict[str, Any]:
    patient.write(first)
    patient.receives(1)
    patient.write(name)
    patient.receives(2)
    patient.write(born)
    assert [r[0] for r in rows(patient.receives(3))] == ["bot-ins:statutory", "bot-ins:private"]
    patient.tap(0)
    insurers = rows(patient.receives(4))
    assert insurers[1] == ("bot-insurer:1", "Techniker (TK)") and len(insurers) == 10
    patient.tap(1)
    assert rows(patient.receives(5))[0][0] == "bot-type:checkup"
    patient.tap(0)
    return patient.receives(6)


def test_a_whole_booking_by_chat(clinic: Clinic) -> None:
    erika = Patient(clinic, "4915100000101", "Erika")
    slots = book_up_to_the_slot_list(
        erika, "Hallo, ich hätte gern einen Termin", "Erika Musterfrau", "24.12.1980"
    )
    assert "Vor- und Nachname" in body(clinic.sent_to(erika.wa_id)[0]["payload"])
    offered = rows(slots)
    assert offered[0] == (f"bot-slot:{int(FIRST_SLOT)}:Dr. Sommer", "Mo 23.11. 10:30")
    assert len(offered) == 8
    erika.tap(0)
    confirmation = body(erika.receives(7))
    assert confirmation.startswith(
        "Ihr Termin ist gebucht: Montag, 23.11.2026 um 10:30 Uhr bei Dr. Sommer (Vorsorge)."
    )

    # The booking is in the inbox: the appointment, the new (unverified) patient, the note.
    (appointment,) = clinic.events("appointment")
    (patient,) = clinic.events("patient")
    assert (appointment["start"], appointment["clinician"], appointment["status"]) == (
        FIRST_SLOT,
        "Dr. Sommer",
        "booked",
    )
    assert appointment["patient_id"] == patient["id"]
    assert appointment["external_id"].startswith("chat:")  # counted as a booking by chat
    assert (patient["given_name"], patient["family_name"], patient["birth_date"]) == (
        "Erika",
        "Musterfrau",
        "1980-12-24",
    )
    (note,) = clinic.events("note")
    assert "Termin gebucht: 23.11.2026 10:30, Dr. Sommer, Vorsorge" in note["text"]
    assert "Versicherung: gesetzlich, Techniker (TK)" in note["text"]
    assert "Anliegen: Termin buchen" in note["text"]
    assert note["author_name"] == "Praxis-Bot"
    labels = clinic.events("conversation")[-1]["labels"]
    assert {"booked-by-chat", "intake-done"} <= set(labels)

    # The slot is taken for everyone else, and the booking is in the audit log.
    db = Database(clinic.database_url)
    try:
        store = Store(db)
        free = Booking(store, SCHEDULE).free_slots(
            type_code="checkup", first_day=date(2026, 11, 23), days=1, now=MONDAY_MORNING
        )
        assert Slot("Dr. Sommer", FIRST_SLOT, FIRST_SLOT + 1800) not in free
        with pytest.raises(SlotTaken):
            Booking(store, SCHEDULE).book(
                patient_id=patient["id"],
                slot=Slot("Dr. Sommer", FIRST_SLOT, FIRST_SLOT + 1800),
                type_code="checkup",
            )
        with db.read() as conn:
            booked = conn.execute(select(audit.c.detail).where(audit.c.action == "bot_booking"))
            assert [json.loads(d)["appointment_id"] for d in booked.scalars()] == [
                appointment["id"]
            ]
            assert len(conn.execute(select(slot_locks)).all()) == 2  # 30 minutes, 15-minute units
    finally:
        db.dispose()
    # A thank-you afterwards gets no more bot messages (it is no new booking wish).
    erika.write("Danke für den Termin!")
    assert clinic.answers_after_handling(erika.wa_id) == 7


def test_two_patients_racing_for_one_slot(clinic: Clinic) -> None:
    erika = Patient(clinic, "4915100000101", "Erika")
    john = Patient(clinic, "447700900123", "John")
    first = book_up_to_the_slot_list(erika, "Termin bitte", "Erika Musterfrau", "24.12.1980")
    second = book_up_to_the_slot_list(john, "I need an appointment", "John Smith", "31/01/1975")
    assert rows(first)[0][0] == rows(second)[0][0] == f"bot-slot:{int(FIRST_SLOT)}:Dr. Sommer"
    assert rows(second)[0][1] == "Mon 23 Nov 10:30"
    taps = [threading.Thread(target=p.tap, args=(0,)) for p in (erika, john)]
    for t in taps:
        t.start()
    for t in taps:
        t.join()
    answers = {p.wa_id: p.receives(7) for p in (erika, john)}
    winners = [w for w, a in answers.items() if a["type"] == "text"]
    assert len(winners) == 1
    (loser,) = set(answers) - set(winners)
    retry = answers[loser]
    taken_text = {"4915100000101": "gerade vergeben", "447700900123": "just taken"}[loser]
    assert taken_text in body(retry)
    assert rows(retry)[0][0] != f"bot-slot:{int(FIRST_SLOT)}:Dr. Sommer"  # new slots offered
    # The loser takes the next one: two appointments, never the same slot.
    Patient(clinic, loser, "x").tap(0)
    assert body(Patient(clinic, loser, "x").receives(8)).startswith(
        ("Ihr Termin ist gebucht", "Your appointment is booked")
    )
    db = Database(clinic.database_url)
    try:
        with db.read() as conn:
            starts = sorted(
                (r.clinician, r.start)
                for r in conn.execute(select(appointments.c.clinician, appointments.c.start))
            )
    finally:
        db.dispose()
    assert len(starts) == 2 and len(set(starts)) == 2 and ("Dr. Sommer", FIRST_SLOT) in starts


def test_staff_stop_the_bot_over_the_api(clinic: Clinic) -> None:
    erika = Patient(clinic, "4915100000101", "Erika")
    erika.write("Guten Tag")
    erika.receives(1)
    conversation_id = clinic.events("conversation")[-1]["id"]
    state = clinic.staff.get(f"/v1/conversations/{conversation_id}/bot").json()
    assert (state["flow"], state["step"], state["language"]) == ("intake", "name", "de")
    r = clinic.staff.post(f"/v1/conversations/{conversation_id}/bot/stop")
    assert r.status_code == 200 and r.json()["flow"] == "stopped", r.text
    erika.write("Erika Musterfrau")
    assert clinic.answers_after_handling(erika.wa_id) == 1
    assert clinic.staff.get(f"/v1/conversations/{conversation_id}/bot").json()["ended_reason"] == (
        "stop_command"
    )
