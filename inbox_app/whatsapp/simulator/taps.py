"""A virtual patient tapping a button of the last message that had some: a template's
quick-reply button, a reply button, or a list row (the demo scenario and tests use it, so
the reply carries exactly the payload the business sent)."""

from __future__ import annotations

from typing import Any

from inbox_app.whatsapp.simulator.inbound import InboundReply
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.store import SentMessage
from inbox_app.whatsapp.simulator.templates_api import templates_of


def _template_choices(runtime: Runtime, template: dict[str, Any]) -> list[tuple[str, str]]:
    """(payload, button text) of each quick-reply button the send filled in."""
    language = (template.get("language") or {}).get("code")
    texts: list[str] = []
    for tpl in templates_of(runtime):
        if tpl.get("name") == template.get("name") and tpl.get("language") == language:
            for comp in tpl.get("components") or []:
                if str(comp.get("type", "")).upper() == "BUTTONS":
                    texts = [str(b.get("text", "")) for b in comp.get("buttons") or []]
    found = []
    for comp in template.get("components") or []:
        if str(comp.get("type", "")).lower() != "button":
            continue
        if str(comp.get("sub_type", "")).lower() != "quick_reply":
            continue
        index = int(comp.get("index", 0))
        params = comp.get("parameters") or [{}]
        payload = str(params[0].get("payload") or "")
        found.append((payload, texts[index] if index < len(texts) else payload))
    return found


def choices(runtime: Runtime, sent: SentMessage) -> tuple[str, list[tuple[str, str, str | None]]]:
    """The kind of tap a message offers and its (id, title, description) choices."""
    payload = sent.payload
    if sent.type == "template":
        taps = _template_choices(runtime, payload.get("template") or {})
        return "button", [(p, t, None) for p, t in taps]
    if sent.type == "interactive":
        interactive = payload.get("interactive") or {}
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            return "button_reply", [
                (str(b["reply"]["id"]), str(b["reply"]["title"]), None)
                for b in action.get("buttons") or []
            ]
        if interactive.get("type") == "list":
            return "list_reply", [
                (str(r["id"]), str(r["title"]), r.get("description"))
                for s in action.get("sections") or []
                for r in s.get("rows") or []
            ]
    return "", []


def tap_last(
    runtime: Runtime, wa_id: str, name: str, index: int, *, kind: str | None = None
) -> InboundReply | None:
    """The reply to the ``index``-th choice of the newest message to ``wa_id`` offering
    choices (of ``kind`` if given); None when there is none (yet) or it has fewer."""
    for sent in reversed(runtime.store.sent):
        if sent.wa_id != wa_id:
            continue
        offered, options = choices(runtime, sent)
        if not options or (kind is not None and offered != kind):
            continue
        if index >= len(options):
            return None
        reply_id, title, description = options[index]
        return InboundReply(
            wa_id=wa_id,
            name=name,
            kind=offered,
            reply_id=reply_id,
            title=title,
            description=description,
            reply_to=sent.wamid,
        )
    return None
