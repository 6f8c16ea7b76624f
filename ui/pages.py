"""Whole-window pages beside the inbox: settings and the lock screen; and the shortcuts
overview dialog."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPen, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.theme import colors


def padlock_pixmap(size: int = 72) -> QPixmap:
    """A padlock in the accent colour (drawn, so it needs no emoji font)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    accent = colors().q("accent")
    s = size / 72
    pen = QPen(accent, 7 * s)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QPainterPath()
    shackle.moveTo(22 * s, 34 * s)
    shackle.lineTo(22 * s, 24 * s)
    shackle.arcTo(QRectF(22 * s, 8 * s, 28 * s, 30 * s), 180, -180)
    shackle.lineTo(50 * s, 34 * s)
    painter.drawPath(shackle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(accent)
    painter.drawRoundedRect(QRectF(12 * s, 32 * s, 48 * s, 34 * s), 7 * s, 7 * s)
    painter.end()
    return pixmap


class SettingsPage(QFrame):
    """Language and theme; changes apply at once (``language_changed`` / ``theme_changed``)."""

    language_changed = Signal(str)
    theme_changed = Signal(str)
    back = Signal()

    LANGUAGES = ("system", "en", "de", "pseudo")
    THEMES = ("light", "dark")

    def __init__(
        self, parent: QWidget | None = None, *, language: str = "system", theme: str = "light"
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPage")
        page = QVBoxLayout(self)
        page.setContentsMargins(48, 36, 48, 36)
        # A readable column rather than fields stretched across a wide window.
        column = QWidget(self)
        column.setFixedWidth(600)
        page.addWidget(column, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        page.addStretch(1)
        outer = QVBoxLayout(column)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(14)
        self.title = QLabel(self)
        self.title.setObjectName("settingsTitle")
        self.hint = QLabel(self)
        self.hint.setObjectName("settingsHint")
        self.hint.setWordWrap(True)
        outer.addWidget(self.title)
        outer.addWidget(self.hint)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(24)
        form.setVerticalSpacing(12)
        self.language_label = QLabel(self)
        self.language = QComboBox(self)
        self.language.setObjectName("languageChoice")
        self.theme_label = QLabel(self)
        self.theme = QComboBox(self)
        self.theme.setObjectName("themeChoice")
        form.addRow(self.language_label, self.language)
        form.addRow(self.theme_label, self.theme)
        self.language_label.setBuddy(self.language)
        self.theme_label.setBuddy(self.theme)
        outer.addLayout(form)
        row = QHBoxLayout()
        self.back_button = QPushButton(self)
        self.back_button.setObjectName("primaryButton")
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        row.addWidget(self.back_button)
        row.addStretch(1)
        outer.addLayout(row)
        self._language = language if language in self.LANGUAGES else "system"
        self._theme = theme if theme in self.THEMES else "light"
        self._filling = False
        self.retranslate()
        self.language.currentIndexChanged.connect(self._on_language)
        self.theme.currentIndexChanged.connect(self._on_theme)
        self.back_button.clicked.connect(self.back)

    def retranslate(self) -> None:
        self._filling = True
        try:
            self.title.setText(self.tr("Settings"))
            self.hint.setText(
                self.tr("Changes apply at once and are kept for the next start on this computer.")
            )
            self.language_label.setText(self.tr("&Language"))
            self.theme_label.setText(self.tr("&Theme"))
            self.language.setAccessibleName(self.tr("Language"))
            self.theme.setAccessibleName(self.tr("Theme"))
            self.back_button.setText(self.tr("Back to the inbox"))
            self.back_button.setAccessibleName(self.tr("Back to the inbox"))
            names = {
                "system": self.tr("Follow the system"),
                "en": "English",
                "de": "Deutsch",
                "pseudo": self.tr("Pseudo (finds clipped text)"),
            }
            self.language.clear()
            for key in self.LANGUAGES:
                self.language.addItem(names[key], key)
            self.language.setCurrentIndex(self.LANGUAGES.index(self._language))
            self.theme.clear()
            self.theme.addItem(self.tr("Light"), "light")
            self.theme.addItem(self.tr("Dark"), "dark")
            self.theme.setCurrentIndex(self.THEMES.index(self._theme))
        finally:
            self._filling = False

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _on_language(self, index: int) -> None:
        key = self.language.itemData(index)
        if self._filling or not isinstance(key, str) or key == self._language:
            return
        self._language = key
        self.language_changed.emit(key)

    def _on_theme(self, index: int) -> None:
        key = self.theme.itemData(index)
        if self._filling or not isinstance(key, str) or key == self._theme:
            return
        self._theme = key
        self.theme_changed.emit(key)


class LockPage(QFrame):
    """Covers the inbox (no patient data visible) until the password is entered again."""

    unlock_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPage")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        box = QVBoxLayout()
        box.setSpacing(12)
        self.icon = QLabel(self)
        self.icon.setObjectName("lockIcon")
        self.icon.setPixmap(padlock_pixmap())
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.title.setObjectName("lockTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel(self)
        self.hint.setObjectName("lockHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setFixedWidth(320)
        # Shown once the relay asks for the second factor (ask_for_code).
        self.code = QLineEdit(self)
        self.code.setFixedWidth(320)
        self.code.setMaxLength(10)
        self.code.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.code.hide()
        self.error = QLabel(self)
        self.error.setObjectName("lockError")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error.setWordWrap(True)
        self.unlock_button = QPushButton(self)
        self.unlock_button.setObjectName("primaryButton")
        self.unlock_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.unlock_button.setFixedWidth(320)
        for w in (self.icon, self.title, self.hint):
            box.addWidget(w)
        box.addWidget(self.password, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(self.code, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(self.error)
        outer.addLayout(box)
        outer.addStretch(3)
        self.retranslate()
        self.unlock_button.clicked.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.code.returnPressed.connect(self._submit)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Praxis Inbox is locked"))
        self.hint.setText(self.tr("Patient data is hidden. Enter your password to continue."))
        self.password.setPlaceholderText(self.tr("Password"))
        self.password.setAccessibleName(self.tr("Password"))
        self.code.setPlaceholderText(self.tr("Code from your authenticator app"))
        self.code.setAccessibleName(self.tr("Authenticator code"))
        self.unlock_button.setText(self.tr("Unlock"))
        self.unlock_button.setAccessibleName(self.tr("Unlock"))
        self.error.setAccessibleName(self.tr("Unlock problem"))
        self.icon.setAccessibleName(self.tr("Locked"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _submit(self) -> None:
        if self.code.isVisible() and not self.code.text().strip():
            self.code.setFocus()
            return
        if self.password.text():
            self.error.clear()
            self.unlock_requested.emit(self.password.text())

    def code_text(self) -> str:
        """The authenticator code typed (empty while the field is hidden)."""
        return self.code.text().strip() if not self.code.isHidden() else ""

    def ask_for_code(self, sentence: str) -> None:
        """The relay wants the second factor: show the code field and say why."""
        self.code.show()
        self.code.clear()
        self.error.setText(sentence)
        if self.password.text():
            self.code.setFocus()
        else:
            self.password.setFocus()

    def show_error(self, sentence: str) -> None:
        self.error.setText(sentence)
        self.password.selectAll()
        self.password.setFocus()

    def clear(self) -> None:
        self.password.clear()
        self.code.clear()
        self.code.hide()
        self.error.clear()


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut in a table (shown with open(), never exec())."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.model = QStandardItemModel(0, 2, self)
        layout = QVBoxLayout(self)
        self.table = QTableView(self)
        self.table.setObjectName("shortcutsTable")
        self.table.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, 150)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        layout.addWidget(buttons)
        self.resize(560, 580)

    def set_rows(self, rows: list[tuple[str, str, bool]]) -> None:
        """(what it does, key, available) per shortcut."""
        self.model.clear()
        self.model.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Shortcut")])
        for label, keys, enabled in rows:
            items = [QStandardItem(label), QStandardItem(keys)]
            for item in items:
                item.setEnabled(enabled)
                item.setEditable(False)
            self.model.appendRow(items)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 150)
