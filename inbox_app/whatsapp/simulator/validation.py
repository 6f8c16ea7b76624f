"""Checks on ``POST /{version}/{phone_number_id}/messages`` bodies, with Meta's limits (§3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from inbox_app.whatsapp.simulator.errors import GraphError
from inbox_app.whatsapp.simulator.ids import is_bsuid

_TO = re.compile(r"\+?(\d{8,15})")
_MEDIA_TYPES = ("image", "video", "audio", "sticker", "document")
_CAPTIONED = ("image", "video", "document")
SUPPORTED_TYPES = (
    "text",
    *_MEDIA_TYPES,
    "location",
    "contacts",
    "reaction",
    "interactive",
    "template",
)

TEXT_MAX = 4096
CAPTION_MAX = 1024
OPAQUE_MAX = 512


@dataclass(frozen=True)
class SendRequest:
    """An accepted message send."""

    to: str  # as given, echoed as contacts[0].input
    wa_id: str  # digits only, or the BSUID of a ``recipient`` send
    type: str
    payload: dict[str, Any]
    biz_opaque_callback_data: str | None


@dataclass(frozen=True)
class MarkReadRequest:
    """``{"status": "read", "message_id": …}``, optionally with a typing indicator."""

    message_id: str
    typing: bool


def _bad(details: str) -> GraphError:
    return GraphError.invalid_parameter(details)


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise _bad(f"Param {key} is required and must be an object")
    return value


def _string(obj: dict[str, Any], key: str, where: str, *, limit: int | None = None) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(f"Param {where}['{key}'] is required and must be a non-empty string")
    if limit is not None and len(value) > limit:
        raise _bad(f"Param {where}['{key}'] must be at most {limit} characters long")
    return value


def parse_request(body: Any) -> SendRequest | MarkReadRequest:
    """Validate a decoded JSON body; raises :class:`GraphError` (400, code 100)."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object")
    if body.get("messaging_product") != "whatsapp":
        raise _bad("The parameter messaging_product is required and must be 'whatsapp'")
    if "status" in body:
        return _parse_mark_read(body)
    return _parse_send(body)


def _parse_mark_read(body: dict[str, Any]) -> MarkReadRequest:
    if body.get("status") != "read":
        raise _bad("Param status must be 'read'")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id.startswith("wamid."):
        raise _bad("Param message_id is required and must be a valid message id")
    typing = body.get("typing_indicator")
    if typing is not None and not (isinstance(typing, dict) and typing.get("type") == "text"):
        raise _bad("Param typing_indicator['type'] must be 'text'")
    return MarkReadRequest(message_id=message_id, typing=typing is not None)


def _parse_send(body: dict[str, Any]) -> SendRequest:
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise _bad("Param recipient_type must be 'individual' in this simulator")
    to = body.get("to")
    recipient = body.get("recipient")
    if to is None and isinstance(recipient, str) and is_bsuid(recipient):
        # A user known only by their business-scoped id (usernames): ``recipient``, not ``to``.
        to, wa_id = recipient, recipient
    else:
        match = _TO.fullmatch(to) if isinstance(to, str) else None
        if not isinstance(to, str) or match is None:
            raise _bad("Param to must be a phone number of 8 to 15 digits")
        wa_id = match.group(1)
    message_type = body.get("type", "text")  # Meta defaults to text
    if message_type not in SUPPORTED_TYPES:
        raise _bad(f"Param type must be one of {{{', '.join(SUPPORTED_TYPES)}}}")
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque) > OPAQUE_MAX):
        raise _bad(f"Param biz_opaque_callback_data must be a string of at most {OPAQUE_MAX}")
    context = body.get("context")
    if context is not None:
        if not isinstance(context, dict):
            raise _bad("Param context must be an object")
        _string(context, "message_id", "context")
    _check_content(body, message_type)
    return SendRequest(
        to=to,
        wa_id=wa_id,
        type=message_type,
        payload=body,
        biz_opaque_callback_data=opaque,
    )


def _check_content(body: dict[str, Any], message_type: str) -> None:
    if message_type == "text":
        text = _object(body, "text")
        _string(text, "body", "text", limit=TEXT_MAX)
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            raise _bad("Param text['preview_url'] must be a boolean")
    elif message_type in _MEDIA_TYPES:
        media = _object(body, message_type)
        if ("id" in media) == ("link" in media):
            raise _bad(f"Param {message_type} must have exactly one of 'id' or 'link'")
        if "link" in media:
            link = _string(media, "link", message_type)
            if not link.startswith(("http://", "https://")):
                raise _bad(f"Param {message_type}['link'] must be an http(s) URL")
        else:
            _string(media, "id", message_type)
        caption = media.get("caption")
        if caption is not None:
            if message_type not in _CAPTIONED:
                raise _bad(f"Param {message_type} does not take a caption")
            _string(media, "caption", message_type, limit=CAPTION_MAX)
    elif message_type == "reaction":
        reaction = _object(body, "reaction")
        _string(reaction, "message_id", "reaction")
        if not isinstance(reaction.get("emoji", ""), str):
            raise _bad("Param reaction['emoji'] must be a string")
    elif message_type == "location":
        location = _object(body, "location")
        for key in ("latitude", "longitude"):
            if not isinstance(location.get(key), int | float):
                raise _bad(f"Param location['{key}'] is required and must be a number")
    elif message_type == "contacts":
        if not isinstance(body.get("contacts"), list) or not body["contacts"]:
            raise _bad("Param contacts must be a non-empty list")
    elif message_type == "interactive":
        _check_interactive(_object(body, "interactive"))
    elif message_type == "template":
        template = _object(body, "template")
        _string(template, "name", "template")
        language = template.get("language")
        if not isinstance(language, dict):
            raise _bad("Param template['language'] is required and must be an object")
        _string(language, "code", "template['language']")


def _check_interactive(interactive: dict[str, Any]) -> None:
    kind = _string(interactive, "type", "interactive")
    body = interactive.get("body")
    if isinstance(body, dict) and "text" in body:
        _string(body, "text", "interactive['body']", limit=1024)
    if kind != "button":
        return
    action = interactive.get("action")
    buttons = action.get("buttons") if isinstance(action, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise _bad("Param interactive['action']['buttons'] must have 1 to 3 buttons")
    titles: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            raise _bad("Each button needs a reply object")
        _string(reply, "id", "button['reply']", limit=256)
        title = _string(reply, "title", "button['reply']", limit=20)
        if title in titles:
            raise _bad("Button titles must be unique")
        titles.add(title)
