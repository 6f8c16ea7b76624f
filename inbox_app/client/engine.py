"""The one object the UI talks to: sign-in, the encrypted cache, sync and the outbox.

Everything here is plain asyncio; the UI bridges ``ChangeSummary`` callbacks to Qt signals.
Listeners are called on the event loop's thread, after the change is committed.

Data layout, per user: ``config.data_dir / <username> /`` holds ``cache.db`` (+ ``-wal`` and
``-shm``) and ``key.json``; nothing else. The folder is 0700, the files 0600. Beside the
user folders, ``data_dir / device-id`` names this installation (no personal data) so the
relay can order one device's cache wiped.

Session lifecycle (``session``, and ``ChangeSummary.session`` to listeners)::

    SIGNED_OUT --sign_in--> UNLOCKED --lock--> LOCKED --unlock(password)--> UNLOCKED
    UNLOCKED/LOCKED --close/sign_out--> SIGNED_OUT;   remote wipe --> WIPED

Locking closes the cache, drops the key and the relay token from memory and pauses sync
and the outbox; ``unlock`` checks the password before anything is opened (the wrapped key
in password mode; the relay, or offline an Argon2id verifier, in keyring mode).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from keyring.backend import KeyringBackend

from inbox_app.client import logsafe
from inbox_app.client.api import (
    SECOND_FACTOR_CODES,
    ConversationClaimed,
    RelayClient,
    RelayError,
    RelayUnavailable,
    SlotTakenError,
    Unauthorized,
    WipeOrdered,
)
from inbox_app.client.audit_session import AuditSession
from inbox_app.client.booking import SlotOffer
from inbox_app.client.cache import (
    CACHE_FILE,
    Cache,
    CacheCorrupt,
    CacheKeyError,
    CacheOnNetworkFilesystem,
    CacheTooNew,
    ensure_local_filesystem,
    note_message_id,
    remove_cache_files,
)
from inbox_app.client.keys import (
    DEFAULT_KDF,
    KEY_BYTES,
    CacheKey,
    KdfParams,
    KeyFileCorrupt,
    KeyStore,
    KeyStoreError,
    KeyUnavailable,
    WrongPassword,
    make_private_dir,
    write_private_file,
)
from inbox_app.client.outbox import Outbox
from inbox_app.client.read_audit import ReadReports
from inbox_app.client.records import (
    ChangeSummary,
    ConnectionState,
    FeedEvent,
    SessionState,
    SignedInUser,
    appointment_from_json,
    consent_from_json,
    patient_from_json,
)
from inbox_app.client.sync import SyncEngine
from inbox_app.domain.appointments import AppointmentRecord, PatientRecord
from inbox_app.domain.consent import ConsentRecord
from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.escalations import CallRecord, EscalationRecord
from inbox_app.domain.messages import MessageRecord
from inbox_app.domain.results import check_result

__all__ = [
    "CacheOnNetworkFilesystem",
    "CacheUnreadable",
    "ChangeSummary",
    "ClientEngine",
    "ConnectionState",
    "ConversationClaimed",
    "EngineConfig",
    "EngineLocked",
    "NotSignedIn",
    "PresenceListener",
    "RelayError",
    "RelayUnavailable",
    "SessionState",
    "SignedInUser",
    "SlotOffer",
    "SlotTakenError",
    "WipeOrdered",
    "WrongPassword",
]

log = logging.getLogger("inbox.client.engine")
# How long unlocking in password mode waits for the relay's login before going on offline.
UNLOCK_LOGIN_SECONDS = 5.0

_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _appointment_answer(answer: dict[str, Any]) -> AppointmentRecord:
    try:
        return appointment_from_json(answer["appointment"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RelayError("The relay sent an unreadable answer.", status=200) from exc


def _patient_answer(answer: dict[str, Any]) -> PatientRecord:
    try:
        return patient_from_json(answer["patient"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RelayError("The relay sent an unreadable answer.", status=200) from exc


class NotSignedIn(RuntimeError):
    """A cache operation was called before ``sign_in`` or after ``close`` (our bug)."""


class EngineLocked(NotSignedIn):
    """The session is locked: ``unlock(password)`` first."""


DEVICE_FILE = "device-id"
COMMAND_SYNC_WAIT = 2.0  # seconds a command waits for its new state to arrive by the feed
ESCALATED_LABEL = "escalated"  # the relay has no escalation route: a label marks it
CONVERSATION_STATUSES = ("open", "pending", "snoozed", "resolved")
PRESENCE_STATES = ("viewing", "typing", "idle")

# cb(conversation_id, typing_name, viewing): who types (None when nobody) and the display
# names of colleagues looking at the conversation (typing ones included), sorted.
PresenceListener = Callable[[int, str | None, list[str]], None]


class CacheUnreadable(KeyStoreError):
    """The relay accepted the user but the local cache cannot be opened.

    Signing in again with ``reset_unreadable_cache=True`` starts a fresh cache (unsent
    messages in the old one are lost); the message says why it is unreadable.
    """


@dataclass(slots=True)
class EngineConfig:
    relay_url: str
    data_dir: Path  # per-user subfolder is made below it
    extra: dict[str, str] = field(default_factory=dict)


def user_folder_name(username: str) -> str:
    """A folder name for ``username`` that cannot escape ``data_dir``."""
    if _SAFE_FOLDER.fullmatch(username) and username not in (".", ".."):
        return username
    return "u-" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:24]


class ClientEngine:
    """Sign-in, cache, sync and outbox for one user at a time.

    ``keyring_backends`` picks the candidate OS secret stores (None: those installed);
    ``kdf`` the Argon2id cost for password mode; ``transport`` an httpx transport (tests).
    """

    def __init__(
        self,
        config: EngineConfig,
        *,
        keyring_backends: Sequence[KeyringBackend] | None = None,
        kdf: KdfParams = DEFAULT_KDF,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
    ) -> None:
        self._config = config
        self._keyring_backends = keyring_backends
        self._kdf = kdf
        self._transport = transport
        self._backoff = (backoff_initial, backoff_max)
        self._listeners: list[Callable[[ChangeSummary], None]] = []
        self._api: RelayClient | None = None
        self._cache: Cache | None = None
        self._key: CacheKey | None = None
        self._protection = ""
        self._user: SignedInUser | None = None
        self._sync: SyncEngine | None = None
        self._outbox: Outbox | None = None
        self._reads: ReadReports | None = None  # searches and openings, for the audit trail
        self._tasks: list[asyncio.Task[None]] = []
        # Only after an offline unlock: to log in once the relay is back, then dropped.
        self._pending_password: str | None = None
        self._pending_username: str | None = None
        self._session = SessionState.SIGNED_OUT
        self._folder: Path | None = None
        self._username: str | None = None
        self._resume_tasks = False
        self._offline_since: float | None = None
        # Set when the relay wanted the authenticator code after an offline unlock.
        self._second_factor_needed = False
        self._lock_task: asyncio.Task[None] | None = None
        self._device_id: str | None = None
        self._wipe_task: asyncio.Task[None] | None = None
        self._presence_listeners: list[Callable[[int, str | None, list[str]], None]] = []
        # conversation id -> user id -> (display name, state, expires_at): ephemeral.
        self._presence: dict[int, dict[int, tuple[str, str, float]]] = {}
        self._presence_timers: dict[int, asyncio.TimerHandle] = {}
        self._presence_seed: asyncio.Task[None] | None = None
        # Defence in depth for I5: every log record of the process is redacted from now on.
        logsafe.install()

    # -- sign-in and lifecycle ------------------------------------------------------------

    def user_folder(self, username: str) -> Path:
        return self._config.data_dir / user_folder_name(username)

    async def sign_in(
        self,
        username: str,
        password: str,
        *,
        reset_unreadable_cache: bool = False,
        code: str | None = None,
    ) -> SignedInUser:
        """Log in to the relay, unlock (or create) this user's encrypted cache.

        Offline (relay unreachable) a password-mode cache is unlocked with the password and
        the engine stays OFFLINE until the relay answers. Raises ``Unauthorized`` for wrong
        credentials, ``RelayUnavailable`` when offline without a usable cache,
        ``WrongPassword`` offline, ``CacheUnreadable`` when the cache cannot be opened,
        ``CacheOnNetworkFilesystem`` when the data folder is on a network drive. An account
        with a second factor answers ``Unauthorized`` with ``code`` ``totp_required`` (sign
        in again with ``code``) or ``totp_invalid``.
        """
        if self._cache is not None or self._session is SessionState.LOCKED:
            raise RuntimeError("already signed in; close() first")
        folder = self.user_folder(username)
        # Before anything (key.json included) is written there.
        await asyncio.to_thread(ensure_local_filesystem, folder)
        keystore = self._keystore(folder)
        cache_path = folder / CACHE_FILE
        self._device_id = await asyncio.to_thread(self._load_device_id, create=False)
        device_id = self._device_id or secrets.token_hex(16)
        api = RelayClient(self._config.relay_url, transport=self._transport, device_id=device_id)
        offline = False
        try:
            try:
                # ``code``: the second-factor code, once the relay answered totp_required.
                user: SignedInUser | None = await api.login(username, password, code=code)
            except WipeOrdered:
                log.warning("the relay ordered this user's local cache wiped at sign-in")
                await asyncio.to_thread(self._wipe_folder, folder)
                raise
            except RelayUnavailable:
                if not await asyncio.to_thread(self._offline_unlockable, keystore, cache_path):
                    raise
                log.info("relay unreachable; unlocking the cache offline")
                offline, user = True, None
            if offline:
                key, cache = await self._unlock_locally(keystore, cache_path, password)
                stored = await cache.get_json("user")
                if not isinstance(stored, dict):
                    await cache.close()
                    key.wipe()
                    raise RelayUnavailable("The relay cannot be reached.")
                user = SignedInUser.from_json(stored)
                self._pending_username, self._pending_password = username, password
            else:
                key, cache = await self._unlock_online(
                    keystore, cache_path, password, reset_unreadable_cache
                )
                assert user is not None
                try:
                    # Staff identity (no patient data) for the next offline unlock.
                    await cache.set_meta("user", json.dumps(user.to_json()))
                    if key.protection.startswith("keyring:"):
                        # The keyring gives the key without a password: keep a verifier so
                        # an offline unlock can still check the password first.
                        await asyncio.to_thread(keystore.set_verifier, password)
                    if self._device_id is None:
                        self._device_id = await asyncio.to_thread(
                            self._load_device_id, create=True, value=device_id
                        )
                except BaseException:
                    await cache.close()
                    key.wipe()
                    raise
        except BaseException:
            await api.aclose()
            raise
        self._api, self._cache, self._key, self._user = api, cache, key, user
        self._protection = key.protection
        self._folder, self._username = folder, username
        self._make_workers(cache, api)
        self._session = SessionState.UNLOCKED
        self._offline_since = time.time() if offline else None
        self._wipe_task = None
        log.info(
            "signed in as user %d (%s, %s)",
            user.id,
            key.protection,
            "offline" if offline else "online",
        )
        return user

    def _keystore(self, folder: Path) -> KeyStore:
        return KeyStore(folder, keyring_backends=self._keyring_backends, kdf=self._kdf)

    def _make_workers(self, cache: Cache, api: RelayClient) -> None:
        api.on_presence = self._on_presence
        self._sync = SyncEngine(
            cache,
            api,
            on_change=self._emit,
            on_state=self._on_state,
            # Logs in with a remembered password only after an offline unlock.
            authenticate=self._login_again,
            on_wipe=self._wipe_ordered,
            wipe_applies=self._wipe_applies,
            backoff_initial=self._backoff[0],
            backoff_max=self._backoff[1],
        )
        self._outbox = Outbox(
            cache,
            api,
            on_change=self._emit,
            retry_initial=self._backoff[0],
            retry_max=self._backoff[1],
            on_wipe=self._wipe_ordered,
        )
        self._reads = ReadReports(
            cache,
            api,
            retry_initial=self._backoff[0],
            retry_max=self._backoff[1],
            on_wipe=self._wipe_ordered,
        )

    def _load_device_id(self, *, create: bool, value: str | None = None) -> str | None:
        path = self._config.data_dir / DEVICE_FILE
        try:
            found = path.read_text(encoding="ascii").strip()
            if re.fullmatch(r"[0-9a-f]{32}", found):
                return found
        except (OSError, UnicodeDecodeError):
            pass
        if not create:
            return None
        make_private_dir(self._config.data_dir)
        device_id = value or secrets.token_hex(16)
        write_private_file(path, device_id.encode("ascii"))
        return device_id

    @staticmethod
    def _offline_unlockable(keystore: KeyStore, cache_path: Path) -> bool:
        return cache_path.exists() and keystore.can_unlock_offline()

    @staticmethod
    def _local_key(keystore: KeyStore, password: str) -> CacheKey:
        """The key after checking ``password`` locally (no relay): a wrong one opens nothing."""
        mode = keystore.protection_mode()
        if mode == "password":
            return keystore.unlock_with_password(password)
        if mode == "keyring":
            verdict = keystore.verify_password(password)
            if verdict is None:
                raise KeyUnavailable("This cache cannot be unlocked offline.")
            if not verdict:
                raise WrongPassword()
            return keystore.load_or_create(password)
        raise KeyUnavailable("This cache cannot be unlocked offline.")

    async def _unlock_locally(
        self, keystore: KeyStore, cache_path: Path, password: str
    ) -> tuple[CacheKey, Cache]:
        key = await asyncio.to_thread(self._local_key, keystore, password)
        return await self._open_with_recovery(keystore, cache_path, key, password)

    @staticmethod
    async def _open_with_recovery(
        keystore: KeyStore, cache_path: Path, key: CacheKey, password: str | None
    ) -> tuple[CacheKey, Cache]:
        """Open with ``key``; if a rotation was interrupted after the rekey, finish it."""
        try:
            return key, await Cache.open(cache_path, key)
        except CacheKeyError:
            try:
                pending = await asyncio.to_thread(keystore.pending_key, password)
            except KeyStoreError:
                pending = None
            if pending is None:
                key.wipe()
                raise
            try:
                cache = await Cache.open(cache_path, pending)
            except BaseException:
                pending.wipe()
                key.wipe()
                raise
            key.wipe()
            await asyncio.to_thread(keystore.commit_rotation, pending, password)
            log.warning("finished an interrupted key rotation")
            return pending, cache
        except BaseException:
            key.wipe()
            raise

    async def _unlock_online(
        self, keystore: KeyStore, cache_path: Path, password: str, reset: bool
    ) -> tuple[CacheKey, Cache]:
        try:
            key = await asyncio.to_thread(self._load_or_create_key, keystore, cache_path, password)
        except (WrongPassword, KeyUnavailable, KeyFileCorrupt) as exc:
            if not reset:
                reason = (
                    "The local cache was locked with a different password."
                    if isinstance(exc, WrongPassword)
                    else str(exc)
                )
                raise CacheUnreadable(reason) from exc
            log.warning("resetting the cache: key unavailable (%s)", type(exc).__name__)
            return await self._fresh_cache(keystore, cache_path, password)
        try:
            return await self._open_with_recovery(keystore, cache_path, key, password)
        except (CacheKeyError, CacheCorrupt, CacheTooNew) as exc:
            if not reset:
                key.wipe()
                raise CacheUnreadable(str(exc)) from exc
            log.warning("resetting the cache: %s", type(exc).__name__)
            key.wipe()
            return await self._fresh_cache(keystore, cache_path, password)

    @staticmethod
    def _load_or_create_key(keystore: KeyStore, cache_path: Path, password: str) -> CacheKey:
        make_private_dir(keystore.folder)
        if not keystore.exists() and cache_path.exists():
            # Without its key an old cache is noise; nothing in it can be read.
            log.warning("cache without a key found; starting a fresh cache")
            remove_cache_files(cache_path)
        return keystore.load_or_create(password)

    async def _fresh_cache(
        self, keystore: KeyStore, cache_path: Path, password: str
    ) -> tuple[CacheKey, Cache]:
        await asyncio.to_thread(keystore.forget)
        await asyncio.to_thread(remove_cache_files, cache_path)
        key = await asyncio.to_thread(keystore.load_or_create, password)
        return key, await self._open_cache(cache_path, key)

    @staticmethod
    async def _open_cache(path: Path, key: CacheKey) -> Cache:
        try:
            return await Cache.open(path, key)
        except BaseException:
            key.wipe()
            raise

    async def _login_again(self) -> None:
        """After an offline unlock: log in with the remembered password, then forget it.

        An account with a second factor cannot log in with the password alone: the session
        locks, and ``unlock(password, code=…)`` reconnects (``second_factor_needed``)."""
        assert self._api is not None
        if self._pending_username is None or self._pending_password is None:
            return
        if self._api.token:
            self._pending_username = self._pending_password = None
            return
        try:
            await self._api.login(self._pending_username, self._pending_password)
        except Unauthorized as exc:
            if exc.code in SECOND_FACTOR_CODES and not isinstance(exc, WipeOrdered):
                log.info("the relay asks for the second factor: locking until it is entered")
                self._second_factor_needed = True
                # Its own task: lock() stops the sync task this runs in.
                self._lock_task = asyncio.create_task(self.lock(), name="inbox-lock-2fa")
            raise
        self._pending_username = self._pending_password = None
        log.info("logged in to the relay after an offline unlock")

    @property
    def second_factor_needed(self) -> bool:
        """The relay wants the authenticator code: unlock with ``code`` to reconnect."""
        return self._second_factor_needed

    async def start(self) -> None:
        """Start syncing (catch-up, then SSE) and flushing the outbox in the background."""
        if self._sync is None or self._outbox is None:
            raise NotSignedIn("sign_in() first")
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._sync.run(), name="inbox-sync"),
            asyncio.create_task(self._outbox.run(), name="inbox-outbox"),
        ]
        if self._reads is not None:
            self._tasks.append(asyncio.create_task(self._reads.run(), name="inbox-read-audit"))
        for task in self._tasks:
            task.add_done_callback(self._task_done)

    @staticmethod
    def _task_done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop background tasks, close the cache and drop the key from memory."""
        await self._stop_tasks()
        seed = self._presence_seed
        self._clear_presence()
        if seed is not None:
            # Let it finish cancelling before its HTTP client closes under it.
            await asyncio.gather(seed, return_exceptions=True)
        self._session = SessionState.SIGNED_OUT
        self._folder = self._username = None
        self._resume_tasks = False
        self._offline_since = None
        logsafe.clear_sensitive()
        api, self._api = self._api, None
        cache, self._cache = self._cache, None
        try:
            if api is not None:
                await api.aclose()
        finally:
            try:
                if cache is not None:
                    await cache.close()
            finally:
                if self._key is not None:
                    self._key.wipe()
                self._key = None
                self._pending_password = self._pending_username = None
                self._sync = self._outbox = self._reads = None
                self._user = None

    async def sign_out(self, *, wipe: bool = False) -> None:
        """Close; with ``wipe`` also delete the cache and its key (unsent messages too).

        Works while locked as well. A wipe removes every file of this user (``cache.db``,
        ``-wal``, ``-shm``, ``key.json``, the folder) and the keyring entry.
        """
        folder = self._folder
        await self.close()
        if wipe and folder is not None:
            await asyncio.to_thread(self._wipe_folder, folder)

    async def wipe_local_data(self, username: str) -> None:
        """Erase ``username``'s local cache and key (e.g. from the sign-in screen)."""
        folder = self.user_folder(username)
        if folder == self._folder:
            await self.sign_out(wipe=True)
            return
        await asyncio.to_thread(self._wipe_folder, folder)

    def _wipe_folder(self, folder: Path) -> None:
        self._keystore(folder).forget()
        remove_cache_files(folder / CACHE_FILE)
        # Anything else left behind (an interrupted atomic write of key.json) goes too.
        shutil.rmtree(folder, ignore_errors=True)
        log.info("local cache wiped")

    # -- remote wipe ----------------------------------------------------------------------

    def _wipe_applies(self, event: FeedEvent) -> bool:
        """A ``wipe`` event names a user id and/or a device id; every given one must match."""
        user_id, device_id = event.data.get("user_id"), event.data.get("device_id")
        if user_id is None and device_id is None:
            return False
        if user_id is not None:
            try:
                if self._user is None or int(user_id) != self._user.id:
                    return False
            except (TypeError, ValueError):
                return False
        return device_id is None or (self._device_id is not None and device_id == self._device_id)

    def _wipe_ordered(self) -> None:
        # Called from inside the sync or outbox task, which the wipe cancels: run it apart.
        if self._wipe_task is None or self._wipe_task.done():
            self._wipe_task = asyncio.get_running_loop().create_task(
                self._remote_wipe(), name="inbox-remote-wipe"
            )

    async def _remote_wipe(self) -> None:
        folder = self._folder
        log.warning("wiping the local cache as ordered by the relay")
        await self.close()
        if folder is not None:
            await asyncio.to_thread(self._wipe_folder, folder)
        self._session = SessionState.WIPED
        self._emit(ChangeSummary(session=SessionState.WIPED, connection=ConnectionState.OFFLINE))

    async def wait_wiped(self) -> None:
        """Wait for a remote wipe in progress to finish (tests, sign-out screens)."""
        if self._wipe_task is not None:
            await asyncio.shield(self._wipe_task)

    # -- lock -----------------------------------------------------------------------------

    async def lock(self) -> None:
        """Close the cache and drop the key and relay token from memory; sync pauses.

        ``unlock(password)`` reopens. Harmless when not unlocked.
        """
        if self._session is not SessionState.UNLOCKED:
            return
        self._resume_tasks = bool(self._tasks)
        self._clear_presence(emit=True)
        since = self._offline_since
        await self._stop_tasks()
        self._offline_since = since  # stopping sync is not losing the connection
        cache, self._cache = self._cache, None
        try:
            if cache is not None:
                await cache.close()
        finally:
            if self._key is not None:
                self._key.wipe()
            self._key = None
            self._sync = self._outbox = self._reads = None
            if self._api is not None:
                self._api.token = None  # unlock logs in again
            self._pending_password = self._pending_username = None
            logsafe.clear_sensitive()
            self._session = SessionState.LOCKED
            log.info("session locked")
            self._emit(ChangeSummary(session=SessionState.LOCKED))

    async def unlock(self, password: str, *, code: str | None = None) -> None:
        """Check ``password``, then reopen the cache and resume sync and the outbox.

        Password mode: the password must unwrap the key. Keyring mode: the relay must
        accept it (or, offline, the stored Argon2id verifier). Raises ``WrongPassword``
        (nothing is opened), ``WipeOrdered`` (the cache was wiped), ``CacheUnreadable``,
        and ``Unauthorized`` with a ``SECOND_FACTOR_CODES`` code when the relay answers and
        wants the authenticator ``code`` (nothing is opened; try again with it).
        """
        if self._session is not SessionState.LOCKED:
            raise NotSignedIn("The session is not locked.")
        folder, username, api = self._folder, self._username, self._api
        assert folder is not None and username is not None and api is not None
        keystore = self._keystore(folder)
        cache_path = folder / CACHE_FILE
        mode = await asyncio.to_thread(keystore.protection_mode)
        online = False
        if mode == "keyring":
            try:
                await api.login(username, password, code=code)
                online = True
            except WipeOrdered:
                self._wipe_ordered()
                await self.wait_wiped()
                raise
            except Unauthorized as exc:
                if exc.code in SECOND_FACTOR_CODES:
                    raise  # the password was right: ask for the code
                log.info("unlock refused by the relay")
                raise WrongPassword() from exc
            except RelayUnavailable:
                log.info("relay unreachable; checking the password offline")
        try:
            if online:
                key = await asyncio.to_thread(keystore.load_or_create, password)
                key, cache = await self._open_with_recovery(keystore, cache_path, key, password)
                # The relay accepted this password: offline unlocks check against it now.
                await asyncio.to_thread(keystore.set_verifier, password)
            else:
                key, cache = await self._unlock_locally(keystore, cache_path, password)
        except (KeyUnavailable, KeyFileCorrupt, CacheKeyError, CacheCorrupt, CacheTooNew) as exc:
            raise CacheUnreadable(str(exc)) from exc
        if not online:
            # Password mode (or keyring mode offline): the password is right. Log in now if
            # the relay answers, so a second factor is asked for here, not lost later in
            # the background; unreachable, the sync task logs in once it is back.
            try:
                # Bounded: a slow network must not hold the unlock (the sync task retries).
                await asyncio.wait_for(
                    api.login(username, password, code=code), UNLOCK_LOGIN_SECONDS
                )
                online = True
            except (RelayUnavailable, TimeoutError):
                pass
            except Unauthorized as exc:
                if exc.code in SECOND_FACTOR_CODES or isinstance(exc, WipeOrdered):
                    await cache.close()
                    key.wipe()
                    if isinstance(exc, WipeOrdered):
                        self._wipe_ordered()
                        await self.wait_wiped()
                    raise
                log.info("the relay refused the password the cache accepted")
        self._second_factor_needed = False
        self._cache, self._key = cache, key
        if not online:
            # The token was dropped at lock: the sync task logs in once the relay answers.
            self._pending_username, self._pending_password = username, password
        self._make_workers(cache, api)
        self._session = SessionState.UNLOCKED
        log.info("session unlocked")
        self._emit(ChangeSummary(session=SessionState.UNLOCKED))
        if self._resume_tasks:
            await self.start()

    # -- key rotation ---------------------------------------------------------------------

    async def rotate_key(self, password: str | None = None) -> None:
        """Re-encrypt the cache under a new random key and store that key.

        Password mode needs the password (the new key is wrapped under it). Crash-safe: the
        new key is staged in ``key.json``/the keyring before ``PRAGMA rekey`` and committed
        after it; an interrupted rotation is finished at the next unlock.
        """
        cache = self._require_cache()
        old, folder = self._key, self._folder
        assert old is not None and folder is not None
        keystore = self._keystore(folder)
        new = CacheKey(secrets.token_bytes(KEY_BYTES), old.protection)
        try:
            await asyncio.to_thread(keystore.stage_rotation, new, password)
            await cache.rekey(new)
        except BaseException:
            new.wipe()
            raise
        await asyncio.to_thread(keystore.commit_rotation, new, password)
        old.wipe()
        self._key = new
        log.info("cache key rotated")

    # -- listeners and state --------------------------------------------------------------

    def add_listener(self, listener: Callable[[ChangeSummary], None]) -> None:
        """Call ``listener`` on the event loop after each committed change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[ChangeSummary], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, summary: ChangeSummary) -> None:
        for listener in list(self._listeners):
            try:
                listener(summary)
            except Exception:
                # A broken view must not stop sync; the UI's own handler reports it.
                log.exception("change listener failed")

    def _on_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.ONLINE:
            self._offline_since = None
        elif state is ConnectionState.OFFLINE and self._offline_since is None:
            self._offline_since = time.time()
        if state is ConnectionState.ONLINE and self._outbox is not None:
            self._outbox.wake()  # the relay is back: send what waited
        if state is ConnectionState.ONLINE and self._reads is not None:
            self._reads.wake()
        if state is ConnectionState.ONLINE:
            if self._presence_seed is None or self._presence_seed.done():
                self._presence_seed = asyncio.get_running_loop().create_task(
                    self._seed_presence(), name="inbox-presence"
                )
        elif state is ConnectionState.OFFLINE:
            self._clear_presence(emit=True)
        self._emit(ChangeSummary(connection=state))

    @property
    def offline_since(self) -> float | None:
        """Wall-clock time (``time.time()``) the relay connection was lost; None while
        online or before the first connection attempt failed."""
        return self._offline_since

    @property
    def session(self) -> SessionState:
        """SIGNED_OUT, UNLOCKED, LOCKED or WIPED."""
        return self._session

    @property
    def locked(self) -> bool:
        return self._session is SessionState.LOCKED

    @property
    def device_id(self) -> str | None:
        """This installation's id (sent as ``X-Inbox-Device``); None before a sign-in."""
        return self._device_id

    @property
    def connection(self) -> ConnectionState:
        return self._sync.state if self._sync is not None else ConnectionState.OFFLINE

    @property
    def protection(self) -> str:
        """Which key protection is in use: 'keyring:<backend>' or 'password'."""
        return self._protection

    @property
    def user(self) -> SignedInUser | None:
        return self._user

    @property
    def sync_engine(self) -> SyncEngine | None:
        return self._sync

    @property
    def outbox(self) -> Outbox | None:
        return self._outbox

    def _require_cache(self) -> Cache:
        if self._cache is None:
            if self._session is SessionState.LOCKED:
                raise EngineLocked("The session is locked.")
            raise NotSignedIn("The local cache is not open.")
        return self._cache

    # -- reads ----------------------------------------------------------------------------

    async def conversations(self) -> list[ConversationRecord]:
        """All cached conversations, newest activity first."""
        return await self._require_cache().conversations()

    async def conversations_by_id(self, ids: frozenset[int]) -> list[ConversationRecord]:
        return await self._require_cache().conversations_by_id(ids)

    async def messages(
        self,
        conversation_id: int,
        *,
        before: tuple[float, int] | None = None,
        limit: int = 50,
        after: tuple[float, int] | None = None,
    ) -> list[MessageRecord]:
        """Up to ``limit`` messages older than the (timestamp, id) key ``before`` (or, with
        ``after``, newer than it: scrolling forward after a search jump), oldest first.

        Includes outbox entries not yet acknowledged, with negative ids and status 'queued'
        ('sending' while a POST is under way, 'failed' with the reason in ``error_title``),
        and internal notes: ``type='note'``, direction 'out', status 'sent', ``author_id``
        set, id ``-(2**52 + note id)`` (``cache.NOTE_ID_BASE``; ``note_details(id)`` has the
        author's name and mentions).
        """
        return await self._require_cache().messages(
            conversation_id, before=before, after=after, limit=limit
        )

    async def note_details(self, message_id: int) -> dict[str, Any] | None:
        """The relay's whole note (``author_name``, ``mentions``, ``created_at``…) behind a
        note's message id; None for other ids."""
        return await self._require_cache().note(message_id)

    async def messages_by_id(self, ids: frozenset[int]) -> list[MessageRecord]:
        return await self._require_cache().messages_by_id(ids)

    async def outbox_entries(self, client_ids: frozenset[str]) -> list[MessageRecord]:
        """Pending outbox entries (negative ids) for these client ids; acknowledged ones absent."""
        entries = await self._require_cache().outbox_entries(client_ids)
        return [e.to_record() for e in entries]

    async def search(self, query: str, *, limit: int = 50) -> list[MessageRecord]:
        """Full-text search over cached message text (every word, prefix match).

        Audited on the relay (kind and number of hits, never the words), queued while
        offline."""
        found = await self._require_cache().search(query, limit=limit)
        await self._report_read("search", results=len(found))
        return found

    async def _report_read(
        self,
        kind: str,
        *,
        results: int | None = None,
        conversation_ids: Sequence[int] = (),
        via: str | None = None,
    ) -> None:
        reads = self._reads
        if reads is None:
            return
        try:
            await reads.record(kind, results=results, conversation_ids=conversation_ids, via=via)
        except Exception:
            # The read itself went fine; a cache write failing here is logged, not shown.
            log.exception("could not queue a %s read report", kind)

    @property
    def read_reports(self) -> ReadReports | None:
        """The queue of read reports for the audit trail (tests, diagnostics)."""
        return self._reads

    # -- patient register ---------------------------------------------------------------

    async def patients_for(self, wa_id: str) -> list[PatientRecord]:
        """Cached patients registered under this WhatsApp number (by patient id)."""
        return await self._require_cache().patients_for(wa_id)

    async def appointments_for(self, patient_id: int) -> list[AppointmentRecord]:
        """A patient's cached appointments: upcoming soonest first, then past ones."""
        return await self._require_cache().appointments_for(patient_id)

    async def consents_for(self, wa_id: str) -> list[ConsentRecord]:
        """The latest consent per purpose for this number."""
        return await self._require_cache().consents_for(wa_id)

    async def search_patients(self, query: str, *, limit: int = 20) -> list[PatientRecord]:
        """Cached patients by name, record number or date of birth (works offline)."""
        return await self._require_cache().search_patients(query, limit=limit)

    # -- staff booking and the patient register (relay: routes_patients.py; online only) ----

    async def free_slots(
        self,
        type_code: str | None = None,
        *,
        clinician: str | None = None,
        first_day: date | None = None,
        days: int = 14,
        limit: int = 20,
    ) -> SlotOffer:
        """Free slots of one appointment type from the clinic schedule (earliest first),
        with the schedule's types and clinicians (``type_code`` None: the first type)."""
        params: dict[str, Any] = {"days": days, "limit": limit}
        if type_code:  # none: the schedule's first type
            params["type"] = type_code
        if clinician:
            params["clinician"] = clinician
        if first_day is not None:
            params["from"] = first_day.isoformat()
        return SlotOffer.from_json(await self._relay().get("/v1/slots", params))

    async def book_appointment(
        self,
        patient_id: int,
        *,
        type_code: str,
        clinician: str,
        start: float,
        reason: str | None = None,
    ) -> AppointmentRecord:
        """Book a free slot; ``SlotTakenError`` (409, with ``suggestions``) when someone
        was faster. The feed then brings the appointment to every desk."""
        body: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "patient_id": int(patient_id),
            "type": type_code,
            "clinician": clinician,
            "start": float(start),
        }
        if reason:
            body["reason"] = reason
        answer = await self._relay().post("/v1/appointments", body)
        return _appointment_answer(answer)

    async def move_appointment(
        self,
        appointment_id: int,
        *,
        clinician: str,
        start: float,
        type_code: str | None = None,
    ) -> AppointmentRecord:
        """Move to another free slot (the old appointment is cancelled, a new one booked)."""
        body: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "clinician": clinician,
            "start": float(start),
        }
        if type_code:
            body["type"] = type_code
        answer = await self._relay().post(f"/v1/appointments/{int(appointment_id)}/move", body)
        return _appointment_answer(answer)

    async def cancel_appointment(self, appointment_id: int) -> AppointmentRecord:
        """Cancel; the slot is free again."""
        answer = await self._relay().post(f"/v1/appointments/{int(appointment_id)}/cancel", {})
        return _appointment_answer(answer)

    async def create_patient(
        self,
        *,
        family_name: str,
        given_name: str,
        birth_date: str | None = None,
        record_number: str | None = None,
        conversation_id: int | None = None,
    ) -> PatientRecord:
        """A new patient (flagged on the relay as created by staff); with a conversation
        id registered under its number."""
        body: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "family_name": family_name,
            "given_name": given_name,
            "birth_date": birth_date,
            "record_number": record_number,
            "conversation_id": conversation_id,
        }
        answer = await self._relay().post("/v1/patients", body)
        return _patient_answer(answer)

    async def link_patient(self, conversation_id: int, patient_id: int) -> PatientRecord:
        """Register an existing patient under this conversation's number."""
        answer = await self._relay().post(
            f"/v1/conversations/{int(conversation_id)}/patient", {"patient_id": int(patient_id)}
        )
        return _patient_answer(answer)

    async def record_consent(
        self,
        conversation_id: int,
        purposes: list[str],
        *,
        granted: bool,
        source: str = "staff",
    ) -> list[ConsentRecord]:
        """Record consent per purpose (care, reminders, results) from this conversation."""
        answer = await self._relay().post(
            f"/v1/conversations/{int(conversation_id)}/consent",
            {"purposes": list(purposes), "granted": bool(granted), "source": source},
        )
        try:
            return [consent_from_json(c) for c in answer["consents"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc

    # -- presence ---------------------------------------------------------------------------

    def add_presence_listener(self, listener: Callable[[int, str | None, list[str]], None]) -> None:
        """Call ``listener(conversation_id, typing_name, viewing)`` on the event loop when a
        colleague's presence in a conversation changes or runs out."""
        self._presence_listeners.append(listener)

    def remove_presence_listener(
        self, listener: Callable[[int, str | None, list[str]], None]
    ) -> None:
        self._presence_listeners = [cb for cb in self._presence_listeners if cb != listener]

    async def set_presence(self, conversation_id: int, state: str) -> None:
        """Tell colleagues this user is 'viewing', 'typing' or 'idle' in a conversation
        (repeat 'viewing' within 60 s and 'typing' within 8 s to keep it)."""
        if state not in PRESENCE_STATES:
            raise ValueError(f"presence state must be one of {PRESENCE_STATES}")
        await self._relay().set_presence(conversation_id, state)

    def presence(self, conversation_id: int) -> tuple[str | None, list[str]]:
        """The current (typing_name, viewing) of a conversation, as listeners get it."""
        now = time.time()
        entries = [
            (name, state)
            for name, state, expires in self._presence.get(conversation_id, {}).values()
            if expires > now
        ]
        typing = sorted(name for name, state in entries if state == "typing")
        return (typing[0] if typing else None), sorted({name for name, _ in entries})

    def _on_presence(self, data: dict[str, Any]) -> None:
        try:
            cid = int(data["conversation_id"])
            uid = int(data["user_id"])
            name = str(data.get("display_name") or "")
            state = str(data["state"])
            expires = float(data.get("expires_at") or 0.0)
        except (KeyError, TypeError, ValueError):
            log.debug("unreadable presence event")
            return
        if self._user is not None and uid == self._user.id:
            return
        people = self._presence.setdefault(cid, {})
        if state == "idle" or expires <= time.time():
            people.pop(uid, None)
        else:
            people[uid] = (name, state, expires)
        self._schedule_presence_expiry(cid)
        self._emit_presence(cid)

    def _schedule_presence_expiry(self, cid: int) -> None:
        timer = self._presence_timers.pop(cid, None)
        if timer is not None:
            timer.cancel()
        now = time.time()
        people = self._presence.get(cid, {})
        for uid in [u for u, (_, _, exp) in people.items() if exp <= now]:
            del people[uid]
        if not people:
            self._presence.pop(cid, None)
            return
        soonest = min(exp for _, _, exp in people.values())
        loop = asyncio.get_running_loop()
        self._presence_timers[cid] = loop.call_later(
            max(0.0, soonest - now) + 0.05, self._presence_expired, cid
        )

    def _presence_expired(self, cid: int) -> None:
        self._presence_timers.pop(cid, None)
        self._schedule_presence_expiry(cid)
        self._emit_presence(cid)

    def _emit_presence(self, cid: int) -> None:
        typing_name, viewing = self.presence(cid)
        for listener in list(self._presence_listeners):
            try:
                listener(cid, typing_name, viewing)
            except Exception:
                log.exception("presence listener failed")

    def _clear_presence(self, *, emit: bool = False) -> None:
        """Forget all presence (the stream that carried it is gone); ``emit`` tells
        listeners those conversations are empty now."""
        if self._presence_seed is not None:
            self._presence_seed.cancel()
            self._presence_seed = None
        for timer in self._presence_timers.values():
            timer.cancel()
        self._presence_timers.clear()
        gone = list(self._presence)
        self._presence.clear()
        if emit:
            for cid in gone:
                self._emit_presence(cid)

    async def _seed_presence(self) -> None:
        """On (re)connect: who is viewing/typing already (``GET /v1/presence``); the stream
        only carries changes from its start on."""
        api = self._api
        if api is None or not api.token:
            return
        try:
            answer = await api.get("/v1/presence")
        except RelayError as exc:
            log.info("presence not loaded: %s", exc.status or "network")
            return
        entries = answer.get("presence")
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, dict):
                    self._on_presence(entry)

    # -- conversation commands (need the relay; nothing is queued offline) ---------------

    def _relay(self) -> RelayClient:
        self._require_cache()
        api = self._api
        if api is None or not api.token:
            raise RelayUnavailable(
                "Not connected to the relay: this needs a connection. Try again when online."
            )
        return api

    async def _command(
        self, conversation_id: int, command: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One relay conversation command with a fresh client id. Raises
        ``RelayUnavailable`` (offline), ``ConversationClaimed`` (409 claimed), ``RelayError``
        (refused: ``status``/``code``/``message``), ``Unauthorized``."""
        api = self._relay()
        payload = {"client_id": str(uuid.uuid4()), **(body or {})}
        try:
            return await api.conversation_command(conversation_id, command, payload)
        except Unauthorized:
            raise
        except RelayError as exc:
            log.info("conversation command %s refused: %s %s", command, exc.status, exc.code)
            raise

    async def _conversation_command(
        self, conversation_id: int, command: str, body: dict[str, Any] | None = None
    ) -> ConversationRecord:
        answer = await self._command(conversation_id, command, body)
        try:
            record = ConversationRecord.from_json(answer["conversation"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        await self._await_cached(record)
        return record

    async def _await_cached(self, record: ConversationRecord) -> None:
        """Read-your-writes: wait (briefly) until the feed has brought the command's new
        state into the cache, so the next read (and ``escalate``) sees it. The answer has no
        seq, so it is never written to the cache directly (the feed's order decides)."""
        deadline = time.monotonic() + COMMAND_SYNC_WAIT
        keys = ("status", "assignee_id", "team_id", "claimed_by", "labels", "snoozed_until")
        want = tuple(getattr(record, k) for k in keys)
        while time.monotonic() < deadline:
            cache = self._cache
            if cache is None:
                return
            found = await cache.conversations_by_id([record.id])
            if found and tuple(getattr(found[0], k) for k in keys) == want:
                return
            await asyncio.sleep(0.02)
        log.info("conversation %d: command state not yet in the cache", record.id)

    async def claim(self, conversation_id: int) -> ConversationRecord:
        """Claim (10 min lease). ``ConversationClaimed`` when a colleague holds it."""
        return await self._conversation_command(conversation_id, "claim")

    async def release(self, conversation_id: int) -> ConversationRecord:
        return await self._conversation_command(conversation_id, "release")

    async def take_over(self, conversation_id: int) -> ConversationRecord:
        """Take the claim from whoever holds it (audited on the relay)."""
        return await self._conversation_command(conversation_id, "takeover")

    async def assign(
        self, conversation_id: int, user_id: int | None = None, team_id: int | None = None
    ) -> ConversationRecord:
        """Set assignee and team (None clears each)."""
        return await self._conversation_command(
            conversation_id, "assign", {"user_id": user_id, "team_id": team_id}
        )

    async def set_status(
        self, conversation_id: int, status: str, snoozed_until: float | None = None
    ) -> ConversationRecord:
        """'open' | 'pending' | 'snoozed' (needs a future ``snoozed_until``) | 'resolved'."""
        if status not in CONVERSATION_STATUSES:
            raise ValueError(f"status must be one of {CONVERSATION_STATUSES}")
        body: dict[str, Any] = {"status": status}
        if snoozed_until is not None:
            body["snoozed_until"] = float(snoozed_until)
        return await self._conversation_command(conversation_id, "status", body)

    async def resolve(self, conversation_id: int) -> ConversationRecord:
        return await self.set_status(conversation_id, "resolved")

    async def set_labels(self, conversation_id: int, labels: Sequence[str]) -> ConversationRecord:
        """Replace the conversation's labels (≤ 20, each ≤ 32 characters)."""
        unique = sorted({str(label) for label in labels})
        return await self._conversation_command(conversation_id, "labels", {"labels": unique})

    async def escalate(
        self,
        conversation_id: int,
        reason: str | None = None,
        *,
        priority: str = "urgent",
        due_at: float | None = None,
        assignee_id: int | None = None,
        team_id: int | None = None,
    ) -> ConversationRecord:
        """Mark escalated. With a ``reason`` the relay creates an escalation (to a
        clinician, a team, or every clinician; see ``create_escalation``); without one
        this adds the label ``"escalated"`` via ``set_labels`` (last writer wins)."""
        if reason is not None:
            await self.create_escalation(
                conversation_id,
                reason,
                priority=priority,
                due_at=due_at,
                assignee_id=assignee_id,
                team_id=team_id,
            )
            found = await self._require_cache().conversations_by_id([conversation_id])
            if found:
                return found[0]
        found = await self._require_cache().conversations_by_id([conversation_id])
        labels = set(found[0].labels) if found else set()
        labels.add(ESCALATED_LABEL)
        return await self.set_labels(conversation_id, sorted(labels))

    # -- escalations and calls (relay: routes_escalations.py) -----------------------------

    async def escalations(self, conversation_id: int | None = None) -> list[EscalationRecord]:
        """Cached escalations (all the user may see, or one conversation's), open ones
        first by priority and due time."""
        return await self._require_cache().escalations(conversation_id)

    async def escalations_by_id(self, ids: frozenset[int]) -> list[EscalationRecord]:
        return await self._require_cache().escalations_by_id(ids)

    async def sync_escalations(self) -> frozenset[int]:
        """Ask the relay which escalations this user sees now and make the cache match
        (the feed cannot tell a user about one reassigned away from them). Online only."""
        answer = await self._relay().get("/v1/escalations")
        states = [e for e in answer.get("escalations") or [] if isinstance(e, dict)]
        try:
            changed = await self._require_cache().reconcile_escalations(states)
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        if changed:
            self._emit(ChangeSummary(escalation_ids=changed))
        return changed

    async def calls_for(self, escalation_id: int) -> list[CallRecord]:
        """An escalation's call attempts, the patient's permission answer, call events and
        logged outcomes, oldest first."""
        return await self._require_cache().calls_for(escalation_id)

    async def _escalation_command(self, path: str, body: dict[str, Any]) -> EscalationRecord:
        answer = await self._relay().post(path, {"client_id": str(uuid.uuid4()), **body})
        data = answer.get("escalation")
        try:
            record = EscalationRecord.from_json(data if isinstance(data, dict) else {})
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        assert isinstance(data, dict)
        await self._require_cache().apply_escalation(data)
        self._emit(
            ChangeSummary(
                escalation_ids=frozenset({record.id}),
                conversation_ids=frozenset({record.conversation_id}),
            )
        )
        return record

    async def create_escalation(
        self,
        conversation_id: int,
        reason: str,
        *,
        priority: str = "urgent",
        due_at: float | None = None,
        assignee_id: int | None = None,
        team_id: int | None = None,
        patient_id: int | None = None,
    ) -> EscalationRecord:
        """Escalate: ``priority`` routine | urgent | emergency; ``due_at`` (Unix seconds)
        defaults by priority; to ``assignee_id`` (a clinician) or ``team_id``, else every
        clinician. ``RelayError`` 422 on bad input, 404 when not visible."""
        body: dict[str, Any] = {"reason": reason, "priority": priority}
        for key, value in (
            ("due_at", due_at),
            ("assignee_id", assignee_id),
            ("team_id", team_id),
            ("patient_id", patient_id),
        ):
            if value is not None:
                body[key] = value
        return await self._escalation_command(
            f"/v1/conversations/{int(conversation_id)}/escalations", body
        )

    async def acknowledge_escalation(self, escalation_id: int) -> EscalationRecord:
        """Take it (clinicians; others get ``RelayError`` 403)."""
        return await self._escalation_command(
            f"/v1/escalations/{int(escalation_id)}/acknowledge", {}
        )

    async def reassign_escalation(
        self, escalation_id: int, *, assignee_id: int | None = None, team_id: int | None = None
    ) -> EscalationRecord:
        """To another clinician, a team, or (neither) every clinician."""
        return await self._escalation_command(
            f"/v1/escalations/{int(escalation_id)}/reassign",
            {"assignee_id": assignee_id, "team_id": team_id},
        )

    async def resolve_escalation(
        self, escalation_id: int, resolution: str | None = None
    ) -> EscalationRecord:
        return await self._escalation_command(
            f"/v1/escalations/{int(escalation_id)}/resolve", {"resolution": resolution}
        )

    def audit_session(self) -> AuditSession:
        """The audit trail through this session (administrators only; others get 403)."""
        return AuditSession(self._relay())

    @property
    def relay_url(self) -> str:
        return self._config.relay_url

    async def request_call(
        self, escalation_id: int, *, mode: str = "auto", language: str = "de"
    ) -> dict[str, Any]:
        """Call the patient back. Answers ``{"mode": "whatsapp"|"tel"|"video", "call": …}``
        and for ``tel`` the ``tel`` URI to open; ``whatsapp`` sent a call-permission
        request, ``video`` the clinic's video-visit link."""
        answer = await self._relay().post(
            f"/v1/escalations/{int(escalation_id)}/call",
            {"client_id": str(uuid.uuid4()), "mode": mode, "language": language},
        )
        self._emit(ChangeSummary(escalation_ids=frozenset({int(escalation_id)})))
        return answer

    async def log_call_outcome(
        self,
        escalation_id: int,
        outcome: str,
        *,
        note: str | None = None,
        callback_at: float | None = None,
    ) -> CallRecord:
        """``outcome`` reached | not_reached | callback_scheduled (needs ``callback_at``);
        shown in the thread as the user's note and audited."""
        body: dict[str, Any] = {"client_id": str(uuid.uuid4()), "outcome": outcome}
        if note:
            body["note"] = note
        if callback_at is not None:
            body["callback_at"] = float(callback_at)
        answer = await self._relay().post(
            f"/v1/escalations/{int(escalation_id)}/call-outcome", body
        )
        try:
            record = CallRecord.from_json(answer["call"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        self._emit(ChangeSummary(escalation_ids=frozenset({int(escalation_id)})))
        return record

    async def add_note(self, conversation_id: int, text: str) -> MessageRecord:
        """Post an internal note (``@username`` mentions a colleague); returns it as a
        message with ``type='note'`` (also stored, so ``messages()`` shows it at once)."""
        answer = await self._command(conversation_id, "notes", {"text": text})
        note = answer.get("note")
        if not isinstance(note, dict):
            raise RelayError("The relay sent an unreadable answer.", status=200)
        cache = self._require_cache()
        try:
            changes = await cache.apply_note(note)
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        self._emit(
            ChangeSummary(
                conversation_ids=frozenset({conversation_id}), message_ids=changes.message_ids
            )
        )
        found = await cache.messages_by_id(changes.message_ids)
        if not found:  # already stored from the feed
            found = await cache.messages_by_id([note_message_id(int(note["id"]))])
        return found[0]

    async def mark_read(self, conversation_id: int) -> None:
        """Unread to 0 on the relay; the patient sees blue ticks."""
        await self._relay().post(f"/v1/conversations/{int(conversation_id)}/read")

    async def opened(self, conversation_id: int, *, via: str = "list") -> None:
        """Record that this user opened the conversation (audited on the relay; queued
        while offline). ``via``: "list", "search" (a search hit) or "notification"."""
        self._require_cache()
        await self._report_read("opened", conversation_ids=[int(conversation_id)], via=via)

    async def send_typing(self, conversation_id: int) -> None:
        """Show "typing…" to the patient on WhatsApp (not presence among colleagues)."""
        await self._relay().post(f"/v1/conversations/{int(conversation_id)}/typing")

    # -- commands -------------------------------------------------------------------------

    async def send_text(self, conversation_id: int, text: str) -> MessageRecord:
        """Write to the encrypted outbox (status 'queued') and return it; sending follows."""
        self._require_cache()
        assert self._outbox is not None
        return await self._outbox.send_text(conversation_id, text)

    async def retry_send(self, client_id: str) -> bool:
        """Queue a failed outbox entry again."""
        self._require_cache()
        assert self._outbox is not None
        return await self._outbox.retry(client_id)

    async def discard_send(self, client_id: str) -> bool:
        """Drop an outbox entry the relay has not accepted."""
        self._require_cache()
        assert self._outbox is not None
        return await self._outbox.discard(client_id)

    # -- templates, scheduled sends, the staff directory (need the relay) -----------------

    async def _apply_answer(self, answer: dict[str, Any]) -> MessageRecord:
        """Store the message a relay answer carries and tell listeners; returns it."""
        try:
            record = MessageRecord.from_json(answer["message"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RelayError("The relay sent an unreadable answer.", status=200) from exc
        changes = await self._require_cache().apply_message(record)
        self._emit(
            ChangeSummary(
                conversation_ids=changes.conversation_ids | {record.conversation_id},
                message_ids=changes.message_ids | {record.id},
            )
        )
        return record

    async def templates(self) -> list[dict[str, Any]]:
        """Approved templates (``GET /v1/templates``: name, language, category,
        parameter_format, header_params, body_params, button_params, body). Kept in the
        cache, so the last known list still shows offline."""
        cache = self._require_cache()
        try:
            answer = await self._relay().get("/v1/templates")
            found = [t for t in answer.get("templates") or [] if isinstance(t, dict)]
        except RelayError as exc:
            if isinstance(exc, Unauthorized):
                raise
            stored = await cache.get_json("templates")
            if isinstance(stored, list):
                return [t for t in stored if isinstance(t, dict)]
            raise
        await cache.set_meta("templates", json.dumps(found, separators=(",", ":")))
        return found

    async def send_template(
        self,
        conversation_id: int,
        name: str,
        language: str,
        params: Sequence[str] | dict[str, str],
        *,
        header: Sequence[str] = (),
        buttons: dict[int, Sequence[str]] | None = None,
    ) -> MessageRecord:
        """Send an approved template (the only thing WhatsApp delivers outside the 24-hour
        window). ``params``: the body values, a list for ``{{1}}``… or a dict for named ones.
        Online only; the relay refuses (422) values that do not fit the template."""
        body: list[str] | dict[str, str] = (
            dict(params) if isinstance(params, dict) else [str(v) for v in params]
        )
        template: dict[str, Any] = {
            "name": name,
            "language": language,
            "header": [str(v) for v in header],
            "body": body,
            "buttons": [
                {"index": int(i), "values": [str(v) for v in values]}
                for i, values in sorted((buttons or {}).items())
            ],
        }
        answer = await self._relay().post(
            f"/v1/conversations/{int(conversation_id)}/messages",
            {"client_id": str(uuid.uuid4()), "type": "template", "template": template},
        )
        return await self._apply_answer(answer)

    async def send_result(
        self,
        conversation_id: int,
        patient_id: int,
        path: Path,
        *,
        confirmed_name: str,
        confirmed_dob: str,
        override_reason: str | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Send a result file for one patient (nurses and clinicians; the relay enforces it).

        The file is checked here first (``ResultRejected`` with the reason) and again on the
        relay, which also runs the wrong-patient guard, compares the two confirmed
        identifiers with the patient record and needs the results consent (``RelayError``
        with ``code``: identity_mismatch, identifiers_mismatch, no_consent …). Online only.
        Returns the result's state (``state``: queued, sent, delivered, read, opened …)."""
        api = self._relay()
        data = await asyncio.to_thread(Path(path).read_bytes)
        checked = await asyncio.to_thread(check_result, data)
        fields = {
            "patient_id": str(int(patient_id)),
            "confirmed_name": confirmed_name,
            "confirmed_dob": confirmed_dob,
        }
        if override_reason and override_reason.strip():
            fields["override_reason"] = override_reason.strip()
        return await api.send_result(
            conversation_id,
            client_id=client_id or str(uuid.uuid4()),
            data=data,
            filename=Path(path).name,
            mime_type=checked.mime,
            fields=fields,
        )

    async def schedule_text(self, conversation_id: int, text: str, send_at: float) -> MessageRecord:
        """Have the relay send ``text`` at ``send_at`` (inside the 24-hour window only; a
        later time is refused with the reason). Online only: the relay holds it, not us."""
        if not text.strip():
            raise ValueError("A message cannot be empty.")
        answer = await self._relay().post(
            f"/v1/conversations/{int(conversation_id)}/messages",
            {
                "client_id": str(uuid.uuid4()),
                "type": "text",
                "text": text,
                "send_at": float(send_at),
            },
        )
        return await self._apply_answer(answer)

    async def cancel_scheduled(self, message_id: int) -> MessageRecord:
        """Withdraw a scheduled message that has not left yet (status becomes 'cancelled')."""
        answer = await self._relay().post(f"/v1/messages/{int(message_id)}/cancel")
        return await self._apply_answer(answer)

    async def reports(self, *, since: float, until: float, group: str = "day") -> dict[str, Any]:
        """Clinic figures (``GET /v1/reports``; admins and clinicians). Aggregates only,
        fetched fresh each time: they are not kept in the cache."""
        return await self._relay().get(
            "/v1/reports", {"since": since, "until": until, "group": group}
        )

    async def directory(self) -> dict[str, list[dict[str, Any]]]:
        """Colleagues (``users``: id, username, display_name, role) and ``teams`` (id,
        name), for @mentions and filters; the last known copy is used offline."""
        cache = self._require_cache()
        try:
            answer = await self._relay().get("/v1/directory")
        except RelayError as exc:
            if isinstance(exc, Unauthorized):
                raise
            stored = await cache.get_json("directory")
            if isinstance(stored, dict):
                return {k: list(stored.get(k) or []) for k in ("users", "teams")}
            raise
        found = {
            k: [e for e in answer.get(k) or [] if isinstance(e, dict)] for k in ("users", "teams")
        }
        await cache.set_meta("directory", json.dumps(found, separators=(",", ":")))
        return found
