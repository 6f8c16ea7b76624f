"""The media worker: fetches patients' attachments in the background and keeps them safe.

media id → ``GET /{media-id}`` → URL (valid ~5 min) → download with the bearer token
(a fresh URL when it expired) → checked against the declared sha256, the size limit of its
type and its real type by content (magic bytes) → written atomically into the media folder.
A failure is visible on the message (``media.state`` = failed, with a reason); transient
ones are retried with backoff first. Nothing is half-stored (QUALITY S14).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from inbox_app.domain.filetypes import sniff
from inbox_app.whatsapp.graph import (
    GraphClient,
    GraphError,
    GraphUnavailable,
    MediaTooLarge,
    MediaUrlExpired,
)

from .db import media, messages
from .store import Store

log = logging.getLogger("inbox.relay.media")

MAX_ATTEMPTS = 6
URL_REFRESHES = 2
MB = 1024 * 1024
# Cloud API limits per type (shared notes §3); stickers are small webp files.
SIZE_LIMITS = {
    "image": 5 * MB,
    "sticker": 1 * MB,
    "audio": 16 * MB,
    "video": 16 * MB,
    "document": 100 * MB,
}
# What each kind may really contain (by content, not by what the sender declared).
ALLOWED = {
    "image": {"image/jpeg", "image/png", "image/webp"},
    "sticker": {"image/webp"},
    "audio": {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/amr", "audio/aac"},
    "video": {"video/mp4", "video/3gpp"},
    "document": {
        "application/pdf",
        "application/zip",  # docx, xlsx, pptx
        "application/x-ole-storage",  # doc, xls, ppt
        "text/plain",
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/ogg",
        "audio/mpeg",
        "video/mp4",
    },
}


class MediaRejected(Exception):
    """The file is not acceptable (hash, size or type); retrying will not help."""


def declared_digest(declared: str | None) -> bytes | None:
    """The sha256 a webhook declared (base64 there; hex from ``GET /{media-id}``)."""
    if not declared:
        return None
    value = declared.strip()
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == 32 else None


def check(kind: str, data: bytes, declared_sha256: str | None, graph_sha256: str | None) -> str:
    """Return the real MIME type of an acceptable file; raise MediaRejected otherwise."""
    actual = hashlib.sha256(data).digest()
    for declared in (declared_sha256, graph_sha256):
        expected = declared_digest(declared)
        if expected is not None and expected != actual:
            raise MediaRejected("The file does not match its checksum.")
    if declared_sha256 and declared_digest(declared_sha256) is None and not graph_sha256:
        raise MediaRejected("The file's checksum could not be read.")
    limit = SIZE_LIMITS.get(kind, SIZE_LIMITS["document"])
    if len(data) > limit:
        raise MediaRejected(f"The file is larger than {limit // MB} MB.")
    if not data:
        raise MediaRejected("The file is empty.")
    mime = sniff(data)
    if mime is None or mime not in ALLOWED.get(kind, ALLOWED["document"]):
        raise MediaRejected("The file's content is not an allowed type.")
    return mime


def default_media_dir(database_url: str) -> Path:
    """``INBOX_MEDIA_DIR``, else a ``media`` folder next to a SQLite database."""
    configured = os.environ.get("INBOX_MEDIA_DIR")
    if configured:
        return Path(configured)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "media"
    import platformdirs

    return Path(platformdirs.user_data_dir("praxis-inbox-relay", appauthor=False)) / "media"


@dataclass(frozen=True, slots=True)
class MediaJob:
    id: int
    message_id: int
    media_id: str
    kind: str
    declared_sha256: str | None
    attempts: int


class MediaFiles:
    """The database side of media: claiming due downloads and recording the outcome."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder

    def claim_due(self, *, limit: int, now: float | None = None) -> list[MediaJob]:
        now = time.time() if now is None else now
        # A read first: on SQLite a write transaction would take the lock the webhook
        # group commit needs, on every commit that wakes us.
        with self.store.db.read() as conn:
            due = conn.execute(
                select(media.c.id)
                .where(media.c.state == "pending", media.c.next_attempt_at <= now)
                .limit(1)
            ).first()
        if due is None:
            return []
        with self.store.db.write() as conn:
            query = (
                select(media)
                .where(media.c.state == "pending", media.c.next_attempt_at <= now)
                .order_by(media.c.next_attempt_at, media.c.id)
                .limit(limit)
            )
            if not self.store.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            jobs = []
            for row in rows:
                # Claimed for a while; a crashed worker's claim simply runs out.
                conn.execute(
                    update(media)
                    .where(media.c.id == row.id)
                    .values(attempts=row.attempts + 1, next_attempt_at=now + 300.0)
                )
                jobs.append(
                    MediaJob(
                        id=row.id,
                        message_id=row.message_id,
                        media_id=row.media_id,
                        kind=row.kind,
                        declared_sha256=row.declared_sha256,
                        attempts=row.attempts + 1,
                    )
                )
            return jobs

    def save(self, job: MediaJob, data: bytes, mime: str) -> Path:
        """Write atomically (temp file + rename), readable only by the relay, sealed
        under the server key when the relay has one (vault.py)."""
        return self.store.db.vault.write(self.folder / f"{job.id}", data)

    def record_ready(self, job: MediaJob, path: Path, size: int, mime: str) -> None:
        with self.store.db.write() as conn:
            state = conn.execute(select(media.c.state).where(media.c.id == job.id)).scalar()
            if state != "pending":  # deleted by the patient meanwhile
                path.unlink(missing_ok=True)
                return
            conn.execute(
                update(media)
                .where(media.c.id == job.id)
                .values(
                    state="ready",
                    reason=None,
                    path=str(path),
                    size=size,
                    mime_type=mime,
                    updated_at=time.time(),
                )
            )
            self.store._emit_message(conn, job.message_id)

    def record_failure(self, job: MediaJob, reason: str, *, retry_at: float | None) -> None:
        with self.store.db.write() as conn:
            values: dict[str, Any] = {"reason": reason, "updated_at": time.time()}
            if retry_at is not None:
                values["next_attempt_at"] = retry_at
            else:
                values["state"] = "failed"
            conn.execute(
                update(media)
                .where(media.c.id == job.id, media.c.state == "pending")
                .values(**values)
            )
            self.store._emit_message(conn, job.message_id)

    def retry(self, media_row_id: int) -> bool:
        """Staff asked to try a failed download again."""
        with self.store.db.write() as conn:
            updated = conn.execute(
                update(media)
                .where(media.c.id == media_row_id, media.c.state == "failed")
                .values(state="pending", attempts=0, next_attempt_at=time.time(), reason=None)
            )
            if updated.rowcount:
                message_id = conn.execute(
                    select(media.c.message_id).where(media.c.id == media_row_id)
                ).scalar_one()
                self.store._emit_message(conn, message_id)
            return bool(updated.rowcount)

    def lookup(self, media_row_id: int) -> Any:
        """(state, path, mime_type, filename, conversation_id) of a stored file, or None."""
        with self.store.db.read() as conn:
            return conn.execute(
                select(
                    media.c.state,
                    media.c.path,
                    media.c.mime_type,
                    media.c.filename,
                    media.c.kind,
                    messages.c.conversation_id,
                )
                .join(messages, messages.c.id == media.c.message_id)
                .where(media.c.id == media_row_id)
            ).one_or_none()


def backoff(attempt: int) -> float:
    return random.uniform(0.5, 1.0) * min(300.0, 2.0**attempt)


class MediaWorker:
    """Downloads pending media, a few at a time, off the webhook path."""

    def __init__(
        self,
        files: MediaFiles,
        graph: GraphClient,
        *,
        on_commit: Callable[[], None],
        concurrency: int = 3,
        backoff: Callable[[int], float] = backoff,
    ) -> None:
        self.files = files
        self.graph = graph
        self.on_commit = on_commit
        self.concurrency = concurrency
        self.backoff = backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="media-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                jobs = await to_thread.run_sync(
                    lambda: self.files.claim_due(limit=self.concurrency)
                )
            except Exception:
                log.exception("claiming media downloads failed")
                jobs = []
            if jobs:
                await asyncio.gather(*(self._fetch(job) for job in jobs))
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            except TimeoutError:
                pass

    async def _fetch(self, job: MediaJob) -> None:
        limit = SIZE_LIMITS.get(job.kind, SIZE_LIMITS["document"])
        try:
            data, graph_sha = await self._download(job, limit)
            mime = check(job.kind, data, job.declared_sha256, graph_sha)
            path = await to_thread.run_sync(self.files.save, job, data, mime)
            await to_thread.run_sync(self.files.record_ready, job, path, len(data), mime)
            log.info("media %s of message %s stored", job.id, job.message_id)
        except MediaRejected as exc:
            log.warning("media %s of message %s rejected", job.id, job.message_id)
            await self._fail(job, str(exc), retry=False)
        except MediaTooLarge:
            await self._fail(job, f"The file is larger than {limit // MB} MB.", retry=False)
        except GraphError as exc:
            permanent = exc.http_status < 500 and exc.code in (100, 131052, 131053)
            await self._fail(job, "WhatsApp could not provide the file.", retry=not permanent)
        except (GraphUnavailable, MediaUrlExpired, OSError):
            await self._fail(job, "The file could not be downloaded yet.", retry=True)
        except Exception:
            log.exception("media %s: unexpected failure", job.id)
            await self._fail(job, "The file could not be downloaded.", retry=True)
        self.on_commit()

    async def _download(self, job: MediaJob, limit: int) -> tuple[bytes, str | None]:
        for _ in range(URL_REFRESHES + 1):
            info = await self.graph.media_info(job.media_id)
            if info.file_size is not None and info.file_size > limit:
                raise MediaTooLarge(str(info.file_size))
            try:
                return await self.graph.download(info.url, max_bytes=limit), info.sha256_hex
            except MediaUrlExpired:
                log.info("media %s: URL expired, fetching a fresh one", job.id)
        raise MediaUrlExpired("still expired after refreshing")

    async def _fail(self, job: MediaJob, reason: str, *, retry: bool) -> None:
        retry_at = (
            time.time() + self.backoff(job.attempts)
            if retry and job.attempts < MAX_ATTEMPTS
            else None
        )
        await to_thread.run_sync(lambda: self.files.record_failure(job, reason, retry_at=retry_at))
        if retry_at is not None:
            asyncio.get_running_loop().call_later(max(0.0, retry_at - time.time()), self.wake)
