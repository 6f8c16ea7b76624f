"""What the desktop needs before Qt loads: SQLCipher, and a safe place for the cache key.

Checked first thing at start so a broken install says what is wrong in one sentence
instead of failing later with an import error or a plaintext cache.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Preflight:
    problems: list[str] = field(default_factory=list)
    key_storage: str = ""  # "keyring:<backend>" or "passphrase"

    @property
    def ok(self) -> bool:
        return not self.problems


def check_sqlcipher() -> str | None:
    """None when SQLCipher is usable, else why not."""
    try:
        dbapi = importlib.import_module("sqlcipher3.dbapi2")
    except ImportError:
        return (
            "SQLCipher is missing (Python package sqlcipher3): the encrypted cache cannot open. "
            "Reinstall Praxis Inbox."
        )
    conn = dbapi.connect(":memory:")
    try:
        row = conn.execute("PRAGMA cipher_version").fetchone()
    finally:
        conn.close()
    if not row or not row[0]:
        return "The SQLite library found is not SQLCipher: the cache would not be encrypted."
    return None


def check_key_storage() -> tuple[str, str | None]:
    """Where the cache key will live, or why it cannot be kept safely."""
    try:
        from .keys import backend_id, choose_keyring, system_keyring_backends

        backend = choose_keyring(system_keyring_backends())
    except Exception:  # a broken keyring install: passphrase mode still works
        backend = None
    if backend is not None:
        return f"keyring:{backend_id(backend)}", None
    try:
        importlib.import_module("argon2")
        importlib.import_module("cryptography.hazmat.primitives.ciphers.aead")
    except ImportError:
        return "", (
            "No secure key store: the system has no usable keyring and the passphrase mode's "
            "libraries (argon2-cffi, cryptography) are missing. Reinstall Praxis Inbox."
        )
    return "passphrase", None


def run() -> Preflight:
    problems = []
    sqlcipher = check_sqlcipher()
    if sqlcipher:
        problems.append(sqlcipher)
    storage, problem = check_key_storage()
    if problem:
        problems.append(problem)
    return Preflight(problems=problems, key_storage=storage)
