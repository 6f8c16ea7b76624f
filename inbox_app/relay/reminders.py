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
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from inbox_app.domain.appointments import AppointmentStatus

from .db import appointments, patients, reminders
from .store import Store

log = logging.getLogger("inbox.relay.reminders")


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    hours_before: tuple[int, ...] = (48, 24)
    timezone: str = "Europe/Berlin"
    quiet_start: clock_time = clock_time(20, 0)  # nothing goes out from 20:00 …
    quiet_end: clock_time = clock_time(8, 0)  # … until 08:00
    # A reminder missed while the relay was down is still sent if it is at most this late.
    catch_up: timedelta = timedelta(hours=6)

    def quiet(self, moment: float) -> bool:
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
    hours_before: int


# send(conn, reminder) enqueues the message in the caller's transaction; returns a reason
# to skip instead (no consent, opted out, no WhatsApp number) or None when enqueued.
Sender = Callable[[Connection, DueReminder], str | None]


class ReminderScheduler:
    def __init__(self, store: Store, policy: ReminderPolicy, send: Sender) -> None:
        self.store = store
        self.policy = policy
        self.send = send

    def due(self, now: float) -> list[DueReminder]:
        """Reminders whose time has come (and not too long ago) that were never handled."""
        longest = max(self.policy.hours_before) * 3600
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(
                    appointments.c.id,
                    appointments.c.patient_id,
                    appointments.c.start,
                    patients.c.wa_id,
                    patients.c.language,
                )
                .join(patients, patients.c.id == appointments.c.patient_id)
                .where(
                    appointments.c.start > now,
                    appointments.c.start <= now + longest,
                    appointments.c.status.in_(
                        [AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value]
                    ),
                )
            ).all()
            handled = {
                (r.appointment_id, r.hours_before)
                for r in conn.execute(
                    select(reminders.c.appointment_id, reminders.c.hours_before).where(
                        reminders.c.appointment_id.in_([row.id for row in rows])
                    )
                ).all()
            }
        found = []
        for row in rows:
            # Only the latest offset that is due: after an outage, one reminder, not two.
            latest = next(
                (h for h in sorted(self.policy.hours_before) if row.start - h * 3600 <= now), None
            )
            if latest is None or (row.id, latest) in handled:
                continue
            if now - (row.start - latest * 3600) <= self.policy.catch_up.total_seconds():
                found.append(
                    DueReminder(row.id, row.patient_id, row.wa_id, row.language, row.start, latest)
                )
        return found

    def run_once(self, now: float | None = None) -> list[DueReminder]:
        """Send what is due now (unless it is quiet time); returns the reminders sent."""
        now = time.time() if now is None else now
        if self.policy.quiet(now):
            return []
        sent = []
        for reminder in self.due(now):
            try:
                with self.store.db.write() as conn:
                    reason = self.send(conn, reminder)
                    conn.execute(
                        reminders.insert().values(
                            appointment_id=reminder.appointment_id,
                            hours_before=reminder.hours_before,
                            state="skipped" if reason else "sent",
                            reason=reason,
                            at=now,
                        )
                    )
            except IntegrityError:
                continue  # another relay instance handled it first: nothing was enqueued twice
            if reason is None:
                sent.append(reminder)
            else:
                log.info("reminder for appointment %d skipped: %s", reminder.appointment_id, reason)
        return sent


def consent_gate(conn: Connection, reminder: DueReminder) -> str | None:
    """Why this reminder must not go out (no number, no consent, opted out), or None."""
    from inbox_app.domain.consent import ConsentPurpose

    from .consent import Consents

    if not reminder.wa_id:
        return "no WhatsApp number"
    choice = Consents.current(conn, reminder.wa_id, ConsentPurpose.REMINDERS)
    if choice is None:
        return "no consent for reminders"
    if not choice.granted:
        return "opted out of reminders"
    return None
