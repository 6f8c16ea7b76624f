"""The satisfaction question after a resolved conversation (issue 8): asked once per N days
per number, with reply buttons inside the 24-hour window and the template outside it; the
tapped answer is stored with the conversation and counted by ``answers()``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.relay.automation import Automation
from inbox_app.relay.consent import Consents
from inbox_app.relay.db import Database, conversations, messages
from inbox_app.relay.reminder_config import parse
from inbox_app.relay.satisfaction import answers, register_satisfaction
from inbox_app.relay.store import Store
from inbox_app.relay.templates import TemplateCache
from inbox_app.whatsapp.simulator.templates_api import default_templates
from inbox_app.whatsapp.webhook import parse_envelope

from .webhooks import envelope, text_message

ERIKA, MAX = "4915100000101", "4915100000102"
DAY = 86400.0


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = Database(db_url)
    db.create_schema()
    TemplateCache(db).replace_from_graph(default_templates())
    yield Store(db)
    db.dispose()


def _write(store: Store, wa_id: str, text: str, ts: float) -> int:
    store.ingest_many([parse_envelope(text_message(text, wa_id=wa_id, ts=ts))])
    with store.db.read() as conn:
        return int(
            conn.execute(
                select(conversations.c.id).where(conversations.c.wa_id == wa_id)
            ).scalar_one()
        )


def _tap(store: Store, wa_id: str, reply_id: str, title: str, ts: float) -> None:
    payload = envelope(
        {
            "contacts": [{"profile": {"name": "Erika"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": f"wamid.{uuid.uuid4().hex}",
                    "timestamp": str(int(ts)),
                    "type": "interactive",
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": reply_id, "title": title},
                    },
                }
            ],
        }
    )
    store.ingest_many([parse_envelope(payload)])


def _resolve(store: Store, conversation_id: int) -> None:
    with store.db.write() as conn:
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(status="resolved")
        )


def _asked(store: Store) -> list[dict[str, Any]]:
    with store.db.read() as conn:
        rows = conn.execute(
            select(messages.c.conversation_id, messages.c.type, messages.c.details)
            .where(messages.c.author_id.is_(None), messages.c.direction == "out")
            .order_by(messages.c.id)
        ).all()
    found = []
    for row in rows:
        details = json.loads(row.details)
        if details.get("automation") == "satisfaction" and "satisfaction" not in details:
            found.append({"conversation_id": row.conversation_id, "type": row.type, **details})
    return found


def test_asked_once_per_n_days_with_buttons_then_template_and_the_answer_is_stored(
    store: Store,
) -> None:
    real = time.time()
    clock = {"now": real}
    auto = Automation(store, clock=lambda: clock["now"])
    auto.init_cursor()
    register_satisfaction(
        auto,
        parse(
            {
                "quiet_hours": None,
                "satisfaction": {"enabled": True, "every_days": 1, "delay_minutes": 10},
            }
        ),
    )
    erika = _write(store, ERIKA, "Danke, alles klar!", real - 3600)
    _resolve(store, erika)
    auto.run_due_jobs(real)
    (question,) = _asked(store)
    buttons = question["interactive"]["action"]["buttons"]
    assert question["type"] == "interactive" and len(buttons) == 3
    assert [b["reply"]["title"] for b in buttons] == ["😊 Zufrieden", "😐 Es geht", "☹️ Unzufrieden"]
    # not again the same day, whatever the job's rounds
    auto.run_due_jobs(real + 3600 * 2)
    assert len(_asked(store)) == 1
    # the patient taps "Zufrieden"
    happy = buttons[0]["reply"]
    _tap(store, ERIKA, happy["id"], happy["title"], real + 60)
    clock["now"] = real + 120
    auto.process_inbound()
    with store.db.read() as conn:
        (answer,) = answers(conn, since=real - 1, until=real + 1)
    assert answer.conversation_id == erika and answer.score == 3
    assert answer.answered_at == real + 120
    # a day and a half later (window closed) a new resolution is asked by template
    _resolve(store, erika)
    later = real + 1.5 * DAY
    with store.db.write() as conn:  # the thread was active meanwhile (the answer, staff)
        conn.execute(
            update(conversations)
            .where(conversations.c.id == erika)
            .values(last_message_at=later - 3600)
        )
    auto.run_due_jobs(later)
    second = _asked(store)[1]
    assert second["type"] == "template"
    assert second["template"]["name"] == "satisfaction_survey"
    payloads = [
        c["parameters"][0]["payload"]
        for c in second["template"]["components"]
        if c["type"] == "button"
    ]
    assert [p.rsplit(":", 1)[1] for p in payloads] == ["3", "2", "1"]


def test_not_asked_when_opted_out_too_soon_or_still_open(store: Store) -> None:
    real = time.time()
    auto = Automation(store, clock=lambda: real)
    auto.init_cursor()
    register_satisfaction(auto, parse({"quiet_hours": None, "satisfaction": {"enabled": True}}))
    erika = _write(store, ERIKA, "Danke", real - 3600)
    max_ = _write(store, MAX, "Danke", real - 3600)
    with store.db.write() as conn:
        Consents(store).record(
            conn,
            wa_id=MAX,
            purposes=[ConsentPurpose.REMINDERS],
            granted=False,
            source=ConsentSource.KEYWORD,
        )
    _resolve(store, max_)
    auto.run_due_jobs(real)  # Erika's conversation is still open, Max opted out
    assert _asked(store) == []
    _resolve(store, erika)
    auto.run_due_jobs(real - 3600 + 5 * 60)  # resolved just now: staff may add something
    assert _asked(store) == []


def test_a_tap_on_someone_elses_question_is_not_stored(store: Store) -> None:
    real = time.time()
    auto = Automation(store, clock=lambda: real)
    auto.init_cursor()
    register_satisfaction(auto, parse({"quiet_hours": None, "satisfaction": {"enabled": True}}))
    erika = _write(store, ERIKA, "Danke", real - 3600)
    _resolve(store, erika)
    auto.run_due_jobs(real)
    reply = _asked(store)[0]["interactive"]["action"]["buttons"][2]["reply"]
    _write(store, MAX, "Hallo", real - 60)
    _tap(store, MAX, reply["id"], reply["title"], real)
    auto.process_inbound()
    with store.db.read() as conn:
        (answer,) = answers(conn, since=real - 1, until=real + 1)
    assert answer.score is None


def test_off_unless_the_clinic_switches_it_on(store: Store) -> None:
    real = time.time()
    auto = Automation(store, clock=lambda: real)
    auto.init_cursor()
    register_satisfaction(auto, parse({}))
    _resolve(store, _write(store, ERIKA, "Danke", real - 3600))
    assert auto.run_due_jobs(real) == []  # no job registered
    assert _asked(store) == []


def test_not_asked_in_quiet_hours(store: Store) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    real = time.time()
    hour = datetime.fromtimestamp(real, ZoneInfo("Europe/Berlin")).hour
    quiet = f"{(hour - 1) % 24:02d}:00-{(hour + 2) % 24:02d}:00"  # now, whenever that is
    auto = Automation(store, clock=lambda: real)
    auto.init_cursor()
    register_satisfaction(auto, parse({"quiet_hours": quiet, "satisfaction": {"enabled": True}}))
    _resolve(store, _write(store, ERIKA, "Danke", real - 3600))
    auto.run_due_jobs(real)
    assert _asked(store) == []
