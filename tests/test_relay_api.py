"""Sign-in, the change feed (catch-up and SSE) and the send command, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from httpx_sse import aconnect_sse

from inbox_app.domain.roles import Role
from inbox_app.relay.auth import Accounts
from inbox_app.relay.db import Database
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.webhooks import signed, text_message


def add_user(
    settings: RelaySettings, name: str, role: Role, password: str = "correct horse"
) -> None:
    db = Database(settings.database_url)
    try:
        db.create_schema()
        Accounts(db, idle_seconds=60, max_seconds=60).add_user(name, password, role)
    finally:
        db.dispose()


def login(url: str, name: str, password: str = "correct horse") -> httpx.Client:
    response = httpx.post(url + "/v1/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def post_text(url: str, text: str, **kw: object) -> None:
    body, headers = signed(text_message(text, **kw))  # type: ignore[arg-type]
    assert httpx.post(url + "/webhook", content=body, headers=headers).status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    wrong = httpx.post(
        relay_server.url + "/v1/auth/login", json={"username": "anna", "password": "nope"}
    )
    unknown = httpx.post(
        relay_server.url + "/v1/auth/login", json={"username": "ghost", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "invalid_credentials",
            "message": "Invalid username or password.",
        }
    )


def test_login_returns_token_and_user_and_logout_revokes(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    response = httpx.post(
        relay_server.url + "/v1/auth/login", json={"username": "anna", "password": "correct horse"}
    )
    data = response.json()
    assert data["user"]["username"] == "anna" and data["user"]["role"] == "receptionist"
    headers = {"Authorization": f"Bearer {data['token']}"}
    assert httpx.get(relay_server.url + "/v1/me", headers=headers).status_code == 200
    assert httpx.post(relay_server.url + "/v1/auth/logout", headers=headers).status_code == 200
    assert httpx.get(relay_server.url + "/v1/me", headers=headers).status_code == 401
    assert httpx.get(relay_server.url + "/v1/sync").status_code == 401
    bogus = {"Authorization": "Bearer not-a-token"}
    assert httpx.get(relay_server.url + "/v1/sync", headers=bogus).status_code == 401


def test_repeated_failures_are_throttled(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    codes = [
        httpx.post(
            relay_server.url + "/v1/auth/login", json={"username": "anna", "password": "x"}
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    # even the right password is refused while throttled
    ok = httpx.post(
        relay_server.url + "/v1/auth/login", json={"username": "anna", "password": "correct horse"}
    )
    assert ok.status_code == 429


def test_sync_pages_in_order_with_cursor(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    for i in range(7):
        post_text(relay_server.url, f"Nachricht {i}", wa_id=f"49151000000{i % 3}")
    client = login(relay_server.url, "anna")
    seen: list[int] = []
    texts: list[str] = []
    after = 0
    while True:
        page = client.get("/v1/sync", params={"after": after, "limit": 4}).json()
        seen += [e["seq"] for e in page["events"]]
        texts += [e["data"]["text"] for e in page["events"] if e["type"] == "message"]
        after = page["next"]
        if not page["more"]:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert texts == [f"Nachricht {i}" for i in range(7)]
    message = next(e for e in client.get("/v1/sync").json()["events"] if e["type"] == "message")
    assert {"id", "wamid", "conversation_id", "direction", "type", "text", "status"} <= set(
        message["data"]
    )
    assert message["data"]["direction"] == "in" and message["data"]["status"] == "received"
    client.close()


def test_admin_sees_no_patient_content(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "root", Role.ADMIN)
    post_text(relay_server.url, "Befund bitte")
    client = login(relay_server.url, "root")
    assert client.get("/v1/sync").json()["events"] == []
    response = client.post(
        "/v1/conversations/1/messages",
        json={"client_id": str(uuid.uuid4()), "type": "text", "text": "x"},
    )
    assert response.status_code == 403
    client.close()


def test_sse_streams_live_events_and_resumes_with_last_event_id(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    post_text(relay_server.url, "vorher")
    token = login(relay_server.url, "anna").headers["Authorization"]

    async def read(after_id: str | None, want: int, trigger: str | None) -> list[dict]:
        headers = {"Authorization": token}
        if after_id:
            headers["Last-Event-ID"] = after_id
        got: list[dict] = []
        async with httpx.AsyncClient(base_url=relay_server.url, timeout=20) as client:
            async with aconnect_sse(client, "GET", "/v1/events", headers=headers) as source:
                if trigger:
                    asyncio.get_running_loop().run_in_executor(
                        None, post_text, relay_server.url, trigger
                    )
                async for sse in source.aiter_sse():
                    if not sse.data:
                        continue  # the retry hint, as a browser's EventSource ignores it
                    ev = json.loads(sse.data)
                    assert sse.id == str(ev["seq"])
                    got.append(ev)
                    if len(got) >= want:
                        return got
        return got

    first = asyncio.run(asyncio.wait_for(read(None, 4, "live"), 15))
    texts = [e["data"]["text"] for e in first if e["type"] == "message"]
    assert texts == ["vorher", "live"]
    resumed = asyncio.run(asyncio.wait_for(read(str(first[1]["seq"]), 2, None), 15))
    assert [e["seq"] for e in resumed] == [e["seq"] for e in first[2:4]]


def test_send_command_is_idempotent_and_checks_input(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    post_text(relay_server.url, "Hallo")
    client = login(relay_server.url, "anna")
    client_id = str(uuid.uuid4())
    first = client.post(
        "/v1/conversations/1/messages",
        json={"client_id": client_id, "type": "text", "text": "Guten Tag"},
    )
    again = client.post(
        "/v1/conversations/1/messages",
        json={"client_id": client_id, "type": "text", "text": "Guten Tag"},
    )
    assert first.status_code == 202 and again.status_code == 200
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    assert first.json()["message"]["status"] in ("queued", "sending", "failed")
    assert (
        client.post(
            "/v1/conversations/999/messages", json={"client_id": str(uuid.uuid4()), "text": "x"}
        ).status_code
        == 404
    )
    for bad in (
        {"client_id": "nope", "text": "x"},
        {"client_id": str(uuid.uuid4()), "text": ""},
        {"client_id": str(uuid.uuid4()), "text": "x" * 4097},
    ):
        response = client.post("/v1/conversations/1/messages", json=bad)
        assert response.status_code == 422 and "message" in response.json()
    client.close()


@pytest.mark.parametrize("hours", [25])
def test_free_text_outside_the_window_is_refused(
    relay_server: LiveServer, relay_settings: RelaySettings, hours: int
) -> None:
    import time

    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    post_text(relay_server.url, "alt", ts=time.time() - hours * 3600)
    client = login(relay_server.url, "anna")
    response = client.post(
        "/v1/conversations/1/messages", json={"client_id": str(uuid.uuid4()), "text": "Hallo?"}
    )
    assert response.status_code == 422 and response.json()["error"] == "window_closed"
    client.close()
