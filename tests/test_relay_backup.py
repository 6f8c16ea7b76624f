"""`inbox-relay backup` while the relay runs, `inbox-relay restore` into a fresh relay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.backup import BackupError, read_backup
from inbox_app.relay.db import Database
from inbox_app.relay.dbkey import KeyProblem, ServerKey
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login
from tests.webhooks import signed, text_message

PASSPHRASE = "correct horse battery staple"
SENTINEL = "QX9-Sentinel Rückenschmerzen"


def _cli(
    *args: str, db: Path, passphrase: str = PASSPHRASE, key: ServerKey | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INBOX_DATABASE_URL": f"sqlite:///{db}"}
    if key is not None:
        env["INBOX_DB_KEY"] = key.hex()
    env.pop("INBOX_BACKUP_PASSPHRASE", None)
    return subprocess.run(
        [sys.executable, "-m", "inbox_app.relay.cli", *args],
        input=passphrase + "\n",
        text=True,
        capture_output=True,
        env=env,
        timeout=60,
    )


def _feed(url: str) -> list[dict[str, Any]]:
    client = login(url, "anna")
    try:
        events: list[dict[str, Any]] = client.get("/v1/sync", params={"limit": 1000}).json()[
            "events"
        ]
        return events
    finally:
        client.close()


def test_backup_of_a_running_relay_restores_completely(tmp_path: Path) -> None:
    db = tmp_path / "live" / "relay.db"
    settings = RelaySettings(
        app_secret="test-app-secret",
        verify_token="v",
        access_token="t",
        phone_number_id="1",
        database_url=f"sqlite:///{db}",
        run_outbox=False,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    backup_file = tmp_path / "relay.backup"
    with LiveServer(create_app(settings)) as relay:
        for i in range(30):
            body, headers = signed(text_message(f"{SENTINEL} {i}", wa_id=f"49151000{i % 5:05d}"))
            assert (
                httpx.post(relay.url + "/webhook", content=body, headers=headers).status_code == 200
            )
        before = _feed(relay.url)
        made = _cli("backup", str(backup_file), db=db)  # while the relay runs
        assert made.returncode == 0, made.stderr
    raw = backup_file.read_bytes()
    assert SENTINEL.encode() not in raw and b"SQLite format" not in raw
    assert not db.read_bytes().startswith(b"SQLite format")  # the live database: SQLCipher
    assert oct(backup_file.stat().st_mode & 0o777) == "0o600"

    restored_db = tmp_path / "restored" / "relay.db"
    done = _cli("restore", str(backup_file), db=restored_db)
    assert done.returncode == 0, done.stderr
    again = _cli("restore", str(backup_file), db=restored_db)
    assert again.returncode == 2 and "--force" in again.stderr  # never overwrites silently

    fresh = RelaySettings(
        app_secret="test-app-secret",
        verify_token="v",
        access_token="t",
        phone_number_id="1",
        database_url=f"sqlite:///{restored_db}",
        run_outbox=False,
    )
    with LiveServer(create_app(fresh)) as relay:
        assert _feed(relay.url) == before  # every event, same seqs, same state; users too


def test_wrong_passphrase_tampering_and_truncation_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    settings = RelaySettings(
        app_secret="s",
        verify_token="v",
        access_token="t",
        phone_number_id="1",
        database_url=f"sqlite:///{db}",
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    backup_file = tmp_path / "b.backup"
    assert _cli("backup", str(backup_file), db=db).returncode == 0
    data = backup_file.read_bytes()
    with pytest.raises(BackupError, match="passphrase"):
        read_backup(data, "not the passphrase at all")
    flipped = bytearray(data)
    flipped[-20] ^= 1
    with pytest.raises(BackupError):
        read_backup(bytes(flipped), PASSPHRASE)
    with pytest.raises(BackupError):
        read_backup(data[: len(data) - 40], PASSPHRASE)
    with pytest.raises(BackupError, match="not a Praxis Inbox backup"):
        read_backup(b"hello", PASSPHRASE)
    short = _cli("backup", str(tmp_path / "c.backup"), db=db, passphrase="short")
    assert short.returncode == 2 and "12 characters" in short.stderr


def test_postgres_relays_are_pointed_to_pg_dump(tmp_path: Path) -> None:
    env = {**os.environ, "INBOX_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:9/db"}
    result = subprocess.run(
        [sys.executable, "-m", "inbox_app.relay.cli", "backup", str(tmp_path / "x")],
        input=PASSPHRASE + "\n",
        text=True,
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2 and "pg_dump" in result.stderr


def test_a_backup_restores_under_the_key_the_relay_has_now(tmp_path: Path) -> None:
    """A backup holds rows, not pages under the old key: after a key rotation (or onto a
    new server with its own key) it restores under the current key."""
    db = tmp_path / "old" / "relay.db"
    settings = RelaySettings(
        app_secret="test-app-secret",
        verify_token="v",
        access_token="t",
        phone_number_id="1",
        database_url=f"sqlite:///{db}",
        run_outbox=False,
    )
    add_user(settings, "anna", Role.RECEPTIONIST)
    with LiveServer(create_app(settings)) as relay:
        for i in range(5):
            body, headers = signed(text_message(f"{SENTINEL} {i}", wa_id=f"4915100{i:05d}"))
            httpx.post(relay.url + "/webhook", content=body, headers=headers)
        before = _feed(relay.url)
    backup_file = tmp_path / "relay.backup"
    assert _cli("backup", str(backup_file), db=db).returncode == 0

    new_key = ServerKey.generate()
    restored_db = tmp_path / "new" / "relay.db"
    done = _cli("restore", str(backup_file), db=restored_db, key=new_key)
    assert done.returncode == 0, done.stderr
    assert SENTINEL.encode() not in restored_db.read_bytes()
    with pytest.raises(KeyProblem):
        Database(
            f"sqlite:///{restored_db}", ServerKey.parse(os.environ["INBOX_DB_KEY"])
        ).create_schema()
    fresh = RelaySettings(
        app_secret="test-app-secret",
        verify_token="v",
        access_token="t",
        phone_number_id="1",
        database_url=f"sqlite:///{restored_db}",
        run_outbox=False,
        db_key=new_key,
    )
    with LiveServer(create_app(fresh)) as relay:
        assert _feed(relay.url) == before
