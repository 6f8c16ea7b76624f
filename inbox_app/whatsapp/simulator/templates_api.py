"""Message templates: ``GET /{version}/{waba_id}/message_templates``, and the checks Meta
makes when a template is sent (132001 unknown, 132000 parameter count)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from inbox_app.whatsapp.simulator.errors import GraphError, graph_headers
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.send_api import authorize

_VERSION = re.compile(r"v\d+\.\d+")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def default_templates() -> list[dict[str, Any]]:
    """What a clinic's WABA typically holds: approved reminders, one pending, one named."""
    return [
        {
            "id": "1000000000000001",
            "name": "appointment_confirmation",
            "language": "de",
            "status": "APPROVED",
            "category": "UTILITY",
            "parameter_format": "POSITIONAL",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Termin {{1}}"},
                {
                    "type": "BODY",
                    "text": "Hallo {{1}}, Ihr Termin ist am {{2}}. Bitte antworten Sie kurz.",
                    "example": {"body_text": [["Erika", "Montag, 9 Uhr"]]},
                },
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "QUICK_REPLY", "text": "Passt"},
                        {
                            "type": "URL",
                            "text": "Verschieben",
                            "url": "https://praxis.example/t/{{1}}",
                        },
                    ],
                },
            ],
        },
        {
            "id": "1000000000000005",
            "name": "appointment_reminder",
            "language": "de",
            "status": "APPROVED",
            "category": "UTILITY",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Erinnerung an Ihren Termin morgen."}],
        },
        {
            "id": "1000000000000002",
            "name": "hello_world",
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Hello from the practice."}],
        },
        {
            "id": "1000000000000003",
            "name": "results_ready",
            "language": "de",
            "status": "APPROVED",
            "category": "UTILITY",
            "parameter_format": "NAMED",
            "components": [
                {
                    "type": "BODY",
                    "text": "Guten Tag {{first_name}}, Ihre Befunde vom {{date}} liegen vor.",
                    "example": {
                        "body_text_named_params": [
                            {"param_name": "first_name", "example": "Erika"},
                            {"param_name": "date", "example": "3.11."},
                        ]
                    },
                }
            ],
        },
        {
            "id": "1000000000000004",
            "name": "spring_offer",
            "language": "de",
            "status": "PENDING",
            "category": "MARKETING",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Neu: Reiseimpfungen."}],
        },
        *appointment_templates(),
        *video_visit_templates(),
    ]


def _body_templates(
    name: str, id_prefix: str, texts: tuple[tuple[str, str, str], ...]
) -> list[dict[str, Any]]:
    """An approved utility template with one body per language: (id suffix, language, text)."""
    return [
        {
            "id": f"{id_prefix}{n}",
            "name": name,
            "language": lang,
            "status": "APPROVED",
            "category": "UTILITY",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": text}],
        }
        for n, lang, text in texts
    ]


def video_visit_templates() -> list[dict[str, Any]]:
    """The video-visit invitation (relay calls.py) for patients outside the 24-hour window:
    a utility template whose one value is the clinic's video link."""
    return _body_templates(
        "video_visit",
        "10000000000003",
        (
            (
                "10",
                "de",
                "Guten Tag, Ihre Praxis möchte mit Ihnen per Video sprechen. "
                "Bitte treten Sie hier bei: {{1}}",
            ),
            (
                "11",
                "en",
                "Hello, your practice would like to talk with you by video. "
                "Please join here: {{1}}",
            ),
        ),
    )


def _quick_replies(body: str, buttons: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"type": "BODY", "text": body},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": b} for b in buttons]},
    ]


def appointment_templates() -> list[dict[str, Any]]:
    """Utility templates of the relay's automation (reminder_sender.py, satisfaction.py):
    the reminder with Confirm / Reschedule / Cancel, the post-visit follow-up, the
    satisfaction question; in German and English."""
    found: list[dict[str, Any]] = []
    specs: tuple[tuple[str, str, list[dict[str, Any]]], ...] = (
        (
            "appointment_reminder_actions",
            "de",
            _quick_replies(
                "Hallo {{1}}, wir erinnern Sie an Ihren Termin am {{2}} um {{3}} Uhr. "
                "Bitte bestätigen, verschieben oder sagen Sie ihn hier ab.",
                ("Bestätigen", "Verschieben", "Absagen"),
            ),
        ),
        (
            "appointment_reminder_actions",
            "en",
            _quick_replies(
                "Hello {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. "
                "Please confirm, reschedule or cancel it here.",
                ("Confirm", "Reschedule", "Cancel"),
            ),
        ),
        (
            "visit_follow_up",
            "de",
            [
                {
                    "type": "BODY",
                    "text": "Hallo {{1}}, vielen Dank für Ihren Besuch. Wenn Sie noch Fragen "
                    "haben, schreiben Sie uns einfach hier.",
                }
            ],
        ),
        (
            "visit_follow_up",
            "en",
            [
                {
                    "type": "BODY",
                    "text": "Hello {{1}}, thank you for your visit. If you have any questions, "
                    "just write to us here.",
                }
            ],
        ),
        (
            "satisfaction_survey",
            "de",
            _quick_replies(
                "Wie zufrieden waren Sie mit unserer Antwort?",
                ("😊 Zufrieden", "😐 Es geht", "☹️ Unzufrieden"),
            ),
        ),
        (
            "satisfaction_survey",
            "en",
            _quick_replies(
                "How satisfied were you with our answer?",
                ("😊 Satisfied", "😐 Okay", "☹️ Unsatisfied"),
            ),
        ),
    )
    for n, (name, lang, components) in enumerate(specs):
        found.append(
            {
                "id": f"10000000000003{n:02d}",
                "name": name,
                "language": lang,
                "status": "APPROVED",
                "category": "UTILITY",
                "parameter_format": "POSITIONAL",
                "components": components,
            }
        )
    return found


def result_templates() -> list[dict[str, Any]]:
    """Templates for phi-safe results (relay results.py): a neutral notice with the page's
    link, and the one-time code as Meta's authentication template (copy-code button). Not
    in the default catalogue; add them with ``SimulatorSettings(templates=...)``."""
    return [
        *_body_templates(
            "result_link",
            "10000000000001",
            (
                (
                    "10",
                    "de",
                    "Guten Tag, Ihre Praxis hat eine Nachricht für Sie hinterlegt. "
                    "Öffnen Sie sie hier (gültig bis {{1}}): {{2}}",
                ),
                (
                    "11",
                    "en",
                    "Hello, your practice has left a message for you. "
                    "Open it here (valid until {{1}}): {{2}}",
                ),
            ),
        ),
        *(
            {
                "id": f"10000000000001{n}",
                "name": "verification_code",
                "language": lang,
                "status": "APPROVED",
                "category": "AUTHENTICATION",
                "parameter_format": "POSITIONAL",
                "components": [
                    {"type": "BODY", "text": text},
                    {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
                ],
            }
            for n, lang, text in (
                ("20", "de", "{{1}} ist Ihr Bestätigungscode."),
                ("21", "en", "{{1}} is your verification code."),
            )
        ),
    ]


_DEFAULT = default_templates()


def templates_of(runtime: Runtime) -> list[dict[str, Any]]:
    """The WABA's templates: configured ones, else the default catalogue."""
    configured = runtime.settings.templates
    return configured if configured is not None else _DEFAULT


def _find(runtime: Runtime, name: str, language: str) -> dict[str, Any] | None:
    for tpl in templates_of(runtime):
        if tpl.get("name") == name and tpl.get("language") == language:
            return tpl
    return None


def _component(tpl: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for comp in tpl.get("components") or []:
        if isinstance(comp, dict) and str(comp.get("type", "")).upper() == kind:
            return comp
    return None


def _placeholders(text: Any) -> list[str]:
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(text if isinstance(text, str) else ""):
        if name not in seen:
            seen.append(name)
    return seen


def check_template_send(runtime: Runtime, template: dict[str, Any]) -> None:
    """Raise Meta's errors for an unknown template or a wrong number of parameters."""
    name = template.get("name")
    lang = template.get("language")
    language = lang.get("code") if isinstance(lang, dict) else None
    tpl = _find(runtime, str(name), str(language))
    if tpl is None or tpl.get("status") != "APPROVED":
        raise GraphError(
            http_status=404,
            code=132001,
            details=f"template name ({name}) does not exist in {language}",
        )
    given: dict[str, list[Any]] = {}
    for comp in template.get("components") or []:
        if not isinstance(comp, dict):
            raise GraphError.invalid_parameter("Each template component must be an object")
        # Meta matches component types case-insensitively ("BODY" and "body").
        kind = str(comp.get("type", "")).upper()
        params = comp.get("parameters") or []
        if kind == "BUTTON":
            kind = f"BUTTON{comp.get('index', '0')}"
        given.setdefault(kind, []).extend(params if isinstance(params, list) else [])
    for kind in ("HEADER", "BODY"):
        comp = _component(tpl, kind)
        wanted = _placeholders(comp.get("text")) if comp is not None else []
        params = given.get(kind, [])
        if len(params) != len(wanted):
            raise GraphError(
                http_status=400,
                code=132000,
                details=(
                    f"{kind.lower()}: number of localizable_params ({len(params)}) does not"
                    f" match the expected number of params ({len(wanted)})"
                ),
            )
        if tpl.get("parameter_format") == "NAMED" and kind == "BODY":
            names = sorted(str(p.get("parameter_name")) for p in params if isinstance(p, dict))
            if names != sorted(wanted):
                raise GraphError(
                    http_status=400, code=132000, details="parameter names do not match"
                )
    buttons = (_component(tpl, "BUTTONS") or {}).get("buttons") or []
    for index, button in enumerate(buttons):
        wanted = (
            _placeholders(button.get("url")) if str(button.get("type")).upper() == "URL" else []
        )
        params = given.get(f"BUTTON{index}", [])
        if wanted and len(params) != len(wanted):
            raise GraphError(
                http_status=400,
                code=132000,
                details=f"button {index}: expected {len(wanted)} parameter(s)",
            )


def build_router(runtime: Runtime) -> APIRouter:
    """The template listing of the simulated WABA."""
    router = APIRouter()

    @router.get("/{version}/{waba_id}/message_templates")
    async def message_templates(
        version: str, waba_id: str, request: Request, limit: int = 25, after: str | None = None
    ) -> JSONResponse:
        if not _VERSION.fullmatch(version):
            raise GraphError.invalid_parameter(f"Unknown Graph API version '{version}'")
        authorize(request, runtime.settings.access_token)
        if waba_id != runtime.settings.waba_id:
            raise GraphError.invalid_parameter(f"Unknown WhatsApp Business Account '{waba_id}'")
        everything = templates_of(runtime)
        start = int(after) if after and after.isdigit() else 0
        page = everything[start : start + max(1, min(limit, 100))]
        body: dict[str, Any] = {
            "data": [with_examples(t) for t in page],
            "paging": {"cursors": {"before": str(start), "after": str(start + len(page))}},
        }
        if start + len(page) < len(everything):
            base = str(request.url).split("?")[0]
            body["paging"]["next"] = f"{base}?limit={limit}&after={start + len(page)}"
        if request.query_params.get("summary"):
            # Graph adds aggregates only when asked (?summary=total_count,…); pywa asks.
            known = {
                "total_count": len(everything),
                "message_template_count": len(everything),
                "message_template_limit": 6000,
                "are_translations_complete": True,
            }
            asked = request.query_params["summary"].split(",")
            body["summary"] = {k: v for k, v in known.items() if k in asked}
        return JSONResponse(body, headers=graph_headers(version))

    return router


def with_examples(template: dict[str, Any]) -> dict[str, Any]:
    """The template as Graph lists it: every component with variables carries ``example``
    values (Meta refuses to create one without them), synthesised where a test left them out.
    """
    named = template.get("parameter_format") == "NAMED"
    components = []
    for component in template.get("components", []):
        component = dict(component)
        kind = str(component.get("type", "")).upper()
        names = _placeholders(component.get("text"))
        if kind in ("HEADER", "BODY") and names and "example" not in component:
            key = "header_text" if kind == "HEADER" else "body_text"
            if named:
                component["example"] = {
                    f"{key}_named_params": [{"param_name": n, "example": f"<{n}>"} for n in names]
                }
            else:
                values = [f"<{n}>" for n in names]
                component["example"] = {key: values if kind == "HEADER" else [values]}
        if kind == "BUTTONS":
            buttons = []
            for button in component.get("buttons", []):
                button = dict(button)
                if button.get("type") == "URL" and _placeholders(button.get("url")):
                    button.setdefault("example", [_PLACEHOLDER.sub("example", button["url"])])
                buttons.append(button)
            component["buttons"] = buttons
        components.append(component)
    return {**template, "components": components}
