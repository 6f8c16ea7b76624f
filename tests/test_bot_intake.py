"""The intake bot: greets a conversation no one is handling, asks name, date of birth and
the reason, matches the patient (several share one number) or registers a new one, and
hands over with a summary note; staff take over at any moment; it never gives advice.

Driven through the relay's real automation (store, cursor, transactions) on SQLite and
PostgreSQL with a controllable clock; tests/test_bot_booking.py goes through HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from inbox_app.domain.roles import Role
from inbox_app.domain.scheduling import ClinicSchedule
from inbox_app.relay.auth import Accounts, StaffUser
from inbox_app.relay.automation import Automation
from inbox_app.relay.bots import register_bots
from inbox_app.relay.bots.config import BotSettings
from inbox_app.relay.commands import Commands
from inbox_app.relay.db import Database, audit, bot_states, conversations, messages, notes, patients
from inbox_app.relay.patients import PatientIn, Registry
from inbox_app.relay.store import Store
from inbox_app.whatsapp.webhook import parse_envelope
from tests.webhooks import envelope, text_message

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = ClinicSchedule.from_json(
    json.loads((Path(__file__).parents[1] / "resources/demo/schedule.json").read_text())
)
# Monday 23 Nov 2026, 09:30 in Berlin: the practice is open.
MONDAY_MORNING = datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN).timestamp()
WA = "4915100000001"


def bot_settings(**changes: Any) -> BotSettings:
    return BotSettings(schedule=SCHEDULE, **changes)


class Chat:
    """A patient writing to the practice, and the relay's automation answering."""

    def __init__(self, store: Store, settings: BotSettings, now: float = MONDAY_MORNING) -> None:
        self.store = store
        self.now = now
        self.automation = Automation(store, clock=lambda: self.now)
        register_bots(self.automation, settings)
        self.automation.init_cursor()

    def _ingest(self, payload: dict[str, Any]) -> None:
        self.store.ingest_many([parse_envelope(payload)], now=self.now)
        self.automation.process_inbound()
        self.now += 20  # patients take a moment to answer

    def write(self, text: str, *, wa_id: str = WA, name: str = "Erika M.") -> None:
        self._ingest(text_message(text, wa_id=wa_id, name=name, ts=self.now))

    def tap(self, reply_id: str, title: str, *, wa_id: str = WA, kind: str = "list_reply") -> None:
        message = {
            "from": wa_id,
            "id": f"wamid.{uuid.uuid4().hex}",
            "timestamp": str(int(self.now)),
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": reply_id, "title": title}},
        }
        self._ingest(
            envelope(
                {
                    "contacts": [{"profile": {"name": "Erika M."}, "wa_id": wa_id}],
                    "messages": [message],
                }
            )
        )

    def conversation_id(self, wa_id: str = WA) -> int:
        with self.store.db.read() as conn:
            return int(
                conn.execute(
                    select(conversations.c.id).where(conversations.c.wa_id == wa_id)
                ).scalar_one()
            )

    def bot_said(self, wa_id: str = WA) -> list[dict[str, Any]]:
        """Everything the relay queued to this patient by itself, oldest first."""
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(messages.c.type, messages.c.text, messages.c.details)
                .join(conversations, conversations.c.id == messages.c.conversation_id)
                .where(
                    conversations.c.wa_id == wa_id,
                    messages.c.direction == "out",
                    messages.c.author_id.is_(None),
                )
                .order_by(messages.c.id)
            ).all()
        return [
            {"type": r.type, "text": r.text, "details": json.loads(r.details or "{}")} for r in rows
        ]

    def last_choices(self, wa_id: str = WA) -> list[tuple[str, str]]:
        """(id, title) of the rows or buttons of the newest list/buttons message."""
        for sent in reversed(self.bot_said(wa_id)):
            interactive = sent["details"].get("interactive")
            if not interactive:
                continue
            action = interactive["action"]
            if interactive["type"] == "button":
                return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
            return [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]
        raise AssertionError("no list or buttons were sent")

    def state(self, wa_id: str = WA) -> Any:
        with self.store.db.read() as conn:
            return conn.execute(
                select(bot_states).where(
                    bot_states.c.conversation_id == self.conversation_id(wa_id)
                )
            ).one_or_none()

    def notes(self, wa_id: str = WA) -> list[str]:
        with self.store.db.read() as conn:
            return list(
                conn.execute(
                    select(notes.c.text)
                    .where(notes.c.conversation_id == self.conversation_id(wa_id))
                    .order_by(notes.c.id)
                ).scalars()
            )

    def labels(self, wa_id: str = WA) -> list[str]:
        with self.store.db.read() as conn:
            raw = conn.execute(
                select(conversations.c.labels).where(conversations.c.wa_id == wa_id)
            ).scalar_one()
        return list(json.loads(raw))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = Database(db_url)
    db.create_schema()
    yield Store(db)
    db.dispose()


def test_intake_matches_the_right_one_of_two_patients_sharing_a_number(store: Store) -> None:
    Registry(store).upsert(
        [
            PatientIn("pvs|1", "Musterfrau", "Erika", "1980-12-24", WA, "de"),
            PatientIn("pvs|2", "Musterfrau", "Lena", "2012-03-05", WA, "de"),
        ],
        [],
    )
    chat = Chat(store, bot_settings())
    chat.write("Hallo, ich habe eine Frage zu meinem Rezept")
    greeting = chat.bot_said()[-1]["text"]
    assert "Vor- und Nachname" in greeting
    chat.write("lena musterfrau")
    assert "Lena Musterfrau" in chat.bot_said()[-1]["text"]  # tidied, and asked for the date
    chat.write("5. März 2012")
    choices = dict(chat.last_choices())
    assert choices["bot-reason:prescription"] == "Rezept" and "bot-reason:book" in choices
    chat.tap("bot-reason:prescription", "Rezept")

    assert "bei unserem Team" in chat.bot_said()[-1]["text"]
    (summary,) = chat.notes()
    with store.db.read() as conn:
        lena = conn.execute(select(patients.c.id).where(patients.c.external_id == "pvs|2")).scalar()
        patient_count = len(conn.execute(select(patients.c.id)).all())
        handover = conn.execute(
            select(audit.c.detail).where(audit.c.action == "bot_handover")
        ).scalar()
    assert "Name: Lena Musterfrau" in summary and "Geburtsdatum: 05.03.2012" in summary
    assert "Anliegen: Rezept" in summary and f"Patient: #{lena} (erkannt)" in summary
    assert patient_count == 2  # matched: no new record
    assert handover is not None and json.loads(handover) == {
        "appointment_id": None,
        "new_patient": False,
        "patient_id": lena,
    }
    assert "intake-done" in chat.labels()
    assert chat.state().flow == "handed_over"
    # After the hand-over the bot keeps quiet: staff answer.
    said = len(chat.bot_said())
    chat.write("Danke!")
    assert len(chat.bot_said()) == said


def test_unknown_patient_is_registered_unverified_and_english_is_spoken(store: Store) -> None:
    chat = Chat(store, bot_settings())
    chat.write("Hello, I need some help please", wa_id="447700900123")
    assert "full name" in chat.bot_said("447700900123")[-1]["text"]
    chat.write("John Smith", wa_id="447700900123")
    chat.write("31/01/1975", wa_id="447700900123")
    chat.tap("bot-reason:referral", "Referral", wa_id="447700900123")
    assert "Your details are with our team" in chat.bot_said("447700900123")[-1]["text"]
    with store.db.read() as conn:
        new = conn.execute(select(patients)).one()
    assert (new.given_name, new.family_name, new.birth_date) == ("John", "Smith", "1975-01-31")
    assert new.external_id.startswith("chat-unverified|") and new.wa_id == "447700900123"
    (summary,) = chat.notes("447700900123")
    assert f"#{new.id} (NEU, nicht geprüft)" in summary and "Sprache: en" in summary


def test_bad_dates_are_asked_again_and_questions_get_no_advice(store: Store) -> None:
    chat = Chat(store, bot_settings())
    chat.write("Guten Tag")
    chat.write("Erika Musterfrau")
    chat.write("31.02.1980")  # no such day
    assert "24.12.1980" in chat.bot_said()[-1]["text"]
    chat.write("Soll ich bei 39 Grad Fieber Ibuprofen nehmen?")
    answers = [m["text"] for m in chat.bot_said()[-2:]]
    assert "Mitglied unseres Teams antwortet Ihnen persönlich" in answers[0]
    assert "Wann sind Sie geboren" in answers[1]  # and the question is asked again
    everything = " ".join(m["text"] or "" for m in chat.bot_said()).lower()
    for advice in ("ibuprofen", "paracetamol", "nehmen sie", "dosis", "fieber"):
        assert advice not in everything
    chat.write("24.12.1980")
    assert chat.state().step == "reason"


def test_staff_message_claim_or_stop_ends_the_bot(store: Store) -> None:
    accounts = Accounts(store.db, idle_seconds=60, max_seconds=60)
    anna: StaffUser = accounts.add_user("anna", "correct horse", Role.RECEPTIONIST)
    chat = Chat(store, bot_settings())
    # 1. A staff message mid-intake: the bot stops and says nothing more.
    chat.write("Hallo")
    chat.write("Erika Musterfrau")
    store.create_outgoing_text(
        conversation_id=chat.conversation_id(),
        client_id=str(uuid.uuid4()),
        text="Guten Tag, Frau Musterfrau, hier ist Anna.",
        author_id=anna.id,
        now=chat.now,
    )
    said = len(chat.bot_said())
    chat.write("24.12.1980")
    assert len(chat.bot_said()) == said
    assert (chat.state().flow, chat.state().ended_reason) == ("stopped", "staff_message")
    # 2. A colleague claims the conversation after the greeting: the bot stops there.
    other = "4915100000002"
    chat.write("Hallo", wa_id=other)
    commands = Commands(store.db, store)
    chat.write("Hallo", wa_id="4915100000003")
    commands.claim(anna, chat.conversation_id("4915100000003"), str(uuid.uuid4()), address=None)
    chat.write("Erika Musterfrau", wa_id="4915100000003")
    assert len(chat.bot_said("4915100000003")) == 1  # the greeting only
    assert chat.state("4915100000003").ended_reason == "claimed"
    # The unclaimed one carries on.
    chat.write("Max Mustermann", wa_id=other)
    assert "Wann sind Sie geboren" in chat.bot_said(other)[-1]["text"]


def test_state_survives_a_restart(store: Store) -> None:
    first = Chat(store, bot_settings())
    first.write("Hello")
    first.write("Jane Doe")
    # A new relay process: new automation, same database.
    second = Chat(store, bot_settings(), now=first.now)
    second.write("24 December 1980")
    assert second.state().step == "reason"
    assert second.last_choices()[0] == ("bot-reason:book", "Book an appointment")


def test_language_can_be_switched_with_the_greetings_button_or_a_word(store: Store) -> None:
    chat = Chat(store, bot_settings())
    chat.write("Hallo")
    assert chat.last_choices() == [("bot-lang:en", "English")]
    chat.tap("bot-lang:en", "English", kind="button_reply")
    assert chat.bot_said()[-1]["text"] == "What is your full name (first and last name)?"
    assert chat.state().language == "en"
    chat.write("Deutsch")
    assert chat.bot_said()[-1]["text"] == "Wie ist Ihr vollständiger Name (Vor- und Nachname)?"
    assert (chat.state().language, chat.state().step) == ("de", "name")


def test_a_red_flag_ends_the_questionnaire(store: Store, db_url: str) -> None:
    from inbox_app.relay.escalations import register_red_flags
    from inbox_app.relay.settings import RelaySettings

    chat = Chat(store, bot_settings())
    register_red_flags(
        chat.automation,
        RelaySettings("secret", "verify", "token", "106540352242922", database_url=db_url),
    )
    chat.write("Hallo")
    chat.write("Ich habe starke Brustschmerzen")
    greeting, guidance = chat.bot_said()
    assert greeting["details"]["automation"] == "bot"
    assert guidance["details"]["automation"] == "emergency_guidance"  # and no name question
    assert (chat.state().flow, chat.state().ended_reason) == ("stopped", "escalation")
    chat.write("Erika Musterfrau")
    assert len(chat.bot_said()) == 2


def test_book_from_the_intake_list_skips_the_questions_already_answered(store: Store) -> None:
    chat = Chat(store, bot_settings())
    chat.write("Guten Tag")
    chat.write("Erika Musterfrau")
    chat.write("24.12.1980")
    chat.tap("bot-reason:book", "Termin buchen")
    assert chat.last_choices() == [
        ("bot-ins:statutory", "Gesetzlich"),
        ("bot-ins:private", "Privat"),
    ]
    assert (chat.state().flow, chat.state().step) == ("booking", "insurance")
    # A typed answer works too, and a question is not answered.
    chat.write("privat")
    assert chat.last_choices()[0] == ("bot-insurer:0", "Debeka")
    chat.write("Zahlt die Kasse das?")
    assert "persönlich" in chat.bot_said()[-2]["text"]
