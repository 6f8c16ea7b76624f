"""Every send type through relay → simulator, limits checked before sending, the 24-hour
window, templates, read receipts, typing, retry and rate-limit backoff."""

from __future__ import annotations

import base64
import os
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.test_relay_outbox import Pair, pair  # noqa: F401  (the relay+simulator fixture)
from tests.webhooks import signed, text_message

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(1024)
PDF = b"%PDF-1.4\n" + b"0" * 512 + b"\n%%EOF\n"
WA = "4915100000101"  # Pair.inbound's patient


@pytest.fixture(autouse=True)
def _waba(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("WHATSAPP_WABA_ID", "102290129340398")  # the simulator's default
    monkeypatch.setenv("INBOX_MEDIA_DIR", str(tmp_path / "media-files"))


def send(p: Pair, body: dict[str, Any], status: int = 202) -> dict[str, Any]:
    r = p.staff.post("/v1/conversations/1/messages", json={"client_id": str(uuid.uuid4()), **body})
    assert r.status_code == status, r.text
    data: dict[str, Any] = r.json()
    return data["message"] if status == 202 else data


def last_sent(p: Pair, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(sent := p.sent()) < count:
        assert time.monotonic() < deadline, sent
        time.sleep(0.05)
    return sent


def inbound_message(p: Pair) -> dict[str, Any]:
    events = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    return next(
        e["data"] for e in events if e["type"] == "message" and e["data"]["direction"] == "in"
    )


def test_text_reply_with_preview(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Wo finde ich die Praxis?")
    original = inbound_message(pair)
    message = send(
        pair,
        {
            "type": "text",
            "text": "Hier: https://praxis.example/weg",
            "preview_url": True,
            "reply_to": original["id"],
        },
    )
    assert pair.wait_status(message["id"], {"read"})["status"] == "read"
    (sent,) = last_sent(pair)
    assert sent["payload"]["text"] == {
        "body": "Hier: https://praxis.example/weg",
        "preview_url": True,
    }
    assert sent["payload"]["context"] == {"message_id": original["wamid"]}


def test_reaction_goes_out_and_shows_on_its_message(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Danke für den Termin")
    original = inbound_message(pair)
    message = send(pair, {"type": "reaction", "target_id": original["id"], "emoji": "👍"})
    pair.wait_status(message["id"], {"read"})
    (sent,) = last_sent(pair)
    assert sent["payload"]["reaction"] == {"message_id": original["wamid"], "emoji": "👍"}
    states = [
        e["data"]
        for e in pair.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        if e["type"] == "message" and e["data"]["id"] == original["id"]
    ]
    assert states[-1]["reactions"] == ["👍"]


def test_image_and_document_are_uploaded_then_sent(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Bitte schicken Sie mir den Plan")
    img = send(
        pair,
        {
            "type": "image",
            "data": base64.b64encode(JPEG).decode(),
            "mime_type": "image/jpeg",
            "text": "Lageplan",
        },
    )
    doc = send(
        pair,
        {
            "type": "document",
            "data": base64.b64encode(PDF).decode(),
            "mime_type": "application/pdf",
            "filename": "Anamnese.pdf",
        },
    )
    assert pair.wait_status(img["id"], {"read", "failed"})["status"] == "read"
    assert pair.wait_status(doc["id"], {"read", "failed"})["status"] == "read"
    sent = {s["type"]: s["payload"] for s in last_sent(pair, 2)}
    assert sent["image"]["image"]["caption"] == "Lageplan" and sent["image"]["image"]["id"]
    assert sent["document"]["document"]["filename"] == "Anamnese.pdf"
    assert httpx.get(pair.sim.url + "/_sim/media").json()["files"] == 2


def test_disguised_file_is_refused_before_sending(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Hallo")
    data = base64.b64encode(b"MZ\x90\x00" + os.urandom(64)).decode()
    problem = send(pair, {"type": "image", "data": data, "mime_type": "image/jpeg"}, status=422)
    assert "type" in problem["message"]


def test_buttons_and_lists_within_limits(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Welche Termine gibt es?")
    four = [{"id": f"b{i}", "title": f"Option {i}"} for i in range(4)]
    problem = send(pair, {"type": "buttons", "text": "Wählen Sie", "buttons": four}, status=422)
    assert "3" in problem["message"]
    long_title = [{"id": "b1", "title": "x" * 21}]
    send(pair, {"type": "buttons", "text": "Wählen Sie", "buttons": long_title}, status=422)
    rows = [{"id": f"r{i}", "title": f"Zeit {i}"} for i in range(11)]
    problem = send(
        pair,
        {"type": "list", "text": "Termine", "button_text": "Zeiten", "sections": [{"rows": rows}]},
        status=422,
    )
    assert "10" in problem["message"]
    ok = send(pair, {"type": "buttons", "text": "Passt Montag?", "buttons": four[:3]})
    listing = send(
        pair,
        {
            "type": "list",
            "text": "Termine",
            "button_text": "Zeiten",
            "sections": [{"title": "Montag", "rows": rows[:10]}],
        },
    )
    pair.wait_status(ok["id"], {"read"})
    pair.wait_status(listing["id"], {"read"})
    kinds = sorted(s["payload"]["interactive"]["type"] for s in last_sent(pair, 2))
    assert kinds == ["button", "list"]


def _old_conversation(p: Pair) -> None:
    body, headers = signed(text_message("Alt", wa_id=WA, ts=time.time() - 3 * 86400))
    assert httpx.post(p.relay.url + "/webhook", content=body, headers=headers).status_code == 200


def _templates(p: Pair) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while not (found := p.staff.get("/v1/templates").json()["templates"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return found


def test_outside_the_window_only_templates_with_valid_parameters(pair: Pair) -> None:  # noqa: F811
    _old_conversation(pair)
    problem = send(pair, {"type": "text", "text": "Hallo?"}, status=422)
    assert problem["error"] == "window_closed"
    names = {t["name"] for t in _templates(pair)}
    assert names == {  # not the PENDING one
        "appointment_confirmation",
        "appointment_reminder",
        "hello_world",
        "results_ready",
        # the relay's own (reminder_sender.py, satisfaction.py)
        "appointment_reminder_actions",
        "visit_follow_up",
        "satisfaction_survey",
        # the video-visit link outside the window (calls.py)
        "video_visit",
    }
    wrong = {
        "name": "appointment_confirmation",
        "language": "de",
        "header": ["morgen"],
        "body": ["Erika"],
        "buttons": [{"index": 1, "values": ["abc"]}],
    }
    problem = send(pair, {"type": "template", "template": wrong}, status=422)
    assert "2 value(s), 1 given" in problem["message"]
    unknown = {"name": "nope", "language": "de"}
    send(pair, {"type": "template", "template": unknown}, status=422)
    right = {**wrong, "body": ["Erika", "Montag, 9 Uhr"]}
    message = send(pair, {"type": "template", "template": right})
    assert (
        message["text"] == "Hallo Erika, Ihr Termin ist am Montag, 9 Uhr. Bitte antworten Sie kurz."
    )
    named = {
        "name": "results_ready",
        "language": "de",
        "body": {"first_name": "Erika", "date": "3.11."},
    }
    second = send(pair, {"type": "template", "template": named})
    assert pair.wait_status(message["id"], {"read", "failed"})["status"] == "read"
    assert pair.wait_status(second["id"], {"read", "failed"})["status"] == "read"
    params = last_sent(pair, 2)[1]["payload"]["template"]["components"][0]["parameters"]
    assert params[0]["parameter_name"] == "first_name"


def test_opening_marks_read_and_typing_is_shown(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Sind Sie da?")
    original = inbound_message(pair)
    r = pair.staff.post("/v1/conversations/1/read")
    assert r.status_code == 200 and r.json()["whatsapp"] is True
    r = pair.staff.post("/v1/conversations/1/typing")
    assert r.status_code == 200
    marks = httpx.get(pair.sim.url + "/_sim/marked_read").json()["marked_read"]
    assert [(m["message_id"], m["typing"]) for m in marks] == [
        (original["wamid"], False),
        (original["wamid"], True),
    ]
    events = pair.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    conv = [e["data"] for e in events if e["type"] == "conversation"][-1]
    assert conv["unread"] == 0


def test_permanent_error_has_a_staff_reason_and_one_click_retry(pair: Pair) -> None:  # noqa: F811
    pair.inbound("Hallo")
    pair.fault(kind="error", code=131026, http_status=400)
    message = send(pair, {"type": "text", "text": "Erster Versuch"})
    failed = pair.wait_status(message["id"], {"failed"})
    assert failed["error_code"] == 131026 and "could not be delivered" in failed["error_title"]
    assert pair.staff.post(f"/v1/messages/{message['id']}/retry").status_code == 202
    final = pair.wait_status(message["id"], {"read"})
    assert final["status"] == "read" and final["error_code"] is None
    assert len(pair.sent()) == 1
    assert pair.staff.post(f"/v1/messages/{message['id']}/retry").status_code == 409


@pytest.mark.parametrize("code", [130429, 131056])
def test_rate_limits_back_off_and_send_once(pair: Pair, code: int) -> None:  # noqa: F811
    pair.inbound("Hallo")
    pair.fault(kind="error", code=code, http_status=400, count=2)
    message = send(pair, {"type": "text", "text": "Nach der Drosselung"})
    final = pair.wait_status(message["id"], {"read", "failed"}, timeout=20)
    assert final["status"] == "read"
    assert len(pair.sent()) == 1
