"""A third-party Cloud API client, pywa, pointed at the simulator instead of Meta.

pywa is used unchanged: its HTTP session only has a transport that sends what pywa
addresses to graph.facebook.com to the simulator (as a hosts entry would), and its own
webhook server (signature validation on) is where the simulator posts. If the simulator's
request handling, answers, error shapes or webhook bodies drifted from Meta's, pywa would
fail to parse them or raise the wrong error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pywa import errors
from pywa.client import WhatsApp
from pywa.types.callback import Button, Section, SectionList, SectionRow
from pywa.types.calls import CallConnect, CallTerminate
from pywa.types.message import Message
from pywa.types.message_status import MessageStatus
from pywa.types.templates import BodyText, HeaderText, TemplateLanguage, URLButton

from inbox_app.whatsapp.simulator import create_app
from tests.test_simulator import PNID, SECRET, TOKEN, WA_ID, serve, settings_for, wait_until

WABA_ID = "102290129340398"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class _ToSimulator(httpx.BaseTransport):
    """Routes requests for graph.facebook.com to the simulator; everything else as is."""

    def __init__(self, simulator: str) -> None:
        self.simulator = httpx.URL(simulator)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.facebook.com":
            request.url = request.url.copy_with(
                scheme=self.simulator.scheme, host=self.simulator.host, port=self.simulator.port
            )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class _Updates:
    """What pywa's handlers received, for the tests to wait on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Message] = []
        self.statuses: list[MessageStatus[Any]] = []
        self.calls: list[CallConnect | CallTerminate[Any]] = []

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.statuses.clear()
            self.calls.clear()


@dataclass
class _Setup:
    wa: WhatsApp
    sim_url: str
    hooks_url: str
    updates: _Updates


@pytest.fixture(scope="module")
def pywa_setup() -> Iterator[_Setup]:
    updates = _Updates()
    receiver = FastAPI()
    with serve(receiver) as hooks:
        with serve(create_app(settings_for(f"{hooks.url}/webhook"))) as sim:
            session = httpx.Client(transport=_ToSimulator(sim.url), timeout=10)
            wa = WhatsApp(
                phone_id=PNID,
                token=TOKEN,
                session=session,
                server=receiver,
                webhook_endpoint="/webhook",
                verify_token="pywa-verify",
                app_secret=SECRET,
                validate_updates=True,
                waba_id=WABA_ID,
            )

            @wa.on_message()  # type: ignore[misc]  # pywa's decorator typing
            def _message(_: WhatsApp, msg: Message) -> None:
                with updates.lock:
                    updates.messages.append(msg)

            @wa.on_message_status()  # type: ignore[misc]  # pywa's decorator typing
            def _status(_: WhatsApp, status: MessageStatus[Any]) -> None:
                with updates.lock:
                    updates.statuses.append(status)

            @wa.on_call_connect()  # type: ignore[misc]  # pywa's decorator typing
            def _connect(_: WhatsApp, call: CallConnect) -> None:
                with updates.lock:
                    updates.calls.append(call)

            @wa.on_call_terminate()  # type: ignore[misc]  # pywa's decorator typing
            def _terminate(_: WhatsApp, call: CallTerminate[Any]) -> None:
                with updates.lock:
                    updates.calls.append(call)

            try:
                yield _Setup(wa, sim.url, f"{hooks.url}/webhook", updates)
            finally:
                session.close()


@pytest.fixture
def wa(pywa_setup: _Setup) -> WhatsApp:
    with httpx.Client(base_url=pywa_setup.sim_url, timeout=10) as client:
        wait_until(lambda: client.get("/_sim/health").json()["background_tasks"] == 0)
        client.post("/_sim/reset").raise_for_status()
    pywa_setup.updates.clear()
    return pywa_setup.wa


@pytest.fixture
def sim(pywa_setup: _Setup) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pywa_setup.sim_url, timeout=10) as client:
        yield client


@pytest.fixture
def updates(pywa_setup: _Setup) -> _Updates:
    return pywa_setup.updates


def _last_sent(sim: httpx.Client) -> dict[str, Any]:
    sent = sim.get("/_sim/sent").json()["messages"]
    assert sent, "the simulator recorded no send"
    return dict(sent[-1])


def _payload(sent: dict[str, Any]) -> dict[str, Any]:
    payload = sent.get("payload", sent)
    return dict(payload)


def test_text_with_preview_and_reply(wa: WhatsApp, sim: httpx.Client) -> None:
    answer = wa.send_message(
        to=WA_ID,
        text="Ihr Termin: https://praxis.example/t/1",
        preview_url=True,
        reply_to_message_id="wamid.HBgLNDkxNTEwMDAwMDEwMRUCABIYFjNFQjA=",
    )
    assert answer.id.startswith("wamid.")
    sent = _last_sent(sim)
    assert sent["wamid"] == answer.id
    body = _payload(sent)
    assert body["text"] == {"body": "Ihr Termin: https://praxis.example/t/1", "preview_url": True}
    assert body["context"]["message_id"].startswith("wamid.")


def test_image_and_document_uploaded_then_sent(wa: WhatsApp, sim: httpx.Client) -> None:
    image = wa.send_image(to=WA_ID, image=PNG, mime_type="image/png", caption="Rezept")
    image_body = _payload(_last_sent(sim))
    assert image_body["type"] == "image"
    assert image_body["image"]["caption"] == "Rezept"
    document = wa.send_document(
        to=WA_ID,
        document=PDF,
        mime_type="application/pdf",
        filename="Befund.pdf",
        caption="Ihr Befund",
    )
    doc_body = _payload(_last_sent(sim))
    assert doc_body["document"]["filename"] == "Befund.pdf"
    assert image.id != document.id
    # Both went up through the media endpoint and can be fetched back, byte for byte.
    for media_id, data in ((image_body["image"]["id"], PNG), (doc_body["document"]["id"], PDF)):
        url = wa.get_media_url(media_id)
        assert url.mime_type in ("image/png", "application/pdf")
        assert wa.get_media_bytes(url.url) == data


def test_reply_buttons_and_list(wa: WhatsApp, sim: httpx.Client) -> None:
    wa.send_message(
        to=WA_ID,
        text="Passt Ihnen der Termin?",
        buttons=[Button(title="Ja", callback_data="yes"), Button(title="Nein", callback_data="no")],
    )
    buttons = _payload(_last_sent(sim))["interactive"]
    assert buttons["type"] == "button"
    assert [b["reply"]["id"] for b in buttons["action"]["buttons"]] == ["yes", "no"]
    wa.send_message(
        to=WA_ID,
        text="Wählen Sie eine Zeit",
        buttons=SectionList(
            button_title="Zeiten",
            sections=[
                Section(
                    title="Montag",
                    rows=[
                        SectionRow(title="9:00", callback_data="mo9"),
                        SectionRow(title="10:00", callback_data="mo10"),
                    ],
                )
            ],
        ),
    )
    listed = _payload(_last_sent(sim))["interactive"]
    assert listed["type"] == "list"
    assert [r["id"] for r in listed["action"]["sections"][0]["rows"]] == ["mo9", "mo10"]


def test_template_with_header_body_and_button_parameters(wa: WhatsApp, sim: httpx.Client) -> None:
    sent = wa.send_template(
        to=WA_ID,
        name="appointment_confirmation",
        language=TemplateLanguage.GERMAN,
        params=[
            HeaderText.params("Di 9:00"),  # type: ignore[arg-type]
            BodyText.params("Erika", "Dienstag, 9 Uhr"),  # type: ignore[arg-type]
            URLButton.params(url_variable="abc123", index=1),
        ],
    )
    assert sent.id.startswith("wamid.")
    template = _payload(_last_sent(sim))["template"]
    assert template["name"] == "appointment_confirmation"


def test_template_errors_map_to_pywa_exceptions(wa: WhatsApp) -> None:
    with pytest.raises(errors.TemplateNotExists):
        wa.send_template(to=WA_ID, name="no_such_template", language=TemplateLanguage.GERMAN)
    with pytest.raises(errors.TemplateParamCountMismatch):
        wa.send_template(
            to=WA_ID,
            name="appointment_confirmation",
            language=TemplateLanguage.GERMAN,
            params=[BodyText.params("Erika")],  # type: ignore[arg-type]
        )


def test_templates_are_listed_in_a_shape_pywa_parses(
    wa: WhatsApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="pywa"):
        templates = list(wa.get_templates())
    assert {"appointment_confirmation", "hello_world"} <= {t.name for t in templates}
    # pywa logs (and keeps as raw dicts) components that do not look like Meta's.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pywa")] == []


def test_mark_as_read_and_typing(wa: WhatsApp, sim: httpx.Client) -> None:
    wamid = "wamid.HBgLNDkxNTEwMDAwMDEwMRUCABIYFjNFQjBBQkNE"
    assert wa.mark_message_as_read(wamid).success
    assert wa.indicate_typing(wamid).success
    marked = sim.get("/_sim/marked_read").json()["marked_read"]
    assert [(m["message_id"], m["typing"]) for m in marked] == [(wamid, False), (wamid, True)]


def test_pywa_receives_signed_webhooks(wa: WhatsApp, sim: httpx.Client, updates: _Updates) -> None:
    answer = sim.post("/_sim/inbound", json={"from": WA_ID, "name": "Erika", "text": "Grüße/…"})
    wamid = answer.json()["wamid"]
    assert answer.json()["status"] == 200  # pywa checked the signature over Meta's bytes
    message = wait_until(lambda: next((m for m in updates.messages if m.id == wamid), None))
    assert message.text == "Grüße/…"
    assert message.from_user.wa_id == WA_ID
    assert message.from_user.name == "Erika"
    sent = wa.send_message(to=WA_ID, text="Danke!")
    wait_until(
        lambda: (
            {s.status.value for s in updates.statuses if s.id == sent.id}
            >= {"sent", "delivered", "read"}
        )
    )


def test_unsigned_webhooks_are_refused_by_pywa(
    pywa_setup: _Setup, sim: httpx.Client, updates: _Updates
) -> None:
    built = sim.post("/_sim/inbound", json={"from": WA_ID, "text": "Hallo", "deliver": False})
    body = built.json()["body"].encode()
    forged = httpx.post(
        pywa_setup.hooks_url, content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert forged.status_code >= 400
    # The simulator's own signature over the same bytes is accepted.
    signed = httpx.post(
        pywa_setup.hooks_url,
        content=body,
        headers={
            "X-Hub-Signature-256": built.json()["signature"],
            "Content-Type": "application/json",
        },
    )
    assert signed.status_code == 200
    wait_until(lambda: [m for m in updates.messages if m.id == built.json()["wamid"]])


def test_send_to_a_business_scoped_user_id(wa: WhatsApp, sim: httpx.Client) -> None:
    """A patient with a username may be reachable only by BSUID: pywa sends ``recipient``."""
    bsuid = "DE.12059992438886417650"
    sent = wa.send_message(to=bsuid, text="Guten Tag")
    assert sent.chat.id == bsuid
    body = _payload(_last_sent(sim))
    assert body["recipient"] == bsuid and "to" not in body


def test_pywa_receives_a_patient_call(sim: httpx.Client, updates: _Updates) -> None:
    answer = sim.post("/_sim/call", json={"from": WA_ID, "name": "Erika", "duration": 42})
    call_id = answer.json()["call_id"]
    wait_until(lambda: len([c for c in updates.calls if c.id == call_id]) == 2)
    connect, terminate = sorted(
        (c for c in updates.calls if c.id == call_id), key=lambda c: isinstance(c, CallTerminate)
    )
    assert isinstance(connect, CallConnect) and connect.from_user.wa_id == WA_ID
    assert isinstance(terminate, CallTerminate) and terminate.duration == 42
