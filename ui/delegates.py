"""Painted rows: conversation entries and chat bubbles (no widget per row)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from inbox_app.domain.conversations import ConversationRecord, window_remaining
from inbox_app.domain.messages import Direction, MessageRecord, MessageStatus
from ui.call_events import call_event_text, call_missed
from ui.models import PresenceRole, RecordRole, UserIdRole
from ui.theme import colors
from ui.views import status_label

_Index = QModelIndex | QPersistentModelIndex
Clock = Callable[[], float]

CONVERSATION_ROW_HEIGHT = 80
_AVATAR_COLORS = ("#5b8def", "#e0776b", "#46a080", "#a66cc9", "#d99a3d", "#3d9fb8", "#c0607f")

TICK_GREY = QColor("#8696a0")
TICK_BLUE = QColor("#34b7f1")
FAILED_RED = QColor("#d93025")
REVIEW_ORANGE = QColor("#e37400")
# The window pill turns amber in its last two hours (the "Window closing" view).
CLOSING_SOON_SECONDS = 2 * 3600
MEDIA_TYPES = ("image", "sticker", "video")
FILE_TYPES = ("document", "audio", "voice")


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


def _hours_text(remaining_seconds: float) -> str:
    # "%1 h" rather than %n: the pill shows a number and a unit, never a sentence.
    return QCoreApplication.translate("delegates", "%1 h").replace(
        "%1", str(_hours_left(remaining_seconds))
    )


def paint_window_indicator(painter: QPainter, rect: QRectF, remaining: float) -> None:
    """A small pill: green with the hours left while the 24-h window is open, grey when closed."""
    open_ = remaining > 0
    c = colors()
    closing = 0 < remaining < CLOSING_SOON_SECONDS
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    bg = "window_amber_bg" if closing else "window_green_bg" if open_ else "window_grey_bg"
    painter.setBrush(c.q(bg))
    painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    fg = c.q("window_amber" if closing else "window_green" if open_ else "window_grey")
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
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, _hours_text(remaining))
    painter.restore()


def window_indicator_width(painter_font: QFont, remaining: float, height: float) -> float:
    """Width the indicator pill needs, so callers can right-align it."""
    if remaining <= 0:
        return height
    font = QFont(painter_font)
    font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
    font.setBold(True)
    text = _hours_text(remaining)
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
    elif status == MessageStatus.CANCELLED:
        # A grey circle with a slash (⊘): withdrawn before it left.
        d = h * 0.95
        circle = QRectF(rect.left() + 1, rect.top() + (h - d) / 2, d, d)
        painter.setPen(QPen(TICK_GREY, 1.4))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(circle)
        painter.drawLine(
            circle.bottomLeft() + QPointF(d * 0.2, -d * 0.2),
            circle.topRight() + QPointF(-d * 0.2, d * 0.2),
        )
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
    """One conversation per row: avatar, name, time, preview, unread badge, window pill, and a
    meta line with status and who holds it ("Claimed by Anna", "Ben is typing…")."""

    def __init__(self, parent: QWidget | None = None, *, clock: Clock = time.time) -> None:
        super().__init__(parent)
        self._clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(max(option.rect.width(), 200), CONVERSATION_ROW_HEIGHT)

    def meta_text(self, rec: ConversationRecord, presence: str | None, me: int | None) -> str:
        """The third line: presence first, else status and holder."""
        if presence:
            return self.tr("%1 is typing…").replace("%1", presence)
        parts: list[str] = []
        if rec.escalated:
            parts.append(self.tr("Escalated"))
        if rec.status != "open":
            parts.append(status_label(rec.status))
        holder = rec.claimed_by if rec.claimed_by is not None else rec.assignee_id
        if holder is not None:
            if me is not None and holder == me:
                parts.append(self.tr("Yours"))
            else:
                name = rec.claimed_by_name or self.tr("a colleague")
                parts.append(self.tr("Claimed by %1").replace("%1", name))
        else:
            parts.append(self.tr("Unassigned"))
        return " · ".join(parts)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rec = index.data(RecordRole)
        if not isinstance(rec, ConversationRecord):
            return
        c = colors()
        now = self._clock()
        r: QRect = option.rect
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(r, c.q("accent_light"))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(r, c.q("hover"))
        else:
            painter.fillRect(r, c.q("base"))

        # avatar
        avatar = QRectF(r.left() + 12, r.top() + 14, 44, 44)
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
        top_line = QRect(left, r.top() + 8, right - left, 22)
        bottom_line = QRect(left, r.top() + 31, right - left, 20)
        meta_line = QRect(left, r.top() + 53, right - left, 18)

        # time, top right
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.85)
        time_text = format_time(rec.last_message_at, now)
        small_fm = QFontMetrics(small)
        time_w = small_fm.horizontalAdvance(time_text)
        painter.setFont(small)
        painter.setPen(c.q("accent") if rec.unread else c.q("text_muted"))
        painter.drawText(
            top_line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, time_text
        )

        # name, bold, elided before the time
        name_font = QFont(base)
        name_font.setBold(True)
        name_font.setPointSizeF(base.pointSizeF() * 1.05)
        painter.setFont(name_font)
        painter.setPen(c.q("text"))
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
            painter.setBrush(c.q("accent"))
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
        painter.setPen(c.q("text") if rec.unread else c.q("text_muted"))
        preview_rect = QRect(left, bottom_line.top(), max(0, x - left), bottom_line.height())
        preview = QFontMetrics(base).elidedText(
            " ".join(rec.last_message_preview.split()),
            Qt.TextElideMode.ElideRight,
            preview_rect.width(),
        )
        painter.drawText(
            preview_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, preview
        )

        # meta line: presence wins; otherwise status and holder
        presence = index.data(PresenceRole)
        me = index.data(UserIdRole)
        meta = self.meta_text(
            rec,
            presence if isinstance(presence, str) else None,
            me if isinstance(me, int) else None,
        )
        meta_font = QFont(small)
        if presence or rec.escalated:
            meta_font.setBold(True)
        painter.setFont(meta_font)
        if presence:
            painter.setPen(c.q("presence"))
        elif rec.escalated:
            painter.setPen(c.q("failed"))
        else:
            painter.setPen(c.q("text_muted"))
        painter.drawText(
            meta_line,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(meta_font).elidedText(
                meta, Qt.TextElideMode.ElideRight, meta_line.width()
            ),
        )

        # divider under the text column, like most chat apps
        painter.setPen(QPen(c.q("divider"), 1))
        painter.drawLine(left, r.bottom(), r.right(), r.bottom())
        painter.restore()


@dataclass(frozen=True, slots=True)
class BubbleGeometry:
    """Where each part of a message row goes, relative to the row's top-left corner."""

    chip: bool
    bubble: QRectF
    note_header: float  # height of the "Internal note" line (0 when not a note)
    quote: QRectF | None
    media: QRectF | None
    text_top: float
    text_h: float
    footer_top: float
    failure: QRectF | None  # the "Not delivered … Retry" line under the bubble
    retry: QRectF | None
    reactions: QRectF | None
    height: int
    # A scheduled send: "Scheduled for …" (or "Cancelled") under the bubble, and "Cancel".
    schedule: QRectF | None = None
    cancel: QRectF | None = None


class MessageDelegate(QStyledItemDelegate):
    """Chat bubbles: inbound left, outbound right, internal notes amber; with reply quotes,
    media placeholders, reactions, time and ticks; failed sends offer a one-click retry."""

    retry_requested = Signal(str)  # client id of a failed outbox entry
    cancel_requested = Signal(int)  # message id of a scheduled message not yet sent

    MAX_FRACTION = 0.72
    PAD_H = 10
    PAD_V = 6
    SIDE = 16
    GAP = 3
    CHIP_H = 36
    QUOTE_H = 40
    MEDIA_W = 240
    MEDIA_H = 150
    FILE_H = 46
    FAIL_H = 20
    REACTION_H = 22
    _CACHE_LIMIT = 20_000
    _LAYOUT_CACHE_LIMIT = 1_000

    def __init__(self, view: QWidget, *, clock: Clock = time.time) -> None:
        super().__init__(view)
        self._view = view
        self._clock = clock
        self._size_cache: dict[tuple[MessageRecord, int, bool], BubbleGeometry] = {}
        # Laid-out text of recently painted bubbles: scrolling repaints the same rows.
        self._layout_cache: dict[tuple[str, int, str], QTextLayout] = {}

    def clear_cache(self) -> None:
        """Forget measured sizes (after a font or language change)."""
        self._size_cache.clear()
        self._layout_cache.clear()

    def _painted_layout(self, text: str, font: QFont, width: int) -> QTextLayout:
        key = (text, width, font.key())
        layout = self._layout_cache.get(key)
        if layout is None:
            if len(self._layout_cache) > self._LAYOUT_CACHE_LIMIT:
                self._layout_cache.clear()
            layout = self._layout(text, font, width)[0]
            self._layout_cache[key] = layout
        return layout

    def _viewport_width(self, option: QStyleOptionViewItem) -> int:
        viewport = getattr(self._view, "viewport", None)
        width = viewport().width() if callable(viewport) else option.rect.width()
        return max(width, 160)

    def _fonts(self, base: QFont) -> tuple[QFont, QFont]:
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.78)
        return base, small

    def body_text(self, rec: MessageRecord) -> str:
        """What the bubble's text shows: the text or caption; a note for unknown types."""
        if rec.call is not None:
            return call_event_text(rec.call)
        if rec.text:
            return rec.text
        if rec.type in MEDIA_TYPES or rec.type in FILE_TYPES:
            return ""
        return self.tr("[%1 message]").replace("%1", rec.type)

    def media_label(self, rec: MessageRecord) -> str:
        """The caption of a media placeholder (the file itself is not downloaded yet)."""
        labels = {
            "image": self.tr("Photo"),
            "sticker": self.tr("Sticker"),
            "video": self.tr("Video"),
            "audio": self.tr("Voice message"),
            "voice": self.tr("Voice message"),
        }
        if rec.type == "document":
            return rec.filename or self.tr("Document")
        return labels.get(rec.type, rec.type)

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
        if rec.direction == Direction.OUTBOUND and rec.type not in ("note", "call"):
            w += 4 + STATUS_TICK_WIDTH
        return w

    def _failure_text(self, rec: MessageRecord) -> str:
        reason = rec.error_title or self.tr("reason unknown")
        return self.tr("Not delivered: %1").replace("%1", reason)

    def _retry_text(self) -> str:
        return self.tr("Retry")

    @staticmethod
    def is_scheduled(rec: MessageRecord) -> bool:
        """A message the relay holds until its ``send_at`` (it can still be cancelled)."""
        return rec.send_at is not None and rec.status == MessageStatus.QUEUED and rec.id > 0

    def result_text(self, rec: MessageRecord) -> str | None:
        """A result's state under its bubble: "Result opened on the page · after 12 min"."""
        if rec.result_state is None:
            return None
        states = {
            "queued": self.tr("Result queued"),
            "sending": self.tr("Result sending"),
            "sent": self.tr("Result sent"),
            "delivered": self.tr("Result delivered"),
            "read": self.tr("Result notice read"),
            "opened": self.tr("Result opened on the page"),
            "downloaded": self.tr("Result downloaded"),
            "failed": self.tr("Result not delivered"),
            "needs_review": self.tr("Result: check before resending"),
        }
        text = states.get(rec.result_state, rec.result_state)
        took = rec.result_took
        if took is not None and rec.result_state not in ("queued", "sending", "failed"):
            if took < 60:
                after = self.tr("after %1 s").replace("%1", str(int(took)))
            elif took < 3600:
                after = self.tr("after %1 min").replace("%1", str(int(took // 60)))
            else:
                after = self.tr("after %1 h").replace("%1", f"{took / 3600:.1f}")
            text += " · " + after
        return text

    def _schedule_text(self, rec: MessageRecord) -> str:
        result = self.result_text(rec)
        if result is not None:
            return result
        if rec.status == MessageStatus.CANCELLED:
            return self.tr("Cancelled, not sent")
        when = datetime.fromtimestamp(rec.send_at or rec.timestamp)
        day = (
            self.tr("today")
            if _same_day(when.timestamp(), self._clock())
            else when.strftime("%d.%m.")
        )
        text = self.tr("Scheduled for %1 %2")
        return text.replace("%1", day).replace("%2", when.strftime("%H:%M"))

    def _cancel_text(self) -> str:
        return self.tr("Cancel")

    def _can_retry(self, rec: MessageRecord) -> bool:
        # Only outbox entries (negative ids, with a client id) can be queued again.
        return rec.status == MessageStatus.FAILED and rec.id < 0 and rec.client_id is not None

    def _bubble_size(self, rec: MessageRecord, base: QFont, width: int) -> tuple[int, int, float]:
        """(bubble width, bubble height, text height) for a viewport ``width``."""
        g = self._measure(rec, base, width, chip=False)
        return int(g.bubble.width()), int(g.bubble.height()), g.text_h

    def _measure(
        self, rec: MessageRecord, base: QFont, width: int, *, chip: bool
    ) -> BubbleGeometry:
        key = (rec, width, chip)
        cached = self._size_cache.get(key)
        if cached is not None:
            return cached
        if len(self._size_cache) > self._CACHE_LIMIT:
            self._size_cache.clear()
        font, small = self._fonts(base)
        small_fm = QFontMetrics(small)
        max_text = max(60, int(width * self.MAX_FRACTION) - 2 * self.PAD_H)
        text = self.body_text(rec)
        text_h, used = 0.0, 0.0
        if text:
            _, text_h, used = self._layout(text, font, max_text)
        content_w = max(used, float(self._footer_width(rec, small)))
        note = rec.type == "note"
        note_h = float(small_fm.height() + 2) if note else 0.0
        if note:
            content_w = max(content_w, small_fm.horizontalAdvance(self.tr("Internal note")) + 0.0)
        y = self.PAD_V + note_h
        quote_h = float(self.QUOTE_H) if rec.reply_to_id is not None else 0.0
        quote_y = y
        if quote_h:
            content_w = max(content_w, min(float(max_text), 200.0))
            y += quote_h + 4
        media_h = 0.0
        media_w = 0.0
        if rec.type in MEDIA_TYPES:
            media_w = float(min(self.MEDIA_W, max_text))
            media_h = float(self.MEDIA_H)
        elif rec.type in FILE_TYPES:
            media_w = float(min(220, max_text))
            media_h = float(self.FILE_H)
        media_y = y
        if media_h:
            content_w = max(content_w, media_w)
            y += media_h + (4 if text else 2)
        text_top = y
        y += text_h + 1
        footer_top = y
        y += small_fm.height() + self.PAD_V
        bubble_w = int(content_w + 0.999) + 2 * self.PAD_H
        bubble_h = int(y + 0.999)
        top = self.GAP + (self.CHIP_H if chip else 0)
        outbound = rec.direction == Direction.OUTBOUND
        x = width - self.SIDE - bubble_w if outbound else self.SIDE
        bubble = QRectF(x, top, bubble_w, bubble_h)
        bottom = bubble.bottom()
        reactions = None
        if rec.reactions:
            rw = small_fm.horizontalAdvance(" ".join(rec.reactions)) + 16
            rx = bubble.right() - rw - 8 if outbound else bubble.left() + 8
            reactions = QRectF(rx, bottom - 4, rw, self.REACTION_H)
            bottom = reactions.bottom()
        failure = retry = None
        if rec.status == MessageStatus.FAILED:
            fail_w = small_fm.horizontalAdvance(self._failure_text(rec))
            retry_w = (
                small_fm.horizontalAdvance(self._retry_text()) + 12 if self._can_retry(rec) else 0
            )
            total = min(float(width - 2 * self.SIDE), float(fail_w + retry_w + 8))
            fx = width - self.SIDE - total if outbound else float(self.SIDE)
            failure = QRectF(fx, bottom + 2, total - retry_w, self.FAIL_H)
            if retry_w:
                retry = QRectF(failure.right() + 8, bottom + 2, retry_w - 8, self.FAIL_H)
            bottom = failure.bottom()
        schedule = cancel = None
        # The line under the bubble: a scheduled send's time, or a result's state.
        if (
            self.is_scheduled(rec)
            or rec.status == MessageStatus.CANCELLED
            or rec.result_state is not None
        ):
            line_w = small_fm.horizontalAdvance(self._schedule_text(rec))
            cancel_w = (
                small_fm.horizontalAdvance(self._cancel_text()) + 12
                if self.is_scheduled(rec)
                else 0
            )
            total = min(float(width - 2 * self.SIDE), float(line_w + cancel_w + 8))
            sx = width - self.SIDE - total if outbound else float(self.SIDE)
            schedule = QRectF(sx, bottom + 2, total - cancel_w, self.FAIL_H)
            if cancel_w:
                cancel = QRectF(schedule.right() + 8, bottom + 2, cancel_w - 8, self.FAIL_H)
            bottom = schedule.bottom()
        geometry = BubbleGeometry(
            chip=chip,
            bubble=bubble,
            note_header=note_h,
            quote=(
                QRectF(bubble.left() + self.PAD_H, top + quote_y, content_w, quote_h)
                if quote_h
                else None
            ),
            media=(
                QRectF(bubble.left() + self.PAD_H, top + media_y, media_w, media_h)
                if media_h
                else None
            ),
            text_top=top + text_top,
            text_h=text_h,
            footer_top=top + footer_top,
            failure=failure,
            retry=retry,
            reactions=reactions,
            height=int(bottom + self.GAP + 0.999),
            schedule=schedule,
            cancel=cancel,
        )
        self._size_cache[key] = geometry
        return geometry

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

    def geometry(self, option: QStyleOptionViewItem, index: _Index) -> BubbleGeometry | None:
        """The measured layout of ``index`` (None for rows without a message)."""
        rec = index.data(RecordRole)
        if not isinstance(rec, MessageRecord):
            return None
        chip = self.day_label(index) is not None
        return self._measure(rec, QFont(option.font), self._viewport_width(option), chip=chip)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        g = self.geometry(option, index)
        if g is None:
            return QSize(0, 0)
        return QSize(self._viewport_width(option), g.height)

    def editorEvent(
        self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem, index: _Index
    ) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            rec = index.data(RecordRole)
            g = self.geometry(option, index)
            if isinstance(rec, MessageRecord) and g is not None and g.retry is not None:
                pos = event.position() - QPointF(option.rect.topLeft())
                if g.retry.adjusted(-4, -2, 4, 2).contains(pos) and rec.client_id is not None:
                    self.retry_requested.emit(rec.client_id)
                    return True
            if isinstance(rec, MessageRecord) and g is not None and g.cancel is not None:
                pos = event.position() - QPointF(option.rect.topLeft())
                if g.cancel.adjusted(-4, -2, 4, 2).contains(pos):
                    self.cancel_requested.emit(rec.id)
                    return True
        return False

    def quoted_text(self, index: _Index, reply_to_id: int) -> str:
        """First line of the quoted message if it is in the loaded window."""
        model = index.model()
        if model is not None:
            for row in range(model.rowCount()):
                other = model.index(row, 0).data(RecordRole)
                if isinstance(other, MessageRecord) and other.id == reply_to_id:
                    return " ".join((other.text or self.media_label(other)).split())
        return self.tr("Earlier message (not loaded)")

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rec = index.data(RecordRole)
        g = self.geometry(option, index)
        if not isinstance(rec, MessageRecord) or g is None:
            return
        c = colors()
        r: QRect = option.rect
        origin = QPointF(r.left(), r.top())
        width = self._viewport_width(option)
        font, small = self._fonts(QFont(option.font))
        small_fm = QFontMetrics(small)
        outbound = rec.direction == Direction.OUTBOUND
        note = rec.type == "note"
        painter.save()
        painter.translate(origin)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        chip = self.day_label(index)
        if chip is not None:
            chip_font = QFont(small)
            chip_font.setBold(True)
            cw = QFontMetrics(chip_font).horizontalAdvance(chip) + 20
            chip_rect = QRectF((width - cw) / 2, 8, cw, self.CHIP_H - 12)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.q("chip_bg"))
            painter.drawRoundedRect(chip_rect, 7, 7)
            painter.setFont(chip_font)
            painter.setPen(c.q("text_muted"))
            painter.drawText(chip_rect, Qt.AlignmentFlag.AlignCenter, chip)
        bubble = g.bubble
        painter.setPen(QPen(c.q("bubble_border"), 1))
        fill = "bubble_note" if note else "bubble_out" if outbound else "bubble_in"
        painter.setBrush(c.q(fill))
        painter.drawRoundedRect(bubble.adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        inner_left = bubble.left() + self.PAD_H
        if note:
            header = QFont(small)
            header.setBold(True)
            painter.setFont(header)
            painter.setPen(c.q("window_amber"))
            painter.drawText(
                QRectF(inner_left, bubble.top() + self.PAD_V, bubble.width(), g.note_header),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self.tr("Internal note"),
            )
        if g.quote is not None and rec.reply_to_id is not None:
            q = g.quote
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.q("quote_bg"))
            painter.drawRoundedRect(q, 5, 5)
            painter.setBrush(c.q("quote_bar"))
            painter.drawRect(QRectF(q.left(), q.top(), 3, q.height()))
            painter.setFont(small)
            painter.setPen(c.q("text_muted"))
            quoted = small_fm.elidedText(
                self.quoted_text(index, rec.reply_to_id),
                Qt.TextElideMode.ElideRight,
                int(q.width() - 14),
            )
            painter.drawText(
                q.adjusted(9, 2, -4, -2),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                quoted,
            )
        if g.media is not None:
            self._paint_media(painter, g.media, rec, small)
        text = self.body_text(rec)
        if text:
            layout = self._painted_layout(
                text, font, max(60, int(width * self.MAX_FRACTION) - 2 * self.PAD_H)
            )
            pen = "text" if rec.text else "text_muted"
            if rec.call is not None and call_missed(rec.call):
                pen = "failed"  # a missed or declined call wants a call back
            painter.setPen(c.q(pen))
            layout.draw(painter, QPointF(inner_left, g.text_top))

        # footer: time (and ticks for outbound), right-aligned in the bubble
        right = bubble.right() - self.PAD_H
        if outbound and not note and rec.type != "call":
            tick = QRectF(
                right - STATUS_TICK_WIDTH + 2, g.footer_top + (small_fm.height() - 10) / 2, 16, 10
            )
            paint_status(painter, tick, rec.status)
            right -= STATUS_TICK_WIDTH + 4
        painter.setFont(small)
        failed = rec.status == MessageStatus.FAILED
        painter.setPen(c.q("failed") if failed else c.q("text_muted"))
        painter.drawText(
            QRectF(bubble.left(), g.footer_top, right - bubble.left(), small_fm.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            format_time(rec.timestamp, self._clock()),
        )
        if g.reactions is not None:
            painter.setPen(QPen(c.q("bubble_border"), 1))
            painter.setBrush(c.q("chip_bg"))
            painter.drawRoundedRect(g.reactions, self.REACTION_H / 2, self.REACTION_H / 2)
            painter.setPen(c.q("text"))
            painter.drawText(g.reactions, Qt.AlignmentFlag.AlignCenter, " ".join(rec.reactions))
        if g.failure is not None:
            painter.setPen(c.q("failed"))
            painter.drawText(
                g.failure,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                small_fm.elidedText(
                    self._failure_text(rec), Qt.TextElideMode.ElideRight, int(g.failure.width())
                ),
            )
        if g.schedule is not None:
            painter.setFont(small)
            painter.setPen(c.q("text_muted"))
            painter.drawText(
                g.schedule,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                small_fm.elidedText(
                    self._schedule_text(rec), Qt.TextElideMode.ElideRight, int(g.schedule.width())
                ),
            )
        if g.cancel is not None:
            link = QFont(small)
            link.setBold(True)
            link.setUnderline(True)
            painter.setFont(link)
            painter.setPen(c.q("accent"))
            painter.drawText(
                g.cancel,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self._cancel_text(),
            )
        if g.retry is not None:
            link = QFont(small)
            link.setBold(True)
            link.setUnderline(True)
            painter.setFont(link)
            painter.setPen(c.q("accent"))
            painter.drawText(
                g.retry,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self._retry_text(),
            )
        painter.restore()

    def _paint_media(
        self, painter: QPainter, rect: QRectF, rec: MessageRecord, small: QFont
    ) -> None:
        """A placeholder: the media itself is not downloaded into the cache yet."""
        c = colors()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(c.q("media_bg"))
        painter.drawRoundedRect(rect, 6, 6)
        fg = c.q("text_muted")
        label = self.media_label(rec)
        if rec.type in MEDIA_TYPES:
            # a simple "picture" glyph: frame, sun and mountain
            cx, cy = rect.center().x(), rect.center().y() - 10
            frame = QRectF(cx - 22, cy - 16, 44, 32)
            painter.setPen(QPen(fg, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(frame, 4, 4)
            painter.drawEllipse(QRectF(frame.left() + 8, frame.top() + 6, 7, 7))
            path = QPainterPath()
            path.moveTo(frame.left() + 4, frame.bottom() - 4)
            path.lineTo(frame.left() + 18, frame.top() + 16)
            path.lineTo(frame.left() + 28, frame.bottom() - 10)
            path.lineTo(frame.left() + 34, frame.bottom() - 14)
            path.lineTo(frame.right() - 4, frame.bottom() - 4)
            painter.drawPath(path)
            painter.setFont(small)
            painter.drawText(
                QRectF(rect.left(), cy + 22, rect.width(), 18), Qt.AlignmentFlag.AlignCenter, label
            )
            return
        # document chip: a page with a folded corner, then the name
        page = QRectF(rect.left() + 10, rect.top() + 8, 24, rect.height() - 16)
        painter.setPen(QPen(fg, 1.6))
        painter.setBrush(c.q("bubble_in"))
        fold = QPainterPath()
        fold.moveTo(page.left(), page.top())
        fold.lineTo(page.right() - 7, page.top())
        fold.lineTo(page.right(), page.top() + 7)
        fold.lineTo(page.right(), page.bottom())
        fold.lineTo(page.left(), page.bottom())
        fold.closeSubpath()
        painter.drawPath(fold)
        painter.setFont(small)
        painter.setPen(c.q("text"))
        text_rect = QRectF(
            page.right() + 10, rect.top(), rect.right() - page.right() - 16, rect.height()
        )
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(small).elidedText(
                label, Qt.TextElideMode.ElideMiddle, int(text_rect.width())
            ),
        )


def _same_day(a: float, b: float) -> bool:
    return _local_day(a) == _local_day(b)


@functools.lru_cache(maxsize=65_536)
def _local_day(ts: float) -> int:
    # Layout asks this for every row on every relayout: a cached ordinal keeps it cheap.
    return datetime.fromtimestamp(ts).date().toordinal()
