"""The audit trail (QUALITY S6, S9): every sign-in and patient-data action recorded without
content, hash-chained so any altered or deleted row is found; the admin CLI end to end."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import delete, select, update

from inbox_app.domain.roles import Role
from inbox_app.relay.cli import build_parser
from inbox_app.relay.db import Database, audit
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login, post_text
from tests.test_relay_roles import command

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def cli(db_url: str, *args: str, stdin: str = "") -> Run:
    """``inbox-relay ARGS`` in this process (the parser and commands the binary runs)."""
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("INBOX_DATABASE_URL"), sys.stdin
    os.environ["INBOX_DATABASE_URL"] = db_url
    sys.stdin = io.StringIO(stdin)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            parsed = build_parser().parse_args(list(args))
            code = parsed.func(parsed)
    finally:
        if saved[0] is None:
            del os.environ["INBOX_DATABASE_URL"]
        else:
            os.environ["INBOX_DATABASE_URL"] = saved[0]
        sys.stdin = saved[1]
    return Run(code, out.getvalue(), err.getvalue())


def test_the_installed_command_verifies(db_url: str) -> None:
    """Once through the real entry point in its own process."""
    env = {**os.environ, "INBOX_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "inbox_app.relay.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0 and "intact" in done.stdout


def test_sign_ins_and_patient_actions_are_audited_without_content(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    add_user(relay_settings, "root", Role.ADMIN)
    url = relay_server.url
    assert (
        httpx.post(
            url + "/v1/auth/login", json={"username": "anna", "password": "falsch"}
        ).status_code
        == 401
    )
    post_text(url, "Mein Befund SENTINEL-Inhalt")
    anna = login(url, "anna")
    anna.post("/v1/conversations/1/opened")
    command(anna, 1, "claim")
    anna.post(
        "/v1/conversations/1/messages",
        json={"client_id": "5b0c0d7e-3a1f-4d61-9c41-2b7a0d5f8e11", "text": "Antwort SENTINEL"},
    )
    anna.post("/v1/auth/logout")
    root = login(url, "root")
    entries = root.get("/v1/admin/audit").json()["entries"]
    actions = [(e["username"], e["action"]) for e in entries]
    for expected in (
        ("anna", "sign_in_failed"),
        ("anna", "sign_in"),
        ("anna", "conversation_opened"),
        ("anna", "claim"),
        ("anna", "send"),
        ("anna", "sign_out"),
        ("root", "sign_in"),
    ):
        assert expected in actions, expected
    assert all(e["address"] == "127.0.0.1" for e in entries if e["action"].startswith("sign_in"))
    assert "SENTINEL" not in json.dumps(entries)
    # reading the trail is itself recorded
    again = root.get("/v1/admin/audit", params={"user": "root"}).json()["entries"]
    assert again[-1]["action"] == "export"
    assert root.get("/v1/admin/audit/verify").json() == {"ok": True, "problems": []}
    assert root.get("/v1/admin/audit", params={"since": "gestern"}).status_code == 422
    root.close()
    anna.close()


def test_verify_finds_an_altered_and_a_deleted_row(db_url: str) -> None:
    assert (
        cli(db_url, "user", "add", "root", "--role", "admin", stdin="lang genug\n").returncode == 0
    )
    for name in ("A", "B", "C", "D"):
        assert cli(db_url, "team", "add", name).returncode == 0
    ok = cli(db_url, "audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout
    db = Database(db_url)
    try:
        with db.write() as conn:
            ids = list(conn.execute(select(audit.c.id).order_by(audit.c.id)).scalars())
            assert len(ids) == 5
            conn.execute(update(audit).where(audit.c.id == ids[1]).values(action="team_member"))
            conn.execute(delete(audit).where(audit.c.id == ids[3]))
    finally:
        db.dispose()
    broken = cli(db_url, "audit", "verify")
    assert broken.returncode != 0
    assert f"audit row {ids[1]}: altered" in broken.stderr
    assert f"audit row {ids[4]}: the row before it was deleted" in broken.stderr
    assert "NOT intact (2 problem(s))" in broken.stderr


def test_cli_manages_users_and_teams_and_exports_the_trail(db_url: str) -> None:
    assert (
        cli(
            db_url, "user", "add", "anna", "--role", "receptionist", stdin="lang genug\n"
        ).returncode
        == 0
    )
    dup = cli(db_url, "user", "add", "anna", "--role", "nurse", stdin="lang genug\n")
    assert dup.returncode == 1 and "exists" in dup.stderr
    assert cli(db_url, "user", "role", "anna", "nurse").returncode == 0
    assert cli(db_url, "user", "role", "ghost", "nurse").returncode == 1
    assert cli(db_url, "team", "add", "Empfang").returncode == 0
    assert cli(db_url, "team", "add", "Empfang").returncode == 1
    member = cli(db_url, "team", "member", "Empfang", "anna")
    assert member.returncode == 0 and "1 member" in member.stdout
    assert cli(db_url, "team", "member", "Empfang", "ghost").returncode == 1
    assert cli(db_url, "user", "disable", "anna").returncode == 0
    assert cli(db_url, "user", "disable", "ghost").returncode == 1

    exported = cli(db_url, "audit", "export", "--format", "json")
    assert exported.returncode == 0
    rows = json.loads(exported.stdout)
    assert [r["action"] for r in rows] == [
        "user_created",
        "role_changed",
        "team_created",
        "team_member",
        "user_disabled",
    ]
    assert rows[1]["detail"] == {"from": "receptionist", "target_user_id": 1, "to": "nurse"}
    as_csv = cli(db_url, "audit", "export", "--format", "csv", "--since", "2000-01-01T00:00:00")
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["action"] for r in table][:5] == [r["action"] for r in rows]
    assert table[-1]["action"] == "export"  # the JSON export above was recorded
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (
        json.loads(cli(db_url, "audit", "export", "--format", "json", "--since", future).stdout)
        == []
    )
    none = json.loads(
        cli(db_url, "audit", "export", "--format", "json", "--conversation", "7").stdout
    )
    assert none == []
    assert cli(db_url, "audit", "export", "--since", "nie").returncode == 2
    assert cli(db_url, "audit", "verify").returncode == 0


def test_reads_on_the_desktop_are_audited_once_without_the_query(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    """Searches run on the desktop's cache; the desktop reports them (maybe late, maybe
    twice after a lost answer): kind, count and conversation ids, never the words."""
    url = relay_server.url
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    add_user(relay_settings, "root", Role.ADMIN)
    post_text(url, "Befund bitte", wa_id="4915100000001")
    post_text(url, "Termin", wa_id="4915100000002")
    anna = login(url, "anna")
    root = login(url, "root")
    team = root.post("/v1/admin/teams", json={"name": "B"}).json()["id"]
    assert command(anna, 2, "assign", team_id=team).status_code == 200  # hidden from anna now
    search_id = "0f6f0c1e-0000-4000-8000-000000000001"
    yesterday = datetime.now(UTC).timestamp() - 86400
    search = {
        "client_id": search_id,
        "kind": "search",
        "results": 3,
        "conversation_ids": [1],
        "at": yesterday,
        "query": "SENTINEL Befund",  # an older client sending the words: never stored
    }
    first = anna.post("/v1/audit/reads", json=search)
    assert first.json() == {"ok": True, "duplicate": False}, first.text
    assert anna.post("/v1/audit/reads", json=search).json() == {"ok": True, "duplicate": True}
    opened = anna.post(
        "/v1/audit/reads",
        json={
            "client_id": "0f6f0c1e-0000-4000-8000-000000000002",
            "kind": "opened",
            "conversation_ids": [1],
            "via": "search",
        },
    )
    assert opened.status_code == 200
    export = anna.post(
        "/v1/audit/reads",
        json={"client_id": "0f6f0c1e-0000-4000-8000-000000000003", "kind": "export", "results": 12},
    )
    assert export.status_code == 200
    # a conversation anna may not see answers like one that does not exist, and is recorded
    hidden = anna.post(
        "/v1/audit/reads",
        json={
            "client_id": "0f6f0c1e-0000-4000-8000-000000000004",
            "kind": "opened",
            "conversation_ids": [2],
        },
    )
    missing = anna.post(
        "/v1/audit/reads",
        json={
            "client_id": "0f6f0c1e-0000-4000-8000-000000000005",
            "kind": "opened",
            "conversation_ids": [999],
        },
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    empty = anna.post(
        "/v1/audit/reads",
        json={"client_id": "0f6f0c1e-0000-4000-8000-000000000006", "kind": "opened"},
    )
    assert empty.status_code == 422
    assert anna.post("/v1/audit/reads", json={"kind": "search"}).status_code == 422

    entries = root.get("/v1/admin/audit", params={"user": "anna"}).json()["entries"]
    reads = [e for e in entries if e["action"] in ("search", "conversation_opened", "export")]
    assert [(e["action"], e["conversation_id"]) for e in reads] == [
        ("search", None),
        ("conversation_opened", 1),
        ("export", None),
    ]
    assert reads[0]["detail"]["results"] == 3 and reads[0]["detail"]["conversation_ids"] == [1]
    assert reads[0]["detail"]["reported_late_s"] >= 86000  # when it happened, kept
    assert reads[1]["detail"] == {"via": "search"}
    assert reads[2]["detail"]["via"] == "desktop" and reads[2]["detail"]["rows"] == 12
    denied = [e for e in entries if e["action"] == "access_denied"]
    assert [e["conversation_id"] for e in denied] == [2, 999]
    assert "SENTINEL" not in json.dumps(entries)
    # filtered by conversation for the data-protection officer: the opening shows
    by_conversation = root.get("/v1/admin/audit", params={"conversation": 1}).json()["entries"]
    assert ("anna", "conversation_opened") in {
        (e["username"], e["action"]) for e in by_conversation
    }
    assert root.get("/v1/admin/audit/verify").json()["ok"] is True
    anna.close()
    root.close()
