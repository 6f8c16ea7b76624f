"""The encrypted cache on real SQLCipher files: encryption, errors, atomic batches, paging."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection

from inbox_app.client import cache as cache_module
from inbox_app.client.cache import (
    Cache,
    CacheCorrupt,
    CacheKeyError,
    CacheTooNew,
    CipherUnavailable,
)
from inbox_app.client.records import FeedEvent

T = TypeVar("T")
SENTINEL = "ZEBRA-SENTINEL-4711 Brustschmerzen seit gestern"
NAME_SENTINEL = "Quirinius Sentinelmann"


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def new_key() -> str:
    return secrets.token_bytes(32).hex()


def conversation(cid: int, seq: int, *, unread: int = 0, at: float = 1000.0) -> FeedEvent:
    return FeedEvent(
        seq,
        "conversation",
        {
            "id": cid,
            "wa_id": f"49151000{cid:05d}",
            "display_name": NAME_SENTINEL,
            "phone": f"+49151000{cid:05d}",
            "last_message_at": at,
            "last_message_preview": "…",
            "last_inbound_at": at,
            "unread": unread,
        },
    )


def message(
    mid: int,
    seq: int,
    *,
    cid: int = 1,
    text: str | None = "hello",
    status: str = "received",
    ts: float | None = None,
    wamid: str | None = None,
    client_id: str | None = None,
    direction: str = "in",
) -> FeedEvent:
    return FeedEvent(
        seq,
        "message",
        {
            "id": mid,
            "conversation_id": cid,
            "direction": direction,
            "type": "text",
            "text": text,
            "status": status,
            "timestamp": float(mid) if ts is None else ts,
            "wamid": wamid,
            "client_id": client_id,
            "error_code": None,
            "error_title": None,
            "author_id": None,
        },
    )


async def with_cache(path: Path, key: str, body: Callable[[Cache], Awaitable[T]]) -> T:
    cache = await Cache.open(path, key)
    try:
        return await body(cache)
    finally:
        await cache.close()


def test_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"
    key = new_key()

    async def write(cache: Cache) -> None:
        await cache.apply_events([conversation(1, 1)], 1)

    run(with_cache(path, key, write))
    with pytest.raises(CacheKeyError):
        run(Cache.open(path, new_key()))
    with pytest.raises(ValueError):
        run(Cache.open(path, "not-hex" * 9))
    # the right key still opens it after the failed attempts
    assert run(with_cache(path, key, lambda c: c.cursor())) == 1


def test_no_plaintext_in_any_cache_file(tmp_path: Path) -> None:
    folder = tmp_path / "u"
    path = folder / "cache.db"
    key = new_key()

    def scan() -> list[str]:
        hits = []
        for file in folder.iterdir():
            data = file.read_bytes()
            for needle in (SENTINEL.split()[0], NAME_SENTINEL, "Brustschmerzen", key):
                if needle.encode() in data or needle.encode("utf-16-le") in data:
                    hits.append(f"{file.name}: {needle[:8]}")
        return hits

    async def body(cache: Cache) -> None:
        events = [conversation(1, 1)] + [
            message(i, i + 1, text=f"{SENTINEL} {i}") for i in range(1, 200)
        ]
        await cache.apply_events(events, 200)
        await cache.enqueue_outbox(conversation_id=1, client_id="c-1", text_=SENTINEL)
        assert [m.id for m in await cache.search("zebra-sentinel")][:1] == [199]
        # While open, the WAL holds the fresh pages: they must be encrypted too.
        assert (folder / "cache.db-wal").stat().st_size > 0
        assert scan() == []
        await cache.checkpoint()
        assert scan() == []

    run(with_cache(path, key, body))
    assert scan() == []
    assert not path.read_bytes().startswith(b"SQLite format 3")


def test_files_and_folder_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "u"
    path = folder / "cache.db"

    async def body(cache: Cache) -> dict[str, int]:
        await cache.apply_events([conversation(1, 1)], 1)
        return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}

    modes = run(with_cache(path, new_key(), body))
    assert modes == {"cache.db": 0o600, "cache.db-wal": 0o600, "cache.db-shm": 0o600}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_refuses_sqlite_without_encryption(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(cache_module, "sqlcipher", sqlite3)
    path = tmp_path / "u" / "cache.db"
    with pytest.raises(CipherUnavailable):
        run(Cache.open(path, new_key()))
    assert path.read_bytes() == b""  # nothing was written in the clear


def test_damaged_and_foreign_files(tmp_path: Path) -> None:
    folder = tmp_path / "u"
    folder.mkdir()
    plain = folder / "plain.db"
    conn = sqlite3.connect(plain)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(CacheCorrupt, match="not encrypted"):
        run(Cache.open(plain, new_key()))

    short = folder / "short.db"
    short.write_bytes(os.urandom(700))
    with pytest.raises(CacheCorrupt):
        run(Cache.open(short, new_key()))


def test_flipped_byte_in_a_data_page_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"
    key = new_key()

    async def fill(cache: Cache) -> None:
        await cache.apply_events(
            [conversation(1, 1)] + [message(i, i + 1, text="x" * 500) for i in range(1, 300)],
            300,
        )

    run(with_cache(path, key, fill))
    data = bytearray(path.read_bytes())
    assert len(data) > 20 * 4096
    data[10 * 4096 + 100] ^= 0x55  # inside page 11, a messages page
    path.write_bytes(bytes(data))

    async def read(cache: Cache) -> list[str]:
        problems = await cache.integrity_check()
        with pytest.raises(CacheCorrupt):
            await cache.messages(1, limit=1000)
        return problems

    assert run(with_cache(path, key, read)) != []


def test_cache_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"
    key = new_key()
    run(with_cache(path, key, lambda c: c.cursor()))
    conn = sqlcipher.connect(str(path))
    conn.execute(f"PRAGMA key = \"x'{key}'\"")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    with pytest.raises(CacheTooNew):
        run(Cache.open(path, key))


class _FailingCache(Cache):
    fail = False

    def _after_write_hook(self, conn: Connection) -> None:
        if self.fail:
            raise RuntimeError("crash in the middle of a batch")


def test_cursor_and_rows_commit_together(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"

    async def body() -> None:
        cache = await _FailingCache.open(path, new_key())
        assert isinstance(cache, _FailingCache)
        try:
            await cache.apply_events([conversation(1, 1), message(10, 2)], 2)
            cache.fail = True
            with pytest.raises(RuntimeError):
                await cache.apply_events(
                    [conversation(2, 3), message(11, 4), message(10, 5, status="read")], 5
                )
            assert await cache.cursor() == 2
            assert [c.id for c in await cache.conversations()] == [1]
            assert [m.id for m in await cache.messages(1)] == [10]
            assert (await cache.messages_by_id({10}))[0].status == "received"
            assert await cache.search("hello") != []
            cache.fail = False
            await cache.apply_events([conversation(2, 3), message(11, 4)], 4)
            assert await cache.cursor() == 4
        finally:
            await cache.close()

    run(body())


def test_applying_twice_or_out_of_order_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"

    async def body(cache: Cache) -> None:
        batch = [
            conversation(1, 1, unread=1),
            message(10, 2, direction="out", status="sent", wamid="wamid.A", client_id="c-10"),
            conversation(1, 3, unread=2),
            message(10, 4, direction="out", status="read", wamid="wamid.A", client_id="c-10"),
        ]
        await cache.apply_events(batch, 4)
        await cache.apply_events(batch, 4)  # replayed
        # an older state after the newer one (e.g. a late command answer)
        await cache.apply_events([conversation(1, 1, unread=1)], 1)
        older = message(10, 2, direction="out", status="queued", wamid=None, client_id="c-10")
        from inbox_app.domain.messages import MessageRecord

        await cache.apply_message(MessageRecord.from_json(older.data))
        (conv,) = await cache.conversations()
        assert conv.unread == 2
        (msg,) = await cache.messages(1)
        assert (msg.status, msg.wamid) == ("read", "wamid.A")
        # failed outranks delivered, read outranks failed
        await cache.apply_events([message(10, 5, direction="out", status="delivered")], 5)
        assert (await cache.messages_by_id({10}))[0].status == "read"
        assert await cache.cursor() == 5
        # the cursor never moves back
        await cache.apply_events([], 3)
        assert await cache.cursor() == 5
        # unknown event types and malformed events are skipped, the batch still commits
        await cache.apply_events(
            [FeedEvent(6, "note", {"x": 1}), FeedEvent(7, "message", {"id": "x"})], 7
        )
        assert await cache.cursor() == 7

    run(with_cache(path, new_key(), body))


def test_keyset_paging_windows(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"

    async def body(cache: Cache) -> None:
        # 120 messages; pairs share a timestamp so the id must break ties.
        events = [conversation(1, 1)] + [message(i, i + 1, ts=float(i // 2)) for i in range(1, 121)]
        events.append(message(500, 200, cid=2, ts=5.0))  # another conversation
        await cache.apply_events(events, 200)
        seen: list[int] = []
        before: tuple[float, int] | None = None
        while True:
            page = await cache.messages(1, before=before, limit=50)
            if not page:
                break
            assert [m.id for m in page] == sorted(m.id for m in page)  # oldest first
            seen = [m.id for m in page] + seen
            before = (page[0].timestamp, page[0].id)
        assert seen == list(range(1, 121))
        last = await cache.messages(1, limit=3)
        assert [m.id for m in last] == [118, 119, 120]
        window = await cache.messages(1, before=(30.0, 61), limit=4)
        assert [m.id for m in window] == [57, 58, 59, 60]
        assert await cache.messages(1, limit=0) == []

        # pending outbox entries join the newest page with negative ids
        entry = await cache.enqueue_outbox(
            conversation_id=1, client_id="c-1", text_="draft", created_at=100.0
        )
        newest = await cache.messages(1, limit=2)
        assert [(m.id, m.status) for m in newest] == [
            (120, "received"),
            (-entry.local_id, "queued"),
        ]
        older = await cache.messages(1, before=(100.0, -entry.local_id), limit=1)
        assert [m.id for m in older] == [120]

    run(with_cache(path, new_key(), body))


def test_outbox_entries_are_removed_when_the_relay_acknowledges(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"

    async def body(cache: Cache) -> None:
        await cache.apply_events([conversation(1, 1)], 1)
        a = await cache.enqueue_outbox(conversation_id=1, client_id="c-a", text_="eins")
        b = await cache.enqueue_outbox(conversation_id=1, client_id="c-b", text_="zwei")
        assert b.local_id == a.local_id + 1
        assert [e.client_id for e in await cache.pending_outbox()] == ["c-a", "c-b"]
        assert await cache.mark_outbox("c-a", "sending", attempt=True)
        (pending,) = await cache.outbox_entries({"c-a"})
        assert (pending.state, pending.attempts) == ("sending", 1)

        changes = await cache.apply_events(
            [message(20, 2, direction="out", status="queued", client_id="c-a", text="eins")], 2
        )
        assert changes.client_ids == {"c-a"} and changes.message_ids == {20}
        assert [e.client_id for e in await cache.pending_outbox()] == ["c-b"]
        assert await cache.outbox_entries({"c-a"}) == []
        assert not await cache.mark_outbox("c-a", "failed", error="x")

        # a failed entry is shown as failed with its reason, and is not pending
        await cache.mark_outbox("c-b", "failed", error="Window closed.")
        (shown,) = await cache.messages_by_id({-b.local_id})
        assert (shown.status, shown.error_title, shown.client_id) == (
            "failed",
            "Window closed.",
            "c-b",
        )
        assert await cache.pending_outbox() == []
        # local ids are never reused, even after the newest entry is gone
        await cache.discard_outbox("c-b")
        c = await cache.enqueue_outbox(conversation_id=1, client_id="c-c", text_="drei")
        assert c.local_id == b.local_id + 1

    run(with_cache(path, new_key(), body))


def test_search_follows_text_changes(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"

    async def body(cache: Cache) -> None:
        await cache.apply_events(
            [message(1, 1, text="Termin am Montag"), message(2, 2, text="Befund liegt vor")], 2
        )
        assert [m.id for m in await cache.search("termin")] == [1]
        assert [m.id for m in await cache.search("bef")] == [2]
        assert await cache.search('"; DROP TABLE messages; --') == []
        assert await cache.search("   ") == []
        await cache.apply_events([message(1, 3, text="Termin verschoben", status="received")], 3)
        assert [m.id for m in await cache.search("montag")] == []
        assert [m.id for m in await cache.search("verschoben termin")] == [1]

    run(with_cache(path, new_key(), body))


def test_all_database_work_runs_on_one_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"
    threads: set[int] = set()

    class Recording(Cache):
        def _after_write_hook(self, conn: Connection) -> None:
            threads.add(threading.get_ident())

    async def body() -> None:
        cache = await Recording.open(path, new_key())
        try:
            for i in range(5):
                await cache.apply_events([message(i + 1, i + 1)], i + 1)
        finally:
            await cache.close()

    run(body())
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_integrity_check_is_clean_after_use(tmp_path: Path) -> None:
    path = tmp_path / "u" / "cache.db"

    async def body(cache: Cache) -> list[str]:
        await cache.apply_events([conversation(1, 1)] + [message(i, i + 1) for i in range(50)], 60)
        return await cache.integrity_check()

    assert run(with_cache(path, new_key(), body)) == []


_WRITER = """
import asyncio, sys
from pathlib import Path
from inbox_app.client.cache import Cache
from tests.test_client_cache import message

async def main() -> None:
    cache = await Cache.open(Path(sys.argv[1]), sys.argv[2])
    seq = await cache.cursor()
    print("ready", flush=True)
    while True:
        batch = [message(seq + i, seq + i, text="x" * 200) for i in range(1, 501)]
        await cache.apply_events(batch, seq + 500)
        seq += 500

asyncio.run(main())
"""


def test_killed_mid_batch_leaves_a_consistent_cache(tmp_path: Path) -> None:
    """R11: SIGKILL the writer during sync batches; cursor and rows always agree."""
    path = tmp_path / "u" / "cache.db"
    key = new_key()
    root = Path(__file__).resolve().parent.parent
    cursor = 0
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), key],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(random.uniform(0.2, 0.6))
        finally:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

        async def check(cache: Cache) -> tuple[int, int, int, list[str]]:
            cursor = await cache.cursor()
            newest = await cache.messages(1, limit=1)
            count = len(await cache.messages(1, limit=100_000))
            top = newest[0].id if newest else 0
            return cursor, top, count, await cache.integrity_check()

        cursor, top, count, problems = run(with_cache(path, key, check))
        assert problems == []
        assert cursor == top == count and cursor % 500 == 0
    assert cursor > 0  # the writer did get batches in before the kills
