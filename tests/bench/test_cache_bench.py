"""P5, P7, P8, P9: the desktop cache on SQLCipher and, same code, on plain SQLite.

Run with `make bench` (figures are printed, not asserted: the machines are shared). The
plain baseline opens the cache with ``plaintext_for_benchmarks_only=True``, which exists
for this ratio only (QUALITY P7) and is never used by the engine.

- P8: apply 10,000 synced messages (100 conversations) in batches of 500 through
  ``Cache.apply_events`` (the cache's worker thread), while a heartbeat task on the event
  loop measures its worst stall.
- P9: full-text search over 100,000 messages: p50/p95 of 400 one- and two-word queries.
- P5: a fresh process opens a 100,000-message / 1,000-conversation cache and lists the
  conversations: time from unlock (key in hand) to the first ``conversations()`` result,
  and the process's RSS then. The Argon2id unwrap of password mode is reported apart.
  (The OS page cache is warm: a truly cold disk adds its own read time.)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inbox_app.client.cache import Cache
from inbox_app.client.keys import DEFAULT_KDF, KeyStore
from inbox_app.client.records import FeedEvent

ROOT = Path(__file__).resolve().parents[2]
MODES = ("sqlcipher", "plain")
BIG_MESSAGES = int(os.environ.get("BENCH_CACHE_MESSAGES", "100000"))
BIG_CONVERSATIONS = 1_000

_WORDS = (
    "termin rezept überweisung befund blutabnahme impfung grippe husten fieber schmerzen "
    "rücken knie kopf bauch allergie tabletten salbe krankmeldung arbeitsunfähigkeit "
    "röntgen ultraschall labor ergebnis nachfrage verschieben absagen morgen heute "
    "nächste woche montag dienstag mittwoch donnerstag freitag vormittag nachmittag "
    "danke bitte hallo guten tag praxis doktor schwester versicherung karte quartal "
    "physiotherapie massage überweisung facharzt kardiologie dermatologie orthopädie "
    "blutdruck zucker cholesterin schilddrüse vitamin eisen kontrolle nachsorge"
).split()


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14)))


def make_events(
    messages: int, conversations: int, *, seed: int = 5, first_seq: int = 1
) -> list[FeedEvent]:
    """Conversation events, then messages spread over them, as the relay's feed has them."""
    rng = random.Random(seed)
    base = time.time() - messages
    events: list[FeedEvent] = []
    seq = first_seq
    for c in range(1, conversations + 1):
        events.append(
            FeedEvent(
                seq=seq,
                type="conversation",
                data={
                    "id": c,
                    "wa_id": f"49151{c:08d}",
                    "display_name": f"Patient {c}",
                    "phone": f"+49151{c:08d}",
                    "last_message_at": base + messages,
                    "last_message_preview": "…",
                    "last_inbound_at": base + messages,
                    "unread": c % 3,
                },
            )
        )
        seq += 1
    for m in range(1, messages + 1):
        inbound = rng.random() < 0.6
        events.append(
            FeedEvent(
                seq=seq,
                type="message",
                data={
                    "id": m,
                    "conversation_id": rng.randint(1, conversations),
                    "direction": "in" if inbound else "out",
                    "type": "text",
                    "text": _text(rng),
                    "status": "received" if inbound else "read",
                    "timestamp": base + m,
                    "wamid": f"wamid.{m}",
                    "client_id": None,
                    "error_code": None,
                    "error_title": None,
                    "author_id": None if inbound else 1,
                },
            )
        )
        seq += 1
    return events


async def open_cache(path: Path, mode: str, key_hex: str) -> Cache:
    if mode == "plain":
        return await Cache.open(path, None, plaintext_for_benchmarks_only=True)
    return await Cache.open(path, key_hex)


@dataclass
class BigCache:
    mode: str
    path: Path
    key_hex: str
    build_seconds: float


@pytest.fixture(scope="module")
def big_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BigCache]]:
    events = make_events(BIG_MESSAGES, BIG_CONVERSATIONS)
    built: dict[str, BigCache] = {}
    for mode in MODES:
        path = tmp_path_factory.mktemp(f"big-{mode}") / "cache.db"
        key_hex = secrets.token_hex(32)

        async def build(path: Path = path, mode: str = mode, key_hex: str = key_hex) -> float:
            cache = await open_cache(path, mode, key_hex)
            try:
                started = time.perf_counter()
                for i in range(0, len(events), 5_000):
                    chunk = events[i : i + 5_000]
                    await cache.apply_events(chunk, chunk[-1].seq)
                await cache.checkpoint()
                return time.perf_counter() - started
            finally:
                await cache.close()

        built[mode] = BigCache(mode, path, key_hex, asyncio.run(build()))
    print(
        f"\nbuilt {BIG_MESSAGES:,}-message caches: "
        + ", ".join(f"{m} {b.build_seconds:.1f} s" for m, b in built.items())
    )
    yield built


def _ratio(figures: dict[str, float]) -> str:
    return f"SQLCipher/plain = {figures['sqlcipher'] / figures['plain']:.2f}x (P7 target ≤ 1.3x)"


def test_p8_apply_10000_synced_messages(tmp_path: Path) -> None:
    events = make_events(10_000, 100, seed=8)
    figures: dict[str, float] = {}
    lines: list[str] = []
    for mode in MODES:

        async def run(mode: str = mode, attempt: int = 0) -> tuple[float, float, int]:
            path = tmp_path / f"{mode}-{attempt}" / "cache.db"
            cache = await open_cache(path, mode, secrets.token_hex(32))
            stall = 0.0
            running = True

            async def heartbeat() -> None:
                nonlocal stall
                while running:
                    before = time.perf_counter()
                    await asyncio.sleep(0.005)
                    stall = max(stall, time.perf_counter() - before - 0.005)

            beat = asyncio.create_task(heartbeat())
            await asyncio.sleep(0.02)
            try:
                started = time.perf_counter()
                batches = 0
                for i in range(0, len(events), 500):  # the sync engine's batch size
                    chunk = events[i : i + 500]
                    await cache.apply_events(chunk, chunk[-1].seq)
                    batches += 1
                elapsed = time.perf_counter() - started
            finally:
                running = False
                await beat
                await cache.close()
            return elapsed, stall, batches

        runs = [asyncio.run(run(attempt=a)) for a in range(3)]
        elapsed = min(r[0] for r in runs)
        stall = max(r[1] for r in runs)
        batches = runs[0][2]
        figures[mode] = elapsed
        lines.append(
            f"  {mode:9s}: {elapsed:.2f} s best of 3 ({10_000 / elapsed:,.0f} msg/s), "
            f"{batches} batches of 500, loop heartbeat max stall {stall * 1000:.1f} ms (worst)"
        )
    print("\nP8 apply 10,000 synced messages (target ≤ 2 s, stall ≤ 100 ms):")
    print("\n".join(lines))
    print(f"  P7: {_ratio(figures)}")


def test_p9_full_text_search_over_100000_messages(big_caches: dict[str, BigCache]) -> None:
    rng = random.Random(9)
    queries = [
        rng.choice(_WORDS)[: rng.randint(3, 8)]
        if i % 2
        else f"{rng.choice(_WORDS)} {rng.choice(_WORDS)[:4]}"
        for i in range(400)
    ]
    figures: dict[str, float] = {}
    lines: list[str] = []
    for mode, big in big_caches.items():

        async def run(big: BigCache = big) -> list[float]:
            cache = await open_cache(big.path, big.mode, big.key_hex)
            try:
                await cache.search("termin")  # warm up
                timings = []
                for q in queries:
                    started = time.perf_counter()
                    await cache.search(q, limit=50)
                    timings.append(time.perf_counter() - started)
                return timings
            finally:
                await cache.close()

        timings = asyncio.run(run())
        p95 = statistics.quantiles(timings, n=20)[18]
        figures[mode] = p95
        lines.append(
            f"  {mode:9s}: p50 {statistics.median(timings) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms"
        )
    print(f"\nP9 full-text search over {BIG_MESSAGES:,} messages, 400 queries (p95 ≤ 100 ms):")
    print("\n".join(lines))
    print(f"  P7: {_ratio(figures)}")


_COLD_START = """
import asyncio, json, sys, time
from pathlib import Path
from inbox_app.client.cache import Cache

def rss_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")

async def main():
    args = json.loads(sys.stdin.read())
    started = time.perf_counter()
    if args["mode"] == "plain":
        cache = await Cache.open(Path(args["path"]), None, plaintext_for_benchmarks_only=True)
    else:
        cache = await Cache.open(Path(args["path"]), args["key"])
    conversations = await cache.conversations()
    first = time.perf_counter() - started
    first_page = await cache.messages(conversations[0].id, limit=50)
    interactive = time.perf_counter() - started
    await cache.close()
    print(json.dumps({"first": first, "interactive": interactive, "n": len(conversations),
                      "page": len(first_page), "rss": rss_mb("VmRSS"), "hwm": rss_mb("VmHWM")}))

asyncio.run(main())
"""


def test_p5_cold_start_with_a_100000_message_cache(
    big_caches: dict[str, BigCache], tmp_path: Path
) -> None:
    figures: dict[str, float] = {}
    lines: list[str] = []
    for mode, big in big_caches.items():
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", _COLD_START],
                input=json.dumps({"mode": mode, "path": str(big.path), "key": big.key_hex}),
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=120,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        best = min(runs, key=lambda r: r["first"])
        assert best["n"] == BIG_CONVERSATIONS
        figures[mode] = best["first"]
        lines.append(
            f"  {mode:9s}: unlock → conversations() {best['first'] * 1000:.0f} ms "
            f"(+ first thread page {best['interactive'] * 1000:.0f} ms), "
            f"RSS {best['rss']:.0f} MB (peak {best['hwm']:.0f} MB), best of 3"
        )
    keystore = KeyStore(tmp_path / "kdf", keyring_backends=[], kdf=DEFAULT_KDF)
    keystore.load_or_create("bench password").wipe()
    started = time.perf_counter()
    keystore.unlock_with_password("bench password").wipe()
    kdf_ms = (time.perf_counter() - started) * 1000
    print(
        f"\nP5 cold start, {BIG_MESSAGES:,} messages / {BIG_CONVERSATIONS:,} conversations "
        "(target ≤ 2 s, RSS ≤ 300 MB):"
    )
    print("\n".join(lines))
    print(f"  password mode adds the Argon2id unwrap: {kdf_ms:.0f} ms")
    print(f"  P7: {_ratio(figures)}")
