"""The practice system's FHIR server for booking by chat: free ``Slot`` resources as the
slots the bot offers (INBOX_SLOT_SOURCE=fhir), and every appointment the bot books written
there as a new ``Appointment`` (wherever INBOX_FHIR_URL is set).

No network call happens inside the automation's write transaction: a periodic job keeps
the free slots in memory, and another job posts new appointments from ``fhir_bookings``
(filled in the booking's own transaction). The post is a conditional create on our
identifier, so a retry after a lost answer never creates a second appointment; once
created, the appointment's external id becomes ``fhir|Appointment/<id>`` and the status
write-back (fhir_writeback.py) follows its confirmations and cancellations.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fhir.resources.R4B.slot import Slot as FhirSlotResource
from pydantic import ValidationError
from sqlalchemy import Connection, select, update

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.scheduling import ClinicSchedule, Slot

from ..db import appointments, fhir_bookings, patients
from ..patients import _appointment
from ..store import Store

log = logging.getLogger("inbox.relay.bots.fhir")

IDENTIFIER_SYSTEM = "urn:praxis-inbox:appointment"
MAX_PAGES = 20
MAX_ATTEMPTS = 20  # then the booking stays in the inbox only, and the log says so


@dataclass(frozen=True, slots=True)
class OfferedSlot:
    slot: Slot
    reference: str | None  # "Slot/<id>" when it came from the FHIR server
    codes: frozenset[str] = frozenset()


def _client() -> httpx.Client:
    return httpx.Client(timeout=15, headers={"Accept": "application/fhir+json"})


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def parse_slots(bundle: dict[str, Any]) -> tuple[list[OfferedSlot], int]:
    """The free slots of a searchset bundle, and how many entries were unusable."""
    found, bad = [], 0
    for entry in bundle.get("entry") or []:
        raw = (entry or {}).get("resource") or {}
        if raw.get("resourceType") != "Slot":
            continue  # e.g. an OperationOutcome in the bundle
        try:
            res = FhirSlotResource.model_validate(raw)
        except ValidationError:
            bad += 1
            continue
        if res.status != "free" or res.start is None or res.end is None:
            continue
        clinician = res.schedule.display or res.schedule.reference or "?"
        codes = {
            coding.code.casefold()
            for concept in [*(res.serviceType or []), res.appointmentType]
            if concept is not None
            for coding in concept.coding or []
            if coding.code
        }
        found.append(
            OfferedSlot(
                Slot(str(clinician), res.start.timestamp(), res.end.timestamp()),
                f"Slot/{res.id}" if res.id else None,
                frozenset(codes),
            )
        )
    return found, bad


class FhirSlots:
    """Free FHIR slots, refreshed by a job; the bot reads the latest copy."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client  # None: a fresh client per round (nothing left open)
        self._lock = threading.Lock()
        self._slots: list[OfferedSlot] = []
        self.refreshed_at: float | None = None

    def refresh(self, now: float, days: int) -> int:
        """Fetch the free slots of the next ``days`` days; keeps the old copy on failure."""
        if self.client is not None:
            return self._refresh(self.client, now, days)
        with _client() as client:
            return self._refresh(client, now, days)

    def _refresh(self, client: httpx.Client, now: float, days: int) -> int:
        url: str | None = f"{self.base_url}/Slot"
        params: dict[str, Any] | None = {
            "status": "free",
            "start": [f"ge{_iso(now)}", f"lt{_iso(now + days * 86400)}"],
            "_count": 200,
        }
        slots: list[OfferedSlot] = []
        try:
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                answer = client.get(url, params=params)
                answer.raise_for_status()
                bundle = answer.json()
                page, bad = parse_slots(bundle)
                if bad:
                    log.warning("FHIR slots: %d unusable Slot resources skipped", bad)
                slots.extend(page)
                url = next(
                    (
                        link.get("url")
                        for link in bundle.get("link") or []
                        if link.get("relation") == "next"
                    ),
                    None,
                )
                params = None  # the next link carries the search
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("FHIR slots not refreshed: %s", type(exc).__name__)
            return -1
        with self._lock:
            self._slots = sorted(slots, key=lambda s: (s.slot.start, s.slot.clinician))
            self.refreshed_at = now
        return len(slots)

    def free_slots(
        self,
        conn: Connection,
        schedule: ClinicSchedule,
        *,
        type_code: str,
        now: float,
        limit: int,
        busy: dict[str, list[tuple[float, float]]],
    ) -> list[OfferedSlot]:
        """Slots long enough for the type (and of its kind, when the slot names one) that
        no appointment in the inbox overlaps yet (FHIR may not know our newest bookings)."""
        kind = schedule.types[type_code]
        names = {type_code.casefold(), kind.label_de.casefold(), kind.label_en.casefold()}
        with self._lock:
            cached = list(self._slots)
        earliest = now + schedule.lead_minutes * 60
        zone = ZoneInfo(schedule.timezone)
        offered = []
        for item in cached:
            start = item.slot.start
            end = start + kind.minutes * 60
            if start < earliest or end > item.slot.end:
                continue
            # The practice system may not know our holidays and closures: they win.
            if schedule.is_closed_day(datetime.fromtimestamp(start, zone).date()):
                continue
            if item.codes and not item.codes & names:
                continue
            taken = busy.get(item.slot.clinician, [])
            if any(end > b0 and start < b1 for b0, b1 in taken):
                continue
            offered.append(OfferedSlot(Slot(item.slot.clinician, start, end), item.reference))
            if len(offered) >= limit:
                break
        return offered


def queue_booking(
    conn: Connection, appointment_id: int, slot_reference: str | None, now: float
) -> None:
    """Remember, in the booking's transaction, that the FHIR server must hear of it."""
    conn.execute(
        fhir_bookings.insert().values(
            appointment_id=appointment_id,
            slot_reference=slot_reference,
            state="pending",
            attempts=0,
            updated_at=now,
        )
    )


class FhirBookingWriter:
    """Creates the FHIR Appointment of each booking by chat (conditional create)."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client  # None: a fresh client per round (nothing left open)

    def run(self, store: Store, now: float) -> int:
        if self.client is not None:
            return self._run(self.client, store, now)
        with _client() as client:
            return self._run(client, store, now)

    def _run(self, client: httpx.Client, store: Store, now: float) -> int:
        with store.db.read() as conn:
            pending = conn.execute(
                select(
                    fhir_bookings.c.appointment_id,
                    fhir_bookings.c.slot_reference,
                    fhir_bookings.c.attempts,
                    appointments.c.external_id,
                    appointments.c.start,
                    appointments.c.end,
                    appointments.c.clinician,
                    appointments.c.reason,
                    appointments.c.status,
                    patients.c.external_id.label("patient_external_id"),
                    patients.c.given_name,
                    patients.c.family_name,
                )
                .join(appointments, appointments.c.id == fhir_bookings.c.appointment_id)
                .join(patients, patients.c.id == appointments.c.patient_id)
                .where(fhir_bookings.c.state == "pending")
                .order_by(fhir_bookings.c.appointment_id)
                .limit(50)
            ).all()
        written = 0
        for row in pending:
            try:
                fhir_id = self._create(client, row)
            except _Later as exc:
                log.warning("FHIR booking write waits: %s", exc)
                self._mark(store, row.appointment_id, now, attempts=row.attempts + 1)
                break  # the server is unwell: the next round tries again
            except _Refused as exc:
                log.warning("FHIR refused appointment %d: %s", row.appointment_id, exc)
                self._mark(store, row.appointment_id, now, state="failed")
                continue
            self._mark(store, row.appointment_id, now, state="done", fhir_id=fhir_id)
            written += 1
        return written

    def _create(self, client: httpx.Client, row: Any) -> str:
        patient: dict[str, Any] = {"display": f"{row.given_name} {row.family_name}"}
        if str(row.patient_external_id).startswith("fhir|Patient/"):
            patient["reference"] = str(row.patient_external_id).removeprefix("fhir|")
        resource: dict[str, Any] = {
            "resourceType": "Appointment",
            "identifier": [{"system": IDENTIFIER_SYSTEM, "value": row.external_id}],
            "status": "cancelled" if row.status == AppointmentStatus.CANCELLED.value else "booked",
            "description": row.reason,
            "start": _iso(row.start),
            "end": _iso(row.end),
            "participant": [
                {"actor": patient, "status": "accepted"},
                {"actor": {"display": row.clinician}, "status": "accepted"},
            ],
        }
        if row.slot_reference:
            resource["slot"] = [{"reference": row.slot_reference}]
        try:
            answer = client.post(
                f"{self.base_url}/Appointment",
                json=resource,
                headers={
                    "Content-Type": "application/fhir+json",
                    # Conditional create: a retry finds the first one instead of a twin.
                    "If-None-Exist": f"identifier={IDENTIFIER_SYSTEM}|{row.external_id}",
                },
            )
        except httpx.HTTPError as exc:
            raise _Later(type(exc).__name__) from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise _Later(f"POST {answer.status_code}")
        if answer.status_code >= 400:
            raise _Refused(f"POST {answer.status_code}")
        fhir_id = _created_id(answer)
        if fhir_id is None:
            raise _Refused("no id in the answer")
        return fhir_id

    @staticmethod
    def _mark(
        store: Store,
        appointment_id: int,
        now: float,
        *,
        state: str | None = None,
        attempts: int | None = None,
        fhir_id: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": now}
        if attempts is not None:
            values["attempts"] = attempts
            if attempts >= MAX_ATTEMPTS:
                values["state"] = "failed"
        if state is not None:
            values["state"] = state
        with store.db.write() as conn:
            conn.execute(
                update(fhir_bookings)
                .where(fhir_bookings.c.appointment_id == appointment_id)
                .values(**values)
            )
            if fhir_id is not None:
                # From now on it is the practice system's appointment (status write-back).
                conn.execute(
                    update(appointments)
                    .where(appointments.c.id == appointment_id)
                    .values(external_id=f"fhir|Appointment/{fhir_id}")
                )
                row = conn.execute(
                    select(appointments).where(appointments.c.id == appointment_id)
                ).one()
                store._append(conn, "appointment", appointment_id, _appointment(row).to_json())


class _Later(Exception):
    pass


class _Refused(Exception):
    pass


def _created_id(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("id"):
        return str(body["id"])
    location = answer.headers.get("location") or answer.headers.get("content-location") or ""
    # .../Appointment/<id>/_history/<version>
    parts = location.split("/")
    if "Appointment" in parts and parts.index("Appointment") + 1 < len(parts):
        return parts[parts.index("Appointment") + 1]
    return None
