"""The figures that show whether the inbox works: response and resolution times, reminder
confirmations, no-shows with and without a reminder, bookings by chat, results opened,
escalations acknowledged, patient satisfaction — by day or week, and by staff role.

Each metric collects samples (when, value, role) from the relay's tables; one aggregation
turns them into periods. Reports hold counts and times only, never patient data.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select

from inbox_app.domain.appointments import AppointmentStatus

# The CSV form is shared with the desktop (which exports what it shows).
from inbox_app.domain.reports import to_csv_rows as to_csv_rows

from .bots.handover import AUDIT_BOOKING as BOT_BOOKING_ACTION
from .db import (
    appointments,
    audit,
    escalations,
    events,
    messages,
    metadata,
    reminders,
    results,
    status_receipts,
    users,
)
from .satisfaction import answers as survey_answers

Kind = Literal["duration", "rate", "count", "score"]
Group = Literal["day", "week"]
MAX_DAYS = 400  # one request covers at most about a year


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # decides the period
    value: float  # seconds, 0/1, 1 (a count) or a score
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    kind: Kind
    collect: Callable[[Connection, float, float], list[Sample]]
    by_role: bool = False


def period_of(moment: float, group: Group, tz: ZoneInfo) -> str:
    local = datetime.fromtimestamp(moment, tz)
    if group == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def aggregate(kind: Kind, values: list[float]) -> float | None:
    if not values:
        return 0.0 if kind == "count" else None
    if kind == "duration":
        return float(statistics.median(values))
    if kind == "count":
        return float(len(values))
    return float(statistics.fmean(values))  # rate (share of 1s) and score


# -- collectors ------------------------------------------------------------------------


def first_responses(conn: Connection, since: float, until: float) -> list[Sample]:
    """Patient writes, staff answers: the wait, per waiting patient (automated answers
    do not count), credited to the role of whoever answered."""
    rows = conn.execute(
        select(
            messages.c.conversation_id,
            messages.c.direction,
            messages.c.timestamp,
            messages.c.author_id,
            users.c.role,
        )
        .select_from(messages.outerjoin(users, users.c.id == messages.c.author_id))
        .where(messages.c.timestamp <= until, messages.c.type != "reaction")
        .order_by(messages.c.conversation_id, messages.c.timestamp, messages.c.id)
    ).all()
    samples: list[Sample] = []
    waiting: dict[int, float] = {}
    for row in rows:
        if row.direction == "in":
            waiting.setdefault(row.conversation_id, row.timestamp)
        elif row.author_id is not None and row.conversation_id in waiting:
            start = waiting.pop(row.conversation_id)
            if since <= start <= until:
                samples.append(Sample(start, row.timestamp - start, row.role))
    return samples


def resolutions(conn: Connection, since: float, until: float) -> list[Sample]:
    """From the first patient message of an episode to the conversation being resolved."""
    inbound: dict[int, list[float]] = defaultdict(list)
    for message in conn.execute(
        select(messages.c.conversation_id, messages.c.timestamp)
        .where(messages.c.direction == "in", messages.c.timestamp <= until)
        .order_by(messages.c.timestamp)
    ):
        inbound[message.conversation_id].append(message.timestamp)
    samples: list[Sample] = []
    last_status: dict[int, str] = {}
    episode_after: dict[int, float] = {}
    for row in conn.execute(
        select(events.c.entity_id, events.c.data, events.c.created_at)
        .where(events.c.type == "conversation", events.c.created_at <= until)
        .order_by(events.c.seq)
    ):
        status = json.loads(row.data).get("status", "open")
        conversation = row.entity_id
        if status == "resolved" and last_status.get(conversation) != "resolved":
            after = episode_after.get(conversation, float("-inf"))
            started = next((t for t in inbound.get(conversation, []) if t > after), None)
            if started is not None and since <= row.created_at <= until:
                samples.append(Sample(row.created_at, max(0.0, row.created_at - started)))
            episode_after[conversation] = row.created_at
        last_status[conversation] = status
    return samples


def _reminded(conn: Connection) -> dict[int, float]:
    """Appointment id → when its first reminder went out."""
    first: dict[int, float] = {}
    for row in conn.execute(
        select(reminders.c.appointment_id, reminders.c.at).where(reminders.c.state == "sent")
    ):
        first[row.appointment_id] = min(row.at, first.get(row.appointment_id, row.at))
    return first


_CONFIRMED = {AppointmentStatus.CONFIRMED.value, AppointmentStatus.ATTENDED.value}
_SEEN = {AppointmentStatus.ATTENDED.value, AppointmentStatus.NO_SHOW.value}


def reminder_confirmations(conn: Connection, since: float, until: float) -> list[Sample]:
    reminded = _reminded(conn)
    status = dict(
        conn.execute(
            select(appointments.c.id, appointments.c.status).where(
                appointments.c.id.in_(list(reminded))
            )
        ).all()
    )
    return [
        Sample(at, 1.0 if status.get(appointment) in _CONFIRMED else 0.0)
        for appointment, at in reminded.items()
        if since <= at <= until and appointment in status
    ]


def _no_shows(conn: Connection, since: float, until: float, *, reminded: bool) -> list[Sample]:
    sent = _reminded(conn)
    rows = conn.execute(
        select(appointments.c.id, appointments.c.start, appointments.c.status).where(
            and_(appointments.c.start >= since, appointments.c.start <= until),
            appointments.c.status.in_(list(_SEEN)),
        )
    ).all()
    return [
        Sample(row.start, 1.0 if row.status == AppointmentStatus.NO_SHOW.value else 0.0)
        for row in rows
        if (row.id in sent) == reminded
    ]


def no_shows_with_reminder(conn: Connection, since: float, until: float) -> list[Sample]:
    return _no_shows(conn, since, until, reminded=True)


def no_shows_without_reminder(conn: Connection, since: float, until: float) -> list[Sample]:
    return _no_shows(conn, since, until, reminded=False)


def chat_bookings(conn: Connection, since: float, until: float) -> list[Sample]:
    """Appointments the booking bot made: its audit rows (an appointment's external id
    changes once it is written to a FHIR server, the audit row does not)."""
    rows = conn.execute(
        select(audit.c.at).where(
            audit.c.action == BOT_BOOKING_ACTION, audit.c.at >= since, audit.c.at <= until
        )
    ).all()
    return [Sample(row.at, 1.0) for row in rows]


def results_opened(conn: Connection, since: float, until: float) -> list[Sample]:
    """From a result sent to the patient opening it: on the page (phi-safe), or the
    document message read in WhatsApp (direct)."""
    read_at = (
        select(status_receipts.c.timestamp)
        .where(
            status_receipts.c.wamid == messages.c.wamid,
            status_receipts.c.status == "read",
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        select(results.c.created_at, results.c.opened_at, read_at.label("read_at"))
        .select_from(results.outerjoin(messages, messages.c.id == results.c.message_id))
        .where(results.c.created_at >= since, results.c.created_at <= until)
    ).all()
    samples = []
    for row in rows:
        opened = row.opened_at if row.opened_at is not None else row.read_at
        if opened is not None:
            samples.append(Sample(row.created_at, max(0.0, opened - row.created_at)))
    return samples


def escalation_acknowledgements(conn: Connection, since: float, until: float) -> list[Sample]:
    """From an escalation raised to a clinician acknowledging it, credited to the
    acknowledger's role; still open ones count in the next report that sees them acked."""
    rows = conn.execute(
        select(escalations.c.created_at, escalations.c.acknowledged_at, users.c.role)
        .select_from(escalations.outerjoin(users, users.c.id == escalations.c.acknowledged_by))
        .where(
            escalations.c.acknowledged_at.is_not(None),
            escalations.c.created_at >= since,
            escalations.c.created_at <= until,
        )
    ).all()
    return [
        Sample(row.created_at, max(0.0, row.acknowledged_at - row.created_at), row.role)
        for row in rows
    ]


def satisfaction_scores(conn: Connection, since: float, until: float) -> list[Sample]:
    """Answers to the after-resolution question: 1 unhappy, 2 neutral, 3 happy (mean)."""
    return [
        Sample(answer.asked_at, float(answer.score))
        for answer in survey_answers(conn, since=since, until=until + 1e-6)
        if answer.score is not None
    ]


METRICS: list[Metric] = [
    Metric("first_response", "duration", first_responses, by_role=True),
    Metric("resolution", "duration", resolutions),
    Metric("reminder_confirmation", "rate", reminder_confirmations),
    Metric("no_show_with_reminder", "rate", no_shows_with_reminder),
    Metric("no_show_without_reminder", "rate", no_shows_without_reminder),
    Metric("chat_bookings", "count", chat_bookings),
    Metric("result_opened", "duration", results_opened),
    Metric("escalation_ack", "duration", escalation_acknowledgements, by_role=True),
    Metric("satisfaction", "score", satisfaction_scores),
]


def register_metric(metric: Metric) -> None:
    """Metrics whose tables live with another feature (results, escalations, surveys)."""
    if all(m.name != metric.name for m in METRICS):
        METRICS.append(metric)


def has_table(name: str) -> bool:
    return name in metadata.tables


# -- the report ------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    since: float
    until: float
    group: Group
    timezone: str
    metrics: list[Metric]
    periods: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    by_role: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "group": self.group,
            "timezone": self.timezone,
            "metrics": [{"name": m.name, "kind": m.kind} for m in self.metrics],
            "periods": self.periods,
            "rows": self.rows,
            "totals": self.totals,
            "by_role": self.by_role,
        }


def _periods(since: float, until: float, group: Group, tz: ZoneInfo) -> list[str]:
    found: list[str] = []
    moment = since
    while moment <= until:
        label = period_of(moment, group, tz)
        if not found or found[-1] != label:
            found.append(label)
        moment += 3600.0  # hourly steps cannot skip a day, even across DST
    last = period_of(until, group, tz)
    if found[-1] != last:
        found.append(last)
    return found


def _summary(kind: Kind, values: Iterable[float]) -> dict[str, Any]:
    listed = list(values)
    return {"value": aggregate(kind, listed), "n": len(listed)}


def build_report(
    conn: Connection,
    *,
    since: float,
    until: float,
    group: Group = "day",
    timezone: str = "Europe/Berlin",
    metrics: list[Metric] | None = None,
) -> Report:
    if until < since:
        raise ValueError("the report's end is before its start")
    if until - since > MAX_DAYS * 86400:
        raise ValueError(f"a report covers at most {MAX_DAYS} days")
    tz = ZoneInfo(timezone)
    chosen = list(METRICS if metrics is None else metrics)
    report = Report(since, until, group, timezone, chosen)
    report.periods = _periods(since, until, group, tz)
    per_period: dict[str, dict[str, Any]] = {p: {"period": p} for p in report.periods}
    roles: dict[str, dict[str, Any]] = defaultdict(dict)
    for metric in chosen:
        samples = [s for s in metric.collect(conn, since, until) if since <= s.at <= until]
        grouped: dict[str, list[float]] = defaultdict(list)
        for sample in samples:
            grouped[period_of(sample.at, group, tz)].append(sample.value)
        for label, row in per_period.items():
            summary = _summary(metric.kind, grouped.get(label, []))
            row[metric.name] = summary["value"]
            row[f"{metric.name}_n"] = summary["n"]
        report.totals[metric.name] = _summary(metric.kind, (s.value for s in samples))
        if metric.by_role:
            by_role: dict[str, list[float]] = defaultdict(list)
            for sample in samples:
                by_role[sample.role or "unknown"].append(sample.value)
            for role, values in by_role.items():
                roles[role][metric.name] = _summary(metric.kind, values)
    report.rows = [per_period[p] for p in report.periods]
    report.by_role = dict(roles)
    return report
