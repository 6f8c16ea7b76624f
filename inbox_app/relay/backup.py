"""Encrypted online backups of a SQLite relay database, and restoring them.

The snapshot is read inside one read transaction (consistent while the relay keeps
writing) as the schema and every row, into memory (never a plaintext temp file), then
compressed and written in authenticated chunks: AES-256-GCM under a key derived from the
operator's passphrase with Argon2id. Chunk index and a final-chunk flag are bound into each
chunk, so reordering or truncating the file is detected. A backup does not depend on the
relay's database key (SQLCipher): it restores under whatever key the relay has then.
Version 1 files (a plain SQLite image inside) still restore.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import struct
import time
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .db import connect_raw
from .dbkey import KeyProblem, ServerKey, key_from_env

MAGIC_V1 = b"PRAXIS-INBOX-BACKUP 1\n"
MAGIC = b"PRAXIS-INBOX-BACKUP 2\n"
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


def _cell(value: Any) -> Any:
    return {"$b64": base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def _uncell(value: Any) -> Any:
    return base64.b64decode(value["$b64"]) if isinstance(value, dict) else value


def dump(conn: Any) -> dict[str, Any]:
    """Schema and rows of an open DB-API SQLite connection, in one read transaction."""
    conn.execute("BEGIN")
    try:
        schema = [
            (str(kind), str(name), str(sql))
            for kind, name, sql in conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        tables: dict[str, Any] = {}
        for kind, name, _sql in schema:
            if kind != "table":
                continue
            cur = conn.execute(f'SELECT * FROM "{name}"')  # noqa: S608 (names from sqlite_master)
            tables[name] = {
                "columns": [d[0] for d in cur.description],
                "rows": [[_cell(v) for v in row] for row in cur],
            }
        has_seq = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ).fetchone()
        sequence = (
            [list(r) for r in conn.execute("SELECT name, seq FROM sqlite_sequence")]
            if has_seq
            else []
        )
    finally:
        conn.execute("COMMIT")
    return {"schema": schema, "tables": tables, "sequence": sequence}


def snapshot(db_path: Path, key: ServerKey | None = None) -> bytes:
    """A consistent copy of a live database, taken while the relay keeps writing."""
    if not db_path.is_file():
        raise BackupError(f"No relay database at {db_path}.")
    try:
        conn = connect_raw(str(db_path), key)
    except KeyProblem as exc:
        raise BackupError(str(exc)) from None
    try:
        content = dump(conn)
    finally:
        conn.close()
    return zlib.compress(json.dumps(content, separators=(",", ":")).encode(), 6)


def _rollback_journal(image: bytes) -> bytes:
    # A WAL database's header (bytes 18-19 = 2) cannot be opened from memory.
    if len(image) >= 20 and image[18:20] == b"\x02\x02":
        image = image[:18] + b"\x01\x01" + image[20:]
    return image


def _content_of(plain: bytes, version: int) -> dict[str, Any]:
    if version == 1:
        memory = sqlite3.connect(":memory:", isolation_level=None)
        try:
            memory.deserialize(_rollback_journal(plain))
            if memory.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError("The restored database fails its integrity check.")
            return dump(memory)
        finally:
            memory.close()
    try:
        content: dict[str, Any] = json.loads(zlib.decompress(plain))
    except (zlib.error, ValueError):
        raise BackupError("The backup file is damaged or truncated.") from None
    return content


def load(conn: Any, content: dict[str, Any]) -> None:
    """Recreate ``dump``'s content in an empty database: tables, rows, then indexes."""
    conn.execute("BEGIN")
    try:
        schema = content["schema"]
        for kind, _name, sql in schema:
            if kind == "table":
                conn.execute(sql)
        for name, table in content["tables"].items():
            columns = ", ".join(f'"{c}"' for c in table["columns"])
            marks = ", ".join("?" for _ in table["columns"])
            conn.executemany(
                f'INSERT INTO "{name}" ({columns}) VALUES ({marks})',  # noqa: S608
                ([_uncell(v) for v in row] for row in table["rows"]),
            )
        for kind, _name, sql in schema:
            if kind != "table":
                conn.execute(sql)
        if content["sequence"]:
            conn.execute("DELETE FROM sqlite_sequence")
            conn.executemany(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", content["sequence"]
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def write_backup(out: BinaryIO, data: bytes, passphrase: str) -> None:
    salt = os.urandom(16)
    header = json.dumps(
        {
            "kdf": "argon2id",
            "format": "sqlite-rows+zlib",
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
    return _read(data, passphrase)[0]


def _read(data: bytes, passphrase: str) -> tuple[bytes, int]:
    """The decrypted payload and the format version (1: SQLite image, 2: rows)."""
    if data.startswith(MAGIC):
        version = 2
    elif data.startswith(MAGIC_V1):
        version = 1
    else:
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
    return plain, version


def backup(database_url: str, target: Path, passphrase: str, key: ServerKey | None = None) -> int:
    """Write an encrypted backup of the relay database to ``target``; returns its size.

    ``key`` is the relay's database key (None: from INBOX_DB_KEY / INBOX_DB_KEY_FILE)."""
    key = key if key is not None else key_from_env()
    data = snapshot(_sqlite_path(database_url), key)
    tmp = target.with_name(target.name + ".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        write_backup(out, data, passphrase)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    return target.stat().st_size


def restore(
    database_url: str,
    source: Path,
    passphrase: str,
    *,
    force: bool = False,
    key: ServerKey | None = None,
) -> None:
    """Restore a backup into the (stopped) relay's database path, encrypted under the
    relay's current key (None: from the environment; no key at all: a plain file)."""
    db_path = _sqlite_path(database_url)
    key = key if key is not None else key_from_env()
    plain, version = _read(source.read_bytes(), passphrase)
    if db_path.exists() and not force:
        raise BackupError(f"{db_path} exists; stop the relay and pass --force to replace it.")
    content = _content_of(plain, version)
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = db_path.with_name(db_path.name + ".restoring")
    for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    conn = connect_raw(str(tmp), key)
    try:
        load(conn, content)
        if conn.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError("The restored database fails its integrity check.")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    os.replace(tmp, db_path)
    os.chmod(db_path, 0o600)
