"""HTTP routes for patients' attachments, and the media worker's lifetime.

``GET /v1/media/{id}`` serves a stored file to staff who may see its conversation (same
404 for "not yours" and "does not exist"); ``POST /v1/media/{id}/retry`` retries a failed
download.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import Response

from .access import ApiProblem, SignedIn, require_conversation
from .media import MediaFiles, MediaWorker, default_media_dir
from .vault import Vault, VaultError

log = logging.getLogger("inbox.relay.media")

NO_SUCH_FILE = "No such file."
MediaId = Annotated[int, Path(ge=1, le=2**62)]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the relay's own lifespan, so its Graph client exists by now."""
    relay = app.state.relay
    files = MediaFiles(relay.store, default_media_dir(relay.settings.database_url))
    app.state.media_files = files
    worker: MediaWorker | None = None
    if relay.graph is not None:
        worker = MediaWorker(files, relay.graph, on_commit=relay.committed)
        worker.start()
        # New webhooks may carry media: wake the worker on every commit.
        watcher = asyncio.create_task(_wake_on_commits(relay, worker), name="media-wake")
    app.state.media_worker = worker
    try:
        yield
    finally:
        if worker is not None:
            watcher.cancel()
            try:
                await watcher
            except asyncio.CancelledError:
                pass
            await worker.stop()


async def _wake_on_commits(relay: Any, worker: MediaWorker) -> None:
    while True:
        await relay.notifier.waiter().wait()
        worker.wake()


router = APIRouter(prefix="/v1", lifespan=_lifespan)


async def _file_for(request: Request, user: SignedIn, media_id: int) -> Any:
    files: MediaFiles = request.app.state.media_files
    row = await to_thread.run_sync(files.lookup, media_id)
    if row is None:
        raise ApiProblem(404, "not_found", NO_SUCH_FILE)
    try:
        await require_conversation(request, user, int(row.conversation_id))
    except ApiProblem as exc:
        # Same answer as a file that does not exist (QUALITY S7); the refusal is audited.
        raise ApiProblem(exc.status, exc.code, NO_SUCH_FILE) from None
    return row


@router.get("/media/{media_id}")
async def get_media(request: Request, media_id: MediaId, user: SignedIn) -> Response:
    row = await _file_for(request, user, media_id)
    present = bool(row.path) and await to_thread.run_sync(FsPath(row.path).is_file)
    if row.state != "ready" or not present:
        raise ApiProblem(409, "media_not_ready", "The file is not available.", state=str(row.state))
    vault: Vault = request.app.state.relay.db.vault
    try:
        # Decrypted in memory only (vault.py); files are at most WhatsApp's 100 MB.
        data = await to_thread.run_sync(vault.read, FsPath(row.path))
    except VaultError as exc:
        log.error("media %d unreadable: %s", media_id, exc)
        raise ApiProblem(409, "media_unreadable", "The file cannot be decrypted.") from None
    disposition = "attachment"
    if row.filename:
        # As Starlette's FileResponse writes it.
        name = str(row.filename)
        quoted = quote(name)
        disposition += f'; filename="{name}"' if quoted == name else f"; filename*=utf-8''{quoted}"
    return Response(
        data,
        media_type=row.mime_type or "application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/media/{media_id}/retry", status_code=202)
async def retry_media(request: Request, media_id: MediaId, user: SignedIn) -> dict[str, Any]:
    await _file_for(request, user, media_id)
    files: MediaFiles = request.app.state.media_files
    if not await to_thread.run_sync(files.retry, media_id):
        raise ApiProblem(409, "not_failed", "Only a failed download can be retried.")
    request.app.state.relay.committed()
    worker: MediaWorker | None = request.app.state.media_worker
    if worker is not None:
        worker.wake()
    return {"ok": True}
