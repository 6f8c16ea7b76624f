"""@mentions in internal notes: the colleagues one can mention, and completing their names
while typing a note (the relay notifies each mentioned colleague)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

UsernameRole = Qt.ItemDataRole.UserRole + 40
ColleagueRole = Qt.ItemDataRole.UserRole + 41
_Index = QModelIndex | QPersistentModelIndex
# "@an" right before the cursor (the relay's mentions are @username).
MENTION_PREFIX = re.compile(r"(?:^|(?<=\s))@([A-Za-z0-9._-]*)$")


@dataclass(frozen=True, slots=True)
class Colleague:
    id: int
    username: str
    display_name: str
    role: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Colleague | None:
        try:
            return cls(
                id=int(data["id"]),
                username=str(data["username"]),
                display_name=str(data.get("display_name") or data["username"]),
                role=str(data.get("role") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None


def parse_colleagues(entries: Sequence[Any], *, me: int | None = None) -> list[Colleague]:
    """Readable directory entries, without the user themself (one does not mention oneself)."""
    found = [Colleague.from_json(e) for e in entries if isinstance(e, Mapping)]
    return [c for c in found if c is not None and c.id != me]


def mention_prefix(text_before_cursor: str) -> str | None:
    """The partial name after an ``@`` the cursor stands behind (None when not in one)."""
    match = MENTION_PREFIX.search(text_before_cursor)
    return match.group(1) if match else None


class ColleagueModel(QAbstractListModel):
    """Colleagues for completion: shown "Ben Pflege (@ben)", matched on name and username."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._colleagues: list[Colleague] = []

    def set_colleagues(self, colleagues: Sequence[Colleague]) -> None:
        if list(colleagues) == self._colleagues:
            return
        self.beginResetModel()
        self._colleagues = list(colleagues)
        self.endResetModel()

    def colleagues(self) -> list[Colleague]:
        return list(self._colleagues)

    def name_of(self, user_id: int | None) -> str | None:
        for c in self._colleagues:
            if c.id == user_id:
                return c.display_name
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._colleagues)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._colleagues):
            return None
        c = self._colleagues[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{c.display_name} (@{c.username})"
        if role == Qt.ItemDataRole.EditRole:
            # What the completer matches the typed prefix against (contains, any case).
            return f"{c.username} {c.display_name}"
        if role == UsernameRole:
            return c.username
        if role == ColleagueRole:
            return c
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[UsernameRole] = QByteArray(b"username")
        names[ColleagueRole] = QByteArray(b"colleague")
        return names
