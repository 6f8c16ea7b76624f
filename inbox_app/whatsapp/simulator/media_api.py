"""Meta's media endpoints: upload (multipart), retrieve a short-lived URL, download, delete.

- ``POST /{version}/{phone_number_id}/media`` (``file``, ``messaging_product``, ``type``)
- ``GET /{version}/{media_id}`` → ``{url, mime_type, sha256 (hex), file_size, id}``
- ``GET /_media/{media_id}?exp=…&sig=…`` with the bearer token; the URL expires (5 min)
- ``DELETE /{version}/{media_id}`` → ``{"success": true}``
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from email.parser import BytesParser
from email.policy import HTTP

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from inbox_app.whatsapp.simulator.errors import GraphError, graph_headers
from inbox_app.whatsapp.simulator.media_store import LIMITS, MAX_UPLOAD, MediaLibrary
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.send_api import authorize

logger = logging.getLogger("inbox.whatsapp.simulator")

_VERSION = re.compile(r"v\d+\.\d+")


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str | None, str]]:
    """Form fields by name: (bytes, filename, content type). Enough for Graph uploads."""
    if "multipart/form-data" not in content_type:
        raise GraphError.invalid_parameter("Upload must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, tuple[bytes, str | None, str]] = {}
    if not message.is_multipart():
        raise GraphError.invalid_parameter("Malformed multipart body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = (data, part.get_filename(), part.get_content_type())
    return fields


def build_router(runtime: Runtime, library: MediaLibrary) -> APIRouter:
    """Media routes for one simulator."""
    router = APIRouter()
    settings = runtime.settings

    @router.get("/_media/{media_id}")
    async def download(media_id: str, request: Request, exp: int = 0, sig: str = "") -> Response:
        # Meta wants the bearer token on the download too; a bare URL gets nothing.
        authorize(request, settings.access_token)
        library.downloads += 1
        if library.expire_next_downloads > 0:
            library.expire_next_downloads -= 1
            return Response(status_code=404)
        # As bytes: compare_digest refuses non-ASCII str (a forged sig must be a 404, not a 500).
        valid = hmac.compare_digest(sig.encode(), library.signature(media_id, exp).encode())
        item = library.get(media_id)
        if not valid or exp < time.time() or item is None:
            return Response(status_code=404)
        return Response(item.data, media_type=item.mime_type)

    @router.post("/{version}/{phone_number_id}/media")
    async def upload(version: str, phone_number_id: str, request: Request) -> JSONResponse:
        if not _VERSION.fullmatch(version):
            raise GraphError.invalid_parameter(f"Unknown Graph API version '{version}'")
        authorize(request, settings.access_token)
        if phone_number_id != settings.phone_number_id:
            raise GraphError.invalid_parameter(f"Unknown phone number id '{phone_number_id}'")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_UPLOAD + 64 * 1024:
            raise GraphError.invalid_parameter("File too large")
        fields = parse_multipart(request.headers.get("content-type", ""), await request.body())
        product = fields.get("messaging_product")
        if product is None or product[0] != b"whatsapp":
            raise GraphError.invalid_parameter("The parameter messaging_product is required")
        if "file" not in fields:
            raise GraphError.invalid_parameter("The parameter file is required")
        data, filename, part_type = fields["file"]
        declared_type = fields["type"][0].decode("ascii", "replace") if "type" in fields else ""
        mime = (declared_type or part_type).split(";")[0].strip().lower()
        limit = LIMITS.get(mime)
        if limit is None:
            raise GraphError(
                http_status=400, code=131053, details=f"Unsupported file type {mime!r}"
            )
        if len(data) > limit or not data:
            raise GraphError(
                http_status=400,
                code=131053,
                details=f"File size {len(data)} outside the limit {limit} for {mime}",
            )
        item = library.add(data, mime, filename)
        logger.info("media %s uploaded (%d bytes)", item.media_id, len(data))
        return JSONResponse({"id": item.media_id}, headers=graph_headers(version))

    @router.get("/{version}/{media_id}")
    async def retrieve(version: str, media_id: str, request: Request) -> JSONResponse:
        if not _VERSION.fullmatch(version):
            raise GraphError.invalid_parameter(f"Unknown Graph API version '{version}'")
        authorize(request, settings.access_token)
        item = library.get(media_id)
        if item is None:
            raise _missing(media_id)
        expires = int(time.time() + library.url_ttl)
        base = str(request.base_url).rstrip("/")
        sig = library.signature(media_id, expires)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{base}/_media/{media_id}?exp={expires}&sig={sig}",
                "mime_type": item.mime_type,
                "sha256": item.sha256_hex,
                "file_size": len(item.data),
                "id": media_id,
            },
            headers=graph_headers(version),
        )

    @router.delete("/{version}/{media_id}")
    async def remove(version: str, media_id: str, request: Request) -> JSONResponse:
        if not _VERSION.fullmatch(version):
            raise GraphError.invalid_parameter(f"Unknown Graph API version '{version}'")
        authorize(request, settings.access_token)
        if library.items.pop(media_id, None) is None:
            raise _missing(media_id)
        return JSONResponse({"success": True}, headers=graph_headers(version))

    return router


def _missing(media_id: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=100,
        subcode=33,
        title="Invalid parameter",
        details=(
            f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be"
            " loaded due to missing permissions, or does not support this operation"
        ),
    )
