"""The clinic's patients and appointments on the relay, upserted from imports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select, update

from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus, PatientRecord

from .db import appointments, patients
from .store import Store


@dataclass(frozen=True, slots=True)
class PatientIn:
    external_id: str
    family_name: str
    given_name: str
    birth_date: str | None = None
    wa_id: str | None = None
    language: str | None = None
    record_number: str | None = None


@dataclass(frozen=True, slots=True)
class AppointmentIn:
    external_id: str
    patient_external_id: str
    start: float
    end: float
    status: AppointmentStatus
    clinician: str | None = None
    place: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


def _patient(row: Any) -> PatientRecord:
    m = row._mapping
    return PatientRecord(
        id=m["id"],
        external_id=m["external_id"],
        family_name=m["family_name"],
        given_name=m["given_name"],
        birth_date=m["birth_date"],
        wa_id=m["wa_id"],
        language=m["language"],
        record_number=m["record_number"],
    )


def _appointment(row: Any) -> AppointmentRecord:
    m = row._mapping
    return AppointmentRecord(
        id=m["id"],
        external_id=m["external_id"],
        patient_id=m["patient_id"],
        start=m["start"],
        end=m["end"],
        status=AppointmentStatus(m["status"]),
        clinician=m["clinician"],
        place=m["place"],
        reason=m["reason"],
    )


class Registry:
    """Writes patients and appointments; an unchanged record writes nothing and emits nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def upsert(
        self, new_patients: list[PatientIn], new_appointments: list[AppointmentIn]
    ) -> UpsertCounts:
        counts = UpsertCounts()
        with self.store.db.write() as conn:
            for p in new_patients:
                self._upsert_patient(conn, p, counts)
            for a in new_appointments:
                self._upsert_appointment(conn, a, counts)
        return counts

    @staticmethod
    def _upsert_row(
        conn: Connection,
        table: Table,
        external_id: str,
        values: dict[str, Any],
        counts: UpsertCounts,
    ) -> Any:
        """Insert or update by external id; the row when something changed, else None."""
        row = conn.execute(select(table).where(table.c.external_id == external_id)).one_or_none()
        if row is None:
            result = conn.execute(
                table.insert().values(external_id=external_id, updated_at=time.time(), **values)
            )
            pk = result.inserted_primary_key
            assert pk is not None
            row_id = int(pk[0])
            counts.created += 1
        elif all(row._mapping[k] == v for k, v in values.items()):
            counts.unchanged += 1
            return None
        else:
            row_id = int(row.id)
            conn.execute(
                update(table).where(table.c.id == row_id).values(updated_at=time.time(), **values)
            )
            counts.updated += 1
        return conn.execute(select(table).where(table.c.id == row_id)).one()

    def _upsert_patient(self, conn: Connection, p: PatientIn, counts: UpsertCounts) -> None:
        values = {
            "family_name": p.family_name,
            "given_name": p.given_name,
            "birth_date": p.birth_date,
            "wa_id": p.wa_id,
            "language": p.language,
            "record_number": p.record_number,
        }
        row = self._upsert_row(conn, patients, p.external_id, values, counts)
        if row is not None:
            self.store._append(conn, "patient", int(row.id), _patient(row).to_json())

    def _upsert_appointment(self, conn: Connection, a: AppointmentIn, counts: UpsertCounts) -> None:
        patient_id = conn.execute(
            select(patients.c.id).where(patients.c.external_id == a.patient_external_id)
        ).scalar_one_or_none()
        if patient_id is None:
            counts.problems.append(f"appointment {a.external_id}: unknown patient")
            return
        values = {
            "patient_id": patient_id,
            "start": a.start,
            "end": a.end,
            "status": a.status.value,
            "clinician": a.clinician,
            "place": a.place,
            "reason": a.reason,
        }
        row = self._upsert_row(conn, appointments, a.external_id, values, counts)
        if row is not None:
            self.store._append(conn, "appointment", int(row.id), _appointment(row).to_json())

    def patients_for(self, wa_id: str) -> list[PatientRecord]:
        """Everyone registered under one number (a parent and children share one)."""
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(patients).where(patients.c.wa_id == wa_id).order_by(patients.c.id)
            ).all()
        return [_patient(r) for r in rows]
