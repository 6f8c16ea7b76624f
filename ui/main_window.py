"""The inbox window: views on the left, the conversation list, the open thread with its
composer, and the patient panel; plus settings and lock pages, shortcuts and notifications."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from inbox_app.client.engine import SignedInUser
from inbox_app.domain.conversations import ConversationRecord, window_remaining
from inbox_app.domain.messages import MessageRecord
from ui.compose_actions import ComposeActions
from ui.composer import ComposerEdit, ComposerModes, window_end_of
from ui.contract import InboxEngine
from ui.controller import InboxController, connection_label
from ui.delegates import CLOSING_SOON_SECONDS, ConversationDelegate, MessageDelegate
from ui.list_filters import ListFilters
from ui.models import IdRole, RecordRole
from ui.pages import LockPage, SettingsPage, ShortcutsDialog, padlock_pixmap
from ui.patient_panel import PatientPanel
from ui.quick_replies import QuickReplyPalette, load_quick_replies, patient_values, unfilled
from ui.result_dialog import ResultDialog
from ui.search import HitRole, SearchHit, SearchResultDelegate, SearchResultsModel
from ui.theme import colors
from ui.thread_view import ThreadView
from ui.views import (
    ConversationFilterModel,
    CountRole,
    KeyRole,
    SavedView,
    SavedViewRole,
    SavedViewsModel,
    UnreadRole,
    ViewCountsModel,
    is_waiting,
    labels_in,
    notification_view,
    view_label,
)

_Index = QModelIndex | QPersistentModelIndex

# The countdown shows whole hours; refreshing twice a minute is plenty.
_TICK_MS = 30_000
_SEARCH_DELAY_MS = 250
_IDLE_CHECK_MS = 5_000
_ACTIVITY = (
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.Wheel,
)
PAGES = ("inbox", "settings", "lock")
# Engine operations the placeholders wait for (disabled until the engine offers them).
PENDING_OPERATIONS = {
    "claim": "claim",
    "resolve": "resolve",
    "escalate": "escalate",
    "note": "add_note",
}


def role_label(role: str) -> str:
    """A staff role as the user reads it."""
    labels = {
        "receptionist": QCoreApplication.translate("roles", "reception"),
        "nurse": QCoreApplication.translate("roles", "nurse"),
        "clinician": QCoreApplication.translate("roles", "clinician"),
        "admin": QCoreApplication.translate("roles", "administrator"),
    }
    return labels.get(role, role)


def app_icon(size: int = 64) -> QIcon:
    """A speech bubble in the accent colour (drawn, so no image file is needed)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#128c7e"))
    painter.drawEllipse(QRect(2, 2, size - 4, size - 4))
    painter.setBrush(QColor("#ffffff"))
    s = size / 64
    painter.drawRoundedRect(int(16 * s), int(19 * s), int(32 * s), int(22 * s), 6 * s, 6 * s)
    painter.end()
    return QIcon(pixmap)


class ViewRailDelegate(QStyledItemDelegate):
    """A view's name with its count on the right (unread count in the accent colour)."""

    ROW_HEIGHT = 34

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(max(option.rect.width(), 120), self.ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        c = colors()
        r = option.rect.adjusted(6, 2, -6, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.q("accent_light"))
            painter.drawRoundedRect(r, 8, 8)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.q("hover"))
            painter.drawRoundedRect(r, 8, 8)
        font = QFont(option.font)
        font.setBold(selected)
        count = index.data(CountRole)
        unread = index.data(UnreadRole) or 0
        count_text = "" if count is None else str(count)  # saved views show no count
        small = QFont(option.font)
        small.setBold(bool(unread))
        cw = QFontMetrics(small).horizontalAdvance(count_text)
        text_rect = r.adjusted(10, 0, -(cw + 20), 0)
        painter.setFont(font)
        painter.setPen(c.q("accent") if selected else c.q("text"))
        label = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        painter.setFont(small)
        painter.setPen(c.q("accent") if unread else c.q("text_muted"))
        painter.drawText(
            r.adjusted(0, 0, -10, 0),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            count_text,
        )
        painter.restore()


class MainWindow(QMainWindow):
    """The signed-in inbox. Built from an engine; all engine calls go through ``controller``."""

    closed = Signal()
    language_requested = Signal(str)
    theme_requested = Signal(str)
    saved_views_changed = Signal(list)  # list[SavedView], to keep in the settings

    def __init__(
        self,
        engine: InboxEngine,
        user: SignedInUser | None = None,
        *,
        clock: Callable[[], float] = time.time,
        language: str = "system",
        theme: str = "light",
        saved_views: list[SavedView] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._user = user
        self._drafts: dict[int, str] = {}
        # Conversations whose holder the user chose to take over (asked once per session).
        self._taken_over: set[int] = set()
        self.take_over_question: QMessageBox | None = None
        self._draft_owner: int | None = None
        self._window_open = False
        self.notifications: list[tuple[str, str]] = []  # (title, text), newest last; for tests
        self.controller = InboxController(engine, self)
        c = self.controller
        c.conversation_model.set_user_id(user.id if user is not None else None)
        self.setWindowIcon(app_icon())
        self.resize(1440, 860)
        self.replies, self.clinic_values = load_quick_replies()

        self.filter_model = ConversationFilterModel(self, clock=clock)
        self.filter_model.setSourceModel(c.conversation_model)
        self.filter_model.set_user(user.id if user is not None else None)
        self.view_counts = ViewCountsModel(c.conversation_model, self, clock=clock)
        self.view_counts.set_user(user.id if user is not None else None)
        self.search_model = SearchResultsModel(self)
        self.saved_views = SavedViewsModel(saved_views, self)
        self.save_view_dialog: QInputDialog | None = None

        self._build_rail()
        self._build_sidebar()
        self._build_thread_page()
        self._build_patient_panel()
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("mainSplitter")
        for w in (self.rail, self.sidebar, self.right_stack, self.patient_panel):
            splitter.addWidget(w)
        for i, stretch in enumerate((0, 0, 1, 0)):
            splitter.setStretchFactor(i, stretch)
        splitter.setSizes([224, 356, 600, 260])
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(1)
        self.inbox_page = splitter

        self.settings_page = SettingsPage(self, language=language, theme=theme)
        self.lock_page = LockPage(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.inbox_page)
        self.pages.addWidget(self.settings_page)
        self.pages.addWidget(self.lock_page)
        self.setCentralWidget(self.pages)
        self._build_status_bar()
        self._build_actions()
        self.palette_popup = QuickReplyPalette(self.replies, self)
        # Template, note and send-later modes of the composer (ui/composer.py).
        self.compose_actions = ComposeActions(c, self, clock=clock)
        self.compose_actions.user_id = user.id if user is not None else None
        self.composer_modes = ComposerModes(
            self.composer,
            self.send_button,
            *self._composer_layouts,
            self.compose_actions,
            show_message=lambda sentence: self.statusBar().showMessage(sentence, 10_000),
            clock=clock,
            window_note=self.composer_note,
            parent=self,
        )
        self.compose_actions.failed.connect(
            lambda sentence: self.statusBar().showMessage(sentence, 10_000)
        )
        self.compose_actions.give_back.connect(self._on_send_failed)
        self.compose_actions.mentioned.connect(self._on_mentioned)
        # Team and assignee filters under the label filter (ui/list_filters.py).
        header = self.label_filter.parentWidget()
        header_layout = header.layout() if header is not None else None
        assert header is not None and isinstance(header_layout, QVBoxLayout)
        self.list_filters = ListFilters(
            self.filter_model,
            header,
            header_layout,
            index=header_layout.indexOf(self.label_filter) + 1,
            me=user.id if user is not None else None,
            parent=self,
        )
        self.list_filters.changed.connect(self._ensure_selection)
        self.compose_actions.directory_loaded.connect(self._on_directory)
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.tray = QSystemTrayIcon(app_icon(), self)
        self.tray.setToolTip(self.tr("Praxis Inbox"))
        self.tray.activated.connect(self._on_tray_activated)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

        c.conversation_model.rowsInserted.connect(self._ensure_selection)
        self.filter_model.rowsInserted.connect(self._ensure_selection)
        c.conversation_opened.connect(self._on_conversation_opened)
        c.conversation_updated.connect(self._update_header)
        c.connection_changed.connect(self._set_connection)
        c.send_failed.connect(self._on_send_failed)
        c.error.connect(lambda sentence: self.statusBar().showMessage(sentence, 10_000))
        c.new_inbound.connect(self._on_new_inbound)
        c.search_finished.connect(self._on_search_finished)
        c.jumped.connect(self._on_jumped)
        c.session_changed.connect(self._on_session_changed)
        c.idle_timeout.connect(self.lock)
        self.view_counts.dataChanged.connect(self._update_title)
        self._labels_timer = QTimer(self)
        self._labels_timer.setSingleShot(True)
        self._labels_timer.setInterval(0)
        self._labels_timer.timeout.connect(self._refresh_label_choices)
        self._labels_timer.timeout.connect(self._refresh_list_filters)
        for signal in (
            c.conversation_model.rowsInserted,
            c.conversation_model.dataChanged,
            c.conversation_model.modelReset,
        ):
            signal.connect(self._labels_timer.start)
        self.label_filter.currentIndexChanged.connect(self._on_label_chosen)
        self.conversation_list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view_list.selectionModel().currentChanged.connect(self._on_view_changed)
        self.saved_list.clicked.connect(self._on_saved_view_chosen)
        self.saved_list.activated.connect(self._on_saved_view_chosen)
        self.composer.submitted.connect(self.submit)
        self.composer.quick_reply_requested.connect(self.open_quick_replies)
        self.send_button.clicked.connect(self.submit)
        self.quick_reply_button.clicked.connect(lambda: self.open_quick_replies(""))
        self.palette_popup.chosen.connect(self._insert_quick_reply)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)
        self.message_delegate.retry_requested.connect(c.retry)
        self.message_delegate.cancel_requested.connect(self.compose_actions.cancel_scheduled)
        self.search_field.textChanged.connect(self._on_search_text)
        self.search_results.activated.connect(self._on_search_activated)
        self.search_results.clicked.connect(self._on_search_activated)
        self.jump_latest.clicked.connect(c.show_latest)
        self.settings_page.language_changed.connect(self.language_requested)
        self.settings_page.theme_changed.connect(self.theme_requested)
        self.settings_page.back.connect(lambda: self.show_page("inbox"))
        self.lock_page.unlock_requested.connect(self._unlock)
        self.controller.second_factor_needed.connect(self.lock_page.ask_for_code)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(_SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)

        self._tick = QTimer(self)
        self._tick.setInterval(_TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        # Idle auto-lock: any key or mouse input anywhere counts as activity.
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(_IDLE_CHECK_MS)
        self._idle_timer.timeout.connect(c.check_idle)
        if c.idle is not None and self.can_lock():
            self._idle_timer.start()
            if isinstance(app, QApplication):
                app.installEventFilter(self)
        self.retranslate()
        self._fit_saved_list()

    # ---- construction ------------------------------------------------------------------

    def _build_rail(self) -> None:
        self.rail = QFrame(self)
        self.rail.setObjectName("viewRail")
        layout = QVBoxLayout(self.rail)
        layout.setContentsMargins(8, 14, 8, 10)
        layout.setSpacing(6)
        self.rail_title = QLabel(self.rail)
        self.rail_title.setObjectName("railTitle")
        layout.addWidget(self.rail_title)
        self.view_list = QListView(self.rail)
        self.view_list.setObjectName("viewList")
        self.view_list.setModel(self.view_counts)
        self.view_list.setItemDelegate(ViewRailDelegate(self.view_list))
        self.view_list.setUniformItemSizes(True)
        self.view_list.setMouseTracking(True)
        self.view_list.setFrameShape(QFrame.Shape.NoFrame)
        self.view_list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view_list.setFixedHeight(ViewRailDelegate.ROW_HEIGHT * self.view_counts.rowCount() + 4)
        self.view_list.setCurrentIndex(
            self.view_counts.index(self.view_counts.row_of_key("all"), 0)
        )
        layout.addWidget(self.view_list)
        self.saved_title = QLabel(self.rail)
        self.saved_title.setObjectName("railSection")
        layout.addWidget(self.saved_title)
        self.saved_list = QListView(self.rail)
        self.saved_list.setObjectName("viewList")
        self.saved_list.setModel(self.saved_views)
        self.saved_list.setItemDelegate(ViewRailDelegate(self.saved_list))
        self.saved_list.setUniformItemSizes(True)
        self.saved_list.setFrameShape(QFrame.Shape.NoFrame)
        self.saved_list.installEventFilter(self)
        layout.addWidget(self.saved_list)
        layout.addStretch(1)
        self.rail_buttons: dict[str, QPushButton] = {}
        save = QPushButton(self.rail)
        save.setObjectName("railButton")
        save.setCursor(Qt.CursorShape.PointingHandCursor)
        layout.addWidget(save)
        self.rail_buttons["save_view"] = save
        save.clicked.connect(self.ask_save_view)
        for key in ("shortcuts", "settings", "lock"):
            button = QPushButton(self.rail)
            button.setObjectName("railButton")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            layout.addWidget(button)
            self.rail_buttons[key] = button
        self.rail_buttons["shortcuts"].clicked.connect(self.show_shortcuts)
        self.rail_buttons["settings"].clicked.connect(lambda: self.show_page("settings"))
        self.rail_buttons["lock"].clicked.connect(self.lock)
        # Locking needs the engine to lock and unlock its cache; until then it is disabled.
        self.rail_buttons["lock"].setEnabled(self.can_lock())
        self.rail.setMinimumWidth(180)

    def _build_sidebar(self) -> None:
        self.sidebar = QFrame(self)
        self.sidebar.setObjectName("sidebar")
        layout = QVBoxLayout(self.sidebar)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QFrame(self.sidebar)
        header.setObjectName("sidebarHeader")
        hv = QVBoxLayout(header)
        hv.setContentsMargins(16, 12, 16, 10)
        hv.setSpacing(8)
        top = QHBoxLayout()
        self.list_title = QLabel(header)
        self.list_title.setObjectName("sidebarTitle")
        top.addWidget(self.list_title)
        top.addStretch(1)
        self.user_badge = QLabel(header)
        self.user_badge.setObjectName("userBadge")
        top.addWidget(self.user_badge)
        hv.addLayout(top)
        self.search_field = QLineEdit(header)
        self.search_field.setObjectName("searchField")
        self.search_field.setClearButtonEnabled(True)
        hv.addWidget(self.search_field)
        # Label filter: shown once conversations carry labels (the relay sends them).
        self.label_filter = QComboBox(header)
        self.label_filter.setObjectName("labelFilter")
        self.label_filter.hide()
        hv.addWidget(self.label_filter)
        layout.addWidget(header)

        self.list_stack = QStackedWidget(self.sidebar)
        self.conversation_list = QListView(self.sidebar)
        self.conversation_list.setObjectName("conversationList")
        self.conversation_list.setModel(self.filter_model)
        self.conversation_list.setItemDelegate(
            ConversationDelegate(self.conversation_list, clock=self._clock)
        )
        self.conversation_list.setUniformItemSizes(True)  # fixed row height: cheap layout
        self.conversation_list.setMouseTracking(True)
        self.conversation_list.setFrameShape(QFrame.Shape.NoFrame)
        self.conversation_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.conversation_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_stack.addWidget(self.conversation_list)

        results = QFrame(self.sidebar)
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(0)
        self.search_info = QLabel(results)
        self.search_info.setObjectName("searchInfo")
        rl.addWidget(self.search_info)
        self.search_results = QListView(results)
        self.search_results.setObjectName("searchResults")
        self.search_results.setModel(self.search_model)
        self.search_results.setItemDelegate(
            SearchResultDelegate(self.search_results, clock=self._clock)
        )
        self.search_results.setUniformItemSizes(True)
        self.search_results.setMouseTracking(True)
        self.search_results.setFrameShape(QFrame.Shape.NoFrame)
        rl.addWidget(self.search_results, 1)
        self.list_stack.addWidget(results)
        self.search_page = results
        layout.addWidget(self.list_stack, 1)
        self.sidebar.setMinimumWidth(300)

    def _build_thread_page(self) -> None:
        self.right_stack = QStackedWidget(self)
        self.empty_label = QLabel(self)
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
        self.thread_phone = QLabel(header)
        self.thread_phone.setObjectName("threadPhone")
        self.thread_phone.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        names.addWidget(self.thread_name)
        names.addWidget(self.thread_phone)
        hl.addLayout(names, 1)
        self.jump_latest = QPushButton(header)
        self.jump_latest.setObjectName("jumpLatest")
        self.jump_latest.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_latest.hide()
        hl.addWidget(self.jump_latest, 0, Qt.AlignmentFlag.AlignVCenter)
        self.window_label = QLabel(header)
        self.window_label.setObjectName("windowBadge")
        hl.addWidget(self.window_label, 0, Qt.AlignmentFlag.AlignVCenter)
        # Results (ui/result_dialog.py): offered to nurses and clinicians; the relay enforces it.
        self.result_button = QPushButton(header)
        self.result_button.setObjectName("resultButton")
        self.result_button.setAutoDefault(False)
        self.result_button.clicked.connect(self.open_result_dialog)
        self.result_button.setVisible(self.may_send_results())
        self.result_dialog: ResultDialog | None = None
        hl.addWidget(self.result_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(header)

        self.thread_view = ThreadView(page)
        self.thread_view.setObjectName("threadView")
        self.thread_view.setModel(self.controller.thread_model)
        self.message_delegate = MessageDelegate(self.thread_view, clock=self._clock)
        self.thread_view.setItemDelegate(self.message_delegate)
        layout.addWidget(self.thread_view, 1)

        bar = QFrame(page)
        bar.setObjectName("composerBar")
        bv = QVBoxLayout(bar)
        bv.setContentsMargins(16, 8, 16, 10)
        bv.setSpacing(6)
        self.composer_note = QLabel(bar)
        self.composer_note.setObjectName("composerNote")
        self.composer_note.setWordWrap(True)
        self.composer_note.hide()
        bv.addWidget(self.composer_note)
        bl = QHBoxLayout()
        bl.setSpacing(10)
        self.quick_reply_button = QPushButton("/", bar)
        self.quick_reply_button.setObjectName("quickReplyButton")
        self.quick_reply_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.quick_reply_button.setAutoDefault(False)
        self.composer = ComposerEdit(bar)
        self.composer.setObjectName("composer")
        self.composer.setFixedHeight(64)
        self.send_button = QPushButton(bar)
        self.send_button.setObjectName("sendButton")
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        bl.addWidget(self.quick_reply_button, 0, Qt.AlignmentFlag.AlignVCenter)
        bl.addWidget(self.composer, 1)
        bl.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignVCenter)
        bv.addLayout(bl)
        self._composer_layouts = (bv, bl)  # ComposerModes adds its controls here
        layout.addWidget(bar)
        self.right_stack.addWidget(page)
        self.thread_page = page

    def _build_patient_panel(self) -> None:
        # The panel and its register/booking logic live in ui/patient_panel.py.
        self.patient_panel = PatientPanel(self.controller, self, clock=self._clock, user=self._user)
        self.panel_title = self.patient_panel.title
        self.panel_sections = self.patient_panel.sections
        self.panel_values = self.patient_panel.values

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setObjectName("statusBar")
        self.connection_status = QLabel(status)
        self.connection_status.setObjectName("connectionStatus")
        status.addWidget(self.connection_status)
        self.user_status = QLabel(status)
        self.user_status.setObjectName("userStatus")
        status.addPermanentWidget(self.user_status)
        if self._user is not None:
            self.user_badge.setText(self._user.display_name)
        self._connection_state = "offline"
        self._set_connection("offline")

    def _build_actions(self) -> None:
        """Keyboard shortcuts (also listed in the shortcuts overview)."""
        self.actions_by_key: dict[str, QAction] = {}
        specs = [
            ("next_unread", "Ctrl+J", self.next_unread),
            ("search", "Ctrl+F", self.focus_search),
            ("quick_reply", "Ctrl+/", lambda: self.open_quick_replies("")),
            ("focus_composer", "Ctrl+L", self.focus_composer),
            ("claim", "Ctrl+Shift+C", None),
            ("resolve", "Ctrl+Shift+R", None),
            ("escalate", "Ctrl+Shift+E", None),
            ("note", "Ctrl+Shift+N", lambda: self.composer_modes.toggle_note()),
            ("settings", "Ctrl+,", lambda: self.show_page("settings")),
            ("lock", "Ctrl+Shift+L", self.lock),
            ("shortcuts", "F1", self.show_shortcuts),
        ]
        for key, shortcut, slot in specs:
            action = QAction(self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if slot is not None:
                action.triggered.connect(slot)
            else:
                # Placeholders until the engine offers the operation; then they run it.
                operation = PENDING_OPERATIONS[key]
                supported = self.controller.supports(operation)
                action.setEnabled(supported)
                if supported:
                    action.triggered.connect(
                        lambda _=False, op=operation: self.controller.conversation_command(op)
                    )
            self.addAction(action)
            self.actions_by_key[key] = action
        self.actions_by_key["lock"].setEnabled(self.can_lock())

    def action_label(self, key: str) -> str:
        """What a shortcut does, as listed in the overview."""
        labels = {
            "next_unread": self.tr("Next unread conversation"),
            "search": self.tr("Search messages"),
            "quick_reply": self.tr("Quick replies"),
            "focus_composer": self.tr("Write a message"),
            "claim": self.tr("Claim conversation"),
            "resolve": self.tr("Resolve conversation"),
            "escalate": self.tr("Escalate conversation"),
            "note": self.tr("Internal note"),
            "settings": self.tr("Settings"),
            "lock": self.tr("Lock the inbox"),
            "shortcuts": self.tr("Keyboard shortcuts"),
        }
        label = labels.get(key, key)
        operation = PENDING_OPERATIONS.get(key)
        if operation is not None and not self.controller.supports(operation):
            label = self.tr("%1 (coming soon)").replace("%1", label)
        return label

    def retranslate(self) -> None:
        """Set every visible string (again, after a language switch)."""
        self.rail_title.setText(self.tr("Praxis Inbox"))
        self.result_button.setText(self.tr("Send result…"))
        self.view_list.setAccessibleName(self.tr("Views"))
        self.saved_title.setText(self.tr("SAVED VIEWS"))
        self.saved_list.setAccessibleName(self.tr("Saved views"))
        self.saved_list.setToolTip(self.tr("Delete removes the selected saved view"))
        for key, text, tip in (
            ("save_view", self.tr("Save view…"), self.tr("Keep this view and label filter")),
            ("shortcuts", self.tr("Shortcuts"), self.tr("Keyboard shortcuts (F1)")),
            ("settings", self.tr("Settings"), self.tr("Language and theme (Ctrl+,)")),
            ("lock", self.tr("Lock"), self.tr("Lock the inbox (Ctrl+Shift+L)")),
        ):
            button = self.rail_buttons[key]
            button.setText(text)
            if key == "lock" and not button.isEnabled():
                tip = self.tr("Locking needs an engine that can lock its cache (coming soon).")
            button.setToolTip(tip)
            button.setAccessibleName(text)
        self.conversation_list.setAccessibleName(self.tr("Conversations"))
        self.search_field.setPlaceholderText(self.tr("Search messages (Ctrl+F)"))
        self.search_field.setAccessibleName(self.tr("Search messages"))
        self.label_filter.setAccessibleName(self.tr("Filter by label"))
        self._refresh_label_choices()
        self.search_results.setAccessibleName(self.tr("Search results"))
        self.search_info.setAccessibleName(self.tr("Search summary"))
        self.empty_label.setText(self.tr("Select a conversation to read and reply."))
        self.thread_name.setAccessibleName(self.tr("Patient name"))
        self.thread_phone.setAccessibleName(self.tr("Phone number"))
        self.window_label.setAccessibleName(self.tr("24-hour window"))
        self.jump_latest.setText(self.tr("Jump to latest"))
        self.jump_latest.setAccessibleName(self.tr("Jump to the newest message"))
        self.thread_view.setAccessibleName(self.tr("Messages"))
        self.composer.setAccessibleName(self.tr("Message"))
        self.composer_note.setAccessibleName(self.tr("Composer note"))
        self.quick_reply_button.setAccessibleName(self.tr("Quick replies"))
        self.quick_reply_button.setToolTip(self.tr("Quick replies (/ or Ctrl+/)"))
        self.send_button.setText(self.tr("Send"))
        self.send_button.setAccessibleName(self.tr("Send message"))
        self.patient_panel.retranslate()
        self.connection_status.setAccessibleName(self.tr("Connection"))
        self.user_status.setAccessibleName(self.tr("Signed-in user"))
        if self._user is not None:
            self.user_status.setText(
                self.tr("Signed in as %1 (%2)")
                .replace("%1", self._user.display_name)
                .replace("%2", role_label(self._user.role))
            )
            self.user_badge.setAccessibleName(self.tr("Signed-in user"))
        for key, action in self.actions_by_key.items():
            action.setText(self.action_label(key))
        self.list_title.setText(view_label(self.filter_model.view_key))
        self.message_delegate.clear_cache()
        self.thread_view.doItemsLayout()
        self._set_connection(self._connection_state)
        cid = self.controller.current_conversation_id
        self._update_header(cid) if cid is not None else self._update_panel(None)
        self._update_composer_mode()
        if getattr(self, "composer_modes", None) is not None:
            self.composer_modes.retranslate()
            self.list_filters.retranslate()
            self._refresh_list_filters()
        self._update_title()

    def repaint_all(self) -> None:
        """After a theme switch: painted rows and icons pick up the new colours."""
        self.message_delegate.clear_cache()
        self.lock_page.icon.setPixmap(padlock_pixmap())
        for view in (self.view_list, self.conversation_list, self.thread_view, self.search_results):
            view.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ---- pages -------------------------------------------------------------------------

    def show_page(self, name: str) -> None:
        """Show ``inbox``, ``settings`` or ``lock``."""
        page = {"inbox": self.inbox_page, "settings": self.settings_page, "lock": self.lock_page}
        self.pages.setCurrentWidget(page.get(name, self.inbox_page))
        if name == "lock":
            self.lock_page.password.setFocus()

    def current_page(self) -> str:
        widget = self.pages.currentWidget()
        return (
            "settings"
            if widget is self.settings_page
            else "lock"
            if widget is self.lock_page
            else "inbox"
        )

    def can_lock(self) -> bool:
        """Whether the engine can lock its cache (and unlock it with the password)."""
        return self.controller.supports("lock") and self.controller.supports("unlock")

    def lock(self) -> None:
        """Hide everything behind the lock page (and lock the engine when it can)."""
        self.palette_popup.hide()
        self.show_page("lock")
        self.controller.lock_engine()

    def _unlock(self, password: str) -> None:
        self.controller.unlock_engine(password, self._on_unlocked, self.lock_page.code_text())

    def _on_unlocked(self, ok: bool, sentence: str) -> None:
        if ok:
            self.lock_page.clear()
            self.show_page("inbox")
        else:
            self.lock_page.show_error(sentence)

    def show_shortcuts(self) -> None:
        """The shortcuts overview (open(), never exec(): it must not block the event loop)."""
        rows = [
            (
                self.action_label(k),
                a.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                a.isEnabled(),
            )
            for k, a in self.actions_by_key.items()
        ]
        rows.insert(0, (self.tr("Send message"), self.tr("Enter"), True))
        rows.insert(1, (self.tr("New line"), self.tr("Shift+Enter"), True))
        rows.insert(2, (self.tr("Quick replies in the composer"), "/", True))
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.set_rows(rows)
        self.shortcuts_dialog.open()

    # ---- behaviour -------------------------------------------------------------------

    def start(self) -> None:
        """Load the conversation list (the window opens the first one by itself)."""
        self.controller.load()
        self.compose_actions.load()
        if self.controller.supports("escalations"):
            # The escalation queue page, its rail button and the escalate dialog.
            from ui.escalations import install as install_escalations

            install_escalations(self, clock=self._clock)
        if self._user is not None and self._user.role == "admin":
            from ui.audit_view import install as install_audit  # the audit trail window

            install_audit(self)
        from ui.reports import install as install_reports  # admins and clinicians

        install_reports(self)

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

    def _refresh_label_choices(self) -> None:
        labels = labels_in(list(self.controller.conversation_model.records()))
        current = self.filter_model.label
        combo = self.label_filter
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(self.tr("All labels"), None)
            for label in labels:
                combo.addItem(label, label)
            index = combo.findData(current) if current in labels else 0
            combo.setCurrentIndex(max(0, index))
        finally:
            combo.blockSignals(False)
        if current is not None and current not in labels:
            self.filter_model.set_label(None)
        combo.setVisible(bool(labels))

    def _on_label_chosen(self, index: int) -> None:
        label = self.label_filter.itemData(index)
        self.filter_model.set_label(label if isinstance(label, str) else None)
        self._ensure_selection()

    def _on_view_changed(self, current: _Index, previous: _Index) -> None:
        key = current.data(KeyRole)
        if isinstance(key, str):
            self.set_view(key)

    def set_view(self, key: str) -> None:
        """Narrow the list to view ``key``; keep the open thread if it is still listed."""
        self.filter_model.set_view(key)
        row = self.view_counts.row_of_key(key)
        if self.view_list.currentIndex().row() != row:
            self.view_list.setCurrentIndex(self.view_counts.index(row, 0))
        self.list_title.setText(view_label(key))
        cid = self.controller.current_conversation_id
        self._select_conversation(cid)
        self._ensure_selection()

    def open_top_conversation(self, *, prefer_answered: bool = False) -> None:
        """Select the most recent conversation of the current view; with ``prefer_answered``
        the most recent one staff answered last (a screenshot then shows both sides)."""
        model = self.filter_model
        rows = range(model.rowCount())
        chosen = next(
            (
                r
                for r in rows
                if prefer_answered
                and isinstance(rec := model.index(r, 0).data(RecordRole), ConversationRecord)
                and is_waiting(rec)
            ),
            0,
        )
        if model.rowCount() > 0:
            self.conversation_list.selectionModel().setCurrentIndex(
                model.index(chosen, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.conversation_list.scrollTo(model.index(chosen, 0))

    def open_conversation_named(self, name: str) -> bool:
        """Select the first conversation of the current view whose name contains ``name``
        (case-insensitive); False when none does."""
        model = self.filter_model
        wanted = name.casefold()
        for row in range(model.rowCount()):
            rec = model.index(row, 0).data(RecordRole)
            if isinstance(rec, ConversationRecord) and wanted in rec.display_name.casefold():
                self.conversation_list.selectionModel().setCurrentIndex(
                    model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                self.conversation_list.scrollTo(model.index(row, 0))
                return True
        return False

    def _select_conversation(self, cid: int | None) -> None:
        if cid is None:
            return
        src_row = self.controller.conversation_model.row_of_id(cid)
        if src_row is None:
            return
        proxy_index = self.filter_model.mapFromSource(
            self.controller.conversation_model.index(src_row, 0)
        )
        if proxy_index.isValid():
            self.conversation_list.selectionModel().setCurrentIndex(
                proxy_index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.conversation_list.scrollTo(proxy_index)

    def may_send_results(self) -> bool:
        role = getattr(self._user, "role", None)
        return role in ("nurse", "clinician") and callable(
            getattr(self.controller.engine, "send_result", None)
        )

    def open_result_dialog(self) -> ResultDialog | None:
        """The result dialog for the open conversation (its patients and consents load)."""
        cid = self.controller.current_conversation_id
        record = self._record(cid) if cid is not None else None
        if record is None or not self.may_send_results():
            return None
        dialog = ResultDialog(self.controller.engine, record.id, [], [], self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sent.connect(
            lambda _state: self.statusBar().showMessage(self.tr("Result sent."), 5000)
        )
        self.result_dialog = dialog
        dialog.destroyed.connect(lambda: setattr(self, "result_dialog", None))
        dialog.show()
        dialog.load(record.wa_id)
        return dialog

    def _record(self, conversation_id: int) -> ConversationRecord | None:
        model = self.controller.conversation_model
        row = model.row_of_id(conversation_id)
        return None if row is None else model.record_at(row)

    def _on_conversation_opened(self, conversation_id: int) -> None:
        self.right_stack.setCurrentWidget(self.thread_page)
        # Drafts are kept per conversation.
        if self._draft_owner is not None and self._draft_owner != conversation_id:
            text = self.composer.toPlainText()
            if text.strip():
                self._drafts[self._draft_owner] = text
            else:
                self._drafts.pop(self._draft_owner, None)
            self.composer.setPlainText(self._drafts.pop(conversation_id, ""))
        self._draft_owner = conversation_id
        self.compose_actions.load_context(conversation_id)
        self._update_header(conversation_id)
        self.jump_latest.setVisible(self.controller.thread_model.has_newer)
        if self.current_page() == "inbox" and not self.search_field.hasFocus():
            self.composer.setFocus()

    def draft_for(self, conversation_id: int) -> str:
        """The unsent text kept for a conversation (the open one's is in the composer)."""
        if conversation_id == self._draft_owner:
            return self.composer.toPlainText()
        return self._drafts.get(conversation_id, "")

    def _update_header(self, conversation_id: int) -> None:
        rec = self._record(conversation_id)
        if rec is None:
            return
        self.thread_name.setText(rec.display_name)
        self.thread_phone.setText(rec.phone or rec.wa_id)
        remaining = window_remaining(rec.last_inbound_at, self._clock())
        self._window_open = remaining > 0
        if self._window_open:
            hours = max(1, int(-(-remaining // 3600)))
            text = self.tr("Window open: %n h left", "", hours)
        else:
            text = self.tr("24-hour window closed")
        state = (
            "closed"
            if not self._window_open
            else "closing"
            if remaining < CLOSING_SOON_SECONDS
            else "open"
        )
        self.window_label.setText(text)
        self.window_label.setProperty("state", state)
        self.window_label.style().unpolish(self.window_label)
        self.window_label.style().polish(self.window_label)
        self._update_composer_mode()
        self._update_panel(rec)

    def _update_composer_mode(self) -> None:
        # Outside the window WhatsApp only accepts templates; free text is blocked here too.
        open_ = self._window_open
        self.composer.setEnabled(open_)
        self.send_button.setEnabled(open_)
        self.quick_reply_button.setEnabled(open_ and bool(self.replies))
        self.composer.setPlaceholderText(
            self.tr("Write a message — Enter sends, Shift+Enter adds a line, / for quick replies")
            if open_
            else self.tr("Template mode: free text is disabled outside the 24-hour window.")
        )
        self.composer_note.setText(
            self.tr(
                "The 24-hour window is closed: WhatsApp only delivers approved templates now. "
                "The one that fits is chosen below; check its values, then send."
            )
        )
        cid = self.controller.current_conversation_id
        self.composer_note.setVisible(not open_ and cid is not None)
        modes = getattr(self, "composer_modes", None)  # built after the first retranslate
        if modes is not None:
            rec = self._record(cid) if cid is not None else None
            self.quick_reply_button.setEnabled(open_ and bool(self.replies) and not modes.note_mode)
            modes.set_base_values(self.quick_reply_values() if cid is not None else {})
            modes.set_window(
                open_=open_,
                window_end=window_end_of(rec.last_inbound_at) if rec is not None else None,
                has_conversation=cid is not None,
            )

    def _update_panel(self, rec: ConversationRecord | None) -> None:
        self.patient_panel.show_conversation(rec)

    def _on_tick(self) -> None:
        self.filter_model.refilter()
        self.view_counts.recount()
        cid = self.controller.current_conversation_id
        if cid is not None:
            self._update_header(cid)
        self.conversation_list.viewport().update()

    def _set_connection(self, state: str) -> None:
        if self._connection_state == "locked" and state == "offline":
            return  # sync stops while locked: that is not a lost connection
        self._connection_state = state
        text = connection_label(state)
        since = getattr(self.controller.engine, "offline_since", None)
        if state == "offline" and isinstance(since, (int, float)):
            # Staff should see how stale what they read may be.
            text = self.tr("Offline since %1").replace(
                "%1", time.strftime("%H:%M", time.localtime(since))
            )
        self.connection_status.setText("● " + text)
        self.connection_status.setProperty("state", state)
        self.connection_status.style().unpolish(self.connection_status)
        self.connection_status.style().polish(self.connection_status)

    def _update_title(self, *_: object) -> None:
        unread = self.view_counts.unread_conversations()
        title = self.tr("Praxis Inbox")
        self.setWindowTitle(f"({unread}) {title}" if unread else title)

    def submit(self) -> None:
        """Send what the composer holds (Enter or the Send button)."""
        if self.composer_modes.submit():
            return  # an internal note or a template
        text = self.composer.toPlainText()
        if not text.strip() or not self.composer.isEnabled():
            return
        missing = unfilled(text)
        if missing:
            # Never send a quick reply with a blank: the placeholder must be filled by hand.
            self.statusBar().showMessage(
                self.tr("Fill in %1 before sending.").replace("%1", ", ".join(missing)), 10_000
            )
            return
        cid = self.controller.current_conversation_id
        holder = self._other_holder(cid)
        if cid is not None and holder is not None and cid not in self._taken_over:
            self._ask_take_over(cid, holder)
            return
        self.composer.clear()
        self._drafts.pop(cid or -1, None)
        self.thread_view.follow_next_insert()
        self.controller.send(text)

    def _other_holder(self, cid: int | None) -> str | None:
        """The colleague's name when someone else holds ``cid`` (None when free or mine)."""
        rec = self._record(cid) if cid is not None else None
        if rec is None:
            return None
        holder = rec.claimed_by if rec.claimed_by is not None else rec.assignee_id
        me = self._user.id if self._user is not None else None
        if holder is None or holder == me:
            return None
        return rec.claimed_by_name or self.tr("a colleague")

    def _ask_take_over(self, cid: int, holder: str) -> None:
        """Replying where a colleague holds the conversation asks first (open(), not exec())."""
        box = QMessageBox(self)
        box.setObjectName("takeOverQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Take over this conversation?"))
        box.setText(
            self.tr("%1 is handling this conversation. Reply anyway and take it over?").replace(
                "%1", holder
            )
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        for button in box.buttons():
            button.setAccessibleName(button.text().replace("&", ""))

        def done(result: int) -> None:
            box.deleteLater()
            if (
                result == QMessageBox.StandardButton.Yes
                and self.controller.current_conversation_id == cid
            ):
                self._taken_over.add(cid)
                if self.controller.supports("claim"):
                    self.controller.conversation_command("claim")
                self.submit()

        box.finished.connect(done)
        self.take_over_question = box
        box.open()

    def _on_send_failed(self, text: str, sentence: str) -> None:
        if not self.composer.toPlainText():
            self.composer.setPlainText(text)
        self.statusBar().showMessage(sentence, 10_000)

    # ---- quick replies -----------------------------------------------------------------

    def quick_reply_values(self) -> dict[str, str]:
        """Variable values for the open conversation (patient, clinic; appointment later)."""
        values = dict(self.clinic_values)
        cid = self.controller.current_conversation_id
        rec = self._record(cid) if cid is not None else None
        if rec is not None:
            values.update(patient_values(rec.display_name))
        values.update(self.composer_modes.context_values(cid))
        return values

    def open_quick_replies(self, query: str = "") -> None:
        """Open the palette under the composer (``/`` or Ctrl+/)."""
        if not self.composer.isEnabled() or not self.replies:
            return
        pos = self.composer.mapTo(self, QPoint(0, 0))
        popup = self.palette_popup
        popup.move(pos.x(), max(0, pos.y() - popup.height() - 8))
        popup.open_for(self.quick_reply_values(), query)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.controller.touch()
        if (
            watched is self.saved_list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            self.remove_saved_view(self.saved_list.currentIndex().row())
            return True
        return False

    # ---- saved views -------------------------------------------------------------------

    def ask_save_view(self) -> None:
        """Ask for a name, then keep the current view and label filter (open(), not exec())."""
        dialog = QInputDialog(self)
        dialog.setObjectName("saveViewDialog")
        dialog.setWindowTitle(self.tr("Save view"))
        dialog.setLabelText(self.tr("Name for this view:"))
        label = self.filter_model.label
        extra = self.list_filters.describe()
        dialog.setTextValue(
            view_label(self.filter_model.view_key)
            + (f" · {label}" if label else "")
            + (f" · {extra}" if extra else "")
        )

        def done(result: int) -> None:
            name = dialog.textValue().strip()
            dialog.deleteLater()
            self.save_view_dialog = None
            if result == QDialog.DialogCode.Accepted and name:
                self.save_view(name)

        dialog.finished.connect(done)
        self.save_view_dialog = dialog
        dialog.open()

    def save_view(self, name: str) -> None:
        """Keep the current view and label filter under ``name``."""
        fm = self.filter_model
        self.saved_views.add(SavedView(name, fm.view_key, fm.label, fm.team, fm.assignee))
        self._saved_views_updated()

    def remove_saved_view(self, row: int) -> None:
        self.saved_views.remove(row)
        self._saved_views_updated()

    def _saved_views_updated(self) -> None:
        self._fit_saved_list()
        self.saved_views_changed.emit(self.saved_views.views())

    def _fit_saved_list(self) -> None:
        # As tall as its rows (up to eight; more scroll), hidden while there are none.
        rows = self.saved_views.rowCount()
        self.saved_title.setVisible(rows > 0)
        self.saved_list.setVisible(rows > 0)
        self.saved_list.setFixedHeight(ViewRailDelegate.ROW_HEIGHT * min(rows, 8) + 6)
        self.saved_list.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if rows > 8
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )

    def _on_saved_view_chosen(self, index: _Index) -> None:
        view = index.data(SavedViewRole)
        if isinstance(view, SavedView):
            self.set_view(view.view_key)
            self._refresh_label_choices()
            found = self.label_filter.findData(view.label) if view.label else 0
            self.label_filter.setCurrentIndex(max(0, found))
            self.filter_model.set_label(view.label)
            self.list_filters.select(view.team, view.assignee)
            self._ensure_selection()

    def _on_session_changed(self, state: str) -> None:
        if state == "locked":
            self.show_page("lock")
            self._forget_patient_data()
            self._set_connection("locked")
            if getattr(self.controller.engine, "second_factor_needed", False):
                # Locked by the engine: the relay is back and wants the authenticator code.
                self.lock_page.ask_for_code(
                    self.tr(
                        "The relay is reachable again and asks for your second factor: enter "
                        "your password and the code from your authenticator app."
                    )
                )
        elif state == "unlocked":
            self._connection_state = "offline"
            self._set_connection(str(self.controller.engine.connection))
            self.lock_page.clear()
            self.show_page("inbox")
        else:  # wiped or signed out: this session is over
            self.show_page("lock")
            self._forget_patient_data()
            self.lock_page.unlock_button.setEnabled(False)
            self.lock_page.show_error(
                self.tr("This session has ended. Close the window and sign in again.")
            )

    def _forget_patient_data(self) -> None:
        """While locked no widget keeps a patient's name, number or text (the models are
        cleared by the controller; drafts stay, they are the user's own unsent work)."""
        self.palette_popup.hide()
        self.search_model.set_hits("", [])
        self.search_field.clear()
        self.message_delegate.clear_cache()
        for label in (self.thread_name, self.thread_phone, self.window_label):
            label.clear()
        self._update_panel(None)
        self.right_stack.setCurrentWidget(self.empty_label)

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        # The palette is an overlay, not a popup window: it closes when focus leaves it.
        popup = self.palette_popup
        if (
            popup.isVisible()
            and new is not None
            and not popup.isAncestorOf(new)
            and new is not popup
        ):
            popup.hide()

    def _insert_quick_reply(self, text: str) -> None:
        self.composer.setPlainText(text)
        cursor = self.composer.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.composer.setTextCursor(cursor)
        self.composer.setFocus()
        missing = unfilled(text)
        if missing:
            self.statusBar().showMessage(
                self.tr("Fill in %1 before sending.").replace("%1", ", ".join(missing)), 10_000
            )

    # ---- search ------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.show_page("inbox")
        self.search_field.setFocus()
        self.search_field.selectAll()

    def focus_composer(self) -> None:
        self.show_page("inbox")
        self.composer.setFocus()

    def _on_search_text(self, text: str) -> None:
        if not text.strip():
            self._search_timer.stop()
            self.list_stack.setCurrentWidget(self.conversation_list)
            self.search_model.set_hits("", [])
            return
        self._search_timer.start()

    def _run_search(self) -> None:
        self.controller.search(self.search_field.text().strip())

    def _on_search_finished(self, query: str, hits: object) -> None:
        if query != self.search_field.text().strip():
            return  # the user typed on
        found = [h for h in hits if isinstance(h, SearchHit)] if isinstance(hits, list) else []
        self.search_model.set_hits(query, found)
        self.search_info.setText(self.tr("%n messages found", "", len(found)))
        self.list_stack.setCurrentWidget(self.search_page)

    def _on_search_activated(self, index: _Index) -> None:
        hit = index.data(HitRole)
        if isinstance(hit, SearchHit):
            self.jump_to(hit.message)

    def jump_to(self, message: MessageRecord) -> None:
        """Open ``message``'s conversation around it (a search result)."""
        self.controller.jump_to(message)

    def _on_jumped(self, conversation_id: int, row: int) -> None:
        # Mark it in the list when the current view shows it (selecting does not reload).
        self._select_conversation(conversation_id)
        self.jump_latest.setVisible(self.controller.thread_model.has_newer)
        self.thread_view.scroll_to_row(row)

    def next_unread(self) -> None:
        """Select the next conversation with unread messages in the current view."""
        model = self.filter_model
        count = model.rowCount()
        start = self.conversation_list.currentIndex().row()
        for step in range(1, count + 1):
            row = (start + step) % count
            rec = model.index(row, 0).data(RecordRole)
            if isinstance(rec, ConversationRecord) and rec.unread:
                self.conversation_list.selectionModel().setCurrentIndex(
                    model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                return

    # ---- notifications -----------------------------------------------------------------

    def _on_new_inbound(self, conversation_id: int) -> None:
        if self.isActiveWindow() and conversation_id == self.controller.current_conversation_id:
            return
        rec = self._record(conversation_id)
        if rec is None:
            return
        me = self._user.id if self._user is not None else None
        view = notification_view(rec, me=me, now=self._clock())
        # No patient data in notifications: only the view's name.
        title = self.tr("Praxis Inbox")
        text = self.tr("New message in %1").replace("%1", view_label(view))
        self.notifications.append((title, text))
        del self.notifications[:-20]
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 5000)

    def _on_directory(self, directory: dict[str, object]) -> None:
        self.list_filters.set_directory(directory)
        self._refresh_list_filters()

    def _refresh_list_filters(self) -> None:
        self.list_filters.refresh(list(self.controller.conversation_model.records()))

    def _on_mentioned(self, conversation_id: int) -> None:
        # A colleague @mentioned the user in a note: say so, without any patient data.
        title = self.tr("Praxis Inbox")
        text = self.tr("A colleague mentioned you in an internal note")
        self.notifications.append((title, text))
        del self.notifications[:-20]
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 5000)

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.showNormal()
            self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._tick.stop()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.disconnect(self._on_focus_changed)
            app.removeEventFilter(self)
        self._idle_timer.stop()
        self.palette_popup.hide()
        self.tray.hide()
        self.closed.emit()
        super().closeEvent(event)
