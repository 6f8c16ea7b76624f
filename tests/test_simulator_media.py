"""The simulator's media and template endpoints behave like Meta's."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from inbox_app.whatsapp.simulator import SimulatorSettings, create_app
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@pytest.fixture
def sim() -> Iterator[str]:
    settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=None,
    )
    with LiveServer(create_app(settings)) as server:
        yield server.url


def upload(sim: str, data: bytes, mime: str, headers: dict[str, str] = AUTH) -> httpx.Response:
    return httpx.post(
        f"{sim}/v23.0/{PHONE_NUMBER_ID}/media",
        headers=headers,
        data={"messaging_product": "whatsapp", "type": mime},
        files={"file": ("photo.jpg", data, mime)},
    )


def test_upload_retrieve_download_delete(sim: str) -> None:
    r = upload(sim, JPEG, "image/jpeg")
    assert r.status_code == 200, r.text
    media_id = r.json()["id"]
    info = httpx.get(f"{sim}/v23.0/{media_id}", headers=AUTH).json()
    assert info["mime_type"] == "image/jpeg" and info["file_size"] == len(JPEG)
    assert info["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert httpx.get(info["url"], headers=AUTH).content == JPEG
    assert httpx.get(info["url"]).status_code == 401  # the bearer token is needed
    assert httpx.post(f"{sim}/_sim/media/expire", json={"count": 1}).status_code == 200
    assert httpx.get(info["url"], headers=AUTH).status_code == 404  # an expired URL
    assert httpx.delete(f"{sim}/v23.0/{media_id}", headers=AUTH).json() == {"success": True}
    gone = httpx.get(f"{sim}/v23.0/{media_id}", headers=AUTH)
    assert gone.status_code == 400 and gone.json()["error"]["code"] == 100


def test_upload_limits_and_auth(sim: str) -> None:
    assert upload(sim, JPEG, "image/jpeg", headers={}).json()["error"]["code"] == 104
    big = upload(sim, JPEG + b"0" * (5 * 1024 * 1024), "image/jpeg")
    assert big.status_code == 400 and big.json()["error"]["code"] == 131053
    odd = upload(sim, b"MZ", "application/x-msdownload")
    assert odd.json()["error"]["code"] == 131053


def test_inbound_media_webhook_declares_base64_sha256(sim: str) -> None:
    r = httpx.post(
        f"{sim}/_sim/inbound",
        json={
            "from": "4915100000001",
            "type": "image",
            "data": base64.b64encode(JPEG).decode(),
            "mime_type": "image/jpeg",
            "caption": "Befund",
            "deliver": False,
        },
    )
    assert r.status_code == 200, r.text
    image = json.loads(r.json()["body"])["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    assert base64.b64decode(image["sha256"]) == hashlib.sha256(JPEG).digest()
    assert image["caption"] == "Befund"
    assert httpx.get(f"{sim}/v23.0/{image['id']}", headers=AUTH).status_code == 200


def send_template(sim: str, template: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{sim}/v23.0/{PHONE_NUMBER_ID}/messages",
        headers=AUTH,
        json={
            "messaging_product": "whatsapp",
            "to": "4915100000001",
            "type": "template",
            "template": template,
        },
    )


def test_templates_are_listed_with_paging(sim: str) -> None:
    first = httpx.get(
        f"{sim}/v23.0/102290129340398/message_templates", params={"limit": 2}, headers=AUTH
    ).json()
    assert len(first["data"]) == 2 and "next" in first["paging"]
    rest = httpx.get(first["paging"]["next"], headers=AUTH).json()
    names = {t["name"] for t in first["data"] + rest["data"]}
    assert {"appointment_confirmation", "hello_world", "results_ready"} <= names


def test_template_send_errors_like_meta(sim: str) -> None:
    unknown = send_template(sim, {"name": "nope", "language": {"code": "de"}})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 132001
    pending = send_template(sim, {"name": "spring_offer", "language": {"code": "de"}})
    assert pending.json()["error"]["code"] == 132001
    body = {"name": "results_ready", "language": {"code": "de"}}
    few = send_template(sim, {**body, "components": [{"type": "body", "parameters": []}]})
    assert few.status_code == 400 and few.json()["error"]["code"] == 132000
    params = [
        {"type": "text", "parameter_name": "first_name", "text": "Erika"},
        {"type": "text", "parameter_name": "date", "text": "3.11."},
    ]
    # component types are matched case-insensitively, as Meta does
    ok = send_template(sim, {**body, "components": [{"type": "BODY", "parameters": params}]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["messages"][0]["message_status"] == "accepted"


@pytest.fixture
def strict_sim() -> Iterator[str]:
    settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=None,
        throughput_limit=3,
        pair_gap=60.0,
    )
    with LiveServer(create_app(settings)) as server:
        yield server.url


def send_text(sim: str, to: str) -> httpx.Response:
    return httpx.post(
        f"{sim}/v23.0/{PHONE_NUMBER_ID}/messages",
        headers=AUTH,
        json={"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "x"}},
    )


def test_rate_limits_when_configured(strict_sim: str) -> None:
    assert send_text(strict_sim, "4915100000001").status_code == 200
    pair = send_text(strict_sim, "4915100000001")
    assert pair.status_code == 400 and pair.json()["error"]["code"] == 131056
    assert send_text(strict_sim, "4915100000002").status_code == 200
    assert send_text(strict_sim, "4915100000003").status_code == 200
    busy = send_text(strict_sim, "4915100000004")
    assert busy.json()["error"]["code"] == 130429


def test_calls_need_permission_and_carry_signalling_only(sim: str) -> None:
    base = f"{sim}/v23.0/{PHONE_NUMBER_ID}"
    offer = {"sdp_type": "offer", "sdp": "v=0"}
    connect = {"messaging_product": "whatsapp", "action": "connect", "to": "4915100000001"}
    refused = httpx.post(f"{base}/calls", headers=AUTH, json={**connect, "session": offer})
    assert refused.json()["error"]["code"] == 138006
    perm = httpx.get(
        f"{base}/call_permissions", params={"user_wa_id": "4915100000001"}, headers=AUTH
    )
    assert perm.json()["permission"]["status"] == "no_permission"
    httpx.post(f"{sim}/_sim/call_permission", json={"wa_id": "4915100000001"})
    started = httpx.post(f"{base}/calls", headers=AUTH, json={**connect, "session": offer})
    call_id = started.json()["calls"][0]["id"]
    assert call_id.startswith("wacid.")
    ended = httpx.post(
        f"{base}/calls",
        headers=AUTH,
        json={"messaging_product": "whatsapp", "action": "terminate", "call_id": call_id},
    )
    assert ended.json() == {"messaging_product": "whatsapp", "success": True}
