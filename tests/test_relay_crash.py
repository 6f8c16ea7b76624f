"""QUALITY R1: SIGKILL the relay again and again while signed webhooks keep arriving.

Every delivery the relay acknowledged with 2xx must be stored exactly once, and the
database must pass an integrity check after each restart (invariant I1).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import APP_SECRET
from tests.live_server import free_port
from tests.webhooks import signed, text_message

KILLS = 5
DELIVERIES = 600


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "inbox_app.relay.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("relay did not start")


def test_acknowledged_webhooks_survive_sigkill(tmp_path: Path) -> None:
    db_path = tmp_path / "relay.db"
    env = {
        **os.environ,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "v",
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9",
        "INBOX_DATABASE_URL": f"sqlite:///{db_path}",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    log = tmp_path / "relay.log"
    proc = _start(port, env, log)

    acknowledged: set[str] = set()
    retries = [0]
    done = threading.Event()

    def sender() -> None:
        # At-least-once like Meta: retry each delivery until the relay answers 2xx.
        with httpx.Client(timeout=5) as client:
            for i in range(DELIVERIES):
                wamid = f"wamid.crash{i:05d}"
                body, headers = signed(
                    text_message(f"Nachricht {i}", wamid=wamid, wa_id=f"49151{i % 40:08d}")
                )
                while True:
                    try:
                        if client.post(url, content=body, headers=headers).status_code == 200:
                            acknowledged.add(wamid)
                            break
                    except httpx.TransportError:
                        retries[0] += 1
                    time.sleep(0.02)
        done.set()

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(0.4)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            with sqlite3.connect(db_path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            proc = _start(port, env, log)
        assert done.wait(120), "sender did not finish"
    finally:
        proc.terminate()
        proc.wait(10)

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT wamid, COUNT(*) FROM messages GROUP BY wamid").fetchall()
        events = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'message'").fetchone()[0]
    stored = {wamid: n for wamid, n in rows}
    assert len(acknowledged) == DELIVERIES
    assert retries[0] >= KILLS, "the kills must land while deliveries are in flight"
    assert acknowledged <= set(stored), "an acknowledged delivery was lost"
    assert set(stored.values()) == {1}
    assert events == len(stored)  # one feed event per stored message, no duplicates
