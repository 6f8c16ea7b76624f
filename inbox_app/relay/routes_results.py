"""Staff routes for results: send one (multipart), read its state, open its file.

``POST /v1/conversations/{id}/results`` (multipart/form-data): ``file``, ``patient_id``,
``confirmed_name``, ``confirmed_dob``, ``client_id`` (a UUID; a repeat answers 200 with the
first result), optional ``override_reason``. Only nurses and clinicians (403 otherwise).
``GET /v1/results/{id}`` and ``GET /v1/results/{id}/file`` (audited): the same roles.
"""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response

from inbox_app.domain.roles import Role

from .access import ApiProblem, SignedIn, client_address, require_conversation
from .audit import Action
from .auth import StaffUser
from .commands import claimed_by_other
from .media import default_media_dir
from .result_state import result_state
from .results import ResultRequest, ResultService, ResultSettings, SendRefused
from .store import WindowClosed
from .teams import Claimed
from .templates import TemplateCache
from .vault import Vault

RESULT_ROLES = frozenset({Role.NURSE, Role.CLINICIAN})
MAX_UPLOAD = 101 * 1024 * 1024  # WhatsApp's 100 MB for documents, plus the form around it
Id = Annotated[int, Path(ge=1, le=2**62)]


def _vault(relay: Any) -> Vault:
    """The relay's vault (files sealed under the server key, if it has one)."""
    found = getattr(relay.db, "vault", None)
    if isinstance(found, Vault):
        return found
    from .dbkey import key_from_env

    return Vault(key_from_env())


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    relay = app.state.relay
    settings = ResultSettings.from_env()
    app.state.results = ResultService(
        relay.store,
        settings,
        folder=default_media_dir(relay.settings.database_url),
        vault=_vault(relay),
        templates=TemplateCache(relay.db),
    )
    yield


router = APIRouter(prefix="/v1", lifespan=_lifespan)


def _result_role(user: StaffUser) -> None:
    if user.role not in RESULT_ROLES:
        raise ApiProblem(403, "forbidden", "Only nurses and clinicians may send or open results.")


async def _form(request: Request) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """Fields and the one file of a multipart/form-data body (stdlib parser; size-capped)."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiProblem(415, "unsupported_media_type", "Send the result as multipart/form-data.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD:
        raise ApiProblem(413, "too_large", "The file is larger than WhatsApp allows (100 MB).")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise ApiProblem(413, "too_large", "The file is larger than WhatsApp allows (100 MB).")
        chunks.append(chunk)
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + b"".join(chunks))
    fields: dict[str, str] = {}
    file: tuple[str, bytes] | None = None
    if not message.is_multipart():
        raise ApiProblem(422, "invalid_request", "The form could not be read.")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None or name == "file":
            file = (part.get_filename() or "result", data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, file


@router.post("/conversations/{conversation_id}/results", status_code=202)
async def send_result(request: Request, conversation_id: Id, user: SignedIn) -> JSONResponse:
    _result_role(user)
    await require_conversation(request, user, conversation_id)
    fields, file = await _form(request)
    missing = [
        name
        for name in ("patient_id", "confirmed_name", "confirmed_dob", "client_id")
        if not fields.get(name, "").strip()
    ]
    if file is None:
        missing.insert(0, "file")
    if missing:
        raise ApiProblem(422, "invalid_request", "Missing field(s): " + ", ".join(missing))
    assert file is not None
    try:
        patient_id = int(fields["patient_id"])
        client_id = str(uuid.UUID(fields["client_id"]))
    except ValueError:
        raise ApiProblem(
            422, "invalid_request", "patient_id must be a number and client_id a UUID."
        ) from None
    service: ResultService = request.app.state.results
    req = ResultRequest(
        conversation_id=conversation_id,
        patient_id=patient_id,
        client_id=client_id,
        data=file[1],
        filename=file[0],
        confirmed_name=fields["confirmed_name"],
        confirmed_dob=fields["confirmed_dob"],
        override_reason=fields.get("override_reason") or None,
        author_id=user.id,
        address=client_address(request),
        base_url=str(request.base_url),
    )
    relay = request.app.state.relay
    try:
        state, created = await to_thread.run_sync(service.send, req)
    except SendRefused as exc:
        raise ApiProblem(exc.status, exc.code, exc.message, **exc.extra) from None
    except Claimed as exc:
        raise await to_thread.run_sync(claimed_by_other, relay.db, exc) from None
    except WindowClosed:
        if service.settings.profile == "direct":
            sentence = (
                "WhatsApp accepts a document only within 24 hours of the patient's last "
                "message; ask the patient to write, or use the phi-safe profile."
            )
        else:
            sentence = (
                f"The 24-hour window is closed and the template "
                f"'{service.settings.link_template}' is not approved for this patient's "
                "language; ask the patient to write, or have the template approved."
            )
        raise ApiProblem(422, "window_closed", sentence) from None
    if created:
        relay.committed()
        if relay.worker is not None:
            relay.worker.wake()
    return JSONResponse({"result": state}, status_code=202 if created else 200)


async def _readable(request: Request, user: StaffUser, result_id: int) -> Any:
    _result_role(user)
    service: ResultService = request.app.state.results
    row = await to_thread.run_sync(service.row, result_id)
    if row is None:
        raise ApiProblem(404, "not_found", "No such result.")
    try:
        await require_conversation(request, user, int(row.conversation_id))
    except ApiProblem:
        raise ApiProblem(404, "not_found", "No such result.") from None
    return row


@router.get("/results/{result_id}")
async def get_result(request: Request, result_id: Id, user: SignedIn) -> dict[str, Any]:
    await _readable(request, user, result_id)

    def load() -> dict[str, Any]:
        with request.app.state.relay.db.read() as conn:
            return result_state(conn, result_id)

    return {"result": await to_thread.run_sync(load)}


@router.get("/results/{result_id}/file")
async def get_result_file(request: Request, result_id: Id, user: SignedIn) -> Response:
    row = await _readable(request, user, result_id)
    service: ResultService = request.app.state.results
    data = await to_thread.run_sync(service.read_file, row)
    await to_thread.run_sync(
        lambda: service.audit_access(
            Action.RESULT_DOWNLOADED,
            row,
            user_id=user.id,
            address=client_address(request),
            by="staff",
        )
    )
    return Response(
        data,
        media_type=row.mime_type,
        headers={
            "Content-Disposition": f'attachment; filename="{row.filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
