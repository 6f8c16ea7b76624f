"""The administrator's audit window: the relay's audit trail with filters (user, patient,
action, time), whether its hash chain verifies, and a CSV export (itself audited).

Nothing is cached on the desktop: every filter asks the relay (``AuditSession``). Where the
desktop is signed in as someone else, the window asks for an administrator's sign-in.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cmp_to_key
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCollator,
    QCoreApplication,
    QDateTime,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inbox_app.client.audit_session import AuditFilters, AuditSession, ChainCheck
from ui.controller import asyncSlot
from ui.locale_dates import format_date, short_date_format, ui_locale

log = logging.getLogger("inbox.ui.audit")

_Index = QModelIndex | QPersistentModelIndex
OK_GREEN = QColor("#1e8e3e")
DEMO_ADMIN = "praxis-admin"
DEMO_ADMIN_PASSWORD = "demo-admin-password"  # noqa: S105 (a throwaway demo account)
BROKEN_RED = QColor("#d93025")
# The raw action code of a row (the action column shows a translated label).
CODE_ROLE = Qt.ItemDataRole.UserRole


def _local_time(iso: str) -> str:
    """Local time, the date in the UI language's form (24-hour clock to the second: an
    audit trail is read for order and exact moments)."""
    try:
        moment = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    loc = ui_locale()
    return f"{format_date(moment.date(), loc)} {moment:%H:%M:%S}"


def action_label(code: str) -> str:
    """The staff-readable name of an audit action code (``sign_in`` → "Signed in"); a code
    this desktop does not know yet (a newer relay) shows as it is."""
    labels = {
        # Sign-in and accounts (audit.py Action).
        "sign_in": QCoreApplication.translate("AuditActions", "Signed in"),
        "sign_in_failed": QCoreApplication.translate("AuditActions", "Sign-in failed"),
        "sign_out": QCoreApplication.translate("AuditActions", "Signed out"),
        "user_created": QCoreApplication.translate("AuditActions", "User created"),
        "user_disabled": QCoreApplication.translate("AuditActions", "User disabled"),
        "role_changed": QCoreApplication.translate("AuditActions", "Role changed"),
        "team_created": QCoreApplication.translate("AuditActions", "Team created"),
        "team_member": QCoreApplication.translate("AuditActions", "Team membership changed"),
        "access_denied": QCoreApplication.translate("AuditActions", "Access denied"),
        "wipe_ordered": QCoreApplication.translate("AuditActions", "Device wipe ordered"),
        "wipe_cleared": QCoreApplication.translate("AuditActions", "Device wipe lifted"),
        "totp_enrol_started": QCoreApplication.translate(
            "AuditActions", "Two-factor setup started"
        ),
        "totp_enabled": QCoreApplication.translate("AuditActions", "Two-factor sign-in turned on"),
        "totp_disabled": QCoreApplication.translate(
            "AuditActions", "Two-factor sign-in turned off"
        ),
        # Reading and working on conversations.
        "conversation_opened": QCoreApplication.translate("AuditActions", "Conversation opened"),
        "search": QCoreApplication.translate("AuditActions", "Search"),
        "export": QCoreApplication.translate("AuditActions", "Export"),
        "send": QCoreApplication.translate("AuditActions", "Message sent"),
        "claim": QCoreApplication.translate("AuditActions", "Conversation claimed"),
        "release": QCoreApplication.translate("AuditActions", "Conversation released"),
        "takeover": QCoreApplication.translate("AuditActions", "Conversation taken over"),
        "assign": QCoreApplication.translate("AuditActions", "Conversation assigned"),
        "status": QCoreApplication.translate("AuditActions", "Status changed"),
        "labels": QCoreApplication.translate("AuditActions", "Labels changed"),
        "note": QCoreApplication.translate("AuditActions", "Internal note added"),
        "consent_recorded": QCoreApplication.translate("AuditActions", "Consent recorded"),
        # Patients and appointments.
        "appointment_booked": QCoreApplication.translate("AuditActions", "Appointment booked"),
        "appointment_moved": QCoreApplication.translate("AuditActions", "Appointment moved"),
        "appointment_cancelled": QCoreApplication.translate(
            "AuditActions", "Appointment cancelled"
        ),
        "patient_created": QCoreApplication.translate("AuditActions", "Patient created"),
        "patient_linked": QCoreApplication.translate("AuditActions", "Patient linked to number"),
        # Results.
        "result_sent": QCoreApplication.translate("AuditActions", "Result sent"),
        "result_override": QCoreApplication.translate(
            "AuditActions", "Result sent despite identity warning"
        ),
        "result_viewed": QCoreApplication.translate("AuditActions", "Result viewed"),
        "result_downloaded": QCoreApplication.translate("AuditActions", "Result downloaded"),
        "result_page_failed": QCoreApplication.translate(
            "AuditActions", "Result page: wrong answer"
        ),
        "result_page_locked": QCoreApplication.translate("AuditActions", "Result page locked"),
        # Retention and data-protection rights.
        "retention_purge": QCoreApplication.translate(
            "AuditActions", "Old data deleted (retention)"
        ),
        "legal_hold": QCoreApplication.translate("AuditActions", "Legal hold placed"),
        "legal_hold_released": QCoreApplication.translate("AuditActions", "Legal hold released"),
        "patient_exported": QCoreApplication.translate("AuditActions", "Patient data exported"),
        "patient_erased": QCoreApplication.translate("AuditActions", "Patient data erased"),
        # Escalations and calls (escalations.py EscalationAction).
        "escalation_created": QCoreApplication.translate("AuditActions", "Escalation created"),
        "escalation_acknowledged": QCoreApplication.translate(
            "AuditActions", "Escalation acknowledged"
        ),
        "escalation_reassigned": QCoreApplication.translate(
            "AuditActions", "Escalation reassigned"
        ),
        "escalation_resolved": QCoreApplication.translate("AuditActions", "Escalation resolved"),
        "escalation_red_flag": QCoreApplication.translate(
            "AuditActions", "Possible emergency detected"
        ),
        "escalation_closed_day": QCoreApplication.translate(
            "AuditActions", "Appointment on a closed day flagged"
        ),
        "call_requested": QCoreApplication.translate("AuditActions", "Call requested"),
        "call_outcome": QCoreApplication.translate("AuditActions", "Call outcome recorded"),
        # The chat bot (bots/handover.py).
        "bot_handover": QCoreApplication.translate("AuditActions", "Bot handed over to staff"),
        "bot_booking": QCoreApplication.translate("AuditActions", "Appointment booked by chat bot"),
        "bot_stopped": QCoreApplication.translate("AuditActions", "Bot stopped"),
    }
    return labels.get(code, code)


def _detail_text(detail: object) -> str:
    if not isinstance(detail, dict) or not detail:
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(detail.items()))


class AuditTableModel(QAbstractTableModel):
    """Audit rows, newest first; ``append`` adds a page at the end."""

    COLUMNS = ("at", "username", "action", "conversation_id", "detail", "address")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        labels = (
            self.tr("Time"),
            self.tr("User"),
            self.tr("Action"),
            self.tr("Conversation"),
            self.tr("Details"),
            self.tr("Address"),
        )
        return labels[section] if 0 <= section < len(labels) else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        key = self.COLUMNS[index.column()]
        if key == "action":
            # Staff read the label; the raw code stays at hand (tooltip, CODE_ROLE) because
            # exports, filters and the relay's documentation speak in codes.
            code = "" if row.get(key) is None else str(row[key])
            if role == Qt.ItemDataRole.DisplayRole:
                return action_label(code)
            if role in (Qt.ItemDataRole.ToolTipRole, CODE_ROLE):
                return code
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = row.get(key)
            if key == "at":
                return _local_time(str(value))
            if key == "detail":
                return _detail_text(value)
            if key == "username":
                return value or self.tr("(relay)")
            return "" if value is None else str(value)
        return None

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def relabel(self) -> None:
        """The language changed: headers and action labels are asked for again."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.COLUMNS) - 1)
        if self._rows:
            column = self.COLUMNS.index("action")
            self.dataChanged.emit(
                self.index(0, column),
                self.index(len(self._rows) - 1, column),
                [Qt.ItemDataRole.DisplayRole],
            )

    def replace(self, rows: list[dict[str, Any]]) -> None:
        # A new filter is a new list: one reset, not one per row.
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()


class AuditController(QObject):
    """Talks to the relay for the window (``*_now`` forms are awaitable, for tests)."""

    signed_in = Signal(str)  # the admin's display name
    loaded = Signal(bool, object)  # (more pages?, known action names)
    checked = Signal(object)  # ChainCheck
    exported = Signal(str)  # the file written
    error = Signal(str)

    def __init__(self, session: AuditSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = AuditTableModel(self)
        self.filters = AuditFilters()
        self._more = False

    async def _guard(self, what: str, coro: Any) -> Any:
        try:
            return await coro
        except Exception as exc:
            log.info("audit %s failed: %s", what, type(exc).__name__)
            message = getattr(exc, "message", None)
            self.error.emit(
                message
                if isinstance(message, str) and message
                else self.tr("The relay could not be asked. Please try again.")
            )
            return None

    @asyncSlot(str, str, str)
    async def sign_in(self, username: str, password: str, code: str) -> None:
        await self.sign_in_now(username, password, code)

    async def sign_in_now(self, username: str, password: str, code: str = "") -> None:
        user = await self._guard("sign-in", self.session.login(username, password, code or None))
        if user is not None:
            self.signed_in.emit(user.display_name)
            await self.reload_now()

    @asyncSlot()
    async def reload(self) -> None:
        await self.reload_now()

    async def reload_now(self) -> None:
        """The first page under the current filters, and the chain check."""
        page = await self._guard("list", self.session.page(self.filters))
        if page is not None:
            self.model.replace(page.entries)
            self._more = page.more
            self.loaded.emit(page.more, page.actions)
        check = await self._guard("verify", self.session.verify())
        if isinstance(check, ChainCheck):
            self.checked.emit(check)

    @asyncSlot()
    async def load_more(self) -> None:
        await self.load_more_now()

    async def load_more_now(self) -> None:
        rows = self.model.rows()
        if not self._more or not rows:
            return
        page = await self._guard(
            "list", self.session.page(self.filters, before=int(rows[-1]["id"]))
        )
        if page is not None:
            self.model.append(page.entries)
            self._more = page.more
            self.loaded.emit(page.more, page.actions)

    @asyncSlot(str)
    async def export(self, path: str) -> None:
        await self.export_now(path)

    async def export_now(self, path: str) -> None:
        text = await self._guard("export", self.session.export(self.filters))
        if not isinstance(text, str):
            return
        target = Path(path)
        try:
            # Atomically: a half-written export is never left behind under the chosen name.
            fd, tmp = tempfile.mkstemp(prefix=".audit-", suffix=".csv", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.replace(tmp, target)
        except OSError as exc:
            log.info("audit export not written: %s", type(exc).__name__)
            self.error.emit(self.tr("The file could not be written: %1").replace("%1", str(exc)))
            return
        self.exported.emit(str(target))

    @asyncSlot()
    async def close_session(self) -> None:
        await self.session.close()

    @asyncSlot(object)
    async def demo_sign_in(self, stack: Any) -> None:
        """The demo only: a synthetic administrator, signed in for the window."""
        try:
            await stack.add_user(
                DEMO_ADMIN, DEMO_ADMIN_PASSWORD, role="admin", display_name="Praxis-Admin"
            )
        except Exception as exc:
            log.info("demo administrator not created: %s", type(exc).__name__)
        await self.sign_in_now(DEMO_ADMIN, DEMO_ADMIN_PASSWORD)


class AuditWindow(QWidget):
    """A top-level window (the audit trail is the administrator's, not the inbox's)."""

    def __init__(
        self,
        session: AuditSession,
        *,
        choose_file: Callable[[QWidget], None] | None = None,
        top_level: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window if top_level else Qt.WindowType.Widget)
        self.setObjectName("auditWindow")
        self.resize(1100, 700)
        self.controller = AuditController(session, self)
        self._choose_file = choose_file
        self.file_dialog: QFileDialog | None = None
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.back_button = QPushButton(self)
        self.back_button.setVisible(not top_level)  # as a page of the main window
        head.addWidget(self.back_button)
        self.title = QLabel(self)
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.35)
        title_font.setBold(True)
        self.title.setFont(title_font)
        head.addWidget(self.title, 1)
        layout.addLayout(head)

        self.sign_in_box = QFrame(self)
        sl = QHBoxLayout(self.sign_in_box)
        self.sign_in_hint = QLabel(self.sign_in_box)
        sl.addWidget(self.sign_in_hint, 1)
        self.username = QLineEdit(self.sign_in_box)
        self.password = QLineEdit(self.sign_in_box)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit(self.sign_in_box)
        self.code.setMaximumWidth(90)
        self.sign_in_button = QPushButton(self.sign_in_box)
        for w in (self.username, self.password, self.code, self.sign_in_button):
            sl.addWidget(w)
        layout.addWidget(self.sign_in_box)

        filters = QGridLayout()
        self.user_filter = QLineEdit(self)
        self.patient_filter = QLineEdit(self)
        self.action_filter = QComboBox(self)
        self.since_on = QCheckBox(self)
        self.since = QDateTimeEdit(self)
        self.until_on = QCheckBox(self)
        self.until = QDateTimeEdit(self)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDateTime(QDateTime.currentDateTime())
        self.since.setDateTime(QDateTime.currentDateTime().addDays(-7))
        self.apply_button = QPushButton(self)
        self.user_label, self.patient_label, self.action_label = (
            QLabel(self),
            QLabel(self),
            QLabel(self),
        )
        filters.addWidget(self.user_label, 0, 0)
        filters.addWidget(self.user_filter, 0, 1)
        filters.addWidget(self.patient_label, 0, 2)
        filters.addWidget(self.patient_filter, 0, 3)
        filters.addWidget(self.action_label, 0, 4)
        filters.addWidget(self.action_filter, 0, 5)
        filters.addWidget(self.since_on, 1, 0)
        filters.addWidget(self.since, 1, 1)
        filters.addWidget(self.until_on, 1, 2)
        filters.addWidget(self.until, 1, 3)
        filters.addWidget(self.apply_button, 1, 5)
        layout.addLayout(filters)

        status = QHBoxLayout()
        self.chain = QLabel(self)
        self.chain.setObjectName("auditChain")
        status.addWidget(self.chain, 1)
        self.more_button = QPushButton(self)
        self.export_button = QPushButton(self)
        status.addWidget(self.more_button)
        status.addWidget(self.export_button)
        layout.addLayout(status)

        self.table = QTableView(self)
        self.table.setObjectName("auditTable")
        self.table.setModel(self.controller.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        c = self.controller
        self.sign_in_button.clicked.connect(self._sign_in)
        self.password.returnPressed.connect(self._sign_in)
        self.apply_button.clicked.connect(self.apply_filters)
        self.more_button.clicked.connect(c.load_more)
        self.export_button.clicked.connect(self.ask_export)
        c.signed_in.connect(self._on_signed_in)
        c.loaded.connect(self._on_loaded)
        c.checked.connect(self._on_checked)
        c.error.connect(self.message.setText)
        c.exported.connect(
            lambda path: self.message.setText(self.tr("Exported to %1").replace("%1", path))
        )
        self.retranslate()
        self._set_signed_in(session.signed_in)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Audit trail — Praxis Inbox"))
        self.title.setText(self.tr("Audit trail"))
        self.back_button.setText(self.tr("← Inbox"))
        self.sign_in_hint.setText(self.tr("Sign in as an administrator to see the audit trail."))
        self.username.setPlaceholderText(self.tr("Username"))
        self.password.setPlaceholderText(self.tr("Password"))
        self.code.setPlaceholderText(self.tr("Code"))
        self.sign_in_button.setText(self.tr("Sign in"))
        self.user_label.setText(self.tr("User"))
        self.patient_label.setText(self.tr("Patient"))
        self.action_label.setText(self.tr("Action"))
        self.user_filter.setPlaceholderText(self.tr("username"))
        self.patient_filter.setPlaceholderText(self.tr("name, number or record number"))
        self.since_on.setText(self.tr("From"))
        self.until_on.setText(self.tr("To"))
        self.apply_button.setText(self.tr("Apply filters"))
        self.more_button.setText(self.tr("Load more"))
        self.export_button.setText(self.tr("Export CSV…"))
        self.action_filter.setAccessibleName(self.tr("Action"))
        for edit in (self.since, self.until):  # dates in the UI language's form
            edit.setDisplayFormat(short_date_format(ui_locale()) + " HH:mm")
        self._fill_actions([])
        self.controller.model.relabel()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _fill_actions(self, codes: Iterable[object]) -> None:
        """The action filter: labels sorted as the language sorts them, each filtering by
        its code (shown as the tooltip); the current choice is kept."""
        combo = self.action_filter
        current = combo.currentData() or ""
        known = {str(combo.itemData(i)) for i in range(combo.count())} | {str(c) for c in codes}
        known.discard("")
        collator = QCollator(ui_locale())

        def by_label(a: str, b: str) -> int:
            return collator.compare(action_label(a), action_label(b))

        ordered = sorted(known, key=cmp_to_key(by_label))
        combo.blockSignals(True)  # rebuilding is not a choice by the user
        combo.clear()
        combo.addItem(self.tr("All actions"), "")
        for code in ordered:
            combo.addItem(action_label(code), code)
            combo.setItemData(combo.count() - 1, code, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def _set_signed_in(self, signed_in: bool) -> None:
        self.sign_in_box.setVisible(not signed_in)
        for w in (self.apply_button, self.export_button):
            w.setEnabled(signed_in)
        self.more_button.setEnabled(False)
        if not signed_in:
            self.chain.setText(self.tr("Not signed in"))

    def start(self) -> None:
        if self.controller.session.signed_in:
            self.controller.reload()

    def _sign_in(self) -> None:
        self.controller.sign_in(
            self.username.text().strip(), self.password.text(), self.code.text()
        )
        self.password.clear()

    def _on_signed_in(self, name: str) -> None:
        self._set_signed_in(True)
        self.message.setText(self.tr("Signed in as %1.").replace("%1", name))

    def current_filters(self) -> AuditFilters:
        def iso(edit: QDateTimeEdit) -> str:
            ts = edit.dateTime().toSecsSinceEpoch()
            return datetime.fromtimestamp(ts, UTC).isoformat()

        return AuditFilters(
            user=self.user_filter.text() or None,
            patient=self.patient_filter.text() or None,
            action=self.action_filter.currentData() or None,
            since=iso(self.since) if self.since_on.isChecked() else None,
            until=iso(self.until) if self.until_on.isChecked() else None,
        )

    def apply_filters(self) -> None:
        self.controller.filters = self.current_filters()
        self.controller.reload()

    def _on_loaded(self, more: bool, actions: object) -> None:
        self.more_button.setEnabled(bool(more))
        if isinstance(actions, list):
            self._fill_actions(actions)
        count = self.controller.model.rowCount()
        self.message.setText(
            self.tr("%1 entries shown").replace("%1", str(count))
            + (" · " + self.tr("more available") if more else "")
        )

    def _on_checked(self, check: object) -> None:
        if not isinstance(check, ChainCheck):
            return
        if check.ok:
            self.chain.setText(self.tr("✔ Hash chain verified: the audit trail is intact."))
            self.chain.setStyleSheet(f"color: {OK_GREEN.name()}; font-weight: bold;")
            self.chain.setToolTip("")
        else:
            self.chain.setText(
                self.tr(
                    "✘ Hash chain broken: %1 problem(s); rows were altered or deleted."
                ).replace("%1", str(len(check.problems)))
            )
            self.chain.setStyleSheet(f"color: {BROKEN_RED.name()}; font-weight: bold;")
            self.chain.setToolTip("\n".join(check.problems[:50]))

    def ask_export(self) -> None:
        # What is exported is what the filters in the window say now.
        self.controller.filters = self.current_filters()
        if self._choose_file is not None:
            self._choose_file(self)
            return
        dialog = QFileDialog(self, self.tr("Export audit trail"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(self.tr("CSV files (*.csv)"))
        dialog.setDefaultSuffix("csv")
        dialog.selectFile("audit.csv")
        dialog.fileSelected.connect(self.controller.export)
        self.file_dialog = dialog
        dialog.open()

    def closeEvent(self, event: Any) -> None:
        session = self.controller.session
        if session.owned and session.signed_in:  # an own sign-in ends with the window
            self.controller.close_session()
        super().closeEvent(event)


def open_for(window: Any, session: AuditSession | None = None) -> AuditWindow:
    """Open (or raise) the audit window of a main window: through the signed-in admin's
    session, or a fresh one that asks for an administrator's sign-in."""
    existing = getattr(window, "audit_window", None)
    if isinstance(existing, AuditWindow):
        existing.show()
        existing.raise_()
        return existing
    if session is None:
        session = _session_for(window)
    audit_window = AuditWindow(session, parent=window)
    window.audit_window = audit_window
    audit_window.show()
    audit_window.start()
    return audit_window


def install(window: Any) -> None:
    """An "Audit trail" rail button for administrators."""
    buttons = getattr(window, "rail_buttons", None)
    settings_button = buttons.get("settings") if isinstance(buttons, dict) else None
    if not isinstance(buttons, dict) or settings_button is None or "audit" in buttons:
        return
    layout = settings_button.parentWidget().layout()
    button = QPushButton(
        QCoreApplication.translate("audit", "Audit trail"), settings_button.parentWidget()
    )
    button.setObjectName("railButton")
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    layout.insertWidget(layout.indexOf(settings_button), button)
    buttons["audit"] = button
    button.clicked.connect(lambda: open_for(window))


def _session_for(window: Any) -> AuditSession:
    engine = window.controller.engine
    user = getattr(window, "_user", None)
    if getattr(user, "role", None) == "admin" and callable(getattr(engine, "audit_session", None)):
        session: AuditSession = engine.audit_session()
        return session
    return AuditSession.for_relay(engine.relay_url)


def show_page(window: Any) -> AuditWindow:
    """The audit view as a page of the main window (``--view audit``; in the demo it signs
    in a synthetic administrator)."""
    existing = getattr(window, "audit_page", None)
    if isinstance(existing, AuditWindow):
        window.pages.setCurrentWidget(existing)
        return existing
    page = AuditWindow(_session_for(window), top_level=False, parent=window)
    window.audit_page = page
    window.pages.addWidget(page)
    page.back_button.clicked.connect(lambda: window.show_page("inbox"))
    window.pages.setCurrentWidget(page)
    stack = getattr(window, "demo_stack", None)
    if stack is not None and not page.controller.session.signed_in:
        page.controller.demo_sign_in(stack)
    else:
        page.start()
    return page
