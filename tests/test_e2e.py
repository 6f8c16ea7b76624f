"""End to end through every layer, with real processes and real HTTP on loopback.

A simulated patient writes → signed webhook → relay (its own process, SQLite) → change
feed → desktop engine → SQLCipher cache → a row in the Qt model; a receptionist answers
from the composer → relay → simulator (its own process) → sent, delivered and read
statuses → the tick in the thread model.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from inbox_app.client.engine import ClientEngine, EngineConfig
from inbox_app.domain.messages import MessageStatus
from tests.live_server import free_port
from ui.main_window import MainWindow

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-password-123"
# Sentinels: these must never appear in plaintext in anything the client writes.
PATIENT_NAME = "Zelda Sentinelova"
PATIENT_TEXT = "QX7-Sentinel Bauchschmerzen seit Montag"
REPLY_TEXT = "QX7-Antwort Bitte kommen Sie morgen um 9 Uhr"


@dataclass
class Stack:
    relay_url: str
    sim_url: str
    folder: Path


def _wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """`inbox-relay serve` and `inbox-relay simulator` as real processes."""
    relay_port, sim_port = free_port(), free_port()
    env = {
        **os.environ,
        "WHATSAPP_APP_SECRET": "e2e-secret",
        "WHATSAPP_VERIFY_TOKEN": "e2e-verify",
        "WHATSAPP_ACCESS_TOKEN": "e2e-token",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{sim_port}",
        "INBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'relay' / 'relay.db'}",
    }
    cli = [sys.executable, "-m", "inbox_app.relay.cli"]
    added = subprocess.run(
        [*cli, "user", "add", "anna", "--role", "receptionist", "--display-name", "Anna"],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    logs = tmp_path / "logs"
    logs.mkdir()
    log_files = [(logs / "relay.log").open("wb"), (logs / "sim.log").open("wb")]
    procs = [
        subprocess.Popen(
            [*cli, "serve", "--port", str(relay_port)],
            env=env,
            stdout=log_files[0],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [
                *cli,
                "simulator",
                "--port",
                str(sim_port),
                "--webhook-url",
                f"http://127.0.0.1:{relay_port}/webhook",
            ],
            env=env,
            stdout=log_files[1],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        deadline = time.monotonic() + 30
        _wait_http(f"http://127.0.0.1:{relay_port}/healthz", deadline)
        _wait_http(f"http://127.0.0.1:{sim_port}/_sim/health", deadline)
        yield Stack(f"http://127.0.0.1:{relay_port}", f"http://127.0.0.1:{sim_port}", tmp_path)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        for log in log_files:
            log.close()


async def _until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_patient_message_and_reply_travel_through_every_layer(
    qloop: asyncio.AbstractEventLoop, qapp, stack: Stack
) -> None:
    client_dir = stack.folder / "client"
    engine = ClientEngine(
        EngineConfig(relay_url=stack.relay_url, data_dir=client_dir), keyring_backends=[]
    )

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=stack.sim_url, timeout=10) as sim:
            user = await engine.sign_in("anna", PASSWORD)
            await engine.start()
            window = MainWindow(engine, user)
            window.show()
            window.start()
            conversations = window.controller.conversation_model
            thread = window.controller.thread_model

            # 1. The patient writes; the conversation appears as a row in the Qt model.
            t0 = time.perf_counter()
            answer = await sim.post(
                "/_sim/inbound",
                json={
                    "from": "4915100000199",
                    "name": PATIENT_NAME,
                    "type": "text",
                    "text": PATIENT_TEXT,
                },
            )
            assert answer.json()["status"] == 200
            await _until(
                lambda: any(r.display_name == PATIENT_NAME for r in conversations.records()),
                "conversation row",
            )
            latency = time.perf_counter() - t0
            await _until(
                lambda: any(m.text == PATIENT_TEXT for m in thread.records()),
                "message in the open thread",
            )

            # 2. The receptionist answers from the composer with Enter.
            window.composer.setPlainText(REPLY_TEXT)
            QTest.keyClick(window.composer, Qt.Key.Key_Return)
            await _until(
                lambda: any(m.text == REPLY_TEXT for m in thread.records()), "queued bubble"
            )

            # 3. The simulator (standing in for Meta) receives exactly that text, once.
            async def sent_texts() -> list[str]:
                sent = (await sim.get("/_sim/sent")).json()["messages"]
                return [m["payload"].get("text", {}).get("body") for m in sent]

            deadline = time.monotonic() + 20
            while REPLY_TEXT not in await sent_texts():
                assert time.monotonic() < deadline, "reply never reached the simulator"
                await asyncio.sleep(0.1)
            assert (await sent_texts()).count(REPLY_TEXT) == 1

            # 4. Delivered and read statuses come back and the tick in the model follows.
            def reply_status() -> MessageStatus | None:
                found = [m for m in thread.records() if m.text == REPLY_TEXT]
                return found[0].status if found else None

            await _until(lambda: reply_status() == MessageStatus.READ, "read tick")
            reply = next(m for m in thread.records() if m.text == REPLY_TEXT)
            assert reply.id > 0 and reply.wamid  # the relay's message, not the local draft
            print(f"\nwebhook -> Qt model row: {latency * 1000:.0f} ms")
            # Close while the loop still runs, so no slot fires into a closed loop later.
            window.close()
            window.deleteLater()
            await asyncio.sleep(0.1)
        await engine.close()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 90))

    # The cache holds the conversation, but none of it in plaintext (I5, S10).
    files = [p for p in client_dir.rglob("*") if p.is_file()]
    assert any(p.name == "cache.db" for p in files)
    for path in files:
        raw = path.read_bytes()
        for sentinel in (PATIENT_NAME, "QX7-Sentinel", "QX7-Antwort", "Bauchschmerzen"):
            assert sentinel.encode() not in raw, f"{sentinel!r} in plaintext in {path.name}"
