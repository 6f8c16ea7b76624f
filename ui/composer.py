"""The message composer and its modes.

- ``ComposerEdit``: Enter sends, Shift+Enter starts a new line, ``/`` opens quick replies;
  in note mode ``@`` completes a colleague's name.
- ``ComposerModes``: reply (free text inside the 24-hour window), template mode outside it
  (the fitting approved template, its parameters prefilled), internal note mode with
  @mentions, and "Send later…" (inside the window only).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QDateTime,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inbox_app.domain.conversations import SERVICE_WINDOW_SECONDS
from ui.compose_actions import ComposeActions
from ui.mentions import ColleagueModel, UsernameRole, mention_prefix, parse_colleagues
from ui.templates import TemplatePanel, parse_templates

# A scheduled message needs a little lead (the relay refuses the past) and must leave
# before the window closes.
SCHEDULE_MIN_LEAD = 60.0
SCHEDULE_DEFAULT_LEAD = 3600.0
# The relay syncs templates at its start; a client that asked first tries again this often.
TEMPLATE_RELOAD_SECONDS = 30.0


class ComposerEdit(QPlainTextEdit):
    """A plain-text editor that emits ``submitted`` on Enter."""

    submitted = Signal()
    # "/" typed into an empty composer: open the quick-reply palette (with this query).
    quick_reply_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.note_mode = False
        self.colleagues = ColleagueModel(self)
        self.matches = QSortFilterProxyModel(self)
        self.matches.setSourceModel(self.colleagues)
        self.matches.setFilterRole(Qt.ItemDataRole.EditRole)
        self.matches.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        # A child overlay, not a popup window: no keyboard grab (offscreen cannot), and the
        # focus stays in the composer while Up/Down/Enter pick a colleague.
        self.mention_list: QListView | None = None

    def set_note_mode(self, on: bool) -> None:
        self.note_mode = on
        self.setProperty("mode", "note" if on else "reply")
        self.style().unpolish(self)
        self.style().polish(self)
        if not on:
            self.hide_mentions()

    def _mention_list(self) -> QListView:
        if self.mention_list is None:
            view = QListView(self.window())
            view.setObjectName("mentionList")
            view.setAccessibleName(self.tr("Mention a colleague"))
            view.setModel(self.matches)
            view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            view.setUniformItemSizes(True)
            view.clicked.connect(self._insert_mention)
            view.hide()
            self.mention_list = view
        return self.mention_list

    def mentions_visible(self) -> bool:
        return self.mention_list is not None and self.mention_list.isVisible()

    def hide_mentions(self) -> None:
        if self.mention_list is not None:
            self.mention_list.hide()

    def mention_prefix(self) -> str | None:
        """The partial @name before the cursor (note mode only)."""
        if not self.note_mode:
            return None
        cursor = self.textCursor()
        block = cursor.block().text()[: cursor.positionInBlock()]
        return mention_prefix(block)

    def update_completion(self) -> None:
        """Show (or hide) colleague names matching the @name being typed."""
        prefix = self.mention_prefix()
        if prefix is None or not self.colleagues.rowCount():
            self.hide_mentions()
            return
        self.matches.setFilterFixedString(prefix)
        if self.matches.rowCount() == 0:
            self.hide_mentions()
            return
        view = self._mention_list()
        view.setCurrentIndex(self.matches.index(0, 0))
        rows = min(self.matches.rowCount(), 6)
        height = rows * max(view.sizeHintForRow(0), 26) + 8
        width = max(240, view.sizeHintForColumn(0) + 24)
        anchor = self.mapTo(self.window(), self.cursorRect().topLeft())
        view.setGeometry(anchor.x(), max(0, anchor.y() - height - 4), width, height)
        view.show()
        view.raise_()

    def current_mention(self) -> str | None:
        if not self.mentions_visible() or self.mention_list is None:
            return None
        username = self.mention_list.currentIndex().data(UsernameRole)
        return username if isinstance(username, str) else None

    def insert_mention(self, username: str) -> None:
        """Replace the typed @prefix with ``@username `` (what the relay recognises)."""
        prefix = self.mention_prefix() or ""
        cursor = self.textCursor()
        for _ in range(len(prefix)):
            cursor.deletePreviousChar()
        cursor.insertText(username + " ")
        self.setTextCursor(cursor)
        self.hide_mentions()

    def _insert_mention(self, index: QModelIndex) -> None:
        username = index.data(UsernameRole)
        if isinstance(username, str):
            self.insert_mention(username)
            self.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if self.mentions_visible() and self.mention_list is not None:
            view = self.mention_list
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = view.currentIndex().row() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.matches.rowCount():
                    view.setCurrentIndex(self.matches.index(row, 0))
                event.accept()
                return
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                username = self.current_mention()
                if username is not None:
                    self.insert_mention(username)
                event.accept()
                return
            if key == Qt.Key.Key_Escape:
                self.hide_mentions()
                event.accept()
                return
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            event.accept()
            self.submitted.emit()
            return
        if event.text() == "/" and not self.toPlainText() and not self.note_mode:
            event.accept()
            self.quick_reply_requested.emit("")
            return
        if enter:
            # Shift+Enter: a plain newline (QPlainTextEdit would insert a line separator).
            event.accept()
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)
        if self.note_mode:
            self.update_completion()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.hide_mentions()
        super().focusOutEvent(event)


class ScheduleDialog(QDialog):
    """Pick when a message leaves (between a minute from now and the window's end)."""

    def __init__(self, parent: QWidget | None, *, now: float, window_end: float | None) -> None:
        super().__init__(parent)
        self.setObjectName("scheduleDialog")
        self.setWindowTitle(self.tr("Send later"))
        layout = QVBoxLayout(self)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.when = QDateTimeEdit(self)
        self.when.setObjectName("scheduleTime")
        self.when.setAccessibleName(self.tr("Send at"))
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("dd.MM.yyyy HH:mm")
        earliest = now + SCHEDULE_MIN_LEAD
        self.when.setMinimumDateTime(QDateTime.fromSecsSinceEpoch(int(earliest) + 1))
        default = now + SCHEDULE_DEFAULT_LEAD
        if window_end is not None:
            self.when.setMaximumDateTime(QDateTime.fromSecsSinceEpoch(int(window_end) - 60))
            default = min(default, window_end - 120)
            self.info.setText(
                self.tr(
                    "WhatsApp accepts free text until %1, when the 24-hour window closes."
                ).replace("%1", datetime.fromtimestamp(window_end).strftime("%d.%m. %H:%M"))
            )
        self.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(max(default, earliest + 1))))
        layout.addWidget(self.when)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Schedule"))
        for button in buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def send_at(self) -> float:
        return float(self.when.dateTime().toSecsSinceEpoch())


class ComposerModes(QObject):
    """Reply, template and note modes plus "Send later…" around one ``ComposerEdit``.

    The window keeps sending free text itself; ``submit`` takes over for notes and
    templates (returns True when it handled the Enter/Send).
    """

    def __init__(
        self,
        composer: ComposerEdit,
        send_button: QPushButton,
        bar_layout: QBoxLayout,
        row_layout: QBoxLayout,
        actions: ComposeActions,
        *,
        show_message: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        window_note: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        # The window's "window closed" line; a note is not bound by the window, so it hides.
        self._window_note = window_note
        self.composer = composer
        self.send_button = send_button
        self.actions = actions
        self._show = show_message
        self._clock = clock
        self._window_open = False
        self._window_end: float | None = None
        self._has_conversation = False
        self._context: dict[int, dict[str, str]] = {}
        self._base_values: dict[str, str] = {}
        self.schedule_dialog: ScheduleDialog | None = None
        self._last_reload = -TEMPLATE_RELOAD_SECONDS
        host = composer.parentWidget()
        self.note_toggle = QPushButton(host)
        self.note_toggle.setObjectName("noteToggle")
        self.note_toggle.setCheckable(True)
        self.note_toggle.setCursor(Qt.CursorShape.PointingHandCursor)
        self.note_toggle.setAutoDefault(False)
        self.later_button = QPushButton(host)
        self.later_button.setObjectName("sendLaterButton")
        self.later_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.later_button.setAutoDefault(False)
        row_layout.insertWidget(row_layout.indexOf(composer), self.note_toggle, 0)
        row_layout.addWidget(self.later_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.template_panel = TemplatePanel(host)
        self.template_panel.hide()
        bar_layout.insertWidget(1, self.template_panel)
        self.note_toggle.toggled.connect(self._on_note_toggled)
        self.later_button.clicked.connect(self.ask_schedule)
        self.template_panel.changed.connect(self._sync_buttons)
        actions.templates_loaded.connect(self.set_templates)
        actions.directory_loaded.connect(self.set_directory)
        actions.context_loaded.connect(self.set_context)
        self.retranslate()

    # -- inputs ------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.note_toggle.setText(self.tr("Note"))
        self.note_toggle.setAccessibleName(self.tr("Internal note mode"))
        self.note_toggle.setToolTip(
            self.tr("Write an internal note only colleagues see (Ctrl+Shift+N); @ mentions")
        )
        self.later_button.setText(self.tr("Later…"))
        self.later_button.setAccessibleName(self.tr("Send later"))
        self.later_button.setToolTip(self.tr("Schedule this message (inside the 24-hour window)"))
        self.template_panel.retranslate()
        self._apply()

    def set_templates(self, entries: list[Any]) -> None:
        self.template_panel.set_templates(parse_templates(entries))
        self._sync_buttons()

    def set_directory(self, directory: Mapping[str, Any]) -> None:
        users = directory.get("users") or []
        self.composer.colleagues.set_colleagues(parse_colleagues(users, me=self.actions.user_id))

    def set_base_values(self, values: Mapping[str, str]) -> None:
        """Values known without the register (clinic, the name the conversation shows)."""
        self._base_values = dict(values)
        self._refresh_values()

    def set_context(self, conversation_id: int, values: Mapping[str, str]) -> None:
        self._context[conversation_id] = dict(values)
        self._refresh_values()

    def context_values(self, conversation_id: int | None) -> dict[str, str]:
        return dict(self._context.get(conversation_id, {})) if conversation_id is not None else {}

    def _refresh_values(self) -> None:
        cid = self.actions.controller.current_conversation_id
        self.template_panel.set_values({**self._base_values, **self.context_values(cid)})

    # -- mode --------------------------------------------------------------------------

    @property
    def note_mode(self) -> bool:
        return self.note_toggle.isChecked()

    @property
    def template_mode(self) -> bool:
        return not self._window_open and not self.note_mode and self._has_conversation

    def set_window(self, *, open_: bool, window_end: float | None, has_conversation: bool) -> None:
        """The open conversation's 24-hour window (the window calls this on every update)."""
        self._window_open = open_
        self._window_end = window_end
        self._has_conversation = has_conversation
        self._apply()

    def toggle_note(self) -> None:
        if self.note_toggle.isEnabled():
            self.note_toggle.toggle()
            self.composer.setFocus()

    def _on_note_toggled(self, _: bool) -> None:
        self._apply()

    def _apply(self) -> None:
        note = self.note_mode
        self.note_toggle.setEnabled(self._has_conversation and self.actions.supports("add_note"))
        if not self.note_toggle.isEnabled() and note:
            self.note_toggle.setChecked(False)  # re-enters _apply
            return
        self.composer.set_note_mode(note)
        self.composer.setEnabled(self._window_open or note)
        self.template_panel.setVisible(self.template_mode)
        if self.template_mode and not self.template_panel.model.rowCount():
            # None known yet (the relay may still be syncing them): ask again, not too often.
            if time.monotonic() - self._last_reload >= TEMPLATE_RELOAD_SECONDS:
                self._last_reload = time.monotonic()
                self.actions.load()
        if self._window_note is not None:
            self._window_note.setVisible(
                not note and not self._window_open and self._has_conversation
            )
        if note:
            self.composer.setPlaceholderText(
                self.tr("Internal note: only colleagues see it. Type @ to mention someone.")
            )
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        template_ready = self.template_mode and self.template_panel.current() is not None
        self.send_button.setEnabled(self._window_open or self.note_mode or template_ready)
        self.send_button.setText(
            self.tr("Add note")
            if self.note_mode
            else self.tr("Send template")
            if self.template_mode
            # The window's own string (already in the catalogues).
            else QCoreApplication.translate("MainWindow", "Send")
        )
        self.later_button.setEnabled(
            self._window_open and not self.note_mode and self.actions.supports("schedule_text")
        )

    # -- actions -----------------------------------------------------------------------

    def submit(self) -> bool:
        """Post a note or send the template; False leaves a plain reply to the window."""
        if self.note_mode:
            text = self.composer.toPlainText()
            if text.strip():
                self.composer.clear()
                self.actions.add_note(text)
            return True
        if not self.template_mode:
            return False
        template = self.template_panel.current()
        if template is None:
            self._show(self.tr("No approved template is available yet."))
            return True
        missing = self.template_panel.missing()
        if missing:
            # Never send a template with a blank: WhatsApp would refuse it, or worse.
            self._show(
                QCoreApplication.translate("MainWindow", "Fill in %1 before sending.").replace(
                    "%1", ", ".join(self.template_panel.slot_label(s) for s in missing)
                )
            )
            return True
        body, header, buttons = template.send_arguments(self.template_panel.slot_values())
        self.actions.send_template(template.name, template.language, body, header, buttons)
        return True

    def window_end(self) -> float | None:
        return self._window_end

    def ask_schedule(self) -> None:
        """ "Send later…": pick a time inside the window (open(), never exec())."""
        text = self.composer.toPlainText()
        if not text.strip():
            self._show(self.tr("Write the message first, then choose when it is sent."))
            return
        if not self._window_open:
            self._show(self.tr("The 24-hour window is closed: nothing can be scheduled."))
            return
        dialog = ScheduleDialog(
            self.composer.window(), now=self._clock(), window_end=self._window_end
        )

        def done(result: int) -> None:
            dialog.deleteLater()
            self.schedule_dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.schedule(text, dialog.send_at())

        dialog.finished.connect(done)
        self.schedule_dialog = dialog
        dialog.open()

    def schedule(self, text: str, send_at: float) -> bool:
        """Hand ``text`` to the relay for ``send_at``; refuses a time past the window."""
        end = self._window_end
        if end is not None and send_at >= end:
            self._show(
                self.tr("The 24-hour window closes at %1: choose an earlier time.").replace(
                    "%1", datetime.fromtimestamp(end).strftime("%H:%M")
                )
            )
            return False
        if send_at < self._clock() + 1:
            self._show(self.tr("That time has passed: choose a later one."))
            return False
        if self.composer.toPlainText() == text:
            self.composer.clear()
        self.actions.schedule(text, send_at)
        return True


def window_end_of(last_inbound_at: float | None) -> float | None:
    """When the 24-hour window of a conversation closes (None: never opened)."""
    return None if last_inbound_at is None else last_inbound_at + SERVICE_WINDOW_SECONDS
