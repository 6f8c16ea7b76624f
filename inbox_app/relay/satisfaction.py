"""Asking how satisfied the patient was, after staff resolved the conversation (a periodic
job), and storing the tapped answer (automation order 40).

At most once per ``every_days`` per number; inside the 24-hour window as reply buttons,
outside it with the approved ``satisfaction_survey`` template (or not at all when the
clinic set no template). Patients who opted out of automated messages are not asked.
Answers live in ``satisfaction_surveys`` (db.py); ``answers()`` is the reports' query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from inbox_app.domain.consent import ConsentPurpose

from .automation import Automation, Context, Inbound
from .consent import Consents
from .db import conversations, patients, satisfaction_surveys
from .inbound import marketing_stopped
from .reminder_config import ReminderConfig, Satisfaction
from .reminder_sender import language_of, pick_template, template_message
from .reminders import ReminderPolicy
from .store import Store
from .templates import TemplateCache, TemplateProblem

log = logging.getLogger("inbox.relay.satisfaction")

WINDOW = 24 * 3600
LOOKBACK = 7 * 86400  # conversations resolved longer ago are not asked any more
SCORES = (3, 2, 1)  # the buttons in order: happy, neutral, unhappy

TEXTS = {
    "de": {
        "question": "Wie zufrieden waren Sie mit unserer Antwort?",
        "buttons": ("😊 Zufrieden", "😐 Es geht", "☹️ Unzufrieden"),
        "thanks": "Danke für Ihre Rückmeldung!",
    },
    "en": {
        "question": "How satisfied were you with our answer?",
        "buttons": ("😊 Satisfied", "😐 Okay", "☹️ Unsatisfied"),
        "thanks": "Thank you for your feedback!",
    },
}


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    conversation_id: int
    asked_at: float
    answered_at: float | None
    score: int | None  # 1 unhappy, 2 neutral, 3 happy; None: not answered


def answers(conn: Connection, *, since: float, until: float) -> list[SurveyAnswer]:
    """Questions asked in [since, until) and their answers, oldest first (for reports)."""
    rows = conn.execute(
        select(
            satisfaction_surveys.c.conversation_id,
            satisfaction_surveys.c.asked_at,
            satisfaction_surveys.c.answered_at,
            satisfaction_surveys.c.score,
        )
        .where(satisfaction_surveys.c.asked_at >= since, satisfaction_surveys.c.asked_at < until)
        .order_by(satisfaction_surveys.c.asked_at, satisfaction_surveys.c.id)
    ).all()
    return [SurveyAnswer(r.conversation_id, r.asked_at, r.answered_at, r.score) for r in rows]


def _payload(survey_id: int, score: int) -> str:
    return f"sat:{survey_id}:{score}"


class SurveyJob:
    def __init__(
        self, settings: Satisfaction, templates: TemplateCache, policy: ReminderPolicy
    ) -> None:
        self.settings = settings
        self.templates = templates
        self.policy = policy  # its quiet hours: no question at night either

    def __call__(self, store: Store, now: float) -> int:
        """Ask where it is due; returns how many were asked."""
        if self.policy.quiet(now):
            return 0
        with store.db.read() as conn:
            candidates = conn.execute(
                select(conversations.c.id).where(
                    conversations.c.status == "resolved",
                    conversations.c.last_message_at <= now - self.settings.delay_minutes * 60,
                    conversations.c.last_message_at >= now - LOOKBACK,
                )
            ).all()
        asked = 0
        for (conversation_id,) in candidates:
            with store.db.write() as conn:
                asked += self._ask(store, conn, conversation_id, now)
        return asked

    def _ask(self, store: Store, conn: Connection, conversation_id: int, now: float) -> int:
        conv = conn.execute(
            select(conversations).where(conversations.c.id == conversation_id)
        ).one()
        if conv.status != "resolved":  # reopened meanwhile
            return 0
        recent = conn.execute(
            select(satisfaction_surveys.c.id).where(
                satisfaction_surveys.c.wa_id == conv.wa_id,
                satisfaction_surveys.c.asked_at > now - self.settings.every_days * 86400,
            )
        ).first()
        if recent is not None:
            return 0
        choice = Consents.current(conn, conv.wa_id, ConsentPurpose.REMINDERS)
        if (choice is not None and not choice.granted) or marketing_stopped(conn, conv.wa_id):
            return 0
        language = conn.execute(
            select(patients.c.language).where(patients.c.wa_id == conv.wa_id)
        ).scalar()
        lang = language_of(language)
        in_window = conv.last_inbound_at is not None and conv.last_inbound_at > now - WINDOW + 60
        template = None
        if not in_window:
            if not self.settings.template:
                return 0
            template = pick_template(self.templates, self.settings.template, language)
            if template is None:
                return 0
            try:  # a template that does not fit is a clinic setup problem: say so, ask no one
                template_message(template, [], [_payload(0, s) for s in SCORES])
            except TemplateProblem as exc:
                log.warning("satisfaction template does not fit: %s", exc)
                return 0
        survey_id = int(
            conn.execute(
                satisfaction_surveys.insert().values(
                    conversation_id=conversation_id, wa_id=conv.wa_id, asked_at=now
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        ctx = Context(store, conn, now)
        key = f"satisfaction:{survey_id}"
        if template is None:
            texts = TEXTS[lang]
            interactive = {
                "type": "button",
                "body": {"text": texts["question"]},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": _payload(survey_id, s), "title": t}}
                        for s, t in zip(SCORES, texts["buttons"], strict=True)
                    ]
                },
            }
            record = ctx.send(
                conversation_id,
                purpose="satisfaction",
                text=str(texts["question"]),
                type="interactive",
                details={"interactive": interactive},
                key=key,
            )
        else:
            text, payload = template_message(template, [], [_payload(survey_id, s) for s in SCORES])
            record = ctx.send(
                conversation_id,
                purpose="satisfaction",
                text=text,
                type="template",
                details={"template": payload},
                template=True,
                key=key,
            )
        if record is not None:
            conn.execute(
                update(satisfaction_surveys)
                .where(satisfaction_surveys.c.id == survey_id)
                .values(message_id=record.id)
            )
        return 1


def handle_answer(ctx: Context, msg: Inbound) -> bool:
    reply = msg.reply_id
    if not reply or not reply.startswith("sat:"):
        return False
    try:
        _, survey, score = reply.split(":")
        survey_id, value = int(survey), int(score)
    except ValueError:
        return True  # ours, but garbled: nothing to store
    if value not in SCORES:
        return True
    changed = ctx.conn.execute(
        update(satisfaction_surveys)
        .where(
            satisfaction_surveys.c.id == survey_id,
            satisfaction_surveys.c.conversation_id == msg.conversation_id,
        )
        .values(score=value, answered_at=ctx.now)
    )
    if changed.rowcount == 0:
        return True
    wa_id = ctx.conn.execute(
        select(conversations.c.wa_id).where(conversations.c.id == msg.conversation_id)
    ).scalar_one()
    language = ctx.conn.execute(
        select(patients.c.language).where(patients.c.wa_id == wa_id)
    ).scalar()
    ctx.send(
        msg.conversation_id,
        purpose="satisfaction",
        text=str(TEXTS[language_of(language)]["thanks"]),
        details={"satisfaction": value},
        key=f"satisfaction-thanks:{survey_id}",
    )
    return True


def register_satisfaction(automation: Automation, config: ReminderConfig) -> None:
    automation.on_inbound("satisfaction", handle_answer, order=40)
    if config.satisfaction.enabled:
        job = SurveyJob(config.satisfaction, TemplateCache(automation.store.db), config.policy)
        automation.every("satisfaction", config.interval_seconds, job)
