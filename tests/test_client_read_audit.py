"""Reads on the desktop reach the relay's audit trail: searches of the encrypted cache and
conversations opened, sent at once when online and queued (in the cache) while offline;
never the words searched for. And signing in with a second factor through the engine."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from inbox_app.client.api import Unauthorized
from inbox_app.client.engine import ConnectionState
from inbox_app.relay.audit import AuditLog
from inbox_app.relay.db import Database
from tests.test_client_records import first_conversation, login, started
from tests.test_client_sync import PASSWORD, Relay, make_engine, wait_until


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    try:
        yield relay
    finally:
        relay.stop()


def audit_of(relay: Relay, user: str) -> list[dict[str, Any]]:
    db = Database(relay.settings.database_url)
    try:
        return AuditLog(db).entries(username=user)
    finally:
        db.dispose()


def reads(relay: Relay) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [
        (e["action"], e["conversation_id"], e["detail"])
        for e in audit_of(relay, "anna")
        if e["action"] in ("search", "conversation_opened")
    ]


def test_searches_and_openings_are_audited_and_queued_offline(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Ist mein Befund SENTINEL schon da?")

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:
            cid = await first_conversation(engine)
            hits = await engine.search("Befund")
            assert [m.conversation_id for m in hits] == [cid]
            await engine.opened(cid, via="search")
            assert await engine.search("nichtda") == []

            async def reported() -> bool:
                return len(reads(relay)) == 3

            await wait_until(reported, what="the reads on the relay")
            assert reads(relay) == [
                ("search", None, {"results": 1, "conversation_ids": []}),
                ("conversation_opened", cid, {"via": "search"}),
                ("search", None, {"results": 0, "conversation_ids": []}),
            ]

            # Offline: the search still works on the cache; its report waits there.
            relay.stop()

            async def offline() -> bool:
                return engine.connection is ConnectionState.OFFLINE

            await wait_until(offline, what="offline")
            assert len(await engine.search("Befund")) == 1
            await engine.opened(cid)
            queue = engine.read_reports
            assert queue is not None
            waiting = await queue.pending()
            assert [r["kind"] for r in waiting] == ["search", "opened"]
            assert "Befund" not in json.dumps(waiting)
            await asyncio.sleep(0.5)
            assert len(reads(relay)) == 3

            relay.start()

            async def flushed() -> bool:
                return len(reads(relay)) == 5 and not await queue.pending()

            await wait_until(flushed, timeout=15, what="the queued reads sent")
            assert reads(relay)[3:] == [
                ("search", None, {"results": 1, "conversation_ids": []}),
                ("conversation_opened", cid, {"via": "list"}),
            ]
        finally:
            await engine.close()

    asyncio.run(scenario())
    everything = json.dumps(audit_of(relay, "anna"))
    assert "SENTINEL" not in everything and "Befund" not in everything


def test_engine_signs_in_with_a_second_factor(relay: Relay, tmp_path: Path) -> None:
    with login(relay, "anna") as anna:
        secret = anna.post("/v1/auth/totp/enrol").json()["secret"]
        confirmed = anna.post(
            "/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).at(time.time())}
        )
        assert confirmed.json()["enabled"] is True

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "d")
        with pytest.raises(Unauthorized) as asked:
            await engine.sign_in("anna", PASSWORD)
        assert asked.value.code == "totp_required"
        with pytest.raises(Unauthorized) as wrong:
            await engine.sign_in("anna", PASSWORD, code="000000")
        assert wrong.value.code == "totp_invalid"
        # the next time step's code (the confirming one is used up)
        user = await engine.sign_in("anna", PASSWORD, code=pyotp.TOTP(secret).at(time.time() + 30))
        assert user.username == "anna"
        await engine.close()

    asyncio.run(scenario())
    reasons = [e["detail"].get("reason") for e in audit_of(relay, "anna")]
    assert "totp_invalid" in reasons
    assert httpx.get(relay.url + "/healthz").status_code == 200
