"""Parsing Cloud API webhook envelopes into domain-level events.

Meta batches: every entry, change, message and status in one POST is returned. A message
type we do not know is kept as ``unsupported`` rather than dropped. Nothing here raises on
odd shapes except :class:`WebhookFormatError` for a body that is not an envelope at all.

The sender (``from``) may be a phone number or a business-scoped user id (BSUID, e.g.
``US.13491208655302741918``); nothing here assumes digits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

KNOWN_TEXTUAL_TYPES = {"text"}
MEDIA_TYPES = frozenset({"image", "video", "document", "audio", "sticker"})
# Types that change another message instead of adding a bubble.
ACTION_TYPES = frozenset({"reaction", "edit", "revoke"})
# Call webhooks report these events; status updates come as "status".
CALL_FIELDS = frozenset({"calls"})
TEMPLATE_FIELDS = {
    "message_template_status_update": "status",
    "message_template_quality_update": "quality",
    "template_category_update": "category",
    "message_template_components_update": "components",
}


class WebhookFormatError(ValueError):
    """The body is not a WhatsApp webhook envelope at all."""


# -- small typed readers ---------------------------------------------------------------


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # Meta sends some ids as numbers (template ids)
    return None


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else []


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _ts(value: Any) -> float:
    parsed = _float(value)
    return parsed if parsed is not None and parsed == parsed else 0.0


# -- domain types ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One entry of an ``errors[]`` array (message-, status-, value- or call-level)."""

    code: int | None
    title: str | None
    message: str | None = None
    details: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class MediaRef:
    """An attachment as the webhook declares it; the bytes are fetched later by id."""

    kind: str  # image | video | document | audio | sticker
    media_id: str | None
    mime_type: str | None
    sha256: str | None  # base64, as Meta sends it in webhooks
    filename: str | None = None
    caption: str | None = None
    voice: bool = False
    animated: bool = False
    url: str | None = None  # newer payloads carry a lookaside URL; we still go by id

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "media_id": self.media_id,
            "mime_type": self.mime_type,
            "sha256": self.sha256,
            "filename": self.filename,
            "caption": self.caption,
            "voice": self.voice,
            "animated": self.animated,
        }


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "name": self.name,
            "address": self.address,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class SharedContact:
    """A contact card the patient shared."""

    formatted_name: str | None
    phones: tuple[str, ...] = ()
    wa_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "formatted_name": self.formatted_name,
            "phones": list(self.phones),
            "wa_ids": list(self.wa_ids),
            "emails": list(self.emails),
        }


@dataclass(frozen=True, slots=True)
class Context:
    """``context``: a reply (``reply_to``), a forward flag, or a product enquiry."""

    reply_to: str | None = None  # the wamid replied to (or the message with the buttons)
    reply_from: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class InteractiveReply:
    """A tap on reply buttons / a list row, a Flow completion, or a call-permission answer."""

    kind: str  # button_reply | list_reply | nfm_reply | call_permission_reply | <other>
    reply_id: str | None = None
    title: str | None = None
    description: str | None = None
    flow_name: str | None = None
    flow_token: str | None = None
    response: dict[str, Any] | None = None  # a Flow's response_json, decoded
    permission: str | None = None  # accept | reject
    permission_expires_at: float | None = None
    permission_source: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for key in ("reply_id", "title", "description", "flow_name", "flow_token"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.response is not None:
            data["response"] = self.response
        if self.permission is not None:
            data["permission"] = self.permission
            data["permission_expires_at"] = self.permission_expires_at
            data["permission_source"] = self.permission_source
        return data


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A template quick-reply button tap (``type: button``)."""

    payload: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class Reaction:
    """A reaction on ``target_wamid``; ``emoji`` None means the reaction was removed."""

    target_wamid: str
    emoji: str | None


@dataclass(frozen=True, slots=True)
class SystemChange:
    kind: str  # user_changed_number | customer_identity_changed | customer_changed_number …
    body: str | None
    new_wa_id: str | None = None
    new_user_id: str | None = None
    identity_hash: str | None = None
    identity_acknowledged: bool | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """What a message says, independent of who sent it (also the new body of an edit)."""

    type: str
    text: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    order: dict[str, Any] | None = None
    interactive: InteractiveReply | None = None
    quick_reply: QuickReply | None = None
    unsupported_type: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    wamid: str
    from_id: str  # the patient: phone digits or a BSUID; never assume a number
    timestamp: float
    type: str
    text: str | None
    contact_name: str | None
    phone_number_id: str | None
    context_wamid: str | None = None
    content: Content | None = None
    context: Context | None = None
    reaction: Reaction | None = None
    edit_of: str | None = None  # edit: the original wamid; ``content`` is its new body
    revoke_of: str | None = None
    system: SystemChange | None = None
    referral: dict[str, Any] | None = None
    errors: tuple[ErrorInfo, ...] = ()
    user_id: str | None = None  # the patient's BSUID when the contact carries one
    username: str | None = None
    echo: bool = False  # sent by the clinic from the WhatsApp Business app (coexistence)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def media(self) -> MediaRef | None:
        return self.content.media if self.content is not None else None

    @property
    def is_action(self) -> bool:
        """True for reactions, edits and deletions: they change another message."""
        return self.reaction is not None or self.edit_of is not None or self.revoke_of is not None


@dataclass(frozen=True, slots=True)
class Pricing:
    billable: bool | None
    model: str | None  # CBP | PMP
    category: str | None
    type: str | None = None  # regular | free_customer_service | free_entry_point (PMP)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    wamid: str
    status: str  # sent | delivered | read | failed | played
    timestamp: float
    recipient_id: str | None
    error_code: int | None = None
    error_title: str | None = None
    callback_data: str | None = None
    errors: tuple[ErrorInfo, ...] = ()
    pricing: Pricing | None = None
    conversation_id: str | None = None
    conversation_expires_at: float | None = None
    recipient_type: str | None = None  # "group" for group statuses


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A call webhook: ``connect`` / ``terminate`` or a business-initiated call ``status``."""

    call_id: str
    event: str  # connect | terminate | status
    status: str | None  # RINGING | ACCEPTED | REJECTED | COMPLETED | FAILED …
    timestamp: float
    direction: str | None = None  # USER_INITIATED | BUSINESS_INITIATED
    from_id: str | None = None
    to_id: str | None = None
    duration: int | None = None
    start_time: float | None = None
    end_time: float | None = None
    callback_data: str | None = None
    sdp_type: str | None = None  # the SDP itself stays in the raw payload
    errors: tuple[ErrorInfo, ...] = ()
    phone_number_id: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateUpdate:
    """A template's review status, quality score, category or components changed."""

    kind: str  # status | quality | category | components
    template_id: str | None
    name: str | None
    language: str | None
    status: str | None = None  # APPROVED | REJECTED | PAUSED | DISABLED …
    reason: str | None = None
    category: str | None = None
    quality: str | None = None
    previous_quality: str | None = None


@dataclass(frozen=True, slots=True)
class PreferenceUpdate:
    """``user_preferences``: a patient stopped / resumed marketing messages."""

    wa_id: str
    category: str
    value: str  # stop | resume | signup
    timestamp: float
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class ValueLevelError:
    """A value-level ``errors[]`` entry (e.g. 131000 "Unsupported webhook payload")."""

    error: ErrorInfo
    phone_number_id: str | None
    message_wamids: tuple[str, ...] = ()


@dataclass(slots=True)
class WebhookBatch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    calls: list[CallEvent] = field(default_factory=list)
    templates: list[TemplateUpdate] = field(default_factory=list)
    preferences: list[PreferenceUpdate] = field(default_factory=list)
    errors: list[ValueLevelError] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)


# -- parsing ---------------------------------------------------------------------------


def _errors(obj: dict[str, Any]) -> tuple[ErrorInfo, ...]:
    found = []
    for err in _list(obj, "errors"):
        if not isinstance(err, dict):
            continue
        data = _dict(err, "error_data") or {}
        found.append(
            ErrorInfo(
                code=_int(err.get("code")),
                title=_str(err, "title") or _str(err, "message"),
                message=_str(err, "message"),
                details=_str(data, "details"),
            )
        )
    return tuple(found)


def _media(kind: str, body: dict[str, Any]) -> MediaRef:
    return MediaRef(
        kind=kind,
        media_id=_str(body, "id"),
        mime_type=_str(body, "mime_type"),
        sha256=_str(body, "sha256"),
        filename=_str(body, "filename"),
        caption=_str(body, "caption"),
        voice=body.get("voice") is True,
        animated=body.get("animated") is True,
        url=_str(body, "url"),
    )


def _location(body: dict[str, Any]) -> Location | None:
    lat, lon = _float(body.get("latitude")), _float(body.get("longitude"))
    if lat is None or lon is None:
        return None
    return Location(
        latitude=lat,
        longitude=lon,
        name=_str(body, "name"),
        address=_str(body, "address"),
        url=_str(body, "url"),
    )


def _contacts(cards: list[Any]) -> tuple[SharedContact, ...]:
    found = []
    for card in cards:
        if not isinstance(card, dict):
            continue
        name = _dict(card, "name") or {}
        phones = [p for p in _list(card, "phones") if isinstance(p, dict)]
        emails = [e for e in _list(card, "emails") if isinstance(e, dict)]
        found.append(
            SharedContact(
                formatted_name=_str(name, "formatted_name") or _str(name, "first_name"),
                phones=tuple(v for p in phones if (v := _str(p, "phone"))),
                wa_ids=tuple(v for p in phones if (v := _str(p, "wa_id"))),
                emails=tuple(v for e in emails if (v := _str(e, "email"))),
            )
        )
    return tuple(found)


def _interactive(body: dict[str, Any]) -> InteractiveReply:
    kind = _str(body, "type") or "unknown"
    reply = _dict(body, kind) or {}
    if kind in ("button_reply", "list_reply"):
        return InteractiveReply(
            kind=kind,
            reply_id=_str(reply, "id"),
            title=_str(reply, "title"),
            description=_str(reply, "description"),
        )
    if kind == "nfm_reply":
        response: dict[str, Any] | None = None
        raw = reply.get("response_json")
        if isinstance(raw, str):
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = None
            response = decoded if isinstance(decoded, dict) else None
        elif isinstance(raw, dict):
            response = raw
        token = response.get("flow_token") if response is not None else None
        return InteractiveReply(
            kind=kind,
            title=_str(reply, "body"),
            flow_name=_str(reply, "name"),
            flow_token=token if isinstance(token, str) else None,
            response=response,
        )
    if kind == "call_permission_reply":
        return InteractiveReply(
            kind=kind,
            permission=_str(reply, "response"),
            permission_expires_at=_float(reply.get("expiration_timestamp")),
            permission_source=_str(reply, "response_source"),
        )
    return InteractiveReply(kind=kind, title=_str(reply, "title"))


def _content(msg: dict[str, Any]) -> Content:
    kind = _str(msg, "type") or "unsupported"
    if kind == "unknown":  # the older name
        kind = "unsupported"
    body = _dict(msg, kind) or {}
    if kind == "text":
        return Content(type=kind, text=_str(body, "body"))
    if kind in MEDIA_TYPES:
        media = _media(kind, body)
        return Content(type=kind, text=media.caption, media=media)
    if kind == "location":
        location = _location(body)
        text = None
        if location is not None:
            text = location.name or location.address
        return Content(type=kind, text=text, location=location)
    if kind == "contacts":
        cards = _contacts(_list(msg, "contacts"))
        names = [c.formatted_name for c in cards if c.formatted_name]
        return Content(type=kind, text=", ".join(names) or None, contacts=cards)
    if kind == "order":
        return Content(type=kind, text=_str(body, "text") or None, order=body or None)
    if kind == "interactive":
        if not body:
            # A bare interactive message (Meta pairs it with a value-level error).
            return Content(type=kind)
        reply = _interactive(body)
        return Content(type=kind, text=reply.title, interactive=reply)
    if kind == "button":
        quick = QuickReply(payload=_str(body, "payload"), text=_str(body, "text"))
        return Content(type=kind, text=quick.text, quick_reply=quick)
    if kind == "unsupported":
        return Content(type=kind, unsupported_type=_str(body, "type"))
    if kind in ("system", "reaction", "edit", "revoke", "request_welcome"):
        return Content(type=kind, text=_str(body, "body"))
    # A type this parser does not know yet: kept, shown as unsupported.
    return Content(type="unsupported", unsupported_type=kind)


def _context(msg: dict[str, Any]) -> Context | None:
    ctx = _dict(msg, "context")
    if ctx is None:
        return None
    product = _dict(ctx, "referred_product")
    return Context(
        reply_to=_str(ctx, "id"),
        reply_from=_str(ctx, "from"),
        forwarded=ctx.get("forwarded") is True,
        frequently_forwarded=ctx.get("frequently_forwarded") is True,
        referred_product=(
            {k: v for k, v in product.items() if isinstance(v, str)} if product else None
        ),
    )


def _system(msg: dict[str, Any]) -> SystemChange | None:
    body = _dict(msg, "system")
    if body is None:
        return None
    identity = _dict(msg, "identity") or {}
    acknowledged = identity.get("acknowledged")
    return SystemChange(
        kind=_str(body, "type") or "unknown",
        body=_str(body, "body"),
        new_wa_id=_str(body, "wa_id"),
        new_user_id=_str(body, "user_id"),
        identity_hash=_str(identity, "hash"),
        identity_acknowledged=acknowledged if isinstance(acknowledged, bool) else None,
    )


@dataclass(frozen=True, slots=True)
class _Contact:
    name: str | None
    user_id: str | None
    username: str | None


def _message(
    msg: dict[str, Any],
    contacts: dict[str, _Contact],
    phone_number_id: str | None,
    *,
    echo: bool = False,
) -> InboundMessage | None:
    wamid = _str(msg, "id")
    # An echo is the clinic writing from the Business app: the patient is the recipient.
    patient = (
        (_str(msg, "to") or _str(msg, "to_user_id"))
        if echo
        # A user with a username may share no phone number: then only their BSUID names them.
        else (_str(msg, "from") or _str(msg, "from_user_id"))
    )
    if not wamid or not patient:
        return None
    content = _content(msg)
    context = _context(msg)
    reaction: Reaction | None = None
    edit_of: str | None = None
    revoke_of: str | None = None
    kind = content.type
    if kind == "reaction":
        body = _dict(msg, "reaction") or {}
        target = _str(body, "message_id")
        if target:
            reaction = Reaction(target_wamid=target, emoji=_str(body, "emoji") or None)
    elif kind == "edit":
        body = _dict(msg, "edit") or {}
        edit_of = _str(body, "original_message_id")
        inner = _dict(body, "message")
        if inner is not None:
            content = _content(inner)
            context = context or _context(inner)
    elif kind == "revoke":
        body = _dict(msg, "revoke") or {}
        revoke_of = _str(body, "original_message_id")
    referral = _dict(msg, "referral")
    contact = contacts.get(patient) or _Contact(None, None, None)
    return InboundMessage(
        wamid=wamid,
        from_id=patient,
        timestamp=_ts(msg.get("timestamp")),
        type=kind,
        text=content.text,
        contact_name=contact.name,
        phone_number_id=phone_number_id,
        context_wamid=context.reply_to if context is not None else None,
        content=content,
        context=context,
        reaction=reaction,
        edit_of=edit_of,
        revoke_of=revoke_of,
        system=_system(msg),
        referral={k: v for k, v in referral.items() if isinstance(v, str | dict)}
        if referral
        else None,
        errors=_errors(msg),
        user_id=contact.user_id,
        username=contact.username,
        echo=echo,
        raw=msg,
    )


def _status(st: dict[str, Any]) -> StatusUpdate | None:
    wamid, status = _str(st, "id"), _str(st, "status")
    if not wamid or not status:
        return None
    errors = _errors(st)
    pricing_raw = _dict(st, "pricing")
    pricing = None
    if pricing_raw is not None:
        billable = pricing_raw.get("billable")
        pricing = Pricing(
            billable=billable if isinstance(billable, bool) else None,
            model=_str(pricing_raw, "pricing_model"),
            category=_str(pricing_raw, "category"),
            type=_str(pricing_raw, "type"),
        )
    conversation = _dict(st, "conversation") or {}
    return StatusUpdate(
        wamid=wamid,
        status=status.lower(),
        timestamp=_ts(st.get("timestamp")),
        recipient_id=_str(st, "recipient_id"),
        error_code=errors[0].code if errors else None,
        error_title=errors[0].title if errors else None,
        callback_data=_str(st, "biz_opaque_callback_data"),
        errors=errors,
        pricing=pricing,
        conversation_id=_str(conversation, "id"),
        conversation_expires_at=_float(conversation.get("expiration_timestamp")),
        recipient_type=_str(st, "recipient_type"),
    )


def _call(call: dict[str, Any], *, event: str | None, pnid: str | None) -> CallEvent | None:
    call_id = _str(call, "id")
    if not call_id:
        return None
    session = _dict(call, "session") or {}
    return CallEvent(
        call_id=call_id,
        event=event or _str(call, "event") or "unknown",
        status=_str(call, "status"),
        timestamp=_ts(call.get("timestamp")),
        direction=_str(call, "direction"),
        from_id=_str(call, "from"),
        to_id=_str(call, "to") or _str(call, "recipient_id"),
        duration=_int(call.get("duration")),
        start_time=_float(call.get("start_time")),
        end_time=_float(call.get("end_time")),
        callback_data=_str(call, "biz_opaque_callback_data"),
        sdp_type=_str(session, "sdp_type"),
        errors=_errors(call),
        phone_number_id=pnid,
    )


def _template(kind: str, value: dict[str, Any]) -> TemplateUpdate:
    return TemplateUpdate(
        kind=kind,
        template_id=_str(value, "message_template_id"),
        name=_str(value, "message_template_name"),
        language=_str(value, "message_template_language"),
        status=_str(value, "event") if kind == "status" else None,
        reason=_str(value, "reason"),
        category=_str(value, "new_category") or _str(value, "message_template_category"),
        quality=_str(value, "new_quality_score"),
        previous_quality=_str(value, "previous_quality_score"),
    )


def _contacts_by_id(value: dict[str, Any]) -> dict[str, _Contact]:
    found: dict[str, _Contact] = {}
    for contact in _list(value, "contacts"):
        if not isinstance(contact, dict):
            continue
        profile = _dict(contact, "profile") or {}
        info = _Contact(
            name=_str(profile, "name"),
            user_id=_str(contact, "user_id"),
            username=_str(profile, "username"),
        )
        for key in ("wa_id", "user_id"):
            ident = _str(contact, key)
            if ident:
                found[ident] = info
    return found


def _messages_change(value: dict[str, Any], batch: WebhookBatch, pnid: str | None) -> None:
    contacts = _contacts_by_id(value)
    wamids = []
    for msg in _list(value, "messages"):
        if isinstance(msg, dict):
            parsed = _message(msg, contacts, pnid)
            if parsed is not None:
                batch.messages.append(parsed)
                wamids.append(parsed.wamid)
    for st in _list(value, "statuses"):
        if isinstance(st, dict):
            status = _status(st)
            if status is not None:
                batch.statuses.append(status)
    for error in _errors(value):
        batch.errors.append(ValueLevelError(error, pnid, tuple(wamids)))


def parse_envelope(payload: Any) -> WebhookBatch:
    """Every message, status, call and update in a webhook body (all entries, all changes)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise WebhookFormatError("not a WhatsApp webhook envelope")
    batch = WebhookBatch()
    for entry in payload["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            continue
        for change in changes:
            if not isinstance(change, dict):
                continue
            value = change.get("value")
            field_name = str(change.get("field") or "")
            if not isinstance(value, dict):
                batch.ignored_fields.append(field_name)
                continue
            metadata = _dict(value, "metadata") or {}
            pnid = _str(metadata, "phone_number_id")
            if field_name == "messages":
                _messages_change(value, batch, pnid)
            elif field_name == "smb_message_echoes":
                contacts = _contacts_by_id(value)
                for msg in _list(value, "message_echoes"):
                    if isinstance(msg, dict):
                        parsed = _message(msg, contacts, pnid, echo=True)
                        if parsed is not None:
                            batch.messages.append(parsed)
            elif field_name in CALL_FIELDS:
                _calls_change(value, batch, pnid)
            elif field_name in TEMPLATE_FIELDS:
                batch.templates.append(_template(TEMPLATE_FIELDS[field_name], value))
            elif field_name == "user_preferences":
                _preferences_change(value, batch)
            else:
                batch.ignored_fields.append(field_name)
    return batch


def _calls_change(value: dict[str, Any], batch: WebhookBatch, pnid: str | None) -> None:
    for call in _list(value, "calls"):
        if isinstance(call, dict):
            parsed = _call(call, event=None, pnid=pnid)
            if parsed is not None:
                if not parsed.errors and (errors := _errors(value)):
                    # terminate webhooks put the call's errors next to it, at value level
                    parsed = _with_errors(parsed, errors)
                batch.calls.append(parsed)
    for st in _list(value, "statuses"):
        if isinstance(st, dict):
            parsed = _call(st, event="status", pnid=pnid)
            if parsed is not None:
                batch.calls.append(parsed)


def _with_errors(call: CallEvent, errors: tuple[ErrorInfo, ...]) -> CallEvent:
    return replace(call, errors=errors)


def _preferences_change(value: dict[str, Any], batch: WebhookBatch) -> None:
    contacts = _contacts_by_id(value)
    for pref in _list(value, "user_preferences"):
        if not isinstance(pref, dict):
            continue
        wa_id, category, choice = _str(pref, "wa_id"), _str(pref, "category"), _str(pref, "value")
        if not wa_id or not category or not choice:
            continue
        contact = contacts.get(wa_id)
        batch.preferences.append(
            PreferenceUpdate(
                wa_id=wa_id,
                category=category,
                value=choice,
                timestamp=_ts(pref.get("timestamp")),
                user_id=contact.user_id if contact is not None else None,
            )
        )
