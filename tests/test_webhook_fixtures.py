"""Every real webhook payload in the shared fixtures is accepted and nothing in it is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.relay.db import Database
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.store import Store
from inbox_app.whatsapp.webhook import parse_envelope
from tests.live_server import LiveServer
from tests.webhooks import signed

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/whatsapp/pywa/tests/data/updates"


def all_payloads() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        for name, payload in json.loads(path.read_text(encoding="utf-8")).items():
            found.append((f"{path.stem}#{name}", payload))
    return found


PAYLOADS = all_payloads()


def test_fixtures_are_there() -> None:
    assert len(PAYLOADS) >= 70, FIXTURES


@pytest.mark.parametrize(("name", "payload"), PAYLOADS, ids=[n for n, _ in PAYLOADS])
def test_every_fixture_parses(name: str, payload: dict[str, Any]) -> None:
    batch = parse_envelope(payload)
    value = payload["entry"][0]["changes"][0]["value"]
    if payload["entry"][0]["changes"][0]["field"] == "messages":
        assert len(batch.messages) == len(value.get("messages", []))
        assert len(batch.statuses) == len(value.get("statuses", []))
        for msg in batch.messages:
            assert msg.wamid and msg.from_id
            assert msg.type  # unknown types become "unsupported", never empty
    elif payload["entry"][0]["changes"][0]["field"] == "account_update":
        assert batch.messages == [] and batch.ignored_fields == ["account_update"]
    else:
        # calls, template updates, preferences and echoes each land in their own list
        assert batch.calls or batch.templates or batch.preferences or batch.messages
        assert batch.ignored_fields == []


def test_text_fixture_fields() -> None:
    payload = dict(PAYLOADS)["message#text"]
    (msg,) = parse_envelope(payload).messages
    assert (msg.from_id, msg.text, msg.contact_name, msg.timestamp) == (
        "972987654321",
        "Body Text",
        "Test Name",
        1697043223.0,
    )


def test_failed_status_fixture_carries_its_error() -> None:
    (status,) = parse_envelope(dict(PAYLOADS)["message_status#failed"]).statuses
    assert status.status == "failed" and status.error_code == 130472


def test_relay_accepts_every_fixture_and_keeps_every_message(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    expected = set()
    with httpx.Client(base_url=relay_server.url) as client:
        for _name, payload in PAYLOADS:
            body, headers = signed(payload)
            assert client.post("/webhook", content=body, headers=headers).status_code == 200
            # reactions, edits and deletions change their target instead of adding a row
            expected |= {m.wamid for m in parse_envelope(payload).messages if not m.is_action}
        # a second delivery of everything changes nothing
        for _name, payload in PAYLOADS:
            body, headers = signed(payload)
            assert client.post("/webhook", content=body, headers=headers).status_code == 200
    db = Database(relay_settings.database_url)
    try:
        assert Store(db).count_messages() == len(expected)
    finally:
        db.dispose()


def test_one_post_with_several_entries_changes_and_messages_is_stored_whole(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    """Meta batches; every entry, change and message counts (QUALITY R5)."""
    text = dict(PAYLOADS)["message#text"]
    entries = []
    for e in range(2):
        changes = []
        for c in range(2):
            value = json.loads(json.dumps(text["entry"][0]["changes"][0]["value"]))
            value["messages"] = [
                {**value["messages"][0], "id": f"wamid.batch{e}{c}{m}"} for m in range(3)
            ]
            changes.append({"field": "messages", "value": value})
        entries.append({"id": "1", "changes": changes})
    body, headers = signed({"object": "whatsapp_business_account", "entry": entries})
    assert (
        httpx.post(relay_server.url + "/webhook", content=body, headers=headers).status_code == 200
    )
    db = Database(relay_settings.database_url)
    try:
        assert Store(db).count_messages() == 12
    finally:
        db.dispose()
