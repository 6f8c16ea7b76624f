"""The engine's composer operations against a real relay and simulator: approved templates
(kept for offline), sending one outside the window, scheduling and cancelling a message, and
the staff directory for @mentions and filters."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.client.api import RelayError
from inbox_app.client.engine import ClientEngine, EngineConfig
from inbox_app.domain.messages import MessageStatus
from inbox_app.domain.roles import Role
from inbox_app.relay.auth import Accounts
from inbox_app.relay.db import Database
from inbox_app.relay.teams import Teams
from tests.test_client_sync import FAST_KDF, wait_until
from tests.test_relay_outbox import Pair, pair  # noqa: F401 (the relay+simulator fixture)
from tests.webhooks import signed, text_message

WA = "4915100000101"


@pytest.fixture(autouse=True)
def _waba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_WABA_ID", "102290129340398")  # the simulator's default


def _engine(p: Pair, tmp_path: Path) -> ClientEngine:
    return ClientEngine(
        EngineConfig(relay_url=p.relay.url, data_dir=tmp_path / "client"),
        keyring_backends=[],
        kdf=FAST_KDF,
        backoff_initial=0.2,
        backoff_max=1.0,
    )


def _old_conversation(p: Pair) -> None:
    body, headers = signed(text_message("Alt", wa_id=WA, ts=time.time() - 3 * 86400))
    assert httpx.post(p.relay.url + "/webhook", content=body, headers=headers).status_code == 200


def _colleague(p: Pair, db_url: str) -> None:
    db = Database(db_url)
    try:
        Accounts(db, idle_seconds=60, max_seconds=60).add_user(
            "ben", "correct horse", Role.NURSE, display_name="Ben Pflege"
        )
        Teams(db).add("Empfang")
    finally:
        db.dispose()


async def _templates(engine: ClientEngine) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while not (found := await engine.templates()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    return found


def test_template_outside_the_window_and_templates_offline(
    pair: Pair,  # noqa: F811
    tmp_path: Path,
) -> None:
    _old_conversation(pair)

    async def scenario() -> None:
        engine = _engine(pair, tmp_path)
        await engine.sign_in("anna", "correct horse")
        await engine.start()
        try:
            await wait_until(lambda: _has_conversation(engine), what="the conversation")
            found = await _templates(engine)
            names = {t["name"] for t in found}
            assert "appointment_confirmation" in names and "spring_offer" not in names
            confirmation = next(t for t in found if t["name"] == "appointment_confirmation")
            assert confirmation["body_params"] == ["1", "2"]
            with pytest.raises(RelayError) as refused:
                await engine.send_template(1, "appointment_confirmation", "de", ["Erika"])
            assert refused.value.status == 422
            record = await engine.send_template(
                1,
                "appointment_confirmation",
                "de",
                ["Erika", "Montag, 9 Uhr"],
                header=["morgen"],
                buttons={1: ["abc"]},
            )
            assert record.type == "template" and "Hallo Erika" in (record.text or "")
            shown = await engine.messages(1)
            assert any(m.id == record.id for m in shown)
        finally:
            await engine.close()
        # Offline (the relay is gone): the last known list still comes back.
        pair.relay.server.config.timeout_graceful_shutdown = 1
        pair.relay.stop()
        engine = _engine(pair, tmp_path)
        await engine.sign_in("anna", "correct horse")
        try:
            offline = await engine.templates()
            assert {t["name"] for t in offline} == names
        finally:
            await engine.close()

    asyncio.run(scenario())


async def _has_conversation(engine: ClientEngine) -> bool:
    return bool(await engine.conversations())


def test_schedule_cancel_and_directory(
    pair: Pair,  # noqa: F811
    tmp_path: Path,
    relay_settings: Any,
) -> None:
    pair.inbound("Hallo")

    async def scenario() -> None:
        engine = _engine(pair, tmp_path)
        await engine.sign_in("anna", "correct horse")
        await engine.start()
        try:
            await wait_until(lambda: _has_conversation(engine), what="the conversation")
            send_at = time.time() + 600
            scheduled = await engine.schedule_text(1, "Bis später", send_at)
            assert scheduled.status == MessageStatus.QUEUED and scheduled.send_at == send_at
            with pytest.raises(RelayError) as late:
                await engine.schedule_text(1, "Zu spät", time.time() + 30 * 3600)
            assert late.value.status == 422 and "window closes" in late.value.message
            cancelled = await engine.cancel_scheduled(scheduled.id)
            assert cancelled.status == MessageStatus.CANCELLED
            stored = await engine.messages_by_id(frozenset({scheduled.id}))
            assert stored[0].status == MessageStatus.CANCELLED
            directory = await engine.directory()
            people = {u["username"]: u for u in directory["users"]}
            assert people["ben"]["display_name"] == "Ben Pflege"
            assert "password_hash" not in people["ben"]
            assert [t["name"] for t in directory["teams"]] == ["Empfang"]
        finally:
            await engine.close()

    _colleague(pair, relay_settings.database_url)
    asyncio.run(scenario())
