"""Search over the cached history: results as a list model and painted rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from inbox_app.domain.messages import Direction, MessageRecord
from ui.delegates import format_time
from ui.theme import colors

_Index = QModelIndex | QPersistentModelIndex
HitRole = Qt.ItemDataRole.UserRole + 30
SEARCH_ROW_HEIGHT = 58


@dataclass(frozen=True, slots=True)
class SearchHit:
    message: MessageRecord
    conversation_name: str


class SearchResultsModel(QAbstractListModel):
    """The hits of the last search, newest first (replaced as a whole per query)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []
        self.query = ""

    def set_hits(self, query: str, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self.query = query
        self._hits = list(hits)
        self.endResetModel()

    def hit_at(self, row: int) -> SearchHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.message.text or ""
        if role == HitRole:
            return hit
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{hit.conversation_name}: {hit.message.text or ''}"
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[HitRole] = QByteArray(b"hit")
        return names


def snippet(text: str, query: str, width_chars: int = 90) -> str:
    """A one-line excerpt of ``text`` that starts near the first query word."""
    flat = " ".join(text.split())
    words = [w for w in query.lower().split() if w]
    pos = min((i for w in words if (i := flat.lower().find(w)) >= 0), default=0)
    start = max(0, pos - width_chars // 3)
    excerpt = flat[start:]
    return ("…" if start else "") + excerpt


class SearchResultDelegate(QStyledItemDelegate):
    """Conversation name and time on top, the matching excerpt below."""

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(max(option.rect.width(), 200), SEARCH_ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        hit = index.data(HitRole)
        if not isinstance(hit, SearchHit):
            return
        c = colors()
        r: QRect = option.rect
        painter.save()
        selected = option.state & QStyle.StateFlag.State_Selected
        hover = option.state & QStyle.StateFlag.State_MouseOver
        painter.fillRect(
            r, c.q("accent_light") if selected else c.q("hover") if hover else c.q("base")
        )
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.85)
        top = QRect(r.left() + 16, r.top() + 8, r.width() - 32, 20)
        bottom = QRect(r.left() + 16, r.top() + 30, r.width() - 32, 20)
        when = format_time(hit.message.timestamp, self._clock())
        painter.setFont(small)
        painter.setPen(c.q("text_muted"))
        painter.drawText(top, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, when)
        tw = QFontMetrics(small).horizontalAdvance(when) + 10
        painter.setFont(bold)
        painter.setPen(c.q("text"))
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(bold).elidedText(
                hit.conversation_name, Qt.TextElideMode.ElideRight, top.width() - tw
            ),
        )
        model = index.model()
        query = getattr(model, "query", "")
        prefix = "↗ " if hit.message.direction == Direction.OUTBOUND else ""
        painter.setFont(base)
        painter.setPen(c.q("text_muted"))
        painter.drawText(
            bottom,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(base).elidedText(
                prefix + snippet(hit.message.text or "", str(query)),
                Qt.TextElideMode.ElideRight,
                bottom.width(),
            ),
        )
        painter.setPen(QPen(c.q("divider"), 1))
        painter.drawLine(r.left() + 16, r.bottom(), r.right(), r.bottom())
        painter.restore()
