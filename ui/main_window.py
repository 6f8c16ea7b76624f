"""The inbox window: conversations on the left, the open thread and composer on the right."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from inbox_app.client.engine import SignedInUser
from inbox_app.domain.conversations import ConversationRecord, window_remaining
from ui.composer import ComposerEdit
from ui.contract import InboxEngine
from ui.controller import InboxController, connection_label
from ui.delegates import ConversationDelegate, MessageDelegate
from ui.models import IdRole
from ui.thread_view import ThreadView

_Index = QModelIndex | QPersistentModelIndex

# The countdown shows whole hours; refreshing twice a minute is plenty.
_TICK_MS = 30_000


def role_label(role: str) -> str:
    """A staff role as the user reads it."""
    labels = {
        "receptionist": QCoreApplication.translate("roles", "reception"),
        "nurse": QCoreApplication.translate("roles", "nurse"),
        "clinician": QCoreApplication.translate("roles", "clinician"),
        "admin": QCoreApplication.translate("roles", "administrator"),
    }
    return labels.get(role, role)


class MainWindow(QMainWindow):
    """The signed-in inbox. Built from an engine; all engine calls go through ``controller``."""

    closed = Signal()

    def __init__(
        self,
        engine: InboxEngine,
        user: SignedInUser | None = None,
        *,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._user = user
        self.controller = InboxController(engine, self)
        self.setWindowTitle(self.tr("Praxis Inbox"))
        self.resize(1180, 760)

        self._build_sidebar()
        self._build_thread_page()
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.right_stack)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 820])
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(1)
        self.setCentralWidget(splitter)
        self._build_status_bar()

        c = self.controller
        c.conversation_model.rowsInserted.connect(self._ensure_selection)
        c.conversation_opened.connect(self._on_conversation_opened)
        c.conversation_updated.connect(self._update_header)
        c.connection_changed.connect(self._set_connection)
        c.send_failed.connect(self._on_send_failed)
        self.conversation_list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.composer.submitted.connect(self.submit)
        self.send_button.clicked.connect(self.submit)

        self._tick = QTimer(self)
        self._tick.setInterval(_TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()

    # ---- construction ------------------------------------------------------------------

    def _build_sidebar(self) -> None:
        self.sidebar = QFrame(self)
        self.sidebar.setObjectName("sidebar")
        layout = QVBoxLayout(self.sidebar)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QFrame(self.sidebar)
        header.setObjectName("sidebarHeader")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel(self.tr("Conversations"), header)
        title.setObjectName("sidebarTitle")
        header_layout.addWidget(title)
        header_layout.addStretch(1)
        self.user_badge = QLabel(header)
        self.user_badge.setObjectName("userBadge")
        header_layout.addWidget(self.user_badge)
        layout.addWidget(header)

        self.conversation_list = QListView(self.sidebar)
        self.conversation_list.setObjectName("conversationList")
        self.conversation_list.setAccessibleName(self.tr("Conversations"))
        self.conversation_list.setModel(self.controller.conversation_model)
        self.conversation_list.setItemDelegate(
            ConversationDelegate(self.conversation_list, clock=self._clock)
        )
        self.conversation_list.setUniformItemSizes(True)  # fixed row height: cheap layout
        self.conversation_list.setMouseTracking(True)
        self.conversation_list.setFrameShape(QFrame.Shape.NoFrame)
        self.conversation_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.conversation_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        layout.addWidget(self.conversation_list, 1)
        self.sidebar.setMinimumWidth(280)

    def _build_thread_page(self) -> None:
        self.right_stack = QStackedWidget(self)
        self.empty_label = QLabel(self.tr("Select a conversation to read and reply."), self)
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.right_stack.addWidget(self.empty_label)

        page = QFrame(self)
        page.setObjectName("threadPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        header = QFrame(page)
        header.setObjectName("threadHeader")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(20, 10, 20, 10)
        names = QVBoxLayout()
        names.setSpacing(1)
        self.thread_name = QLabel(header)
        self.thread_name.setObjectName("threadName")
        self.thread_name.setAccessibleName(self.tr("Patient name"))
        self.thread_phone = QLabel(header)
        self.thread_phone.setObjectName("threadPhone")
        self.thread_phone.setAccessibleName(self.tr("Phone number"))
        self.thread_phone.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        names.addWidget(self.thread_name)
        names.addWidget(self.thread_phone)
        hl.addLayout(names, 1)
        self.window_label = QLabel(header)
        self.window_label.setObjectName("windowBadge")
        self.window_label.setAccessibleName(self.tr("24-hour window"))
        hl.addWidget(self.window_label, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(header)

        self.thread_view = ThreadView(page)
        self.thread_view.setObjectName("threadView")
        self.thread_view.setAccessibleName(self.tr("Messages"))
        self.thread_view.setModel(self.controller.thread_model)
        self.thread_view.setItemDelegate(MessageDelegate(self.thread_view, clock=self._clock))
        layout.addWidget(self.thread_view, 1)

        bar = QFrame(page)
        bar.setObjectName("composerBar")
        bl = QHBoxLayout(bar)
        bl.setContentsMargins(16, 10, 16, 10)
        bl.setSpacing(10)
        self.composer = ComposerEdit(bar)
        self.composer.setObjectName("composer")
        self.composer.setAccessibleName(self.tr("Message"))
        self.composer.setPlaceholderText(
            self.tr("Write a message — Enter sends, Shift+Enter adds a line")
        )
        self.composer.setFixedHeight(64)
        self.send_button = QPushButton(self.tr("Send"), bar)
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName(self.tr("Send message"))
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        bl.addWidget(self.composer, 1)
        bl.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(bar)
        self.right_stack.addWidget(page)
        self.thread_page = page

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setObjectName("statusBar")
        self.connection_status = QLabel(status)
        self.connection_status.setObjectName("connectionStatus")
        self.connection_status.setAccessibleName(self.tr("Connection"))
        status.addWidget(self.connection_status)
        self.user_status = QLabel(status)
        self.user_status.setObjectName("userStatus")
        status.addPermanentWidget(self.user_status)
        if self._user is not None:
            self.user_status.setText(
                self.tr("Signed in as %1 (%2)")
                .replace("%1", self._user.display_name)
                .replace("%2", role_label(self._user.role))
            )
            self.user_badge.setText(self._user.display_name)
        self._set_connection("offline")

    # ---- behaviour -------------------------------------------------------------------

    def start(self) -> None:
        """Load the conversation list (the window opens the first one by itself)."""
        self.controller.load()

    def _ensure_selection(self, *_: object) -> None:
        # So a fresh window (and a screenshot) always shows an open thread.
        view = self.conversation_list
        if not view.currentIndex().isValid() and view.model().rowCount() > 0:
            view.selectionModel().setCurrentIndex(
                view.model().index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _on_current_changed(self, current: _Index, previous: _Index) -> None:
        if not current.isValid():
            return
        cid = current.data(IdRole)
        if isinstance(cid, int):
            self.controller.open_conversation(cid)

    def _record(self, conversation_id: int) -> ConversationRecord | None:
        model = self.controller.conversation_model
        row = model.row_of_id(conversation_id)
        return None if row is None else model.record_at(row)

    def _on_conversation_opened(self, conversation_id: int) -> None:
        self.right_stack.setCurrentWidget(self.thread_page)
        self._update_header(conversation_id)
        self.composer.setFocus()

    def _update_header(self, conversation_id: int) -> None:
        rec = self._record(conversation_id)
        if rec is None:
            return
        self.thread_name.setText(rec.display_name)
        self.thread_phone.setText(rec.phone or rec.wa_id)
        remaining = window_remaining(rec.last_inbound_at, self._clock())
        open_ = remaining > 0
        if open_:
            hours = max(1, int(-(-remaining // 3600)))
            text = self.tr("Window open: %n h left", "", hours)
        else:
            text = self.tr("24-hour window closed")
        self.window_label.setText(text)
        self.window_label.setProperty("state", "open" if open_ else "closed")
        self.window_label.style().unpolish(self.window_label)
        self.window_label.style().polish(self.window_label)
        # Outside the window WhatsApp only accepts templates; free text is blocked here too.
        self.composer.setEnabled(open_)
        self.send_button.setEnabled(open_)
        self.composer.setPlaceholderText(
            self.tr("Write a message — Enter sends, Shift+Enter adds a line")
            if open_
            else self.tr("The 24-hour window is closed: only an approved template can be sent.")
        )

    def _on_tick(self) -> None:
        cid = self.controller.current_conversation_id
        if cid is not None:
            self._update_header(cid)
        self.conversation_list.viewport().update()

    def _set_connection(self, state: str) -> None:
        self.connection_status.setText("● " + connection_label(state))
        self.connection_status.setProperty("state", state)
        self.connection_status.style().unpolish(self.connection_status)
        self.connection_status.style().polish(self.connection_status)

    def submit(self) -> None:
        """Send what the composer holds (Enter or the Send button)."""
        text = self.composer.toPlainText()
        if not text.strip() or not self.composer.isEnabled():
            return
        self.composer.clear()
        self.thread_view.follow_next_insert()
        self.controller.send(text)

    def _on_send_failed(self, text: str, sentence: str) -> None:
        if not self.composer.toPlainText():
            self.composer.setPlainText(text)
        self.statusBar().showMessage(sentence, 10_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._tick.stop()
        self.closed.emit()
        super().closeEvent(event)
