"""Synthetic patients, appointments and reminder consents for the demo relay
(``python -m inbox_app.relay.demo_seed``, run by ui/demo.py before the relay starts).

Appointments are placed relative to now (resources/demo/appointments.json), so the relay's
reminders go out as soon as the demo runs; seeding twice changes nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.consent import ConsentPurpose, ConsentSource

from .consent import Consents
from .db import Database, consents
from .patients import AppointmentIn, PatientIn, Registry
from .store import Store

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _patient(entry: dict[str, Any]) -> PatientIn:
    given, _, family = str(entry["name"]).partition(" ")
    # A family member shares the number: its own key keeps the external id unique.
    key = f"|{entry['key']}" if entry.get("key") else ""
    return PatientIn(
        external_id=f"demo|{entry['wa_id']}{key}",
        family_name=family or given,
        given_name=given,
        birth_date=entry.get("date_of_birth"),
        wa_id=entry["wa_id"],
        language=entry.get("language"),
        record_number=entry.get("record_number"),
    )


def seed(database_url: str, *, now: float | None = None, folder: Path = DEMO) -> int:
    """Write the demo data; returns how many appointments were created."""
    now = time.time() if now is None else now
    register = json.loads((folder / "patients.json").read_text(encoding="utf-8"))
    people = register["patients"]
    family = register.get("family_members", [])
    plan = json.loads((folder / "appointments.json").read_text(encoding="utf-8"))
    # Whole five minutes, as a practice system would book them.
    base = now - now % 300
    wanted = []
    for index, item in enumerate(plan["appointments"]):
        start = base + float(item["in_hours"]) * 3600
        wanted.append(
            AppointmentIn(
                external_id=f"demo|appointment-{index + 1}",
                patient_external_id=f"demo|{item['wa_id']}",
                start=start,
                end=start + int(item["minutes"]) * 60,
                status=AppointmentStatus(item.get("status", "booked")),
                clinician=item.get("clinician"),
                place=item.get("place"),
                reason=item.get("reason"),
            )
        )
    db = Database(database_url)
    try:
        db.create_schema()
        store = Store(db)
        registry = Registry(store)
        if registry.patients_for(people[0]["wa_id"]):
            return 0  # seeded before: the demo's times stay as they were
        counts = registry.upsert([_patient(p) for p in people + family], wanted)
        with db.write() as conn:
            for item in plan["appointments"]:
                known = conn.execute(
                    select(consents.c.id).where(consents.c.wa_id == item["wa_id"])
                ).first()
                if item.get("consent") and known is None:
                    Consents(store).record(
                        conn,
                        wa_id=item["wa_id"],
                        purposes=[ConsentPurpose.CARE, ConsentPurpose.REMINDERS],
                        granted=True,
                        source=ConsentSource.FORM,
                        at=now - 30 * 86400,
                    )
        return counts.created - len(people) - len(family)
    finally:
        db.dispose()


def main() -> int:
    url = os.environ.get("INBOX_DATABASE_URL", "")
    if not url or os.environ.get("INBOX_DEMO", "") not in ("1", "true", "yes"):
        print("demo_seed: only for a demo relay (INBOX_DEMO=1, INBOX_DATABASE_URL)")
        return 2
    created = seed(url)
    print(f"demo_seed: {created} appointments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
