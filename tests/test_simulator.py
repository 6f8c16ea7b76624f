"""The WhatsApp Cloud API simulator over real HTTP on loopback.

A receiver app stands in for the relay's ``/webhook`` and records exact bytes, so
signatures are checked the way a relay must check them.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inbox_app.whatsapp.signature import HEADER, sign, verify
from inbox_app.whatsapp.simulator import SimulatorSettings, create_app

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-app-secret"
TOKEN = "test-access-token"
PNID = "106540352242922"
WA_ID = "4915100000101"


# --- servers on loopback ------------------------------------------------------------------


@dataclass
class RunningServer:
    """A uvicorn server in a thread, reachable at ``url``."""

    url: str
    server: uvicorn.Server


@contextmanager
def serve(app: Any) -> Iterator[RunningServer]:
    """Run ``app`` (lifespan on) on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "server thread died during start-up"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield RunningServer(url=f"http://127.0.0.1:{port}", server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "server did not shut down"


@dataclass
class Delivery:
    """One webhook as the receiver got it."""

    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Stands in for the relay's ``/webhook``; can be told to fail the next N requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self.fail_next = 0
        self.answer_after = 0.0  # seconds: a relay slow to answer
        self.app = Starlette(routes=[Route("/webhook", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self._deliveries.append(Delivery(body=body, headers=dict(request.headers)))
            if self.fail_next > 0:
                self.fail_next -= 1
                return JSONResponse({"error": "try later"}, status_code=500)
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        return JSONResponse({"ok": True})

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()
            self.fail_next = 0
            self.answer_after = 0.0

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Wait until at least ``count`` webhooks arrived; returns all of them."""
        found: list[Delivery] = wait_until(
            lambda: self.deliveries if len(self.deliveries) >= count else None, timeout
        )
        return found


def wait_until(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def settings_for(webhook_url: str | None, **overrides: Any) -> SimulatorSettings:
    base = SimulatorSettings(
        app_secret=SECRET,
        access_token=TOKEN,
        phone_number_id=PNID,
        webhook_url=webhook_url,
        status_delay=0.02,
    )
    return replace(base, **overrides)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with serve(rec.app) as running:
        yield rec, f"{running.url}/webhook"


@pytest.fixture(scope="module")
def _simulator_url(receiver: tuple[Receiver, str]) -> Iterator[str]:
    with serve(create_app(settings_for(receiver[1]))) as running:
        yield running.url


@pytest.fixture
def sim(_simulator_url: str, receiver: tuple[Receiver, str]) -> Iterator[httpx.Client]:
    """A client on the shared simulator, with records and the receiver cleared."""
    with httpx.Client(base_url=_simulator_url, timeout=10) as client:
        # Let status chains of the previous test finish so they cannot leak into this one.
        wait_until(lambda: client.get("/_sim/health").json()["background_tasks"] == 0)
        client.post("/_sim/reset").raise_for_status()
        receiver[0].clear()
        yield client


@pytest.fixture
def rec(receiver: tuple[Receiver, str]) -> Receiver:
    return receiver[0]


AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEND_PATH = f"/v23.0/{PNID}/messages"


def text_body(to: str = "+" + WA_ID, text: str = "Hallo", **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": text, "preview_url": False},
        **extra,
    }


def assert_meta_error(response: httpx.Response, http_status: int, code: int) -> dict[str, Any]:
    assert response.status_code == http_status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str)
    assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]
    return dict(error)


def statuses_of(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    found = []
    for delivery in deliveries:
        for entry in delivery.json()["entry"]:
            for change in entry["changes"]:
                found.extend(change["value"].get("statuses", []))
    return found


# --- Graph send API -------------------------------------------------------------------------


def test_missing_token_is_code_104(sim: httpx.Client) -> None:
    assert_meta_error(sim.post(SEND_PATH, json=text_body()), 401, 104)
    basic = {"Authorization": "Basic abc"}
    assert_meta_error(sim.post(SEND_PATH, json=text_body(), headers=basic), 401, 104)


def test_wrong_token_is_code_190(sim: httpx.Client) -> None:
    wrong = {"Authorization": "Bearer not-the-token"}
    assert_meta_error(sim.post(SEND_PATH, json=text_body(), headers=wrong), 401, 190)


def test_token_may_come_as_query_parameter(sim: httpx.Client) -> None:
    response = sim.post(SEND_PATH, params={"access_token": TOKEN}, json=text_body())
    assert response.status_code == 200


def test_unknown_phone_number_id_is_code_100(sim: httpx.Client) -> None:
    response = sim.post("/v23.0/999/messages", json=text_body(), headers=AUTH)
    assert assert_meta_error(response, 400, 100)["error_subcode"] == 33


@pytest.mark.parametrize("version", ["v17.0", "v23.0", "v26.0"])
def test_any_graph_version_is_accepted(sim: httpx.Client, version: str) -> None:
    response = sim.post(f"/{version}/{PNID}/messages", json=text_body(), headers=AUTH)
    assert response.status_code == 200
    assert response.headers["facebook-api-version"] == version


def test_bad_version_is_rejected(sim: httpx.Client) -> None:
    assert_meta_error(
        sim.post(f"/latest/{PNID}/messages", json=text_body(), headers=AUTH), 400, 100
    )


@pytest.mark.parametrize(
    "body",
    [
        {**text_body(), "messaging_product": "sms"},
        {k: v for k, v in text_body().items() if k != "messaging_product"},
        {**text_body(), "text": {"body": ""}},
        {**text_body(), "text": {"body": "x" * 4097}},
        {**text_body(), "type": "hologram"},
        {**text_body(), "biz_opaque_callback_data": "x" * 513},
    ],
    ids=["product", "no-product", "empty", "too-long", "type", "opaque-too-long"],
)
def test_invalid_body_is_code_100(sim: httpx.Client, body: dict[str, Any]) -> None:
    assert_meta_error(sim.post(SEND_PATH, json=body, headers=AUTH), 400, 100)


def test_body_that_is_not_json_is_code_100(sim: httpx.Client) -> None:
    response = sim.post(SEND_PATH, content=b"{nope", headers=AUTH)
    assert_meta_error(response, 400, 100)


@pytest.mark.parametrize("to", ["12345", "+49 1510 0000101", "abc", "1234567890123456", "", "++49"])
def test_invalid_to_is_code_100(sim: httpx.Client, to: str) -> None:
    error = assert_meta_error(sim.post(SEND_PATH, json=text_body(to=to), headers=AUTH), 400, 100)
    assert error["message"] == "(#100) Invalid parameter"
    assert sim.get("/_sim/sent").json()["messages"] == []


def test_text_send_answers_like_meta_and_is_recorded(sim: httpx.Client) -> None:
    longest = "ü" * 4096
    response = sim.post(SEND_PATH, json=text_body(text=longest), headers=AUTH)
    assert response.status_code == 200
    answer = response.json()
    wamid = answer["messages"][0]["id"]
    assert answer == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+" + WA_ID, "wa_id": WA_ID}],
        "messages": [{"id": wamid}],
    }
    assert wamid.startswith("wamid.") and len(wamid) > 30
    assert response.headers["x-fb-trace-id"]

    sent = sim.get("/_sim/sent").json()["messages"]
    assert [m["wamid"] for m in sent] == [wamid]
    assert sent[0]["to"] == "+" + WA_ID
    assert sent[0]["type"] == "text"
    assert sent[0]["payload"]["text"]["body"] == longest
    assert sent[0]["at"]


def test_other_message_types_are_accepted(sim: httpx.Client) -> None:
    bodies = [
        {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "Befund"}},
        {"type": "document", "document": {"id": "1234567890", "filename": "r.pdf"}},
        {"type": "reaction", "reaction": {"message_id": "wamid.ORIG", "emoji": "👍"}},
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Passt der Termin?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Ja"}},
                        {"type": "reply", "reply": {"id": "no", "title": "Nein"}},
                    ]
                },
            },
        },
        {
            "type": "template",
            "template": {"name": "appointment_reminder", "language": {"code": "de"}},
        },
    ]
    for extra in bodies:
        body = {"messaging_product": "whatsapp", "to": WA_ID, **extra}
        response = sim.post(SEND_PATH, json=body, headers=AUTH)
        assert response.status_code == 200, response.text
    template_answer = response.json()["messages"][0]
    assert template_answer["message_status"] == "accepted"
    types = [m["type"] for m in sim.get("/_sim/sent").json()["messages"]]
    assert types == ["image", "document", "reaction", "interactive", "template"]


def test_four_buttons_are_rejected(sim: httpx.Client) -> None:
    buttons = [{"type": "reply", "reply": {"id": str(i), "title": f"B{i}"}} for i in range(4)]
    body = {
        "messaging_product": "whatsapp",
        "to": WA_ID,
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "?"}, "action": {"buttons": buttons}},
    }
    assert_meta_error(sim.post(SEND_PATH, json=body, headers=AUTH), 400, 100)


def test_mark_as_read_answers_success(sim: httpx.Client) -> None:
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    typing = {**read, "message_id": "wamid.IN2", "typing_indicator": {"type": "text"}}
    for body in (read, typing):
        response = sim.post(SEND_PATH, json=body, headers=AUTH)
        assert response.status_code == 200
        assert response.json() == {"success": True}
    marked = sim.get("/_sim/marked_read").json()["marked_read"]
    assert [(m["message_id"], m["typing"]) for m in marked] == [
        ("wamid.IN1", False),
        ("wamid.IN2", True),
    ]
    assert sim.get("/_sim/sent").json()["messages"] == []


# --- status webhooks ------------------------------------------------------------------------


def test_status_webhooks_are_signed_ordered_and_escaped(sim: httpx.Client, rec: Receiver) -> None:
    opaque = "termin/42 – Müller"
    body = text_body(text="Ihr Termin: 12/03 um 9 Uhr", biz_opaque_callback_data=opaque)
    wamid = sim.post(SEND_PATH, json=body, headers=AUTH).json()["messages"][0]["id"]

    deliveries = rec.wait_for(3)
    assert len(deliveries) == 3
    for delivery in deliveries:
        assert verify(delivery.body, delivery.headers[HEADER.lower()], SECRET)
        assert delivery.headers["content-type"] == "application/json"
        # Meta's escaping: ``\/`` for slashes and lowercase ``\u00fc`` for umlauts.
        assert b"\\/" in delivery.body
        assert b"\\u00fc" in delivery.body
        assert b"\\u2013" in delivery.body
        assert delivery.body.isascii()
    statuses = statuses_of(deliveries)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["id"] == wamid
        assert status["recipient_id"] == WA_ID
        assert status["biz_opaque_callback_data"] == opaque
        assert status["timestamp"].isdigit()
        assert status["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
    assert "expiration_timestamp" in statuses[0]["conversation"]
    assert all("expiration_timestamp" not in s["conversation"] for s in statuses[1:])

    envelope = deliveries[0].json()
    assert envelope["object"] == "whatsapp_business_account"
    change = envelope["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["metadata"] == {
        "display_phone_number": "4930901820",
        "phone_number_id": PNID,
    }
    assert envelope["entry"][0]["id"] == "102290129340398"

    sent = wait_until(lambda: sim.get("/_sim/sent").json()["messages"])
    assert sent[0]["statuses"] == ["sent", "delivered", "read"]
    # The receiver records before it answers: wait for the simulator to see the last answer.
    log = wait_until(
        lambda: (hooks := sim.get("/_sim/webhooks").json()["webhooks"])[-1]["delivered"] and hooks
    )
    assert [(w["kind"], w["status"], w["attempts"], w["last_status"]) for w in log] == [
        ("status", "sent", 1, 200),
        ("status", "delivered", 1, 200),
        ("status", "read", 1, 200),
    ]


def test_without_auto_read_statuses_stop_at_delivered() -> None:
    rec = Receiver()
    with serve(rec.app) as relay:
        settings = settings_for(f"{relay.url}/webhook", auto_read=False, status_delay=0.01)
        with serve(create_app(settings)) as simulator, httpx.Client(base_url=simulator.url) as c:
            assert c.post(SEND_PATH, json=text_body(), headers=AUTH).status_code == 200
            deliveries = rec.wait_for(2)
            time.sleep(0.1)
            assert [s["status"] for s in statuses_of(rec.deliveries)] == ["sent", "delivered"]
            assert len(deliveries) == 2


# --- inbound messages -----------------------------------------------------------------------


def test_inbound_is_signed_over_meta_escaped_bytes(sim: httpx.Client, rec: Receiver) -> None:
    text = "Brauche Rezept für 1/2 Tablette Ibuprofen 🙂"
    request = {"from": WA_ID, "name": "Erika Musterfrau", "type": "text", "text": text}
    answer = sim.post("/_sim/inbound", json=request).json()
    assert answer["status"] == 200
    assert answer["wamid"].startswith("wamid.")

    [delivery] = rec.wait_for(1)
    signature = delivery.headers[HEADER.lower()]
    assert verify(delivery.body, signature, SECRET)
    assert b"\\/" in delivery.body and b"\\u00fc" in delivery.body and b"\\ud83d" in delivery.body

    payload = delivery.json()
    value = payload["entry"][0]["changes"][0]["value"]
    # 2026 shape (fixture message.json#text): the business-scoped ids ride along.
    [contact] = value["contacts"]
    assert contact["profile"] == {"name": "Erika Musterfrau"} and contact["wa_id"] == WA_ID
    assert contact["user_id"].startswith("DE.") and contact["parent_user_id"].startswith("DE.ENT.")
    [message] = value["messages"]
    assert message["from"] == WA_ID
    assert message["id"] == answer["wamid"]
    assert message["type"] == "text"
    assert message["text"] == {"body": text}
    assert message["timestamp"].isdigit()

    # A relay that re-serialises the JSON before checking would reject Meta's webhooks.
    for reserialised in (
        json.dumps(payload).encode(),
        json.dumps(payload, separators=(",", ":")).encode(),
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(),
    ):
        assert not verify(reserialised, signature, SECRET)

    log = sim.get("/_sim/webhooks").json()["webhooks"]
    assert log == [
        {
            "kind": "message",
            "wamid": answer["wamid"],
            "status": None,
            "attempts": 1,
            "last_status": 200,
            "last_error": None,
            "delivered": True,
            "gave_up": False,
            "redelivered": 0,
        }
    ]


def test_inbound_with_forced_wamid_redelivers_the_same_id(sim: httpx.Client, rec: Receiver) -> None:
    request = {"from": "+" + WA_ID, "name": "Max Mustermann", "text": "Hallo", "wamid": "wamid.X1"}
    for _ in range(2):
        assert sim.post("/_sim/inbound", json=request).json() == {
            "wamid": "wamid.X1",
            "status": 200,
        }
    ids = [
        d.json()["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for d in rec.wait_for(2)
    ]
    assert ids == ["wamid.X1", "wamid.X1"]


def test_inbound_without_delivery_returns_signed_body(sim: httpx.Client, rec: Receiver) -> None:
    request = {"from": WA_ID, "name": "Jonas Beispiel", "text": "Grüße/Gruß", "deliver": False}
    answer = sim.post("/_sim/inbound", json=request).json()
    assert set(answer) == {"wamid", "body", "signature"}
    body = answer["body"].encode("ascii")
    assert answer["signature"] == sign(body, SECRET)
    assert verify(body, answer["signature"], SECRET)
    [message] = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"]
    assert message["id"] == answer["wamid"]
    time.sleep(0.1)
    assert rec.deliveries == []


def test_inbound_validation(sim: httpx.Client) -> None:
    assert sim.post("/_sim/inbound", json={"from": "12", "text": "x"}).status_code == 422
    assert sim.post("/_sim/inbound", json={"from": WA_ID, "text": ""}).status_code == 422


def test_webhooks_are_retried_after_500_until_200(sim: httpx.Client, rec: Receiver) -> None:
    rec.fail_next = 2
    answer = sim.post("/_sim/inbound", json={"from": WA_ID, "name": "Leonie Probe", "text": "Hi"})
    assert answer.json()["status"] == 500  # the first attempt's answer, not the last

    deliveries = rec.wait_for(3)
    assert len({d.body for d in deliveries}) == 1  # the very same bytes each time
    assert all(verify(d.body, d.headers[HEADER.lower()], SECRET) for d in deliveries)
    record = wait_until(
        lambda: next(
            (w for w in sim.get("/_sim/webhooks").json()["webhooks"] if w["delivered"]), None
        )
    )
    assert (record["attempts"], record["last_status"]) == (3, 200)


def test_status_webhooks_are_retried_too(sim: httpx.Client, rec: Receiver) -> None:
    rec.fail_next = 1
    assert sim.post(SEND_PATH, json=text_body(), headers=AUTH).status_code == 200
    deliveries = rec.wait_for(4)
    assert [s["status"] for s in statuses_of(deliveries)] == ["sent", "sent", "delivered", "read"]


def test_unreachable_relay_is_retried_and_shutdown_cancels_cleanly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}/webhook"  # nobody listens
    with serve(create_app(settings_for(dead_url))) as simulator:
        with httpx.Client(base_url=simulator.url) as client:
            answer = client.post("/_sim/inbound", json={"from": WA_ID, "text": "Hallo"}).json()
            assert answer["status"] is None
            record = wait_until(
                lambda: next(
                    (
                        w
                        for w in client.get("/_sim/webhooks").json()["webhooks"]
                        if w["attempts"] > 1
                    ),
                    None,
                )
            )
            assert record["last_error"] == "ConnectError"
            assert client.get("/_sim/health").json()["background_tasks"] >= 1
    # Leaving ``serve`` shut the app down with a retry task pending: no warnings, no hang.


def test_inbound_without_webhook_url_is_a_conflict() -> None:
    with serve(create_app(settings_for(None))) as simulator:
        with httpx.Client(base_url=simulator.url) as client:
            response = client.post("/_sim/inbound", json={"from": WA_ID, "text": "Hallo"})
            assert response.status_code == 409
            response = client.post(
                "/_sim/inbound", json={"from": WA_ID, "text": "Hallo", "deliver": False}
            )
            assert response.status_code == 200
            # Sends still work; their statuses just go nowhere.
            assert client.post(SEND_PATH, json=text_body(), headers=AUTH).status_code == 200


# --- injected faults ------------------------------------------------------------------------


def test_injected_sync_error(sim: httpx.Client) -> None:
    fault = {"kind": "error", "code": 130429, "count": 2}
    assert sim.post("/_sim/faults", json=fault).json() == {"pending": 2}
    for _ in range(2):
        error = assert_meta_error(sim.post(SEND_PATH, json=text_body(), headers=AUTH), 400, 130429)
        assert error["message"] == "(#130429) Rate limit hit"
    assert sim.post(SEND_PATH, json=text_body(), headers=AUTH).status_code == 200


def test_injected_failed_status(sim: httpx.Client, rec: Receiver) -> None:
    sim.post("/_sim/faults", json={"kind": "failed_status", "code": 131047}).raise_for_status()
    response = sim.post(SEND_PATH, json=text_body(), headers=AUTH)
    assert response.status_code == 200
    [status] = statuses_of(rec.wait_for(1))
    assert status["status"] == "failed"
    assert status["id"] == response.json()["messages"][0]["id"]
    assert status["errors"][0]["code"] == 131047
    assert status["errors"][0]["title"] == "Re-engagement message"
    assert "pricing" not in status
    time.sleep(0.1)
    assert len(rec.deliveries) == 1


def test_injected_delay_accepts_before_answering(sim: httpx.Client) -> None:
    sim.post("/_sim/faults", json={"kind": "delay", "seconds": 1.0}).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        sim.post(SEND_PATH, json=text_body(), headers=AUTH, timeout=0.3)
    # The send was taken although the caller never saw the answer.
    assert len(sim.get("/_sim/sent").json()["messages"]) == 1


# --- scenario -------------------------------------------------------------------------------


def test_scenario_plays_in_order(tmp_path: Path) -> None:
    scenario = {
        "patients": [
            {"wa_id": "4915100000101", "name": "Erika Musterfrau", "language": "de"},
            {"wa_id": "4915100000102", "name": "Max Mustermann", "language": "de"},
        ],
        "script": [
            {"after": 0.3, "from": "4915100000102", "text": "Zweite"},
            {"after": 0.0, "from": "4915100000101", "text": "Erste"},
        ],
    }
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    rec = Receiver()
    with serve(rec.app) as relay:
        rec.fail_next = 1  # the relay is "not up yet" for the first message
        settings = settings_for(f"{relay.url}/webhook", scenario=path)
        with serve(create_app(settings)):
            deliveries = rec.wait_for(3)
    messages = [d.json()["entry"][0]["changes"][0]["value"] for d in deliveries]
    got = [
        (v["contacts"][0]["profile"]["name"], v["messages"][0]["text"]["body"]) for v in messages
    ]
    assert got == [
        ("Erika Musterfrau", "Erste"),
        ("Erika Musterfrau", "Erste"),
        ("Max Mustermann", "Zweite"),
    ]


def test_broken_scenario_fails_at_start(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"patients": [], "script": [{"after": 0, "from": "491", "text": "x"}]}')
    with pytest.raises(ValueError, match="no listed patient"):
        create_app(settings_for(None, scenario=path))


def test_demo_data_is_synthetic_and_consistent() -> None:
    scenario = json.loads((ROOT / "resources/demo/scenario.json").read_text(encoding="utf-8"))
    patients = json.loads((ROOT / "resources/demo/patients.json").read_text(encoding="utf-8"))
    by_id = {p["wa_id"]: p["name"] for p in scenario["patients"]}
    assert by_id == {p["wa_id"]: p["name"] for p in patients["patients"]}
    assert len(by_id) >= 8
    for wa_id in by_id:
        assert wa_id.startswith("4915100000")
        assert phonenumbers.is_valid_number(phonenumbers.parse("+" + wa_id))
    offsets = sorted(line["after"] for line in scenario["script"])
    assert len([o for o in offsets if o <= 3]) >= 4
    assert 45 <= offsets[-1] <= 75
    assert {line["from"] for line in scenario["script"]} <= set(by_id)
    create_app(settings_for(None, scenario=ROOT / "resources/demo/scenario.json"))


# --- delivery faults: shuffled, duplicated, batched (delivery_faults.py) -----------------


def _inbound_all(sim_url: str, texts: list[str], sender: str = WA_ID) -> list[dict[str, Any]]:
    """Patients writing at the same moment (each call returns after its first attempt)."""

    async def run() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=sim_url, timeout=30) as client:
            answers = await asyncio.gather(
                *(client.post("/_sim/inbound", json={"from": sender, "text": t}) for t in texts)
            )
        return [a.json() for a in answers]

    return asyncio.run(run())


def _messages_in(body: bytes) -> list[dict[str, Any]]:
    found = []
    for entry in json.loads(body)["entry"]:
        for change in entry["changes"]:
            found.extend(change["value"].get("messages", []))
    return found


def test_batched_webhooks_arrive_as_one_signed_post(sim: httpx.Client, rec: Receiver) -> None:
    sim.post("/_sim/delivery", json={"batch_size": 5, "batch_window": 1.0}).raise_for_status()
    answers = _inbound_all(str(sim.base_url), [f"Frage {i}" for i in range(5)])
    assert {a["status"] for a in answers} == {200}
    [delivery] = rec.wait_for(1)
    # One POST, five entries, signed over the merged bytes as Meta serialises them.
    assert verify(delivery.body, delivery.headers[HEADER.lower()], SECRET)
    assert sorted(m["text"]["body"] for m in _messages_in(delivery.body)) == [
        f"Frage {i}" for i in range(5)
    ]
    assert len(json.loads(delivery.body)["entry"]) == 5


def test_a_webhook_ready_while_a_batch_is_posting_still_goes_out(
    sim: httpx.Client, rec: Receiver
) -> None:
    # A partial batch waits at most batch_window, even while the previous POST is slow.
    sim.post("/_sim/delivery", json={"batch_size": 4, "batch_window": 0.05}).raise_for_status()
    rec.answer_after = 0.5

    async def two_patients() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=str(sim.base_url), timeout=10) as client:
            first = asyncio.create_task(
                client.post("/_sim/inbound", json={"from": WA_ID, "text": "Erste"})
            )
            await asyncio.sleep(0.25)  # the first is now waiting for the relay's answer
            second = await client.post("/_sim/inbound", json={"from": WA_ID, "text": "Zweite"})
            return [(await first).json(), second.json()]

    answers = asyncio.run(two_patients())
    assert [a["status"] for a in answers] == [200, 200]
    texts = [m["text"]["body"] for d in rec.wait_for(2) for m in _messages_in(d.body)]
    assert texts == ["Erste", "Zweite"]


def test_duplicated_webhooks_are_the_same_signed_bytes(sim: httpx.Client, rec: Receiver) -> None:
    sim.post("/_sim/delivery", json={"duplicate_rate": 1.0}).raise_for_status()
    wamid = sim.post("/_sim/inbound", json={"from": WA_ID, "text": "Hallo"}).json()["wamid"]
    first, second = rec.wait_for(2)
    assert first.body == second.body and [m["id"] for m in _messages_in(first.body)] == [wamid]
    assert first.headers[HEADER.lower()] == second.headers[HEADER.lower()]
    records = sim.get("/_sim/webhooks").json()["webhooks"]
    assert [r["redelivered"] for r in records] == [1]


def test_shuffled_statuses_overtake_each_other(sim: httpx.Client, rec: Receiver) -> None:
    sim.post("/_sim/delivery", json={"shuffle_seconds": 0.5}).raise_for_status()
    wamids = [
        sim.post(SEND_PATH, json=text_body(text=f"Nachricht {i}"), headers=AUTH).json()["messages"][
            0
        ]["id"]
        for i in range(10)
    ]
    deliveries = rec.wait_for(30, timeout=10)
    order: dict[str, list[str]] = collections.defaultdict(list)
    for delivery in deliveries:
        for entry in delivery.json()["entry"]:
            for st in entry["changes"][0]["value"]["statuses"]:
                order[st["id"]].append(st["status"])
    assert sorted(order) == sorted(wamids)
    assert all(sorted(s) == ["delivered", "read", "sent"] for s in order.values())
    # With 10 messages the chance that every trio still came in order is 1 in 6**10.
    assert any(s != ["sent", "delivered", "read"] for s in order.values())


# --- inbound calls (inbound_calls.py) ------------------------------------------------------


def test_a_patient_call_arrives_as_connect_then_terminate(sim: httpx.Client, rec: Receiver) -> None:
    from inbox_app.whatsapp.webhook import parse_envelope

    answer = sim.post("/_sim/call", json={"from": WA_ID, "name": "Erika", "duration": 95})
    assert answer.status_code == 200 and answer.json()["status"] == 200
    connect, terminate = rec.wait_for(2)
    for delivery in (connect, terminate):
        assert verify(delivery.body, delivery.headers[HEADER.lower()], SECRET)
        assert delivery.json()["entry"][0]["changes"][0]["field"] == "calls"
    [opened] = parse_envelope(connect.json()).calls
    [ended] = parse_envelope(terminate.json()).calls
    assert (opened.event, opened.direction, opened.from_id) == ("connect", "USER_INITIATED", WA_ID)
    assert opened.sdp_type == "offer" and opened.call_id == answer.json()["call_id"]
    assert (ended.event, ended.status, ended.duration) == ("terminate", "COMPLETED", 95)
    assert ended.call_id == opened.call_id


def test_an_unanswered_call_has_no_duration(sim: httpx.Client, rec: Receiver) -> None:
    from inbox_app.whatsapp.webhook import parse_envelope

    sim.post("/_sim/call", json={"from": WA_ID, "status": "NO_ANSWER"}).raise_for_status()
    _, terminate = rec.wait_for(2)
    [ended] = parse_envelope(terminate.json()).calls
    assert (ended.status, ended.duration) == ("NO_ANSWER", None)
