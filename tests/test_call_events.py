"""WhatsApp calls in the conversation's thread: a patient's call, the practice's phone system
calling a patient (declined, or answered through the Calling API), as the simulator sends
their webhooks, reach the clinician's desktop as call bubbles in the thread, in order, once
each, and leave the conversation's window, unread count and preview alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from inbox_app.client.cache import call_id_of
from inbox_app.domain.messages import Direction, MessageRecord
from inbox_app.relay.db import Database, conversations
from inbox_app.relay.settings import RelaySettings
from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID
from tests.test_client_records import started
from tests.test_client_sync import wait_until
from tests.test_relay_calls import PATIENT, Setup, _setup
from tests.test_relay_escalations import wait_for
from tests.webhooks import envelope


@pytest.fixture
def calling(relay_settings: RelaySettings) -> Iterator[Setup]:
    yield from _setup(replace(relay_settings, whatsapp_calling=True))


def _conversation(setup: Setup) -> dict[str, Any]:
    events = setup.doc.get("/v1/sync", params={"limit": 1000}).json()["events"]
    return [e["data"] for e in events if e["type"] == "conversation"][-1]


def _webhook_calls(setup: Setup) -> list[tuple[int, str, str | None, int | None]]:
    """Every ``call`` event of a webhook, in feed order: (call-log id, state, direction,
    seconds)."""
    return [
        (c["id"], c["status"], c["direction"], c["duration"])
        for c in setup.calls()
        if c["kind"] == "webhook"
    ]


def _latest(setup: Setup) -> dict[int, tuple[str, str | None, int | None]]:
    return {i: (state, d, sec) for i, state, d, sec in _webhook_calls(setup)}


def _call_webhook(setup: Setup, call: dict[str, Any], *, status_event: bool = False) -> None:
    payload = envelope(
        {
            "contacts": [{"profile": {"name": "Erika Musterfrau"}, "wa_id": PATIENT}],
            ("statuses" if status_event else "calls"): [call],
        }
    )
    payload["entry"][0]["changes"][0]["field"] = "calls"
    setup.webhook(payload)


def _graph(setup: Setup, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        kw.pop("method", "POST"),
        f"{setup.sim.url}/v21.0/{PHONE_NUMBER_ID}{path}",
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        **kw,
    )


def test_calls_reach_the_thread_in_order(calling: Setup, tmp_path: Path) -> None:
    before = _conversation(calling)
    sim = calling.sim.url
    # 1. The patient calls the practice and talks for 3:12.
    r = httpx.post(sim + "/_sim/call", json={"from": PATIENT, "duration": 192})
    assert r.status_code == 200, r.text
    wait_for(lambda: len(_webhook_calls(calling)) == 2 or None)
    # 2. The practice's phone system calls back; the patient declines.
    r = httpx.post(
        sim + "/_sim/call",
        json={"from": PATIENT, "direction": "business", "status": "REJECTED"},
    )
    assert r.status_code == 200, r.text
    wait_for(lambda: len(_webhook_calls(calling)) == 4 or None)
    # 3. Through the Calling API, with the permission the patient gave: answered, then hung up.
    httpx.post(sim + "/_sim/call_permission", json={"wa_id": PATIENT}).raise_for_status()
    offer = {"sdp_type": "offer", "sdp": "v=0\r\n"}
    connect = _graph(
        calling,
        "/calls",
        json={
            "messaging_product": "whatsapp",
            "to": PATIENT,
            "action": "connect",
            "session": offer,
        },
    )
    assert connect.status_code == 200, connect.text
    call_id = connect.json()["calls"][0]["id"]
    wait_for(lambda: len(_webhook_calls(calling)) == 7 or None)
    hang_up = _graph(
        calling,
        "/calls",
        json={"messaging_product": "whatsapp", "call_id": call_id, "action": "terminate"},
    )
    assert hang_up.status_code == 200, hang_up.text
    wait_for(lambda: len(_webhook_calls(calling)) == 8 or None)
    time.sleep(0.3)  # nothing more arrives (each webhook stored once)

    # One call-log row per call, moved on by its webhooks (the decline outranks the
    # hang-up after it, which changes nothing and sends nothing).
    history = _webhook_calls(calling)
    ids = list(dict.fromkeys(i for i, *_ in history))
    assert len(ids) == 3
    assert [(s, d, sec) for i, s, d, sec in history if i == ids[0]] == [
        ("connect", "USER_INITIATED", None),
        ("terminate:COMPLETED", "USER_INITIATED", 192),
    ]
    assert [s for i, s, *_ in history if i == ids[1]] == ["status:RINGING", "status:REJECTED"]
    assert [s for i, s, *_ in history if i == ids[2]] == [
        "status:RINGING",
        "status:ACCEPTED",
        "connect",
        "terminate:COMPLETED",
    ]
    assert {d for i, _, d, _ in history if i != ids[0]} == {"BUSINESS_INITIATED"}
    # Call webhooks are not messages: the window, unread count and preview stay as they were.
    after = _conversation(calling)
    for key in ("last_inbound_at", "unread", "last_message_preview", "last_message_at"):
        assert after.get(key) == before.get(key), key

    async def scenario() -> None:
        doc = await started(calling.relay, tmp_path / "doc", "doc")  # type: ignore[arg-type]
        try:

            async def thread() -> list[MessageRecord]:
                return [m for m in await doc.messages(1) if m.type == "call"]

            async def all_there() -> bool:
                shown = await thread()
                return [m.call.status for m in shown if m.call] == [
                    "terminate:COMPLETED",
                    "status:REJECTED",
                    "terminate:COMPLETED",
                ]

            await wait_until(all_there, what="one bubble per call in the thread")
            shown = await thread()
            # The patient's own call sits on the patient's side, the practice's on its side,
            # each where the call began.
            assert [m.direction for m in shown] == [
                Direction.INBOUND,
                Direction.OUTBOUND,
                Direction.OUTBOUND,
            ]
            assert [m.timestamp for m in shown] == sorted(m.timestamp for m in shown)
            assert shown[0].call is not None and shown[0].call.duration == 192
            # Every call row resolves by id (how live updates reach an open thread) …
            ids = frozenset(m.id for m in shown)
            assert all(call_id_of(i) is not None for i in ids)
            assert {m.id for m in await doc.messages_by_id(ids)} == ids
            # … and paging backwards through the thread meets each of them exactly once.
            seen: list[int] = []
            page = await doc.messages(1, limit=2)
            while page:
                seen = [m.id for m in page] + seen
                page = await doc.messages(1, before=(page[0].timestamp, page[0].id), limit=2)
            everything = await doc.messages(1, limit=1000)
            assert seen == [m.id for m in everything]
            assert len(set(seen)) == len(seen)
            assert ids <= set(seen)
        finally:
            await doc.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_call_webhooks_out_of_order_and_twice_leave_one_true_row(calling: Setup) -> None:
    """Meta keeps no order and may deliver twice: the hang-up before the connect, the
    connect again afterwards; the call's row ends as the hang-up says, with one event per
    change."""
    now = int(time.time())
    base = {"id": "wacid.ooo1", "from": PATIENT, "to": PHONE_NUMBER_ID}
    terminate = {
        **base,
        "event": "terminate",
        "direction": "USER_INITIATED",
        "timestamp": str(now),
        "status": "FAILED",
    }
    connect = {
        **base,
        "event": "connect",
        "direction": "USER_INITIATED",
        "timestamp": str(now - 20),
        "session": {"sdp_type": "offer", "sdp": "v=0\r\n"},
    }
    _call_webhook(calling, terminate)
    _call_webhook(calling, connect)  # late: says less than the row already does
    _call_webhook(calling, terminate)  # a redelivery
    _call_webhook(calling, connect)
    time.sleep(0.3)
    history = _webhook_calls(calling)
    assert [(s, d) for _, s, d, _ in history] == [("terminate:FAILED", "USER_INITIATED")]
    # A second call is its own row.
    _call_webhook(calling, {**connect, "id": "wacid.ooo2"})
    latest = wait_for(lambda: len(_latest(calling)) == 2 and _latest(calling))
    assert sorted(s for s, _, _ in latest.values()) == ["connect", "terminate:FAILED"]


@pytest.fixture
def video(relay_settings: RelaySettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    # The relay syncs the WABA's templates (the simulator's catalogue) when it starts.
    monkeypatch.setenv("WHATSAPP_WABA_ID", "102290129340398")
    yield from _setup(replace(relay_settings, video_visit_url="https://video.example/praxis"))


def _close_window(settings_url: str) -> None:
    """The patient last wrote 25 hours ago (the relay decides the window from this)."""
    db = Database(settings_url)
    try:
        with db.write() as conn:
            conn.execute(update(conversations).values(last_inbound_at=time.time() - 25 * 3600))
    finally:
        db.dispose()


def test_video_link_outside_the_window_goes_as_the_approved_template(
    video: Setup, relay_settings: RelaySettings
) -> None:
    def approved() -> list[str] | None:
        listed = video.doc.get("/v1/templates").json()["templates"]
        names = [t["name"] for t in listed if t["name"] == "video_visit"]
        return names or None

    assert wait_for(approved) == ["video_visit", "video_visit"]  # de and en
    inside = video.call(mode="video", language="de")
    assert inside.status_code == 201, inside.text
    assert inside.json()["via"] == "text"
    _close_window(relay_settings.database_url)
    outside = video.call(mode="video", language="en")
    assert outside.status_code == 201, outside.text
    assert outside.json()["via"] == "template"

    def both_sent() -> list[dict[str, Any]] | None:
        sent = httpx.get(video.sim.url + "/_sim/sent").json()["messages"]
        return sent if len(sent) == 2 else None

    sent = wait_for(both_sent)
    assert sent is not None
    text, template = sent
    assert text["payload"]["text"]["body"] == "https://video.example/praxis"
    # The simulator checks the template against the WABA's (name, language, parameters).
    assert template["type"] == "template"
    tpl = template["payload"]["template"]
    assert (tpl["name"], tpl["language"]["code"]) == ("video_visit", "en")
    body = next(c for c in tpl["components"] if c["type"] == "body")
    assert [p["text"] for p in body["parameters"]] == ["https://video.example/praxis"]
    # Staff see in the thread what the patient reads.
    events = video.doc.get("/v1/sync", params={"limit": 1000}).json()["events"]
    shown = [
        e["data"] for e in events if e["type"] == "message" and e["data"]["type"] == "template"
    ]
    assert shown[-1]["text"] == (
        "Hello, your practice would like to talk with you by video. "
        "Please join here: https://video.example/praxis"
    )


def test_video_link_without_a_template_outside_the_window_is_refused_plainly(
    relay_settings: RelaySettings,
) -> None:
    settings = replace(
        relay_settings,
        video_visit_url="https://video.example/praxis",
        video_visit_template="no_such_template",
    )
    for setup in _setup(settings):
        _close_window(settings.database_url)
        refused = setup.call(mode="video", language="de")
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["error"] == "window_closed"
        assert "template" in problem["message"]
        time.sleep(0.3)
        assert httpx.get(setup.sim.url + "/_sim/sent").json()["messages"] == []


def _interactive_sent(setup: Setup) -> list[dict[str, Any]]:
    sent = httpx.get(setup.sim.url + "/_sim/sent").json()["messages"]
    return [m for m in sent if m["type"] == "interactive"]


def test_call_back_asks_once_and_not_when_the_patient_allows_calls(calling: Setup) -> None:
    """The relay reads Graph's call_permissions first: one request per 24 hours, as Meta
    allows, and none when the patient already allows calls."""
    first = calling.call(language="de")
    assert first.status_code == 201, first.text
    assert first.json()["call"]["kind"] == "permission_requested"
    assert wait_for(lambda: len(_interactive_sent(calling)) == 1)
    again = calling.call(language="de")
    assert again.status_code == 422
    assert again.json()["error"] == "permission_pending"
    # The patient allows calls (in WhatsApp): the next call back asks nothing.
    httpx.post(calling.sim.url + "/_sim/call_permission", json={"wa_id": PATIENT})
    allowed = calling.call(language="de")
    assert allowed.status_code == 201, allowed.text
    answer = allowed.json()
    assert answer["mode"] == "whatsapp" and answer["call"]["kind"] == "permission_granted"
    assert answer["permission"]["status"] == "granted"
    assert answer["permission"]["expires_at"] > time.time() + 6 * 86400
    time.sleep(0.3)
    assert len(_interactive_sent(calling)) == 1
    kinds = [c["kind"] for c in calling.calls()]
    assert kinds == ["permission_requested", "permission_granted"]


def test_call_back_without_graph_still_asks(relay_settings: RelaySettings) -> None:
    """Graph unreachable for the permission check: the request is queued as before (the
    outbox sends it once Graph is back; Meta itself refuses a second ask)."""
    for setup in _setup(replace(relay_settings, whatsapp_calling=True)):
        setup.sim.stop()
        started = setup.call(language="en")
        assert started.status_code == 201, started.text
        assert started.json()["call"]["kind"] == "permission_requested"
