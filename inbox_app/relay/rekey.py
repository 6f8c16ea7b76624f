"""Rotating the server key: the SQLite database (``PRAGMA rekey``) and every media file.

Run with the relay stopped. Resumable: files already under the new key are skipped, and a
database that opens with the new key is done, so a second run finishes an interrupted one.
A relay that ran without a key (plaintext) is encrypted the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from .db import connect_raw
from .dbkey import KeyProblem, ServerKey
from .vault import Vault


@dataclass(frozen=True, slots=True)
class RekeyResult:
    database: str  # "rekeyed" | "encrypted" | "already" | "not-sqlite"
    files: int
    files_skipped: int


def _media_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    # Dot files are a crashed writer's temp files, never referenced by the database.
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def rekey_files(folder: Path, old: ServerKey | None, new: ServerKey) -> tuple[int, int]:
    """Re-seal every file in ``folder`` under ``new``; (rewritten, already done)."""
    reader, writer = Vault(new, previous=old), Vault(new)
    done = skipped = 0
    for path in _media_files(folder):
        if reader.key_id_of(path) == new.key_id:
            skipped += 1
            continue
        writer.write(path, reader.read(path), temp_prefix=".rekey-")
        done += 1
    return done, skipped


def _rekey_database(path: Path, old: ServerKey | None, new: ServerKey) -> str:
    try:
        conn = connect_raw(str(path), old)
    except KeyProblem:
        conn = connect_raw(str(path), new)  # an earlier run finished this part
        conn.close()
        return "already"
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if old is not None:
            # Every page is rewritten under the new key in one transaction.
            conn.execute(f"PRAGMA rekey = \"x'{new.database_hex}'\"")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return "rekeyed"
    finally:
        conn.close()
    return _encrypt_plaintext(path, new)


def _encrypt_plaintext(path: Path, new: ServerKey) -> str:
    # SQLCipher cannot rekey a plaintext file in place: export into an encrypted copy.
    tmp = path.with_name(path.name + ".encrypting")
    tmp.unlink(missing_ok=True)
    conn = connect_raw(str(path), None)
    try:
        conn.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{new.database_hex}'\"", (str(tmp),))
        conn.execute("SELECT sqlcipher_export('enc')")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA enc.user_version = {int(version)}")
        conn.execute("DETACH DATABASE enc")
    finally:
        conn.close()
    check = connect_raw(str(tmp), new)
    try:
        if check.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise KeyProblem("The encrypted copy fails its integrity check; nothing changed.")
        check.execute("PRAGMA journal_mode=WAL")
    finally:
        check.close()
    os.chmod(tmp, 0o600)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, path)
    return "encrypted"


def rekey(database_url: str, media_dir: Path, old: ServerKey | None, new: ServerKey) -> RekeyResult:
    """Move the relay from ``old`` (None: unencrypted) to ``new``: files first, then the
    database, so an interruption never leaves a database whose files it cannot read."""
    if old is not None and old == new:
        raise KeyProblem("The new key is the current key.")
    files, skipped = rekey_files(media_dir, old, new)
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return RekeyResult("not-sqlite", files, skipped)
    path = Path(url.database)
    if not path.is_file():
        raise KeyProblem(f"No relay database at {path}.")
    return RekeyResult(_rekey_database(path, old, new), files, skipped)
