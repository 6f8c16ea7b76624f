"""Encryption at rest on the relay: SQLCipher database, sealed media files, key rotation,
and the refusal to run a SQLite relay without a key (outside demo mode)."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.cli import main as relay_main
from inbox_app.relay.db import Database
from inbox_app.relay.dbkey import KeyProblem, ServerKey
from inbox_app.relay.settings import ConfigError, RelaySettings
from inbox_app.relay.vault import Vault, VaultError
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.live_server import LiveServer, free_port
from tests.test_relay_api import add_user, login
from tests.test_relay_outbox import Pair

SENTINEL = "QZX-Kopfschmerzattest-7731"
PDF = b"%PDF-1.4\n(" + SENTINEL.encode() + b")\n" + b"1 0 obj << >> endobj\n" * 40 + b"%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + SENTINEL.encode() + os.urandom(512)


def settings_for(tmp_path: Path, **kw: Any) -> RelaySettings:
    return RelaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        graph_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'relay' / 'relay.db'}",
        **kw,
    )


@contextmanager
def running(settings: RelaySettings) -> Iterator[Pair]:
    """Relay + simulator, as the outbox tests run them, on a fixed settings object."""
    relay_port, sim_port = free_port(), free_port()
    settings = replace(settings, graph_url=f"http://127.0.0.1:{sim_port}", graph_timeout=1.0)
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
    )
    with (
        LiveServer(create_app(settings), port=relay_port) as relay,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        staff = login(relay.url, "anna")
        try:
            yield Pair(relay, sim, staff)
        finally:
            staff.close()


def inbound_media(p: Pair, kind: str, data: bytes, mime: str, **extra: Any) -> None:
    r = httpx.post(
        p.sim.url + "/_sim/inbound",
        json={
            "from": "4915100000101",
            "name": "Erika Musterfrau",
            "type": kind,
            "data": base64.b64encode(data).decode(),
            "mime_type": mime,
            **extra,
        },
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == 200, r.text


def ready_media(p: Pair, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The latest state of each message with media, once ``count`` of them are ready."""
    deadline = time.monotonic() + timeout
    while True:
        latest: dict[int, dict[str, Any]] = {}
        for e in p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]:
            if e["type"] == "message" and e["data"].get("media"):
                latest[e["data"]["id"]] = e["data"]
        ready = [m for m in latest.values() if m["media"]["state"] == "ready"]
        if len(ready) >= count:
            return sorted(ready, key=lambda m: m["id"])
        assert time.monotonic() < deadline, list(latest.values())
        time.sleep(0.05)


def fill(p: Pair) -> dict[int, bytes]:
    """Patient words in texts, captions, filenames, files both ways; media id -> bytes."""
    for i in range(5):
        p.inbound(f"{SENTINEL} Nachricht {i}")
    inbound_media(p, "image", JPEG, "image/jpeg", caption=f"Foto {SENTINEL}")
    inbound_media(p, "document", PDF, "application/pdf", filename=f"{SENTINEL}.pdf")
    p.reply(f"Antwort {SENTINEL}")
    r = p.staff.post(
        "/v1/conversations/1/messages",
        json={
            "client_id": str(uuid.uuid4()),
            "type": "document",
            "data": base64.b64encode(PDF).decode(),
            "mime_type": "application/pdf",
            "filename": "Befund.pdf",
        },
    )
    assert r.status_code == 202, r.text
    files = {}
    for message in ready_media(p, 3):
        media_id = message["media"]["id"]
        got = p.staff.get(f"/v1/media/{media_id}")
        assert got.status_code == 200, got.text
        files[media_id] = got.content
    assert sorted(files.values()) == sorted([JPEG, PDF, PDF])  # decrypted on the way out
    return files


def on_disk(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "media"
    monkeypatch.setenv("INBOX_MEDIA_DIR", str(folder))
    return folder


def test_no_patient_word_in_plaintext_in_database_wal_or_media(
    tmp_path: Path, media_dir: Path
) -> None:
    settings = settings_for(tmp_path)
    add_user(settings, "anna", Role.RECEPTIONIST)
    with running(settings) as p:
        fill(p)
        # Raw bytes while the relay runs: the WAL holds the latest pages.
        files = on_disk(tmp_path / "relay") | on_disk(media_dir)
        # Every file is readable only by the relay's user.
        assert {oct(path.stat().st_mode & 0o077) for path in files} == {"0o0"}
    names = {path.name for path in files}
    assert {"relay.db", "relay.db-wal"} <= names, names
    assert len([n for n in names if not n.startswith("relay.db")]) == 3, names
    needles = [SENTINEL.encode(), SENTINEL.encode("utf-16-le"), b"Erika", b"%PDF", b"JFIF"]
    for path, data in files.items():
        for needle in needles:
            assert needle not in data, f"{needle!r} in {path.name}"
    assert not files[tmp_path / "relay" / "relay.db"].startswith(b"SQLite format 3")


def test_sqlite_relay_without_key_refuses_to_start_unless_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "relay.db"
    env = {
        **os.environ,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "INBOX_DATABASE_URL": f"sqlite:///{db}",
    }
    env.pop("INBOX_DB_KEY")
    port = free_port()
    serve = [sys.executable, "-m", "inbox_app.relay.cli", "serve", "--port", str(port)]
    refused = subprocess.run(serve, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "unencrypted" in refused.stderr and "INBOX_DB_KEY_FILE" in refused.stderr
    assert "--demo" in refused.stderr and not db.exists()

    monkeypatch.delenv("INBOX_DB_KEY")
    with pytest.raises(ConfigError, match="INBOX_DB_KEY"):
        create_app(settings_for(tmp_path))  # in process too, not only through the CLI

    demo = subprocess.Popen([*serve, "--demo"], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert demo.poll() is None and time.monotonic() < deadline, "demo did not start"
            time.sleep(0.1)
    finally:
        demo.terminate()
        demo.wait(15)
    assert db.read_bytes().startswith(b"SQLite format 3")  # demo mode: plain, as asked


def cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = relay_main(list(args))
    return code, out.getvalue() + err.getvalue()


def test_wrong_missing_or_exposed_key_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    add_user(settings, "anna", Role.RECEPTIONIST)  # encrypted under the suite's key
    monkeypatch.setenv("INBOX_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\n"))

    other = ServerKey.generate()
    monkeypatch.setenv("INBOX_DB_KEY", other.hex())
    code, output = cli("user", "add", "ben", "--role", "receptionist")
    assert code == 2 and "cannot be opened with this key" in output
    assert other.hex() not in output and other.database_hex not in output

    monkeypatch.delenv("INBOX_DB_KEY")
    code, output = cli("user", "add", "ben", "--role", "receptionist")
    assert code == 2 and "is encrypted: set INBOX_DB_KEY" in output

    key_file = tmp_path / "relay.key"
    assert cli("key", "new", str(key_file))[0] == 0
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert cli("key", "new", str(key_file))[0] == 2  # never overwrites a key
    key_file.chmod(0o644)
    monkeypatch.setenv("INBOX_DB_KEY_FILE", str(key_file))
    code, output = cli("user", "add", "ben", "--role", "receptionist")
    assert code == 2 and "readable by others" in output

    monkeypatch.setenv("INBOX_DB_KEY", "not-a-key")
    monkeypatch.delenv("INBOX_DB_KEY_FILE")
    code, output = cli("user", "add", "ben", "--role", "receptionist")
    assert code == 2 and "64 hex digits" in output
    keyed = replace(settings, db_key=other)
    assert other.hex() not in repr(keyed) and other.hex() not in repr(keyed.db_key)


def test_rekey_rotates_database_and_media_and_resumes(
    tmp_path: Path, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ServerKey.parse(os.environ["INBOX_DB_KEY"])
    settings = settings_for(tmp_path)
    add_user(settings, "anna", Role.RECEPTIONIST)
    with running(settings) as p:
        files = fill(p)
        feed = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    stored = sorted(media_dir.iterdir())

    new_file = tmp_path / "new.key"
    monkeypatch.setenv("INBOX_DATABASE_URL", settings.database_url)
    assert cli("key", "new", str(new_file))[0] == 0
    # An interrupted rotation: one file already moved to the new key by an earlier run.
    new = ServerKey.parse(new_file.read_text())
    Vault(new).write(stored[0], Vault(old).read(stored[0]))
    code, output = cli("rekey", "--new-key-file", str(new_file))
    assert code == 0, output
    assert "database: rekeyed" in output and "files re-encrypted: 2" in output
    assert "already under the new key: 1" in output
    # A second run finds nothing left to do.
    code, output = cli("rekey", "--new-key-file", str(new_file))
    assert code == 0 and "database: already" in output and "re-encrypted: 0" in output

    with pytest.raises(KeyProblem):
        Database(settings.database_url, old).create_schema()
    with pytest.raises(VaultError):
        Vault(old).read(stored[1])

    monkeypatch.delenv("INBOX_DB_KEY")
    monkeypatch.setenv("INBOX_DB_KEY_FILE", str(new_file))
    with running(settings) as p:
        # Everything from before (status receipts may have arrived since).
        after = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        assert after[: len(feed)] == feed
        for media_id, data in files.items():
            assert p.staff.get(f"/v1/media/{media_id}").content == data


def test_a_demo_relay_is_encrypted_in_place_by_rekey(
    tmp_path: Path, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOX_DB_KEY")
    settings = settings_for(tmp_path, demo=True)
    add_user(settings, "anna", Role.RECEPTIONIST)
    with running(settings) as p:
        files = fill(p)
        feed = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    before = b"".join((on_disk(tmp_path / "relay") | on_disk(media_dir)).values())
    assert before.count(SENTINEL.encode()) >= 5  # plain before: the check below can fail

    key_file = tmp_path / "relay.key"
    monkeypatch.setenv("INBOX_DATABASE_URL", settings.database_url)
    assert cli("key", "new", str(key_file))[0] == 0
    code, output = cli("rekey", "--new-key-file", str(key_file))
    assert code == 0 and "database: encrypted" in output, output

    for path, data in (on_disk(tmp_path / "relay") | on_disk(media_dir)).items():
        assert SENTINEL.encode() not in data, path.name
    monkeypatch.setenv("INBOX_DB_KEY_FILE", str(key_file))
    with running(replace(settings, demo=False)) as p:
        # Everything from before (status receipts may have arrived since).
        after = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        assert after[: len(feed)] == feed
        for media_id, data in files.items():
            assert p.staff.get(f"/v1/media/{media_id}").content == data
