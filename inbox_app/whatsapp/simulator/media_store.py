"""The simulator's media files: what was uploaded or sent by virtual patients."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

MEDIA_URL_TTL = 300.0  # seconds a retrieved URL stays valid (Meta: 5 minutes)
UPLOAD_TTL = 30 * 24 * 3600.0  # uploads expire after 30 days
MAX_UPLOAD = 100 * 1024 * 1024

# Upload limits by MIME type (Cloud API notes §3).
LIMITS: dict[str, int] = {
    "image/jpeg": 5 * 1024 * 1024,
    "image/png": 5 * 1024 * 1024,
    "image/webp": 500 * 1024,  # stickers
    "audio/aac": 16 * 1024 * 1024,
    "audio/amr": 16 * 1024 * 1024,
    "audio/mpeg": 16 * 1024 * 1024,
    "audio/mp4": 16 * 1024 * 1024,
    "audio/ogg": 16 * 1024 * 1024,
    "video/mp4": 16 * 1024 * 1024,
    "video/3gpp": 16 * 1024 * 1024,
    "text/plain": 100 * 1024 * 1024,
    "application/pdf": 100 * 1024 * 1024,
    "application/msword": 100 * 1024 * 1024,
    "application/vnd.ms-excel": 100 * 1024 * 1024,
    "application/vnd.ms-powerpoint": 100 * 1024 * 1024,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * 1024 * 1024,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * 1024 * 1024,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * 1024 * 1024,
}


@dataclass
class MediaItem:
    """One stored file."""

    media_id: str
    data: bytes
    mime_type: str
    filename: str | None = None
    created: float = field(default_factory=time.time)

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class MediaLibrary:
    """Files uploaded by the business or sent by virtual patients."""

    def __init__(self) -> None:
        self.items: dict[str, MediaItem] = {}
        self._key = secrets.token_bytes(32)
        self.url_ttl = MEDIA_URL_TTL
        self.expire_next_downloads = 0  # fault: the next N downloads answer 404 (expired URL)
        self.downloads = 0

    def add(self, data: bytes, mime_type: str, filename: str | None = None) -> MediaItem:
        media_id = str(secrets.randbelow(9 * 10**15) + 10**15)
        item = MediaItem(media_id=media_id, data=data, mime_type=mime_type, filename=filename)
        self.items[media_id] = item
        return item

    def get(self, media_id: str) -> MediaItem | None:
        item = self.items.get(media_id)
        if item is not None and time.time() - item.created > UPLOAD_TTL:
            del self.items[media_id]
            return None
        return item

    def signature(self, media_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def reset(self) -> None:
        self.items.clear()
        self.expire_next_downloads = 0
        self.downloads = 0
