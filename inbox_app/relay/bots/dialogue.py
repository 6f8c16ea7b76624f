"""One turn of a bot dialogue: the message being answered, the conversation's bot state,
and how the bot answers (automated sends, idempotent per inbound message), plus the
hand-over to staff that ends every dialogue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from inbox_app.domain.appointments import AppointmentRecord

from ..automation import Context, Inbound
from ..outgoing import (
    BUTTON_TITLE_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
    ListRow,
    ListSection,
    ReplyButton,
    SendBody,
    prepare,
)
from . import handover
from .config import BotSettings
from .fhir import FhirSlots
from .state import HANDED_OVER, BotState
from .texts import REASONS, say

PURPOSE = "bot"
LANGUAGE_BUTTON = "bot-lang:"


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(slots=True)
class Turn:
    ctx: Context
    msg: Inbound
    state: BotState
    settings: BotSettings
    wa_id: str
    slots: FhirSlots | None = None  # where free slots come from when not the schedule
    sent: int = 0

    @property
    def lang(self) -> str:
        return self.state.language

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    def say(self, key: str, **values: Any) -> str:
        return say(self.lang, key, **values)

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.schedule.timezone if self.settings.schedule else "UTC")

    def today(self) -> date:
        return datetime.fromtimestamp(self.ctx.now, self.zone()).date()

    def tries(self) -> int:
        """Counts failed answers to the current question (reset when the step moves on)."""
        count = int(self.data.get("tries", 0)) + 1
        self.data["tries"] = count
        return count

    def move(self, step: str) -> None:
        self.state.step = step
        self.data.pop("tries", None)

    # -- sending (each send keyed by the inbound message: never twice) ------------------
    def _send(
        self, *, text: str, type: str = "text", details: dict[str, Any] | None = None
    ) -> None:
        key = f"bot:{self.msg.message_id}:{self.sent}"
        self.sent += 1
        self.ctx.send(
            self.msg.conversation_id,
            purpose=PURPOSE,
            text=text,
            type=type,
            details=details,
            key=key,
        )

    def greet(self, key: str) -> None:
        """The first message, with one button to switch to the other language."""
        other = "en" if self.lang == "de" else "de"
        self.buttons(self.say(key), [(f"{LANGUAGE_BUTTON}{other}", self.say("other_language"))])

    def text(self, body: str) -> None:
        self._send(text=body)

    def choices(self, body: str, button: str, rows: list[tuple[str, str, str | None]]) -> None:
        """An interactive list (at most 10 rows; titles are shortened to WhatsApp's limits)."""
        prepared = prepare(
            SendBody(
                client_id=uuid.uuid4(),
                type="list",
                text=body,
                button_text=_fit(button, 20),
                sections=[
                    ListSection(
                        rows=[
                            ListRow(
                                id=row_id,
                                title=_fit(title, ROW_TITLE_MAX),
                                description=_fit(desc, ROW_DESCRIPTION_MAX) if desc else None,
                            )
                            for row_id, title, desc in rows[:10]
                        ]
                    )
                ],
            )
        )
        self._send(text=prepared.text or body, type=prepared.type, details=prepared.details)

    def buttons(self, body: str, buttons: list[tuple[str, str]]) -> None:
        prepared = prepare(
            SendBody(
                client_id=uuid.uuid4(),
                type="buttons",
                text=body,
                buttons=[
                    ReplyButton(id=b_id, title=_fit(title, BUTTON_TITLE_MAX))
                    for b_id, title in buttons[:3]
                ],
            )
        )
        self._send(text=prepared.text or body, type=prepared.type, details=prepared.details)


_SUMMARY = {
    "title": "Aufnahme durch den Praxis-Bot",
    "name": "Name",
    "dob": "Geburtsdatum",
    "reason": "Anliegen",
    "insurance": "Versicherung",
    "appointment": "Termin gebucht",
    "patient": "Patient",
    "matched": "erkannt",
    "new": "NEU, nicht geprüft",
    "language": "Sprache",
    "missing": "nicht angegeben",
    "statutory": "gesetzlich",
    "private": "privat",
}


def finish(
    turn: Turn, *, booked: AppointmentRecord | None = None, tell_patient: bool = True
) -> None:
    """Hand the conversation to staff: match or register the patient, write a summary
    note, label the conversation ``intake-done``, audit it, and thank the patient."""
    ctx, data = turn.ctx, turn.data
    patient_id = data.get("patient_id")
    created = bool(data.get("patient_created"))
    if patient_id is None and data.get("name") and data.get("dob"):
        found = handover.match_or_create(
            ctx.store,
            ctx.conn,
            wa_id=turn.wa_id,
            name=data["name"],
            birth_date=data["dob"],
            language=turn.lang,
            now=ctx.now,
        )
        patient_id, created = found.patient_id, found.created
        data["patient_id"], data["patient_created"] = patient_id, created
    s = _SUMMARY
    lines = [s["title"]]
    lines.append(f"{s['name']}: {data.get('name') or s['missing']}")
    dob = data.get("dob")
    lines.append(
        f"{s['dob']}: {date.fromisoformat(dob).strftime('%d.%m.%Y') if dob else s['missing']}"
    )
    reason = data.get("reason")
    if reason:
        lines.append(f"{s['reason']}: {REASONS.get(reason, {}).get('de', reason)}")
    if data.get("insurance"):
        kind = s.get(data["insurance"], data["insurance"])
        lines.append(f"{s['insurance']}: {kind}, {data.get('insurer') or '?'}")
    if booked is not None:
        local = datetime.fromtimestamp(booked.start, turn.zone())
        lines.append(
            f"{s['appointment']}: {local.strftime('%d.%m.%Y %H:%M')}, {booked.clinician}, "
            f"{booked.reason}"
        )
    if patient_id is not None:
        lines.append(f"{s['patient']}: #{patient_id} ({s['new'] if created else s['matched']})")
    lines.append(f"{s['language']}: {turn.lang}")
    handover.add_note(ctx.store, ctx.conn, turn.msg.conversation_id, "\n".join(lines), ctx.now)
    labels = [handover.LABEL_DONE] + ([handover.LABEL_BOOKED] if booked is not None else [])
    handover.add_labels(ctx.store, ctx.conn, turn.msg.conversation_id, *labels)
    handover.record(
        ctx.conn,
        handover.AUDIT_HANDOVER,
        turn.msg.conversation_id,
        {
            "patient_id": patient_id,
            "new_patient": created,
            "appointment_id": booked.id if booked is not None else None,
        },
        ctx.now,
    )
    turn.state.flow = HANDED_OVER
    turn.move("")
    if tell_patient:
        turn.text(turn.say("handover"))
