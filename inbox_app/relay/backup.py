"""Encrypted online backups of a SQLite relay database, and restoring them.

The snapshot is taken with SQLite's online backup API into memory (never a plaintext
temp file), then written in authenticated chunks: AES-256-GCM under a key derived from
the operator's passphrase with Argon2id. Chunk index and a final-chunk flag are bound
into each chunk, so reordering or truncating the file is detected.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import struct
import time
from pathlib import Path
from typing import Any, BinaryIO

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"PRAXIS-INBOX-BACKUP 1\n"
CHUNK = 1024 * 1024
KDF = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 1}


class BackupError(Exception):
    """The backup cannot be made or read; the message says why in one sentence."""


def _key(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    if len(passphrase) < 12:
        raise BackupError("The backup passphrase must have at least 12 characters.")
    return hash_secret_raw(passphrase.encode(), salt, hash_len=32, type=Type.ID, **params)


def _sqlite_path(database_url: str) -> Path:
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        raise BackupError(
            "Only SQLite relays are backed up by this command; for PostgreSQL use "
            "pg_dump (see docs/operations.md)."
        )
    return Path(database_url[len(prefix) :])


def snapshot(db_path: Path) -> bytes:
    """A consistent copy of a live database, taken while the relay keeps writing."""
    if not db_path.is_file():
        raise BackupError(f"No relay database at {db_path}.")
    source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    memory = sqlite3.connect(":memory:")
    try:
        source.backup(memory)
        return _rollback_journal(memory.serialize())
    finally:
        source.close()
        memory.close()


def _rollback_journal(image: bytes) -> bytes:
    # A WAL database's header (bytes 18-19 = 2) cannot be opened from memory; the relay
    # switches the restored file back to WAL when it opens it.
    if len(image) >= 20 and image[18:20] == b"\x02\x02":
        image = image[:18] + b"\x01\x01" + image[20:]
    return image


def write_backup(out: BinaryIO, data: bytes, passphrase: str) -> None:
    salt = os.urandom(16)
    header = json.dumps(
        {
            "kdf": "argon2id",
            **KDF,
            "salt": base64.b64encode(salt).decode(),
            "created": int(time.time()),
            "size": len(data),
        },
        separators=(",", ":"),
    ).encode()
    aead = AESGCM(_key(passphrase, salt, KDF))
    out.write(MAGIC + struct.pack(">I", len(header)) + header)
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    for index, chunk in enumerate(chunks):
        final = index == len(chunks) - 1
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, chunk, header + struct.pack(">Q?", index, final))
        out.write(struct.pack(">I", len(sealed)) + nonce + sealed)


def read_backup(data: bytes, passphrase: str) -> bytes:
    if not data.startswith(MAGIC):
        raise BackupError("This file is not a Praxis Inbox backup.")
    pos = len(MAGIC)
    try:
        (hlen,) = struct.unpack_from(">I", data, pos)
        header = data[pos + 4 : pos + 4 + hlen]
        meta: dict[str, Any] = json.loads(header)
        pos += 4 + hlen
        params = {k: int(meta[k]) for k in ("time_cost", "memory_cost", "parallelism")}
        aead = AESGCM(_key(passphrase, base64.b64decode(meta["salt"]), params))
        parts: list[bytes] = []
        index, final = 0, False
        while pos < len(data):
            (slen,) = struct.unpack_from(">I", data, pos)
            nonce, sealed = data[pos + 4 : pos + 16], data[pos + 16 : pos + 4 + 12 + slen]
            pos += 4 + 12 + slen
            final = pos >= len(data)
            parts.append(aead.decrypt(nonce, sealed, header + struct.pack(">Q?", index, final)))
            index += 1
    except InvalidTag:
        raise BackupError("Wrong passphrase, or the backup file was altered.") from None
    except (struct.error, ValueError, KeyError):
        raise BackupError("The backup file is damaged or truncated.") from None
    if not final:
        raise BackupError("The backup file is damaged or truncated.")
    plain = b"".join(parts)
    if len(plain) != int(meta["size"]):
        raise BackupError("The backup file is damaged or truncated.")
    return plain


def backup(database_url: str, target: Path, passphrase: str) -> int:
    """Write an encrypted backup of the relay database to ``target``; returns its size."""
    data = snapshot(_sqlite_path(database_url))
    tmp = target.with_name(target.name + ".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        write_backup(out, data, passphrase)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    return target.stat().st_size


def restore(database_url: str, source: Path, passphrase: str, *, force: bool = False) -> None:
    """Restore a backup into the (stopped) relay's database path."""
    db_path = _sqlite_path(database_url)
    plain = read_backup(source.read_bytes(), passphrase)
    if db_path.exists() and not force:
        raise BackupError(f"{db_path} exists; stop the relay and pass --force to replace it.")
    memory = sqlite3.connect(":memory:")
    try:
        memory.deserialize(_rollback_journal(plain))
        if memory.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError("The restored database fails its integrity check.")
        db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for suffix in ("-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        target = sqlite3.connect(db_path)
        try:
            memory.backup(target)
        finally:
            target.close()
        os.chmod(db_path, 0o600)
    finally:
        memory.close()
