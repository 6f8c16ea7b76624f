"""Every shared fixture parses into the right domain type, and the relay stores or applies it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from inbox_app.domain.roles import Role
from inbox_app.relay.db import (
    Database,
    call_events,
    conversations,
    media,
    messages,
    templates,
    user_preferences,
    webhook_errors,
)
from inbox_app.relay.settings import RelaySettings
from inbox_app.whatsapp.webhook import WebhookBatch, parse_envelope
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login
from tests.webhooks import envelope, signed, text_message

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/whatsapp/pywa/tests/data/updates"


def fixture(name: str) -> dict[str, Any]:
    file, key = name.split("#")
    payload: dict[str, Any] = json.loads((FIXTURES / f"{file}.json").read_text("utf-8"))[key]
    return copy.deepcopy(payload)


def only(batch: WebhookBatch) -> Any:
    (msg,) = batch.messages
    return msg


# -- parser: one check per fixture -----------------------------------------------------


def _text(b: WebhookBatch) -> None:
    m = only(b)
    assert (m.type, m.text, m.user_id) == ("text", "Body Text", "US.13491208655302741918")


def _image(b: WebhookBatch) -> None:
    m = only(b)
    assert m.type == "image" and m.media is not None
    assert m.media.kind == "image" and m.media.media_id and m.media.mime_type == "image/jpeg"
    assert m.media.sha256 and m.text == m.media.caption


def _media_with_url(b: WebhookBatch) -> None:
    m = only(b)
    assert m.media is not None and m.media.media_id and m.media.url


def _video(b: WebhookBatch) -> None:
    m = only(b)
    assert m.media is not None and m.media.kind == "video" and m.media.mime_type


def _document(b: WebhookBatch) -> None:
    m = only(b)
    assert m.media is not None and m.media.kind == "document" and m.media.filename


def _audio(b: WebhookBatch) -> None:
    m = only(b)
    assert m.media is not None and m.media.kind == "audio" and not m.media.voice


def _voice(b: WebhookBatch) -> None:
    m = only(b)
    assert m.media is not None and m.media.kind == "audio" and m.media.voice


def _sticker(animated: bool) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        m = only(b)
        assert m.media is not None and m.media.kind == "sticker"
        assert m.media.animated is animated

    return check


def _reaction(b: WebhookBatch) -> None:
    m = only(b)
    assert m.is_action and m.reaction is not None
    assert m.reaction.target_wamid and m.reaction.emoji


def _unreaction(b: WebhookBatch) -> None:
    m = only(b)
    assert m.reaction is not None and m.reaction.emoji is None


def _location(b: WebhookBatch) -> None:
    m = only(b)
    assert m.content.location is not None
    assert isinstance(m.content.location.latitude, float)


def _contacts(b: WebhookBatch) -> None:
    m = only(b)
    names = [c.formatted_name for c in m.content.contacts]
    assert names == ["Chandler Bing", "Monica", "Rachel Green"]
    assert m.content.contacts[0].phones == ("+1 555-555-5555",)


def _order(b: WebhookBatch) -> None:
    m = only(b)
    assert m.type == "order" and len(m.content.order["product_items"]) == 3


def _unsupported(b: WebhookBatch) -> None:
    m = only(b)
    assert m.type == "unsupported" and m.errors and m.errors[0].code == 131051


def _unsupported_with_type(b: WebhookBatch) -> None:
    _unsupported(b)
    assert only(b).content.unsupported_type == "pool"


def _reply(b: WebhookBatch) -> None:
    m = only(b)
    assert m.context is not None and m.context.reply_to and m.context_wamid == m.context.reply_to


def _forwarded(b: WebhookBatch) -> None:
    m = only(b)
    assert m.context is not None and m.context.forwarded and not m.context.reply_to


def _forwarded_many(b: WebhookBatch) -> None:
    m = only(b)
    assert m.context is not None and m.context.frequently_forwarded


def _value_error(b: WebhookBatch) -> None:
    m = only(b)
    assert m.type == "interactive"
    (err,) = b.errors
    assert err.error.code == 131000 and err.message_wamids == (m.wamid,)


def _referral(b: WebhookBatch) -> None:
    m = only(b)
    assert m.referral is not None and m.referral["ctwa_clid"] == "CTWA_CLID"


def _button_reply(b: WebhookBatch) -> None:
    m = only(b)
    r = m.content.interactive
    assert r.kind == "button_reply" and r.reply_id and r.title and m.context_wamid


def _quick_reply(with_context: bool) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        m = only(b)
        assert m.type == "button" and m.content.quick_reply.payload and m.text
        assert (m.context_wamid is not None) is with_context

    return check


def _list_reply(b: WebhookBatch) -> None:
    r = only(b).content.interactive
    assert r.kind == "list_reply" and r.reply_id and r.title


def _list_reply_description(b: WebhookBatch) -> None:
    _list_reply(b)
    assert only(b).content.interactive.description


def _flow(with_token: bool) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        r = only(b).content.interactive
        assert r.kind == "nfm_reply" and isinstance(r.response, dict)
        assert (r.flow_token is not None) is with_token

    return check


def _call_permission(answer: str) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        r = only(b).content.interactive
        assert r.kind == "call_permission_reply" and r.permission == answer

    return check


def _revoke(b: WebhookBatch) -> None:
    m = only(b)
    assert m.is_action and m.revoke_of == "<ORIGINAL_WHATSAPP_MESSAGE_ID>"


def _edit(b: WebhookBatch) -> None:
    m = only(b)
    assert m.is_action and m.edit_of and m.type == "edit"
    assert m.content.type == "image" and m.text == "Updated image caption"


def _number_change(b: WebhookBatch) -> None:
    m = only(b)
    assert m.system.kind == "user_changed_number" and m.system.new_wa_id == "972912345678"


def _identity_change(b: WebhookBatch) -> None:
    m = only(b)
    assert m.system.kind == "customer_identity_changed" and m.system.identity_hash


def _status(state: str) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        (st,) = b.statuses
        assert st.status == state and b.messages == []

    return check


def _status_sent(b: WebhookBatch) -> None:
    _status("sent")(b)
    st = b.statuses[0]
    assert st.pricing is not None and st.pricing.category and st.conversation_expires_at


def _status_failed(b: WebhookBatch) -> None:
    _status("failed")(b)
    st = b.statuses[0]
    assert st.error_code == 130472 and st.errors[0].details and st.pricing is None


def _status_tracker(b: WebhookBatch) -> None:
    assert b.statuses[0].callback_data


def _status_group(b: WebhookBatch) -> None:
    _status("read")(b)
    assert b.statuses[0].recipient_type == "group"


def _echo(b: WebhookBatch) -> None:
    m = only(b)
    assert m.echo and m.from_id == m.raw["to"]  # the patient is the recipient


def _call(event: str, direction: str) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        (call,) = b.calls
        assert call.event == event and call.direction == direction and call.call_id

    return check


def _call_status(b: WebhookBatch) -> None:
    (call,) = b.calls
    assert call.event == "status" and call.status == "RINGING" and call.callback_data


def _call_terminate(b: WebhookBatch) -> None:
    (call,) = b.calls
    assert call.event == "terminate" and call.duration == 120 and call.errors[0].code == 12455


def _template(kind: str) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        (tpl,) = b.templates
        assert tpl.kind == kind and tpl.name and tpl.language and tpl.template_id

    return check


def _template_status(b: WebhookBatch) -> None:
    _template("status")(b)
    assert b.templates[0].status in ("APPROVED", "REJECTED")


def _preference(value: str) -> Callable[[WebhookBatch], None]:
    def check(b: WebhookBatch) -> None:
        (pref,) = b.preferences
        assert pref.category == "marketing_messages" and pref.value == value

    return check


EXPECTED: dict[str, Callable[[WebhookBatch], None]] = {
    "message#text": _text,
    "message#image": _image,
    "message#media_with_url": _media_with_url,
    "message#video": _video,
    "message#document": _document,
    "message#audio": _audio,
    "message#voice": _voice,
    "message#static_sticker": _sticker(False),
    "message#animated_sticker": _sticker(True),
    "message#reaction": _reaction,
    "message#unreaction_empty": _unreaction,
    "message#unreaction_no_emoji": _unreaction,
    "message#current_location": _location,
    "message#chosen_location": _location,
    "message#contacts": _contacts,
    "message#order": _order,
    "message#unsupported": _unsupported,
    "message#unsupported_with_type": _unsupported_with_type,
    "message#reply": _reply,
    "message#forwarded": _forwarded,
    "message#forwarded_many_times": _forwarded_many,
    "message#interactive_message_with_err": _value_error,
    "message#referral": _referral,
    "callback_button#button": _button_reply,
    "callback_button#quick_reply": _quick_reply(True),
    "callback_button#quick_reply_without_context": _quick_reply(False),
    "callback_selection#callback": _list_reply,
    "callback_selection#description": _list_reply_description,
    "flow_completion#completion": _flow(True),
    "flow_completion#without_flow_token": _flow(False),
    "call_permission_update#accept": _call_permission("accept"),
    "call_permission_update#reject": _call_permission("reject"),
    "deleted_message#revoke": _revoke,
    "edited_message#image": _edit,
    "system#phone_number_change": _number_change,
    "system#identity_change": _identity_change,
    "message_status#sent": _status_sent,
    "message_status#delivered": _status("delivered"),
    "message_status#read": _status("read"),
    "message_status#played": _status("played"),
    "message_status#failed": _status_failed,
    "message_status#with_tracker": _status_tracker,
    "message_status#group": _status_group,
    "outgoing_message#text": _echo,
    "outgoing_message#edit": _echo,
    "outgoing_message#delete": _echo,
    "call_connect#business_initiated": _call("connect", "BUSINESS_INITIATED"),
    "call_connect#user_initiated": _call("connect", "USER_INITIATED"),
    "call_status#call_status": _call_status,
    "call_terminate#call_terminate": _call_terminate,
    "template_status_update#approved": _template_status,
    "template_status_update#rejected": _template_status,
    "template_quality_update#yellow": _template("quality"),
    "template_category_update#marketing": _template("category"),
    "template_components_update#element": _template("components"),
    "user_marketing_preferences#resume": _preference("resume"),
    "user_marketing_preferences#signup": _preference("signup"),
}


def _all_fixture_names() -> list[str]:
    names = []
    for path in sorted(FIXTURES.glob("*.json")):
        if path.stem == "account_update":
            continue  # WABA events: acknowledged, nothing for the inbox
        names.extend(f"{path.stem}#{key}" for key in json.loads(path.read_text("utf-8")))
    return names


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(_all_fixture_names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_into_its_type(name: str) -> None:
    EXPECTED[name](parse_envelope(fixture(name)))


def test_bsuid_sender_is_kept_as_is() -> None:
    payload = fixture("message#text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].pop("wa_id")
    value["messages"][0]["from"] = "US.13491208655302741918"
    m = only(parse_envelope(payload))
    assert m.from_id == "US.13491208655302741918" and m.contact_name == "Test Name"


def test_unknown_type_is_unsupported_not_dropped() -> None:
    payload = fixture("message#text")
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    msg["type"], msg["hologram"] = "hologram", {"x": 1}
    del msg["text"]
    m = only(parse_envelope(payload))
    assert m.type == "unsupported" and m.content.unsupported_type == "hologram"


# -- relay: stored and applied ---------------------------------------------------------


class Relay:
    def __init__(self, server: LiveServer, settings: RelaySettings) -> None:
        self.server = server
        self.db = Database(settings.database_url)

    def post(self, payload: dict[str, Any]) -> None:
        body, headers = signed(payload)
        r = httpx.post(self.server.url + "/webhook", content=body, headers=headers)
        assert r.status_code == 200, r.text

    def rows(self, query: Any) -> list[Any]:
        with self.db.read() as conn:
            return list(conn.execute(query).all())

    def message(self, wamid: str) -> Any:
        (row,) = self.rows(select(messages).where(messages.c.wamid == wamid))
        return row


@pytest.fixture
def relay(relay_server: LiveServer, relay_settings: RelaySettings) -> Iterator[Relay]:
    r = Relay(relay_server, relay_settings)
    yield r
    r.db.dispose()


def _msg(wa_id: str, wamid: str, kind: str, body: dict[str, Any], ts: int = 1700000000) -> Any:
    return envelope(
        {
            "contacts": [{"profile": {"name": "Erika"}, "wa_id": wa_id}],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(ts), "type": kind, kind: body}
            ],
        }
    )


def test_reactions_attach_to_their_target_and_removal_clears_them(relay: Relay) -> None:
    wa = "4915100000201"
    relay.post(text_message("Danke!", wa_id=wa, wamid="wamid.target1"))
    relay.post(_msg(wa, "wamid.r1", "reaction", {"message_id": "wamid.target1", "emoji": "👍"}))
    relay.post(_msg(wa, "wamid.r1", "reaction", {"message_id": "wamid.target1", "emoji": "👍"}))
    assert relay.rows(select(messages.c.id)).__len__() == 1  # no bubble for a reaction
    assert json.loads(relay.message("wamid.target1").reactions)[wa]["emoji"] == "👍"
    relay.post(
        _msg(
            wa, "wamid.r2", "reaction", {"message_id": "wamid.target1", "emoji": ""}, ts=1700000005
        )
    )
    assert json.loads(relay.message("wamid.target1").reactions)[wa]["emoji"] is None
    # an older reaction delivered late does not come back
    relay.post(
        _msg(wa, "wamid.r0", "reaction", {"message_id": "wamid.target1", "emoji": "❤"}, ts=1)
    )
    assert json.loads(relay.message("wamid.target1").reactions)[wa]["emoji"] is None


def test_reaction_before_its_target_is_applied_when_the_target_arrives(relay: Relay) -> None:
    wa = "4915100000202"
    relay.post(_msg(wa, "wamid.early", "reaction", {"message_id": "wamid.late", "emoji": "🙏"}))
    relay.post(text_message("Hallo", wa_id=wa, wamid="wamid.late"))
    assert json.loads(relay.message("wamid.late").reactions)[wa]["emoji"] == "🙏"


def test_edit_and_revoke_change_the_original(relay: Relay) -> None:
    wa = "4915100000203"
    relay.post(text_message("Termin am Montag", wa_id=wa, wamid="wamid.orig"))
    edit = {
        "original_message_id": "wamid.orig",
        "message": {"type": "text", "text": {"body": "Dienstag"}},
    }
    relay.post(_msg(wa, "wamid.edit1", "edit", edit, ts=1800000000))
    row = relay.message("wamid.orig")
    assert row.text == "Dienstag" and row.edited_at == 1800000000
    relay.post(_msg(wa, "wamid.del1", "revoke", {"original_message_id": "wamid.orig"}))
    row = relay.message("wamid.orig")
    assert row.text is None and row.deleted_at is not None
    assert len(relay.rows(select(messages.c.id))) == 1


def test_someone_else_cannot_react_to_or_delete_a_message(relay: Relay) -> None:
    relay.post(text_message("Meins", wa_id="4915100000204", wamid="wamid.mine"))
    relay.post(_msg("4915100000299", "wamid.x1", "revoke", {"original_message_id": "wamid.mine"}))
    assert relay.message("wamid.mine").text == "Meins"


def test_media_message_is_stored_with_a_pending_download(relay: Relay) -> None:
    relay.post(fixture("message#document"))
    (msg,) = parse_envelope(fixture("message#document")).messages
    row = relay.message(msg.wamid)
    details = json.loads(row.details)
    assert details["media"]["kind"] == "document" and details["media"]["filename"]
    (file,) = relay.rows(select(media).where(media.c.message_id == row.id))
    assert file.state in ("pending", "ready", "failed") and file.media_id == msg.media.media_id


def test_number_change_moves_the_conversation_to_the_new_id(relay: Relay) -> None:
    relay.post(text_message("Hallo", wa_id="972987654321", wamid="wamid.before"))
    relay.post(fixture("system#phone_number_change"))
    wa_ids = [r.wa_id for r in relay.rows(select(conversations.c.wa_id))]
    assert wa_ids == ["972912345678"]


def test_calls_templates_preferences_and_value_errors_are_stored(relay: Relay) -> None:
    for name in (
        "call_connect#user_initiated",
        "call_terminate#call_terminate",
        "call_status#call_status",
        "template_status_update#approved",
        "template_quality_update#yellow",
        "user_marketing_preferences#resume",
        "message#interactive_message_with_err",
    ):
        relay.post(fixture(name))
        relay.post(fixture(name))  # replays change nothing
    events = {(r.event, r.status) for r in relay.rows(select(call_events))}
    assert events == {("connect", ""), ("terminate", "COMPLETED"), ("status", "RINGING")}
    tpl = {r.name: (r.status, r.quality) for r in relay.rows(select(templates))}
    assert tpl["order_confirmation"][0] == "APPROVED" and tpl["welcome_template"][1] == "YELLOW"
    (pref,) = relay.rows(select(user_preferences))
    assert (pref.wa_id, pref.value) == ("16505551234", "resume")
    (err,) = relay.rows(select(webhook_errors))
    assert err.code == 131000


def test_feed_carries_the_new_message_fields(relay: Relay, relay_settings: RelaySettings) -> None:
    add_user(relay_settings, "rita", Role.RECEPTIONIST)
    staff = login(relay.server.url, "rita")
    try:
        relay.post(fixture("message#voice"))
        reply = fixture("message#reply")  # fixtures share wamids: give it its own
        reply["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.reply1"
        relay.post(reply)
        events = staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    finally:
        staff.close()
    data = [e["data"] for e in events if e["type"] == "message"]
    voice = next(d for d in data if d["type"] == "audio")
    assert voice["media"]["voice"] is True and voice["media"]["state"] == "pending"
    assert voice["media"]["id"] and voice["edited"] is False and voice["deleted"] is False
    reply = next(d for d in data if d.get("reply_to"))
    assert reply["reply_to"].startswith("wamid.")
