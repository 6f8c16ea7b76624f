"""Booking by chat against the practice system's FHIR server (a small real HTTP server
here): its free Slot resources are offered, the booked one is written back as a new
Appointment exactly once (conditional create), and a server that is down loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from inbox_app.domain.scheduling import ClinicSchedule
from inbox_app.relay.bots.fhir import FhirSlots
from inbox_app.relay.db import appointments, fhir_bookings
from inbox_app.relay.store import Store
from tests.live_server import LiveServer
from tests.test_bot_intake import (  # noqa: F401  (store: the database fixture)
    BERLIN,
    MONDAY_MORNING,
    Chat,
    bot_settings,
    store,
)


def _at(hour: int, minute: int) -> str:
    return datetime(2026, 11, 23, hour, minute, tzinfo=BERLIN).astimezone(UTC).isoformat()


@dataclass
class FakeFhir:
    """Free slots to serve, and every Appointment the relay posted."""

    slots: list[dict[str, Any]]
    posted: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    down: bool = False
    created: dict[str, str] = field(default_factory=dict)  # identifier → id

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/fhir/Slot")
        async def search(request: Request) -> JSONResponse:
            if self.down:
                return JSONResponse({}, status_code=503)
            assert request.query_params.get("status") == "free"
            return JSONResponse(
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [{"resource": s} for s in self.slots],
                }
            )

        @app.post("/fhir/Appointment")
        async def create(request: Request) -> JSONResponse:
            if self.down:
                return JSONResponse({}, status_code=503)
            body = json.loads(await request.body())
            self.posted.append(body)
            self.headers.append(dict(request.headers))
            key = request.headers["if-none-exist"]
            if key in self.created:  # conditional create: the existing one
                return JSONResponse({**body, "id": self.created[key]}, status_code=200)
            self.created[key] = f"appt-{len(self.created) + 1}"
            return JSONResponse({**body, "id": self.created[key]}, status_code=201)

        return app


def fhir_slot(
    slot_id: str, start: str, end: str, who: str, code: str | None = None
) -> dict[str, Any]:
    slot: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id,
        "schedule": {"reference": f"Schedule/{who}", "display": who},
        "status": "free",
        "start": start,
        "end": end,
    }
    if code:
        slot["serviceType"] = [{"coding": [{"code": code}]}]
    return slot


@pytest.fixture
def fhir() -> Iterator[tuple[FakeFhir, str]]:
    fake = FakeFhir(
        slots=[
            fhir_slot("too-soon", _at(9, 45), _at(10, 15), "Dr. Herbst"),  # inside the lead time
            fhir_slot("s-blood", _at(11, 0), _at(11, 30), "Dr. Herbst", code="bloodtest"),
            fhir_slot("s-1", _at(11, 30), _at(12, 0), "Dr. Herbst", code="checkup"),
            fhir_slot("s-2", _at(14, 0), _at(14, 30), "Dr. Frost"),
            {"resourceType": "Slot", "id": "broken", "status": "free"},  # no schedule: skipped
        ]
    )
    with LiveServer(fake.app()) as server:
        yield fake, server.url + "/fhir"


def test_fhir_slots_are_offered_and_the_booking_is_written_back_once(
    store: Store,  # noqa: F811
    fhir: tuple[FakeFhir, str],
) -> None:
    fake, url = fhir
    chat = Chat(store, bot_settings(fhir_url=url, slot_source="fhir", out_of_hours=False))
    assert sorted(chat.automation.run_due_jobs(chat.now)) == ["fhir_bookings", "fhir_slots"]
    chat.write("Ich möchte einen Termin")
    chat.write("Erika Musterfrau")
    chat.write("24.12.1980")
    chat.tap("bot-ins:private", "Privat", kind="button_reply")
    chat.tap("bot-insurer:0", "Debeka")
    chat.tap("bot-type:checkup", "Vorsorge")
    offered = chat.last_choices()
    # The FHIR server's free slots (of the type, or untyped), after the lead time.
    assert offered == [
        (
            f"bot-slot:{int(datetime.fromisoformat(_at(11, 30)).timestamp())}:Dr. Herbst",
            "Mo 23.11. 11:30",
        ),
        (
            f"bot-slot:{int(datetime.fromisoformat(_at(14, 0)).timestamp())}:Dr. Frost",
            "Mo 23.11. 14:00",
        ),
    ]
    chat.tap(offered[0][0], offered[0][1])
    assert "11:30 Uhr bei Dr. Herbst" in chat.bot_said()[-1]["text"]

    # Down at first: nothing lost, nothing posted twice.
    fake.down = True
    chat.automation.run_due_jobs(chat.now + 60)
    fake.down = False
    chat.automation.run_due_jobs(chat.now + 120)
    chat.automation.run_due_jobs(chat.now + 180)
    (posted,) = fake.posted
    assert posted["resourceType"] == "Appointment" and posted["status"] == "booked"
    assert posted["slot"] == [{"reference": "Slot/s-1"}]
    assert posted["start"] == _at(11, 30).replace("+00:00", "Z")
    assert posted["participant"][0]["actor"] == {"display": "Erika Musterfrau"}
    assert fake.headers[0]["if-none-exist"].startswith("identifier=urn:praxis-inbox:appointment|")
    with store.db.read() as conn:
        external = conn.execute(select(appointments.c.external_id)).scalar_one()
        state = conn.execute(select(fhir_bookings.c.state)).scalar_one()
    # From now on the practice system's appointment: status changes are written back too.
    assert (external, state) == ("fhir|Appointment/appt-1", "done")


def test_a_slot_booked_in_the_inbox_is_not_offered_again(
    store: Store,  # noqa: F811
    fhir: tuple[FakeFhir, str],
) -> None:
    _, url = fhir
    chat = Chat(store, bot_settings(fhir_url=url, slot_source="fhir", out_of_hours=False))
    chat.automation.run_due_jobs(chat.now)
    for wa_id in ("4915100000001", "4915100000002"):
        chat.write("Termin bitte", wa_id=wa_id)
        chat.write("Erika Musterfrau" if wa_id.endswith("1") else "Max Mustermann", wa_id=wa_id)
        chat.write("24.12.1980", wa_id=wa_id)
        chat.tap("bot-ins:statutory", "Gesetzlich", wa_id=wa_id, kind="button_reply")
        chat.tap("bot-insurer:0", "AOK", wa_id=wa_id)
        chat.tap("bot-type:checkup", "Vorsorge", wa_id=wa_id)
        first = chat.last_choices(wa_id)[0]
        chat.tap(*first, wa_id=wa_id)
    # The FHIR server still lists 11:30 as free (it has not heard yet): the inbox knows.
    said = [m["text"] for m in chat.bot_said("4915100000002")]
    assert "14:00 Uhr bei Dr. Frost" in said[-1]


def test_fhir_slots_on_a_holiday_or_closure_are_not_offered(store: Store) -> None:  # noqa: F811
    """The practice system may list slots on a public holiday or during the clinic's
    closure; the clinic's own calendar wins."""
    zone = ZoneInfo("Europe/Berlin")

    def at(day: int, hour: int) -> str:
        return datetime(2026, 12, day, hour, 0, tzinfo=zone).astimezone(UTC).isoformat()

    fake = FakeFhir(
        slots=[
            fhir_slot("xmas", at(25, 10), at(25, 11), "Dr. Herbst"),  # Christmas Day
            fhir_slot("closed", at(28, 10), at(28, 11), "Dr. Herbst"),  # clinic closure
            fhir_slot("open", at(29, 10), at(29, 11), "Dr. Herbst"),
        ]
    )
    data = json.loads((Path(__file__).parents[1] / "resources/demo/schedule.json").read_text())
    data.update(holidays={"country": "DE", "subdivision": "BY"}, closed=["2026-12-28"])
    schedule = ClinicSchedule.from_json(data)
    code = next(iter(schedule.types))
    now = datetime(2026, 12, 20, 9, 0, tzinfo=zone).timestamp()
    with LiveServer(fake.app()) as server:
        source = FhirSlots(server.url + "/fhir")
        assert source.refresh(now, 14) == 3
        with store.db.read() as conn:
            offered = source.free_slots(conn, schedule, type_code=code, now=now, limit=10, busy={})
    days = {datetime.fromtimestamp(o.slot.start, zone).day for o in offered}
    assert days == {29}
