"""The relay's tables and engines (SQLite in WAL mode by default, PostgreSQL for scale-out)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

metadata = MetaData()

# BigInteger on PostgreSQL, INTEGER (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("wa_id", String(64), nullable=False, unique=True),
    Column("display_name", String(256), nullable=False),
    Column("last_message_at", Float, nullable=False),
    Column("last_message_preview", Text, nullable=False, default=""),
    Column("last_inbound_at", Float),
    Column("unread", Integer, nullable=False, default=0),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("type", String(32), nullable=False),
    Column("text", Text),
    Column("status", String(16), nullable=False),
    Column("timestamp", Float, nullable=False),
    # UNIQUE, not check-then-insert: a repeated delivery is a no-op (QUALITY I2).
    Column("wamid", String(256), unique=True),
    Column("client_id", String(64), unique=True),
    Column("error_code", Integer),
    Column("error_title", Text),
    Column("author_id", Id, ForeignKey("users.id")),
    Column("raw", Text),
    Index("ix_messages_conversation_ts", "conversation_id", "timestamp", "id"),
)

# Each (wamid, status) once; kept even when the wamid is not known yet (a status can
# overtake the send call's answer), and applied when it becomes known.
status_receipts = Table(
    "status_receipts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("wamid", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("error_code", Integer),
    Column("error_title", Text),
    Column("callback_data", String(512)),
    UniqueConstraint("wamid", "status", name="uq_status_receipt"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("state", String(16), nullable=False),  # pending | inflight | done
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("last_error", Text),
    Index("ix_outbox_due", "state", "next_attempt_at"),
)

events = Table(
    "events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("type", String(32), nullable=False),
    Column("entity_id", Id, nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


class Database:
    """Two engines on SQLite (writes take the lock up front; reads never block in WAL)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.writer = self._sqlite_engine(immediate=True)
            self.reader = self._sqlite_engine(immediate=False)
        else:
            self.writer = create_engine(self.url, pool_pre_ping=True, pool_size=10)
            self.reader = self.writer

    def _sqlite_engine(self, *, immediate: bool) -> Engine:
        engine = create_engine(
            self.url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so BEGIN IMMEDIATE is possible.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a webhook acknowledged with 200 survives power loss (QUALITY I1).
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def create_schema(self) -> None:
        """Create or upgrade the tables through the Alembic migrations."""
        from .migrate import upgrade

        upgrade(self.writer)
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                path = Path(self.url.database + suffix)
                if path.exists():
                    os.chmod(path, 0o600)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on PostgreSQL event appends are serialised (see below)."""
        with self.writer.begin() as conn:
            if not self.is_sqlite:
                # Sequence numbers must become visible in order, or a reader paging
                # with ?after=SEQ could skip an event committed late; one lock per
                # transaction keeps commit order equal to seq order.
                conn.execute(text("SELECT pg_advisory_xact_lock(771401)"))
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()

    def insert_ignore(self, table: Table) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING for this dialect."""
        if self.is_sqlite:
            return sqlite.insert(table).on_conflict_do_nothing()
        return postgresql.insert(table).on_conflict_do_nothing()
