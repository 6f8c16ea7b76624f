"""Opt-out and opt-in words (automation order 10): STOP, STOPP, ABMELDEN … withdraw consent
for automated messages at once, cancel what is queued and confirm it; START, ANMELDEN …
restore it.

What an opt-out covers: the ``reminders`` purpose, which gates every automated message to
the patient (reminders, follow-ups, the satisfaction question). The care conversation stays
open — the patient can still write and staff can still answer; results keep their own
consent (staff send them on request). Each change is a ``consent`` event (consent.py) that
the desktop shows, with source "keyword" and the time.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.domain.keywords import Keyword, fold, keyword

from .automation import Automation, Context, Inbound
from .consent import Consents
from .db import conversations, patients
from .reminder_sender import language_of

log = logging.getLogger("inbox.relay.optout")

AUTOMATED_PURPOSES = [ConsentPurpose.REMINDERS]
# Words only an English speaker writes: the confirmation answers in English then.
ENGLISH = frozenset({"unsubscribe", "cancel all", "no more messages", "subscribe", "unstop"})

TEXTS = {
    "de": {
        Keyword.OPT_OUT: "Sie erhalten von uns keine automatischen Nachrichten (z. B. "
        "Terminerinnerungen) mehr. Sie können uns hier weiterhin schreiben. Mit START "
        "melden Sie sich wieder an.",
        Keyword.OPT_IN: "Danke! Sie erhalten wieder Terminerinnerungen und andere "
        "automatische Nachrichten von uns. Mit STOP melden Sie sich ab.",
    },
    "en": {
        Keyword.OPT_OUT: "You will no longer receive automated messages (such as appointment "
        "reminders) from us. You can still write to us here. Send START to sign up again.",
        Keyword.OPT_IN: "Thank you! You will receive appointment reminders and other "
        "automated messages from us again. Send STOP to unsubscribe.",
    },
}


def handle_keyword(ctx: Context, msg: Inbound) -> bool:
    if msg.type != "text":
        return False
    word = keyword(msg.text)
    if word is None:
        return False
    wa_id = ctx.conn.execute(
        select(conversations.c.wa_id).where(conversations.c.id == msg.conversation_id)
    ).scalar_one()
    language = ctx.conn.execute(
        select(patients.c.language).where(patients.c.wa_id == wa_id).order_by(patients.c.id)
    ).scalar()
    if language:
        lang = language_of(language)
    else:
        lang = "en" if fold(msg.text or "").strip(" .!") in ENGLISH else "de"
    Consents(ctx.store).record(
        ctx.conn,
        wa_id=wa_id,
        purposes=AUTOMATED_PURPOSES,
        granted=word == Keyword.OPT_IN,
        source=ConsentSource.KEYWORD,
        at=ctx.now,
    )
    if word == Keyword.OPT_OUT:
        cancelled = ctx.cancel_automated(msg.conversation_id, reason="Patient opted out")
        log.info("opt-out: %d queued automated message(s) cancelled", cancelled)
    ctx.send(
        msg.conversation_id,
        purpose="consent",
        text=TEXTS[lang][word],
        details={"consent": word.value},
        key=f"consent:{msg.message_id}",
    )
    return True


def register_optout(automation: Automation) -> None:
    automation.on_inbound("optout", handle_keyword, order=10)
