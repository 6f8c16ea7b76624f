"""Reminders leave through the outbox: the approved utility template in the patient's
language, with Confirm / Reschedule / Cancel quick-reply buttons whose payloads carry the
appointment (appointment_replies.py acts on the taps).

A periodic automation job (automation.py) runs the scheduler (reminders.py); each reminder
is enqueued in the same transaction as its ``reminders`` row and with an idempotency key,
so restarts and two relays never send one twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from inbox_app.domain.phone import display_phone

from .automation import Automation, Context
from .db import conversations
from .reminder_config import ReminderConfig
from .reminders import HELD, DueReminder, ReminderScheduler, RetryLater, consent_gate
from .store import Store
from .templates import Template, TemplateCache, TemplateProblem

log = logging.getLogger("inbox.relay.reminders")

ACTIONS = ("confirm", "reschedule", "cancel")  # the template's quick-reply buttons, in order
DEFAULT_LANGUAGE = "de"

_WEEKDAYS = {
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS_EN = ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec").split()


def language_of(language: str | None) -> str:
    """The language our own texts are written in: German unless the patient reads English."""
    return "en" if (language or "").lower().startswith("en") else DEFAULT_LANGUAGE


def format_day(moment: float, language: str | None, timezone: str) -> str:
    local = datetime.fromtimestamp(moment, ZoneInfo(timezone))
    if language_of(language) == "en":
        return f"{_WEEKDAYS['en'][local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}"
    return f"{_WEEKDAYS['de'][local.weekday()]} {local:%d.%m.%Y}"


def format_time(moment: float, timezone: str) -> str:
    return f"{datetime.fromtimestamp(moment, ZoneInfo(timezone)):%H:%M}"


def action_payload(appointment_id: int, action: str, start: float) -> str:
    """A quick-reply payload; the start time makes a tap on an outdated reminder detectable."""
    return f"appt:{appointment_id}:{action}:{int(start)}"


def pick_template(cache: TemplateCache, name: str, language: str | None) -> Template | None:
    """The approved template ``name`` in the patient's language, else German, else any."""
    candidates = [t for t in cache.approved() if t.name == name]
    wanted = (language or "").lower()
    for test in (
        lambda t: t.language.lower() == wanted,
        lambda t: wanted and t.language.lower().split("_")[0] == wanted.split("_")[0],
        lambda t: t.language.lower().startswith(DEFAULT_LANGUAGE),
        lambda t: True,
    ):
        found = [t for t in candidates if test(t)]
        if found:
            return found[0]
    return None


def quick_reply_count(template: Template) -> int:
    for comp in template.components:
        if str(comp.get("type", "")).upper() == "BUTTONS":
            return sum(
                1
                for b in comp.get("buttons") or []
                if str(b.get("type", "")).upper() == "QUICK_REPLY"
            )
    return 0


def template_message(
    template: Template, body: list[str], payloads: list[str]
) -> tuple[str, dict[str, Any]]:
    """(rendered text, the ``template`` object to send) with quick-reply payloads filled in."""
    payload = template.graph_payload(header=[], body=body, buttons={})
    for index, value in enumerate(payloads):
        payload.setdefault("components", []).append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": value}],
            }
        )
    return template.render(body), payload


def conversation_for(conn: Connection, store: Store, wa_id: str, now: float) -> int:
    """The patient's conversation; a reminder may be the practice's first message."""
    found = conn.execute(
        select(conversations.c.id).where(conversations.c.wa_id == wa_id)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    conn.execute(
        store.db.insert_ignore(conversations).values(
            wa_id=wa_id,
            display_name=display_phone(wa_id) or wa_id,
            last_message_at=now,
            last_message_preview="",
            unread=0,
        )
    )
    return int(
        conn.execute(select(conversations.c.id).where(conversations.c.wa_id == wa_id)).scalar_one()
    )


class ReminderSender:
    """The scheduler's ``send``: gate, choose the template, enqueue (in the caller's txn)."""

    def __init__(
        self, store: Store, config: ReminderConfig, templates: TemplateCache, now: float
    ) -> None:
        self.store = store
        self.config = config
        self.templates = templates
        self.now = now

    def __call__(self, conn: Connection, reminder: DueReminder) -> str | None:
        from .closed_day_appointments import reminder_held  # it builds on this module

        follow_up = reminder.hours_before < 0
        if not follow_up and reminder_held(
            self.store, conn, self.config.schedule, reminder.appointment_id, self.now
        ):
            return HELD  # staff reschedule it (their escalation) before anyone is told
        reason = consent_gate(conn, reminder, require_consent=self.config.require_consent)
        if reason is not None:
            return reason
        assert reminder.wa_id is not None
        name = self.config.follow_up.template if follow_up else self.config.template
        template = pick_template(self.templates, name, reminder.language)
        if template is None:
            # Not synced yet (start-up) or not approved: wait rather than mark it skipped.
            raise RetryLater(f"no approved template {name!r}")
        lang = language_of(template.language)
        greeting = reminder.given_name.strip() or ("there" if lang == "en" else "Patient/in")
        tz = self.config.policy.timezone
        body = [greeting]
        payloads: list[str] = []
        if not follow_up:
            body += [format_day(reminder.start, lang, tz), format_time(reminder.start, tz)]
            buttons = quick_reply_count(template)
            payloads = [
                action_payload(reminder.appointment_id, action, reminder.start)
                for action in ACTIONS[:buttons]
            ]
        try:
            text, payload = template_message(
                template, body[: len(template.placeholders("BODY"))], payloads
            )
        except TemplateProblem as exc:
            raise RetryLater(f"template {name!r} does not fit: {exc}") from None
        purpose = "follow_up" if follow_up else "reminder"
        conversation_id = conversation_for(conn, self.store, reminder.wa_id, self.now)
        Context(self.store, conn, self.now).send(
            conversation_id,
            purpose=purpose,
            text=text,
            type="template",
            details={"template": payload, "appointment_id": reminder.appointment_id},
            template=True,
            key=f"{purpose}:{reminder.appointment_id}:{reminder.hours_before}",
        )
        return None


def register_reminders(automation: Automation, config: ReminderConfig) -> None:
    """Reminders (and follow-ups, when switched on) as a periodic job of the relay."""
    templates = TemplateCache(automation.store.db)
    follow = config.follow_up.hours_after if config.follow_up.enabled else None

    def job(store: Store, now: float) -> None:
        sender = ReminderSender(store, config, templates, now)
        sent = ReminderScheduler(store, config.policy, sender).run_once(now, follow_up_hours=follow)
        if sent:
            log.info("%d reminder(s) queued", len(sent))

    automation.every("reminders", config.interval_seconds, job)
