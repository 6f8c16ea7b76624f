"""The chat list view: older pages load at the top, new messages keep it pinned to the bottom."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QWidget

from ui.theme import colors

_Index = QModelIndex | QPersistentModelIndex

# Within this many pixels of the end counts as "at the bottom" (new messages follow).
_BOTTOM_SLACK = 24
# Breathing room above the first bubble.
_MIN_TOP = 6
_MIN_BOTTOM = 10


class ThreadView(QListView):
    """A QListView for a thread that is read bottom-up, like every chat app."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._aligning = True  # until construction is done
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.verticalScrollBar().setSingleStep(24)
        self._pin_bottom = True
        self._distance_from_bottom = 0
        self._prepending = False
        self._force_bottom = False
        self.highlighted_row: int | None = None
        self._aligning = False

    def updateGeometries(self) -> None:
        super().updateGeometries()
        self._align_bottom()

    def _align_bottom(self) -> None:
        # A short thread sits at the bottom, next to the composer, as in every chat app:
        # the spare height becomes a top viewport margin.
        if getattr(self, "_aligning", True):
            return  # re-entered, or still inside __init__
        self._aligning = True
        try:
            current = self.viewportMargins().top()
            available = self.viewport().height() + current
            bottom = self.viewportMargins().bottom()
            top = max(_MIN_TOP, available - self.contentsSize().height())
            if top != current or bottom != _MIN_BOTTOM:
                self.setViewportMargins(0, top, 0, _MIN_BOTTOM)
        finally:
            self._aligning = False

    def follow_next_insert(self) -> None:
        """Scroll to the newest message after the next insert (the user just sent one)."""
        self._force_bottom = True

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            old.rowsAboutToBeInserted.disconnect(self._before_insert)
            old.rowsInserted.disconnect(self._after_insert)
            old.modelReset.disconnect(self._after_reset)
        super().setModel(model)
        if model is not None:
            model.rowsAboutToBeInserted.connect(self._before_insert)
            model.rowsInserted.connect(self._after_insert)
            model.modelReset.connect(self._after_reset)

    def scroll_to_row(self, row: int) -> None:
        """Centre ``row`` (a search hit) once the layout has run."""
        self._pin_bottom = False

        def go() -> None:
            self.doItemsLayout()
            model = self.model()
            if model is not None and 0 <= row < model.rowCount():
                index = model.index(row, 0)
                self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
                self.highlighted_row = row
                self.viewport().update()

        QTimer.singleShot(0, go)

    def is_at_bottom(self) -> bool:
        """True when the newest message is in view."""
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - _BOTTOM_SLACK

    def _before_insert(self, parent: _Index, first: int, last: int) -> None:
        bar = self.verticalScrollBar()
        self._pin_bottom = self.is_at_bottom() or self._force_bottom
        self._force_bottom = False
        self._prepending = first == 0 and self.model().rowCount() > 0
        self._distance_from_bottom = bar.maximum() - bar.value()

    def _after_insert(self, parent: _Index, first: int, last: int) -> None:
        # The layout is updated lazily; restore the position once it has run.
        QTimer.singleShot(0, self._restore_position)

    def _after_reset(self) -> None:
        self._pin_bottom = True
        self.highlighted_row = None
        QTimer.singleShot(0, self._restore_position)

    def _restore_position(self) -> None:
        self.doItemsLayout()
        bar = self.verticalScrollBar()
        if self._prepending and not self._pin_bottom:
            # Older messages went in above: keep the reader's place.
            bar.setValue(bar.maximum() - self._distance_from_bottom)
        elif self._pin_bottom:
            self.scrollToBottom()
        self._prepending = False

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and self.highlighted_row is not None:
            if 0 <= self.highlighted_row < model.rowCount():
                # The message a search jumped to, tinted so the eye finds it.
                rect = self.visualRect(model.index(self.highlighted_row, 0))
                tint = colors().q("accent")
                tint.setAlpha(40)
                painter = QPainter(self.viewport())
                painter.fillRect(rect, tint)
                painter.end()
        if model is not None and model.rowCount() == 0:
            # An empty thread says so, rather than showing a blank pane.
            painter = QPainter(self.viewport())
            painter.setPen(colors().q("text_muted"))
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                self.tr("No messages in this conversation yet."),
            )
            painter.end()

    def verticalScrollbarValueChanged(self, value: int) -> None:
        # Qt fetches more at the bottom; a chat's older messages are at the top.
        model = self.model()
        if value == self.verticalScrollBar().minimum() and model is not None:
            root = self.rootIndex()
            if model.canFetchMore(root):
                model.fetchMore(root)
