"""Whole records through the desktop engine against a real relay: teamwork fields, notes,
conversation commands, presence, forward paging, the patient register and consent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.client.api import ConversationClaimed, RelayUnavailable
from inbox_app.client.cache import NOTE_ID_BASE, Cache
from inbox_app.client.engine import ClientEngine, ConnectionState
from inbox_app.domain.appointments import AppointmentStatus
from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.relay.consent import Consents
from inbox_app.relay.db import Database
from inbox_app.relay.patients import AppointmentIn, PatientIn, Registry
from inbox_app.relay.store import Store
from tests.test_client_sync import PASSWORD, Relay, make_engine, wait_until

WA_ID = "4915100000001"


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    relay.add_user("bob")
    try:
        yield relay
    finally:
        relay.stop()


def login(relay: Relay, name: str) -> httpx.Client:
    response = httpx.post(
        relay.url + "/v1/auth/login", json={"username": name, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    return httpx.Client(
        base_url=relay.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def relay_conversation(relay: Relay, cid: int) -> dict[str, Any]:
    states = [e["data"] for e in relay.all_events() if e["type"] == "conversation"]
    found: dict[str, Any] = [s for s in states if s["id"] == cid][-1]
    return found


async def started(relay: Relay, data_dir: Path, name: str = "anna") -> ClientEngine:
    engine = make_engine(relay, data_dir)
    await engine.sign_in(name, PASSWORD)
    await engine.start()

    async def online() -> bool:
        return engine.connection is ConnectionState.ONLINE

    await wait_until(online, what="online")
    return engine


async def first_conversation(engine: ClientEngine) -> int:
    async def has() -> bool:
        return bool(await engine.conversations())

    await wait_until(has, what="a conversation")
    return (await engine.conversations())[0].id


def test_teamwork_fields_survive_the_cache(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Guten Tag")

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:
            cid = await first_conversation(engine)
            me = engine.user
            assert me is not None
            claimed = await engine.claim(cid)
            assert claimed.claimed_by == me.id
            await engine.set_labels(cid, ["rezept", "dringend"])
            await engine.escalate(cid)

            async def synced() -> bool:
                conv = (await engine.conversations_by_id(frozenset({cid})))[0]
                return conv.claimed_by == me.id and "escalated" in conv.labels

            await wait_until(synced, what="teamwork state in the cache")
        finally:
            await engine.close()
        # Back out of the cache after a restart, with the relay's exact state.
        engine = make_engine(relay, tmp_path / "d")
        await engine.sign_in("anna", PASSWORD)
        try:
            conv = (await engine.conversations())[0]
            assert conv.claimed_by == me.id
            assert conv.claimed_by_name
            assert conv.labels == ("dringend", "escalated", "rezept")
            assert conv.escalated
            assert conv.status == "open"
            assert relay_conversation(relay, cid)["labels"] == list(conv.labels)
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_notes_appear_in_messages_in_order(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Erste Nachricht", ts=time.time() - 60)

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:
            cid = await first_conversation(engine)
            with login(relay, "bob") as bob:
                r = bob.post(
                    f"/v1/conversations/{cid}/notes",
                    json={"client_id": "5b0c3f5e-1d2a-4b7e-9c1f-0a1b2c3d4e5f", "text": "Notiz"},
                )
                assert r.status_code == 200, r.text

            async def note_seen() -> bool:
                return any(m.type == "note" for m in await engine.messages(cid))

            await wait_until(note_seen, what="bob's note from the feed")
            own = await engine.add_note(cid, "Eigene Notiz")
            assert own.type == "note" and own.text == "Eigene Notiz"
            relay.post_text("Zweite Nachricht", ts=time.time() + 1)

            async def three() -> bool:
                return len(await engine.messages(cid)) == 4

            await wait_until(three, what="all messages and notes")
            rows = await engine.messages(cid)
            assert [(m.type, m.text) for m in rows] == [
                ("text", "Erste Nachricht"),
                ("note", "Notiz"),
                ("note", "Eigene Notiz"),
                ("text", "Zweite Nachricht"),
            ]
            notes = [m for m in rows if m.type == "note"]
            assert all(m.id <= -NOTE_ID_BASE for m in notes)
            assert len({m.id for m in rows}) == 4
            details = await engine.note_details(notes[0].id)
            assert details is not None and details["author_name"]
            assert (await engine.messages_by_id(frozenset({own.id})))[0].text == "Eigene Notiz"
            # Keyset paging walks across the notes without gaps or repeats.
            newest = await engine.messages(cid, limit=2)
            older = await engine.messages(cid, before=(newest[0].timestamp, newest[0].id), limit=2)
            assert [m.id for m in older + newest] == [m.id for m in rows]
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_claim_take_over_and_resolve_change_the_relay(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Hallo")

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:
            cid = await first_conversation(engine)
            with login(relay, "bob") as bob:
                r = bob.post(
                    f"/v1/conversations/{cid}/claim",
                    json={"client_id": "0d9f7b7e-8f0a-4c1e-9d7e-3d0c2a3b4c5d"},
                )
                assert r.status_code == 200, r.text
                bob_id = r.json()["conversation"]["claimed_by"]
            with pytest.raises(ConversationClaimed) as held:
                await engine.claim(cid)
            assert held.value.claimed_by is not None and held.value.claimed_by["id"] == bob_id
            me = engine.user
            assert me is not None
            taken = await engine.take_over(cid)
            assert taken.claimed_by == me.id
            assert relay_conversation(relay, cid)["claimed_by"] == me.id
            resolved = await engine.resolve(cid)
            assert resolved.status == "resolved"
            assert relay_conversation(relay, cid)["status"] == "resolved"
            await engine.release(cid)
            assert relay_conversation(relay, cid)["claimed_by"] is None
            await engine.mark_read(cid)
            await engine.opened(cid)

            async def cached() -> bool:
                conv = (await engine.conversations_by_id(frozenset({cid})))[0]
                return conv.status == "resolved" and conv.claimed_by is None

            await wait_until(cached, what="resolved state in the cache")
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_commands_need_the_relay(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Hallo")

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:
            cid = await first_conversation(engine)
            relay.stop()
            with pytest.raises(RelayUnavailable):
                await engine.claim(cid)
            with pytest.raises(RelayUnavailable):
                await engine.set_presence(cid, "typing")
        finally:
            await engine.close()
            relay.start()

    asyncio.run(scenario())


def test_presence_typing_reaches_the_listener(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Hallo")

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        seen: list[tuple[int, str | None, list[str]]] = []
        engine.add_presence_listener(lambda c, t, v: seen.append((c, t, v)))
        try:
            cid = await first_conversation(engine)
            with login(relay, "bob") as bob:

                async def typing_seen() -> bool:
                    # Repeated like a client does: the stream may open after the first one.
                    r = bob.post("/v1/presence", json={"conversation_id": cid, "state": "typing"})
                    assert r.status_code == 200, r.text
                    await asyncio.sleep(0.2)
                    return any(t for _, t, _ in seen)

                await wait_until(typing_seen, what="bob typing")
                cid_seen, typing_name, viewing = next(s for s in seen if s[1])
                assert cid_seen == cid and typing_name
                assert typing_name in viewing
                bob.post("/v1/presence", json={"conversation_id": cid, "state": "idle"})

                async def idle_seen() -> bool:
                    return seen[-1][1] is None and seen[-1][2] == []

                await wait_until(idle_seen, what="bob idle")
            await engine.set_presence(cid, "viewing")  # accepted by the relay
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_after_pages_forward(relay: Relay, tmp_path: Path) -> None:
    base = time.time() - 600
    for i in range(6):
        relay.post_text(f"Nachricht {i}", ts=base + i)

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:
            cid = await first_conversation(engine)

            async def all_six() -> bool:
                return len(await engine.messages(cid)) == 6

            await wait_until(all_six, what="six messages")
            rows = await engine.messages(cid)
            page = await engine.messages(cid, after=(rows[1].timestamp, rows[1].id), limit=3)
            assert [m.id for m in page] == [m.id for m in rows[2:5]]
            rest = await engine.messages(cid, after=(page[-1].timestamp, page[-1].id), limit=3)
            assert [m.id for m in rest] == [rows[5].id]
            with pytest.raises(ValueError):
                await engine.messages(cid, before=(1.0, 1), after=(1.0, 1))
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_patients_appointments_and_consent(relay: Relay, tmp_path: Path) -> None:
    now = time.time()
    db = Database(relay.settings.database_url)
    try:
        store = Store(db)
        Registry(store).upsert(
            [
                PatientIn("p|1", "Muster", "Erika", "1980-01-01", wa_id=WA_ID),
                PatientIn("p|2", "Muster", "Max", "2015-05-05", wa_id=WA_ID),
            ],
            [
                AppointmentIn(
                    "a|past", "p|1", now - 86400, now - 84600, AppointmentStatus.ATTENDED
                ),
                AppointmentIn("a|late", "p|1", now + 7200, now + 9000, AppointmentStatus.BOOKED),
                AppointmentIn("a|soon", "p|1", now + 3600, now + 5400, AppointmentStatus.BOOKED),
            ],
        )
        with db.writer.begin() as conn:
            Consents(store).record(
                conn,
                wa_id=WA_ID,
                purposes=[ConsentPurpose.REMINDERS],
                granted=True,
                source=ConsentSource.FORM,
            )
    finally:
        db.dispose()

    async def scenario() -> None:
        engine = await started(relay, tmp_path / "d")
        try:

            async def two() -> bool:
                return len(await engine.patients_for(WA_ID)) == 2

            await wait_until(two, what="patients")
            patients = await engine.patients_for(WA_ID)
            assert [p.given_name for p in patients] == ["Erika", "Max"]
            appts = await engine.appointments_for(patients[0].id)
            assert [a.external_id for a in appts] == ["a|soon", "a|late", "a|past"]
            assert appts[0].status is AppointmentStatus.BOOKED
            assert await engine.appointments_for(patients[1].id) == []
            consents = await engine.consents_for(WA_ID)
            assert [(c.purpose, c.granted) for c in consents] == [(ConsentPurpose.REMINDERS, True)]
            assert await engine.patients_for("4900000000000") == []
        finally:
            await engine.close()

    asyncio.run(scenario())


def test_v1_cache_is_migrated(tmp_path: Path) -> None:
    """A schema v1 cache gains the new columns/tables, keeps its rows and FTS, and replays
    the feed from 0 (the old cursor becomes the wipe floor)."""
    path = tmp_path / "c" / "cache.db"
    key = "cd" * 32

    async def scenario() -> None:
        cache = await Cache.open(path, key)
        await cache.close()
        # Make it look like v1: drop what v2 added.
        import sqlcipher3.dbapi2 as sqlcipher

        conn = sqlcipher.connect(str(path))
        conn.execute(f"PRAGMA key = \"x'{key}'\"")
        for table in ("notes", "patients", "appointments", "consents"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE messages DROP COLUMN data")
        conn.execute("ALTER TABLE conversations DROP COLUMN data")
        conn.execute(
            "INSERT INTO messages (id, conversation_id, direction, type, text, status, "
            "timestamp) VALUES (7, 1, 'in', 'text', 'Altbestand', 'received', 1.0)"
        )
        conn.execute("INSERT INTO meta (key, value) VALUES ('cursor', '42')")
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
        conn.close()

        cache = await Cache.open(path, key)
        try:
            assert await cache.cursor() == 0
            assert await cache.get_meta("wipe_floor") == "42"
            [old] = await cache.messages(1)
            assert old.text == "Altbestand" and old.reactions == ()
            assert [m.id for m in await cache.search("altbest")] == [7]
            assert await cache.patients_for(WA_ID) == []
        finally:
            await cache.close()

    asyncio.run(scenario())


def test_cache_merge_rules_keep_whole_records(tmp_path: Path) -> None:
    """Newer state wins with the extra fields too: conversation seq, message status rank,
    wamid never cleared; an expired claim lease reads as free."""
    from inbox_app.client.records import FeedEvent

    conv = {
        "id": 1,
        "wa_id": WA_ID,
        "display_name": "Erika",
        "phone": None,
        "last_message_at": 5.0,
        "last_message_preview": "x",
        "status": "pending",
        "labels": ["a"],
        "claimed_by": 3,
        "claimed_by_name": "Bob",
        "claim_expires_at": time.time() + 600,
    }
    msg = {
        "id": 9,
        "conversation_id": 1,
        "direction": "out",
        "type": "text",
        "text": "hi",
        "status": "delivered",
        "timestamp": 5.0,
        "wamid": "wamid.X",
        "reactions": ["👍"],
        "reply_to_id": 4,
    }

    async def scenario() -> None:
        cache = await Cache.open(tmp_path / "c" / "cache.db", "ef" * 32)
        try:
            await cache.apply_events(
                [FeedEvent(10, "conversation", conv), FeedEvent(11, "message", msg)], 11
            )
            stale_conv = {**conv, "status": "open", "labels": []}
            stale_msg = {**msg, "status": "sent", "wamid": None, "reactions": []}
            await cache.apply_events(
                [FeedEvent(5, "conversation", stale_conv), FeedEvent(6, "message", stale_msg)],
                11,
            )
            [c] = await cache.conversations()
            assert (c.status, c.labels, c.claimed_by) == ("pending", ("a",), 3)
            [m] = await cache.messages(1)
            assert (m.status, m.wamid, m.reactions, m.reply_to_id) == (
                "delivered",
                "wamid.X",
                ("👍",),
                4,
            )
            newer = {**msg, "status": "read", "wamid": None, "reactions": ["❤️"]}
            expired = {**conv, "claim_expires_at": time.time() - 1}
            await cache.apply_events(
                [FeedEvent(12, "message", newer), FeedEvent(13, "conversation", expired)], 13
            )
            [m] = await cache.messages(1)
            assert (m.status, m.wamid, m.reactions) == ("read", "wamid.X", ("❤️",))
            [c] = await cache.conversations()
            assert c.claimed_by is None and c.claimed_by_name is None
        finally:
            await cache.close()

    asyncio.run(scenario())


def test_presence_from_before_the_stream_is_loaded(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Hallo")
    with login(relay, "anna") as anna:
        cid = anna.get("/v1/sync").json()["events"][0]["data"]["id"]
    with login(relay, "bob") as bob:
        r = bob.post("/v1/presence", json={"conversation_id": cid, "state": "viewing"})
        assert r.status_code == 200, r.text

    async def scenario() -> None:
        engine = make_engine(relay, tmp_path / "d")
        seen: list[tuple[int, str | None, list[str]]] = []
        engine.add_presence_listener(lambda c, t, v: seen.append((c, t, v)))
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:

            async def viewing() -> bool:
                return any(c == cid and v and t is None for c, t, v in seen)

            await wait_until(viewing, what="bob viewing, loaded at connect")
            assert engine.presence(cid)[1]
        finally:
            await engine.close()

    asyncio.run(scenario())
