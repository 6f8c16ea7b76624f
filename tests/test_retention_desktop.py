"""Retention purges reach the desktop caches: what the relay purged is gone on every PC.

A real relay over HTTP (SQLite and PostgreSQL), real engines with SQLCipher caches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from inbox_app.client.cache import Cache, note_message_id
from inbox_app.client.engine import ChangeSummary, ClientEngine, EngineConfig
from inbox_app.client.records import FeedEvent
from inbox_app.domain.roles import Role
from inbox_app.relay.db import Database
from inbox_app.relay.retention import DAY, YEAR, Policy, Retention, place_hold
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_client_cache import conversation, message, new_key
from tests.test_client_sync import FAST_KDF, PASSWORD, wait_until
from tests.test_relay_api import add_user, login
from tests.test_relay_atrest import JPEG, inbound_media, ready_media, running, settings_for
from tests.webhooks import signed, text_message

# One distinct word per kind of content, so a search or a byte check can name each.
OLD = "Altbefundxq"  # old messages of a conversation that stays
GONE = "Verzogenxq"  # old messages of a conversation that goes entirely
HELD = "Streitfallxq"  # old messages under a legal hold
NOTE = "Notizaltxq"  # an old internal note
NEW = "Neubefundxq"  # a recent message

STAYS, LEAVES, HOLDS = "4915100000001", "4915100000003", "4915100000002"


@pytest.fixture
def relay_settings(relay_settings: RelaySettings) -> RelaySettings:
    # The relay purges messages older than two years, when the admin says so: its own
    # periodic run (automation) is off, so it cannot race the seeding of old messages.
    return replace(relay_settings, message_retention_years=2, run_automation=False)


def post(url: str, body_text: str, wa_id: str, ts: float) -> None:
    body, headers = signed(text_message(body_text, wa_id=wa_id, ts=ts))
    response = httpx.post(url + "/webhook", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def engine_for(url: str, data_dir: Path) -> ClientEngine:
    return ClientEngine(
        EngineConfig(relay_url=url, data_dir=data_dir),
        kdf=FAST_KDF,
        backoff_initial=0.2,
        backoff_max=1.0,
        keyring_backends=[],
    )


def feed(url: str, name: str) -> list[dict[str, Any]]:
    """Everything ``name`` receives from cursor 0, as a fresh desktop would."""
    events: list[dict[str, Any]] = []
    after = 0
    with login(url, name, PASSWORD) as client:
        while True:
            page = client.get("/v1/sync", params={"after": after, "limit": 1000}).json()
            events += page["events"]
            after = page["next"]
            if not page["more"]:
                return events


@pytest.fixture
def seeded(relay_server: LiveServer, relay_settings: RelaySettings) -> Iterator[LiveServer]:
    add_user(relay_settings, "anna", Role.RECEPTIONIST, PASSWORD)
    add_user(relay_settings, "root", Role.ADMIN, PASSWORD)
    long_ago = time.time() - 3 * YEAR
    for i in range(5):
        post(relay_server.url, f"{OLD} {i}", STAYS, long_ago + i)
    post(relay_server.url, f"{NEW} heute", STAYS, time.time())
    for i in range(2):
        post(relay_server.url, f"{GONE} {i}", LEAVES, long_ago + i)
    for i in range(3):
        post(relay_server.url, f"{HELD} {i}", HOLDS, long_ago + i)
    yield relay_server


def conversation_id(db_url: str, wa_id: str) -> int:
    db = Database(db_url)
    try:
        with db.read() as conn:
            return int(
                conn.execute(
                    text("SELECT id FROM conversations WHERE wa_id = :w"), {"w": wa_id}
                ).scalar_one()
            )
    finally:
        db.dispose()


def test_purge_reaches_the_desktop_cache_and_a_fresh_desktop_never_sees_it(
    seeded: LiveServer, relay_settings: RelaySettings, tmp_path: Path
) -> None:
    url, db_url = seeded.url, relay_settings.database_url
    stays, leaves, holds = (conversation_id(db_url, w) for w in (STAYS, LEAVES, HOLDS))
    db = Database(db_url)
    try:
        place_hold(db, conversation_id=holds, reason="Beschwerde bei der Ärztekammer")
    finally:
        db.dispose()
    summaries: list[ChangeSummary] = []
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        engine = engine_for(url, tmp_path / "desk-1")
        engine.add_listener(summaries.append)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:

            async def all_cached() -> bool:
                return (
                    len(await engine.conversations()) == 3
                    and len(await engine.messages(stays)) == 6
                )

            await wait_until(all_cached, timeout=20, what="the desktop caches everything")
            note = await engine.add_note(stays, f"{NOTE} Rückruf vereinbart")
            assert await engine.search(OLD) and await engine.search(GONE)
            old_ids = {m.id for m in await engine.messages(stays) if OLD in (m.text or "")}
            assert len(old_ids) == 5 and note.id in {m.id for m in await engine.messages(stays)}
            seen.update(old_ids=old_ids, note_id=note.id)

            # The note is old too (written years ago, as far as the relay knows).
            relay_db = Database(db_url)
            try:
                with relay_db.write() as conn:
                    conn.execute(text("UPDATE notes SET created_at = :t"), {"t": 1000.0})
            finally:
                relay_db.dispose()
            with login(url, "root", PASSWORD) as admin:
                r = await asyncio.to_thread(admin.post, "/v1/admin/retention/run")
            assert r.status_code == 200, r.text
            purged = r.json()["purged"]
            assert (purged["messages"], purged["notes"], purged["conversations"]) == (7, 1, 1)
            assert purged["held_conversations"] == 1

            async def purged_on_desktop() -> bool:
                return [c.id for c in await engine.conversations()] in (
                    [stays, holds],
                    [holds, stays],
                )

            await wait_until(purged_on_desktop, timeout=20, what="the purge reaches the desk")
            left = await engine.messages(stays)
            assert [m.text for m in left] == [f"{NEW} heute"]  # the note went as well
            assert await engine.messages(leaves) == []
            assert await engine.search(OLD) == []
            assert await engine.search(GONE) == []
            assert await engine.search(NOTE) == []
            assert [m.text for m in await engine.search(NEW)] == [f"{NEW} heute"]
            held = await engine.messages(holds)
            assert sorted(m.text or "" for m in held) == [f"{HELD} {i}" for i in range(3)]
            assert len(await engine.search(HELD)) == 3
            (row,) = [c for c in await engine.conversations() if c.id == stays]
            assert OLD not in row.last_message_preview
            # The UI hears which conversations and messages changed (to reload the thread).
            changed = ChangeSummary()
            for s in summaries:
                changed = replace(
                    changed,
                    conversation_ids=changed.conversation_ids | s.conversation_ids,
                    message_ids=changed.message_ids | s.message_ids,
                )
            assert {stays, leaves} <= changed.conversation_ids
            assert old_ids | {note.id} <= changed.message_ids
        finally:
            await engine.close()

        # A desk set up after the purge never receives what went.
        fresh = engine_for(url, tmp_path / "desk-2")
        await fresh.sign_in("anna", PASSWORD)
        await fresh.start()
        try:

            async def synced() -> bool:
                return (
                    len(await fresh.conversations()) == 2 and len(await fresh.messages(holds)) == 3
                )

            await wait_until(synced, timeout=20, what="the fresh desktop catches up")
            texts = [m.text or "" for c in (stays, holds) for m in await fresh.messages(c)]
            assert not [t for t in texts if OLD in t or GONE in t or NOTE in t]
            assert f"{NEW} heute" in texts
        finally:
            await fresh.close()

    asyncio.run(scenario())

    staff_feed = feed(url, "anna")
    dumped = json.dumps(staff_feed)
    for word in (OLD, GONE, NOTE):
        assert word not in dumped, word
    assert HELD in dumped and NEW in dumped
    notices = [e for e in staff_feed if e["type"] == "retention.purged"]
    by_conversation = {e["data"].get("conversation_id"): e["data"] for e in notices}
    assert set(by_conversation) == {stays, None}  # nothing about the held conversation
    assert set(by_conversation[stays]["message_ids"]) == seen["old_ids"]
    assert [note_message_id(n) for n in by_conversation[stays]["note_ids"]] == [seen["note_id"]]
    assert by_conversation[None]["conversation_ids"] == [leaves]
    # Ids and a cutoff only: no patient content in the notices.
    for data in by_conversation.values():
        assert set(data) <= {
            "conversation_id",
            "before",
            "message_ids",
            "note_ids",
            "conversation_ids",
        }
    # An admin sees no conversation: only the notice that names removed ones by id.
    admin_notices = [e["data"] for e in feed(url, "root") if e["type"] == "retention.purged"]
    assert admin_notices == [by_conversation[None]]


# -- the cache on its own: previews, and events it cannot read --------------------------


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_purging_the_newest_message_updates_the_preview_and_bad_notices_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        cache = await Cache.open(tmp_path / "cache.db", new_key())
        try:
            await cache.apply_events(
                [
                    conversation(1, 1, at=300.0),
                    conversation(2, 2, at=300.0),
                    message(11, 3, cid=1, text="Blutdruck stabil", ts=100.0),
                    message(12, 4, cid=1, text="Befundgeheim morgen", ts=300.0),
                    message(21, 5, cid=2, text="anderer Patient", ts=300.0),
                ],
                5,
            )
            caplog.set_level(logging.WARNING, logger="inbox.client.cache")
            changes = await cache.apply_events(
                [
                    # Malformed: skipped with a log line; the rest of the batch still applies.
                    FeedEvent(6, "retention.purged", {"conversation_id": 1, "message_ids": "all"}),
                    FeedEvent(7, "retention.purged", {"message_ids": [21]}),
                    FeedEvent(8, "retention.purged", {"conversation_id": "1"}),
                    # A wrong conversation never deletes another one's messages.
                    FeedEvent(9, "retention.purged", {"conversation_id": 1, "message_ids": [21]}),
                    FeedEvent(
                        10,
                        "retention.purged",
                        {"conversation_id": 1, "before": 400.0, "message_ids": [12, 99]},
                    ),
                ],
                10,
            )
            assert changes.conversation_ids == {1}
            assert changes.message_ids == {12}
            assert [m.id for m in await cache.messages(1)] == [11]
            assert [m.id for m in await cache.messages(2)] == [21]
            assert await cache.search("Befundgeheim") == []
            (first,) = await cache.conversations_by_id([1])
            assert first.last_message_preview == "Blutdruck stabil"
            assert await cache.cursor() == 10

            warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert [w for w in warnings if "seq=6" in w or "seq=7" in w or "seq=8" in w]
            assert len([w for w in warnings if "malformed" in w]) == 3
            assert not [w for w in warnings if "Befund" in w or "Blutdruck" in w]

            # Removing a conversation: its messages and notes go, the note id is reported.
            await cache.apply_events(
                [
                    FeedEvent(
                        11,
                        "note",
                        {
                            "id": 5,
                            "conversation_id": 2,
                            "author_id": 1,
                            "text": "intern",
                            "mentions": [],
                            "created_at": 50.0,
                        },
                    )
                ],
                11,
            )
            assert await cache.note(note_message_id(5)) is not None
            changes = await cache.apply_events(
                [FeedEvent(12, "retention.purged", {"before": 400.0, "conversation_ids": [2, 77]})],
                12,
            )
            assert changes.conversation_ids == {2}
            assert [c.id for c in await cache.conversations()] == [1]
            assert await cache.messages(2) == []
            assert await cache.note(note_message_id(5)) is None
        finally:
            await cache.close()

    run(scenario())


# -- the media period: the attachment's new state goes to the feed ----------------------


def test_media_purge_tells_desktops_the_attachment_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media_dir = tmp_path / "media"
    monkeypatch.setenv("INBOX_MEDIA_DIR", str(media_dir))
    settings = settings_for(tmp_path)
    add_user(settings, "anna", Role.RECEPTIONIST)
    with running(settings) as p:
        inbound_media(p, "image", JPEG, "image/jpeg", caption="Foto vom Ausschlag")
        (image,) = ready_media(p, 1)
        relay = p.relay.app.state.relay
        report = Retention(relay.db, Policy(media_days=30)).run(time.time() + 40 * DAY)
        assert report.media_files == 1 and list(media_dir.iterdir()) == []
        events = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        latest = [e["data"] for e in events if e["type"] == "message"][-1]
        assert latest["id"] == image["id"] and latest["media"]["state"] == "purged"
        assert latest["text"] == "Foto vom Ausschlag"  # the message itself stays
        assert p.staff.get(f"/v1/media/{image['media']['id']}").status_code == 409
