"""Confirmations and cancellations are written back to the practice's FHIR server (issue 8),
tested against a tiny FHIR-like server on 127.0.0.1 (real HTTP, versioned resources)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.relay.automation import Automation
from inbox_app.relay.booking import set_status_in
from inbox_app.relay.db import Database
from inbox_app.relay.fhir_writeback import FhirWriteback, register_fhir_writeback
from inbox_app.relay.importer import parse_fhir
from inbox_app.relay.patients import Registry
from inbox_app.relay.store import Store


def _appointment(rid: str, status: str = "booked") -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": rid,
        "meta": {"versionId": "1"},
        "status": status,
        "start": "2026-12-08T09:00:00+01:00",
        "end": "2026-12-08T09:30:00+01:00",
        "participant": [
            {"actor": {"reference": "Patient/p1"}, "status": "needs-action"},
            {
                "actor": {"reference": "Practitioner/d1", "display": "Dr. Sommer"},
                "status": "accepted",
            },
        ],
    }


class FhirServer:
    """Appointment/{id}: GET, and PUT honouring If-Match (412 on a stale version)."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {
            "a1": _appointment("a1"),
            "a2": _appointment("a2"),
        }
        self.puts: list[dict[str, Any]] = []
        self.down = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _resource(self) -> str | None:
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[:2] == ["fhir", "Appointment"]:
                    return parts[2]
                return None

            def do_GET(self) -> None:
                rid = self._resource()
                if server.down:
                    return self._reply(503)
                if rid not in server.resources:
                    return self._reply(404, {"resourceType": "OperationOutcome"})
                return self._reply(200, server.resources[rid])

            def do_PUT(self) -> None:
                rid = self._resource()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                current = server.resources.get(rid or "")
                if server.down or current is None:
                    return self._reply(503)
                if self.headers.get("If-Match") != f'W/"{current["meta"]["versionId"]}"':
                    return self._reply(412)
                version = str(int(current["meta"]["versionId"]) + 1)
                body["meta"] = {"versionId": version}
                server.resources[rid or ""] = body
                server.puts.append(body)
                return self._reply(200, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FhirServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fhir() -> Iterator[FhirServer]:
    with FhirServer() as server:
        yield server


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = Database(db_url)
    db.create_schema()
    store = Store(db)
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p1",
                    "name": [{"family": "Musterfrau", "given": ["Erika"]}],
                    "telecom": [{"system": "phone", "value": "+49 151 00000101"}],
                }
            },
            {"resource": _appointment("a1")},
            {"resource": _appointment("a2")},
        ],
    }
    batch = parse_fhir(bundle)
    assert batch.problems == []
    Registry(store).upsert(batch.patients, batch.appointments)
    yield store
    db.dispose()


def _ids(store: Store) -> dict[str, int]:
    from sqlalchemy import select

    from inbox_app.relay.db import appointments

    with store.db.read() as conn:
        rows = conn.execute(select(appointments.c.id, appointments.c.external_id)).all()
    return {r.external_id.rsplit("/", 1)[1]: r.id for r in rows}


def _set(store: Store, appointment_id: int, status: AppointmentStatus) -> None:
    with store.db.write() as conn:
        set_status_in(store, conn, appointment_id, status)


def test_confirm_and_cancel_are_put_back_as_appointment_status(
    store: Store, fhir: FhirServer
) -> None:
    auto = Automation(store)
    register_fhir_writeback(auto, fhir.url)
    auto.run_due_jobs(0)  # first round: starts following the changes from now on
    ids = _ids(store)
    _set(store, ids["a1"], AppointmentStatus.CONFIRMED)
    _set(store, ids["a2"], AppointmentStatus.CANCELLED)
    auto.run_due_jobs(1000)
    assert fhir.resources["a1"]["status"] == "booked"
    patient = fhir.resources["a1"]["participant"][0]
    assert patient == {"actor": {"reference": "Patient/p1"}, "status": "accepted"}
    assert fhir.resources["a2"]["status"] == "cancelled"
    assert [p["id"] for p in fhir.puts] == ["a1", "a2"]
    # nothing new: nothing written again
    auto.run_due_jobs(2000)
    assert len(fhir.puts) == 2


def test_a_server_that_is_down_delays_but_loses_nothing(store: Store, fhir: FhirServer) -> None:
    writer = FhirWriteback(fhir.url)
    writer.run(store)
    ids = _ids(store)
    fhir.down = True
    _set(store, ids["a2"], AppointmentStatus.CANCELLED)
    assert writer.run(store) == 0
    assert fhir.resources["a2"]["status"] == "booked"
    fhir.down = False
    assert writer.run(store) == 1
    assert fhir.resources["a2"]["status"] == "cancelled"


def test_an_unknown_resource_is_skipped_not_retried_for_ever(
    store: Store, fhir: FhirServer
) -> None:
    writer = FhirWriteback(fhir.url)
    writer.run(store)
    ids = _ids(store)
    del fhir.resources["a1"]  # deleted in the practice system meanwhile
    _set(store, ids["a1"], AppointmentStatus.CANCELLED)
    _set(store, ids["a2"], AppointmentStatus.CONFIRMED)
    assert writer.run(store) == 1
    assert [p["id"] for p in fhir.puts] == ["a2"]
    assert writer.run(store) == 0 and len(fhir.puts) == 1
