"""The encrypted local cache: one SQLCipher database per user, worked on by one thread.

All SQL runs on a single-worker ``ThreadPoolExecutor`` holding the one long-lived connection
(SQLCipher with a raw key opens in ~0.3 ms, but the connection also carries our pragmas and
functions); callers await ``loop.run_in_executor`` and get plain domain records back.

A batch of feed events is applied in ONE transaction together with the new sync cursor
(QUALITY I4), so a crash mid-batch leaves neither rows nor cursor changed. Applying is
idempotent: conversations are guarded by the seq of the event that wrote them, messages by
the forward-only status rank (``inbox_app.domain.messages``).

Schema v2 (``PRAGMA user_version = 2``): ``conversations.data`` and ``messages.data`` hold the
whole JSON record the relay sent, so fields added to the records survive; the typed columns
still carry the merge rules and win over ``data`` when read. ``notes`` (shown among messages
with ids ``-(NOTE_ID_BASE + note id)``), ``patients``, ``appointments`` and ``consents``
store those feed events. A v1 cache is migrated in place (see ``_migrate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from inbox_app.client import escalation_cache
from inbox_app.client.erasure import PATIENT_ERASED_EVENT, erase_patients
from inbox_app.client.keys import CacheKey, make_private_dir
from inbox_app.client.localfs import filesystem_type, is_network_fs
from inbox_app.client.records import (
    FeedEvent,
    appointment_from_json,
    consent_from_json,
    patient_from_json,
)
from inbox_app.client.retention_sync import (
    RETENTION_PURGED_EVENT,
    PurgeNotice,
    apply_purges,
    parse_notice,
)
from inbox_app.domain.appointments import AppointmentRecord, PatientRecord
from inbox_app.domain.consent import ConsentRecord
from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.escalations import CallRecord, EscalationRecord
from inbox_app.domain.messages import (
    Direction,
    MessageRecord,
    MessageStatus,
    advance_status,
    status_rank,
)

log = logging.getLogger("inbox.client.cache")

SCHEMA_VERSION = 2
# Notes share the message id space of ``messages()``: note N is shown with id
# ``-(NOTE_ID_BASE + N)``. Relay message ids are positive and outbox entries are
# ``-local_id`` (a small counter), so the three never clash; ``note_id_of`` reverses it.
NOTE_ID_BASE = 2**52
# WhatsApp call events (escalation_cache.py ``call_log``) appear in the thread as
# ``type='call'`` rows with ids ``CALL_ID_START + call-log id``: below the outbox's small
# counters, above the notes' range, and rising with the log id, so events stamped in the
# same second (Meta's webhooks carry whole seconds) keep their arrival order.
CALL_ID_BASE = 2**51
CALL_ID_START = 1 - NOTE_ID_BASE
PAGE_CACHE_KIB = 32 * 1024
CACHE_FILE = "cache.db"
_HEX_KEY = re.compile(r"[0-9a-f]{64}")
_SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"

T = TypeVar("T")


class CacheError(Exception):
    """The cache cannot be used; the message is a sentence for the user."""


class CacheKeyError(CacheError):
    """The key does not open this cache file."""


class CacheCorrupt(CacheError):
    """The cache file is damaged (or is not an encrypted cache at all)."""


class CacheTooNew(CacheError):
    """The cache was written by a newer version of the app."""


class CipherUnavailable(CacheError):
    """The SQLite library in use has no encryption: we refuse to write plaintext."""


class CacheClosed(CacheError):
    """The cache was closed (signed out or locked)."""


class CacheOnNetworkFilesystem(CacheError):
    """The cache folder is on a network filesystem, where SQLite is unsafe (and data leaves
    the PC): the cache is refused."""

    def __init__(self, path: Path, fs_type: str) -> None:
        super().__init__(
            f"The local cache cannot be kept on a network drive ({fs_type}): {path}. "
            "Choose a folder on this computer's own disk."
        )
        self.path = path
        self.fs_type = fs_type


def ensure_local_filesystem(path: Path) -> None:
    """Raise ``CacheOnNetworkFilesystem`` when ``path`` (or its folder) is on NFS, SMB, …"""
    fs_type = filesystem_type(path)
    if is_network_fs(fs_type):
        raise CacheOnNetworkFilesystem(path, str(fs_type))


@dataclass(frozen=True, slots=True)
class AppliedChanges:
    """Ids touched by one committed cache transaction."""

    conversation_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()
    client_ids: frozenset[str] = frozenset()
    patient_ids: frozenset[int] = frozenset()
    appointment_ids: frozenset[int] = frozenset()
    consent_wa_ids: frozenset[str] = frozenset()
    # Escalations changed (or whose calls did), and overdue notices (escalation_cache.py).
    escalation_ids: frozenset[int] = frozenset()
    overdue_escalation_ids: frozenset[int] = frozenset()


def note_message_id(note_id: int) -> int:
    """The id a relay note carries among messages (see ``NOTE_ID_BASE``)."""
    return -(NOTE_ID_BASE + int(note_id))


def note_id_of(message_id: int) -> int | None:
    """The relay note id behind a ``messages()`` id, or None for messages/outbox entries."""
    return -message_id - NOTE_ID_BASE if message_id <= -NOTE_ID_BASE else None


def call_message_id(call_id: int) -> int:
    """The id a call-log entry carries among messages (see ``CALL_ID_BASE``)."""
    return CALL_ID_START + int(call_id)


def call_id_of(message_id: int) -> int | None:
    """The call-log id behind a ``messages()`` id, or None for other rows."""
    return message_id - CALL_ID_START if -NOTE_ID_BASE < message_id <= -CALL_ID_BASE else None


def is_outbox_id(message_id: int) -> bool:
    """A ``messages()`` id of a local outbox entry (not acknowledged by the relay yet)."""
    return -CALL_ID_BASE < message_id < 0


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A message the user wrote that the relay has not acknowledged yet."""

    local_id: int
    client_id: str
    conversation_id: int
    type: str
    text: str | None
    created_at: float
    state: str  # 'queued' | 'sending' | 'failed'
    attempts: int
    last_error: str | None

    def to_record(self) -> MessageRecord:
        # Negative ids keep outbox entries apart from relay ids (always positive).
        status = {
            "queued": MessageStatus.QUEUED,
            "sending": MessageStatus.SENDING,
            "failed": MessageStatus.FAILED,
        }[self.state]
        return MessageRecord(
            id=-self.local_id,
            conversation_id=self.conversation_id,
            direction=Direction.OUTBOUND,
            type=self.type,
            text=self.text,
            status=status,
            timestamp=self.created_at,
            client_id=self.client_id,
            error_title=self.last_error,
        )


_SCHEMA = (
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        wa_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        phone TEXT,
        last_message_at REAL NOT NULL,
        last_message_preview TEXT NOT NULL DEFAULT '',
        last_inbound_at REAL,
        unread INTEGER NOT NULL DEFAULT 0,
        seq INTEGER NOT NULL DEFAULT 0,  -- feed seq of the state stored here
        data TEXT  -- the whole record as the relay sent it (JSON); v2
    )
    """,
    "CREATE INDEX conversations_recent ON conversations (last_message_at DESC, id DESC)",
    """
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL,
        direction TEXT NOT NULL,
        type TEXT NOT NULL,
        text TEXT,
        status TEXT NOT NULL,
        timestamp REAL NOT NULL,
        wamid TEXT,
        client_id TEXT,
        error_code INTEGER,
        error_title TEXT,
        author_id INTEGER,
        data TEXT  -- the whole record as the relay sent it (JSON); v2
    )
    """,
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, timestamp, id)",
    """
    CREATE TABLE outbox (
        client_id TEXT PRIMARY KEY,
        local_id INTEGER NOT NULL UNIQUE,
        conversation_id INTEGER NOT NULL,
        type TEXT NOT NULL,
        text TEXT,
        created_at REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    )
    """,
    "CREATE INDEX outbox_by_conversation ON outbox (conversation_id, created_at, local_id)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # External-content FTS5: the index lives in the encrypted file, the text only once.
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL
    BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL
    BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END
    """,
    # Status updates rewrite the text column with the same value; only real changes reindex.
    """
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
    WHEN old.text IS NOT new.text
    BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text)
            SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
        INSERT INTO messages_fts (rowid, text)
            SELECT new.id, new.text WHERE new.text IS NOT NULL;
    END
    """,
)

# Added in schema v2: whole records as JSON in ``data``, notes, the patient register.
_SCHEMA_V2_TABLES = (
    """
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,  -- the relay's note id
        conversation_id INTEGER NOT NULL,
        author_id INTEGER,
        text TEXT NOT NULL,
        created_at REAL NOT NULL,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX notes_by_conversation ON notes (conversation_id, created_at, id)",
    """
    CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        wa_id TEXT,
        seq INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX patients_by_wa_id ON patients (wa_id, id)",
    """
    CREATE TABLE appointments (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL,
        start REAL NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX appointments_by_patient ON appointments (patient_id, start, id)",
    """
    CREATE TABLE consents (
        wa_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        at REAL NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL,
        PRIMARY KEY (wa_id, purpose)
    )
    """,
)

# v1 -> v2 for existing caches: the FTS table and its triggers stay as they are.
_MIGRATE_V1_V2 = (
    "ALTER TABLE conversations ADD COLUMN data TEXT",
    "ALTER TABLE messages ADD COLUMN data TEXT",
    *_SCHEMA_V2_TABLES,
)

_UPSERT_CONVERSATION = text(
    """
    INSERT INTO conversations (id, wa_id, display_name, phone, last_message_at,
                               last_message_preview, last_inbound_at, unread, seq, data)
    VALUES (:id, :wa_id, :display_name, :phone, :last_message_at,
            :last_message_preview, :last_inbound_at, :unread, :seq, :data)
    ON CONFLICT (id) DO UPDATE SET
        wa_id = excluded.wa_id, display_name = excluded.display_name, phone = excluded.phone,
        last_message_at = excluded.last_message_at,
        last_message_preview = excluded.last_message_preview,
        last_inbound_at = excluded.last_inbound_at, unread = excluded.unread, seq = excluded.seq,
        data = excluded.data
    WHERE excluded.seq >= conversations.seq
    """
)

# A state whose status ranks below the stored one is older: keep the stored row whole.
_UPSERT_MESSAGE = text(
    """
    INSERT INTO messages (id, conversation_id, direction, type, text, status, timestamp,
                          wamid, client_id, error_code, error_title, author_id, data)
    VALUES (:id, :conversation_id, :direction, :type, :text, :status, :timestamp,
            :wamid, :client_id, :error_code, :error_title, :author_id, :data)
    ON CONFLICT (id) DO UPDATE SET
        conversation_id = excluded.conversation_id, direction = excluded.direction,
        type = excluded.type, text = excluded.text,
        status = advance_status(messages.status, excluded.status),
        timestamp = excluded.timestamp,
        wamid = COALESCE(excluded.wamid, messages.wamid),
        client_id = COALESCE(excluded.client_id, messages.client_id),
        error_code = excluded.error_code, error_title = excluded.error_title,
        author_id = COALESCE(excluded.author_id, messages.author_id),
        data = excluded.data
    WHERE status_rank(excluded.status) >= status_rank(messages.status)
    """
)

_INSERT_NOTE = text(
    """
    INSERT INTO notes (id, conversation_id, author_id, text, created_at, data)
    VALUES (:id, :conversation_id, :author_id, :text, :created_at, :data)
    ON CONFLICT (id) DO NOTHING
    """
)
_UPSERT_PATIENT = text(
    """
    INSERT INTO patients (id, wa_id, seq, data) VALUES (:id, :wa_id, :seq, :data)
    ON CONFLICT (id) DO UPDATE SET wa_id = excluded.wa_id, seq = excluded.seq,
        data = excluded.data
    WHERE excluded.seq >= patients.seq
    """
)
_UPSERT_APPOINTMENT = text(
    """
    INSERT INTO appointments (id, patient_id, start, seq, data)
    VALUES (:id, :patient_id, :start, :seq, :data)
    ON CONFLICT (id) DO UPDATE SET patient_id = excluded.patient_id, start = excluded.start,
        seq = excluded.seq, data = excluded.data
    WHERE excluded.seq >= appointments.seq
    """
)
_UPSERT_CONSENT = text(
    """
    INSERT INTO consents (wa_id, purpose, at, seq, data)
    VALUES (:wa_id, :purpose, :at, :seq, :data)
    ON CONFLICT (wa_id, purpose) DO UPDATE SET at = excluded.at, seq = excluded.seq,
        data = excluded.data
    WHERE (excluded.at, excluded.seq) >= (consents.at, consents.seq)
    """
)

# Queries below interpolate only these module constants (never input), hence the S608 noqa.
_MESSAGE_COLUMNS = (
    "id, conversation_id, direction, type, text, status, timestamp, wamid, client_id, "
    "error_code, error_title, author_id, data"
)
_OUTBOX_AS_MESSAGE = (
    "-local_id AS id, conversation_id, 'out' AS direction, type, text, "
    "CASE state WHEN 'failed' THEN 'failed' WHEN 'sending' THEN 'sending' ELSE 'queued' END "
    "AS status, created_at AS timestamp, NULL AS wamid, client_id, NULL AS error_code, "
    "last_error AS error_title, NULL AS author_id, NULL AS data"
)
# A note as a message row (see NOTE_ID_BASE); its whole record stays in notes.data.
_NOTE_AS_MESSAGE = (
    f"-({NOTE_ID_BASE} + id) AS id, conversation_id, 'out' AS direction, 'note' AS type, text, "
    "'sent' AS status, created_at AS timestamp, NULL AS wamid, NULL AS client_id, "
    "NULL AS error_code, NULL AS error_title, author_id, data"
)
# A call event as a message row (see CALL_ID_BASE); ``data`` is the whole call record,
# which ``_message`` hands to the record, and ``escalation_cache.IN_THREAD`` picks the rows.
_CALL_AT = "json_extract(data, '$.created_at')"
_CALL_AS_MESSAGE = (
    f"({CALL_ID_START} + id) AS id, conversation_id, "
    "CASE json_extract(data, '$.direction') WHEN 'USER_INITIATED' THEN 'in' ELSE 'out' END "
    "AS direction, 'call' AS type, NULL AS text, 'sent' AS status, "
    "json_extract(data, '$.created_at') AS timestamp, NULL AS wamid, NULL AS client_id, "
    "NULL AS error_code, NULL AS error_title, NULL AS author_id, data"
)
_CONVERSATION_COLUMNS = (
    "id, wa_id, display_name, phone, last_message_at, last_message_preview, last_inbound_at, "
    "unread, data"
)
_MESSAGE_FIELDS = (
    "id",
    "conversation_id",
    "direction",
    "type",
    "text",
    "status",
    "timestamp",
    "wamid",
    "client_id",
    "error_code",
    "error_title",
    "author_id",
)
_CONVERSATION_FIELDS = (
    "id",
    "wa_id",
    "display_name",
    "phone",
    "last_message_at",
    "last_message_preview",
    "last_inbound_at",
    "unread",
)
_OUTBOX_COLUMNS = (
    "local_id, client_id, conversation_id, type, text, created_at, state, attempts, last_error"
)


def _sql_status_rank(status: str | None) -> int:
    try:
        return status_rank(status or "")
    except ValueError:
        return -1  # unknown statuses never replace known ones


def _sql_advance_status(current: str | None, new: str | None) -> str | None:
    try:
        return advance_status(current or "", new or "").value
    except ValueError:
        return current


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _note_row(data: dict[str, Any]) -> dict[str, Any]:
    """A ``note`` event's data (docs/protocol.md) as a ``notes`` row; raises on bad input."""
    return {
        "id": int(data["id"]),
        "conversation_id": int(data["conversation_id"]),
        "author_id": None if data.get("author_id") is None else int(data["author_id"]),
        "text": str(data["text"]),
        "created_at": float(data["created_at"]),
        "data": _dump(data),
    }


def _stored_json(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(row: Any) -> MessageRecord:
    """The stored record; the columns win over ``data`` (they carry the merge rules:
    forward-only status, wamid/client_id/author_id never cleared)."""
    data = _stored_json(row.data)
    if row.type == "call":
        return MessageRecord(
            id=int(row.id),
            conversation_id=int(row.conversation_id),
            direction=Direction(row.direction),
            type="call",
            text=None,
            status=MessageStatus.SENT,
            timestamp=float(row.timestamp),
            call=CallRecord.from_json(data),
        )
    if data:
        mapping = row._mapping
        data.update({k: mapping[k] for k in _MESSAGE_FIELDS})
        try:
            return MessageRecord.from_json(data)
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable stored message id=%s; using its columns", row.id)
    return MessageRecord(
        id=int(row.id),
        conversation_id=int(row.conversation_id),
        direction=Direction(row.direction),
        type=str(row.type),
        text=row.text,
        status=MessageStatus(row.status),
        timestamp=float(row.timestamp),
        wamid=row.wamid,
        client_id=row.client_id,
        error_code=row.error_code,
        error_title=row.error_title,
        author_id=row.author_id,
    )


def _conversation(row: Any) -> ConversationRecord:
    data = _stored_json(row.data)
    if data:
        mapping = row._mapping
        data.update({k: mapping[k] for k in _CONVERSATION_FIELDS})
        expires = data.get("claim_expires_at")
        # A lease runs out without a feed event: past its expiry nobody holds it.
        if isinstance(expires, (int, float)) and expires <= time.time():
            data["claimed_by"] = data["claimed_by_name"] = None
        try:
            return ConversationRecord.from_json(data)
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable stored conversation id=%s; using its columns", row.id)
    return ConversationRecord(
        id=int(row.id),
        wa_id=str(row.wa_id),
        display_name=str(row.display_name),
        phone=row.phone,
        last_message_at=float(row.last_message_at),
        last_message_preview=str(row.last_message_preview),
        last_inbound_at=None if row.last_inbound_at is None else float(row.last_inbound_at),
        unread=int(row.unread),
    )


def _outbox_entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        local_id=int(row.local_id),
        client_id=str(row.client_id),
        conversation_id=int(row.conversation_id),
        type=str(row.type),
        text=row.text,
        created_at=float(row.created_at),
        state=str(row.state),
        attempts=int(row.attempts),
        last_error=row.last_error,
    )


def _fts_query(query: str) -> str | None:
    """Each word as a quoted prefix term, so user input can't be FTS5 syntax."""
    terms = [t for t in query.split() if t]
    if not terms:
        return None
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; SQLite gives -wal/-shm the same mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _classify_open_error(path: Path, exc: BaseException) -> CacheError:
    """Tell a wrong key from a damaged file as far as the bytes allow.

    SQLCipher cannot tell a wrong key from a damaged first page (both fail the page HMAC);
    an implausible size or a plaintext SQLite header is certainly damage, anything else is
    reported as a key mismatch.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return CacheCorrupt("The local cache file cannot be read.")
    if head == _SQLITE_PLAIN_HEADER:
        return CacheCorrupt("The local cache file is not encrypted; it will not be used.")
    if size < 1024 or size % 512:
        return CacheCorrupt("The local cache file is damaged.")
    message = str(exc).lower()
    if "not a database" in message or "encrypted" in message:
        return CacheKeyError(
            "The key does not open the local cache (it belongs to another key, or the file "
            "is damaged)."
        )
    return CacheCorrupt("The local cache file is damaged.")


def _is_corruption(exc: BaseException) -> bool:
    message = str(exc).lower()
    return any(w in message for w in ("malformed", "not a database", "corrupt", "hmac"))


def _configure_connection(dbapi_conn: Any, key_hex: str | None, path: Path) -> None:
    """Key the connection, prove it is encrypted and readable, then set our pragmas.

    ``key_hex`` None is the benchmark-only plaintext mode (see ``Cache.open``).
    """
    # Our own BEGIN (see the "begin" listener) instead of the driver's implicit one.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        # We report key and HMAC failures as exceptions; SQLCipher's own stderr log is noise.
        cur.execute("PRAGMA cipher_log_level = NONE")
        if key_hex is not None:
            cur.execute(f"PRAGMA key = \"x'{key_hex}'\"")
            row = cur.execute("PRAGMA cipher_version").fetchone()
            if not row or not row[0]:
                raise CipherUnavailable(
                    "This installation has no encrypted SQLite; the cache will not be written."
                )
        # Read before anything else: a wrong key or a damaged file fails here, not later.
        try:
            cur.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError as exc:
            raise _classify_open_error(path, exc) from None
        mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            raise CacheCorrupt("The local cache could not switch to WAL mode.")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA temp_store = MEMORY")  # no temp files beside the cache
        cur.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a crash loses no commit
        cur.execute("PRAGMA busy_timeout = 5000")
        # SQLCipher decrypts every page it reads from disk; a larger page cache (32 MiB,
        # memory only) keeps hot index pages decrypted (bench P9: FTS ratio vs plain).
        cur.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    finally:
        cur.close()
    dbapi_conn.create_function("status_rank", 1, _sql_status_rank, deterministic=True)
    dbapi_conn.create_function("advance_status", 2, _sql_advance_status, deterministic=True)


class _KeyHolder:
    """The current key of an open cache; ``rekey`` swaps it so a reconnect uses the new one."""

    __slots__ = ("hex",)

    def __init__(self, key_hex: str | None) -> None:
        if key_hex is not None and not _HEX_KEY.fullmatch(key_hex):
            raise ValueError("a cache key is 64 lowercase hex digits")
        self.hex = key_hex


def _make_engine(path: Path, holder: _KeyHolder) -> Engine:
    # The key is set by the listener, never put in the URL (URLs end up in logs).
    url = URL.create("sqlite", database=str(path))
    engine = create_engine(
        url,
        module=sqlcipher,
        # One long-lived connection, used only by the cache's worker thread.
        poolclass=StaticPool,
        connect_args={"check_same_thread": True},
        # Bound parameters are patient data: never in SQLAlchemy's logs or exception text.
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        try:
            _configure_connection(dbapi_conn, holder.hex, path)
        except BaseException:
            dbapi_conn.close()
            raise

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _create_schema(conn: Connection) -> None:
    for statement in (*_SCHEMA, *_SCHEMA_V2_TABLES):
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _migrate(conn: Connection, version: int) -> None:
    """Bring an older cache up to ``SCHEMA_VERSION`` (inside the open transaction).

    v1 -> v2 adds the ``data`` columns (old rows keep NULL and are read from their columns
    until the relay sends them again) and the notes/patient tables; FTS is untouched. Notes,
    patients, appointments and consents sent before the upgrade were skipped by v1: the
    cursor is reset to 0 so the next catch-up replays the feed (every event carries whole
    state and applying is idempotent, so the replay only fills the gaps). The old cursor is
    kept as ``wipe_floor``: wipe events at or below it were already judged by this cache and
    are not acted on again during the replay.
    """
    if version < 2:
        for statement in _MIGRATE_V1_V2:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO meta (key, value) "
            "SELECT 'wipe_floor', value FROM meta WHERE key = 'cursor'"
        )
        conn.exec_driver_sql("DELETE FROM meta WHERE key = 'cursor'")
    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


class Cache:
    """One user's encrypted cache. Open with ``await Cache.open(path, key)``."""

    def __init__(
        self,
        path: Path,
        engine: Engine,
        executor: ThreadPoolExecutor,
        holder: _KeyHolder | None = None,
    ) -> None:
        self.path = path
        self._engine = engine
        self._executor = executor
        self._holder = holder if holder is not None else _KeyHolder(None)
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: Path,
        key: CacheKey | str | None,
        *,
        plaintext_for_benchmarks_only: bool = False,
    ) -> Cache:
        """Open (creating if needed) the cache at ``path``; raises a ``CacheError``.

        ``key`` None opens WITHOUT encryption, the same code on plain SQLite pages. It
        exists only so benchmarks can report the SQLCipher/plain ratio (QUALITY P7) and is
        refused unless ``plaintext_for_benchmarks_only=True`` is passed as well. The engine
        never does; patient data must never be stored this way.
        """
        if key is None and not plaintext_for_benchmarks_only:
            raise CipherUnavailable("A cache without a key is refused.")
        if key is not None and plaintext_for_benchmarks_only:
            raise ValueError("plaintext_for_benchmarks_only takes no key")
        holder = _KeyHolder(key if isinstance(key, str) or key is None else key.hex())
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-cache")
        loop = asyncio.get_running_loop()
        try:
            engine = await loop.run_in_executor(executor, cls._open_sync, path, holder)
        except BaseException:
            executor.shutdown(wait=True)
            raise
        return cls(path, engine, executor, holder)

    @staticmethod
    def _open_sync(path: Path, holder: _KeyHolder) -> Engine:
        ensure_local_filesystem(path.parent)
        make_private_dir(path.parent)
        _private_file(path)
        engine = _make_engine(path, holder)
        try:
            with engine.begin() as conn:
                version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
                if version > SCHEMA_VERSION:
                    raise CacheTooNew("The local cache was written by a newer version of the app.")
                if version == 0:
                    _create_schema(conn)
                    log.info("created cache schema v%d", SCHEMA_VERSION)
                elif version < SCHEMA_VERSION:
                    _migrate(conn, version)
                    log.info("migrated cache schema v%d -> v%d", version, SCHEMA_VERSION)
                escalation_cache.ensure_schema(conn)  # new tables, no replay needed
        except DBAPIError as exc:
            engine.dispose()
            if isinstance(exc.orig, CacheError):
                raise exc.orig from None
            raise CacheCorrupt("The local cache file is damaged.") from exc
        except BaseException:
            engine.dispose()
            raise
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{path}{suffix}", 0o600)
        return engine

    async def close(self) -> None:
        """Checkpoint the WAL into the main file, close the connection, stop the worker."""
        if self._closed:
            return
        try:
            await self._run(self._close_sync)
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)
            self._holder.hex = None if self._holder.hex is None else ""  # drop the key

    def _close_sync(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except DBAPIError:
            log.warning("WAL checkpoint failed at close", exc_info=True)
        finally:
            self._engine.dispose()

    @property
    def encrypted(self) -> bool:
        return self._holder.hex is not None

    async def rekey(self, new_key: CacheKey | str) -> None:
        """Re-encrypt every page under ``new_key`` (``PRAGMA rekey``); the old key no
        longer opens the file. The caller stores the new key (see ``KeyStore``)."""
        new_hex = new_key if isinstance(new_key, str) else new_key.hex()
        if not _HEX_KEY.fullmatch(new_hex):
            raise ValueError("a cache key is 64 lowercase hex digits")
        if self._holder.hex is None:
            raise CipherUnavailable("A plaintext benchmark cache cannot be rekeyed.")
        await self._run(self._rekey_sync, new_hex)

    def _rekey_sync(self, new_hex: str) -> None:
        with self._engine.connect() as conn:
            # Fold the WAL in first so every page is rewritten under the new key.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            # On the raw DB-API cursor: SQLAlchemy would log the statement (with the key).
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cur.execute(f"PRAGMA rekey = \"x'{new_hex}'\"")
            finally:
                cur.close()
            self._holder.hex = new_hex
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise CacheClosed("The local cache is closed.")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(self._guarded, fn, *args)
        )

    @staticmethod
    def _guarded(fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except DBAPIError as exc:
            if isinstance(exc.orig, CacheError):
                raise exc.orig from None
            if _is_corruption(exc):
                raise CacheCorrupt("The local cache file is damaged.") from exc
            raise

    # -- feed -----------------------------------------------------------------------------

    async def cursor(self) -> int:
        """The seq of the last feed event committed to this cache (0 when empty)."""
        return await self._run(self._cursor_sync)

    def _cursor_sync(self) -> int:
        with self._engine.connect() as conn:
            return self._read_cursor(conn)

    @staticmethod
    def _read_cursor(conn: Connection) -> int:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'cursor'")).scalar()
        return int(value) if value is not None else 0

    async def apply_events(self, events: Sequence[FeedEvent], cursor: int) -> AppliedChanges:
        """Apply a batch of feed events and the new cursor in one transaction (I4)."""
        return await self._run(self._apply_events_sync, list(events), cursor)

    def _apply_events_sync(self, events: list[FeedEvent], cursor: int) -> AppliedChanges:
        conversations: list[dict[str, Any]] = []
        messages: list[tuple[MessageRecord, dict[str, Any]]] = []
        notes: list[dict[str, Any]] = []
        patients: list[dict[str, Any]] = []
        appointments: list[dict[str, Any]] = []
        consents: list[dict[str, Any]] = []
        escalation_rows = escalation_cache.Pending()
        erased: list[dict[str, Any]] = []  # patient.erased (erasure.py, DSGVO Art. 17)
        purges: list[PurgeNotice] = []  # retention.purged (retention_sync.py)
        for ev in events:
            try:
                if ev.type == PATIENT_ERASED_EVENT:
                    erased.append(ev.data)
                elif ev.type == RETENTION_PURGED_EVENT:
                    purges.append(parse_notice(ev.data))
                elif ev.type in ("escalation", "call"):
                    escalation_rows.add(ev.type, ev.seq, ev.data)
                elif ev.type == "conversation":
                    record = ConversationRecord.from_json(ev.data)
                    # ``data`` keeps every field the relay sent, also ones no record has yet.
                    conversations.append(
                        {**record.to_json(), "seq": ev.seq, "data": _dump(ev.data)}
                    )
                elif ev.type == "message":
                    messages.append((MessageRecord.from_json(ev.data), ev.data))
                elif ev.type == "note":
                    notes.append(_note_row(ev.data))
                elif ev.type == "patient":
                    patient = patient_from_json(ev.data)
                    patients.append(
                        {
                            "id": patient.id,
                            "wa_id": patient.wa_id,
                            "seq": ev.seq,
                            "data": _dump(ev.data),
                        }
                    )
                elif ev.type == "appointment":
                    appointment = appointment_from_json(ev.data)
                    appointments.append(
                        {
                            "id": appointment.id,
                            "patient_id": appointment.patient_id,
                            "start": appointment.start,
                            "seq": ev.seq,
                            "data": _dump(ev.data),
                        }
                    )
                elif ev.type == "consent":
                    consent = consent_from_json(ev.data)
                    consents.append(
                        {
                            "wa_id": consent.wa_id,
                            "purpose": consent.purpose.value,
                            "at": consent.at,
                            "seq": ev.seq,
                            "data": _dump(ev.data),
                        }
                    )
                else:
                    # Newer relays may add types; skipping them keeps us converging on ours.
                    log.debug("skipping feed event seq=%d of type %s", ev.seq, ev.type)
            except (KeyError, TypeError, ValueError):
                # One malformed event must not block the feed forever; ids only in the log.
                log.warning("skipping malformed feed event seq=%d type=%s", ev.seq, ev.type)
        with self._engine.begin() as conn:
            changes = self._write(conn, conversations, messages)
            changes = self._write_extras(conn, changes, notes, patients, appointments, consents)
            if escalation_rows:
                touched, overdue = escalation_rows.write(conn)
                # Call events the thread may show (messages_by_id keeps only those).
                calls = {call_message_id(c["id"]) for c in escalation_rows.calls}
                changes = replace(
                    changes,
                    escalation_ids=touched,
                    overdue_escalation_ids=overdue,
                    message_ids=changes.message_ids | calls,
                )
            if erased:
                gone = erase_patients(conn, erased)
                changes = replace(changes, conversation_ids=changes.conversation_ids | gone)
            if purges:
                # After the upserts: a purge always follows what it names in the feed.
                purged = apply_purges(conn, purges, note_message_id)
                changes = replace(
                    changes,
                    conversation_ids=changes.conversation_ids | purged.conversation_ids,
                    message_ids=changes.message_ids | purged.message_ids,
                )
            # Never move the cursor backwards (a stale replay must not rewind it).
            conn.execute(
                text(
                    "INSERT INTO meta (key, value) VALUES ('cursor', :v) ON CONFLICT (key) DO "
                    "UPDATE SET value = excluded.value "
                    "WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)"
                ),
                {"v": str(int(cursor))},
            )
            self._after_write_hook(conn)
        return changes

    def _after_write_hook(self, conn: Connection) -> None:
        """Runs inside each apply transaction just before commit (tests inject failures)."""

    async def apply_message(
        self, record: MessageRecord, *, acknowledges: str | None = None
    ) -> AppliedChanges:
        """Apply one message state the relay returned for a command (no cursor change).

        ``acknowledges``: the client id the relay answered for; its outbox entry is removed
        in the same transaction even if the answer does not echo the client id.
        """
        return await self._run(self._apply_message_sync, record, acknowledges)

    def _apply_message_sync(
        self, record: MessageRecord, acknowledges: str | None
    ) -> AppliedChanges:
        with self._engine.begin() as conn:
            changes = self._write(conn, [], [(record, record.to_json())])
            if acknowledges is not None and acknowledges not in changes.client_ids:
                gone = conn.execute(
                    text("DELETE FROM outbox WHERE client_id = :c"), {"c": acknowledges}
                ).rowcount
                if gone:
                    changes = AppliedChanges(
                        conversation_ids=changes.conversation_ids,
                        message_ids=changes.message_ids,
                        client_ids=changes.client_ids | {acknowledges},
                    )
            return changes

    def _write(
        self,
        conn: Connection,
        conversations: list[dict[str, Any]],
        pairs: list[tuple[MessageRecord, dict[str, Any]]],
    ) -> AppliedChanges:
        if conversations:
            conn.execute(_UPSERT_CONVERSATION, conversations)
        acknowledged: frozenset[str] = frozenset()
        messages = [m for m, _ in pairs]
        if messages:
            conn.execute(_UPSERT_MESSAGE, [{**m.to_json(), "data": _dump(raw)} for m, raw in pairs])
            client_ids = sorted({m.client_id for m in messages if m.client_id})
            if client_ids:
                # The relay has the message now: the local outbox entry is done.
                found = conn.execute(
                    text("SELECT client_id FROM outbox WHERE client_id IN :ids").bindparams(
                        _expanding("ids")
                    ),
                    {"ids": client_ids},
                ).scalars()
                acknowledged = frozenset(str(c) for c in found)
                if acknowledged:
                    conn.execute(
                        text("DELETE FROM outbox WHERE client_id = :c"),
                        [{"c": c} for c in acknowledged],
                    )
        return AppliedChanges(
            conversation_ids=frozenset(int(c["id"]) for c in conversations),
            message_ids=frozenset(m.id for m in messages),
            client_ids=acknowledged,
        )

    @staticmethod
    def _write_extras(
        conn: Connection,
        changes: AppliedChanges,
        notes: list[dict[str, Any]],
        patients: list[dict[str, Any]],
        appointments: list[dict[str, Any]],
        consents: list[dict[str, Any]],
    ) -> AppliedChanges:
        """Notes (immutable: first write wins), patients/appointments (the later event wins),
        consents (the latest ``at`` per number and purpose wins)."""
        if notes:
            conn.execute(_INSERT_NOTE, notes)
        if patients:
            conn.execute(_UPSERT_PATIENT, patients)
        if appointments:
            conn.execute(_UPSERT_APPOINTMENT, appointments)
        if consents:
            conn.execute(_UPSERT_CONSENT, consents)
        if not (notes or patients or appointments or consents):
            return changes
        return AppliedChanges(
            conversation_ids=changes.conversation_ids,
            message_ids=changes.message_ids | {note_message_id(n["id"]) for n in notes},
            client_ids=changes.client_ids,
            patient_ids=frozenset(int(p["id"]) for p in patients),
            appointment_ids=frozenset(int(a["id"]) for a in appointments),
            consent_wa_ids=frozenset(str(c["wa_id"]) for c in consents),
        )

    async def apply_note(self, data: dict[str, Any]) -> AppliedChanges:
        """Store a note the relay returned for ``add_note`` (no cursor change)."""
        row = _note_row(data)
        return await self._run(self._apply_note_sync, row)

    def _apply_note_sync(self, row: dict[str, Any]) -> AppliedChanges:
        with self._engine.begin() as conn:
            return self._write_extras(conn, AppliedChanges(), [row], [], [], [])

    async def apply_escalation(self, data: dict[str, Any]) -> None:
        """Store an escalation a command returned (the feed's next event still wins)."""
        await self._run(escalation_cache.write_answer, self._engine, data)

    async def escalations(self, conversation_id: int | None = None) -> list[EscalationRecord]:
        """Cached escalations (all, or one conversation's), most pressing first."""
        return await self._run(escalation_cache.read_escalations, self._engine, conversation_id)

    async def reconcile_escalations(self, states: list[dict[str, Any]]) -> frozenset[int]:
        """Hold exactly the escalations the relay lists now; returns the ids that changed."""
        return await self._run(escalation_cache.reconcile, self._engine, states)

    async def escalations_by_id(self, ids: Iterable[int]) -> list[EscalationRecord]:
        wanted = sorted({int(i) for i in ids})
        return await self._run(escalation_cache.read_escalations_by_id, self._engine, wanted)

    async def calls_for(self, escalation_id: int) -> list[CallRecord]:
        return await self._run(escalation_cache.read_calls, self._engine, int(escalation_id))

    # -- reads ----------------------------------------------------------------------------

    async def conversations(self) -> list[ConversationRecord]:
        """All conversations, newest activity first."""
        return await self._run(self._conversations_sync)

    def _conversations_sync(self) -> list[ConversationRecord]:
        sql = (
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations "  # noqa: S608
            "ORDER BY last_message_at DESC, id DESC"
        )
        with self._engine.connect() as conn:
            return [_conversation(r) for r in conn.execute(text(sql))]

    async def conversations_by_id(self, ids: Iterable[int]) -> list[ConversationRecord]:
        return await self._run(self._conversations_by_id_sync, sorted(set(ids)))

    def _conversations_by_id_sync(self, ids: list[int]) -> list[ConversationRecord]:
        if not ids:
            return []
        sql = text(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id IN :ids "  # noqa: S608
            "ORDER BY last_message_at DESC, id DESC"
        ).bindparams(_expanding("ids"))
        with self._engine.connect() as conn:
            return [_conversation(r) for r in conn.execute(sql, {"ids": ids})]

    async def messages(
        self,
        conversation_id: int,
        *,
        before: tuple[float, int] | None = None,
        after: tuple[float, int] | None = None,
        limit: int = 50,
    ) -> list[MessageRecord]:
        """Up to ``limit`` messages, pending outbox entries and notes (``type='note'``,
        ids ``-(NOTE_ID_BASE + note id)``) older than ``before`` (the newest such), or newer
        than ``after`` (the oldest such); not both.

        Keyset paging on (timestamp, id), no OFFSET; returned oldest first.
        """
        if before is not None and after is not None:
            raise ValueError("messages(): give before or after, not both")
        return await self._run(self._messages_sync, conversation_id, before, after, max(0, limit))

    def _messages_sync(
        self,
        conversation_id: int,
        before: tuple[float, int] | None,
        after: tuple[float, int] | None,
        limit: int,
    ) -> list[MessageRecord]:
        if limit == 0:
            return []
        params: dict[str, Any] = {"c": conversation_id, "n": limit}
        keyset_m = keyset_o = keyset_n = keyset_c = ""
        forward = after is not None
        key = after if after is not None else before
        op, order, rorder = (">", "ASC", "DESC") if forward else ("<", "DESC", "ASC")
        if key is not None:
            params["ts"], params["id"] = float(key[0]), int(key[1])
            keyset_m = f"AND (timestamp {op} :ts OR (timestamp = :ts AND id {op} :id))"
            keyset_o = f"AND (created_at {op} :ts OR (created_at = :ts AND -local_id {op} :id))"
            keyset_n = (
                f"AND (created_at {op} :ts OR "
                f"(created_at = :ts AND -({NOTE_ID_BASE} + id) {op} :id))"
            )
            keyset_c = (
                f"AND ({_CALL_AT} {op} :ts OR "
                f"({_CALL_AT} = :ts AND ({CALL_ID_START} + id) {op} :id))"
            )
        # Each branch is limited on its own index before the merge, so paging stays cheap.
        # (Outbox and note ids are negated, hence their reversed id order.)
        sql = f"""
            SELECT * FROM (
                SELECT {_MESSAGE_COLUMNS} FROM messages
                WHERE conversation_id = :c {keyset_m}
                ORDER BY timestamp {order}, id {order} LIMIT :n
            )
            UNION ALL
            SELECT * FROM (
                SELECT {_OUTBOX_AS_MESSAGE} FROM outbox
                WHERE conversation_id = :c {keyset_o}
                ORDER BY created_at {order}, local_id {rorder} LIMIT :n
            )
            UNION ALL
            SELECT * FROM (
                SELECT {_NOTE_AS_MESSAGE} FROM notes
                WHERE conversation_id = :c {keyset_n}
                ORDER BY created_at {order}, id {rorder} LIMIT :n
            )
            UNION ALL
            SELECT * FROM (
                SELECT {_CALL_AS_MESSAGE} FROM call_log
                WHERE conversation_id = :c AND {escalation_cache.IN_THREAD} {keyset_c}
                ORDER BY {_CALL_AT} {order}, id {order} LIMIT :n
            )
            ORDER BY timestamp {order}, id {order} LIMIT :n
        """  # noqa: S608
        with self._engine.connect() as conn:
            rows = [_message(r) for r in conn.execute(text(sql), params)]
        if not forward:
            rows.reverse()
        return rows

    async def messages_by_id(self, ids: Iterable[int]) -> list[MessageRecord]:
        """Messages by relay id; negative ids are pending outbox entries."""
        return await self._run(self._messages_by_id_sync, sorted(set(ids)))

    def _messages_by_id_sync(self, ids: list[int]) -> list[MessageRecord]:
        relay_ids = [i for i in ids if i > 0]
        note_ids = [n for n in (note_id_of(i) for i in ids) if n is not None]
        local_ids = [-i for i in ids if is_outbox_id(i)]
        call_ids = [c for c in (call_id_of(i) for i in ids) if c is not None]
        found: list[MessageRecord] = []
        with self._engine.connect() as conn:
            if note_ids:
                sql = text(f"SELECT {_NOTE_AS_MESSAGE} FROM notes WHERE id IN :ids")  # noqa: S608
                found += [
                    _message(r)
                    for r in conn.execute(sql.bindparams(_expanding("ids")), {"ids": note_ids})
                ]
            if call_ids:
                sql = text(
                    f"SELECT {_CALL_AS_MESSAGE} FROM call_log "  # noqa: S608
                    f"WHERE id IN :ids AND {escalation_cache.IN_THREAD}"
                )
                found += [
                    _message(r)
                    for r in conn.execute(sql.bindparams(_expanding("ids")), {"ids": call_ids})
                ]
            if relay_ids:
                sql = text(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN :ids")  # noqa: S608
                found += [
                    _message(r)
                    for r in conn.execute(sql.bindparams(_expanding("ids")), {"ids": relay_ids})
                ]
            if local_ids:
                sql = text(f"SELECT {_OUTBOX_AS_MESSAGE} FROM outbox WHERE local_id IN :ids")  # noqa: S608
                found += [
                    _message(r)
                    for r in conn.execute(sql.bindparams(_expanding("ids")), {"ids": local_ids})
                ]
        found.sort(key=lambda m: (m.timestamp, m.id))
        return found

    async def search(self, query: str, *, limit: int = 50) -> list[MessageRecord]:
        """Messages whose text matches every word of ``query`` (prefix match), newest first."""
        return await self._run(self._search_sync, query, limit)

    def _search_sync(self, query: str, limit: int) -> list[MessageRecord]:
        match = _fts_query(query)
        if match is None:
            return []
        cols = ", ".join(f"m.{c.strip()}" for c in _MESSAGE_COLUMNS.split(","))
        sql = text(
            f"SELECT {cols} FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid "  # noqa: S608
            "WHERE messages_fts MATCH :q ORDER BY m.timestamp DESC, m.id DESC LIMIT :n"
        )
        with self._engine.connect() as conn:
            return [_message(r) for r in conn.execute(sql, {"q": match, "n": limit})]

    async def note(self, message_id: int) -> dict[str, Any] | None:
        """The whole stored note (``author_name``, ``mentions``, …) behind a note message id."""
        note_id = note_id_of(message_id)
        if note_id is None:
            return None
        return await self._run(self._note_sync, note_id)

    def _note_sync(self, note_id: int) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            raw = conn.execute(text("SELECT data FROM notes WHERE id = :i"), {"i": note_id})
            value = raw.scalar()
        return _stored_json(value) if value is not None else None

    # -- patient register -------------------------------------------------------------------

    async def patients_for(self, wa_id: str) -> list[PatientRecord]:
        """Patients registered under this number (a parent and children may share one)."""
        return await self._run(self._patients_sync, wa_id)

    def _patients_sync(self, wa_id: str) -> list[PatientRecord]:
        sql = text("SELECT id, data FROM patients WHERE wa_id = :w ORDER BY id")
        out: list[PatientRecord] = []
        with self._engine.connect() as conn:
            for row in conn.execute(sql, {"w": wa_id}):
                try:
                    out.append(patient_from_json(_stored_json(row.data)))
                except (KeyError, TypeError, ValueError):
                    log.warning("unreadable stored patient id=%s", row.id)
        return out

    async def search_patients(self, query: str, *, limit: int = 20) -> list[PatientRecord]:
        """Cached patients whose name, record number or date of birth (ISO or DD.MM.YYYY)
        contains every word of ``query`` (case-insensitive); for linking an unknown number."""
        return await self._run(self._search_patients_sync, query, limit)

    def _search_patients_sync(self, query: str, limit: int) -> list[PatientRecord]:
        words = [w.casefold() for w in query.split()]
        found: list[PatientRecord] = []
        if not words:
            return found
        with self._engine.connect() as conn:
            for row in conn.execute(text("SELECT id, data FROM patients ORDER BY id")):
                try:
                    p = patient_from_json(_stored_json(row.data))
                except (KeyError, TypeError, ValueError):
                    continue
                german = ".".join(reversed(p.birth_date.split("-"))) if p.birth_date else ""
                hay = " ".join(
                    [p.given_name, p.family_name, p.record_number or "", p.birth_date or "", german]
                ).casefold()
                if all(w in hay for w in words):
                    found.append(p)
                    if len(found) >= limit:
                        break
        return found

    async def appointments_for(
        self, patient_id: int, *, now: float | None = None
    ) -> list[AppointmentRecord]:
        """A patient's appointments: upcoming (not yet ended) soonest first, then past ones
        most recent first."""
        when = time.time() if now is None else now
        return await self._run(self._appointments_sync, patient_id, when)

    def _appointments_sync(self, patient_id: int, now: float) -> list[AppointmentRecord]:
        sql = text("SELECT id, data FROM appointments WHERE patient_id = :p ORDER BY start, id")
        found: list[AppointmentRecord] = []
        with self._engine.connect() as conn:
            for row in conn.execute(sql, {"p": patient_id}):
                try:
                    found.append(appointment_from_json(_stored_json(row.data)))
                except (KeyError, TypeError, ValueError):
                    log.warning("unreadable stored appointment id=%s", row.id)
        upcoming = [a for a in found if a.end >= now]
        past = [a for a in found if a.end < now]
        past.reverse()
        return upcoming + past

    async def consents_for(self, wa_id: str) -> list[ConsentRecord]:
        """The current consent state per purpose for this number (purpose order)."""
        return await self._run(self._consents_sync, wa_id)

    def _consents_sync(self, wa_id: str) -> list[ConsentRecord]:
        sql = text("SELECT purpose, data FROM consents WHERE wa_id = :w ORDER BY purpose")
        out: list[ConsentRecord] = []
        with self._engine.connect() as conn:
            for row in conn.execute(sql, {"w": wa_id}):
                try:
                    out.append(consent_from_json(_stored_json(row.data)))
                except (KeyError, TypeError, ValueError):
                    log.warning("unreadable stored consent")
        return out

    # -- outbox ---------------------------------------------------------------------------

    async def enqueue_outbox(
        self,
        *,
        conversation_id: int,
        client_id: str,
        text_: str,
        type_: str = "text",
        created_at: float | None = None,
    ) -> OutboxEntry:
        """Store a new message to send; it survives restarts until the relay acknowledges."""
        when = time.time() if created_at is None else created_at
        return await self._run(self._enqueue_sync, conversation_id, client_id, text_, type_, when)

    def _enqueue_sync(
        self, conversation_id: int, client_id: str, body: str, type_: str, created_at: float
    ) -> OutboxEntry:
        with self._engine.begin() as conn:
            # A counter, not MAX(local_id)+1: a local id is never reused after an ack.
            local_id = int(
                conn.execute(
                    text(
                        "INSERT INTO meta (key, value) VALUES ('outbox_seq', '1') "
                        "ON CONFLICT (key) DO UPDATE SET "
                        "value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT) "
                        "RETURNING value"
                    )
                ).scalar_one()
            )
            conn.execute(
                text(
                    "INSERT INTO outbox (client_id, local_id, conversation_id, type, text, "
                    "created_at, state, attempts) "
                    "VALUES (:cid, :lid, :c, :t, :x, :at, 'queued', 0)"
                ),
                {
                    "cid": client_id,
                    "lid": local_id,
                    "c": conversation_id,
                    "t": type_,
                    "x": body,
                    "at": created_at,
                },
            )
        return OutboxEntry(
            local_id=local_id,
            client_id=client_id,
            conversation_id=conversation_id,
            type=type_,
            text=body,
            created_at=created_at,
            state="queued",
            attempts=0,
            last_error=None,
        )

    async def pending_outbox(self) -> list[OutboxEntry]:
        """Entries still to send ('queued' or interrupted 'sending'), in creation order."""
        return await self._run(self._pending_sync)

    def _pending_sync(self) -> list[OutboxEntry]:
        sql = text(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state IN ('queued', 'sending') "  # noqa: S608
            "ORDER BY local_id"
        )
        with self._engine.connect() as conn:
            return [_outbox_entry(r) for r in conn.execute(sql)]

    async def outbox_entries(self, client_ids: Iterable[str]) -> list[OutboxEntry]:
        """Entries (any state) for these client ids; acknowledged ones are absent."""
        return await self._run(self._outbox_entries_sync, sorted(set(client_ids)))

    def _outbox_entries_sync(self, client_ids: list[str]) -> list[OutboxEntry]:
        if not client_ids:
            return []
        sql = text(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE client_id IN :ids ORDER BY local_id"  # noqa: S608
        ).bindparams(_expanding("ids"))
        with self._engine.connect() as conn:
            return [_outbox_entry(r) for r in conn.execute(sql, {"ids": client_ids})]

    async def mark_outbox(
        self, client_id: str, state: str, *, error: str | None = None, attempt: bool = False
    ) -> bool:
        """Set an entry's state (and count an attempt); False when it is gone (acked)."""
        if state not in ("queued", "sending", "failed"):
            raise ValueError(state)
        return await self._run(self._mark_sync, client_id, state, error, attempt)

    def _mark_sync(self, client_id: str, state: str, error: str | None, attempt: bool) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                text(
                    "UPDATE outbox SET state = :s, last_error = :e, "
                    "attempts = attempts + :a WHERE client_id = :c"
                ),
                {"s": state, "e": error, "a": 1 if attempt else 0, "c": client_id},
            )
            return bool(result.rowcount)

    async def discard_outbox(self, client_id: str) -> bool:
        """Drop an entry (the user gave up on a failed message)."""
        return await self._run(self._discard_sync, client_id)

    def _discard_sync(self, client_id: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(text("DELETE FROM outbox WHERE client_id = :c"), {"c": client_id})
            return bool(result.rowcount)

    # -- meta -----------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        return await self._run(self._get_meta_sync, key)

    def _get_meta_sync(self, key: str) -> str | None:
        with self._engine.connect() as conn:
            value = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key})
            return value.scalar()

    async def set_meta(self, key: str, value: str) -> None:
        await self._run(self._set_meta_sync, key, value)

    def _set_meta_sync(self, key: str, value: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO meta (key, value) VALUES (:k, :v) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ),
                {"k": key, "v": value},
            )

    async def get_json(self, key: str) -> Any:
        raw = await self.get_meta(key)
        return None if raw is None else json.loads(raw)

    # -- maintenance ----------------------------------------------------------------------

    async def integrity_check(self) -> list[str]:
        """Problems found by ``cipher_integrity_check`` and ``quick_check`` (empty = clean)."""
        return await self._run(self._integrity_sync)

    def _integrity_sync(self) -> list[str]:
        with self._engine.connect() as conn:
            problems = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA cipher_integrity_check")]
            try:
                quick = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check")]
            except DBAPIError as exc:
                # quick_check stops at the first page that fails its HMAC; that is the finding.
                quick = [f"quick_check: {type(exc.orig).__name__}"]
        return problems + [q for q in quick if q != "ok"]

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file (tests and idle time)."""
        await self._run(self._checkpoint_sync)

    def _checkpoint_sync(self) -> None:
        with self._engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _expanding(name: str) -> Any:
    return bindparam(name, expanding=True)


def remove_cache_files(path: Path) -> None:
    """Delete the cache and its WAL/SHM (sign-out with wipe, or an unreadable cache)."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
