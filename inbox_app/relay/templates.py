"""Message templates: synced from the WhatsApp Business Account, cached, and used to check a
template send's parameters before it leaves (Meta would answer 132000 / 132001 later)."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from sqlalchemy import select, update

from inbox_app.whatsapp.graph import GraphClient

from .db import Database, templates

log = logging.getLogger("inbox.relay.templates")

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
SYNC_INTERVAL = 15 * 60.0


def waba_id() -> str | None:
    """The WhatsApp Business Account whose templates we use (``WHATSAPP_WABA_ID``)."""
    return os.environ.get("WHATSAPP_WABA_ID") or os.environ.get("WHATSAPP_BUSINESS_ACCOUNT_ID")


class TemplateProblem(Exception):
    """A template send that Meta would refuse; the message says why, for staff."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    language: str
    status: str
    category: str | None
    parameter_format: str  # POSITIONAL | NAMED
    components: list[dict[str, Any]] = field(default_factory=list)

    def _component(self, kind: str) -> dict[str, Any] | None:
        for comp in self.components:
            if str(comp.get("type", "")).upper() == kind:
                return comp
        return None

    def placeholders(self, kind: str) -> list[str]:
        comp = self._component(kind)
        text = comp.get("text") if comp is not None else None
        if not isinstance(text, str):
            return []
        seen: list[str] = []
        for name in PLACEHOLDER.findall(text):
            if name not in seen:
                seen.append(name)
        return seen

    def url_buttons(self) -> list[tuple[int, int]]:
        """(index, number of placeholders) of buttons that take a parameter."""
        comp = self._component("BUTTONS")
        found = []
        for index, button in enumerate((comp or {}).get("buttons") or []):
            if isinstance(button, dict) and str(button.get("type", "")).upper() == "URL":
                count = len(PLACEHOLDER.findall(str(button.get("url", ""))))
                if count:
                    found.append((index, count))
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "header_params": self.placeholders("HEADER"),
            "body_params": self.placeholders("BODY"),
            "button_params": [{"index": i, "count": n} for i, n in self.url_buttons()],
            "body": (self._component("BODY") or {}).get("text"),
        }

    def render(self, body: list[str] | dict[str, str]) -> str:
        """The body as the patient will read it (for the staff's own view)."""
        text = str((self._component("BODY") or {}).get("text") or "")
        values = body if isinstance(body, dict) else {str(i + 1): v for i, v in enumerate(body)}
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def graph_payload(
        self,
        *,
        header: list[str],
        body: list[str] | dict[str, str],
        buttons: dict[int, list[str]],
    ) -> dict[str, Any]:
        """Check the parameters against the template; the ``template`` object to send."""
        if self.status != "APPROVED":
            raise TemplateProblem(f"The template '{self.name}' is not approved.")
        named = self.parameter_format == "NAMED"
        wanted = self.placeholders("BODY")
        components: list[dict[str, Any]] = []
        head = self.placeholders("HEADER")
        if len(header) != len(head):
            raise TemplateProblem(
                f"The template header needs {len(head)} value(s), {len(header)} given."
            )
        if head:
            components.append(
                {"type": "header", "parameters": [{"type": "text", "text": v} for v in header]}
            )
        if named:
            if not isinstance(body, dict) or sorted(body) != sorted(wanted):
                raise TemplateProblem(
                    "The template needs the named values " + ", ".join(wanted or ["(none)"]) + "."
                )
            params = [{"type": "text", "parameter_name": k, "text": body[k]} for k in wanted]
        else:
            if not isinstance(body, list) or len(body) != len(wanted):
                given = len(body) if isinstance(body, list | dict) else 0
                raise TemplateProblem(
                    f"The template text needs {len(wanted)} value(s), {given} given."
                )
            params = [{"type": "text", "text": v} for v in body]
        for value in header + (list(body.values()) if isinstance(body, dict) else body):
            if not value.strip():
                raise TemplateProblem("Template values may not be empty.")
            if "\n" in value or "\t" in value or "    " in value:
                raise TemplateProblem(
                    "Template values may not contain new lines, tabs or four spaces."
                )
        if params:
            components.append({"type": "body", "parameters": params})
        expected_buttons = dict(self.url_buttons())
        if set(buttons) != set(expected_buttons):
            raise TemplateProblem("The template's link buttons need their values.")
        for index, values in sorted(buttons.items()):
            if len(values) != expected_buttons[index]:
                raise TemplateProblem(
                    f"Button {index + 1} needs {expected_buttons[index]} value(s)."
                )
            components.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": str(index),
                    "parameters": [{"type": "text", "text": v} for v in values],
                }
            )
        payload: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if components:
            payload["components"] = components
        return payload


def _row_template(row: Any) -> Template:
    return Template(
        name=row.name,
        language=row.language,
        status=row.status,
        category=row.category,
        parameter_format=row.parameter_format or "POSITIONAL",
        components=json.loads(row.components or "[]"),
    )


class TemplateCache:
    """The templates table: filled by sync and by template webhooks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def replace_from_graph(self, found: list[dict[str, Any]], *, now: float | None = None) -> int:
        now = time.time() if now is None else now
        count = 0
        with self.db.write() as conn:
            for tpl in found:
                name, language = tpl.get("name"), tpl.get("language")
                if not isinstance(name, str) or not isinstance(language, str):
                    continue
                values = {
                    "template_id": str(tpl.get("id")) if tpl.get("id") is not None else None,
                    "status": str(tpl.get("status") or "UNKNOWN").upper(),
                    "category": str(tpl.get("category") or "").upper() or None,
                    "quality": (tpl.get("quality_score") or {}).get("score")
                    if isinstance(tpl.get("quality_score"), dict)
                    else None,
                    "parameter_format": str(tpl.get("parameter_format") or "POSITIONAL").upper(),
                    "components": json.dumps(tpl.get("components") or [], separators=(",", ":")),
                    "updated_at": now,
                }
                updated = conn.execute(
                    update(templates)
                    .where(templates.c.name == name, templates.c.language == language)
                    .values(**values)
                )
                if updated.rowcount == 0:
                    conn.execute(templates.insert().values(name=name, language=language, **values))
                count += 1
        return count

    def approved(self) -> list[Template]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(templates)
                .where(templates.c.status == "APPROVED")
                .order_by(templates.c.name, templates.c.language)
            ).all()
        return [_row_template(r) for r in rows]

    def get(self, name: str, language: str) -> Template | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(templates).where(templates.c.name == name, templates.c.language == language)
            ).one_or_none()
        return _row_template(row) if row is not None else None


async def sync_templates(cache: TemplateCache, graph: GraphClient, waba: str) -> int:
    """Fetch every template of the WABA and cache it; returns how many."""
    found = await graph.message_templates(waba)
    count = await to_thread.run_sync(cache.replace_from_graph, found)
    log.info("synced %d templates", count)
    return count
