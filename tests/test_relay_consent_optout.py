"""Opt-out and opt-in words and WhatsApp's marketing preference, through the relay and the
simulator (issue 8): STOP takes effect at once, cancels queued reminders and is confirmed."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from inbox_app.relay.db import messages, outbox, reminders
from inbox_app.relay.reminder_config import parse
from inbox_app.relay.settings import RelaySettings
from tests.test_reminders_relay import (  # noqa: F401  (_waba: the simulator's WABA id)
    ANY_TIME,
    ERIKA,
    Clinic,
    _waba,
    reminder_of,
    start_clinic,
)
from tests.webhooks import envelope, signed


def _automated(clinic: Clinic) -> list[Any]:
    with clinic.relay.db.read() as conn:
        return list(
            conn.execute(
                select(messages.c.type, messages.c.status, messages.c.error_title, outbox.c.state)
                .join(outbox, outbox.c.message_id == messages.c.id)
                .where(messages.c.author_id.is_(None))
                .order_by(messages.c.id)
            ).all()
        )


def _texts(clinic: Clinic) -> list[str]:
    return [m["payload"]["text"]["body"] for m in clinic.sent() if m["type"] == "text"]


def test_stop_cancels_queued_reminders_confirms_and_start_restores(
    relay_settings: RelaySettings,
) -> None:
    config = parse(ANY_TIME)
    # 1. the outbox is held back, so the reminder is still queued when the patient writes
    gen = start_clinic(relay_settings, config, run_outbox=False)
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.consent()
        clinic.appointment(time.time() + 30 * 3600)
        clinic.run_jobs()
        assert [tuple(r) for r in _automated(clinic)] == [("template", "queued", None, "pending")]
        clinic.write("STOPP")
        rows = [tuple(r) for r in _automated(clinic)]
        assert rows[0] == ("template", "failed", "Patient opted out", "cancelled")
        assert rows[1] == ("text", "queued", None, "pending")  # the confirmation
        consent = clinic.events("consent")[-1]
        assert consent["wa_id"] == ERIKA and consent["purpose"] == "reminders"
        assert consent["granted"] is False and consent["source"] == "keyword"
    finally:
        gen.close()
    # 2. the outbox runs again: the confirmation goes out, the reminder never does
    gen = start_clinic(relay_settings, config)
    clinic = next(gen)
    try:
        clinic.wait_sent(lambda m: m["type"] == "text")
        assert "keine automatischen Nachrichten" in _texts(clinic)[0]
        assert not any(reminder_of(m) for m in clinic.sent())
        # a new appointment gets no reminder while opted out
        clinic.appointment(time.time() + 20 * 3600)
        clinic.run_jobs()
        with clinic.relay.db.read() as conn:
            states = conn.execute(select(reminders.c.state, reminders.c.reason)).all()
        assert ("skipped", "opted out of reminders") in [tuple(s) for s in states]
        # START restores it and is confirmed; the next appointment is reminded again
        clinic.write("Start")
        clinic.wait_sent(lambda m: m["type"] == "text" and "wieder" in m["payload"]["text"]["body"])
        assert clinic.events("consent")[-1]["granted"] is True
        clinic.appointment(time.time() + 25 * 3600)
        clinic.run_jobs()
        clinic.wait_sent(reminder_of)
    finally:
        gen.close()


def test_words_inside_a_sentence_change_nothing(relay_settings: RelaySettings) -> None:
    gen = start_clinic(relay_settings, parse(ANY_TIME))
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.consent()
        clinic.write("Bitte nicht stoppen, ich komme gern")
        assert clinic.events("consent")[-1]["granted"] is True  # only the form's consent
        time.sleep(1.2)
        assert _texts(clinic) == []
    finally:
        gen.close()


def test_whatsapps_marketing_stop_is_honoured_by_the_reminder_gate(
    relay_settings: RelaySettings,
) -> None:
    gen = start_clinic(relay_settings, parse(ANY_TIME))
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.consent()
        preference = envelope(
            {
                "contacts": [{"profile": {"name": "Erika"}, "wa_id": ERIKA}],
                "user_preferences": [
                    {
                        "wa_id": ERIKA,
                        "detail": "User requested to stop marketing messages",
                        "category": "marketing_messages",
                        "value": "stop",
                        "timestamp": int(time.time()),
                    }
                ],
            }
        )
        preference["entry"][0]["changes"][0]["field"] = "user_preferences"
        body, headers = signed(preference)
        response = httpx.post(clinic.relay_server.url + "/webhook", content=body, headers=headers)
        assert response.status_code == 200
        clinic.appointment(time.time() + 30 * 3600)
        clinic.run_jobs()
        with clinic.relay.db.read() as conn:
            row = conn.execute(select(reminders.c.state, reminders.c.reason)).one()
        assert tuple(row) == ("skipped", "stopped in WhatsApp")
        time.sleep(1.2)
        assert clinic.sent() == []
    finally:
        gen.close()


def test_staff_record_consent_and_withdrawing_it_cancels_queued_reminders(
    relay_settings: RelaySettings,
) -> None:
    gen = start_clinic(relay_settings, parse(ANY_TIME), run_outbox=False)
    clinic = next(gen)
    try:
        clinic.patient()
        clinic.write("Hallo, ich habe nächste Woche einen Termin")
        clinic.appointment(time.time() + 30 * 3600)
        granted = clinic.staff.post(
            "/v1/conversations/1/consent",
            json={"purposes": ["reminders", "results"], "granted": True, "source": "form"},
        )
        assert granted.status_code == 200, granted.text
        assert [(c["purpose"], c["source"]) for c in granted.json()["consents"]] == [
            ("reminders", "form"),
            ("results", "form"),
        ]
        clinic.run_jobs()
        assert [tuple(r)[:2] for r in _automated(clinic)] == [("template", "queued")]
        withdrawn = clinic.staff.post(
            "/v1/conversations/1/consent", json={"purposes": ["reminders"], "granted": False}
        )
        assert withdrawn.status_code == 200
        assert [tuple(r) for r in _automated(clinic)] == [
            ("template", "failed", "Consent withdrawn", "cancelled")
        ]
        latest = clinic.events("consent")[-1]
        assert (latest["purpose"], latest["granted"], latest["source"]) == (
            "reminders",
            False,
            "staff",
        )
        bad = clinic.staff.post(
            "/v1/conversations/1/consent", json={"purposes": ["marketing"], "granted": True}
        )
        assert bad.status_code == 422
        hidden = clinic.staff.post(
            "/v1/conversations/99/consent", json={"purposes": ["care"], "granted": True}
        )
        assert hidden.status_code == 404
    finally:
        gen.close()
