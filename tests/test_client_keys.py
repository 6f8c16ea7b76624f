"""The cache key: keyring mode (with an in-memory test backend) and password mode."""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from inbox_app.client.keys import (
    DEFAULT_KDF,
    CacheKey,
    KdfParams,
    KeyFileCorrupt,
    KeyStore,
    KeyUnavailable,
    WrongPassword,
    choose_keyring,
    is_secure_backend,
)

FAST_KDF = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


class MemoryKeyring(KeyringBackend):
    """A keyring for tests only. Its constructor needs an argument, so keyring's own
    discovery (which builds backends without arguments) can never pick it up."""

    priority = 5  # type: ignore[assignment]

    def __init__(self, store: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.store = store

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


class ForgetfulKeyring(MemoryKeyring):
    """Accepts writes and keeps nothing (some broken stores do this)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        return None


class LowPriorityKeyring(MemoryKeyring):
    priority = 0.5  # type: ignore[assignment]


class PlaintextKeyring(MemoryKeyring):
    """Pretends to come from keyrings.alt (a plaintext file store)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _no_secret_in(path: Path, key: CacheKey) -> None:
    raw = bytes.fromhex(key.hex())
    data = path.read_bytes()
    assert key.hex().encode() not in data
    assert key.hex().upper().encode() not in data
    assert base64.b64encode(raw) not in data
    assert raw not in data


def test_password_mode_round_trip_and_file_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "anna"
    store = KeyStore(folder, keyring_backends=[], kdf=DEFAULT_KDF)
    key = store.load_or_create("correct horse")
    assert key.protection == "password"
    assert _mode(folder) == 0o700
    assert _mode(store.path) == 0o600
    _no_secret_in(store.path, key)
    header = json.loads(store.path.read_text())
    assert header["version"] == 1 and header["protection"] == "password"
    assert header["backend"] == "password"
    assert header["kdf"] == {
        "name": "argon2id",
        "time_cost": 3,
        "memory_cost": 65536,
        "parallelism": 1,
    }
    assert {"salt", "nonce", "ciphertext"} <= set(header)
    # Only key.json (written via a temp file that must be gone) is in the folder.
    assert sorted(p.name for p in folder.iterdir()) == ["key.json"]

    started = time.perf_counter()
    again = KeyStore(folder, keyring_backends=[]).load_or_create("correct horse")
    elapsed = time.perf_counter() - started
    assert again.hex() == key.hex()
    assert elapsed < 3.0  # ~130 ms here; generous for a loaded CI machine


def test_wrong_password_is_a_clear_error(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "anna", keyring_backends=[], kdf=FAST_KDF)
    store.load_or_create("correct horse")
    with pytest.raises(WrongPassword, match="password"):
        store.load_or_create("wrong horse")
    with pytest.raises(WrongPassword):
        store.unlock_with_password("")


def test_tampered_or_damaged_key_file(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "anna", keyring_backends=[], kdf=FAST_KDF)
    store.load_or_create("pw")
    header = json.loads(store.path.read_text())
    blob = bytearray(base64.b64decode(header["ciphertext"]))
    blob[0] ^= 1
    header["ciphertext"] = base64.b64encode(bytes(blob)).decode()
    store.path.write_text(json.dumps(header))
    with pytest.raises(WrongPassword):  # GCM cannot tell tampering from a wrong password
        store.load_or_create("pw")
    store.path.write_text("{not json")
    with pytest.raises(KeyFileCorrupt):
        store.load_or_create("pw")
    store.path.write_text(json.dumps({"version": 99}))
    with pytest.raises(KeyFileCorrupt, match="newer"):
        store.load_or_create("pw")


def test_change_password_rewraps_the_same_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "anna", keyring_backends=[], kdf=FAST_KDF)
    key = store.load_or_create("old")
    store.change_password("old", "new")
    assert store.load_or_create("new").hex() == key.hex()
    with pytest.raises(WrongPassword):
        store.load_or_create("old")


def test_keyring_mode_with_a_secure_backend(tmp_path: Path) -> None:
    secrets: dict[tuple[str, str], str] = {}
    backend = MemoryKeyring(secrets)
    folder = tmp_path / "anna"
    store = KeyStore(folder, keyring_backends=[fail.Keyring(), backend], kdf=FAST_KDF)
    key = store.load_or_create("ignored in keyring mode")
    assert key.protection == f"keyring:{backend.name}"
    assert list(secrets.values()) == [key.hex()]
    # key.json only records where the key is; it holds no key material.
    header = json.loads(store.path.read_text())
    assert header["protection"] == "keyring"
    assert header["backend"].endswith("MemoryKeyring")
    assert not {"salt", "nonce", "ciphertext"} & set(header)
    _no_secret_in(store.path, key)
    assert _mode(store.path) == 0o600

    again = KeyStore(folder, keyring_backends=[backend]).load_or_create("anything")
    assert again.hex() == key.hex()

    # A keyring that lost the key, or a missing backend: precise errors, not "corrupt".
    with pytest.raises(KeyUnavailable, match="not available"):
        KeyStore(folder, keyring_backends=[]).load_or_create("x")
    secrets.clear()
    with pytest.raises(KeyUnavailable, match="no longer holds"):
        KeyStore(folder, keyring_backends=[backend]).load_or_create("x")

    store.forget()
    assert not store.path.exists()


@pytest.mark.parametrize(
    "backend",
    [
        fail.Keyring(),
        null.Keyring(),
        PlaintextKeyring({}),
        LowPriorityKeyring({}),
        ForgetfulKeyring({}),
    ],
    ids=["fail", "null", "keyrings.alt", "low-priority", "forgetful"],
)
def test_insecure_or_broken_keyrings_fall_back_to_password(
    tmp_path: Path, backend: KeyringBackend
) -> None:
    store = KeyStore(tmp_path / "anna", keyring_backends=[backend], kdf=FAST_KDF)
    key = store.load_or_create("pw")
    assert key.protection == "password"
    _no_secret_in(store.path, key)


def test_backend_choice_prefers_highest_secure_priority() -> None:
    low, high = LowPriorityKeyring({}), MemoryKeyring({})
    assert not is_secure_backend(low)
    assert is_secure_backend(high)
    assert not is_secure_backend(PlaintextKeyring({}))
    assert choose_keyring([null.Keyring(), low, high]) is high
    assert choose_keyring([fail.Keyring()]) is None


def test_key_object_does_not_leak_and_wipes() -> None:
    key = CacheKey(bytes(range(32)), "password")
    assert bytes(range(32)).hex() not in repr(key)
    key.wipe()
    with pytest.raises(ValueError):
        key.hex()
    with pytest.raises(ValueError):
        CacheKey(b"short", "password")


def test_offline_password_check_in_both_modes(tmp_path: Path) -> None:
    wrapped = KeyStore(tmp_path / "p", keyring_backends=[], kdf=FAST_KDF)
    assert not wrapped.can_unlock_offline() and wrapped.verify_password("x") is None
    wrapped.load_or_create("pw one").wipe()
    assert wrapped.can_unlock_offline()
    assert wrapped.verify_password("pw one") is True
    assert wrapped.verify_password("pw two") is False

    store: dict[tuple[str, str], str] = {}
    kept = KeyStore(tmp_path / "k", keyring_backends=[MemoryKeyring(store)], kdf=FAST_KDF)
    key = kept.load_or_create("pw one")
    assert not kept.can_unlock_offline()  # no verifier until a sign-in recorded one
    assert kept.verify_password("pw one") is None
    kept.set_verifier("pw one")
    assert kept.can_unlock_offline()
    assert kept.verify_password("pw one") is True
    assert kept.verify_password("pw one ") is False
    verifier = json.loads(kept.path.read_text())["verifier"]
    assert set(verifier) == {"kdf", "salt", "hash"}
    _no_secret_in(kept.path, key)
    wrapped.set_verifier("ignored")  # password mode needs none: the wrapped key is the check
    assert "verifier" not in json.loads(wrapped.path.read_text())


@pytest.mark.parametrize("mode", ["password", "keyring"])
def test_rotation_is_staged_then_committed(tmp_path: Path, mode: str) -> None:
    store: dict[tuple[str, str], str] = {}
    backends = [MemoryKeyring(store)] if mode == "keyring" else []
    keys = KeyStore(tmp_path / "u", keyring_backends=backends, kdf=FAST_KDF)
    old = keys.load_or_create("pw")
    new = CacheKey(os.urandom(32), old.protection)
    assert keys.pending_key("pw") is None
    if mode == "password":
        with pytest.raises(WrongPassword):
            keys.stage_rotation(new, "wrong")
    keys.stage_rotation(new, "pw")
    # Staged: the current key is unchanged, the new one can be recovered.
    assert keys.load_or_create("pw").hex() == old.hex()
    pending = keys.pending_key("pw")
    assert pending is not None and pending.hex() == new.hex()
    _no_secret_in(keys.path, new)
    keys.commit_rotation(new, "pw")
    assert keys.load_or_create("pw").hex() == new.hex()
    assert keys.pending_key("pw") is None
    if mode == "keyring":
        assert list(store.values()) == [new.hex()]
    keys.forget()
    assert not store and not keys.path.exists()
