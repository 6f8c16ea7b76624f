"""The cache key: 32 random bytes, kept in the OS keyring or wrapped under the user's password.

Modes (``CacheKey.protection`` tells the UI which one is active):

- ``keyring:<backend>`` — the key lives in a recommended OS secret store. Insecure stores
  (``fail``, ``null``, plaintext, anything from ``keyrings.alt``) are refused.
  ``key.json`` then records only *which* backend holds the key (no key material), so a later
  change of backend gives a precise message instead of "cache damaged" (Signal's lesson).
- ``password`` — no usable keyring (headless Linux, CI): the key is wrapped with AES-256-GCM
  under a key derived from the password with Argon2id; ``key.json`` holds the KDF
  parameters, salt, nonce and ciphertext, written atomically with mode 0600.

A plaintext key is never written to disk.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import logging
import os
import secrets
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

log = logging.getLogger("inbox.client.keys")

KEY_FILE = "key.json"
KEY_BYTES = 32
HEADER_VERSION = 1
KEYRING_SERVICE = "praxis-inbox/cache-key"
# Binds the ciphertext to its purpose and format version; a header from elsewhere won't open.
_AAD = b"praxis-inbox/cache-key/v1"

# Module prefixes of keyring backends that do not protect a secret (or only pretend to).
_INSECURE_MODULES = (
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyring.backends.chainer",  # picks among others, some of which may be insecure
    "keyrings.alt",
    "keyrings.cryptfile",  # a file encrypted under a password we would have to store
)
_INSECURE_NAME_WORDS = ("plaintext", "unencrypted", "null", "fail")


class KeyStoreError(Exception):
    """The key could not be obtained; the message is a sentence for the user."""


class WrongPassword(KeyStoreError):
    """The password does not unwrap this cache's key."""

    def __init__(self) -> None:
        super().__init__("The password does not unlock the local cache.")


class KeyUnavailable(KeyStoreError):
    """The key was kept somewhere that no longer has it (keyring changed or emptied)."""


class KeyFileCorrupt(KeyStoreError):
    """``key.json`` is unreadable or was altered."""


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost. The default takes about 130 ms on the 2-core reference machine."""

    time_cost: int = 3
    memory_cost: int = 64 * 1024  # KiB, i.e. 64 MiB
    parallelism: int = 1

    def derive(self, password: str, salt: bytes) -> bytes:
        # NFC so the same password typed on different systems derives the same key.
        secret = unicodedata.normalize("NFC", password).encode("utf-8")
        return hash_secret_raw(
            secret,
            salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            hash_len=KEY_BYTES,
            type=Type.ID,
        )


DEFAULT_KDF = KdfParams()


class CacheKey:
    """The raw cache key and how it is protected. ``wipe()`` zeroes it on lock/close."""

    __slots__ = ("_raw", "protection")

    def __init__(self, raw: bytes | bytearray, protection: str) -> None:
        if len(raw) != KEY_BYTES:
            raise ValueError("a cache key is 32 bytes")
        self._raw = bytearray(raw)
        self.protection = protection

    def hex(self) -> str:
        if not any(self._raw):
            raise ValueError("this key was wiped")
        return self._raw.hex()

    def wipe(self) -> None:
        # Best effort: strings made by hex() cannot be cleared, but the master copy can.
        for i in range(len(self._raw)):
            self._raw[i] = 0

    def __repr__(self) -> str:  # never show the key
        return f"CacheKey(protection={self.protection!r})"


def backend_id(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_name(backend: KeyringBackend) -> str:
    try:
        return str(backend.name)
    except Exception:
        return type(backend).__qualname__


def is_secure_backend(backend: KeyringBackend) -> bool:
    """True for backends keyring recommends (priority ≥ 1) that really protect secrets."""
    module = type(backend).__module__
    if any(module == m or module.startswith(m + ".") for m in _INSECURE_MODULES):
        return False
    lowered = type(backend).__qualname__.lower()
    if any(word in lowered for word in _INSECURE_NAME_WORDS):
        return False
    try:
        # keyring.core.recommended() is exactly this test; priority may raise when the
        # backend's service (e.g. D-Bus) is not reachable, which means "not usable".
        return float(backend.priority) >= 1
    except Exception:
        return False


def system_keyring_backends() -> list[KeyringBackend]:
    """Every keyring backend installed here (usable or not), without touching global state."""
    import keyring.backend

    try:
        return list(keyring.backend.get_all_keyring())
    except Exception:  # a broken third-party backend must not stop sign-in
        log.warning("keyring backends could not be listed", exc_info=True)
        return []


def choose_keyring(candidates: Iterable[KeyringBackend]) -> KeyringBackend | None:
    """The highest-priority secure backend among ``candidates``, or None."""
    secure = [b for b in candidates if is_secure_backend(b)]
    secure.sort(key=lambda b: float(b.priority), reverse=True)
    return secure[0] if secure else None


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) and make the leaf readable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def write_private_file(path: Path, data: bytes) -> None:
    """Write atomically (temp file, fsync, rename, fsync dir) with mode 0600."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise KeyFileCorrupt("The cache key file is damaged.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFileCorrupt("The cache key file is damaged.") from exc


class KeyStore:
    """Gets or creates the cache key of one user's data folder.

    ``keyring_backends``: the candidates to choose from; None means the ones installed on
    this system. Tests pass an in-memory backend, or ``[]`` to force password mode.
    """

    def __init__(
        self,
        folder: Path,
        *,
        keyring_backends: Sequence[KeyringBackend] | None = None,
        kdf: KdfParams = DEFAULT_KDF,
    ) -> None:
        self.folder = folder
        self.path = folder / KEY_FILE
        self._candidates = keyring_backends
        self._kdf = kdf
        # The keyring entry names the folder, so two profiles of one user don't collide.
        self._account = str(folder.resolve())

    # -- inspection ---------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def protection_mode(self) -> str | None:
        """'password', 'keyring' or None (no key yet), without unlocking anything."""
        header = self._read_header()
        return None if header is None else str(header.get("protection"))

    # -- the key ------------------------------------------------------------------------

    def load_or_create(self, password: str) -> CacheKey:
        """Return this folder's key, creating (and protecting) a new one on first use.

        Blocking (Argon2id takes ~100-300 ms): call it from a worker thread.
        """
        header = self._read_header()
        if header is None:
            return self._create(password)
        protection = header.get("protection")
        if protection == "password":
            return self._unwrap(header, password)
        if protection == "keyring":
            return self._from_keyring(header)
        raise KeyFileCorrupt("The cache key file is damaged.")

    def unlock_with_password(self, password: str) -> CacheKey:
        """Unwrap a password-mode key (offline unlock); never creates one."""
        header = self._read_header()
        if header is None or header.get("protection") != "password":
            raise KeyUnavailable("This cache cannot be unlocked offline.")
        return self._unwrap(header, password)

    def change_password(self, old_password: str, new_password: str) -> None:
        """Re-wrap a password-mode key under a new password (after a relay password change)."""
        header = self._read_header()
        if header is None or header.get("protection") != "password":
            return
        key = self._unwrap(header, old_password)
        try:
            self._wrap_and_store(key, new_password)
        finally:
            key.wipe()

    def forget(self) -> None:
        """Delete the key (used when the cache is wiped): the old cache becomes unreadable."""
        try:
            header = self._read_header()
        except KeyStoreError:
            header = None  # a damaged header is deleted all the same
        if header is not None and header.get("protection") == "keyring":
            backend = self._matching_backend(str(header.get("backend", "")))
            if backend is not None:
                for account in (self._account, self._account + "#next"):
                    with contextlib.suppress(Exception):
                        backend.delete_password(KEYRING_SERVICE, account)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # -- offline password check in keyring mode -----------------------------------------

    def set_verifier(self, password: str) -> None:
        """Keyring mode: remember an Argon2id hash of the password for offline unlock.

        The keyring hands out the key without asking for the password, so unlocking a
        locked session offline needs this to check the password first.
        """
        header = self._read_header()
        if header is None or header.get("protection") != "keyring":
            return
        salt = secrets.token_bytes(16)
        header["verifier"] = {
            "kdf": {"name": "argon2id", **asdict(self._kdf)},
            "salt": _b64(salt),
            "hash": _b64(self._kdf.derive(password, salt)),
        }
        write_private_file(self.path, json.dumps(header, indent=1).encode("utf-8"))

    def can_unlock_offline(self) -> bool:
        """True when a password can be checked here without the relay."""
        header = self._read_header()
        if header is None:
            return False
        if header.get("protection") == "password":
            return True
        return isinstance(header.get("verifier"), dict)

    def verify_password(self, password: str) -> bool | None:
        """True/False when a verifier (or a wrapped key) can judge ``password``, else None."""
        header = self._read_header()
        if header is None:
            return None
        if header.get("protection") == "password":
            try:
                self._unwrap(header, password).wipe()
            except WrongPassword:
                return False
            return True
        verifier = header.get("verifier")
        if not isinstance(verifier, dict):
            return None
        kdf = self._kdf_from(verifier.get("kdf"))
        salt, expected = _unb64(verifier.get("salt")), _unb64(verifier.get("hash"))
        return hmac.compare_digest(kdf.derive(password, salt), expected)

    # -- key rotation (crash-safe: stage, rekey the cache, commit) -------------------------

    def stage_rotation(self, new_key: CacheKey, password: str | None) -> None:
        """Keep ``new_key`` beside the current key until ``commit_rotation``.

        If the app dies between ``PRAGMA rekey`` and the commit, the next unlock finds the
        cache opening only with the staged key and finishes the rotation.
        """
        header = self._read_header()
        if header is None:
            raise KeyUnavailable("This cache has no key to rotate.")
        if header.get("protection") == "password":
            if password is None:
                raise WrongPassword()
            self._unwrap(header, password).wipe()  # proves the password before anything
            header["pending"] = self._wrapped(new_key, password)
        elif header.get("protection") == "keyring":
            backend = self._keyring_of(header)
            backend.set_password(KEYRING_SERVICE, self._account + "#next", new_key.hex())
            if backend.get_password(KEYRING_SERVICE, self._account + "#next") != new_key.hex():
                raise KeyUnavailable("The keyring did not keep the new key of the local cache.")
            header["pending"] = True
        else:
            raise KeyFileCorrupt("The cache key file is damaged.")
        write_private_file(self.path, json.dumps(header, indent=1).encode("utf-8"))

    def commit_rotation(self, new_key: CacheKey, password: str | None) -> None:
        """Make ``new_key`` the key (the cache was rekeyed to it); the old one is gone."""
        header = self._read_header()
        if header is None:
            raise KeyUnavailable("This cache has no key to rotate.")
        if header.get("protection") == "password":
            if password is None:
                raise WrongPassword()
            self._wrap_and_store(new_key, password)
            return
        backend = self._keyring_of(header)
        backend.set_password(KEYRING_SERVICE, self._account, new_key.hex())
        if backend.get_password(KEYRING_SERVICE, self._account) != new_key.hex():
            raise KeyUnavailable("The keyring did not keep the new key of the local cache.")
        with contextlib.suppress(Exception):
            backend.delete_password(KEYRING_SERVICE, self._account + "#next")
        header.pop("pending", None)
        write_private_file(self.path, json.dumps(header, indent=1).encode("utf-8"))

    def pending_key(self, password: str | None) -> CacheKey | None:
        """The staged key of an interrupted rotation, or None."""
        header = self._read_header()
        if header is None or not header.get("pending"):
            return None
        if header.get("protection") == "password":
            pending = header["pending"]
            if password is None or not isinstance(pending, dict):
                return None
            return self._unwrap({**header, **pending}, password)
        backend = self._keyring_of(header)
        stored = backend.get_password(KEYRING_SERVICE, self._account + "#next")
        if stored is None:
            return None
        try:
            return CacheKey(bytes.fromhex(stored), f"keyring:{backend_name(backend)}")
        except ValueError:
            return None

    # -- internals ----------------------------------------------------------------------

    def _keyring_of(self, header: dict[str, Any]) -> KeyringBackend:
        wanted = str(header.get("backend", ""))
        backend = self._matching_backend(wanted)
        if backend is None:
            shown = str(header.get("backend_name") or wanted)
            raise KeyUnavailable(
                f"The key of the local cache is kept in the keyring “{shown}”, "
                "which is not available now."
            )
        return backend

    @staticmethod
    def _kdf_from(kdf_raw: Any) -> KdfParams:
        if not isinstance(kdf_raw, dict) or kdf_raw.get("name") != "argon2id":
            raise KeyFileCorrupt("The cache key file is damaged.")
        try:
            return KdfParams(
                time_cost=int(kdf_raw["time_cost"]),
                memory_cost=int(kdf_raw["memory_cost"]),
                parallelism=int(kdf_raw["parallelism"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFileCorrupt("The cache key file is damaged.") from exc

    def _backends(self) -> list[KeyringBackend]:
        if self._candidates is not None:
            return list(self._candidates)
        return system_keyring_backends()

    def _matching_backend(self, wanted: str) -> KeyringBackend | None:
        for backend in self._backends():
            if backend_id(backend) == wanted and is_secure_backend(backend):
                return backend
        return None

    def _read_header(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            header = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeyFileCorrupt("The cache key file is damaged.") from exc
        if not isinstance(header, dict):
            raise KeyFileCorrupt("The cache key file is damaged.")
        if header.get("version") != HEADER_VERSION:
            raise KeyFileCorrupt("The cache key file was made by a newer version of the app.")
        return header

    def _create(self, password: str) -> CacheKey:
        make_private_dir(self.folder)
        raw = secrets.token_bytes(KEY_BYTES)
        backend = choose_keyring(self._backends())
        if backend is not None:
            try:
                backend.set_password(KEYRING_SERVICE, self._account, raw.hex())
                # Some stores accept a write and keep nothing; read it back before relying.
                if backend.get_password(KEYRING_SERVICE, self._account) != raw.hex():
                    raise KeyringError("the keyring did not keep the key")
            except (KeyringError, OSError, RuntimeError) as exc:
                log.warning(
                    "keyring %s unusable (%s); using password protection",
                    backend_id(backend),
                    type(exc).__name__,
                )
            else:
                header = {
                    "version": HEADER_VERSION,
                    "protection": "keyring",
                    "backend": backend_id(backend),
                    "backend_name": backend_name(backend),
                }
                write_private_file(self.path, json.dumps(header, indent=1).encode("utf-8"))
                log.info("new cache key kept in keyring %s", backend_id(backend))
                return CacheKey(raw, f"keyring:{backend_name(backend)}")
        key = CacheKey(raw, "password")
        self._wrap_and_store(key, password)
        log.info("new cache key wrapped with a password-derived key")
        return key

    def _wrapped(self, key: CacheKey, password: str) -> dict[str, Any]:
        salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        started = time.perf_counter()
        kek = self._kdf.derive(password, salt)
        log.debug("argon2id took %.0f ms", (time.perf_counter() - started) * 1000)
        ciphertext = AESGCM(kek).encrypt(nonce, bytes.fromhex(key.hex()), _AAD)
        return {
            "kdf": {"name": "argon2id", **asdict(self._kdf)},
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
        }

    def _wrap_and_store(self, key: CacheKey, password: str) -> None:
        header = {
            "version": HEADER_VERSION,
            "protection": "password",
            "backend": "password",
            "cipher": "aes-256-gcm",
            **self._wrapped(key, password),
        }
        write_private_file(self.path, json.dumps(header, indent=1).encode("utf-8"))

    def _unwrap(self, header: dict[str, Any], password: str) -> CacheKey:
        kdf = self._kdf_from(header.get("kdf"))
        salt, nonce = _unb64(header.get("salt")), _unb64(header.get("nonce"))
        ciphertext = _unb64(header.get("ciphertext"))
        if len(nonce) != 12 or len(salt) < 16:
            raise KeyFileCorrupt("The cache key file is damaged.")
        try:
            kek = kdf.derive(password, salt)
        except Exception as exc:  # absurd parameters from a tampered header
            raise KeyFileCorrupt("The cache key file is damaged.") from exc
        try:
            raw = AESGCM(kek).decrypt(nonce, ciphertext, _AAD)
        except InvalidTag as exc:
            # A wrong password and a tampered header are indistinguishable by design.
            raise WrongPassword() from exc
        if len(raw) != KEY_BYTES:
            raise KeyFileCorrupt("The cache key file is damaged.")
        return CacheKey(raw, "password")

    def _from_keyring(self, header: dict[str, Any]) -> CacheKey:
        wanted = str(header.get("backend", ""))
        shown = str(header.get("backend_name") or wanted)
        backend = self._matching_backend(wanted)
        if backend is None:
            raise KeyUnavailable(
                f"The key of the local cache is kept in the keyring “{shown}”, "
                "which is not available now."
            )
        try:
            stored = backend.get_password(KEYRING_SERVICE, self._account)
        except KeyringError as exc:
            raise KeyUnavailable(
                f"The keyring “{shown}” refused to give out the key of the local cache."
            ) from exc
        if stored is None:
            raise KeyUnavailable(
                f"The keyring “{shown}” no longer holds the key of the local cache."
            )
        try:
            raw = bytes.fromhex(stored)
        except ValueError as exc:
            raise KeyUnavailable(f"The keyring “{shown}” holds a damaged cache key.") from exc
        if len(raw) != KEY_BYTES:
            raise KeyUnavailable(f"The keyring “{shown}” holds a damaged cache key.")
        return CacheKey(raw, f"keyring:{backend_name(backend)}")
