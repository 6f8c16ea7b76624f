"""What staff may send, checked against WhatsApp's limits before anything is queued, and the
Graph ``/messages`` body the outbox sends for it.

``{"client_id", "type": "text", "text"}`` keeps working exactly as before; the other types
add fields (see docs/protocol.md).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from inbox_app.whatsapp.graph import GraphClient, GraphUnavailable

from .db import media
from .media import MediaRejected, check
from .store import Store

TEXT_MAX = 4096
CAPTION_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
LIST_BUTTON_MAX = 20
HEADER_MAX = 60
FOOTER_MAX = 60
INTERACTIVE_BODY_MAX = 1024
FILENAME_MAX = 240


class ReplyButton(BaseModel):
    id: str
    title: str


class ListRow(BaseModel):
    id: str
    title: str
    description: str | None = None


class ListSection(BaseModel):
    title: str | None = None
    rows: list[ListRow]


class TemplateButton(BaseModel):
    index: int = Field(ge=0, le=9)
    values: list[str]


class TemplateChoice(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=16)
    header: list[str] = Field(default_factory=list, max_length=1)
    # Positional ({{1}}, {{2}} …) as a list, named ({{first_name}}) as an object.
    body: list[str] | dict[str, str] = Field(default_factory=list)
    buttons: list[TemplateButton] = Field(default_factory=list, max_length=10)


class SendBody(BaseModel):
    """``POST /v1/conversations/{id}/messages``."""

    client_id: UUID
    type: Literal["text", "reaction", "image", "document", "buttons", "list", "template"] = "text"
    text: str | None = Field(default=None, max_length=TEXT_MAX)  # body, caption or prompt
    preview_url: bool = False
    reply_to: int | None = Field(default=None, ge=1)  # a message id in this conversation
    # reaction
    target_id: int | None = Field(default=None, ge=1)
    emoji: str | None = Field(default=None, max_length=16)  # "" removes the reaction
    # image / document: the file itself, base64
    data: str | None = None
    mime_type: str | None = Field(default=None, max_length=128)
    filename: str | None = Field(default=None, max_length=FILENAME_MAX)
    # buttons / list
    buttons: list[ReplyButton] | None = None
    button_text: str | None = None
    sections: list[ListSection] | None = None
    header: str | None = None
    footer: str | None = None
    # template
    template: TemplateChoice | None = None
    # send later (scheduled.py): unix time inside the 24-hour window
    send_at: float | None = Field(default=None, gt=0)


class Invalid(Exception):
    """A send WhatsApp would refuse; the message tells staff what to change."""


@dataclass(slots=True)
class Prepared:
    type: str  # what the message row says: text | image | document | reaction | interactive …
    text: str | None
    details: dict[str, Any] = field(default_factory=dict)
    file: bytes | None = None
    mime_type: str | None = None
    is_template: bool = False
    target_id: int | None = None  # reaction: the message it applies to


def _limit(value: str | None, limit: int, what: str, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise Invalid(f"{what} is required.")
        return None
    if len(value) > limit:
        raise Invalid(f"{what} may have at most {limit} characters.")
    return value


def prepare(body: SendBody) -> Prepared:
    """Check limits (WhatsApp's, §3 of the Cloud API notes) and shape the message."""
    kind = body.type
    if kind == "text":
        text = _limit(body.text, TEXT_MAX, "The message", required=True)
        assert text is not None
        details = {"preview_url": True} if body.preview_url else {}
        return Prepared(type="text", text=text.strip(), details=details)
    if kind == "reaction":
        if body.target_id is None or body.emoji is None:
            raise Invalid("A reaction needs the message (target_id) and an emoji.")
        return Prepared(
            type="reaction",
            text=body.emoji or None,
            details={"reaction": {"emoji": body.emoji}},
            target_id=body.target_id,
        )
    if kind in ("image", "document"):
        return _prepare_file(body, kind)
    if kind == "buttons":
        return _prepare_buttons(body)
    if kind == "list":
        return _prepare_list(body)
    if body.template is None:
        raise Invalid("Choose a template.")
    return Prepared(type="template", text=None, is_template=True)


def _prepare_file(body: SendBody, kind: str) -> Prepared:
    if not body.data or not body.mime_type:
        raise Invalid("Attach the file (data and mime_type).")
    try:
        data = base64.b64decode(body.data, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("The file is not valid base64.") from None
    try:
        mime = check(kind, data, None, None)
    except MediaRejected as exc:
        raise Invalid(str(exc)) from None
    caption = _limit(body.text, CAPTION_MAX, "The caption")
    filename = body.filename if kind == "document" else None
    if kind == "document" and not filename:
        raise Invalid("A document needs a file name.")
    return Prepared(
        type=kind,
        text=caption,
        details={
            "media": {"kind": kind, "mime_type": mime, "filename": filename, "caption": caption}
        },
        file=data,
        mime_type=mime,
    )


def _common_interactive(body: SendBody) -> dict[str, Any]:
    prompt = _limit(body.text, INTERACTIVE_BODY_MAX, "The message text", required=True)
    interactive: dict[str, Any] = {"body": {"text": prompt}}
    header = _limit(body.header, HEADER_MAX, "The header")
    if header:
        interactive["header"] = {"type": "text", "text": header}
    footer = _limit(body.footer, FOOTER_MAX, "The footer")
    if footer:
        interactive["footer"] = {"text": footer}
    return interactive


def _prepare_buttons(body: SendBody) -> Prepared:
    buttons = body.buttons or []
    if not 1 <= len(buttons) <= BUTTONS_MAX:
        raise Invalid(f"Reply buttons: 1 to {BUTTONS_MAX} buttons.")
    titles, ids = set(), set()
    for button in buttons:
        _limit(button.title, BUTTON_TITLE_MAX, "A button title", required=True)
        _limit(button.id, BUTTON_ID_MAX, "A button id", required=True)
        if button.title in titles or button.id in ids:
            raise Invalid("Button titles and ids must be unique.")
        titles.add(button.title)
        ids.add(button.id)
    interactive = _common_interactive(body)
    interactive["type"] = "button"
    interactive["action"] = {
        "buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in buttons]
    }
    return Prepared(
        type="interactive", text=interactive["body"]["text"], details={"interactive": interactive}
    )


def _prepare_list(body: SendBody) -> Prepared:
    sections = body.sections or []
    if not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        raise Invalid(f"A list needs 1 to {LIST_SECTIONS_MAX} sections.")
    rows = [row for section in sections for row in section.rows]
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        raise Invalid(f"A list has 1 to {LIST_ROWS_MAX} rows in total.")
    if len(sections) > 1 and any(not s.title for s in sections):
        raise Invalid("With several sections, each needs a title.")
    ids: set[str] = set()
    for section in sections:
        _limit(section.title, SECTION_TITLE_MAX, "A section title")
        if not section.rows:
            raise Invalid("Every section needs at least one row.")
    for row in rows:
        _limit(row.id, ROW_ID_MAX, "A row id", required=True)
        _limit(row.title, ROW_TITLE_MAX, "A row title", required=True)
        _limit(row.description, ROW_DESCRIPTION_MAX, "A row description")
        if row.id in ids:
            raise Invalid("Row ids must be unique.")
        ids.add(row.id)
    label = _limit(body.button_text, LIST_BUTTON_MAX, "The list button text", required=True)
    interactive = _common_interactive(body)
    interactive["type"] = "list"
    interactive["action"] = {
        "button": label,
        "sections": [
            {
                **({"title": s.title} if s.title else {}),
                "rows": [
                    {
                        "id": r.id,
                        "title": r.title,
                        **({"description": r.description} if r.description else {}),
                    }
                    for r in s.rows
                ],
            }
            for s in sections
        ],
    }
    return Prepared(
        type="interactive", text=interactive["body"]["text"], details={"interactive": interactive}
    )


def graph_payload(job: dict[str, Any], *, media_id: str | None = None) -> dict[str, Any]:
    """The ``/messages`` body for a claimed outbox job (without messaging_product)."""
    kind: str = job["type"]
    details: dict[str, Any] = job.get("details") or {}
    # What staff must not read (result link, one-time code) replaces the shown text/template.
    private: dict[str, Any] = details.get("_private") or {}
    payload: dict[str, Any] = {"to": job["to"]}
    if kind == "text":
        payload.update(
            type="text",
            text={
                "body": private.get("text") or job["text"] or "",
                "preview_url": bool(details.get("preview_url")),
            },
        )
    elif kind in ("image", "document"):
        info = details.get("media") or {}
        media: dict[str, Any] = {"id": media_id}
        if info.get("caption"):
            media["caption"] = info["caption"]
        if kind == "document" and info.get("filename"):
            media["filename"] = info["filename"]
        payload.update({"type": kind, kind: media})
    elif kind == "reaction":
        reaction = details.get("reaction") or {}
        payload.update(
            type="reaction",
            reaction={"message_id": reaction.get("target_wamid"), "emoji": reaction.get("emoji")},
        )
    elif kind == "interactive":
        payload.update(type="interactive", interactive=details["interactive"])
    elif kind == "template":
        payload.update(type="template", template=private.get("template") or details["template"])
    else:
        raise ValueError(f"cannot send a {kind} message")
    if job.get("reply_to") and kind != "reaction":
        payload["context"] = {"message_id": job["reply_to"]}
    return payload


async def ensure_uploaded(store: Store, graph: GraphClient, job: dict[str, Any]) -> str | None:
    """For image/document sends: the WhatsApp media id, uploading the file the first time."""
    if job["type"] not in ("image", "document"):
        return None
    message_id = job["message_id"]

    def load() -> Any:
        with store.db.read() as conn:
            return conn.execute(
                select(
                    media.c.id, media.c.media_id, media.c.path, media.c.mime_type, media.c.filename
                ).where(media.c.message_id == message_id)
            ).one()

    row = await to_thread.run_sync(load)
    if row.media_id:
        return str(row.media_id)
    data = await to_thread.run_sync(store.db.vault.read, Path(row.path))
    try:
        media_id = await graph.upload_media(
            data, mime_type=row.mime_type, filename=row.filename or f"file-{row.id}"
        )
    except GraphUnavailable as exc:
        # An upload can simply be repeated: never ambiguous.
        raise GraphUnavailable(str(exc), ambiguous=False) from None

    def remember() -> None:
        with store.db.write() as conn:
            conn.execute(update(media).where(media.c.id == row.id).values(media_id=media_id))

    await to_thread.run_sync(remember)
    return media_id
