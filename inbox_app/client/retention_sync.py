"""Applying ``retention.purged`` feed events to the desktop cache (DSGVO Art. 5(1)(e)).

The relay's retention purge (relay/retention.py) names by id what it deleted: per
conversation that stays, its purged messages and notes; and the conversations it removed
because nothing was left in them. The cache deletes the same rows (the FTS index follows
through the ``messages_fts_delete`` trigger), so a clinic's retention period also holds on
every PC. Conversations under a legal hold are never named, so they stay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text

RETENTION_PURGED_EVENT = "retention.purged"
# Cache tables keyed by the relay's conversation id (as erasure.py; optional ones may be
# absent in an older cache).
_BY_CONVERSATION = ("messages", "notes", "outbox", "escalations", "call_log")


@dataclass(frozen=True, slots=True)
class PurgeNotice:
    """One ``retention.purged`` event, checked (ids only)."""

    conversation_id: int | None
    message_ids: tuple[int, ...] = ()
    note_ids: tuple[int, ...] = ()
    removed_conversation_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PurgeApplied:
    """What the cache deleted: conversations to refresh (or drop) and message ids as
    ``messages()`` shows them (relay ids; notes as ``note_message_id``)."""

    conversation_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()


def _id(value: Any) -> int:
    # bool is an int subclass; a string or float id means a broken event, not a coercion.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not an id")
    return value


def _id_list(data: dict[str, Any], key: str) -> tuple[int, ...]:
    values = data.get(key, [])
    if not isinstance(values, list):
        raise TypeError(f"{key} is not a list")
    return tuple(sorted({_id(v) for v in values}))


def parse_notice(data: Any) -> PurgeNotice:
    """The event's ids; ValueError/TypeError when it is malformed (the caller skips it)."""
    if not isinstance(data, dict):
        raise TypeError("event data is not an object")
    raw_conversation = data.get("conversation_id")
    conversation_id = None if raw_conversation is None else _id(raw_conversation)
    notice = PurgeNotice(
        conversation_id=conversation_id,
        message_ids=_id_list(data, "message_ids"),
        note_ids=_id_list(data, "note_ids"),
        removed_conversation_ids=_id_list(data, "conversation_ids"),
    )
    if conversation_id is None and (notice.message_ids or notice.note_ids):
        raise ValueError("message or note ids without their conversation")
    return notice


def _tables(conn: Connection) -> set[str]:
    rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
    return {str(r[0]) for r in rows}


def _newest_message_id(conn: Connection, conversation_id: int) -> int | None:
    value = conn.execute(
        text(
            "SELECT id FROM messages WHERE conversation_id = :c "
            "ORDER BY timestamp DESC, id DESC LIMIT 1"
        ),
        {"c": conversation_id},
    ).scalar()
    return None if value is None else int(value)


def _delete_ids(conn: Connection, table: str, conversation_id: int, ids: Iterable[int]) -> set[int]:
    """Delete rows by id, but only within the named conversation (a wrong id never deletes
    another conversation's rows); returns the ids that were there."""
    wanted = list(ids)
    found: set[int] = set()
    where = f"FROM {table} WHERE conversation_id = :c AND id IN :ids"
    select_ids = text(f"SELECT id {where}").bindparams(bindparam("ids", expanding=True))
    delete_ids = text(f"DELETE {where}").bindparams(bindparam("ids", expanding=True))
    for i in range(0, len(wanted), 500):  # SQLite's variable limit
        params = {"c": conversation_id, "ids": wanted[i : i + 500]}
        found.update(int(v) for v in conn.execute(select_ids, params).scalars())
        conn.execute(delete_ids, params)
    return found


def _refresh_preview(conn: Connection, conversation_id: int) -> None:
    """The list row quoted a message that is gone: show the newest one left instead (the
    relay's next snapshot of the conversation replaces it anyway)."""
    newest = _newest_message_id(conn, conversation_id)
    preview = ""
    if newest is not None:
        preview = (
            conn.execute(text("SELECT text FROM messages WHERE id = :m"), {"m": newest}).scalar()
            or ""
        )
    conn.execute(
        text("UPDATE conversations SET last_message_preview = :p WHERE id = :c"),
        {"p": str(preview)[:200], "c": conversation_id},
    )


def apply_purges(
    conn: Connection, notices: list[PurgeNotice], note_message_id: Callable[[int], int]
) -> PurgeApplied:
    """Delete what the notices name; ``note_message_id`` maps a note id to its message id."""
    present = _tables(conn)
    changed: set[int] = set()
    gone: set[int] = set()
    for notice in notices:
        cid = notice.conversation_id
        if cid is not None:
            newest = _newest_message_id(conn, cid)
            messages = _delete_ids(conn, "messages", cid, notice.message_ids)
            notes = (
                _delete_ids(conn, "notes", cid, notice.note_ids) if "notes" in present else set()
            )
            if newest is not None and newest in messages:
                _refresh_preview(conn, cid)
            if messages or notes:
                changed.add(cid)
            gone |= messages | {note_message_id(n) for n in notes}
        for removed in notice.removed_conversation_ids:
            params = {"c": removed}
            # Only integers from the event reach the SQL (as bound parameters).
            deleted = 0
            for table in (*_BY_CONVERSATION, "conversations"):
                if table in present:
                    column = "id" if table == "conversations" else "conversation_id"
                    deleted += conn.execute(
                        text(f"DELETE FROM {table} WHERE {column} = :c"),  # noqa: S608
                        params,
                    ).rowcount
            if deleted:
                changed.add(removed)
    return PurgeApplied(conversation_ids=frozenset(changed), message_ids=frozenset(gone))
