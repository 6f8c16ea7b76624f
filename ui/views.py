"""Inbox views (Mine, Unassigned, All, Escalated, …): which conversations each shows, a filter
proxy for the list, and a small model of the views with their counts for the left rail.

The teamwork fields (status, assignee, claim, escalation) arrive with the relay's
``conversation`` events; a feed or cache without them reads as "open, unassigned", so the
views work (with plain counts) before the relay sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)

from inbox_app.domain.conversations import ConversationRecord, window_remaining

_Index = QModelIndex | QPersistentModelIndex
Clock = Callable[[], float]

CLOSING_SOON = 2 * 3600
VIEW_KEYS = (
    "mine",
    "unassigned",
    "all",
    "escalated",
    "waiting",
    "closing",
    "snoozed",
    "resolved",
)
# Filter values meaning "none": no team, nobody holds it (ids are always positive).
NO_TEAM = -1
NOBODY = -1
KeyRole = Qt.ItemDataRole.UserRole + 10
CountRole = Qt.ItemDataRole.UserRole + 11
UnreadRole = Qt.ItemDataRole.UserRole + 12


def view_label(key: str) -> str:
    """A view's name as the user reads it."""
    labels = {
        "mine": QCoreApplication.translate("views", "Mine"),
        "unassigned": QCoreApplication.translate("views", "Unassigned"),
        "all": QCoreApplication.translate("views", "All open"),
        "escalated": QCoreApplication.translate("views", "Escalated"),
        "waiting": QCoreApplication.translate("views", "Waiting for patient"),
        "closing": QCoreApplication.translate("views", "Window closing"),
        "snoozed": QCoreApplication.translate("views", "Snoozed"),
        "resolved": QCoreApplication.translate("views", "Resolved"),
    }
    return labels.get(key, key)


def status_label(status: str) -> str:
    """A conversation status as the user reads it."""
    labels = {
        "open": QCoreApplication.translate("views", "Open"),
        "waiting": QCoreApplication.translate("views", "Waiting for patient"),
        "snoozed": QCoreApplication.translate("views", "Snoozed"),
        "resolved": QCoreApplication.translate("views", "Resolved"),
        "pending": QCoreApplication.translate("views", "Waiting for patient"),
    }
    return labels.get(status, status)


def is_snoozed(rec: ConversationRecord, now: float) -> bool:
    return rec.status == "snoozed" or (rec.snoozed_until is not None and rec.snoozed_until > now)


def is_waiting(rec: ConversationRecord) -> bool:
    """Waiting for the patient: marked so, or (until the relay marks it) we wrote last."""
    if rec.status in ("waiting", "pending"):  # the relay calls it "pending"
        return True
    if rec.status != "open":
        return False
    if rec.last_inbound_at is None:
        return rec.last_message_at > 0
    return rec.last_message_at > rec.last_inbound_at + 0.5


def holder(rec: ConversationRecord) -> int | None:
    """Who holds the conversation: the claim if any, else the assignee."""
    return rec.claimed_by if rec.claimed_by is not None else rec.assignee_id


def matches(key: str, rec: ConversationRecord, *, me: int | None, now: float) -> bool:
    """Whether conversation ``rec`` belongs in view ``key`` for user ``me`` at ``now``."""
    if key == "resolved":
        return rec.status == "resolved"
    if key == "snoozed":
        return rec.status != "resolved" and is_snoozed(rec, now)
    if rec.status == "resolved" or is_snoozed(rec, now):
        return False
    if key == "all":
        return True
    if key == "mine":
        return me is not None and (rec.claimed_by == me or rec.assignee_id == me)
    if key == "unassigned":
        return holder(rec) is None
    if key == "escalated":
        return rec.escalated
    if key == "waiting":
        return is_waiting(rec)
    if key == "closing":
        return 0 < window_remaining(rec.last_inbound_at, now) < CLOSING_SOON
    return False


def filter_accepts(
    rec: ConversationRecord,
    *,
    label: str | None = None,
    team: int | None = None,
    assignee: int | None = None,
) -> bool:
    """The list filters: a label it carries, its team (``NO_TEAM``: none), and who has it
    (assigned or claimed; ``NOBODY``: unassigned). None means any."""
    if label is not None and label not in rec.labels:
        return False
    if team is not None and (rec.team_id or NO_TEAM) != team:
        return False
    if assignee is not None:
        if assignee == NOBODY:
            return holder(rec) is None
        return assignee in (rec.assignee_id, rec.claimed_by)
    return True


def labels_in(records: list[ConversationRecord]) -> list[str]:
    """Every label used by these conversations, sorted case-insensitively."""
    return sorted({label for rec in records for label in rec.labels}, key=str.casefold)


def notification_view(rec: ConversationRecord, *, me: int | None, now: float) -> str:
    """The view to name in a desktop notification (never the patient)."""
    for key in ("mine", "escalated", "unassigned"):
        if matches(key, rec, me=me, now=now):
            return key
    return "all"


def _source_record(model: QAbstractListModel | None, row: int) -> ConversationRecord | None:
    record_at = getattr(model, "record_at", None)
    rec = record_at(row) if callable(record_at) else None
    return rec if isinstance(rec, ConversationRecord) else None


class ConversationFilterModel(QSortFilterProxyModel):
    """The conversation list narrowed to one view (order stays the source's)."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock = time.time) -> None:
        super().__init__(parent)
        self._clock = clock
        self._key = "all"
        self._me: int | None = None
        self._label: str | None = None
        self._team: int | None = None
        self._assignee: int | None = None

    @property
    def view_key(self) -> str:
        return self._key

    @property
    def team(self) -> int | None:
        return self._team

    @property
    def assignee(self) -> int | None:
        return self._assignee

    def set_team(self, team: int | None) -> None:
        """Narrow to one team's conversations (``NO_TEAM``: without a team; None: any)."""
        if team == self._team:
            return
        self.beginFilterChange()
        self._team = team
        self.endFilterChange()

    def set_assignee(self, user_id: int | None) -> None:
        """Narrow to what ``user_id`` has (``NOBODY``: unassigned; None: anyone's)."""
        if user_id == self._assignee:
            return
        self.beginFilterChange()
        self._assignee = user_id
        self.endFilterChange()

    @property
    def label(self) -> str | None:
        return self._label

    def set_label(self, label: str | None) -> None:
        """Narrow further to conversations carrying ``label`` (None: any)."""
        if label == self._label:
            return
        self.beginFilterChange()
        self._label = label or None
        self.endFilterChange()

    def set_view(self, key: str) -> None:
        """Show view ``key`` (one of ``VIEW_KEYS``)."""
        if key not in VIEW_KEYS or key == self._key:
            return
        self.beginFilterChange()
        self._key = key
        self.endFilterChange()

    def set_user(self, user_id: int | None) -> None:
        """Whose "Mine" this is."""
        self.beginFilterChange()
        self._me = user_id
        self.endFilterChange()

    def refilter(self) -> None:
        """Re-evaluate time-based views (Window closing, Snoozed) after the clock moved."""
        self.beginFilterChange()
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        rec = _source_record(self.sourceModel(), source_row)  # type: ignore[arg-type]
        if rec is None or not filter_accepts(
            rec, label=self._label, team=self._team, assignee=self._assignee
        ):
            return False
        return matches(self._key, rec, me=self._me, now=self._clock())


@dataclass(frozen=True, slots=True)
class ViewCount:
    key: str
    count: int
    unread: int


class ViewCountsModel(QAbstractListModel):
    """The views with how many conversations (and unread ones) each holds; recounted on a
    zero-delay timer after the source changes, so a sync burst costs one pass."""

    def __init__(
        self,
        source: QAbstractListModel,
        parent: QObject | None = None,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._clock = clock
        self._me: int | None = None
        self._rows = [ViewCount(k, 0, 0) for k in VIEW_KEYS]
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.recount)
        for signal in (
            source.rowsInserted,
            source.rowsRemoved,
            source.rowsMoved,
            source.dataChanged,
            source.modelReset,
        ):
            signal.connect(self._schedule)
        self.recount()

    def _schedule(self, *_: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def set_user(self, user_id: int | None) -> None:
        self._me = user_id
        self.recount()

    def recount(self) -> None:
        """Count every view now."""
        now = self._clock()
        records = [
            rec
            for row in range(self._source.rowCount())
            if (rec := _source_record(self._source, row)) is not None
        ]
        fresh = []
        for key in VIEW_KEYS:
            inside = [r for r in records if matches(key, r, me=self._me, now=now)]
            fresh.append(ViewCount(key, len(inside), sum(1 for r in inside if r.unread)))
        for row, (old, new) in enumerate(zip(self._rows, fresh, strict=True)):
            if old != new:
                self._rows[row] = new
                idx = self.index(row, 0)
                self.dataChanged.emit(idx, idx)

    def count(self, key: str) -> int:
        """Conversations in view ``key``."""
        for vc in self._rows:
            if vc.key == key:
                return vc.count
        return 0

    def unread_conversations(self) -> int:
        """Open conversations with unread messages (for the window title)."""
        for vc in self._rows:
            if vc.key == "all":
                return vc.unread
        return 0

    def row_of_key(self, key: str) -> int:
        return VIEW_KEYS.index(key) if key in VIEW_KEYS else 0

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        vc = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return view_label(vc.key)
        if role == KeyRole:
            return vc.key
        if role == CountRole:
            return vc.count
        if role == UnreadRole:
            return vc.unread
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return QCoreApplication.translate(
                "views", "%1: %n conversations", "", vc.count
            ).replace("%1", view_label(vc.key))
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[KeyRole] = QByteArray(b"key")
        names[CountRole] = QByteArray(b"count")
        names[UnreadRole] = QByteArray(b"unread")
        return names


@dataclass(frozen=True, slots=True)
class SavedView:
    """A named view plus its filters (label, team, assignee), kept in the user's settings."""

    name: str
    view_key: str
    label: str | None = None
    team: int | None = None  # NO_TEAM: conversations without a team
    assignee: int | None = None  # NOBODY: unassigned

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "view": self.view_key,
            "label": self.label,
            "team": self.team,
            "assignee": self.assignee,
        }

    @classmethod
    def from_json(cls, data: Any) -> SavedView | None:
        """None for an entry that is not a saved view (a hand-edited settings file)."""
        if not isinstance(data, dict):
            return None
        name, key, label = data.get("name"), data.get("view"), data.get("label")
        if not isinstance(name, str) or not name.strip() or key not in VIEW_KEYS:
            return None
        team, assignee = data.get("team"), data.get("assignee")
        return cls(
            name.strip(),
            str(key),
            label if isinstance(label, str) and label else None,
            team if isinstance(team, int) and not isinstance(team, bool) else None,
            assignee if isinstance(assignee, int) and not isinstance(assignee, bool) else None,
        )


SavedViewRole = Qt.ItemDataRole.UserRole + 13


class SavedViewsModel(QAbstractListModel):
    """The user's saved views, in the order they were saved."""

    def __init__(self, views: list[SavedView] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._views = list(views or [])

    def views(self) -> list[SavedView]:
        return list(self._views)

    def add(self, view: SavedView) -> None:
        """Add ``view``, replacing one of the same name."""
        for row, existing in enumerate(self._views):
            if existing.name == view.name:
                self._views[row] = view
                idx = self.index(row, 0)
                self.dataChanged.emit(idx, idx)
                return
        row = len(self._views)
        self.beginInsertRows(QModelIndex(), row, row)
        self._views.append(view)
        self.endInsertRows()

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._views):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._views[row]
            self.endRemoveRows()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._views)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._views):
            return None
        view = self._views[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return view.name
        if role == Qt.ItemDataRole.ToolTipRole:
            label = f" · {view.label}" if view.label else ""
            return view_label(view.view_key) + label
        if role == SavedViewRole:
            return view
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[SavedViewRole] = QByteArray(b"savedView")
        return names
