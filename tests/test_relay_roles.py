"""Roles and teams on the relay: who receives which feed events and who may touch which
conversation (ARCHITECTURE.md 'Who may do what'; QUALITY S6, S7), over real HTTP.

The role matrix these tests check (conversations c1..c5 below):

| user           | role         | teams | receives / may act on |
| -------------- | ------------ | ----- | --------------------- |
| rec_a          | receptionist | A     | c1, c2, c4            |
| rec_none       | receptionist | -     | c1, c5                |
| nurse_b        | nurse        | B     | c1, c3, c5            |
| clin           | clinician    | -     | c4                    |
| root           | admin        | -     | none (403 on every conversation command) |

c1 has no team; c2 team A; c3 team B; c4 team A assigned to clin; c5 team B assigned to
rec_none. Everything else answers 404 exactly like a conversation that does not exist.

Checked for every user and every conversation outside its row: the feed (sync and SSE),
send, claim, release, takeover, assign, status, labels, notes, opened, presence, read,
typing, read reports (/v1/audit/reads), and retry/cancel of a message in it (same status
and body as a missing id; admin: 403 on the commands, 404 elsewhere). Admin routes
(/v1/admin/*, removing a colleague's second factor) answer 403 to every other role.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from inbox_app.domain.roles import Role
from inbox_app.relay.auth import Accounts
from inbox_app.relay.db import Database
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login, post_text

MATRIX = {
    "rec_a": {1, 2, 4},
    "rec_none": {1, 5},
    "nurse_b": {1, 3, 5},
    "clin": {4},
    "root": set(),
}


@dataclass
class World:
    url: str
    settings: RelaySettings
    clients: dict[str, httpx.Client] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> httpx.Client:
        return self.clients[name]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def command(client: httpx.Client, conversation_id: int, name: str, **body: Any) -> httpx.Response:
    return client.post(
        f"/v1/conversations/{conversation_id}/{name}",
        json={"client_id": str(uuid.uuid4()), **body},
    )


def build_world(url: str, settings: RelaySettings) -> World:
    """Users, teams A and B, and five conversations placed as in the module docstring."""
    world = World(url, settings)
    for name, role in (
        ("root", Role.ADMIN),
        ("desk", Role.RECEPTIONIST),
        ("rec_a", Role.RECEPTIONIST),
        ("rec_none", Role.RECEPTIONIST),
        ("nurse_b", Role.NURSE),
        ("clin", Role.CLINICIAN),
    ):
        add_user(settings, name, role)
        world.clients[name] = login(url, name)
    root = world["root"]
    for user in root.get("/v1/admin/users").json()["users"]:
        world.ids[user["username"]] = user["id"]
    team_ids = {}
    for team, members in (("A", ("desk", "rec_a")), ("B", ("desk", "nurse_b"))):
        created = root.post("/v1/admin/teams", json={"name": team})
        assert created.status_code == 201, created.text
        team_ids[team] = created.json()["id"]
        for member in members:
            r = root.post(f"/v1/admin/teams/{team}/members", json={"username": member})
            assert r.status_code == 200, r.text
    for i in range(1, 6):
        post_text(url, f"Anfrage {i}", wa_id=f"4915100000{i:03d}")
    desk = world["desk"]
    placements: dict[int, dict[str, Any]] = {
        2: {"team_id": team_ids["A"]},
        3: {"team_id": team_ids["B"]},
        4: {"team_id": team_ids["A"], "user_id": world.ids["clin"]},
        5: {"team_id": team_ids["B"], "user_id": world.ids["rec_none"]},
    }
    for conversation_id, placement in placements.items():
        r = command(desk, conversation_id, "assign", **placement)
        assert r.status_code == 200, r.text
    return world


def conversations_in_feed(events: list[dict[str, Any]]) -> set[int]:
    found = set()
    for ev in events:
        if ev["type"] == "conversation":
            found.add(ev["data"]["id"])
        elif "conversation_id" in ev["data"]:
            found.add(ev["data"]["conversation_id"])
    return found


def all_events(client: httpx.Client) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get("/v1/sync", params={"after": after, "limit": 1000}).json()
        events += page["events"]
        after = page["next"]
        if not page["more"]:
            return events


async def read_sse(
    url: str,
    token_header: str,
    *,
    until: Callable[[list[dict[str, Any]]], bool],
    action: Callable[[], None] | None = None,
    timeout: float = 15,
    after: int | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Events (presence included) until ``until`` holds; also whether the server closed."""
    got: list[dict[str, Any]] = []
    headers = {"Authorization": token_header}
    if after is not None:
        headers["Last-Event-ID"] = str(after)

    async def run() -> bool:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            async with aconnect_sse(client, "GET", "/v1/events", headers=headers) as source:
                if action is not None:
                    asyncio.get_running_loop().run_in_executor(None, action)
                async for sse in source.aiter_sse():
                    if not sse.data:
                        continue
                    ev = json.loads(sse.data)
                    ev["_id"] = sse.id
                    got.append(ev)
                    if until(got):
                        return False
        return True  # the server ended the stream

    closed = await asyncio.wait_for(run(), timeout)
    return got, closed


def test_feed_follows_the_role_matrix(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    world = build_world(relay_server.url, relay_settings)
    try:
        for name, expected in MATRIX.items():
            events = all_events(world[name])
            assert conversations_in_feed(events) == expected, name
            if name == "root":
                assert events == [] or all(
                    e["type"] not in ("conversation", "message", "note") for e in events
                )
        # a conversation moved to team B disappears from team A's feed and appears in B's
        r = command(world["desk"], 2, "assign", team_id=None)
        assert r.status_code == 200
        assert 2 in conversations_in_feed(all_events(world["rec_none"]))
    finally:
        world.close()


def test_every_conversation_endpoint_answers_404_alike_for_hidden_ids(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    """S7: an id the caller may not see looks exactly like one that does not exist."""
    world = build_world(relay_server.url, relay_settings)
    post_text(relay_server.url, "frisch", wa_id="4915100000002")  # keeps c2's window open
    calls: list[tuple[str, dict[str, Any]]] = [
        ("messages", {"type": "text", "text": "Hallo"}),
        ("claim", {}),
        ("release", {}),
        ("takeover", {}),
        ("assign", {"user_id": None}),
        ("status", {"status": "resolved"}),
        ("labels", {"labels": ["x"]}),
        ("notes", {"text": "intern"}),
    ]
    try:
        for name, visible in MATRIX.items():
            client = world[name]
            for conversation_id in range(1, 6):
                if conversation_id in visible:
                    continue
                for path, body in calls:
                    hidden = command(client, conversation_id, path, **body)
                    missing = command(client, 999_999, path, **body)
                    expected = 403 if name == "root" else 404
                    assert hidden.status_code == missing.status_code == expected, (name, path)
                    assert hidden.json() == missing.json(), (name, path)
                    assert set(hidden.json()) == {"error", "message"}
                opened = client.post(f"/v1/conversations/{conversation_id}/opened")
                opened_missing = client.post("/v1/conversations/999999/opened")
                assert opened.status_code == opened_missing.status_code
                assert opened.json() == opened_missing.json()
                presence = client.post(
                    "/v1/presence", json={"conversation_id": conversation_id, "state": "typing"}
                )
                presence_missing = client.post(
                    "/v1/presence", json={"conversation_id": 999_999, "state": "typing"}
                )
                assert presence.status_code == presence_missing.status_code
                assert presence.json() == presence_missing.json()
        # and what they may see, they may work on
        for name, visible in MATRIX.items():
            for conversation_id in visible:
                r = command(world[name], conversation_id, "labels", labels=[name])
                assert r.status_code == 200, (name, conversation_id, r.text)
        # refusals are audited, without content
        entries = world["root"].get("/v1/admin/audit").json()["entries"]
        denied = [e for e in entries if e["action"] == "access_denied"]
        assert {(e["username"], e["conversation_id"]) for e in denied} >= {
            ("rec_none", 2),
            ("clin", 1),
        }
    finally:
        world.close()


def test_admin_endpoints_are_for_admins_only(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    anna = login(relay_server.url, "anna")
    try:
        for method, path, body in (
            ("GET", "/v1/admin/users", None),
            ("POST", "/v1/admin/users", {"username": "x", "password": "12345678", "role": "nurse"}),
            ("POST", "/v1/admin/users/anna/disable", None),
            ("POST", "/v1/admin/users/anna/role", {"role": "admin"}),
            ("GET", "/v1/admin/teams", None),
            ("POST", "/v1/admin/teams", {"name": "T"}),
            ("POST", "/v1/admin/teams/T/members", {"username": "anna"}),
            ("GET", "/v1/admin/audit", None),
            ("GET", "/v1/admin/audit/verify", None),
        ):
            r = anna.request(method, path, json=body)
            assert r.status_code == 403, (path, r.text)
            assert set(r.json()) == {"error", "message"}
        assert anna.get("/v1/me").json()["role"] == "receptionist"
    finally:
        anna.close()


def test_admin_api_manages_users_roles_and_teams(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "root", Role.ADMIN)
    root = login(relay_server.url, "root")
    try:
        created = root.post(
            "/v1/admin/users",
            json={"username": "berta", "password": "lang genug", "role": "nurse"},
        )
        assert created.status_code == 201 and created.json()["role"] == "nurse"
        again = root.post(
            "/v1/admin/users",
            json={"username": "berta", "password": "lang genug", "role": "nurse"},
        )
        assert again.status_code == 409
        berta = login(relay_server.url, "berta", "lang genug")
        r = root.post("/v1/admin/users/berta/role", json={"role": "clinician"})
        assert r.status_code == 200 and r.json()["role"] == "clinician"
        assert berta.get("/v1/me").json()["role"] == "clinician"  # takes effect at once
        assert root.post("/v1/admin/users/nobody/role", json={"role": "nurse"}).status_code == 404
        r = root.post("/v1/admin/users/berta/disable")
        assert r.status_code == 200 and r.json()["disabled"] is True
        assert berta.get("/v1/me").status_code == 401  # its tokens are revoked
        denied = httpx.post(
            relay_server.url + "/v1/auth/login",
            json={"username": "berta", "password": "lang genug"},
        )
        assert denied.status_code == 401
        assert root.post("/v1/admin/users/root/disable").status_code == 422
        teams = root.get("/v1/admin/teams").json()["teams"]
        assert teams == []
        root.post("/v1/admin/teams", json={"name": "Empfang"})
        assert root.post("/v1/admin/teams", json={"name": "Empfang"}).status_code == 409
        r = root.post("/v1/admin/teams/Empfang/members", json={"username": "berta"})
        assert r.status_code == 200 and len(r.json()["members"]) == 1
        r = root.post(
            "/v1/admin/teams/Empfang/members", json={"username": "berta", "member": False}
        )
        assert r.json()["members"] == []
        assert (
            root.post("/v1/admin/teams/Nix/members", json={"username": "berta"}).status_code == 404
        )
        actions = [e["action"] for e in root.get("/v1/admin/audit").json()["entries"]]
        for action in ("user_created", "role_changed", "user_disabled", "team_created"):
            assert action in actions
        berta.close()
    finally:
        root.close()


def test_disabling_or_signing_out_ends_live_streams(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    """S6: a revoked session stops receiving events within seconds, on every path."""
    for name in ("root", "anna", "bert", "cara"):
        add_user(relay_settings, name, Role.ADMIN if name == "root" else Role.RECEPTIONIST)
    root = login(relay_server.url, "root")
    sessions = {name: login(relay_server.url, name) for name in ("anna", "bert", "cara")}

    def disable_via_api() -> None:
        time.sleep(0.3)
        assert root.post("/v1/admin/users/anna/disable").status_code == 200

    def sign_out() -> None:
        time.sleep(0.3)
        assert sessions["bert"].post("/v1/auth/logout").status_code == 200

    def disable_elsewhere() -> None:
        # as `inbox-relay user disable` does, from another process: no in-process wake-up
        time.sleep(0.3)
        db = Database(relay_settings.database_url)
        try:
            Accounts(db, idle_seconds=60, max_seconds=60).disable("cara")
        finally:
            db.dispose()

    try:
        for name, action in (
            ("anna", disable_via_api),
            ("bert", sign_out),
            ("cara", disable_elsewhere),
        ):
            started = time.monotonic()
            _, closed = asyncio.run(
                read_sse(
                    relay_server.url,
                    sessions[name].headers["Authorization"],
                    until=lambda got: False,
                    action=action,
                    timeout=12,
                )
            )
            assert closed, name
            assert time.monotonic() - started < 8, name
    finally:
        root.close()
        for client in sessions.values():
            client.close()


def test_sse_delivers_only_visible_events_and_presence(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    world = build_world(relay_server.url, relay_settings)
    try:
        start = world["rec_none"].get("/v1/sync", params={"after": 0, "limit": 1000}).json()
        cursor = max(e["seq"] for e in all_events(world["desk"]))

        def traffic() -> None:
            time.sleep(0.2)
            post_text(relay_server.url, "geheim für A", wa_id="4915100000002")
            # presence in a conversation rec_none may not see, then in one it may
            for conversation_id in (2, 1):
                r = world["desk"].post(
                    "/v1/presence", json={"conversation_id": conversation_id, "state": "typing"}
                )
                assert r.status_code == 200
            post_text(relay_server.url, "für alle", wa_id="4915100000001")

        def done(got: list[dict[str, Any]]) -> bool:
            texts = [e["data"].get("text") for e in got if e["type"] == "message"]
            return "für alle" in texts and any(e["type"] == "presence" for e in got)

        got, _ = asyncio.run(
            read_sse(
                relay_server.url,
                world["rec_none"].headers["Authorization"],
                until=done,
                action=traffic,
                after=cursor,
            )
        )
        stored = [e for e in got if e["type"] != "presence"]
        assert conversations_in_feed(stored) == {1}
        assert all(e["_id"] == str(e["seq"]) for e in stored)
        presence = [e for e in got if e["type"] == "presence"]
        assert [p["data"]["conversation_id"] for p in presence] == [1]
        assert presence[0]["_id"] in (None, "")  # never moves the resume cursor
        assert presence[0]["data"]["state"] == "typing"
        assert presence[0]["data"]["user_id"] == world.ids["desk"]
        # presence is not stored: the catch-up feed has no trace of it
        assert all(e["type"] != "presence" for e in all_events(world["desk"]))
        now = world["rec_none"].get("/v1/presence").json()["presence"]
        assert [p["conversation_id"] for p in now] == [1]
        assert start["events"]  # rec_none had a feed before, too
    finally:
        world.close()


def test_login_is_throttled_per_address_across_user_names(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    codes = [
        httpx.post(
            relay_server.url + "/v1/auth/login",
            json={"username": f"guess{i}", "password": "x"},
        ).status_code
        for i in range(31)
    ]
    assert codes[:30] == [401] * 30 and codes[30] == 429
    # the right password from the same address waits too
    ok = httpx.post(
        relay_server.url + "/v1/auth/login", json={"username": "anna", "password": "correct horse"}
    )
    assert ok.status_code == 429


def test_openapi_describes_the_collaboration_routes(relay_server: LiveServer) -> None:
    spec = httpx.get(relay_server.url + "/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/auth/login",
        "/v1/sync",
        "/v1/presence",
        "/v1/admin/users",
        "/v1/admin/audit",
        *(f"/v1/conversations/{{conversation_id}}/{c}" for c in ("claim", "assign", "notes")),
    ):
        for op in paths[path].values():
            answer = next(iter(op["responses"].values()))
            schema = answer["content"]["application/json"]["schema"]
            assert "$ref" in schema, path


def test_every_other_endpoint_taking_an_id_answers_alike_for_hidden_ids(
    relay_server: LiveServer, relay_settings: RelaySettings
) -> None:
    """S7 beyond the conversation commands: reading, typing, read reports for the audit
    trail, retrying and cancelling messages, and an administrator's TOTP reset."""
    world = build_world(relay_server.url, relay_settings)
    try:
        message_of = {
            e["data"]["conversation_id"]: e["data"]["id"]
            for e in all_events(world["desk"])
            if e["type"] == "message"
        }
        assert set(message_of) == {1, 2, 3, 4, 5}
        missing_message = max(message_of.values()) + 1000

        def calls(conversation_id: int, message_id: int) -> list[tuple[str, str, Any]]:
            return [
                ("POST", f"/v1/conversations/{conversation_id}/read", None),
                ("POST", f"/v1/conversations/{conversation_id}/typing", None),
                (
                    "POST",
                    "/v1/audit/reads",
                    {
                        "client_id": str(uuid.uuid4()),
                        "kind": "opened",
                        "conversation_ids": [conversation_id],
                    },
                ),
                (
                    "POST",
                    "/v1/audit/reads",
                    {
                        "client_id": str(uuid.uuid4()),
                        "kind": "search",
                        "results": 1,
                        "conversation_ids": [conversation_id],
                    },
                ),
                ("POST", f"/v1/messages/{message_id}/retry", None),
                ("POST", f"/v1/messages/{message_id}/cancel", None),
            ]

        for name, visible in MATRIX.items():
            client = world[name]
            for conversation_id in set(range(1, 6)) - visible:
                hidden_calls = calls(conversation_id, message_of[conversation_id])
                missing_calls = calls(999_999, missing_message)
                for (method, path, body), (_, missing_path, missing_body) in zip(
                    hidden_calls, missing_calls, strict=True
                ):
                    hidden = client.request(method, path, json=body)
                    missing = client.request(method, missing_path, json=missing_body)
                    assert hidden.status_code == missing.status_code, (name, path)
                    assert hidden.status_code in (403, 404), (name, path, hidden.text)
                    assert hidden.json() == missing.json(), (name, path)
        # what a role may see, it may report reading (the audit trail's read records)
        for name, visible in MATRIX.items():
            for conversation_id in visible:
                r = world[name].post(
                    "/v1/audit/reads",
                    json={
                        "client_id": str(uuid.uuid4()),
                        "kind": "opened",
                        "conversation_ids": [conversation_id],
                    },
                )
                assert r.status_code == 200, (name, conversation_id, r.text)
        # only an administrator removes a colleague's second factor
        for name in ("rec_a", "nurse_b", "clin"):
            r = world[name].post("/v1/auth/totp/disable", json={"username": "desk"})
            assert r.status_code == 403, name
        assert world["root"].post("/v1/auth/totp/disable", json={"username": "desk"}).json() == {
            "enabled": False,
            "pending": False,
        }
    finally:
        world.close()
