"""Reminders through the real relay and the simulator (issue 8): the template with
Confirm / Reschedule / Cancel arrives, the taps come back as webhooks and change the
appointment, quiet hours and the catch-up limit hold, a restart sends nothing twice."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.domain.roles import Role
from inbox_app.relay.app import Relay, create_app
from inbox_app.relay.auth import UserExists
from inbox_app.relay.booking import Booking
from inbox_app.relay.consent import Consents
from inbox_app.relay.db import appointments, reminders, slot_locks
from inbox_app.relay.patients import AppointmentIn, PatientIn, Registry
from inbox_app.relay.reminder_config import ReminderConfig, parse
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.templates import TemplateCache
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from inbox_app.whatsapp.simulator.templates_api import default_templates
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer, free_port
from tests.test_relay_api import add_user, login

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE_FILE = ROOT / "resources/demo/schedule.json"
BERLIN = ZoneInfo("Europe/Berlin")
ERIKA = "4915100000101"
ALEX = "4915100000108"
# Every appointment in the next two weeks is due for exactly one reminder now.
ANY_TIME = {
    "hours_before": [336],
    "catch_up_hours": 336,
    "quiet_hours": None,
    "schedule": str(SCHEDULE_FILE),
}


@pytest.fixture(autouse=True)
def _waba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_WABA_ID", "102290129340398")  # the simulator's default


@dataclass
class Clinic:
    relay_server: LiveServer
    sim: LiveServer
    relay: Relay
    staff: httpx.Client
    settings: RelaySettings

    # -- the practice's data ---------------------------------------------------------
    def patient(self, wa_id: str = ERIKA, given: str = "Erika", language: str = "de") -> int:
        Registry(self.relay.store).upsert(
            [PatientIn(f"t|{wa_id}", "Beispiel", given, wa_id=wa_id, language=language)], []
        )
        return int(Registry(self.relay.store).patients_for(wa_id)[0].id)

    def consent(self, wa_id: str = ERIKA, granted: bool = True) -> None:
        with self.relay.db.write() as conn:
            Consents(self.relay.store).record(
                conn,
                wa_id=wa_id,
                purposes=[ConsentPurpose.REMINDERS],
                granted=granted,
                source=ConsentSource.FORM,
            )

    def appointment(
        self, start: float, wa_id: str = ERIKA, minutes: int = 30, reason: str = "Vorsorge"
    ) -> int:
        ext = f"t|a-{uuid.uuid4().hex[:8]}"
        Registry(self.relay.store).upsert(
            [],
            [
                AppointmentIn(
                    ext,
                    f"t|{wa_id}",
                    start,
                    start + minutes * 60,
                    AppointmentStatus.BOOKED,
                    clinician="Dr. Sommer",
                    reason=reason,
                )
            ],
        )
        with self.relay.db.read() as conn:
            return int(
                conn.execute(
                    select(appointments.c.id).where(appointments.c.external_id == ext)
                ).scalar_one()
            )

    def status_of(self, appointment_id: int) -> str:
        with self.relay.db.read() as conn:
            return str(
                conn.execute(
                    select(appointments.c.status).where(appointments.c.id == appointment_id)
                ).scalar_one()
            )

    # -- the relay's clock jobs and handlers, driven by hand ---------------------------
    def run_jobs(self, now: float | None = None) -> None:
        for job in self.relay.automation._jobs:
            job.next_at = 0.0  # each call is a new round of the clock
        self.relay.automation.run_due_jobs(time.time() if now is None else now)

    def handle_inbound(self) -> None:
        self.relay.automation.process_inbound()

    # -- the patient's phone -----------------------------------------------------------
    def sent(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = httpx.get(self.sim.url + "/_sim/sent").json()["messages"]
        return messages

    def wait_sent(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.sent() if wanted(m)]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, self.sent()
            time.sleep(0.05)

    def write(self, text: str, wa_id: str = ERIKA) -> None:
        """The patient writes a text message (through the simulator's webhook)."""
        r = httpx.post(
            self.sim.url + "/_sim/inbound",
            json={"from": wa_id, "name": "Erika Beispiel", "type": "text", "text": text},
        )
        assert r.status_code == 200 and r.json()["status"] == 200, r.text
        self.handle_inbound()

    def tap(self, index: int, wa_id: str = ERIKA, kind: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"from": wa_id, "name": "Erika Beispiel", "index": index}
        if kind:
            body["kind"] = kind
        r = httpx.post(self.sim.url + "/_sim/tap", json=body)
        assert r.status_code == 200 and r.json()["status"] == 200, r.text
        self.handle_inbound()
        result: dict[str, Any] = r.json()
        return result

    def events(self, kind: str) -> list[dict[str, Any]]:
        got = self.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        return [e["data"] for e in got if e["type"] == kind]


def _wait_for_templates(relay: Relay) -> None:
    cache = TemplateCache(relay.db)
    deadline = time.monotonic() + 15
    while not any(t.name == "appointment_reminder_actions" for t in cache.approved()):
        assert time.monotonic() < deadline, "templates never synced"
        time.sleep(0.05)


def start_clinic(
    relay_settings: RelaySettings,
    config: ReminderConfig,
    *,
    run_outbox: bool = True,
    scenario: Path | None = None,
) -> Generator[Clinic, None, None]:
    """A relay (automation driven by hand) and a simulator that both know each other."""
    relay_port, sim_port = free_port(), free_port()
    settings = replace(
        relay_settings,
        graph_url=f"http://127.0.0.1:{sim_port}",
        graph_timeout=1.0,
        run_automation=False,
        run_outbox=run_outbox,
        reminders=config,
    )
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
        scenario=scenario,
    )
    try:
        add_user(settings, "anna", Role.RECEPTIONIST)
    except UserExists:
        pass  # a restarted clinic (same database)
    app = create_app(settings)
    with (
        LiveServer(app, port=relay_port) as relay_server,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        relay: Relay = app.state.relay
        if run_outbox:
            _wait_for_templates(relay)
        else:  # no Graph client, so no template sync: the WABA's templates as synced before
            TemplateCache(relay.db).replace_from_graph(default_templates())
        staff = login(relay_server.url, "anna")
        try:
            yield Clinic(relay_server, sim, relay, staff, settings)
        finally:
            staff.close()


@pytest.fixture
def clinic(relay_settings: RelaySettings) -> Iterator[Clinic]:
    yield from start_clinic(relay_settings, parse(ANY_TIME))


def reminder_of(message: dict[str, Any]) -> bool:
    return bool(
        message["type"] == "template"
        and message["payload"]["template"]["name"] == "appointment_reminder_actions"
    )


def texts_to(clinic: Clinic, wa_id: str = ERIKA) -> list[str]:
    return [
        m["payload"]["text"]["body"]
        for m in clinic.sent()
        if m["wa_id"] == wa_id and m["type"] == "text"
    ]


def wait_text(clinic: Clinic, part: str, wa_id: str = ERIKA) -> str:
    found = clinic.wait_sent(
        lambda m: (
            m["wa_id"] == wa_id and m["type"] == "text" and part in m["payload"]["text"]["body"]
        )
    )
    return str(found["payload"]["text"]["body"])


def test_reminder_template_with_buttons_reaches_the_patient_and_confirm_confirms(
    clinic: Clinic,
) -> None:
    clinic.patient()
    clinic.consent()
    start = time.time() + 47 * 3600
    appointment_id = clinic.appointment(start)
    clinic.run_jobs()
    sent = clinic.wait_sent(reminder_of)
    template = sent["payload"]["template"]
    assert sent["wa_id"] == ERIKA and template["language"] == {"code": "de"}
    body = next(c for c in template["components"] if c["type"] == "body")
    local = datetime.fromtimestamp(start, BERLIN)
    assert [p["text"] for p in body["parameters"]] == [
        "Erika",
        f"{('Mo.', 'Di.', 'Mi.', 'Do.', 'Fr.', 'Sa.', 'So.')[local.weekday()]} {local:%d.%m.%Y}",
        f"{local:%H:%M}",
    ]
    buttons = [c for c in template["components"] if c["type"] == "button"]
    assert [(b["sub_type"], b["parameters"][0]["payload"]) for b in buttons] == [
        ("quick_reply", f"appt:{appointment_id}:{action}:{int(start)}")
        for action in ("confirm", "reschedule", "cancel")
    ]
    # the patient taps "Bestätigen": the webhook carries the payload back
    assert clinic.tap(0)["reply_id"] == f"appt:{appointment_id}:confirm:{int(start)}"
    assert clinic.status_of(appointment_id) == "confirmed"
    assert "ist bestätigt" in wait_text(clinic, "bestätigt")
    # the patient panel learns it from the feed; the thread shows tap and answer
    assert clinic.events("appointment")[-1]["status"] == "confirmed"
    thread = [e for e in clinic.events("message") if e.get("conversation_id")]
    assert any(m["direction"] == "in" and m["text"] == "Bestätigen" for m in thread)
    # the reminder is a message in the thread too, marked as automated
    assert any(m["type"] == "template" and m["direction"] == "out" for m in thread)


def test_cancel_frees_the_slot_and_a_stale_tap_is_answered_politely(
    clinic: Clinic,
) -> None:
    patient_id = clinic.patient()
    clinic.consent()
    schedule = clinic.settings.reminders.schedule  # type: ignore[union-attr]
    assert schedule is not None
    booking = Booking(clinic.relay.store, schedule)
    today = datetime.now(BERLIN).date()
    slot = booking.free_slots(type_code="checkup", first_day=today, days=10, limit=1)[0]
    booked = booking.book(patient_id=patient_id, slot=slot, type_code="checkup")
    clinic.run_jobs()
    clinic.wait_sent(reminder_of)
    clinic.tap(2)  # "Absagen"
    assert clinic.status_of(booked.id) == "cancelled"
    assert "abgesagt" in wait_text(clinic, "abgesagt")
    with clinic.relay.db.read() as conn:
        assert conn.execute(select(slot_locks)).all() == []
    # the same time can be booked again …
    again = booking.book(patient_id=patient_id, slot=slot, type_code="checkup")
    assert again.start == slot.start
    # … and a late tap on the old reminder changes nothing
    clinic.tap(0)
    assert clinic.status_of(booked.id) == "cancelled"
    assert "nicht mehr aktuell" in wait_text(clinic, "nicht mehr aktuell")


def test_reschedule_offers_free_slots_and_books_the_chosen_one(clinic: Clinic) -> None:
    clinic.patient(ALEX, "Alex", "en")
    clinic.consent(ALEX)
    old_id = clinic.appointment(time.time() + 30 * 3600, wa_id=ALEX, reason="Check-up")
    clinic.run_jobs()
    reminder = clinic.wait_sent(lambda m: reminder_of(m) and m["wa_id"] == ALEX)
    assert reminder["payload"]["template"]["language"] == {"code": "en"}
    clinic.tap(1, ALEX)  # "Reschedule"
    offered = clinic.wait_sent(lambda m: m["type"] == "interactive" and m["wa_id"] == ALEX)
    listing = offered["payload"]["interactive"]
    assert listing["type"] == "list" and listing["body"]["text"].startswith("Which time")
    rows = listing["action"]["sections"][0]["rows"]
    assert 1 <= len(rows) <= 10 and all(r["id"].startswith(f"slot:{old_id}:") for r in rows)
    chosen = float(rows[0]["id"].split(":")[2])
    clinic.tap(0, ALEX, kind="list_reply")
    assert "Your new appointment" in wait_text(clinic, "new appointment", ALEX)
    assert clinic.status_of(old_id) == "cancelled"
    changes = clinic.events("appointment")
    new = changes[-2] if changes[-1]["id"] == old_id else changes[-1]
    assert new["start"] == chosen and new["status"] == "confirmed" and new["id"] != old_id
    assert new["end"] - new["start"] == 30 * 60  # a check-up's length (schedule.json)
    # choosing a second row of the same (now outdated) list books nothing more
    clinic.tap(1, ALEX, kind="list_reply")
    assert "no longer current" in wait_text(clinic, "no longer current", ALEX)
    with clinic.relay.db.read() as conn:
        active = conn.execute(
            select(appointments.c.id).where(appointments.c.status == "confirmed")
        ).all()
    assert len(active) == 1


def test_a_tap_for_someone_elses_appointment_changes_nothing(clinic: Clinic) -> None:
    from tests.webhooks import envelope, signed

    clinic.patient()
    clinic.patient(ALEX, "Alex", "en")
    start = time.time() + 40 * 3600
    erikas = clinic.appointment(start)
    forged = envelope(
        {
            "contacts": [{"profile": {"name": "Alex"}, "wa_id": ALEX}],
            "messages": [
                {
                    "from": ALEX,
                    "id": f"wamid.{uuid.uuid4().hex}",
                    "timestamp": str(int(time.time())),
                    "type": "button",
                    "button": {"payload": f"appt:{erikas}:cancel:{int(start)}", "text": "Cancel"},
                }
            ],
        }
    )
    body, headers = signed(forged)
    assert httpx.post(
        clinic.relay_server.url + "/webhook", content=body, headers=headers
    ).is_success
    clinic.handle_inbound()
    assert clinic.status_of(erikas) == "booked"
    assert "no longer current" in wait_text(clinic, "no longer current", ALEX)


def test_quiet_hours_and_the_catch_up_limit(relay_settings: RelaySettings) -> None:
    now = time.time()
    local = datetime.fromtimestamp(now, BERLIN)
    # quiet from an hour ago until in an hour (Berlin time), whatever time the test runs
    quiet = f"{(local.hour - 1) % 24:02d}:00-{(local.hour + 2) % 24:02d}:00"
    config = parse({"quiet_hours": quiet, "schedule": str(SCHEDULE_FILE)})
    gen = start_clinic(relay_settings, config)
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.consent()
        soon = clinic.appointment(now + 47.5 * 3600)  # its 48-h reminder was due 30 min ago
        late = clinic.appointment(now + 17 * 3600)  # its 24-h reminder was due 7 h ago
        clinic.run_jobs(now)
        time.sleep(0.5)
        assert [m for m in clinic.sent() if reminder_of(m)] == []
        with clinic.relay.db.read() as conn:
            assert conn.execute(select(reminders)).all() == []  # deferred, not skipped
    finally:
        gen.close()
    # the quiet time is over (here: a relay restarted without it): the due reminder goes
    # out, the one due 7 hours ago is beyond the 6-hour catch-up and stays unsent
    config = parse({"quiet_hours": None, "schedule": str(SCHEDULE_FILE)})
    gen = start_clinic(relay_settings, config)
    clinic = next(gen)
    try:
        clinic.run_jobs(now)
        clinic.wait_sent(reminder_of)
        time.sleep(0.3)
        with clinic.relay.db.read() as conn:
            handled = conn.execute(select(reminders.c.appointment_id, reminders.c.state)).all()
        assert [tuple(r) for r in handled] == [(soon, "sent")]  # 'late' was beyond 6 h
        assert late != soon and len([m for m in clinic.sent() if reminder_of(m)]) == 1
    finally:
        gen.close()


def test_a_restarted_relay_sends_no_reminder_twice(relay_settings: RelaySettings) -> None:
    config = parse(ANY_TIME)
    gen = start_clinic(relay_settings, config)
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.consent()
        clinic.appointment(time.time() + 30 * 3600)
        clinic.run_jobs()
        clinic.wait_sent(reminder_of)
    finally:
        gen.close()
    gen = start_clinic(relay_settings, config)
    clinic = next(gen)
    try:
        clinic.run_jobs()
        clinic.run_jobs(time.time() + 60)
        time.sleep(1.5)  # the outbox polls every second
        assert clinic.sent() == []
    finally:
        gen.close()


def test_no_reminder_without_consent(clinic: Clinic) -> None:
    clinic.patient()
    appointment_id = clinic.appointment(time.time() + 30 * 3600)
    clinic.run_jobs()
    with clinic.relay.db.read() as conn:
        row = conn.execute(select(reminders.c.state, reminders.c.reason)).one()
    assert tuple(row) == ("skipped", "no consent for reminders")
    time.sleep(1.2)
    assert clinic.sent() == [] and clinic.status_of(appointment_id) == "booked"


def test_the_demo_scenario_taps_the_reminder_actually_sent(
    relay_settings: RelaySettings, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps(
            {
                "patients": [{"wa_id": ERIKA, "name": "Erika Beispiel", "language": "de"}],
                "script": [
                    {"after": 0, "from": ERIKA, "text": "Guten Morgen"},
                    {"after": 0.5, "from": ERIKA, "tap": 2, "tap_kind": "button"},
                ],
            }
        ),
        encoding="utf-8",
    )
    gen = start_clinic(relay_settings, parse(ANY_TIME), scenario=scenario)
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.consent()
        appointment_id = clinic.appointment(time.time() + 30 * 3600)
        time.sleep(1.0)  # the tap is waiting: nothing to tap before the reminder
        clinic.run_jobs()
        clinic.wait_sent(reminder_of)
        deadline = time.monotonic() + 15
        while clinic.status_of(appointment_id) != "cancelled":
            assert time.monotonic() < deadline
            clinic.handle_inbound()
            time.sleep(0.1)
        assert "abgesagt" in wait_text(clinic, "abgesagt")
    finally:
        gen.close()
