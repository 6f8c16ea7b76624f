"""The phi-safe result page the patient opens from the WhatsApp notification.

``GET /r/{token}``: date of birth → ``POST /r/{token}/code`` (a one-time code goes out by
WhatsApp through the outbox) → ``POST /r/{token}/verify`` (sets a short session cookie)
→ ``GET /r/{token}/view`` → ``GET /r/{token}/file``. Plain HTML forms, no script, no
external asset; German and English (Accept-Language, ``?lang=``). Wrong answers count
towards a lock; the link and the code expire; every view and download is audited.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .access import client_address
from .audit import Action
from .results import LinkState, PageOutcome, ResultService

router = APIRouter(include_in_schema=False)

COOKIE = "inbox_result_session"
MAX_FORM = 4096

TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Ihre Praxis",
        "intro": "Ihre Praxis hat ein Dokument für Sie bereitgestellt. "
        "Bitte bestätigen Sie zuerst, dass Sie es sind.",
        "dob": "Geburtsdatum (TT.MM.JJJJ)",
        "send_code": "Code per WhatsApp senden",
        "code_sent": "Wir haben Ihnen per WhatsApp einen 6-stelligen Code geschickt. "
        "Er ist 10 Minuten gültig.",
        "code": "Code",
        "verify": "Bestätigen",
        "new_code": "Neuen Code anfordern",
        "wrong_dob": "Das Geburtsdatum stimmt nicht.",
        "wrong_code": "Der Code stimmt nicht.",
        "remaining": "Noch {n} Versuch(e), dann wird der Link gesperrt.",
        "code_expired": "Der Code ist abgelaufen. Bitte fordern Sie einen neuen an.",
        "no_code": "Bitte fordern Sie zuerst einen Code an.",
        "too_many_codes": "Es wurden zu viele Codes angefordert. Bitte rufen Sie Ihre Praxis an.",
        "cannot_send": "Der Code kann gerade nicht gesendet werden. "
        "Bitte schreiben Sie Ihrer Praxis kurz per WhatsApp und versuchen Sie es erneut.",
        "expired": "Dieser Link ist abgelaufen. Bitte wenden Sie sich an Ihre Praxis.",
        "locked": "Dieser Link wurde nach zu vielen Fehlversuchen gesperrt. "
        "Bitte wenden Sie sich an Ihre Praxis.",
        "unknown": "Dieser Link ist ungültig.",
        "session": "Bitte bestätigen Sie sich erneut.",
        "ready": "Ihr Dokument",
        "pages": "{n} Seite(n)",
        "download": "Herunterladen",
        "open": "Öffnen",
        "privacy": "Teilen Sie diesen Link und den Code mit niemandem.",
        "other": "English",
    },
    "en": {
        "title": "Your practice",
        "intro": "Your practice has shared a document with you. "
        "Please first confirm that it is you.",
        "dob": "Date of birth (DD.MM.YYYY)",
        "send_code": "Send code by WhatsApp",
        "code_sent": "We sent you a 6-digit code by WhatsApp. It is valid for 10 minutes.",
        "code": "Code",
        "verify": "Confirm",
        "new_code": "Request a new code",
        "wrong_dob": "The date of birth is not correct.",
        "wrong_code": "The code is not correct.",
        "remaining": "{n} attempt(s) left before the link is locked.",
        "code_expired": "The code has expired. Please request a new one.",
        "no_code": "Please request a code first.",
        "too_many_codes": "Too many codes were requested. Please call your practice.",
        "cannot_send": "The code cannot be sent right now. Please send your practice a short "
        "WhatsApp message and try again.",
        "expired": "This link has expired. Please contact your practice.",
        "locked": "This link was locked after too many wrong attempts. "
        "Please contact your practice.",
        "unknown": "This link is not valid.",
        "session": "Please confirm again.",
        "ready": "Your document",
        "pages": "{n} page(s)",
        "download": "Download",
        "open": "Open",
        "privacy": "Do not share this link or the code with anyone.",
        "other": "Deutsch",
    },
}

_CSS = """
*{box-sizing:border-box}body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,sans-serif;background:#f3f5f4;color:#1c2421}main{max-width:28rem;margin:0 auto;
padding:1.25rem}header{display:flex;justify-content:space-between;align-items:center}
h1{font-size:1.3rem;margin:.5rem 0 1rem}.card{background:#fff;border-radius:12px;
padding:1.1rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}label{display:block;font-weight:600;
margin:.6rem 0 .3rem}input{width:100%;font-size:1.15rem;padding:.7rem;border:1px solid
#98a7a0;border-radius:8px}button,.button{display:block;width:100%;margin-top:1rem;
padding:.8rem;font-size:1.05rem;font-weight:600;color:#fff;background:#1f6f54;border:0;
border-radius:8px;text-align:center;text-decoration:none}.secondary{background:#e7eeeb;
color:#1f6f54}.error{background:#fde8e8;color:#8a1c1c;border-radius:8px;padding:.7rem;
margin-bottom:.8rem}.note{color:#4d5b55;font-size:.9rem;margin-top:1rem}
a.lang{color:#1f6f54}img{max-width:100%;border-radius:8px;margin-top:.8rem}
"""

_HEADERS = {
    "Cache-Control": "no-store",
    # The token is in the URL: never sent on elsewhere, never framed, nothing external.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def language(request: Request, chosen: str | None = None) -> str:
    """``?lang=``/form choice, else the browser's first of German or English; German default."""
    if chosen in TEXT:
        return str(chosen)
    wanted = request.query_params.get("lang")
    if wanted in TEXT:
        return str(wanted)
    ranked = []
    for index, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = tag.strip().lower()[:2]
        if code in TEXT:
            ranked.append((-q, index, code))
    return sorted(ranked)[0][2] if ranked else "de"


def _page(lang: str, token: str, body: str, *, status: int = 200, switch: str = "") -> HTMLResponse:
    t = TEXT[lang]
    other = "en" if lang == "de" else "de"
    target = html.escape(f"/r/{token}{switch}?lang={other}")
    doc = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(t['title'])}</title><style>{_CSS}</style></head><body><main>"
        f"<header><h1>{html.escape(t['title'])}</h1>"
        f'<a class="lang" id="lang" href="{target}" hreflang="{other}">{t["other"]}</a></header>'
        f'<div class="card">{body}</div>'
        f'<p class="note">{html.escape(t["privacy"])}</p></main></body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers=_HEADERS)


def _error(lang: str, outcome: PageOutcome) -> str:
    t = TEXT[lang]
    if outcome.error is None:
        return ""
    key = {"dob": "wrong_dob", "code": "wrong_code"}.get(outcome.error, outcome.error)
    text = t.get(key, t["unknown"])
    if outcome.remaining is not None:
        text += " " + t["remaining"].format(n=outcome.remaining)
    return f'<p class="error" id="error" role="alert">{html.escape(text)}</p>'


def _closed(lang: str, token: str, state: LinkState) -> HTMLResponse:
    key = {LinkState.EXPIRED: "expired", LinkState.LOCKED: "locked"}.get(state, "unknown")
    status = 404 if state == LinkState.UNKNOWN else 410
    body = f'<p class="error" id="closed" role="alert">{html.escape(TEXT[lang][key])}</p>'
    return _page(lang, token, body, status=status)


def _dob_form(lang: str, token: str, outcome: PageOutcome | None = None) -> str:
    t = TEXT[lang]
    action = html.escape(f"/r/{token}/code")
    return (
        (_error(lang, outcome) if outcome else "")
        + f"<p>{html.escape(t['intro'])}</p>"
        + f'<form method="post" action="{action}"><input type="hidden" name="lang" value="{lang}">'
        f'<label for="dob">{html.escape(t["dob"])}</label>'
        '<input id="dob" name="dob" inputmode="numeric" autocomplete="bday" required '
        'maxlength="10" placeholder="31.12.1980">'
        f'<button id="send-code" type="submit">{html.escape(t["send_code"])}</button></form>'
    )


def _code_form(lang: str, token: str, outcome: PageOutcome | None = None) -> str:
    t = TEXT[lang]
    sent = f'<p id="code-sent">{html.escape(t["code_sent"])}</p>'
    return (
        (_error(lang, outcome) if outcome else "")
        + (sent if outcome is None or outcome.code_sent else "")
        + f'<form method="post" action="{html.escape(f"/r/{token}/verify")}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<label for="code">{html.escape(t["code"])}</label>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
        'required maxlength="6" pattern="[0-9]{6}">'
        f'<button id="verify" type="submit">{html.escape(t["verify"])}</button></form>'
        f'<p><a class="button secondary" id="new-code" href="{html.escape(f"/r/{token}")}'
        f'?lang={lang}">{html.escape(t["new_code"])}</a></p>'
    )


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    return {k: v[0] for k, v in parsed.items() if v}


def _service(request: Request) -> ResultService:
    service: ResultService = request.app.state.results
    return service


@router.get("/r/{token}")
async def start(request: Request, token: str) -> HTMLResponse:
    lang = language(request)
    service = _service(request)
    row = await to_thread.run_sync(service.by_token, token)
    state = service.link_state(row)
    if state != LinkState.OPEN:
        return _closed(lang, token, state)
    return _page(lang, token, _dob_form(lang, token))


@router.post("/r/{token}/code")
async def request_code(request: Request, token: str) -> HTMLResponse:
    form = await _form(request)
    lang = language(request, form.get("lang"))
    service = _service(request)
    outcome = await to_thread.run_sync(
        lambda: service.request_code(token, form.get("dob", ""), address=client_address(request))
    )
    if outcome.state != LinkState.OPEN:
        return _closed(lang, token, outcome.state)
    if outcome.code_sent:
        relay = request.app.state.relay
        relay.committed()
        if relay.worker is not None:
            relay.worker.wake()
        return _page(lang, token, _code_form(lang, token, outcome))
    return _page(lang, token, _dob_form(lang, token, outcome), status=422)


@router.post("/r/{token}/verify", response_model=None)
async def verify(request: Request, token: str) -> Response:
    form = await _form(request)
    lang = language(request, form.get("lang"))
    service = _service(request)
    outcome = await to_thread.run_sync(
        lambda: service.verify_code(token, form.get("code", ""), address=client_address(request))
    )
    if outcome.state != LinkState.OPEN:
        return _closed(lang, token, outcome.state)
    if outcome.session is None:
        if outcome.error in ("code_expired", "no_code"):
            return _page(lang, token, _dob_form(lang, token, outcome), status=422)
        return _page(lang, token, _code_form(lang, token, outcome), status=422)
    response = RedirectResponse(f"/r/{token}/view?lang={lang}", status_code=303)
    response.set_cookie(
        COOKIE,
        outcome.session,
        max_age=int(service.settings.session_minutes * 60),
        path=f"/r/{token}",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    response.headers.update(_HEADERS)
    return response


async def _viewer(request: Request, token: str) -> Any:
    service = _service(request)
    return await to_thread.run_sync(lambda: service.session_row(token, request.cookies.get(COOKIE)))


@router.get("/r/{token}/view")
async def view(request: Request, token: str) -> HTMLResponse:
    lang = language(request)
    t = TEXT[lang]
    service = _service(request)
    row = await _viewer(request, token)
    if row is None:
        state = service.link_state(await to_thread.run_sync(service.by_token, token))
        if state != LinkState.OPEN:
            return _closed(lang, token, state)
        outcome = PageOutcome(LinkState.OPEN, error="session")
        return _page(lang, token, _dob_form(lang, token, outcome), status=401)
    await to_thread.run_sync(
        lambda: service.audit_access(
            Action.RESULT_VIEWED,
            row,
            user_id=None,
            address=client_address(request),
            by="patient",
            first="opened_at",
        )
    )
    file_url = html.escape(f"/r/{token}/file")
    preview = ""
    if row.mime_type.startswith("image/"):
        preview = f'<img id="preview" src="{file_url}?inline=1" alt="{html.escape(t["ready"])}">'
    body = (
        f'<h2 id="ready">{html.escape(t["ready"])}</h2>'
        f'<p id="filename">{html.escape(row.filename)} · '
        f"{html.escape(t['pages'].format(n=row.pages))}</p>"
        f"{preview}"
        f'<a class="button" id="download" href="{file_url}">{html.escape(t["download"])}</a>'
    )
    return _page(lang, token, body, switch="/view")


@router.get("/r/{token}/file", response_model=None)
async def file(request: Request, token: str, inline: int = 0) -> Response:
    lang = language(request)
    service = _service(request)
    row = await _viewer(request, token)
    if row is None:
        state = service.link_state(await to_thread.run_sync(service.by_token, token))
        if state != LinkState.OPEN:
            return _closed(lang, token, state)
        outcome = PageOutcome(LinkState.OPEN, error="session")
        return _page(lang, token, _dob_form(lang, token, outcome), status=401)
    data = await to_thread.run_sync(service.read_file, row)
    show_inline = bool(inline) and row.mime_type.startswith("image/")
    await to_thread.run_sync(
        lambda: service.audit_access(
            Action.RESULT_VIEWED if show_inline else Action.RESULT_DOWNLOADED,
            row,
            user_id=None,
            address=client_address(request),
            by="patient",
            first=None if show_inline else "downloaded_at",
        )
    )
    disposition = "inline" if show_inline else "attachment"
    return Response(
        data,
        media_type=row.mime_type,
        headers={
            **_HEADERS,
            "Content-Disposition": f'{disposition}; filename="{row.filename}"',
        },
    )
