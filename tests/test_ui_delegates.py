"""Painted rows: status ticks, bubbles and conversation rows render and measure sensibly."""

from __future__ import annotations

import os
from datetime import datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QListView, QStyle, QStyleOptionViewItem

from inbox_app.domain.messages import MessageStatus
from tests.test_ui_support import (
    NOW,
    FakeEngine,
    conversation,
    message,
    run,
)
from ui.delegates import (
    CONVERSATION_ROW_HEIGHT,
    ConversationDelegate,
    MessageDelegate,
    format_time,
    initials,
    paint_status,
)
from ui.models import ConversationListModel, ThreadModel

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform's note on every shown window; not a problem in our code.
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


def blank(w: int, h: int) -> QImage:
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    return image


def painted_colors(image: QImage) -> set[int]:
    return {
        image.pixel(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if QColor.fromRgba(image.pixel(x, y)).alpha() > 0
    }


@pytest.mark.parametrize("status", list(MessageStatus))
def test_every_status_paints(qapp, status: MessageStatus) -> None:
    image = blank(24, 16)
    painter = QPainter(image)
    paint_status(painter, QRectF(2, 3, 16, 10), status)
    painter.end()
    colors = painted_colors(image)
    if status == MessageStatus.RECEIVED:
        assert not colors  # inbound messages carry no tick
    else:
        assert colors


def _dominant_hue(image: QImage) -> str:
    reds = blues = greys = 0
    for px in painted_colors(image):
        c = QColor.fromRgba(px)
        if c.red() > c.green() + 60 and c.red() > c.blue() + 60:
            reds += 1
        elif c.blue() > c.red() + 60:
            blues += 1
        else:
            greys += 1
    return max((reds, "red"), (blues, "blue"), (greys, "grey"))[1]


@pytest.mark.parametrize(
    ("status", "hue"),
    [
        (MessageStatus.READ, "blue"),
        (MessageStatus.DELIVERED, "grey"),
        (MessageStatus.FAILED, "red"),
    ],
)
def test_tick_colours(qapp, status: MessageStatus, hue: str) -> None:
    image = blank(24, 16)
    painter = QPainter(image)
    paint_status(painter, QRectF(2, 3, 16, 10), status)
    painter.end()
    assert _dominant_hue(image) == hue


def test_time_format_today_and_earlier() -> None:
    today = datetime.fromtimestamp(NOW)
    assert format_time(NOW, NOW) == today.strftime("%H:%M")
    assert format_time(NOW - 3 * 86400, NOW) == datetime.fromtimestamp(NOW - 3 * 86400).strftime(
        "%d.%m."
    )


def test_initials() -> None:
    assert initials("Lena Hoffmann") == "LH"
    assert initials("Peter Krause-Lindemann") == "PL"
    assert initials("Cher") == "C"
    assert initials("  ") == "?"


def _option(view: QListView, rect: QRect, selected: bool = False) -> QStyleOptionViewItem:
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = rect
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    return option


def test_message_size_hint_wraps_caches_and_depends_on_width(qapp, qtbot, qloop) -> None:
    long_text = "Bitte bringen Sie Ihre Versichertenkarte und den Überweisungsschein mit. " * 6
    engine = FakeEngine(
        messages=[
            message(1, 9, NOW - 60, "kurz"),
            message(2, 9, NOW - 30, long_text, out=True, status=MessageStatus.DELIVERED),
            message(3, 9, NOW - 10, "x" * 400),  # no spaces: must still wrap
        ]
    )
    model = ThreadModel(engine)
    run(qloop, model.load(9))
    view = QListView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    delegate = MessageDelegate(view, clock=lambda: NOW)
    view.setModel(model)
    view.setItemDelegate(delegate)
    option = _option(view, QRect(0, 0, view.viewport().width(), 10))

    short = delegate.sizeHint(option, model.index(0, 0))
    longer = delegate.sizeHint(option, model.index(1, 0))
    unbroken = delegate.sizeHint(option, model.index(2, 0))
    # row 0 also carries the day chip; the others share its day
    chip = MessageDelegate.CHIP_H
    assert longer.height() > (short.height() - chip) * 2
    assert unbroken.height() > short.height() - chip
    cached = len(delegate._size_cache)
    assert delegate.sizeHint(option, model.index(1, 0)) == longer
    assert len(delegate._size_cache) == cached  # measured once per (id, width)

    view.resize(300, 400)
    qapp.processEvents()
    narrow = delegate.sizeHint(option, model.index(1, 0))
    assert narrow.height() > longer.height()

    image = blank(view.viewport().width(), 600)
    painter = QPainter(image)
    y = 0
    for row in range(3):
        h = delegate.sizeHint(option, model.index(row, 0)).height()
        delegate.paint(painter, _option(view, QRect(0, y, image.width(), h)), model.index(row, 0))
        y += h
    painter.end()
    assert painted_colors(image)


@pytest.mark.parametrize("selected", [False, True])
def test_conversation_row_paints_open_and_closed_windows(qapp, qtbot, selected: bool) -> None:
    model = ConversationListModel()
    model.upsert(
        [
            conversation(
                1, "Lena Hoffmann", NOW - 60, "Danke!", last_inbound_at=NOW - 60, unread=3
            ),
            conversation(2, "Jonas Becker", NOW - 30 * 3600, "Sie: fertig", last_inbound_at=None),
        ]
    )
    view = QListView()
    qtbot.addWidget(view)
    delegate = ConversationDelegate(view, clock=lambda: NOW)
    h = CONVERSATION_ROW_HEIGHT
    option = _option(view, QRect(0, 0, 340, h), selected)
    assert delegate.sizeHint(option, model.index(0, 0)).height() == h
    for row in range(2):
        image = blank(340, h)
        painter = QPainter(image)
        delegate.paint(painter, option, model.index(row, 0))
        painter.end()
        assert len(painted_colors(image)) > 10
