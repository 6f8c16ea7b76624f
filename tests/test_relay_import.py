"""Importing patients and appointments from FHIR R4 bundles and CSV (issue 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.db import Database
from inbox_app.relay.importer import load_fhir, parse_csv, parse_fhir
from inbox_app.relay.patients import Registry
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.store import Store
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login


def patient(
    pid: str,
    family: str,
    given: str,
    phone: str | None = "+49 1510 0000101",
    birth: str = "1970-03-14",
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "birthDate": birth,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": f"MR-{pid}"}],
        "communication": [{"language": {"coding": [{"code": "de-DE"}]}}],
    }
    if phone:
        res["telecom"] = [{"system": "phone", "value": phone}]
    return res


def appointment(
    aid: str, pid: str, start: str = "2026-12-01T09:15:00+01:00", status: str = "booked"
) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": aid,
        "status": status,
        "start": start,
        "end": start.replace("09:15", "09:30"),
        "reasonCode": [{"text": "Vorsorgeuntersuchung"}],
        "participant": [
            {"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"},
            {
                "actor": {"reference": "Practitioner/dr1", "display": "Dr. Sommer"},
                "status": "accepted",
            },
        ],
    }


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def test_bundle_maps_patients_and_appointments_and_reports_bad_entries() -> None:
    data = bundle(
        appointment("a1", "p1"),  # before its patient: still linked
        patient("p1", "Musterfrau", "Erika"),
        patient("p2", "Mustermann", "Max", phone="12"),  # invalid number: kept without it
        {"resourceType": "Patient", "id": "p3", "birthDate": "not-a-date"},
        appointment("a2", "p1", status="entered-in-error"),
        {"resourceType": "Observation", "id": "o1"},
    )
    batch = parse_fhir(data)
    by_id = {p.external_id: p for p in batch.patients}
    erika = by_id["fhir|Patient/p1"]
    assert (
        erika.family_name,
        erika.given_name,
        erika.birth_date,
        erika.wa_id,
        erika.language,
        erika.record_number,
    ) == ("Musterfrau", "Erika", "1970-03-14", "4915100000101", "de", "MR-p1")
    assert by_id["fhir|Patient/p2"].wa_id is None
    (appt,) = batch.appointments
    assert (appt.patient_external_id, appt.clinician, appt.reason, appt.status) == (
        "fhir|Patient/p1",
        "Dr. Sommer",
        "Vorsorgeuntersuchung",
        "booked",
    )
    assert appt.end - appt.start == 15 * 60
    problems = "\n".join(batch.problems)
    assert "entry 2" in problems and "entry 3" in problems and "entry 4" in problems
    assert "entry 5" in problems  # the Observation
    assert "Mustermann" not in problems and "not-a-date" not in problems  # no patient data


def test_importing_twice_changes_nothing_and_changes_are_events(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'relay.db'}")
    try:
        db.create_schema()
        store = Store(db)
        registry = Registry(store)
        batch = parse_fhir(bundle(patient("p1", "Musterfrau", "Erika"), appointment("a1", "p1")))
        first = registry.upsert(batch.patients, batch.appointments)
        seq = store.last_seq()
        again = registry.upsert(batch.patients, batch.appointments)
        assert (first.created, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
        assert store.last_seq() == seq  # no events for an unchanged import
        moved = parse_fhir(
            bundle(
                patient("p1", "Musterfrau", "Erika"),
                appointment("a1", "p1", start="2026-12-02T09:15:00+01:00"),
            )
        )
        third = registry.upsert(moved.patients, moved.appointments)
        assert (third.updated, third.unchanged) == (1, 1)
        events = store.events_after(seq, 10)
        assert [e.type for e in events] == ["appointment"]
        assert json.loads(events[0].data)["start"] == moved.appointments[0].start
        assert [p.given_name for p in registry.patients_for("4915100000101")] == ["Erika"]
    finally:
        db.dispose()


def test_csv_import_with_line_numbers_for_problems() -> None:
    text = (
        "patient_id,family_name,given_name,birth_date,phone,language,appointment_id,start,end,clinician,place,reason,status\n"
        "17,Probe,Leonie,1990-05-01,+4915100000104,de,A1,2026-12-03T10:00:00+01:00,2026-12-03T10:20:00+01:00,Dr. Sommer,Raum 2,Blutabnahme,booked\n"
        "17,Probe,Leonie,1990-05-01,+4915100000104,de,A2,2026-12-10T10:00:00+01:00,2026-12-10T10:20:00+01:00,,,,confirmed\n"
        "18,Beispiel,Jonas,01.02.1985,,,,,,,,,\n"
        "19,Test,Tina,1980-01-01,,,A3,tomorrow,,,,,booked\n"
    )
    batch = parse_csv(text)
    assert [p.external_id for p in batch.patients] == ["csv|17", "csv|19"]
    assert [a.external_id for a in batch.appointments] == ["csv|A1", "csv|A2"]
    assert batch.appointments[1].status == "confirmed"
    assert [p.split(":")[0] for p in batch.problems] == ["line 4", "line 5"]


def test_cli_imports_a_bundle_file_and_a_fhir_server_with_paging(tmp_path: Path) -> None:
    pages = {
        "1": {
            **bundle(patient("p1", "Musterfrau", "Erika")),
            "link": [{"relation": "next", "url": "PAGE2"}],
        },
        "2": bundle(appointment("a1", "p1"), {"resourceType": "Appointment", "id": "bad"}),
    }
    server = FastAPI()

    @server.get("/fhir/Appointment")
    async def search(request: Request) -> dict[str, Any]:
        page = pages[request.query_params.get("page", "1")]
        return json.loads(
            json.dumps(page).replace("PAGE2", str(request.url.include_query_params(page="2")))
        )

    with LiveServer(server) as fhir:
        batch = load_fhir(fhir.url + "/fhir/Appointment?_include=Appointment:patient")
    assert len(batch.patients) == 1 and len(batch.appointments) == 1
    assert batch.problems and batch.problems[0].startswith("page 2 entry 1")

    db = tmp_path / "relay.db"
    source = tmp_path / "bundle.json"
    source.write_text(
        json.dumps(bundle(patient("p1", "Musterfrau", "Erika"), appointment("a1", "p1")))
    )
    env = {**os.environ, "INBOX_DATABASE_URL": f"sqlite:///{db}"}
    cmd = [sys.executable, "-m", "inbox_app.relay.cli", "import", "fhir", str(source)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0 and "2 new" in first.stdout, first.stderr
    assert second.returncode == 0 and "0 new, 0 changed, 2 unchanged" in second.stdout

    settings = RelaySettings(
        app_secret="s",
        verify_token="v",
        access_token="t",
        phone_number_id="1",
        database_url=f"sqlite:///{db}",
        run_outbox=False,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    with LiveServer(create_app(settings)) as relay:
        client = login(relay.url, "anna")
        kinds = [e["type"] for e in client.get("/v1/sync").json()["events"]]
        client.close()
    assert kinds == ["patient", "appointment"]
