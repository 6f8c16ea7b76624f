"""Importing patients and appointments from the practice system: FHIR R4 or CSV.

Problems are reported by position and field, never with the values themselves (they are
patient data), and the rest of the file is imported.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from inbox_app.domain.appointments import FHIR_STATUS, AppointmentStatus
from inbox_app.domain.phone import InvalidPhoneNumber, normalize_msisdn

from .patients import AppointmentIn, PatientIn

MAX_PAGES = 1000


@dataclass(slots=True)
class ImportBatch:
    patients: list[PatientIn] = field(default_factory=list)
    appointments: list[AppointmentIn] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _fields(exc: ValidationError) -> str:
    return ", ".join(
        sorted({".".join(str(p) for p in e["loc"]) or "resource" for e in exc.errors()})
    )


def _phone(value: str | None, where: str, batch: ImportBatch) -> str | None:
    if not value:
        return None
    try:
        return normalize_msisdn(value)
    except InvalidPhoneNumber:
        batch.problems.append(f"{where}: phone number is not valid; imported without it")
        return None


def _patient(res: Patient, where: str, batch: ImportBatch) -> None:
    if not res.id:
        batch.problems.append(f"{where}: Patient without id; skipped")
        return
    names = res.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is None or not (name.family or name.given):
        batch.problems.append(f"{where}: Patient/{res.id} has no name; skipped")
        return
    phone = next(
        (t.value for t in res.telecom or [] if t.system in ("phone", "sms") and t.value),
        None,
    )
    language = None
    for comm in res.communication or []:
        codings = comm.language.coding or [] if comm.language else []
        if codings and codings[0].code:
            language = str(codings[0].code).split("-")[0]
            break
    record = None
    for ident in res.identifier or []:
        codes = [c.code for c in (ident.type.coding or [])] if ident.type else []
        if "MR" in codes and ident.value:
            record = ident.value
    batch.patients.append(
        PatientIn(
            external_id=f"fhir|Patient/{res.id}",
            family_name=name.family or "",
            given_name=" ".join(str(g) for g in name.given or [] if g),
            birth_date=res.birthDate.isoformat() if res.birthDate else None,
            wa_id=_phone(phone, where, batch),
            language=language,
            record_number=record,
        )
    )


def _display(ref: Any) -> str | None:
    return str(ref.display) if ref is not None and ref.display else None


def _appointment(res: Appointment, where: str, batch: ImportBatch) -> None:
    status = FHIR_STATUS.get(str(res.status))
    if not res.id or status is None:
        batch.problems.append(
            f"{where}: Appointment without id or with status {res.status}; skipped"
        )
        return
    if res.start is None or res.end is None:
        batch.problems.append(f"{where}: Appointment/{res.id} has no start or end; skipped")
        return
    patient_ref = clinician = place = None
    for part in res.participant or []:
        ref = part.actor.reference if part.actor and part.actor.reference else ""
        if ref.startswith("Patient/"):
            patient_ref = ref
        elif ref.startswith(("Practitioner/", "PractitionerRole/")):
            clinician = _display(part.actor)
        elif ref.startswith("Location/"):
            place = _display(part.actor)
    if patient_ref is None:
        batch.problems.append(f"{where}: Appointment/{res.id} has no patient; skipped")
        return
    reason = None
    for concept in res.reasonCode or res.serviceType or []:
        reason = concept.text or next((c.display for c in concept.coding or [] if c.display), None)
        if reason:
            break
    batch.appointments.append(
        AppointmentIn(
            external_id=f"fhir|Appointment/{res.id}",
            patient_external_id=f"fhir|{patient_ref}",
            start=res.start.timestamp(),
            end=res.end.timestamp(),
            status=status,
            clinician=clinician,
            place=place,
            reason=reason,
        )
    )


def parse_fhir(data: Any, batch: ImportBatch | None = None, *, origin: str = "") -> ImportBatch:
    """Patients and appointments from a Bundle (or one resource), in document order."""
    batch = batch or ImportBatch()
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        resources = [
            (f"{origin}entry {i}", e.get("resource") if isinstance(e, dict) else None)
            for i, e in enumerate(data.get("entry") or [])
        ]
    else:
        resources = [(f"{origin}resource", data)]
    # Patients first, so an appointment can refer to a patient later in the same bundle.
    for wanted in ("Patient", "Appointment"):
        for where, resource in resources:
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            if kind != wanted:
                continue
            try:
                if kind == "Patient":
                    _patient(Patient.model_validate(resource), where, batch)
                else:
                    _appointment(Appointment.model_validate(resource), where, batch)
            except ValidationError as exc:
                batch.problems.append(f"{where}: invalid {kind} ({_fields(exc)}); skipped")
    for where, resource in resources:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind not in ("Patient", "Appointment"):
            batch.problems.append(f"{where}: {kind or 'not a resource'} is not imported")
    return batch


def load_fhir(source: str, *, client: httpx.Client | None = None) -> ImportBatch:
    """A bundle file, or a FHIR server search URL (all pages, following ``next`` links)."""
    if not source.startswith(("http://", "https://")):
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            return ImportBatch(problems=[f"{source}: not JSON (line {exc.lineno})"])
        return parse_fhir(data)
    batch = ImportBatch()
    own = client is None
    http = client or httpx.Client(timeout=30, headers={"Accept": "application/fhir+json"})
    try:
        url: str | None = source
        for page in range(MAX_PAGES):
            if url is None:
                break
            response = http.get(url)
            response.raise_for_status()
            bundle = response.json()
            parse_fhir(bundle, batch, origin=f"page {page + 1} ")
            url = next(
                (
                    link.get("url")
                    for link in bundle.get("link") or []
                    if link.get("relation") == "next"
                ),
                None,
            )
    finally:
        if own:
            http.close()
    return batch


CSV_COLUMNS = (
    "patient_id family_name given_name birth_date phone language "
    "appointment_id start end clinician place reason status"
).split()


def _time(value: str) -> float:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("time without a zone")
    return moment.timestamp()


def parse_csv(text: str) -> ImportBatch:
    """One row per appointment (or per patient without one); columns as CSV_COLUMNS."""
    batch = ImportBatch()
    reader = csv.DictReader(io.StringIO(text))
    missing = {"patient_id", "family_name", "given_name"} - set(reader.fieldnames or [])
    if missing:
        batch.problems.append("header: missing column(s) " + ", ".join(sorted(missing)))
        return batch
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        where = f"line {line}"
        pid = (row.get("patient_id") or "").strip()
        if not pid or not (row.get("family_name") or row.get("given_name")):
            batch.problems.append(f"{where}: no patient id or name; skipped")
            continue
        birth = (row.get("birth_date") or "").strip() or None
        if birth:
            try:
                birth = datetime.strptime(birth, "%Y-%m-%d").date().isoformat()
            except ValueError:
                batch.problems.append(f"{where}: birth_date is not YYYY-MM-DD; skipped")
                continue
        if pid not in seen:
            seen.add(pid)
            batch.patients.append(
                PatientIn(
                    external_id=f"csv|{pid}",
                    family_name=(row.get("family_name") or "").strip(),
                    given_name=(row.get("given_name") or "").strip(),
                    birth_date=birth,
                    wa_id=_phone((row.get("phone") or "").strip(), where, batch),
                    language=(row.get("language") or "").strip() or None,
                )
            )
        aid = (row.get("appointment_id") or "").strip()
        if not aid:
            continue
        try:
            start, end = _time(row.get("start") or ""), _time(row.get("end") or "")
            status = AppointmentStatus((row.get("status") or "booked").strip())
        except ValueError:
            batch.problems.append(
                f"{where}: start/end (ISO 8601 with zone) or status invalid; appointment skipped"
            )
            continue
        batch.appointments.append(
            AppointmentIn(
                external_id=f"csv|{aid}",
                patient_external_id=f"csv|{pid}",
                start=start,
                end=end,
                status=status,
                clinician=(row.get("clinician") or "").strip() or None,
                place=(row.get("place") or "").strip() or None,
                reason=(row.get("reason") or "").strip() or None,
            )
        )
    return batch
