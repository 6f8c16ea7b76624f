"""The relay's webhook endpoint over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from inbox_app.relay.db import Database
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.store import Store
from tests.conftest import VERIFY_TOKEN
from tests.live_server import LiveServer
from tests.webhooks import signed, status, text_message


def _count_messages(settings: RelaySettings) -> int:
    db = Database(settings.database_url)
    try:
        return Store(db).count_messages()
    finally:
        db.dispose()


def _events(client: httpx.Client) -> list[dict]:
    return client.get("/v1/sync", params={"after": 0, "limit": 1000}).json()["events"]


def test_verification_handshake(relay_server: LiveServer) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = httpx.get(relay_server.url + "/webhook", params=params)
    assert ok.status_code == 200 and ok.text == "1158201444"
    for bad in (
        {**params, "hub.verify_token": "wrong"},
        {**params, "hub.mode": "unsubscribe"},
        {"hub.challenge": "1158201444"},
    ):
        response = httpx.get(relay_server.url + "/webhook", params=bad)
        assert response.status_code == 403
        assert "1158201444" not in response.text


def test_unsigned_and_wrongly_signed_webhooks_store_nothing(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    body, headers = signed(text_message("Hallo"))
    url = relay_server.url + "/webhook"
    missing = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    wrong = httpx.post(
        url, content=body, headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert wrong.status_code == 403
    _, other_headers = signed(text_message("Hallo"), secret="not-the-secret")
    assert httpx.post(url, content=body, headers=other_headers).status_code == 403
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert httpx.post(url, content=reserialised, headers=headers).status_code == 403
    assert _count_messages(relay_settings) == 0


def test_signed_text_is_stored_once_despite_redelivery(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    wamid = f"wamid.{uuid.uuid4().hex}"
    body, headers = signed(text_message("Brauche einen Termin 😀 / bitte", wamid=wamid))
    for _ in range(3):
        response = httpx.post(relay_server.url + "/webhook", content=body, headers=headers)
        assert response.status_code == 200
    assert _count_messages(relay_settings) == 1


def test_concurrent_duplicate_deliveries_store_one_row_and_one_event(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    payloads = [signed(text_message(f"Nachricht {i}", wamid=f"wamid.dup{i}")) for i in range(10)]

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(base_url=relay_server.url, timeout=30) as client:
            calls = [
                client.post("/webhook", content=body, headers=headers)
                for body, headers in payloads
                for _ in range(8)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    codes = asyncio.run(scenario())
    assert set(codes) == {200}
    assert _count_messages(relay_settings) == 10


def test_oversized_body_is_refused_before_parsing(relay_server: LiveServer) -> None:
    body = b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}"
    response = httpx.post(
        relay_server.url + "/webhook", content=body, headers={"X-Hub-Signature-256": "sha256=00"}
    )
    assert response.status_code == 413


def test_signed_garbage_is_rejected_without_write(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    from inbox_app.whatsapp.signature import sign

    for body in (b"not json", b"[1,2,3]", b'{"entry": 5}'):
        response = httpx.post(
            relay_server.url + "/webhook",
            content=body,
            headers={"X-Hub-Signature-256": sign(body, relay_settings.app_secret)},
        )
        assert response.status_code == 400
    assert _count_messages(relay_settings) == 0


@pytest.mark.parametrize(
    "order", [["read", "delivered", "sent"], ["sent", "read", "read", "delivered"]]
)
def test_statuses_only_move_forward(
    relay_server: LiveServer, relay_settings: RelaySettings, order: list[str]
) -> None:
    """Out of order and duplicated statuses end at the highest one (QUALITY R4)."""
    db = Database(relay_settings.database_url)
    store = Store(db)
    try:
        body, headers = signed(text_message("Hallo"))
        assert (
            httpx.post(relay_server.url + "/webhook", content=body, headers=headers).status_code
            == 200
        )
        record, _ = store.create_outgoing_text(
            conversation_id=1, client_id=str(uuid.uuid4()), text="Antwort", author_id=_user(db)
        )
        store.record_sent(outbox_id=1, message_id=record.id, wamid="wamid.out1")
        for state in order:
            b, h = signed(status("wamid.out1", state))
            assert (
                httpx.post(relay_server.url + "/webhook", content=b, headers=h).status_code == 200
            )
        final = store.message_by_wamid("wamid.out1")
        assert final is not None and final.status == "read"
    finally:
        db.dispose()


def _user(db: Database) -> int:
    from inbox_app.domain.roles import Role
    from inbox_app.relay.auth import Accounts

    return (
        Accounts(db, idle_seconds=60, max_seconds=60)
        .add_user("nurse", "long-enough-pw", Role.NURSE)
        .id
    )
