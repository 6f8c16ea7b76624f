"""``/metrics`` (Prometheus), ``/readyz`` and JSON-lines logs: useful to an operator,
and never a patient's word, number or name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from inbox_app.relay.db import Database
from inbox_app.whatsapp.signature import sign
from tests.conftest import APP_SECRET, VERIFY_TOKEN
from tests.live_server import free_port
from tests.test_relay_outbox import Pair, pair  # noqa: F401  (the relay+simulator fixture)
from tests.webhooks import signed, text_message

SENTINEL = "QZX-Blutzucker-4711"
PHONE = "4915100000101"  # the number Pair.inbound writes from


def metric(page: str, name: str, labels: str = "") -> float:
    """The value of one sample in a Prometheus text page."""
    pattern = "^" + re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)$"
    found = re.search(pattern, page, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in /metrics"
    return float(found.group(1))


def scrape(p: Pair) -> str:
    r = httpx.get(p.relay.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def test_metrics_count_webhooks_sends_sse_and_lag_without_patient_data(
    pair: Pair,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(3):
        pair.inbound(f"{SENTINEL} {i}")
    url = pair.relay.url + "/webhook"
    body, headers = signed(text_message(f"{SENTINEL} forged"))
    assert httpx.post(url, content=body).status_code == 401
    forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert httpx.post(url, content=body, headers=forged).status_code == 403
    junk = json.dumps({"not": "an envelope", "text": SENTINEL}).encode()
    junk_headers = {"X-Hub-Signature-256": sign(junk, APP_SECRET)}
    assert httpx.post(url, content=junk, headers=junk_headers).status_code == 400
    big = b"x" * (3 * 1024 * 1024 + 1)
    assert httpx.post(url, content=big).status_code == 413

    message = pair.reply(f"Antwort {SENTINEL}")
    pair.wait_status(message["id"], {"sent", "delivered", "read"})

    with httpx.stream(
        "GET", pair.relay.url + "/v1/events", headers=pair.staff.headers, timeout=10
    ) as stream:
        lines = stream.iter_lines()  # kept: dropping the iterator closes the stream
        assert next(lines).startswith("retry:")
        page = scrape(pair)
        assert metric(page, "inbox_sse_clients") == 1
    pair.staff.get("/v1/sync", params={"after": 0})  # a client catching up from the start

    deadline = time.monotonic() + 10
    while (page := scrape(pair)) and metric(page, "inbox_sse_clients") != 0:
        assert time.monotonic() < deadline, "a closed stream is still counted"
        time.sleep(0.05)
    assert metric(page, "inbox_webhooks_received_total") >= 3  # + the simulator's statuses
    for reason in ("missing_signature", "invalid_signature", "not_an_envelope", "too_large"):
        assert metric(page, "inbox_webhooks_rejected_total", f'reason="{reason}"') == 1, reason
    assert metric(page, "inbox_webhooks_rejected_total", 'reason="unavailable"') == 0
    assert metric(page, "inbox_sends_total", 'outcome="sent"') == 1
    assert metric(page, "inbox_sends_total", 'outcome="failed"') == 0
    assert metric(page, "inbox_outbox_depth") == 0
    assert metric(page, "inbox_feed_head_seq") >= 4
    assert metric(page, "inbox_sync_lag_seconds_count") >= 1
    for secret in (SENTINEL, "Blutzucker", PHONE, "Erika", "Musterfrau", "anna"):
        assert secret not in page, secret

    monkeypatch.setenv("INBOX_METRICS_TOKEN", "metrics-token-123")
    assert httpx.get(pair.relay.url + "/metrics").status_code == 401
    authorized = {"Authorization": "Bearer metrics-token-123"}
    assert httpx.get(pair.relay.url + "/metrics", headers=authorized).status_code == 200


def test_readyz_checks_database_migrations_and_outbox_worker(pair: Pair) -> None:  # noqa: F811
    r = httpx.get(pair.relay.url + "/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ready": True,
        "checks": {"database": True, "migrations": True, "outbox_worker": True},
    }
    db = Database(pair.relay.app.state.relay.settings.database_url)
    try:
        with db.write() as conn:
            # As if this relay's code were newer than its database: the head not applied.
            conn.execute(text("UPDATE alembic_version SET version_num = '0004_retention'"))
        r = httpx.get(pair.relay.url + "/readyz")
        assert r.status_code == 503 and r.json()["checks"]["migrations"] is False
    finally:
        db.dispose()
    assert httpx.get(pair.relay.url + "/healthz").status_code == 200  # alive, not ready


def test_json_log_lines_carry_no_patient_data(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9",
        "INBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'relay.db'}",
        "INBOX_LOG_FORMAT": "json",
    }
    log_file = tmp_path / "relay.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "inbox_app.relay.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log_file.read_text()
                time.sleep(0.1)
            body, headers = signed(text_message(f"{SENTINEL} Nachricht", wa_id=PHONE))
            assert httpx.post(url + "/webhook", content=body, headers=headers).status_code == 200
            junk = json.dumps({"entry": SENTINEL}).encode()
            junk_headers = {"X-Hub-Signature-256": sign(junk, APP_SECRET)}
            assert (
                httpx.post(url + "/webhook", content=junk, headers=junk_headers).status_code == 400
            )
        finally:
            proc.terminate()
            proc.wait(15)
    lines = log_file.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e["msg"].startswith("signed webhook that is not an envelope") for e in entries)
    assert any(e["logger"].startswith("uvicorn") for e in entries)
    assert {"ts", "level", "logger", "msg"} <= set(entries[0])
    joined = "\n".join(lines)
    for secret in (SENTINEL, PHONE, os.environ["INBOX_DB_KEY"]):
        assert secret not in joined
