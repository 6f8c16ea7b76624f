"""Appointment reminders: what is due, when it may go out, and never twice.

The plan is pure (a clock is passed in, so tests control time); sending goes through a
callable so the outbox path (an approved utility template with Confirm / Reschedule /
Cancel buttons) stays in one place. A reminder row is written in the same transaction
as the send is enqueued, and its primary key makes a second one impossible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.keywords import fold

from .db import appointments, patients, reminders
from .store import Store

log = logging.getLogger("inbox.relay.reminders")


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    hours_before: tuple[int, ...] = (48, 24)
    timezone: str = "Europe/Berlin"
    # Nothing goes out from 20:00 until 08:00 (None: no quiet hours, e.g. the demo).
    quiet_start: clock_time | None = clock_time(20, 0)
    quiet_end: clock_time | None = clock_time(8, 0)
    # A reminder missed while the relay was down is still sent if it is at most this late.
    catch_up: timedelta = timedelta(hours=6)
    # Other offsets for some appointment types, keyed by the folded type code or label
    # (reminder_config.py fills it; appointments carry their type in ``reason``).
    by_type: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def offsets_for(self, reason: str | None) -> tuple[int, ...]:
        if reason and self.by_type:
            return self.by_type.get(fold(reason), self.hours_before)
        return self.hours_before

    @property
    def longest(self) -> int:
        return max([*self.hours_before, *(h for hs in self.by_type.values() for h in hs)])

    def quiet(self, moment: float) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        local = datetime.fromtimestamp(moment, ZoneInfo(self.timezone)).time()
        if self.quiet_start > self.quiet_end:
            return local >= self.quiet_start or local < self.quiet_end
        return self.quiet_start <= local < self.quiet_end


@dataclass(frozen=True, slots=True)
class DueReminder:
    appointment_id: int
    patient_id: int
    wa_id: str | None
    language: str | None
    start: float
    hours_before: int  # negative: a post-visit follow-up that many hours after the end
    given_name: str = ""
    reason: str | None = None
    place: str | None = None
    clinician: str | None = None


class RetryLater(Exception):
    """The sender cannot send yet (e.g. templates not synced): nothing is recorded."""


# send(conn, reminder) enqueues the message in the caller's transaction; returns a reason
# to skip instead (no consent, opted out, no WhatsApp number) or None when enqueued.
Sender = Callable[[Connection, DueReminder], str | None]


# What ``send`` answers for a reminder that must wait (an appointment on a closed day, until
# staff move it or resolve its escalation): no reminders row, so a later round may send it.
HELD = "held"


class ReminderScheduler:
    def __init__(self, store: Store, policy: ReminderPolicy, send: Sender) -> None:
        self.store = store
        self.policy = policy
        self.send = send

    def due(self, now: float) -> list[DueReminder]:
        """Reminders whose time has come (and not too long ago) that were never handled."""
        longest = self.policy.longest * 3600
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .join(patients, patients.c.id == appointments.c.patient_id)
                .where(
                    appointments.c.start > now,
                    appointments.c.start <= now + longest,
                    appointments.c.status.in_(
                        [AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value]
                    ),
                )
            ).all()
            handled = _handled(conn, [row.id for row in rows])
        found = []
        for row in rows:
            # Only the latest offset that is due: after an outage, one reminder, not two.
            offsets = self.policy.offsets_for(row.reason)
            latest = next((h for h in sorted(offsets) if row.start - h * 3600 <= now), None)
            if latest is None or (row.id, latest) in handled:
                continue
            if now - (row.start - latest * 3600) <= self.policy.catch_up.total_seconds():
                found.append(_due(row, latest))
        return found

    def follow_ups_due(self, now: float, hours_after: int) -> list[DueReminder]:
        """Attended appointments whose follow-up time has come (within the catch-up)."""
        late = self.policy.catch_up.total_seconds()
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .join(patients, patients.c.id == appointments.c.patient_id)
                .where(
                    appointments.c.end <= now - hours_after * 3600,
                    appointments.c.end >= now - hours_after * 3600 - late,
                    appointments.c.status == AppointmentStatus.ATTENDED.value,
                )
            ).all()
            handled = _handled(conn, [row.id for row in rows])
        return [_due(r, -hours_after) for r in rows if (r.id, -hours_after) not in handled]

    def run_once(
        self, now: float | None = None, *, follow_up_hours: int | None = None
    ) -> list[DueReminder]:
        """Send what is due now (unless it is quiet time); returns the reminders sent."""
        now = time.time() if now is None else now
        if self.policy.quiet(now):
            return []
        todo = self.due(now)
        if follow_up_hours is not None:
            todo += self.follow_ups_due(now, follow_up_hours)
        sent = []
        for reminder in todo:
            try:
                with self.store.db.write() as conn:
                    reason = self.send(conn, reminder)
                    if reason == HELD:
                        continue  # not handled: asked again next round (what send did stays)
                    conn.execute(
                        reminders.insert().values(
                            appointment_id=reminder.appointment_id,
                            hours_before=reminder.hours_before,
                            # A follow-up is not a reminder (reports count "sent" ones).
                            state="skipped"
                            if reason
                            else ("sent" if reminder.hours_before > 0 else "follow_up"),
                            reason=reason,
                            at=now,
                        )
                    )
            except IntegrityError:
                continue  # another relay instance handled it first: nothing was enqueued twice
            except RetryLater as exc:
                log.warning("reminders wait: %s", exc)
                break
            if reason is None:
                sent.append(reminder)
            else:
                log.info("reminder for appointment %d skipped: %s", reminder.appointment_id, reason)
        return sent


_COLUMNS = (
    appointments.c.id,
    appointments.c.patient_id,
    appointments.c.start,
    appointments.c.reason,
    appointments.c.place,
    appointments.c.clinician,
    patients.c.wa_id,
    patients.c.language,
    patients.c.given_name,
)


def _due(row: Any, hours: int) -> DueReminder:
    return DueReminder(
        row.id,
        row.patient_id,
        row.wa_id,
        row.language,
        row.start,
        hours,
        given_name=row.given_name or "",
        reason=row.reason,
        place=row.place,
        clinician=row.clinician,
    )


def _handled(conn: Connection, ids: list[int]) -> set[tuple[int, int]]:
    if not ids:
        return set()
    return {
        (r.appointment_id, r.hours_before)
        for r in conn.execute(
            select(reminders.c.appointment_id, reminders.c.hours_before).where(
                reminders.c.appointment_id.in_(ids)
            )
        ).all()
    }


def consent_gate(
    conn: Connection, reminder: DueReminder, *, require_consent: bool = True
) -> str | None:
    """Why this reminder must not go out (no number, no consent, opted out), or None.

    WhatsApp's own "stop marketing messages" choice (inbound.py) counts as an opt-out too:
    the patient told WhatsApp they want fewer automated messages from the practice.
    """
    from inbox_app.domain.consent import ConsentPurpose

    from .consent import Consents
    from .inbound import marketing_stopped

    if not reminder.wa_id:
        return "no WhatsApp number"
    choice = Consents.current(conn, reminder.wa_id, ConsentPurpose.REMINDERS)
    if choice is not None and not choice.granted:
        return "opted out of reminders"
    if marketing_stopped(conn, reminder.wa_id):
        return "stopped in WhatsApp"
    if choice is None and require_consent:
        return "no consent for reminders"
    return None
