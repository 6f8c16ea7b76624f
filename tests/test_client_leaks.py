"""No leaks (QUALITY I5, S8, S10): the log redaction filter, and a sentinel session.

The sentinel test runs a whole engine session (sign-in, catch-up, live SSE, send, search,
lock/unlock, key rotation, sign-out, sign-in again) against a real relay in its own process,
with sentinel strings in the patient's name, number and message bodies. It captures every
log record of every logger at DEBUG, the process's stdout/stderr, the engine's files (raw
bytes of the cache, its -wal and -shm while open, key.json) and everything created in the
system temp folder during the test: zero sentinel hits, and the raw key is in no file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inbox_app.client import logsafe
from inbox_app.client.engine import ClientEngine, ConnectionState, EngineConfig
from inbox_app.client.keys import KdfParams
from tests.live_server import free_port
from tests.webhooks import signed, text_message

SECRET = "leak-test-secret"
PASSWORD = "leak-test-password-1"
FAST_KDF = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)

SENTINEL_NAME = "Quirinus Sentinelhuber"
SENTINEL_PHONE = "4917612398745"
SENTINEL_EMAIL = "quirinus.sentinel@example.org"
SENTINEL_BODY = "QZX9-Sentinel Ruckenschmerzen links"
SENTINEL_REPLY = "QZX9-Antwort Termin Dienstag"
SENTINELS = (
    SENTINEL_NAME,
    "Sentinelhuber",
    SENTINEL_PHONE,
    "12398745",
    SENTINEL_EMAIL,
    "QZX9",
    "Ruckenschmerzen",
    PASSWORD,
)


# -- the filter -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kept", "gone"),
    [
        (
            'HTTP Request: GET http://127.0.0.1:8080/v1/sync?after=12&limit=500 "HTTP/1.1 200 OK"',
            "/v1/sync",
            "after=12",
        ),
        ("headers: Authorization: Bearer abc.DEF-123", "headers", "abc.DEF-123"),
        ("{'authorization': 'Bearer s3cr3t'}", "authorization", "s3cr3t"),
        ('{"password": "hunter2 hunter2"}', "password", "hunter2"),
        ("token=t0k3n&x=1", "token=", "t0k3n"),
        (f"from +{SENTINEL_PHONE} wrote", "wrote", SENTINEL_PHONE),
        ("from +49 176 1239 8745 wrote", "wrote", "1239 8745"),
        (f"mail {SENTINEL_EMAIL} bounced", "bounced", SENTINEL_EMAIL),
        ("message 4711 in conversation 12 seq=123456", "message 4711 in conversation 12", "@"),
    ],
)
def test_redact(raw: str, kept: str, gone: str) -> None:
    redacted = logsafe.redact(raw)
    assert kept in redacted
    assert gone not in redacted


def test_registered_strings_and_third_party_records_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    was_installed = logsafe.installed()
    logsafe.install()
    logsafe.install()  # idempotent
    try:
        caplog.set_level(logging.DEBUG)
        logsafe.register_sensitive(SENTINEL_NAME)
        logging.getLogger("httpx").info("HTTP Request: GET %s", "http://h/v1/x?q=geheim")
        logging.getLogger("some.library").warning("patient %s", SENTINEL_NAME.upper())
        try:
            raise ValueError(f"bad number {SENTINEL_PHONE}")
        except ValueError:
            logging.getLogger("some.library").exception("failed")
        logsafe.clear_sensitive()
        logging.getLogger("x").info("after clearing: %s", "Quirinus")
        text = "\n".join(_formatted(r) for r in caplog.records)
        assert "geheim" not in text and SENTINEL_PHONE not in text
        assert SENTINEL_NAME.upper() not in text
        assert "after clearing: Quirinus" in text
        assert "ValueError" in text  # the traceback is kept, its data redacted
        # The same redaction as a handler filter, for handlers configured elsewhere.
        record = logging.LogRecord(
            "n", logging.INFO, __file__, 1, "to %s", ("+4915112345678",), None
        )
        assert logsafe.RedactingFilter().filter(record) and "4915112345678" not in record.msg
    finally:
        logsafe.clear_sensitive()
        if not was_installed:
            logsafe.uninstall()


def _formatted(record: logging.LogRecord) -> str:
    return logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)


# -- the sentinel session ---------------------------------------------------------------------


@dataclass
class RelayProcess:
    url: str
    folder: Path

    def post(self, text: str, *, name: str = SENTINEL_NAME, wa_id: str = SENTINEL_PHONE) -> None:
        body, headers = signed(text_message(text, name=name, wa_id=wa_id), secret=SECRET)
        response = httpx.post(self.url + "/webhook", content=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text


@pytest.fixture
def relay_process(tmp_path: Path) -> Iterator[RelayProcess]:
    """`inbox-relay serve` in its own process, so only the client's logs are in ours."""
    port = free_port()
    env = {
        **os.environ,
        "WHATSAPP_APP_SECRET": SECRET,
        "WHATSAPP_VERIFY_TOKEN": "leak-verify",
        "WHATSAPP_ACCESS_TOKEN": "leak-token",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9",
        "INBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'relay' / 'relay.db'}",
    }
    cli = [sys.executable, "-m", "inbox_app.relay.cli"]
    added = subprocess.run(
        [*cli, "user", "add", "anna", "--role", "receptionist"],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    (tmp_path / "logs").mkdir()
    with (tmp_path / "logs" / "relay.log").open("wb") as log_file:
        proc = subprocess.Popen(
            [*cli, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=log_file
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url + "/healthz", timeout=0.5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "relay did not come up"
                    time.sleep(0.1)
            yield RelayProcess(url, tmp_path)
        finally:
            proc.terminate()
            proc.wait(10)


def _tree(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def _hits(paths: list[Path], needles: list[bytes]) -> list[str]:
    found = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError:
            continue  # vanished meanwhile (a -journal, a temp file renamed)
        lowered = raw.lower()
        for needle in needles:
            if needle.lower() in lowered:
                found.append(f"{needle!r} in {path}")
    return found


def test_a_whole_session_leaks_no_sentinel(
    relay_process: RelayProcess,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    for name in ("httpx", "httpcore", "asyncio", "sqlalchemy.engine", "keyring"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test
    temp_root = Path(tempfile.gettempdir())
    temp_before = set(temp_root.iterdir())
    data_dir = tmp_path / "client"
    relay_process.post(f"Hallo, {SENTINEL_BODY}, mail {SENTINEL_EMAIL}")
    needles = [s.encode() for s in SENTINELS]
    key_material: list[bytes] = []
    mid_session_hits: list[str] = []

    def make() -> ClientEngine:
        return ClientEngine(
            EngineConfig(relay_url=relay_process.url, data_dir=data_dir),
            keyring_backends=[],
            kdf=FAST_KDF,
            backoff_initial=0.2,
            backoff_max=1.0,
        )

    async def until(check: object, what: str) -> None:
        deadline = time.monotonic() + 15
        while not await check():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        engine = make()
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:

            async def has_conv() -> bool:
                return len(await engine.conversations()) == 1

            await until(has_conv, "catch-up")
            (conv,) = await engine.conversations()
            assert conv.display_name == SENTINEL_NAME
            await until(lambda: _const(engine.connection is ConnectionState.ONLINE), "online")
            await asyncio.to_thread(relay_process.post, f"Nachtrag {SENTINEL_BODY}")
            reply = await engine.send_text(conv.id, f"{SENTINEL_REPLY} {SENTINEL_NAME}")

            async def settled() -> bool:
                texts = [m.text or "" for m in await engine.messages(conv.id)]
                acked = not await engine.outbox_entries(frozenset({reply.client_id or ""}))
                return acked and sum(SENTINEL_BODY in t for t in texts) == 2

            await until(settled, "live event and send")
            assert (await engine.search("Ruckenschmerzen"))[0].conversation_id == conv.id
            assert engine._key is not None
            key_material.extend([engine._key.hex().encode(), bytes.fromhex(engine._key.hex())])
            # While open: the cache, its -wal and -shm hold the data, encrypted.
            assert (data_dir / "anna" / "cache.db-wal").exists()
            mid_session_hits.extend(_hits(_tree(data_dir), needles + key_material))
            await engine.lock()
            await engine.unlock(PASSWORD)
            await engine.rotate_key(PASSWORD)
            assert engine._key is not None
            key_material.extend([engine._key.hex().encode(), bytes.fromhex(engine._key.hex())])
            mid_session_hits.extend(_hits(_tree(data_dir), needles + key_material))
        finally:
            await engine.sign_out()
        again = make()
        await again.sign_in("anna", PASSWORD)
        try:
            assert len(await again.conversations()) == 1
        finally:
            await again.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))

    assert mid_session_hits == []
    client_files = _tree(data_dir)
    assert {str(p.relative_to(data_dir)) for p in client_files} <= {
        "device-id",
        "anna/cache.db",
        "anna/cache.db-wal",
        "anna/cache.db-shm",
        "anna/key.json",
    }
    assert {p.name for p in client_files} >= {"cache.db", "key.json", "device-id"}
    assert _hits(client_files, needles + key_material) == []
    # Nothing new in the system temp folder carries a sentinel (pytest's own folder aside:
    # it holds the relay's server-side database and this test's client folder, scanned above).
    pytest_root = tmp_path.parents[1]
    new_temp = [p for p in set(temp_root.iterdir()) - temp_before if p != pytest_root]
    new_files = [f for p in new_temp for f in ([p] if p.is_file() else _tree(p))]
    assert _hits(new_files, needles + key_material) == []
    # Every log record of every logger, with tracebacks, and the process's own output.
    assert caplog.records, "no log records captured"
    assert any(r.name.startswith("httpx") for r in caplog.records)  # third-party included
    log_text = "\n".join(_formatted(r) + "\n" + (r.exc_text or "") for r in caplog.records)
    for sentinel in SENTINELS:
        assert sentinel.lower() not in log_text.lower(), sentinel
    for key in key_material[::2]:
        assert key.decode() not in log_text
    out, err = capfd.readouterr()
    for sentinel in SENTINELS:
        assert sentinel not in out and sentinel not in err, sentinel


async def _const(value: bool) -> bool:
    return value
