"""The relay's tables and engines (SQLite in WAL mode by default, PostgreSQL for scale-out)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
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

from .dbkey import KeyProblem, ServerKey, key_from_env
from .vault import Vault

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
    # The desktop installation that signed in (X-Inbox-Device), for device wipes.
    Column("device_id", String(64)),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
    # The client address, for throttling per address besides per user.
    Column("address", String(64), index=True),
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
    # Teamwork (see teams.py, commands.py): who may see it, who works on it.
    Column("team_id", Id),
    Column("assignee_id", Id),
    Column("claimed_by", Id),
    Column("claim_expires_at", Float),
    Column("status", String(16), nullable=False, default="open", server_default="open"),
    Column("snoozed_until", Float),
    Column("labels", Text, nullable=False, default="[]", server_default="[]"),
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
    # WhatsApp detail (0002_whatsapp): the wamid replied to, domain fields as JSON (media,
    # location, contacts, interactive replies, referral, system changes), reactions by
    # sender, and when the patient edited or deleted the message.
    Column("reply_to", String(256)),
    Column("details", Text),
    Column("reactions", Text),
    Column("edited_at", Float),
    Column("deleted_at", Float),
    # A scheduled send (0004_scheduled_send): when the outbox may send it (scheduled.py).
    Column("send_at", Float),
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
    # Who may receive it (feed.py): the conversation it belongs to, and for personal
    # events (mentions) the one user it is for.
    Column("conversation_id", Id),
    Column("audience_id", Id),
)

# -- collaboration: teams, commands, notes, audit (teams.py, commands.py, audit.py) -------

teams = Table(
    "teams",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Id, ForeignKey("teams.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
)

# Conversation commands already applied, keyed by the client's id (idempotent retries).
commands = Table(
    "commands",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("conversation_id", Id, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False, index=True),
    Column("author_id", Id, ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("mentions", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Append-only, hash-chained (audit.py); never holds message content.
audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("user_id", Id),
    Column("username", String(64)),
    Column("action", String(32), nullable=False),
    Column("conversation_id", Id),
    Column("detail", Text, nullable=False),
    Column("address", String(64)),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_user_at", "user_id", "at"),
    Index("ix_audit_conversation", "conversation_id"),
)


# -- WhatsApp (0002_whatsapp): actions on other messages, media, calls, templates ---------

# Reactions, edits and deletions, each once by wamid (I2); kept until their target arrives.
inbound_actions = Table(
    "inbound_actions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("wamid", String(256), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # reaction | edit | revoke
    Column("target_wamid", String(256), nullable=False, index=True),
    Column("from_id", String(64), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("data", Text, nullable=False),
    Column("applied", Boolean, nullable=False, default=False),
)

# One attachment per message; the media worker moves it pending -> ready | failed.
media = Table(
    "media",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("media_id", String(128)),
    Column("kind", String(16), nullable=False),
    Column("mime_type", String(128)),
    Column("declared_sha256", String(128)),
    Column("filename", String(256)),
    Column("size", BigInteger),
    Column("state", String(16), nullable=False),  # pending | ready | failed
    Column("reason", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("path", String(512)),
    Column("updated_at", Float, nullable=False),
    Index("ix_media_due", "state", "next_attempt_at"),
)

# Call webhooks (signalling only), each (call, event, status) once.
call_events = Table(
    "call_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("call_id", String(256), nullable=False),
    Column("event", String(16), nullable=False),
    Column("status", String(32), nullable=False, default=""),
    Column("direction", String(32)),
    Column("from_id", String(64)),
    Column("to_id", String(64)),
    Column("timestamp", Float, nullable=False),
    Column("duration", Integer),
    Column("error_code", Integer),
    Column("conversation_id", Id),
    UniqueConstraint("call_id", "event", "status", name="uq_call_event"),
)

# The WABA's message templates, synced from Graph and updated by template webhooks.
templates = Table(
    "templates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("template_id", String(64)),
    Column("name", String(512), nullable=False),
    Column("language", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("category", String(32)),
    Column("quality", String(16)),
    Column("parameter_format", String(16)),
    Column("components", Text, nullable=False, default="[]"),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("name", "language", name="uq_template_name_language"),
)

# Marketing opt-outs (user_preferences webhooks): the latest choice per patient.
user_preferences = Table(
    "user_preferences",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("wa_id", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("value", String(16), nullable=False),
    Column("timestamp", Float, nullable=False),
    UniqueConstraint("wa_id", "category", name="uq_user_preference"),
)

# Value-level webhook errors (e.g. 131000), once per distinct delivery content.
webhook_errors = Table(
    "webhook_errors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("code", Integer),
    Column("title", Text),
    Column("details", Text),
    Column("wamids", Text, nullable=False, default="[]"),
    Column("created_at", Float, nullable=False),
)

# -- patients and appointments (0002_appointments): imported from FHIR or CSV ----------

patients = Table(
    "patients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # "<source>|<id>" from the practice system; an import matches on it (idempotent).
    Column("external_id", String(256), nullable=False, unique=True),
    Column("family_name", String(128), nullable=False),
    Column("given_name", String(128), nullable=False),
    Column("birth_date", String(10)),
    Column("wa_id", String(64), index=True),
    Column("language", String(16)),
    Column("record_number", String(64)),
    Column("updated_at", Float, nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("external_id", String(256), nullable=False, unique=True),
    Column("patient_id", Id, ForeignKey("patients.id"), nullable=False, index=True),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("clinician", String(128)),
    Column("place", String(128)),
    Column("reason", String(256)),
    Column("status", String(16), nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_appointments_start", "start"),
)

# One row per clinician and schedule unit an active appointment occupies: the primary key
# makes two overlapping bookings impossible, whatever the race (booking.py).
slot_locks = Table(
    "slot_locks",
    metadata,
    Column("clinician", String(128), primary_key=True),
    Column("unit_start", Float, primary_key=True),
    Column("appointment_id", Id, ForeignKey("appointments.id"), nullable=False, index=True),
)

# Consent per number and purpose; rows are appended, the latest one counts (consent.py).
consents = Table(
    "consents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("wa_id", String(64), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_consents_lookup", "wa_id", "purpose", "at"),
)

# Each reminder (appointment, hours before) at most once, whatever restarts happen.
reminders = Table(
    "reminders",
    metadata,
    Column("appointment_id", Id, ForeignKey("appointments.id"), primary_key=True),
    Column("hours_before", Integer, primary_key=True),
    Column("state", String(16), nullable=False),  # sent | skipped | follow_up (reminders.py)
    Column("reason", String(64)),
    Column("at", Float, nullable=False),
)


# Orders to erase a desktop cache: for a user (every device) or one device (docs/protocol.md
# "Remote wipe"). Active until cleared by an admin.
wipe_orders = Table(
    "wipe_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id")),
    Column("device_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("cleared_at", Float),
)

# -- 0004_results: results sent to patients (results.py, routes_results.py, result_page.py)

# One row per result sent; for phi-safe delivery also the page's link (token hash only),
# the one-time code (hash), the viewer's session (hash) and the counters that lock it.
results = Table(
    "results",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False, index=True),
    Column("patient_id", Id, ForeignKey("patients.id"), nullable=False),
    Column("message_id", Id, ForeignKey("messages.id"), unique=True),
    Column("author_id", Id, ForeignKey("users.id"), nullable=False),
    Column("profile", String(16), nullable=False),  # direct | phi-safe
    Column("mime_type", String(128), nullable=False),
    Column("filename", String(256), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("encrypted", Boolean, nullable=False, default=False),
    Column("identity", String(16), nullable=False),  # match | mismatch | unverifiable
    Column("overridden", Boolean, nullable=False, default=False),
    Column("token_hash", String(64), unique=True),
    Column("expires_at", Float),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_at", Float),
    Column("code_hash", String(64)),
    Column("code_expires_at", Float),
    Column("codes_sent", Integer, nullable=False, default=0),
    Column("session_hash", String(64)),
    Column("session_expires_at", Float),
    Column("opened_at", Float),
    Column("downloaded_at", Float),
    Column("created_at", Float, nullable=False),
)


# How far the relay's own automation (automation.py) has worked through inbound messages;
# moved in the same transaction as a handler's effects, so nothing is done twice or lost.
automation_cursors = Table(
    "automation_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_id", Id, nullable=False),
)


# -- 0004_totp: staff second factor and read reports (totp.py, routes_audit.py) -----------

# One TOTP factor per user: the secret (encrypted with INBOX_TOTP_KEY when set), when the
# user confirmed it with a first code, and the last accepted time step (no code twice).
totp_factors = Table(
    "totp_factors",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("secret", String(256), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("confirmed_at", Float),
    Column("last_step", Id),
)

# Reads a desktop reports afterwards (searches run on its cache): the client id of each
# report already audited, so a report retried after a lost answer is recorded once.
read_reports = Table(
    "read_reports",
    metadata,
    Column("client_id", String(36), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("at", Float, nullable=False),
)


# -- 0004_bots: the intake and booking bots' place in each conversation (relay/bots/) -------
# One row per conversation the bot ever spoke in; kept in the database so a restart
# resumes the dialogue where it was (flow: intake | booking | handed_over | stopped).
bot_states = Table(
    "bot_states",
    metadata,
    Column("conversation_id", Id, ForeignKey("conversations.id"), primary_key=True),
    Column("flow", String(16), nullable=False),
    Column("step", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("data", Text, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("ended_reason", String(32)),
)

# Bookings by chat the practice system's FHIR server must still hear of (bots/fhir.py):
# written in the booking's transaction, posted by a job, never twice.
fhir_bookings = Table(
    "fhir_bookings",
    metadata,
    Column("appointment_id", Id, ForeignKey("appointments.id"), primary_key=True),
    Column("slot_reference", String(256)),
    Column("state", String(16), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)


# -- 0004_escalations: escalations and call attempts (escalations.py, calls.py) ---------

# A conversation handed to a clinician (assignee_id), a team (team_id) or every clinician
# (neither); created_by NULL is the relay itself (a red flag). ``source_message_id`` makes
# the red-flag escalation idempotent per message.
escalations = Table(
    "escalations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False, index=True),
    Column("patient_id", Id),
    Column("reason", Text, nullable=False),
    Column("priority", String(16), nullable=False),
    Column("due_at", Float, nullable=False),
    Column("assignee_id", Id, ForeignKey("users.id")),
    Column("team_id", Id, ForeignKey("teams.id")),
    Column("state", String(16), nullable=False),  # open | acknowledged | resolved
    Column("source", String(16), nullable=False, default="staff"),
    Column("source_message_id", Id, unique=True),
    # source "closed_day": the appointment that falls on a day the practice is closed.
    Column("appointment_id", Id, index=True),
    Column("created_by", Id, ForeignKey("users.id")),
    Column("created_at", Float, nullable=False),
    Column("acknowledged_by", Id, ForeignKey("users.id")),
    Column("acknowledged_at", Float),
    Column("resolved_by", Id, ForeignKey("users.id")),
    Column("resolved_at", Float),
    Column("resolution", Text),
    Column("renotified_at", Float),
    Index("ix_escalations_state_due", "state", "due_at"),
)

# Calling the patient back: permission requests, their answers, call webhooks shown in the
# thread, tel:/video attempts and the logged outcome (calls.py).
call_log = Table(
    "call_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False, index=True),
    Column("escalation_id", Id, ForeignKey("escalations.id")),
    Column("kind", String(32), nullable=False),
    Column("user_id", Id, ForeignKey("users.id")),
    Column("outcome", String(32)),
    Column("callback_at", Float),
    Column("note", Text),
    Column("status", String(64)),
    Column("created_at", Float, nullable=False),
    # 0006_call_details: a WhatsApp call's webhooks update one row (its wacid): who
    # started it (USER_INITIATED / BUSINESS_INITIATED) and the seconds talked.
    Column("direction", String(32)),
    Column("duration", Integer),
    Column("call_id", String(256), index=True),
)

# -- 0004_satisfaction: the question after a resolved conversation (satisfaction.py) -----

# One row per question asked; ``score`` (1 unhappy … 3 happy) once the patient answered.
# Reports count answers per day/week from here (satisfaction.answers()).
satisfaction_surveys = Table(
    "satisfaction_surveys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False, index=True),
    Column("wa_id", String(64), nullable=False),
    Column("message_id", Id, ForeignKey("messages.id")),
    Column("asked_at", Float, nullable=False),
    Column("score", Integer),
    Column("answered_at", Float),
    Index("ix_satisfaction_surveys_wa_id", "wa_id", "asked_at"),
)


# -- retention and data-protection rights (0004_retention): retention.py, privacy.py ------

# A legal hold keeps a patient's or a conversation's data from retention purges until it
# is released (litigation, a complaint, a request from authorities).
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("patient_id", Id),
    Column("conversation_id", Id),
    Column("reason", String(256), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("released_at", Float),
)

# Small facts the retention job keeps: e.g. the hash the audit chain continues from after
# its oldest rows were purged ("audit_anchor").
retention_marks = Table(
    "retention_marks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def apply_key(cur: Any, key_hex: str | None, where: str) -> None:
    """Key a fresh SQLCipher connection (before anything else), then prove it reads."""
    cur.execute("PRAGMA cipher_log_level = NONE")
    if key_hex is not None:
        # Raw key (x'..'): no per-connection KDF. Never through SQLAlchemy (it logs SQL).
        cur.execute(f"PRAGMA key = \"x'{key_hex}'\"")
    try:
        cur.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        if key_hex is None:
            raise KeyProblem(
                f"The relay database {where} is encrypted: set INBOX_DB_KEY or INBOX_DB_KEY_FILE."
            ) from None
        raise KeyProblem(
            f"The relay database {where} cannot be opened with this key (wrong key, "
            "or a plaintext database to encrypt with `inbox-relay rekey`)."
        ) from None


def connect_raw(path: str, key: ServerKey | None) -> Any:
    """A keyed DB-API connection for maintenance (backup, restore, rekey)."""
    conn = sqlcipher.connect(path, timeout=30, isolation_level=None)
    cur = conn.cursor()
    try:
        apply_key(cur, key.database_hex if key is not None else None, path)
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
    except BaseException:
        cur.close()
        conn.close()
        raise
    return conn


class Database:
    """Two engines on SQLite (writes take the lock up front; reads never block in WAL)."""

    def __init__(self, url: str, key: ServerKey | None = None) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # The server key (dbkey.py): given, else INBOX_DB_KEY / INBOX_DB_KEY_FILE. With a
        # key, SQLite goes through SQLCipher and media files are sealed (vault.py).
        self.key = key if key is not None else key_from_env()
        self.vault = Vault(self.key)
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.writer = self._sqlite_engine(immediate=True)
            self.reader = self._sqlite_engine(immediate=False)
        else:
            self.writer = create_engine(self.url, pool_pre_ping=True, pool_size=10)
            self.reader = self.writer
        # Connections in use by worker threads; dispose() lets them finish first.
        self._busy = 0
        self._idle = threading.Condition()

    def _sqlite_engine(self, *, immediate: bool) -> Engine:
        key_hex = self.key.database_hex if self.key is not None else None
        engine = create_engine(
            self.url,
            # SQLCipher's driver for both modes: without a key it is plain SQLite.
            module=sqlcipher,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
            # Bound parameters are patient data: never in logs or exception text.
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from pysqlite so BEGIN IMMEDIATE is possible.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            try:
                apply_key(cur, key_hex, self.url.database or "")
            except BaseException:
                cur.close()
                dbapi_conn.close()
                raise
            cur.execute("PRAGMA journal_mode=WAL")
            # Deleted rows are overwritten, not just unlinked (retention.py, Art. 17);
            # temporary tables and sorts stay in memory, never in plaintext temp files.
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA temp_store=MEMORY")
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
        with self._in_use(), self.writer.begin() as conn:
            if not self.is_sqlite:
                # Sequence numbers must become visible in order, or a reader paging
                # with ?after=SEQ could skip an event committed late; one lock per
                # transaction keeps commit order equal to seq order.
                conn.execute(text("SELECT pg_advisory_xact_lock(771401)"))
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._in_use(), self.reader.connect() as conn:
            yield conn

    @contextmanager
    def _in_use(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def dispose(self, *, wait: float = 5.0) -> None:
        """Close every connection, after in-flight work (e.g. a cancelled request's thread)
        has finished: a connection returned to a disposed pool would never be closed."""
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=wait)
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()

    def wipe_free_space(self, *, attempts: int = 50) -> None:
        """After deleting patient data (retention.py, privacy.py): fold the WAL into the
        file and truncate it, so no old page survives there; VACUUM when a quarter of the
        file is free. Deleted rows were already overwritten (secure_delete). SQLite only;
        PostgreSQL: see docs/operations.md (VACUUM, encrypted volume)."""
        if not self.is_sqlite:
            return
        with self._in_use():
            raw = self.writer.raw_connection()
            try:
                cur = raw.cursor()
                truncated = self._checkpoint(cur, attempts)
                free = cur.execute("PRAGMA freelist_count").fetchone()[0]
                pages = cur.execute("PRAGMA page_count").fetchone()[0]
                if truncated and free and free * 4 >= pages:
                    cur.execute("VACUUM")
                    self._checkpoint(cur, attempts)
                cur.close()
            finally:
                raw.close()

    @staticmethod
    def _checkpoint(cur: Any, attempts: int) -> bool:
        for _ in range(attempts):
            busy = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return True
            time.sleep(0.1)  # a reader still holds an older snapshot
        # The deletion is committed already; the next purge run truncates the log.
        logging.getLogger("inbox.relay.db").warning("WAL not truncated: readers kept it busy")
        return False

    def insert_ignore(self, table: Table) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING for this dialect."""
        if self.is_sqlite:
            return sqlite.insert(table).on_conflict_do_nothing()
        return postgresql.insert(table).on_conflict_do_nothing()
