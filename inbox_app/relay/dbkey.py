"""The relay's server key: encrypts the SQLite database (SQLCipher) and media files.

One 32-byte secret, given as 64 hex digits in ``INBOX_DB_KEY`` or in a file named by
``INBOX_DB_KEY_FILE``; never in the database URL, never logged. Separate subkeys are
derived (HKDF-SHA256) for the database and for files, so neither use weakens the other.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HEX = re.compile(r"[0-9a-fA-F]{64}")
KEY_HELP = "Create one with `inbox-relay key new FILE` (or `openssl rand -hex 32`)."


class KeyProblem(ValueError):
    """The configured key is unusable; the message says what to do."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class ServerKey:
    """The decoded server key and its derived subkeys (repr never shows them)."""

    __slots__ = ("_master",)

    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise KeyProblem("The relay key must be 32 bytes (64 hex digits). " + KEY_HELP)
        self._master = master

    @classmethod
    def parse(cls, text: str) -> ServerKey:
        text = text.strip()
        if not _HEX.fullmatch(text):
            raise KeyProblem("The relay key must be 64 hex digits. " + KEY_HELP)
        return cls(bytes.fromhex(text))

    @classmethod
    def generate(cls) -> ServerKey:
        return cls(secrets.token_bytes(32))

    def hex(self) -> str:
        return self._master.hex()

    @property
    def database_hex(self) -> str:
        """SQLCipher raw key (no per-connection KDF: opening a connection stays cheap)."""
        return _derive(self._master, b"praxis-inbox relay sqlcipher v1").hex()

    @property
    def file_key(self) -> bytes:
        return _derive(self._master, b"praxis-inbox relay files v1")

    @property
    def key_id(self) -> bytes:
        """8 bytes naming the file key (stored in each file, so rotation can resume)."""
        return hashlib.sha256(b"kid" + self.file_key).digest()[:8]

    def __repr__(self) -> str:
        return "ServerKey(<hidden>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerKey) and secrets.compare_digest(self._master, other._master)

    def __hash__(self) -> int:
        return hash(self.key_id)


def read_key_file(path: Path) -> ServerKey:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyProblem(
            f"Cannot read the relay key file {path}: {exc.__class__.__name__}."
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyProblem(f"The relay key file {path} is readable by others; chmod 600 it.")
    return ServerKey.parse(text)


def key_from_env(env: Mapping[str, str] | None = None) -> ServerKey | None:
    """``INBOX_DB_KEY`` or ``INBOX_DB_KEY_FILE``; None when neither is set."""
    env = os.environ if env is None else env
    given = env.get("INBOX_DB_KEY", "").strip()
    file = env.get("INBOX_DB_KEY_FILE", "").strip()
    if given and file:
        raise KeyProblem("Set INBOX_DB_KEY or INBOX_DB_KEY_FILE, not both.")
    if given:
        return ServerKey.parse(given)
    if file:
        return read_key_file(Path(file))
    return None


def write_key_file(path: Path, key: ServerKey) -> None:
    """A new key file, readable only by the relay's user; never overwrites one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.hex() + "\n")
