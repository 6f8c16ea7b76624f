"""Qt list models over engine records, updated row by row (never reset on a new message)."""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from inbox_app.domain.conversations import ConversationRecord
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus
from ui.call_events import call_event_text
from ui.contract import InboxEngine

log = logging.getLogger("inbox.ui.models")

RecordRole = Qt.ItemDataRole.UserRole + 1
IdRole = Qt.ItemDataRole.UserRole + 2
# "Ben" while Ben is typing in this conversation (from presence; None otherwise).
PresenceRole = Qt.ItemDataRole.UserRole + 3
# The signed-in user's id, so a row can say "Yours" rather than "Claimed by …".
UserIdRole = Qt.ItemDataRole.UserRole + 4

PAGE_SIZE = 50

_Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R", ConversationRecord, MessageRecord)


class _SortedRecordModel(QAbstractListModel, Generic[R]):
    """Rows kept sorted by ``_key``; upserts insert, update or move single rows."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []
        self._keys: list[tuple[float, int]] = []

    # subclasses define the order
    def _key(self, record: R) -> tuple[float, int]:
        raise NotImplementedError

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def record_at(self, row: int) -> R | None:
        """The record in ``row``, or None when out of range."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def records(self) -> Sequence[R]:
        """A read-only view of all rows, in display order."""
        return tuple(self._rows)

    def row_of_id(self, record_id: int) -> int | None:
        """The row holding ``record_id`` (linear: windows are small)."""
        for row, rec in enumerate(self._rows):
            if rec.id == record_id:
                return row
        return None

    def remove_ids(self, record_ids: Iterable[int]) -> int:
        """Drop the rows holding these ids (gone from the cache: purged, erased); returns
        how many went."""
        gone = set(record_ids)
        removed = 0
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].id in gone:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                del self._keys[row]
                self.endRemoveRows()
                removed += 1
        return removed

    def _insert(self, record: R) -> int:
        key = self._key(record)
        pos = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), pos, pos)
        self._rows.insert(pos, record)
        self._keys.insert(pos, key)
        self.endInsertRows()
        return pos

    def _insert_many_at(self, pos: int, records: list[R]) -> None:
        if not records:
            return
        self.beginInsertRows(QModelIndex(), pos, pos + len(records) - 1)
        self._rows[pos:pos] = records
        self._keys[pos:pos] = [self._key(r) for r in records]
        self.endInsertRows()

    def _replace(self, row: int, record: R) -> int:
        """Put ``record`` in place of ``row``, moving it if its sort position changed."""
        key = self._key(record)
        others = self._keys[:row] + self._keys[row + 1 :]
        target = bisect.bisect_left(others, key)
        if target != row:
            # beginMoveRows counts the destination before the move: moving down needs +1.
            dest = target + 1 if target > row else target
            if not self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), dest):
                raise RuntimeError("invalid row move")  # our bug: the arithmetic above is off
            self._rows.pop(row)
            self._keys.pop(row)
            self._rows.insert(target, record)
            self._keys.insert(target, key)
            self.endMoveRows()
        else:
            self._rows[row] = record
            self._keys[row] = key
        idx = self.index(target, 0)
        self.dataChanged.emit(idx, idx)
        return target


class ConversationListModel(_SortedRecordModel[ConversationRecord]):
    """All conversations, newest activity first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._presence: dict[int, str] = {}
        self._user_id: int | None = None

    def set_user_id(self, user_id: int | None) -> None:
        """The signed-in user (rows held by them read "Yours")."""
        self._user_id = user_id
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

    def clear(self) -> None:
        """Forget every conversation (the session locked: no patient data stays in view)."""
        self.beginResetModel()
        self._rows, self._keys = [], []
        self._presence.clear()
        self.endResetModel()

    def set_presence(self, conversation_id: int, typing_name: str | None) -> None:
        """Show (or clear) "<name> is typing…" on a conversation's row."""
        if typing_name:
            if self._presence.get(conversation_id) == typing_name:
                return
            self._presence[conversation_id] = typing_name
        elif self._presence.pop(conversation_id, None) is None:
            return
        row = self.row_of_id(conversation_id)
        if row is not None:
            idx = self.index(row, 0)
            self.dataChanged.emit(idx, idx, [PresenceRole])

    def _key(self, record: ConversationRecord) -> tuple[float, int]:
        return (-record.last_message_at, -record.id)

    def upsert(self, records: Iterable[ConversationRecord]) -> None:
        """Insert new conversations, update known ones in place, move those whose order changed."""
        incoming = list(records)
        if not self._rows and incoming:
            # First load: one insert for all rows instead of one per row.
            unique = {r.id: r for r in incoming}
            self._insert_many_at(0, sorted(unique.values(), key=self._key))
            return
        for record in incoming:
            row = self.row_of_id(record.id)
            if row is None:
                self._insert(record)
            elif self._rows[row] != record:
                self._replace(row, record)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        rec = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return rec.display_name
        if role == RecordRole:
            return rec
        if role == IdRole:
            return rec.id
        if role == PresenceRole:
            return self._presence.get(rec.id)
        if role == UserIdRole:
            return self._user_id
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if rec.unread:
                return QCoreApplication.translate(
                    "ConversationListModel", "%1, %n unread", "", rec.unread
                ).replace("%1", rec.display_name)
            return rec.display_name
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[RecordRole] = QByteArray(b"record")
        names[IdRole] = QByteArray(b"conversationId")
        return names


class ThreadModel(_SortedRecordModel[MessageRecord]):
    """A window onto one conversation's messages, oldest first; older pages load on demand."""

    def __init__(
        self, engine: InboxEngine, *, page_size: int = PAGE_SIZE, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._page_size = page_size
        self._conversation_id: int | None = None
        self._has_more = False
        # True after a jump into history: newer messages exist beyond the window's end.
        self._has_newer = False
        self._loading = False
        # Bumped on every load so a slow answer for the previous conversation is dropped.
        self._generation = 0
        self._fetch_task: asyncio.Task[int] | None = None

    def _key(self, record: MessageRecord) -> tuple[float, int]:
        return (record.timestamp, record.id)

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    @property
    def has_more(self) -> bool:
        return self._has_more

    @property
    def has_newer(self) -> bool:
        """True while the window ends before the newest message (after a search jump)."""
        return self._has_newer

    async def load_around(self, conversation_id: int, target: MessageRecord) -> int | None:
        """Show a window of ``conversation_id`` that ends just after ``target`` (a search hit);
        return the target's row. Newer messages follow with "jump to latest"."""
        self._generation += 1
        generation = self._generation
        self.beginResetModel()
        self._conversation_id = conversation_id
        self._rows, self._keys = [], []
        self._has_more = False
        self._has_newer = False
        self.endResetModel()
        half = max(1, self._page_size // 2)
        # ``before`` is exclusive: (timestamp, id + 1) includes the target itself.
        older = await self._engine.messages(
            conversation_id, before=(target.timestamp, target.id + 1), limit=half
        )
        newest = await self._engine.messages(conversation_id, limit=1)
        if generation != self._generation:
            return None
        self._has_more = len(older) >= half
        self._has_newer = bool(newest) and self._key(newest[-1]) > self._key(target)
        records = sorted(
            {m.id: m for m in older if m.conversation_id == conversation_id}.values(), key=self._key
        )
        self._insert_many_at(0, records)
        return self.row_of_id(target.id)

    async def load(self, conversation_id: int) -> None:
        """Show the newest page of ``conversation_id`` (switching threads is a reset)."""
        self._generation += 1
        generation = self._generation
        self.beginResetModel()
        self._conversation_id = conversation_id
        self._rows, self._keys = [], []
        self._has_more = False
        self._has_newer = False
        self.endResetModel()
        page = await self._engine.messages(conversation_id, limit=self._page_size)
        if generation != self._generation:
            return
        self._has_more = len(page) >= self._page_size
        self.upsert(page)

    def clear(self) -> None:
        """Show no conversation."""
        self._generation += 1
        self.beginResetModel()
        self._conversation_id = None
        self._rows, self._keys = [], []
        self._has_more = False
        self.endResetModel()

    def canFetchMore(self, parent: _Index) -> bool:
        return (
            not parent.isValid()
            and self._conversation_id is not None
            and self._has_more
            and not self._loading
            and bool(self._rows)
        )

    def fetchMore(self, parent: _Index) -> None:
        # Qt calls this synchronously; the engine is async, so the page arrives a moment later.
        if not self.canFetchMore(parent):
            return
        self._loading = True
        self._fetch_task = asyncio.ensure_future(self.fetch_older())
        self._fetch_task.add_done_callback(_log_task_failure)

    async def fetch_older(self) -> int:
        """Load the page before the first row; return how many rows were added."""
        if self._conversation_id is None or not self._rows:
            self._loading = False
            return 0
        generation = self._generation
        first = self._rows[0]
        self._loading = True
        try:
            page = await self._engine.messages(
                self._conversation_id, before=(first.timestamp, first.id), limit=self._page_size
            )
        finally:
            if generation == self._generation:
                self._loading = False
        if generation != self._generation:
            return 0
        self._has_more = len(page) >= self._page_size
        known = {r.id for r in self._rows}
        first_key = self._keys[0]
        older = sorted(
            (m for m in page if m.id not in known and self._key(m) < first_key), key=self._key
        )
        self._insert_many_at(0, older)
        return len(older)

    def upsert(self, records: Iterable[MessageRecord]) -> None:
        """Add or update messages of this conversation; an acknowledged message replaces its
        outbox row (negative id, same client id)."""
        for record in records:
            if record.conversation_id != self._conversation_id:
                continue
            row = self.row_of_id(record.id)
            if row is None and record.client_id is not None:
                row = self._row_of_client_id(record.client_id)
            if row is not None:
                current = self._rows[row]
                if current.id > 0 and record.id < 0:
                    continue  # a stale outbox entry never hides the acknowledged message
                if current != record:
                    self._replace(row, record)
                continue
            if self._has_more and self._keys and self._key(record) < self._keys[0]:
                continue  # older than the window: it arrives with its page
            if self._has_newer and self._keys and self._key(record) > self._keys[-1]:
                continue  # beyond a jumped-to window: "jump to latest" shows it
            self._insert(record)

    def remove_outbox(self, client_ids: frozenset[str]) -> None:
        """Drop outbox rows (negative ids) for these client ids, e.g. after a discard."""
        for row in range(len(self._rows) - 1, -1, -1):
            rec = self._rows[row]
            if rec.id < 0 and rec.client_id in client_ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                del self._keys[row]
                self.endRemoveRows()

    def _row_of_client_id(self, client_id: str) -> int | None:
        for row, rec in enumerate(self._rows):
            if rec.client_id == client_id:
                return row
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        rec = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return call_event_text(rec.call) if rec.call is not None else rec.text or ""
        if role == RecordRole:
            return rec
        if role == IdRole:
            return rec.id
        if role == Qt.ItemDataRole.ToolTipRole and rec.status == MessageStatus.FAILED:
            return rec.error_title or QCoreApplication.translate("ThreadModel", "Not delivered")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            who = (
                QCoreApplication.translate("ThreadModel", "Patient")
                if rec.direction == Direction.INBOUND
                else QCoreApplication.translate("ThreadModel", "Practice")
            )
            if rec.call is not None:
                return call_event_text(rec.call)
            return f"{who}: {rec.text or ''}"
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[RecordRole] = QByteArray(b"record")
        names[IdRole] = QByteArray(b"messageId")
        return names


def _log_task_failure(task: asyncio.Task[int]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        # Type only: exception texts from lower layers might quote content.
        log.warning("loading older messages failed: %s", type(exc).__name__)
