"""Media and result files at rest: AES-256-GCM under the server key's file subkey.

File layout: ``MAGIC | key id (8) | nonce (12) | ciphertext+tag``. The file's own name is
bound in as associated data, so a file copied over another attachment is refused. A vault
without a key (demo mode, or PostgreSQL without INBOX_DB_KEY) writes plain files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .dbkey import ServerKey

MAGIC = b"PXVAULT1"
_HEAD = len(MAGIC) + 8 + 12


class VaultError(Exception):
    """A stored file cannot be read: wrong key, or altered; the message says which."""


class Vault:
    def __init__(self, key: ServerKey | None, *, previous: ServerKey | None = None) -> None:
        self.key = key
        # During a rotation, files still under the old key stay readable.
        self._keys = {k.key_id: AESGCM(k.file_key) for k in (key, previous) if k is not None}

    @property
    def encrypts(self) -> bool:
        return self.key is not None

    def seal(self, data: bytes, name: str) -> bytes:
        if self.key is None:
            return data
        nonce = os.urandom(12)
        sealed = AESGCM(self.key.file_key).encrypt(nonce, data, MAGIC + name.encode())
        return MAGIC + self.key.key_id + nonce + sealed

    def open(self, blob: bytes, name: str) -> bytes:
        if not blob.startswith(MAGIC):
            # A file from before encryption was switched on (or demo mode): readable as
            # is; `inbox-relay rekey` encrypts it.
            return blob
        kid, nonce = blob[len(MAGIC) : len(MAGIC) + 8], blob[len(MAGIC) + 8 : _HEAD]
        aead = self._keys.get(kid)
        if aead is None:
            raise VaultError("The file is encrypted under a key this relay does not have.")
        try:
            return aead.decrypt(nonce, blob[_HEAD:], MAGIC + name.encode())
        except InvalidTag:
            raise VaultError("The stored file was altered or belongs elsewhere.") from None

    def key_id_of(self, path: Path) -> bytes | None:
        """The key id a stored file is sealed under (None: a plain file)."""
        with path.open("rb") as f:
            head = f.read(_HEAD)
        return head[len(MAGIC) : len(MAGIC) + 8] if head.startswith(MAGIC) else None

    def read(self, path: Path) -> bytes:
        return self.open(path.read_bytes(), path.name)

    def write(self, path: Path, data: bytes, *, temp_prefix: str = ".incoming-") -> Path:
        """Seal and write atomically (temp file + fsync + rename), mode 0600."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        blob = self.seal(data, path.name)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
