"""Conversation commands over real HTTP: claims as leases, take-over, assignment, status,
labels, notes with @mentions; each idempotent on its client id and audited."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from inbox_app.domain.roles import Role
from inbox_app.relay.db import Database, conversations
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login, post_text
from tests.test_relay_roles import all_events, command


@pytest.fixture
def staff(relay_server: LiveServer, relay_settings: RelaySettings) -> Iterator[dict[str, Any]]:
    """anna and bert (receptionists), cleo (clinician), root (admin); conversation 1."""
    for name, role in (
        ("anna", Role.RECEPTIONIST),
        ("bert", Role.RECEPTIONIST),
        ("cleo", Role.CLINICIAN),
        ("root", Role.ADMIN),
    ):
        add_user(relay_settings, name, role)
    post_text(relay_server.url, "Ich brauche einen Termin")
    clients = {name: login(relay_server.url, name) for name in ("anna", "bert", "cleo", "root")}
    ids = {u["username"]: u["id"] for u in clients["root"].get("/v1/admin/users").json()["users"]}
    yield {"url": relay_server.url, "ids": ids, **clients}
    for client in clients.values():
        client.close()


def send(client: httpx.Client, text: str = "Guten Tag") -> httpx.Response:
    return client.post(
        "/v1/conversations/1/messages",
        json={"client_id": str(uuid.uuid4()), "type": "text", "text": text},
    )


def last_conversation(client: httpx.Client) -> dict[str, Any]:
    states = [e["data"] for e in all_events(client) if e["type"] == "conversation"]
    return states[-1]


def test_claim_blocks_others_until_take_over(staff: dict[str, Any]) -> None:
    anna, bert = staff["anna"], staff["bert"]
    claimed = command(anna, 1, "claim")
    assert claimed.status_code == 200, claimed.text
    state = claimed.json()["conversation"]
    assert state["claimed_by"] == staff["ids"]["anna"] and state["claimed_by_name"] == "anna"
    assert 590 < state["claim_expires_at"] - time.time() <= 600
    assert last_conversation(bert)["claimed_by"] == staff["ids"]["anna"]  # every desk sees it

    refused = command(bert, 1, "claim")
    assert refused.status_code == 409
    assert refused.json()["error"] == "claimed"
    assert refused.json()["claimed_by"] == {"id": staff["ids"]["anna"], "display_name": "anna"}
    blocked = send(bert)
    assert blocked.status_code == 409 and blocked.json()["error"] == "claimed"
    assert blocked.json()["claimed_by"]["id"] == staff["ids"]["anna"]
    assert command(bert, 1, "release").status_code == 409  # only the holder releases

    # the holder's send goes out and renews the lease
    before = last_conversation(anna)["claim_expires_at"]
    time.sleep(0.05)
    assert send(anna).status_code == 202
    assert last_conversation(anna)["claim_expires_at"] > before

    taken = command(bert, 1, "takeover")
    assert taken.status_code == 200
    assert taken.json()["conversation"]["claimed_by"] == staff["ids"]["bert"]
    assert send(bert).status_code == 202
    assert send(anna).status_code == 409

    released = command(bert, 1, "release")
    assert released.status_code == 200 and released.json()["conversation"]["claimed_by"] is None
    assert send(anna).status_code == 202

    actions = [
        (e["username"], e["action"], e["detail"])
        for e in staff["root"].get("/v1/admin/audit", params={"conversation": 1}).json()["entries"]
    ]
    assert ("bert", "takeover", {"from_user_id": staff["ids"]["anna"]}) in actions
    assert [a for _, a, _ in actions].count("send") == 3
    assert ("anna", "claim", {}) in actions


def test_an_expired_claim_is_free_again(
    staff: dict[str, Any], relay_settings: RelaySettings
) -> None:
    assert command(staff["anna"], 1, "claim").status_code == 200
    db = Database(relay_settings.database_url)
    try:
        with db.write() as conn:  # ten minutes later
            conn.execute(update(conversations).values(claim_expires_at=time.time() - 1))
    finally:
        db.dispose()
    assert send(staff["bert"]).status_code == 202
    claimed = command(staff["bert"], 1, "claim")
    assert claimed.status_code == 200
    assert claimed.json()["conversation"]["claimed_by"] == staff["ids"]["bert"]


def test_commands_are_idempotent_on_their_client_id(staff: dict[str, Any]) -> None:
    anna = staff["anna"]
    client_id = str(uuid.uuid4())
    seqs_before = len(all_events(anna))
    body = {"client_id": client_id, "labels": ["Rezept", "dringend"]}
    first = anna.post("/v1/conversations/1/labels", json=body)
    again = anna.post("/v1/conversations/1/labels", json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["conversation"]["labels"] == ["Rezept", "dringend"]
    assert len(all_events(anna)) == seqs_before + 1  # one event, not two
    reused = anna.post("/v1/conversations/1/claim", json={"client_id": client_id})
    assert reused.status_code == 409 and reused.json()["error"] == "client_id_reused"
    by_other = staff["bert"].post("/v1/conversations/1/labels", json=body)
    assert by_other.status_code == 409
    note_id = str(uuid.uuid4())
    n1 = anna.post("/v1/conversations/1/notes", json={"client_id": note_id, "text": "Rückruf"})
    n2 = anna.post("/v1/conversations/1/notes", json={"client_id": note_id, "text": "Rückruf"})
    assert n1.json() == n2.json()
    notes = [e for e in all_events(anna) if e["type"] == "note"]
    assert len(notes) == 1


def test_assign_status_and_labels_carry_the_whole_state(staff: dict[str, Any]) -> None:
    anna, root = staff["anna"], staff["root"]
    team = root.post("/v1/admin/teams", json={"name": "Empfang"}).json()["id"]
    root.post("/v1/admin/teams/Empfang/members", json={"username": "anna"})
    assert command(anna, 1, "assign", team_id=9999).status_code == 422
    assert command(anna, 1, "assign", user_id=staff["ids"]["root"]).status_code == 422
    r = command(anna, 1, "assign", team_id=team, user_id=staff["ids"]["cleo"])
    assert r.status_code == 200
    state = r.json()["conversation"]
    assert state["team_id"] == team and state["assignee_id"] == staff["ids"]["cleo"]
    # the clinician now sees it; bert (not in the team) no longer does
    assert command(staff["cleo"], 1, "status", status="pending").status_code == 200
    assert command(staff["bert"], 1, "status", status="open").status_code == 404

    assert command(anna, 1, "status", status="snoozed").status_code == 422
    assert (
        command(anna, 1, "status", status="snoozed", snoozed_until=time.time() - 5).status_code
        == 422
    )
    assert command(anna, 1, "status", status="closed").status_code == 422
    until = time.time() + 3600
    r = command(anna, 1, "status", status="snoozed", snoozed_until=until)
    assert r.json()["conversation"]["status"] == "snoozed"
    assert r.json()["conversation"]["snoozed_until"] == pytest.approx(until)
    r = command(anna, 1, "status", status="resolved")
    state = r.json()["conversation"]
    assert state["status"] == "resolved" and state["snoozed_until"] is None
    r = command(anna, 1, "labels", labels=["  b ", "a", "a"])
    assert r.json()["conversation"]["labels"] == ["a", "b"]
    assert command(anna, 1, "labels", labels=["x" * 33]).status_code == 422
    final = last_conversation(anna)
    # the full record rides along with the teamwork fields (the desktop applies it whole)
    assert final["wa_id"] == "4915100000001" and final["labels"] == ["a", "b"]
    assert final["status"] == "resolved" and final["team_id"] == team


def test_notes_and_mentions_reach_only_whom_they_should(staff: dict[str, Any]) -> None:
    anna, bert, cleo = staff["anna"], staff["bert"], staff["cleo"]
    r = anna.post(
        "/v1/conversations/1/notes",
        json={"client_id": str(uuid.uuid4()), "text": "@bert bitte zurückrufen, @cleo @nobody"},
    )
    assert r.status_code == 200, r.text
    note = r.json()["note"]
    # cleo (clinician) may not see the conversation, so she is not told about it
    assert note["mentions"] == [staff["ids"]["bert"]]
    assert note["author_name"] == "anna"

    def kinds(client: httpx.Client) -> list[str]:
        return [e["type"] for e in all_events(client) if e["type"] in ("note", "mention")]

    assert kinds(bert) == ["note", "mention"]
    assert kinds(anna) == ["note"]
    assert kinds(cleo) == []
    assert kinds(staff["root"]) == []
    mention = next(e for e in all_events(bert) if e["type"] == "mention")["data"]
    assert mention["note_id"] == note["id"] and mention["conversation_id"] == 1
    assert "text" not in mention
    entries = staff["root"].get("/v1/admin/audit").json()["entries"]
    note_rows = [e for e in entries if e["action"] == "note"]
    assert note_rows and "zurückrufen" not in str(note_rows)  # never the content
    assert (
        anna.post(
            "/v1/conversations/1/notes", json={"client_id": str(uuid.uuid4()), "text": "   "}
        ).status_code
        == 422
    )


def test_opening_a_conversation_is_audited(staff: dict[str, Any]) -> None:
    assert staff["anna"].post("/v1/conversations/1/opened").json() == {"ok": True}
    entries = staff["root"].get("/v1/admin/audit", params={"user": "anna"}).json()["entries"]
    assert [e["action"] for e in entries if e["conversation_id"] == 1] == ["conversation_opened"]
