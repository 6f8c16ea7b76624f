"""Painted rows: conversation entries and chat bubbles (no widget per row)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPen,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from inbox_app.domain.conversations import ConversationRecord, window_remaining
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus
from ui.models import RecordRole
from ui.theme import ACCENT, ACCENT_LIGHT, TEXT, TEXT_MUTED

_Index = QModelIndex | QPersistentModelIndex
Clock = Callable[[], float]

CONVERSATION_ROW_HEIGHT = 68
_AVATAR_COLORS = ("#5b8def", "#e0776b", "#46a080", "#a66cc9", "#d99a3d", "#3d9fb8", "#c0607f")

TICK_GREY = QColor("#8696a0")
TICK_BLUE = QColor("#34b7f1")
FAILED_RED = QColor("#d93025")
REVIEW_ORANGE = QColor("#e37400")
WINDOW_GREEN = QColor("#1b8a4a")
WINDOW_GREEN_BG = QColor("#e2f5e9")
WINDOW_GREY = QColor("#9aa5ab")
WINDOW_GREY_BG = QColor("#eef0f1")
BUBBLE_IN = QColor("#ffffff")
BUBBLE_OUT = QColor("#d9fdd3")
BUBBLE_BORDER = QColor(0, 0, 0, 22)


def format_time(ts: float, now: float) -> str:
    """HH:MM for today, dd.MM. for earlier days (local time)."""
    when, today = datetime.fromtimestamp(ts), datetime.fromtimestamp(now)
    return when.strftime("%H:%M") if when.date() == today.date() else when.strftime("%d.%m.")


def initials(name: str) -> str:
    """Up to two initials for the avatar circle."""
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalnum()]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:1].upper()
    return (parts[0][:1] + parts[-1][:1]).upper()


def _hours_left(remaining_seconds: float) -> int:
    # Round up so "0 h" never shows while the window is still open.
    return max(1, int(-(-remaining_seconds // 3600)))


def paint_window_indicator(painter: QPainter, rect: QRectF, remaining: float) -> None:
    """A small pill: green with the hours left while the 24-h window is open, grey when closed."""
    open_ = remaining > 0
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(WINDOW_GREEN_BG if open_ else WINDOW_GREY_BG)
    painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    fg = WINDOW_GREEN if open_ else WINDOW_GREY
    d = rect.height() - 8
    clock = QRectF(rect.left() + 5, rect.top() + 4, d, d)
    _paint_clock(painter, clock, fg)
    if open_:
        font = QFont(painter.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(fg)
        text_rect = QRectF(
            clock.right() + 3, rect.top(), rect.right() - clock.right() - 6, rect.height()
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, f"{_hours_left(remaining)} h")
    painter.restore()


def window_indicator_width(painter_font: QFont, remaining: float, height: float) -> float:
    """Width the indicator pill needs, so callers can right-align it."""
    if remaining <= 0:
        return height
    font = QFont(painter_font)
    font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
    font.setBold(True)
    text = f"{_hours_left(remaining)} h"
    return height - 8 + 5 + 3 + QFontMetrics(font).horizontalAdvance(text) + 8


def _paint_clock(painter: QPainter, rect: QRectF, color: QColor) -> None:
    pen = QPen(color, max(1.2, rect.width() / 8))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(rect)
    c = rect.center()
    painter.drawLine(c, QPointF(c.x(), rect.top() + rect.height() * 0.25))
    painter.drawLine(c, QPointF(rect.left() + rect.width() * 0.72, c.y()))


def _check_path(x: float, rect: QRectF) -> QPainterPath:
    h = rect.height()
    path = QPainterPath()
    path.moveTo(x, rect.top() + h * 0.55)
    path.lineTo(x + h * 0.28, rect.top() + h * 0.82)
    path.lineTo(x + h * 0.78, rect.top() + h * 0.22)
    return path


STATUS_TICK_WIDTH = 18


def paint_status(painter: QPainter, rect: QRectF, status: MessageStatus) -> None:
    """Draw the delivery mark for an outbound message inside ``rect`` (about 18×12 px).

    Drawn as paths rather than glyphs so it does not depend on the font having ✓ or ⏱.
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    h = rect.height()
    if status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        d = h * 0.9
        _paint_clock(painter, QRectF(rect.left() + 2, rect.top() + (h - d) / 2, d, d), TICK_GREY)
    elif status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ):
        color = TICK_BLUE if status == MessageStatus.READ else TICK_GREY
        pen = QPen(color, 1.5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(_check_path(rect.left() + 1, rect))
        if status != MessageStatus.SENT:
            painter.drawPath(_check_path(rect.left() + 1 + h * 0.42, rect))
    elif status == MessageStatus.FAILED:
        # A warning triangle with "!" (⚠), red.
        tri = QPainterPath()
        top = QPointF(rect.left() + h * 0.6, rect.top())
        tri.moveTo(top)
        tri.lineTo(rect.left(), rect.bottom())
        tri.lineTo(rect.left() + h * 1.2, rect.bottom())
        tri.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(FAILED_RED)
        painter.drawPath(tri)
        painter.setPen(QPen(QColor("#ffffff"), 1.4))
        painter.drawLine(
            QPointF(top.x(), rect.top() + h * 0.35), QPointF(top.x(), rect.top() + h * 0.68)
        )
        painter.drawPoint(QPointF(top.x(), rect.top() + h * 0.84))
    elif status == MessageStatus.NEEDS_REVIEW:
        d = h
        circle = QRectF(rect.left(), rect.top(), d, d)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(REVIEW_ORANGE)
        painter.drawEllipse(circle)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(max(7, int(d * 0.8)))
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, "?")
    painter.restore()


class ConversationDelegate(QStyledItemDelegate):
    """One conversation per row: avatar, name, time, preview, unread badge, window pill."""

    def __init__(self, parent: QWidget | None = None, *, clock: Clock = time.time) -> None:
        super().__init__(parent)
        self._clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(max(option.rect.width(), 200), CONVERSATION_ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rec = index.data(RecordRole)
        if not isinstance(rec, ConversationRecord):
            return
        now = self._clock()
        r: QRect = option.rect
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(r, ACCENT_LIGHT)
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(r, QColor("#f5f6f6"))
        else:
            painter.fillRect(r, QColor("#ffffff"))

        # avatar
        avatar = QRectF(r.left() + 12, r.top() + (r.height() - 44) / 2, 44, 44)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(_AVATAR_COLORS[rec.id % len(_AVATAR_COLORS)]))
        painter.drawEllipse(avatar)
        base = QFont(option.font)
        avatar_font = QFont(base)
        avatar_font.setBold(True)
        avatar_font.setPointSizeF(base.pointSizeF() * 1.05)
        painter.setFont(avatar_font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(avatar, Qt.AlignmentFlag.AlignCenter, initials(rec.display_name))

        left = int(avatar.right()) + 12
        right = r.right() - 12
        top_line = QRect(left, r.top() + 12, right - left, 22)
        bottom_line = QRect(left, r.top() + 35, right - left, 20)

        # time, top right
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.85)
        time_text = format_time(rec.last_message_at, now)
        small_fm = QFontMetrics(small)
        time_w = small_fm.horizontalAdvance(time_text)
        painter.setFont(small)
        painter.setPen(ACCENT if rec.unread else TEXT_MUTED)
        painter.drawText(
            top_line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, time_text
        )

        # name, bold, elided before the time
        name_font = QFont(base)
        name_font.setBold(True)
        name_font.setPointSizeF(base.pointSizeF() * 1.05)
        painter.setFont(name_font)
        painter.setPen(TEXT)
        name = QFontMetrics(name_font).elidedText(
            rec.display_name, Qt.TextElideMode.ElideRight, top_line.width() - time_w - 10
        )
        painter.drawText(top_line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)

        # right side of the bottom line: unread badge, then the window pill
        x = bottom_line.right()
        cy = bottom_line.center().y()
        if rec.unread:
            badge_font = QFont(small)
            badge_font.setBold(True)
            count = str(rec.unread) if rec.unread < 100 else "99+"
            bw = max(20, QFontMetrics(badge_font).horizontalAdvance(count) + 12)
            badge = QRectF(x - bw + 1, cy - 10, bw, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ACCENT)
            painter.drawRoundedRect(badge, 10, 10)
            painter.setFont(badge_font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, count)
            x = int(badge.left()) - 6
        remaining = window_remaining(rec.last_inbound_at, now)
        painter.setFont(base)
        pill_h = 18.0
        pill_w = window_indicator_width(base, remaining, pill_h)
        paint_window_indicator(
            painter, QRectF(x - pill_w + 1, cy - pill_h / 2, pill_w, pill_h), remaining
        )
        x = int(x - pill_w) - 8

        # preview, elided
        painter.setFont(base)
        painter.setPen(TEXT if rec.unread else TEXT_MUTED)
        preview_rect = QRect(left, bottom_line.top(), max(0, x - left), bottom_line.height())
        preview = QFontMetrics(base).elidedText(
            " ".join(rec.last_message_preview.split()),
            Qt.TextElideMode.ElideRight,
            preview_rect.width(),
        )
        painter.drawText(
            preview_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, preview
        )

        # divider under the text column, like most chat apps
        painter.setPen(QPen(QColor("#e9edef"), 1))
        painter.drawLine(left, r.bottom(), r.right(), r.bottom())
        painter.restore()


class MessageDelegate(QStyledItemDelegate):
    """Chat bubbles: inbound left and white, outbound right and green, with time and ticks."""

    MAX_FRACTION = 0.72
    PAD_H = 10
    PAD_V = 6
    SIDE = 16
    GAP = 3
    CHIP_H = 36

    def __init__(self, view: QWidget, *, clock: Clock = time.time) -> None:
        super().__init__(view)
        self._view = view
        self._clock = clock
        self._size_cache: dict[tuple[int, int, bool], QSize] = {}

    def clear_cache(self) -> None:
        """Forget measured sizes (after a font change)."""
        self._size_cache.clear()

    def _viewport_width(self, option: QStyleOptionViewItem) -> int:
        viewport = getattr(self._view, "viewport", None)
        width = viewport().width() if callable(viewport) else option.rect.width()
        return max(width, 160)

    def _fonts(self, base: QFont) -> tuple[QFont, QFont]:
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.78)
        return base, small

    def body_text(self, rec: MessageRecord) -> str:
        """What the bubble shows: the text, or a note for types the inbox cannot show yet."""
        if rec.text:
            return rec.text
        return self.tr("[%1 message]").replace("%1", rec.type)

    def _layout(self, text: str, font: QFont, width: int) -> tuple[QTextLayout, float, float]:
        layout = QTextLayout(text, font)
        option = QTextOption()
        # Long links or numbers without spaces must break rather than overflow the bubble.
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        height = 0.0
        used = 0.0
        leading = QFontMetrics(font).leading()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            height += leading
            line.setPosition(QPointF(0, height))
            height += line.height()
            used = max(used, line.naturalTextWidth())
        layout.endLayout()
        return layout, height, used

    def _footer_width(self, rec: MessageRecord, small: QFont) -> int:
        w = QFontMetrics(small).horizontalAdvance(format_time(rec.timestamp, self._clock()))
        if rec.direction == Direction.OUTBOUND:
            w += 4 + STATUS_TICK_WIDTH
        return w

    def _bubble_size(self, rec: MessageRecord, base: QFont, width: int) -> tuple[int, int, float]:
        """(bubble width, bubble height, text height) for a viewport ``width``."""
        font, small = self._fonts(base)
        max_text = max(60, int(width * self.MAX_FRACTION) - 2 * self.PAD_H)
        _, text_h, used = self._layout(self.body_text(rec), font, max_text)
        footer_w = self._footer_width(rec, small)
        footer_h = QFontMetrics(small).height()
        bubble_w = int(max(used, footer_w) + 0.999) + 2 * self.PAD_H
        bubble_h = int(self.PAD_V + text_h + 1 + footer_h + self.PAD_V + 0.999)
        return bubble_w, bubble_h, text_h

    def day_label(self, index: _Index) -> str | None:
        """The date chip above this row, when it starts a new day (None otherwise)."""
        rec = index.data(RecordRole)
        if not isinstance(rec, MessageRecord):
            return None
        if index.row() > 0:
            prev = index.sibling(index.row() - 1, 0).data(RecordRole)
            if isinstance(prev, MessageRecord) and _same_day(prev.timestamp, rec.timestamp):
                return None
        today = datetime.fromtimestamp(self._clock()).date()
        day = datetime.fromtimestamp(rec.timestamp).date()
        if day == today:
            return self.tr("Today")
        if (today - day).days == 1:
            return self.tr("Yesterday")
        return day.strftime("%d.%m.%Y")

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        rec = index.data(RecordRole)
        if not isinstance(rec, MessageRecord):
            return QSize(0, 0)
        width = self._viewport_width(option)
        chip = self.day_label(index) is not None
        # The chip is in the key: loading an older page can take it away from this row.
        key = (rec.id, width, chip)
        cached = self._size_cache.get(key)
        if cached is None:
            _, bubble_h, _ = self._bubble_size(rec, QFont(option.font), width)
            cached = QSize(width, bubble_h + 2 * self.GAP + (self.CHIP_H if chip else 0))
            self._size_cache[key] = cached
        return cached

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rec = index.data(RecordRole)
        if not isinstance(rec, MessageRecord):
            return
        r: QRect = option.rect
        font, small = self._fonts(QFont(option.font))
        # Same width as sizeHint measured with, so wrapping matches the row height.
        width = self._viewport_width(option)
        bubble_w, bubble_h, text_h = self._bubble_size(rec, QFont(option.font), width)
        outbound = rec.direction == Direction.OUTBOUND
        top = r.top()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        chip = self.day_label(index)
        if chip is not None:
            chip_font = QFont(small)
            chip_font.setBold(True)
            cw = QFontMetrics(chip_font).horizontalAdvance(chip) + 20
            chip_rect = QRectF(r.left() + (width - cw) / 2, top + 8, cw, self.CHIP_H - 12)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#ffffff"))
            painter.drawRoundedRect(chip_rect, 7, 7)
            painter.setFont(chip_font)
            painter.setPen(TEXT_MUTED)
            painter.drawText(chip_rect, Qt.AlignmentFlag.AlignCenter, chip)
            top += self.CHIP_H
        x = r.left() + width - self.SIDE - bubble_w if outbound else r.left() + self.SIDE
        bubble = QRectF(x, top + self.GAP, bubble_w, bubble_h)

        painter.setPen(QPen(BUBBLE_BORDER, 1))
        painter.setBrush(BUBBLE_OUT if outbound else BUBBLE_IN)
        painter.drawRoundedRect(bubble.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)

        max_text = max(60, int(width * self.MAX_FRACTION) - 2 * self.PAD_H)
        layout, _, _ = self._layout(self.body_text(rec), font, max_text)
        painter.setPen(TEXT if rec.text else TEXT_MUTED)
        layout.draw(painter, QPointF(bubble.left() + self.PAD_H, bubble.top() + self.PAD_V))

        # footer: time (and ticks for outbound), right-aligned in the bubble
        small_fm = QFontMetrics(small)
        footer_top = bubble.top() + self.PAD_V + text_h + 1
        right = bubble.right() - self.PAD_H
        if outbound:
            tick = QRectF(
                right - STATUS_TICK_WIDTH + 2, footer_top + (small_fm.height() - 10) / 2, 16, 10
            )
            paint_status(painter, tick, rec.status)
            right -= STATUS_TICK_WIDTH + 4
        painter.setFont(small)
        painter.setPen(FAILED_RED if rec.status == MessageStatus.FAILED else TEXT_MUTED)
        time_text = format_time(rec.timestamp, self._clock())
        painter.drawText(
            QRectF(bubble.left(), footer_top, right - bubble.left(), small_fm.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            time_text,
        )
        painter.restore()


def _same_day(a: float, b: float) -> bool:
    return datetime.fromtimestamp(a).date() == datetime.fromtimestamp(b).date()
