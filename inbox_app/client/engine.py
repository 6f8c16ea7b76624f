"""The one object the UI talks to: sign-in, the encrypted cache, sync and the outbox.

Everything here is plain asyncio; the UI bridges ``ChangeSummary`` callbacks to Qt signals.
Listeners are called on the event loop's thread, after the change is committed.

Data layout, per user: ``config.data_dir / <username> /`` holds ``cache.db`` (+ ``-wal`` and
``-shm``) and ``key.json``; nothing else. The folder is 0700, the files 0600.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from keyring.backend import KeyringBackend

from inbox_app.client.api import RelayClient, RelayUnavailable
from inbox_app.client.cache import (
    CACHE_FILE,
    Cache,
    CacheCorrupt,
    CacheKeyError,
    CacheTooNew,
    remove_cache_files,
)
from inbox_app.client.keys import (
    DEFAULT_KDF,
    CacheKey,
    KdfParams,
    KeyFileCorrupt,
    KeyStore,
    KeyStoreError,
    KeyUnavailable,
    WrongPassword,
    make_private_dir,
)
from inbox_app.client.outbox import Outbox
from inbox_app.client.records import ChangeSummary, ConnectionState, SignedInUser
from inbox_app.client.sync import SyncEngine
from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.messages import MessageRecord

__all__ = [
    "CacheUnreadable",
    "ChangeSummary",
    "ClientEngine",
    "ConnectionState",
    "EngineConfig",
    "NotSignedIn",
    "SignedInUser",
]

log = logging.getLogger("inbox.client.engine")

_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class NotSignedIn(RuntimeError):
    """A cache operation was called before ``sign_in`` or after ``close`` (our bug)."""


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
        self._tasks: list[asyncio.Task[None]] = []
        # Only after an offline unlock: to log in once the relay is back, then dropped.
        self._pending_password: str | None = None
        self._pending_username: str | None = None

    # -- sign-in and lifecycle ------------------------------------------------------------

    def user_folder(self, username: str) -> Path:
        return self._config.data_dir / user_folder_name(username)

    async def sign_in(
        self, username: str, password: str, *, reset_unreadable_cache: bool = False
    ) -> SignedInUser:
        """Log in to the relay, unlock (or create) this user's encrypted cache.

        Offline (relay unreachable) a password-mode cache is unlocked with the password and
        the engine stays OFFLINE until the relay answers. Raises ``Unauthorized`` for wrong
        credentials, ``RelayUnavailable`` when offline without a usable cache,
        ``WrongPassword`` offline, ``CacheUnreadable`` when the cache cannot be opened.
        """
        if self._cache is not None:
            raise RuntimeError("already signed in; close() first")
        folder = self.user_folder(username)
        keystore = KeyStore(folder, keyring_backends=self._keyring_backends, kdf=self._kdf)
        cache_path = folder / CACHE_FILE
        api = RelayClient(self._config.relay_url, transport=self._transport)
        offline = False
        try:
            try:
                user: SignedInUser | None = await api.login(username, password)
            except RelayUnavailable:
                if not await asyncio.to_thread(self._offline_unlockable, keystore, cache_path):
                    raise
                log.info("relay unreachable; unlocking the cache offline")
                offline, user = True, None
            if offline:
                key = await asyncio.to_thread(keystore.unlock_with_password, password)
                cache = await self._open_cache(cache_path, key)
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
                except BaseException:
                    await cache.close()
                    key.wipe()
                    raise
        except BaseException:
            await api.aclose()
            raise
        self._api, self._cache, self._key, self._user = api, cache, key, user
        self._protection = key.protection
        self._sync = SyncEngine(
            cache,
            api,
            on_change=self._emit,
            on_state=self._on_state,
            authenticate=self._login_again if offline else None,
            backoff_initial=self._backoff[0],
            backoff_max=self._backoff[1],
        )
        self._outbox = Outbox(
            cache,
            api,
            on_change=self._emit,
            retry_initial=self._backoff[0],
            retry_max=self._backoff[1],
        )
        log.info(
            "signed in as user %d (%s, %s)",
            user.id,
            key.protection,
            "offline" if offline else "online",
        )
        return user

    @staticmethod
    def _offline_unlockable(keystore: KeyStore, cache_path: Path) -> bool:
        return cache_path.exists() and keystore.protection_mode() == "password"

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
            return key, await self._open_cache(cache_path, key)
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
        """After an offline unlock: log in with the remembered password, then forget it."""
        assert self._api is not None
        if self._pending_username is None or self._pending_password is None:
            return
        await self._api.login(self._pending_username, self._pending_password)
        self._pending_username = self._pending_password = None
        log.info("logged in to the relay after an offline unlock")

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
        for task in self._tasks:
            task.add_done_callback(self._task_done)

    @staticmethod
    def _task_done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Stop background tasks, close the cache and drop the key from memory."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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
                self._sync = self._outbox = None
                self._user = None

    async def sign_out(self, *, wipe: bool = False) -> None:
        """Close; with ``wipe`` also delete the cache and its key (unsent messages too)."""
        path = self._cache.path if self._cache is not None else None
        await self.close()
        if wipe and path is not None:
            keystore = KeyStore(path.parent, keyring_backends=self._keyring_backends)
            await asyncio.to_thread(keystore.forget)
            await asyncio.to_thread(remove_cache_files, path)

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
        if state is ConnectionState.ONLINE and self._outbox is not None:
            self._outbox.wake()  # the relay is back: send what waited
        self._emit(ChangeSummary(connection=state))

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
            raise NotSignedIn("The local cache is not open.")
        return self._cache

    # -- reads ----------------------------------------------------------------------------

    async def conversations(self) -> list[ConversationRecord]:
        """All cached conversations, newest activity first."""
        return await self._require_cache().conversations()

    async def conversations_by_id(self, ids: frozenset[int]) -> list[ConversationRecord]:
        return await self._require_cache().conversations_by_id(ids)

    async def messages(
        self, conversation_id: int, *, before: tuple[float, int] | None = None, limit: int = 50
    ) -> list[MessageRecord]:
        """Up to ``limit`` messages older than the (timestamp, id) key, returned oldest first.

        Includes outbox entries not yet acknowledged, with negative ids and status 'queued'
        ('sending' while a POST is under way, 'failed' with the reason in ``error_title``).
        """
        return await self._require_cache().messages(conversation_id, before=before, limit=limit)

    async def messages_by_id(self, ids: frozenset[int]) -> list[MessageRecord]:
        return await self._require_cache().messages_by_id(ids)

    async def outbox_entries(self, client_ids: frozenset[str]) -> list[MessageRecord]:
        """Pending outbox entries (negative ids) for these client ids; acknowledged ones absent."""
        entries = await self._require_cache().outbox_entries(client_ids)
        return [e.to_record() for e in entries]

    async def search(self, query: str, *, limit: int = 50) -> list[MessageRecord]:
        """Full-text search over cached message text (every word, prefix match)."""
        return await self._require_cache().search(query, limit=limit)

    # -- commands -------------------------------------------------------------------------

    async def send_text(self, conversation_id: int, text: str) -> MessageRecord:
        """Write to the encrypted outbox (status 'queued') and return it; sending follows."""
        if self._outbox is None:
            raise NotSignedIn("The local cache is not open.")
        return await self._outbox.send_text(conversation_id, text)

    async def retry_send(self, client_id: str) -> bool:
        """Queue a failed outbox entry again."""
        if self._outbox is None:
            raise NotSignedIn("The local cache is not open.")
        return await self._outbox.retry(client_id)

    async def discard_send(self, client_id: str) -> bool:
        """Drop an outbox entry the relay has not accepted."""
        if self._outbox is None:
            raise NotSignedIn("The local cache is not open.")
        return await self._outbox.discard(client_id)
