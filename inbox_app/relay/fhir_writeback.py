"""Writing confirmations and cancellations back to the practice system's FHIR server.

A periodic job follows the ``appointment`` events (from reminder taps, staff, the booking
bot) with its own cursor in ``automation_cursors``; for appointments imported from FHIR
(external id ``fhir|Appointment/<id>``) it reads the resource, sets ``status`` (confirmed:
``booked`` with the patient's participation ``accepted``; cancelled: ``cancelled``) and
PUTs it back with ``If-Match`` on its version. The cursor moves only past what was written
(or needs nothing), so a FHIR server that is down delays write-back but loses nothing; a
resource the server refuses (4xx) is logged and skipped, never retried for ever.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select, update

from inbox_app.domain.appointments import AppointmentStatus

from .automation import Automation
from .db import automation_cursors, events
from .store import Store

log = logging.getLogger("inbox.relay.fhir")

CURSOR = "fhir_writeback"
PREFIX = "fhir|Appointment/"
BATCH = 100

# Our status → FHIR Appointment.status; other changes are not the practice system's news.
FHIR_STATUS = {
    AppointmentStatus.CONFIRMED.value: "booked",
    AppointmentStatus.CANCELLED.value: "cancelled",
}


class Unavailable(Exception):
    """The FHIR server did not answer usefully; try again on the next round."""


def _cursor(store: Store) -> int:
    with store.db.write() as conn:
        last = conn.execute(
            select(automation_cursors.c.last_id).where(automation_cursors.c.name == CURSOR)
        ).scalar()
        if last is None:
            # Start with what happens from now on: history was the practice system's own.
            last = conn.execute(select(func.max(events.c.seq))).scalar() or 0
            conn.execute(automation_cursors.insert().values(name=CURSOR, last_id=last))
        return int(last)


def _move(store: Store, seq: int) -> None:
    with store.db.write() as conn:
        conn.execute(
            update(automation_cursors)
            .where(automation_cursors.c.name == CURSOR)
            .values(last_id=seq)
        )


class FhirWriteback:
    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client  # None: a fresh client per round (nothing left open)

    def write(self, client: httpx.Client, resource_id: str, status: str) -> bool:
        """Set the resource's status; False when the server refused (skipped for good)."""
        url = f"{self.base_url}/Appointment/{resource_id}"
        try:
            got = client.get(url)
            if got.status_code >= 500:
                raise Unavailable(f"GET {got.status_code}")
            if got.status_code >= 400:
                log.warning("FHIR write-back: GET Appointment answered %d", got.status_code)
                return False
            resource: dict[str, Any] = got.json()
            before = json.dumps(resource, sort_keys=True)
            resource["status"] = FHIR_STATUS[status]
            if status == AppointmentStatus.CONFIRMED.value:
                # "booked" alone may predate the patient's answer; their participation says it.
                for part in resource.get("participant") or []:
                    ref = ((part.get("actor") or {}).get("reference")) or ""
                    if ref.startswith("Patient/"):
                        part["status"] = "accepted"
            if json.dumps(resource, sort_keys=True) == before:
                return True  # already so (e.g. the change came from the practice system)
            headers = {"Content-Type": "application/fhir+json"}
            version = (resource.get("meta") or {}).get("versionId")
            if version:
                headers["If-Match"] = f'W/"{version}"'
            put = client.put(url, content=json.dumps(resource), headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(type(exc).__name__) from None
        except ValueError:
            log.warning("FHIR write-back: the server's Appointment is not JSON")
            return False
        if put.status_code in (409, 412) or put.status_code >= 500:
            raise Unavailable(f"PUT {put.status_code}")  # changed meanwhile / down: again later
        if put.status_code >= 400:
            log.warning("FHIR write-back: PUT Appointment answered %d", put.status_code)
            return False
        return True

    def run(self, store: Store) -> int:
        """Write back what changed since the last round; returns how many were written."""
        if self.client is not None:
            return self._run(self.client, store)
        with httpx.Client(timeout=15, headers={"Accept": "application/fhir+json"}) as client:
            return self._run(client, store)

    def _run(self, client: httpx.Client, store: Store) -> int:
        last = _cursor(store)
        with store.db.read() as conn:
            rows = conn.execute(
                select(events.c.seq, events.c.data)
                .where(events.c.seq > last, events.c.type == "appointment")
                .order_by(events.c.seq)
                .limit(BATCH)
            ).all()
        written, done = 0, last
        for row in rows:
            data = json.loads(row.data)
            external = str(data.get("external_id") or "")
            status = str(data.get("status") or "")
            if external.startswith(PREFIX) and status in FHIR_STATUS:
                try:
                    if self.write(client, external[len(PREFIX) :], status):
                        written += 1
                except Unavailable as exc:
                    log.warning("FHIR write-back waits: %s", exc)
                    break
            done = row.seq
        if done != last:
            _move(store, done)
        return written


def register_fhir_writeback(
    automation: Automation,
    base_url: str | None,
    *,
    seconds: float = 30.0,
    client_factory: Callable[[], httpx.Client] | None = None,
) -> None:
    """Only where a FHIR server is configured (INBOX_FHIR_URL or the config file)."""
    if not base_url:
        return
    writer = FhirWriteback(base_url, client=client_factory() if client_factory else None)
    automation.every("fhir_writeback", seconds, lambda store, _now: writer.run(store))
