"""Retention per data class, legal holds, and deleting so the data is really gone.

Classes (settings.py, all optional; unset keeps that class):
- media after ``media_retention_days``: the file is deleted, the attachment row stays as
  ``purged`` (the message itself remains until the message class expires; its new state
  goes to the feed);
- messages after ``message_retention_years``: messages, their attachments, results, notes
  and feed events; a conversation left without messages goes with them. In the same
  transaction the feed gets ``retention.purged`` events naming by id what went, so the
  desktops delete it from their caches too (client/retention_sync.py);
- audit after ``audit_retention_years`` (must not be shorter than messages): the oldest
  rows, with the chain's new starting hash kept as ``audit_anchor`` so verify still works.

A legal hold on a patient or a conversation exempts it until released. Every run is
audited (counts only). On SQLite, deleted rows are overwritten (``secure_delete``) and the
WAL is checkpointed and truncated afterwards, so no copy remains in the WAL either.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, func, select, update

from .audit import Action, record
from .db import (
    Database,
    audit,
    conversations,
    events,
    legal_holds,
    media,
    messages,
    metadata,
    notes,
    patients,
    results,
    retention_marks,
)
from .inbound import preview_of
from .pgnotify import notify_feed
from .store import Store

log = logging.getLogger("inbox.relay.retention")

DAY = 86400.0
YEAR = 365.25 * DAY
CHUNK = 500  # ids per IN (...) (SQLite's variable limit)
# Tables that keep a conversation_id after it is gone: the audit trail (kept longer, ids
# only) and the holds themselves.
KEEP_REFERENCES = {"audit", "legal_holds"}
AUDIT_ANCHOR = "audit_anchor"
# Ids only, never content: what a purge removed, for the desktop caches (docs/protocol.md).
PURGED_EVENT = "retention.purged"


class RetentionError(ValueError):
    """A retention setting or hold request that cannot be honoured; says why."""


@dataclass(frozen=True, slots=True)
class Policy:
    media_days: float | None = None
    message_years: float | None = None
    audit_years: float | None = None

    def __post_init__(self) -> None:
        if (
            self.audit_years is not None
            and self.message_years is not None
            and self.audit_years < self.message_years
        ):
            raise RetentionError(
                "The audit trail must be kept at least as long as messages "
                "(INBOX_RETENTION_AUDIT_YEARS >= INBOX_RETENTION_MESSAGE_YEARS)."
            )

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.media_days, self.message_years, self.audit_years))


@dataclass(slots=True)
class PurgeReport:
    media_files: int = 0
    messages: int = 0
    conversations: int = 0
    notes: int = 0
    events: int = 0
    audit_rows: int = 0
    held_conversations: int = 0


@dataclass(slots=True)
class Purged:
    """What the message purge removed from one conversation (ids for the feed)."""

    message_ids: list[int] = field(default_factory=list)
    note_ids: list[int] = field(default_factory=list)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def _fk_dependents(table: Table) -> list[tuple[Table, Column[Any]]]:
    """(table, column) pairs with a foreign key to ``table.id``."""
    found = []
    for other in metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                found.append((other, fk.parent))
    return found


def _soft_references(table: Table) -> list[tuple[Table, Column[Any]]]:
    """Columns that name a conversation or message by id without a foreign key."""
    name = {"conversations": "conversation_id", "messages": "message_id"}.get(table.name)
    if name is None:
        return []
    found = []
    for other in metadata.sorted_tables:
        column = other.c.get(name)
        if column is None or other.name in KEEP_REFERENCES or other is table:
            continue
        if not any(fk.parent is column for fk in other.foreign_keys):
            found.append((other, column))
    return found


def delete_cascade(conn: Connection, table: Table, ids: Sequence[int], files: list[str]) -> int:
    """Delete rows of ``table`` and everything that refers to them; file paths of deleted
    rows (columns named ``path``) are added to ``files`` for removal after the commit."""
    if not ids:
        return 0
    for dependent, column in _fk_dependents(table) + _soft_references(table):
        for part in _chunks(ids):
            if "id" in dependent.c and dependent.c.id.primary_key:
                child = [
                    int(r)
                    for r in conn.execute(select(dependent.c.id).where(column.in_(part))).scalars()
                ]
                delete_cascade(conn, dependent, child, files)
            else:
                if "path" in dependent.c:
                    files += [
                        p
                        for p in conn.execute(
                            select(dependent.c.path).where(column.in_(part))
                        ).scalars()
                        if p
                    ]
                conn.execute(delete(dependent).where(column.in_(part)))
    count = 0
    for part in _chunks(ids):
        if "path" in table.c:
            files += [
                p
                for p in conn.execute(select(table.c.path).where(table.c.id.in_(part))).scalars()
                if p
            ]
        count += conn.execute(delete(table).where(table.c.id.in_(part))).rowcount or 0
    return count


def remove_files(paths: Iterable[str]) -> int:
    removed = 0
    for path in paths:
        try:
            Path(path).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def held_conversation_ids(conn: Connection) -> set[int]:
    """Conversations under an active hold, directly or through their patient."""
    active = legal_holds.c.released_at.is_(None)
    direct = set(
        conn.execute(
            select(legal_holds.c.conversation_id).where(
                active, legal_holds.c.conversation_id.is_not(None)
            )
        ).scalars()
    )
    patient_ids = select(legal_holds.c.patient_id).where(
        active, legal_holds.c.patient_id.is_not(None)
    )
    numbers = select(patients.c.wa_id).where(
        patients.c.id.in_(patient_ids), patients.c.wa_id.is_not(None)
    )
    through_patient = set(
        conn.execute(select(conversations.c.id).where(conversations.c.wa_id.in_(numbers))).scalars()
    )
    return {int(i) for i in direct | through_patient}


# -- holds -------------------------------------------------------------------------------


def place_hold(
    db: Database,
    *,
    patient_id: int | None = None,
    conversation_id: int | None = None,
    reason: str,
    user_id: int | None = None,
) -> int:
    if (patient_id is None) == (conversation_id is None):
        raise RetentionError("A legal hold is for one patient or one conversation.")
    if not reason.strip():
        raise RetentionError("A legal hold needs a reason.")
    with db.write() as conn:
        target = patients if patient_id is not None else conversations
        wanted = patient_id if patient_id is not None else conversation_id
        if conn.execute(select(target.c.id).where(target.c.id == wanted)).first() is None:
            raise RetentionError(f"No such {'patient' if patient_id else 'conversation'}.")
        key = conn.execute(
            legal_holds.insert().values(
                patient_id=patient_id,
                conversation_id=conversation_id,
                reason=reason.strip()[:256],
                created_at=time.time(),
            )
        ).inserted_primary_key
        assert key is not None
        hold_id = int(key[0])
        record(
            conn,
            Action.LEGAL_HOLD,
            user_id=user_id,
            conversation_id=conversation_id,
            detail={"hold_id": hold_id, "patient_id": patient_id},
        )
    return hold_id


def release_hold(db: Database, hold_id: int, *, user_id: int | None = None) -> None:
    with db.write() as conn:
        done = conn.execute(
            update(legal_holds)
            .where(legal_holds.c.id == hold_id, legal_holds.c.released_at.is_(None))
            .values(released_at=time.time())
        ).rowcount
        if not done:
            raise RetentionError(f"No active legal hold {hold_id}.")
        record(conn, Action.LEGAL_HOLD_RELEASED, user_id=user_id, detail={"hold_id": hold_id})


def list_holds(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            select(legal_holds)
            .where(legal_holds.c.released_at.is_(None))
            .order_by(legal_holds.c.id)
        ).all()
    return [dict(r._mapping) for r in rows]


# -- the purge ---------------------------------------------------------------------------


class Retention:
    def __init__(self, db: Database, policy: Policy) -> None:
        self.db = db
        self.policy = policy

    def run(self, now: float | None = None, *, user_id: int | None = None) -> PurgeReport:
        """Purge what is past its time, audit the counts, then wipe the WAL."""
        now = time.time() if now is None else now
        report = PurgeReport()
        files: list[str] = []
        with self.db.write() as conn:
            held = held_conversation_ids(conn)
            report.held_conversations = len(held)
            if self.policy.media_days is not None:
                report.media_files = self._purge_media(
                    conn, now - self.policy.media_days * DAY, held, files
                )
            if self.policy.message_years is not None:
                self._purge_messages(
                    conn, now - self.policy.message_years * YEAR, now, held, files, report
                )
            if self.policy.audit_years is not None:
                report.audit_rows = self._purge_audit(conn, now - self.policy.audit_years * YEAR)
            record(conn, Action.RETENTION_PURGE, user_id=user_id, detail=asdict(report), now=now)
        remove_files(files)
        self.db.wipe_free_space()
        log.info("retention purge: %s", json.dumps(asdict(report), sort_keys=True))
        return report

    def _purge_media(
        self, conn: Connection, cutoff: float, held: set[int], files: list[str]
    ) -> int:
        rows = conn.execute(
            select(media.c.id, media.c.path, media.c.message_id)
            .select_from(media.join(messages, messages.c.id == media.c.message_id))
            .where(
                messages.c.timestamp < cutoff,
                media.c.state != "purged",
                messages.c.conversation_id.not_in(held) if held else messages.c.id.is_not(None),
            )
        ).all()
        for part in _chunks([int(r.id) for r in rows]):
            conn.execute(
                update(media)
                .where(media.c.id.in_(part))
                .values(
                    state="purged",
                    path=None,
                    reason="Removed after the retention period.",
                    updated_at=time.time(),
                )
            )
        files += [str(r.path) for r in rows if r.path]
        # Desktops learn the attachment is gone the usual way: the message's new state.
        store = Store(self.db)
        for message_id in sorted({int(r.message_id) for r in rows}):
            store._emit_message(conn, message_id)
        return len(rows)

    def _purge_messages(
        self,
        conn: Connection,
        cutoff: float,
        now: float,
        held: set[int],
        files: list[str],
        report: PurgeReport,
    ) -> None:

        def not_held(col: Any) -> Any:
            return col.not_in(held) if held else col.is_not(None)

        old_rows = conn.execute(
            select(messages.c.id, messages.c.conversation_id).where(
                messages.c.timestamp < cutoff, not_held(messages.c.conversation_id)
            )
        ).all()
        old = [int(r.id) for r in old_rows]
        purged: dict[int, Purged] = {}
        for r in old_rows:
            purged.setdefault(int(r.conversation_id), Purged()).message_ids.append(int(r.id))
        touched = sorted(purged)
        for part in _chunks(old):
            report.events += (
                conn.execute(
                    delete(events).where(events.c.type == "message", events.c.entity_id.in_(part))
                ).rowcount
                or 0
            )
            # Result events quote the file name and the patient's identity check.
            result_ids = select(results.c.id).where(results.c.message_id.in_(part))
            report.events += (
                conn.execute(
                    delete(events).where(
                        events.c.type == "result", events.c.entity_id.in_(result_ids)
                    )
                ).rowcount
                or 0
            )
        report.messages = delete_cascade(conn, messages, old, files)
        note_rows = conn.execute(
            select(notes.c.id, notes.c.conversation_id).where(
                notes.c.created_at < cutoff, not_held(notes.c.conversation_id)
            )
        ).all()
        old_notes = [int(r.id) for r in note_rows]
        for r in note_rows:
            purged.setdefault(int(r.conversation_id), Purged()).note_ids.append(int(r.id))
        for part in _chunks(old_notes):
            conn.execute(
                delete(events).where(
                    events.c.type.in_(("note", "mention")), events.c.entity_id.in_(part)
                )
            )
        report.notes = delete_cascade(conn, notes, old_notes, files)
        empty = [
            int(i)
            for i in conn.execute(
                select(conversations.c.id).where(
                    conversations.c.last_message_at < cutoff,
                    not_held(conversations.c.id),
                    ~select(messages.c.id)
                    .where(messages.c.conversation_id == conversations.c.id)
                    .exists(),
                )
            ).scalars()
        ]
        report.conversations = delete_cascade(conn, conversations, empty, files)
        # The preview of a conversation that stays may quote a purged message: it takes the
        # newest message left, in a fresh snapshot (so the old ones below can go).
        self._refresh_previews(conn, [c for c in touched if c not in set(empty)])
        # Superseded snapshots of the touched conversations quote purged messages in their
        # preview; the latest snapshot stays (a desktop syncing from scratch needs it).
        later = events.alias("later")
        newest = (
            select(func.max(later.c.seq))
            .where(
                later.c.type == "conversation", later.c.conversation_id == events.c.conversation_id
            )
            .scalar_subquery()
        )
        for part in _chunks(touched):
            report.events += (
                conn.execute(
                    delete(events).where(
                        events.c.type == "conversation",
                        events.c.conversation_id.in_(part),
                        events.c.seq < newest,
                    )
                ).rowcount
                or 0
            )
        # Older feed entries of conversations that stay: they may quote purged messages.
        report.events += (
            conn.execute(
                delete(events).where(
                    events.c.created_at < cutoff,
                    events.c.conversation_id.is_not(None),
                    not_held(events.c.conversation_id),
                )
            ).rowcount
            or 0
        )
        self._announce(conn, cutoff, now, purged, empty)

    def _refresh_previews(self, conn: Connection, conversation_ids: list[int]) -> None:
        store = Store(self.db)
        for cid in conversation_ids:
            newest = conn.execute(
                select(messages.c.type, messages.c.text)
                .where(messages.c.conversation_id == cid)
                .order_by(messages.c.timestamp.desc(), messages.c.id.desc())
                .limit(1)
            ).one_or_none()
            preview = "" if newest is None else preview_of(newest.type, newest.text)
            changed = conn.execute(
                update(conversations)
                .where(conversations.c.id == cid, conversations.c.last_message_preview != preview)
                .values(last_message_preview=preview)
            ).rowcount
            if changed:
                store._emit_conversation(conn, cid)

    def _announce(
        self,
        conn: Connection,
        cutoff: float,
        now: float,
        purged: dict[int, Purged],
        removed: list[int],
    ) -> None:
        """Feed events (ids only) so desktops delete what went: one per conversation that
        stays (so only those who may see it learn of it), one for the removed ones."""
        gone = set(removed)
        rows = [
            {
                "type": PURGED_EVENT,
                "entity_id": cid,
                "data": json.dumps(
                    {
                        "conversation_id": cid,
                        "before": cutoff,
                        "message_ids": sorted(p.message_ids),
                        "note_ids": sorted(p.note_ids),
                    },
                    separators=(",", ":"),
                ),
                "created_at": now,
                "conversation_id": cid,
                "audience_id": None,
            }
            for cid, p in sorted(purged.items())
            if cid not in gone
        ]
        if removed:
            # Their rows are gone, so no visibility rule can name them: like
            # ``patient.erased``, ids only for every desktop (a cache without them skips it).
            rows.append(
                {
                    "type": PURGED_EVENT,
                    "entity_id": 0,
                    "data": json.dumps(
                        {"before": cutoff, "conversation_ids": sorted(removed)},
                        separators=(",", ":"),
                    ),
                    "created_at": now,
                    "conversation_id": None,
                    "audience_id": None,
                }
            )
        if not rows:
            return
        conn.execute(events.insert(), rows)
        if not self.db.is_sqlite:
            notify_feed(conn)

    def _purge_audit(self, conn: Connection, cutoff: float) -> int:
        last = conn.execute(
            select(audit.c.id, audit.c.hash)
            .where(audit.c.at < cutoff)
            .order_by(audit.c.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return 0
        # The chain continues from the last purged row's hash (audit.verify reads it).
        existing = conn.execute(
            select(retention_marks.c.name).where(retention_marks.c.name == AUDIT_ANCHOR)
        ).first()
        if existing:
            conn.execute(
                update(retention_marks)
                .where(retention_marks.c.name == AUDIT_ANCHOR)
                .values(value=last.hash)
            )
        else:
            conn.execute(retention_marks.insert().values(name=AUDIT_ANCHOR, value=last.hash))
        return int(conn.execute(delete(audit).where(audit.c.id <= last.id)).rowcount or 0)


def policy_of(settings: Any) -> Policy:
    return Policy(
        media_days=settings.media_retention_days,
        message_years=settings.message_retention_years,
        audit_years=settings.audit_retention_years,
    )


def register(automation: Any, settings: Any, db: Database) -> None:
    """The periodic purge inside the relay (only when some class has a retention)."""
    policy = policy_of(settings)
    if not policy.active:
        return
    retention = Retention(db, policy)
    automation.every(
        "retention", settings.retention_interval_seconds, lambda _store, now: retention.run(now)
    )
