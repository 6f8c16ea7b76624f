"""P1 (steady webhook load) and P2 (draining a backlog), each against a bare baseline.

Run with `make bench`. BENCH_SECONDS (default 20; QUALITY.md asks 60) and BENCH_BACKLOG
(default 20000) scale the runs. Figures are printed, not asserted: the machines are shared.
The relay runs as deployed: SQLCipher with the tests' key (conftest), automation on. The
hot path is webhook_endpoint.py (no FastAPI routing) and inbound_bulk.py (set-wise group
commit); compare a run with the load average (`uptime`): other work on the host moves both
figures, the ratio less.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from inbox_app.relay.db import Database, messages
from inbox_app.relay.store import Store
from inbox_app.whatsapp.signature import sign
from inbox_app.whatsapp.wire import meta_json_bytes
from tests.live_server import free_port
from tests.webhooks import status, text_message

SECRET = "bench-secret"
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "20000"))
ROOT = Path(__file__).resolve().parents[2]


def _serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            *(["--factory"] if app.endswith("factory") else []),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("bench server did not start")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        "WHATSAPP_APP_SECRET": SECRET,
        "WHATSAPP_VERIFY_TOKEN": "v",
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9",
        "INBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'relay.db'}",
    }
    ports = {"relay": free_port(), "bare": free_port()}
    procs = [
        _serve("tests.bench.relay_factory:app_factory", ports["relay"], env),
        _serve("tests.bench.bare_endpoint:app", ports["bare"], env),
    ]
    try:
        yield {name: f"http://127.0.0.1:{port}/webhook" for name, port in ports.items()}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def _inbound_wamid(i: int) -> str:
    # Every 40th delivery repeats the previous inbound message (Meta delivers at least once).
    index = i // 4 - 1 if i % 40 == 0 and i else i // 4
    return f"wamid.bench.in{index}"


def _mix(n: int) -> list[tuple[bytes, dict[str, str]]]:
    """A realistic mix: one inbound text per three status callbacks, some redelivered."""
    out = []
    for i in range(n):
        if i % 4 == 0:
            payload = text_message(
                f"Termin am Dienstag? Nr {i // 4}",
                wa_id=f"49151{(i // 4) % 500:08d}",
                wamid=_inbound_wamid(i),
                ts=1_800_000_000 + i // 4,
            )
        else:
            payload = status(f"wamid.bench{i // 4}", ("sent", "delivered", "read")[i % 4 - 1])
        body = meta_json_bytes(payload)
        out.append(
            (body, {"X-Hub-Signature-256": sign(body, SECRET), "Content-Type": "application/json"})
        )
    return out


async def _steady(url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    bodies = _mix(int(rate * seconds))
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def one(body: bytes, headers: dict[str, str]) -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                if response.status_code != 200:
                    errors += 1
            except httpx.TransportError:
                errors += 1
            latencies.append(time.perf_counter() - start)

        tasks = []
        t0 = time.perf_counter()
        for i, (body, headers) in enumerate(bodies):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, headers)))
        await asyncio.gather(*tasks)
    return latencies, errors


async def _drain(url: str, n: int, concurrency: int = 32) -> tuple[float, int]:
    bodies = _mix(n)
    errors = 0
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            for body, headers in queue:
                response = await client.post(url, content=body, headers=headers)
                errors += response.status_code != 200

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - t0), errors


def _drain_wrk(url: str, n: int, tmp: Path, connections: int = 32) -> tuple[float, int]:
    """The same backlog driven by wrk (C), so the load generator is not the bottleneck."""
    bodies = tmp / "bodies.tsv"
    threads = 2
    mix = _mix(n)
    with bodies.open("w") as out:
        # wrk consumes each thread's first request() before sending anything, so the first
        # line of every slice is never posted: lead with a redelivery of each slice's first.
        for body, headers in mix[:threads] + mix:
            out.write(headers["X-Hub-Signature-256"] + "\t" + body.decode() + "\n")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            "300s",
            "-s",
            str(Path(__file__).with_name("wrk_post.lua")),
            url.removesuffix("/webhook"),
            "--",
            str(threads),
        ],
        env={**os.environ, "BODIES": str(bodies)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    finished = 0
    for line in proc.stdout:  # each wrk thread says DONE when its slice is answered
        finished += line.strip() == "DONE"
        if finished == threads:
            break
    elapsed = time.perf_counter() - t0
    proc.send_signal(signal.SIGINT)  # wrk then prints its summary, with our FAILED line
    rest, _ = proc.communicate(timeout=30)
    failed = int(rest.rsplit("FAILED", 1)[1].split()[0])
    return n / elapsed, failed


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def test_p1_steady_webhooks(servers: dict[str, str]) -> None:
    results = {}
    for name in ("bare", "relay"):
        latencies, errors = asyncio.run(_steady(servers[name], 250, SECONDS))
        results[name] = (statistics.median(latencies) * 1000, _pct(latencies, 0.99), errors)
    print(f"\nP1 250 req/s x {SECONDS:.0f} s (targets: p50 <= 10 ms, p99 <= 100 ms, 0 errors)")
    for name, (p50, p99, errors) in results.items():
        print(f"  {name:5}: p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}")
    print(f"  ratio relay/bare p50: {results['relay'][0] / results['bare'][0]:.1f}x")
    assert results["relay"][2] == 0


def test_p2_backlog(servers: dict[str, str], tmp_path: Path) -> None:
    if shutil.which("wrk"):
        generator = "wrk"
        results = {name: _drain_wrk(servers[name], BACKLOG, tmp_path) for name in ("bare", "relay")}
    else:
        generator = "httpx (install wrk for a generator that is not the bottleneck)"
        results = {name: asyncio.run(_drain(servers[name], BACKLOG)) for name in ("bare", "relay")}
    print(f"\nP2 backlog of {BACKLOG} deliveries, 32 connections, {generator} (target >= 2000/s)")
    for name, (rate, errors) in results.items():
        print(f"  {name:5}: {rate:7.0f} webhooks/s  errors {errors}")
    print(f"  ratio relay/bare: {results['relay'][0] / results['bare'][0]:.2f}")
    assert results["relay"][1] == 0
    # Exactly once: every distinct inbound wamid stored, redeliveries not stored again.
    expected = len({_inbound_wamid(i) for i in range(0, BACKLOG, 4)})
    # wrk stops at its last answer; a request of its slice may still be committing then.
    db = Database(f"sqlite:///{tmp_path / 'relay.db'}")
    try:
        deadline = time.monotonic() + 5
        while (stored := Store(db).count_messages()) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        with db.read() as conn:
            present = {r.wamid for r in conn.execute(select(messages.c.wamid))}
    finally:
        db.dispose()
    missing = sorted({_inbound_wamid(i) for i in range(0, BACKLOG, 4)} - present)
    print(f"  stored {stored} messages for {expected} distinct inbound wamids; missing {missing}")
    assert stored == expected
