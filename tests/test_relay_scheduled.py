"""Scheduled sends over real HTTP: the relay keeps them until their time, refuses a time past
the 24-hour window, and lets staff cancel one before it leaves (relay → simulator)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.test_relay_outbox import Pair, pair  # noqa: F401 (the fixture)


def schedule(p: Pair, text: str, send_at: float) -> Any:
    return p.staff.post(
        "/v1/conversations/1/messages",
        json={"client_id": str(uuid.uuid4()), "type": "text", "text": text, "send_at": send_at},
    )


def test_a_scheduled_message_leaves_at_its_time_not_before(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Bitte erinnern Sie mich später")
    send_at = time.time() + 2.5
    response = schedule(pair, "Ihre Erinnerung", send_at)
    assert response.status_code == 202, response.text
    message = response.json()["message"]
    assert message["status"] == "queued"
    assert message["send_at"] == send_at and message["timestamp"] == send_at
    time.sleep(1.0)
    assert pair.sent() == [], "sent before its time"
    assert pair.message(message["id"])["status"] == "queued"
    final = pair.wait_status(message["id"], {"sent", "delivered", "read"}, timeout=15)
    assert final["status"] in {"sent", "delivered", "read"}
    assert time.time() >= send_at
    sent = pair.sent()
    assert [s["payload"]["text"]["body"] for s in sent] == ["Ihre Erinnerung"]


def test_a_time_past_the_window_end_is_refused_with_the_reason(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Hallo")
    late = schedule(pair, "Zu spät", time.time() + 25 * 3600)
    assert late.status_code == 422
    body = late.json()
    assert body["error"] == "schedule_refused"
    assert "window closes at" in body["message"] and "UTC" in body["message"]
    past = schedule(pair, "Vorbei", time.time() - 60)
    assert past.status_code == 422 and "past" in past.json()["message"]
    # Nothing was stored for either.
    events = pair.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    texts = [e["data"].get("text") for e in events if e["type"] == "message"]
    assert "Zu spät" not in texts and "Vorbei" not in texts


def test_a_scheduled_message_can_be_cancelled_and_never_leaves(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Hallo")
    response = schedule(pair, "Doch nicht", time.time() + 2.0)
    message_id = response.json()["message"]["id"]
    cancelled = pair.staff.post(f"/v1/messages/{message_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["message"]["status"] == "cancelled"
    assert pair.message(message_id)["status"] == "cancelled"
    again = pair.staff.post(f"/v1/messages/{message_id}/cancel")
    assert again.status_code == 409 and again.json()["error"] == "not_scheduled"
    time.sleep(3.0)
    assert pair.sent() == []
    assert pair.message(message_id)["status"] == "cancelled"
    # An ordinary (unscheduled) message cannot be "cancelled".
    normal = pair.reply("Jetzt gleich")
    refused = pair.staff.post(f"/v1/messages/{normal['id']}/cancel")
    assert refused.status_code == 409
    assert pair.staff.post("/v1/messages/999999/cancel").status_code == 404
