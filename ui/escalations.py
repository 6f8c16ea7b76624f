"""The escalation queue: priorities, due timers, overdue highlight; acknowledge, reassign,
resolve, call the patient back and log the outcome; and the escalate dialog.

The queue is a list model over the engine's cached escalations, updated row by row from
change summaries (``escalation_ids``); a one-second timer repaints the countdowns only.
The relay decides who may do what; buttons the role may not use are disabled as a courtesy.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QDateTime,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from inbox_app.client.engine import ChangeSummary
from inbox_app.domain.escalations import (
    DEFAULT_DUE_SECONDS,
    MAX_REASON,
    PRIORITY_RANK,
    CallRecord,
    EscalationRecord,
    EscalationState,
    Priority,
)
from ui.call_dialog import CallOutcomeDialog, UrlOpener, open_tel
from ui.call_events import PHONE, call_event_text
from ui.controller import asyncSlot
from ui.locale_dates import format_date
from ui.theme import colors

log = logging.getLogger("inbox.ui.escalations")

Clock = Callable[[], float]
_Index = QModelIndex | QPersistentModelIndex
RecordRole = Qt.ItemDataRole.UserRole + 1
ROW_HEIGHT = 76

PRIORITY_COLORS = {
    Priority.EMERGENCY: QColor("#d93025"),
    Priority.URGENT: QColor("#e37400"),
    Priority.ROUTINE: QColor("#1a73e8"),
}


def priority_label(priority: Priority) -> str:
    return {
        Priority.EMERGENCY: QCoreApplication.translate("escalations", "Emergency"),
        Priority.URGENT: QCoreApplication.translate("escalations", "Urgent"),
        Priority.ROUTINE: QCoreApplication.translate("escalations", "Routine"),
    }[priority]


def state_label(state: EscalationState) -> str:
    return {
        EscalationState.OPEN: QCoreApplication.translate("escalations", "Open"),
        EscalationState.ACKNOWLEDGED: QCoreApplication.translate("escalations", "Acknowledged"),
        EscalationState.RESOLVED: QCoreApplication.translate("escalations", "Resolved"),
    }[state]


def target_label(rec: EscalationRecord) -> str:
    if rec.assignee_name:
        return QCoreApplication.translate("escalations", "to %1").replace("%1", rec.assignee_name)
    if rec.team_name:
        return QCoreApplication.translate("escalations", "team %1").replace("%1", rec.team_name)
    return QCoreApplication.translate("escalations", "all clinicians")


def reason_text(rec: EscalationRecord) -> str:
    """The reason as written; the relay's own (red flag, closed day) in the user's language."""
    if rec.source == "red_flag" and ": " in rec.reason:
        words = rec.reason.split(": ", 1)[1]
        return QCoreApplication.translate(
            "escalations", "Red-flag words in the patient's message: %1"
        ).replace("%1", words)
    if rec.source == "closed_day" and ": " in rec.reason:
        return QCoreApplication.translate(
            "escalations",
            "Appointment on a day the practice is closed: %1. No reminder goes out until "
            "it is moved or this is resolved.",
        ).replace("%1", _closed_day_detail(rec.reason.split(": ", 1)[1]))
    return rec.reason


def _closed_day_detail(detail: str) -> str:
    """ "2026-12-24 10:30 (Heiligabend)" with the date as the UI writes dates."""
    stamp, _, name = detail.partition(" (")
    try:
        moment = datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        return detail
    when = f"{format_date(moment.date())} {moment:%H:%M}"
    return f"{when} ({name}" if name else when


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return (
            QCoreApplication.translate("escalations", "%1 h %2 min")
            .replace("%1", str(hours))
            .replace("%2", f"{minutes:02d}")
        )
    return f"{minutes:02d}:{secs:02d}"


def timer_text(rec: EscalationRecord, now: float) -> str:
    """The countdown: "due in 14:32", "overdue 03:10", or the state once taken."""
    if rec.state == EscalationState.RESOLVED:
        return QCoreApplication.translate("escalations", "Resolved")
    if rec.state == EscalationState.ACKNOWLEDGED:
        return QCoreApplication.translate("escalations", "Acknowledged")
    if now >= rec.due_at:
        return QCoreApplication.translate("escalations", "Overdue %1").replace(
            "%1", _duration(now - rec.due_at)
        )
    return QCoreApplication.translate("escalations", "Due in %1").replace(
        "%1", _duration(rec.due_at - now)
    )


def sort_key(rec: EscalationRecord) -> tuple[int, int, float, int]:
    if rec.open:
        return (0, PRIORITY_RANK[rec.priority], rec.due_at, rec.id)
    return (1, 0, -(rec.resolved_at or rec.created_at), rec.id)


# -- model ---------------------------------------------------------------------------------


class EscalationListModel(QAbstractListModel):
    """Escalations in queue order; ``upsert`` moves or inserts single rows (no resets)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[EscalationRecord] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        rec = self._rows[index.row()]
        if role == RecordRole:
            return rec
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{priority_label(rec.priority)}: {rec.reason}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{priority_label(rec.priority)}, {state_label(rec.state)}: {rec.reason}"
        return None

    def records(self) -> list[EscalationRecord]:
        return list(self._rows)

    def row_of(self, escalation_id: int) -> int:
        for row, rec in enumerate(self._rows):
            if rec.id == escalation_id:
                return row
        return -1

    def remove(self, ids: set[int]) -> None:
        """Drop rows (escalations the user no longer sees), one by one."""
        for escalation_id in sorted(ids):
            row = self.row_of(escalation_id)
            if row >= 0:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    def upsert(self, records: list[EscalationRecord]) -> None:
        for rec in records:
            old = self.row_of(rec.id)
            if old >= 0:
                keys = [sort_key(r) for i, r in enumerate(self._rows) if i != old]
                target = bisect.bisect_left(keys, sort_key(rec))
                if target == old:
                    self._rows[old] = rec
                    index = self.index(old, 0)
                    self.dataChanged.emit(index, index)
                    continue
                self.beginRemoveRows(QModelIndex(), old, old)
                del self._rows[old]
                self.endRemoveRows()
            keys = [sort_key(r) for r in self._rows]
            row = bisect.bisect_left(keys, sort_key(rec))
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, rec)
            self.endInsertRows()


class QueueFilter(QSortFilterProxyModel):
    """Hides resolved escalations unless asked to show them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show_resolved = False

    def set_show_resolved(self, show: bool) -> None:
        self.beginFilterChange()
        self.show_resolved = show
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        rec = model.data(model.index(source_row, 0, source_parent), RecordRole)
        return isinstance(rec, EscalationRecord) and (self.show_resolved or rec.open)


# -- delegate ------------------------------------------------------------------------------


class EscalationDelegate(QStyledItemDelegate):
    """A card per escalation: a priority stripe, whom it is about and why, who has it, and
    the due timer; overdue and unacknowledged ones are tinted and their timer is red."""

    def __init__(self, parent: QWidget | None = None, *, clock: Clock = time.time) -> None:
        super().__init__(parent)
        self._clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(max(option.rect.width(), 260), ROW_HEIGHT)

    def is_overdue(self, rec: EscalationRecord) -> bool:
        return rec.overdue(self._clock())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rec = index.data(RecordRole)
        if not isinstance(rec, EscalationRecord):
            return
        c = colors()
        now = self._clock()
        r: QRect = option.rect
        overdue = rec.overdue(now)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(r, c.q("accent_light"))
        elif overdue:
            tint = QColor(PRIORITY_COLORS[Priority.EMERGENCY])
            tint.setAlpha(38)
            painter.fillRect(r, c.q("base"))
            painter.fillRect(r, tint)
        else:
            painter.fillRect(r, c.q("base"))
        stripe = QColor(PRIORITY_COLORS[rec.priority])
        if not rec.open:
            stripe.setAlpha(90)
        painter.fillRect(QRect(r.left(), r.top() + 6, 5, r.height() - 12), stripe)
        painter.setPen(c.q("divider"))
        painter.drawLine(r.left() + 14, r.bottom(), r.right(), r.bottom())

        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(7.0, base.pointSizeF() * 0.88))
        left = r.left() + 16
        timer = timer_text(rec, now)
        timer_font = QFont(bold if overdue else small)
        timer_width = QFontMetrics(timer_font).horizontalAdvance(timer) + 4
        right = r.right() - 12
        text_right = right - timer_width - 10

        painter.setFont(timer_font)
        painter.setPen(PRIORITY_COLORS[Priority.EMERGENCY] if overdue else c.q("text_muted"))
        painter.drawText(
            QRect(right - timer_width, r.top() + 10, timer_width, 20),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            timer,
        )
        title = rec.display_name or QCoreApplication.translate(
            "escalations", "Conversation %1"
        ).replace("%1", str(rec.conversation_id))
        painter.setFont(bold)
        painter.setPen(c.q("text") if rec.open else c.q("text_muted"))
        metrics = QFontMetrics(bold)
        painter.drawText(
            QRect(left, r.top() + 8, text_right - left, 22),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(title, Qt.TextElideMode.ElideRight, text_right - left),
        )
        painter.setFont(base)
        painter.setPen(c.q("text"))
        metrics = QFontMetrics(base)
        painter.drawText(
            QRect(left, r.top() + 30, right - left, 20),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(reason_text(rec), Qt.TextElideMode.ElideRight, right - left),
        )
        state = state_label(rec.state)
        if rec.state == EscalationState.ACKNOWLEDGED and rec.acknowledged_by_name:
            state += f" ({rec.acknowledged_by_name})"
        meta = [priority_label(rec.priority), state, target_label(rec)]
        if rec.source == "red_flag":
            meta.append(QCoreApplication.translate("escalations", "red flag"))
        elif rec.source == "closed_day":
            meta.append(QCoreApplication.translate("escalations", "closed day"))
        painter.setFont(small)
        painter.setPen(PRIORITY_COLORS[rec.priority] if rec.open else c.q("text_muted"))
        metrics = QFontMetrics(small)
        painter.drawText(
            QRect(left, r.top() + 52, right - left, 18),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(" · ".join(meta), Qt.TextElideMode.ElideRight, right - left),
        )
        painter.restore()


# -- controller ----------------------------------------------------------------------------


class EscalationsController(QObject):
    """Calls the engine for the queue (``@asyncSlot``s; the ``*_now`` forms are awaitable)."""

    error = Signal(str)
    info = Signal(str)
    # Escalations the relay notified again as overdue (their ids): the window notifies.
    overdue = Signal(object)
    # (escalation id, the relay's answer to "call patient")
    call_started = Signal(int, object)
    calls_loaded = Signal(int, object)  # (escalation id, list[CallRecord])
    directory_loaded = Signal(object)
    touched = Signal(object)  # ids of escalations that changed (or got a call entry)
    patients_loaded = Signal(int, object)  # (conversation id, list[PatientRecord])

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.model = EscalationListModel(self)

    def supports(self, operation: str) -> bool:
        return callable(getattr(self.engine, operation, None))

    @asyncSlot()
    async def refresh(self) -> None:
        await self.refresh_now()

    async def refresh_now(self) -> None:
        if not self.supports("escalations"):
            return
        if self.supports("sync_escalations"):
            try:
                await self.engine.sync_escalations()
            except Exception as exc:  # offline: the cached queue is shown as it is
                log.info("escalations not re-read from the relay: %s", type(exc).__name__)
        try:
            records = await self.engine.escalations()
        except Exception as exc:  # locked or signed out meanwhile: nothing to show now
            log.info("escalations not read: %s", type(exc).__name__)
            return
        self.model.upsert(records)
        shown = {r.id for r in self.model.records()}
        self.model.remove(shown - {r.id for r in records})

    @asyncSlot(object)
    async def apply_changes(self, summary: ChangeSummary) -> None:
        await self.apply_changes_now(summary)

    async def apply_changes_now(self, summary: ChangeSummary) -> None:
        ids: frozenset[int] = getattr(summary, "escalation_ids", frozenset())
        if ids and self.supports("escalations_by_id"):
            try:
                found = await self.engine.escalations_by_id(frozenset(ids))
            except Exception as exc:  # locked meanwhile; the next refresh catches up
                log.info("escalations not re-read: %s", type(exc).__name__)
                return
            self.model.upsert(found)
            self.model.remove(set(ids) - {r.id for r in found})
            self.touched.emit(sorted(ids))
        overdue: frozenset[int] = getattr(summary, "overdue_escalation_ids", frozenset())
        if overdue:
            self.overdue.emit(sorted(overdue))

    async def _run(self, what: str, coro: Any) -> Any:
        try:
            result = await coro
        except Exception as exc:
            log.warning("%s failed: %s", what, type(exc).__name__)
            message = getattr(exc, "message", None)
            self.error.emit(
                str(message)
                if isinstance(message, str) and getattr(exc, "status", None)
                else self.tr("That did not work. Please try again.")
            )
            return None
        if isinstance(result, EscalationRecord):
            self.model.upsert([result])
        return result

    @asyncSlot(int)
    async def acknowledge(self, escalation_id: int) -> None:
        await self.acknowledge_now(escalation_id)

    async def acknowledge_now(self, escalation_id: int) -> None:
        await self._run("acknowledge", self.engine.acknowledge_escalation(escalation_id))

    @asyncSlot(int, object)
    async def resolve(self, escalation_id: int, resolution: str | None) -> None:
        await self.resolve_now(escalation_id, resolution)

    async def resolve_now(self, escalation_id: int, resolution: str | None) -> None:
        await self._run("resolve", self.engine.resolve_escalation(escalation_id, resolution))

    @asyncSlot(int, object, object)
    async def reassign(self, escalation_id: int, assignee: int | None, team: int | None) -> None:
        await self.reassign_now(escalation_id, assignee, team)

    async def reassign_now(
        self, escalation_id: int, assignee: int | None, team: int | None
    ) -> None:
        await self._run(
            "reassign",
            self.engine.reassign_escalation(escalation_id, assignee_id=assignee, team_id=team),
        )

    @asyncSlot(int, dict)
    async def create(self, conversation_id: int, values: dict[str, Any]) -> None:
        await self.create_now(conversation_id, values)

    async def create_now(self, conversation_id: int, values: dict[str, Any]) -> None:
        created = await self._run(
            "escalate", self.engine.create_escalation(conversation_id, **values)
        )
        if created is not None:
            self.info.emit(self.tr("Escalated."))

    @asyncSlot(int, str)
    async def call(self, escalation_id: int, mode: str) -> None:
        await self.call_now(escalation_id, mode)

    async def call_now(self, escalation_id: int, mode: str = "auto") -> None:
        answer = await self._run(
            "call", self.engine.request_call(escalation_id, mode=mode, language=_language())
        )
        if isinstance(answer, dict):
            self.call_started.emit(escalation_id, answer)
            await self.load_calls_now(escalation_id)

    @asyncSlot(int, object)
    async def log_outcome(self, escalation_id: int, choice: Any) -> None:
        await self.log_outcome_now(escalation_id, choice)

    async def log_outcome_now(self, escalation_id: int, choice: Any) -> None:
        logged = await self._run(
            "call outcome",
            self.engine.log_call_outcome(
                escalation_id,
                choice.outcome.value,
                note=choice.note,
                callback_at=choice.callback_at,
            ),
        )
        if logged is not None:
            self.info.emit(self.tr("Call outcome saved; it shows in the conversation."))
            await self.load_calls_now(escalation_id)

    @asyncSlot(int)
    async def load_calls(self, escalation_id: int) -> None:
        await self.load_calls_now(escalation_id)

    async def load_calls_now(self, escalation_id: int) -> None:
        if self.supports("calls_for"):
            try:
                calls = await self.engine.calls_for(escalation_id)
            except Exception as exc:
                log.info("calls not read: %s", type(exc).__name__)
                return
            self.calls_loaded.emit(escalation_id, calls)

    @asyncSlot(int)
    async def load_patients(self, conversation_id: int) -> None:
        await self.load_patients_now(conversation_id)

    async def load_patients_now(self, conversation_id: int) -> None:
        if not (self.supports("patients_for") and self.supports("conversations_by_id")):
            return
        try:
            found = await self.engine.conversations_by_id(frozenset({conversation_id}))
            patients = await self.engine.patients_for(found[0].wa_id) if found else []
        except Exception as exc:
            log.info("patients not read: %s", type(exc).__name__)
            return
        self.patients_loaded.emit(conversation_id, patients)

    @asyncSlot()
    async def load_directory(self) -> None:
        await self.load_directory_now()

    async def load_directory_now(self) -> None:
        if not self.supports("directory"):
            return
        try:
            self.directory_loaded.emit(await self.engine.directory())
        except Exception as exc:
            log.info("directory unavailable: %s", type(exc).__name__)


def _language() -> str:
    from PySide6.QtCore import QLocale

    return "de" if QLocale().language() == QLocale.Language.German else "en"


# -- dialogs ------------------------------------------------------------------------------


class TargetPicker(QComboBox):
    """Every clinician, a team, or one clinician (from the staff directory)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_directory({})

    def set_directory(self, directory: dict[str, Any]) -> None:
        current = self.currentData()
        self.clear()
        self.addItem(self.tr("All clinicians"), ("all", None))
        for team in directory.get("teams") or []:
            self.addItem(self.tr("Team %1").replace("%1", str(team["name"])), ("team", team["id"]))
        for user in directory.get("users") or []:
            if user.get("role") == "clinician":
                self.addItem(str(user["display_name"]), ("user", user["id"]))
        found = self.findData(current)
        self.setCurrentIndex(max(0, found))

    def target(self) -> tuple[int | None, int | None]:
        """(assignee_id, team_id)."""
        kind, value = self.currentData() or ("all", None)
        if kind == "user" and value is not None:
            return int(value), None
        if kind == "team" and value is not None:
            return None, int(value)
        return None, None


class EscalateDialog(QDialog):
    """Reason, priority, due time, and to whom (a clinician, a team, every clinician)."""

    def __init__(
        self,
        directory: dict[str, Any] | None = None,
        parent: QWidget | None = None,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("escalateDialog")
        self.setWindowTitle(self.tr("Escalate conversation"))
        self._clock = clock
        form = QFormLayout(self)
        self.reason = QPlainTextEdit(self)
        self.reason.setPlaceholderText(self.tr("Why does a clinician need to look at this?"))
        self.reason.setFixedHeight(80)
        form.addRow(self.tr("Reason"), self.reason)
        self.priority = QComboBox(self)
        for priority in (Priority.ROUTINE, Priority.URGENT, Priority.EMERGENCY):
            self.priority.addItem(priority_label(priority), priority)
        self.priority.setCurrentIndex(1)
        form.addRow(self.tr("Priority"), self.priority)
        self.due = QDateTimeEdit(self)
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("dd.MM.yyyy HH:mm")
        form.addRow(self.tr("Due"), self.due)
        self.target = TargetPicker(self)
        self.target.set_directory(directory or {})
        form.addRow(self.tr("To"), self.target)
        # Which patient of the number it is about (several may share one), if known.
        self.patient = QComboBox(self)
        self.patient.addItem(self.tr("Not specified"), None)
        form.addRow(self.tr("Patient"), self.patient)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d93025;")  # the same red as failed messages
        self.problem.hide()
        form.addRow(self.problem)
        self.box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.box.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Escalate"))
        self.box.accepted.connect(self._check)
        self.box.rejected.connect(self.reject)
        form.addRow(self.box)
        self.priority.currentIndexChanged.connect(self._default_due)
        self._default_due()

    def _default_due(self) -> None:
        priority = self.priority.currentData()
        due = self._clock() + DEFAULT_DUE_SECONDS[Priority(priority)]
        self.due.setDateTime(QDateTime.fromSecsSinceEpoch(int(due)))

    def set_patients(self, patients: object) -> None:
        if not isinstance(patients, list):
            return
        for p in patients:
            label = f"{p.given_name} {p.family_name}"
            if p.birth_date:
                label += f" ({p.birth_date})"
            self.patient.addItem(label, int(p.id))
        if len(patients) == 1:
            self.patient.setCurrentIndex(1)

    def values(self) -> dict[str, Any]:
        assignee, team = self.target.target()
        return {
            "patient_id": self.patient.currentData(),
            "reason": self.reason.toPlainText().strip(),
            "priority": str(Priority(self.priority.currentData()).value),
            "due_at": float(self.due.dateTime().toSecsSinceEpoch()),
            "assignee_id": assignee,
            "team_id": team,
        }

    def _check(self) -> None:
        values = self.values()
        problem = None
        if not values["reason"]:
            problem = self.tr("Give a reason.")
        elif len(values["reason"]) > MAX_REASON:
            problem = self.tr("The reason is too long.")
        elif values["due_at"] < self._clock() - 60:
            problem = self.tr("Choose a due time in the future.")
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return
        self.accept()


class ReassignDialog(QDialog):
    def __init__(self, directory: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reassignDialog")
        self.setWindowTitle(self.tr("Reassign escalation"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Hand this escalation to:"), self))
        self.target = TargetPicker(self)
        self.target.set_directory(directory)
        layout.addWidget(self.target)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)


# -- the page ------------------------------------------------------------------------------


def call_line(call: CallRecord) -> str:
    """One line of an escalation's call history (no patient data beyond the thread's)."""
    when = time.strftime("%H:%M", time.localtime(call.created_at))
    who = call.user_name or QCoreApplication.translate("escalations", "WhatsApp")
    if call.kind == "permission_requested":
        text = QCoreApplication.translate("escalations", "Call permission requested")
    elif call.kind == "permission_granted":
        text = QCoreApplication.translate("escalations", "Patient allows calls already")
    elif call.kind == "permission_reply":
        text = (
            QCoreApplication.translate("escalations", "Patient allowed calls")
            if call.status == "accept"
            else QCoreApplication.translate("escalations", "Patient declined calls")
        )
    elif call.kind == "tel":
        text = QCoreApplication.translate("escalations", "Dialled by phone")
    elif call.kind == "video":
        text = QCoreApplication.translate("escalations", "Video-visit link sent")
    elif call.kind == "webhook":
        # The same words as the call's bubble in the thread (without its phone sign).
        text = call_event_text(call).removeprefix(PHONE).strip()
    else:
        labels = {
            "reached": QCoreApplication.translate("escalations", "Reached"),
            "not_reached": QCoreApplication.translate("escalations", "Not reached"),
            "callback_scheduled": QCoreApplication.translate("escalations", "Callback scheduled"),
        }
        text = labels.get(call.outcome or "", call.outcome or "")
        if call.callback_at:
            text += " " + time.strftime("%d.%m. %H:%M", time.localtime(call.callback_at))
        if call.note:
            text += f" — {call.note}"
    return f"{when} · {who} · {text}"


class EscalationsPage(QWidget):
    """The queue on the left, the chosen escalation and its actions on the right."""

    back_requested = Signal()
    open_conversation = Signal(int)

    def __init__(
        self,
        engine: Any,
        *,
        role: str | None = None,
        clock: Clock = time.time,
        url_opener: UrlOpener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("escalationsPage")
        self._clock = clock
        self._role = role
        self._open_url = url_opener
        self.directory: dict[str, Any] = {}
        self.controller = EscalationsController(engine, self)
        self.proxy = QueueFilter(self)
        self.proxy.setSourceModel(self.controller.model)
        self.outcome_dialog: CallOutcomeDialog | None = None
        self.reassign_dialog: ReassignDialog | None = None
        self.resolve_dialog: QInputDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        self.back_button = QPushButton(self)
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button)
        self.title = QLabel(self)
        self.title.setObjectName("pageTitle")
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.35)
        title_font.setBold(True)
        self.title.setFont(title_font)
        top.addWidget(self.title, 1)
        self.count_label = QLabel(self)
        top.addWidget(self.count_label)
        self.show_resolved = QCheckBox(self)
        self.show_resolved.toggled.connect(self.proxy.set_show_resolved)
        top.addWidget(self.show_resolved)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.list = QListView(splitter)
        self.list.setObjectName("escalationList")
        self.list.setModel(self.proxy)
        self.delegate = EscalationDelegate(self.list, clock=clock)
        self.list.setItemDelegate(self.delegate)
        self.list.setUniformItemSizes(True)
        self.list.setMouseTracking(True)
        self.list.setFrameShape(QFrame.Shape.NoFrame)
        self.list.selectionModel().currentChanged.connect(self._on_current)

        detail = QFrame(splitter)
        detail.setObjectName("escalationDetail")
        dl = QVBoxLayout(detail)
        self.detail_title = QLabel(detail)
        self.detail_title.setObjectName("panelTitle")
        self.detail_title.setWordWrap(True)
        dl.addWidget(self.detail_title)
        self.detail_text = QLabel(detail)
        self.detail_text.setWordWrap(True)
        self.detail_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dl.addWidget(self.detail_text)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        keys = ("open", "acknowledge", "reassign", "resolve", "call", "video", "outcome")
        for i, key in enumerate(keys):
            button = QPushButton(detail)
            button.setObjectName(f"escalation_{key}")
            self.buttons[key] = button
            grid.addWidget(button, i // 2, i % 2)
        dl.addLayout(grid)
        self.calls_title = QLabel(detail)
        self.calls_title.setObjectName("railSection")
        dl.addWidget(self.calls_title)
        self.calls = QListWidget(detail)
        self.calls.setObjectName("callHistory")
        dl.addWidget(self.calls, 1)
        splitter.addWidget(self.list)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([640, 420])
        layout.addWidget(splitter, 1)
        self.status = QLabel(self)
        self.status.setObjectName("pageStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        b = self.buttons
        b["open"].clicked.connect(self._open_selected)
        b["acknowledge"].clicked.connect(self._acknowledge)
        b["reassign"].clicked.connect(self.ask_reassign)
        b["resolve"].clicked.connect(self.ask_resolve)
        b["call"].clicked.connect(lambda: self._call("auto"))
        b["video"].clicked.connect(lambda: self._call("video"))
        b["outcome"].clicked.connect(self.ask_outcome)
        c = self.controller
        c.error.connect(self.status.setText)
        c.info.connect(self.status.setText)
        c.call_started.connect(self._on_call_started)
        c.calls_loaded.connect(self._on_calls)
        c.directory_loaded.connect(self._on_directory)
        c.touched.connect(self._on_touched)
        c.model.rowsInserted.connect(self._update_counts)
        c.model.rowsRemoved.connect(self._update_counts)
        c.model.dataChanged.connect(self._on_data_changed)
        self.proxy.rowsInserted.connect(self._ensure_selection)
        # The countdowns move every second; only the visible rows repaint.
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self._tick)
        self.ticker.start()
        # Now and then the queue is re-read from the relay (reassignments away from us).
        self.resync = QTimer(self)
        self.resync.setInterval(60_000)
        self.resync.timeout.connect(self.controller.refresh)
        self.resync.start()
        self.retranslate()
        self._update_actions()

    # -- state --
    def _tick(self) -> None:
        self.list.viewport().update()
        rec = self.selected()
        if rec is not None and rec.open:
            self._show_detail(rec)
        self._update_counts()

    def retranslate(self) -> None:
        self.back_button.setText(self.tr("← Inbox"))
        self.title.setText(self.tr("Escalation queue"))
        self.show_resolved.setText(self.tr("Show resolved"))
        labels = {
            "open": self.tr("Open conversation"),
            "acknowledge": self.tr("Acknowledge"),
            "reassign": self.tr("Reassign…"),
            "resolve": self.tr("Resolve…"),
            "call": self.tr("Call patient"),
            "video": self.tr("Send video-visit link"),
            "outcome": self.tr("Log call outcome…"),
        }
        for key, text in labels.items():
            self.buttons[key].setText(text)
        self.calls_title.setText(self.tr("Calls"))
        self._update_counts()
        self._show_detail(self.selected())

    def selected(self) -> EscalationRecord | None:
        rec = self.list.currentIndex().data(RecordRole)
        return rec if isinstance(rec, EscalationRecord) else None

    def select(self, escalation_id: int) -> bool:
        row = self.controller.model.row_of(escalation_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.controller.model.index(row, 0))
        if not index.isValid():
            return False
        self.list.setCurrentIndex(index)
        return True

    def _ensure_selection(self, *_: object) -> None:
        if not self.list.currentIndex().isValid() and self.proxy.rowCount() > 0:
            self.list.setCurrentIndex(self.proxy.index(0, 0))

    def _update_counts(self, *_: object) -> None:
        now = self._clock()
        records = self.controller.model.records()
        open_count = sum(1 for r in records if r.open)
        overdue = sum(1 for r in records if r.overdue(now))
        text = self.tr("%1 open").replace("%1", str(open_count))
        if overdue:
            text += " · " + self.tr("%1 overdue").replace("%1", str(overdue))
        self.count_label.setText(text)

    def _on_data_changed(self, *_: object) -> None:
        self._update_counts()
        self._show_detail(self.selected())

    def _on_current(self, current: _Index, _previous: _Index) -> None:
        rec = current.data(RecordRole)
        self._show_detail(rec if isinstance(rec, EscalationRecord) else None)
        if isinstance(rec, EscalationRecord):
            self.controller.load_calls(rec.id)

    def _show_detail(self, rec: EscalationRecord | None) -> None:
        if rec is None:
            self.detail_title.setText(self.tr("No escalation selected"))
            self.detail_text.setText("")
            self.calls.clear()
        else:
            self.detail_title.setText(
                rec.display_name
                or self.tr("Conversation %1").replace("%1", str(rec.conversation_id))
            )
            due = time.strftime("%d.%m.%Y %H:%M", time.localtime(rec.due_at))
            lines = [
                reason_text(rec),
                f"{priority_label(rec.priority)} · {state_label(rec.state)} · {target_label(rec)}",
                self.tr("Due %1").replace("%1", due) + " · " + timer_text(rec, self._clock()),
            ]
            if rec.acknowledged_by_name:
                lines.append(self.tr("Taken by %1").replace("%1", rec.acknowledged_by_name))
            if rec.created_by_name:
                lines.append(self.tr("Escalated by %1").replace("%1", rec.created_by_name))
            elif rec.source == "red_flag":
                lines.append(self.tr("Escalated by the relay (red flag in the message)"))
            elif rec.source == "closed_day":
                lines.append(self.tr("Raised by the relay (the practice is closed that day)"))
            if rec.resolution:
                lines.append(self.tr("Resolution: %1").replace("%1", rec.resolution))
            self.detail_text.setText("\n".join(lines))
        self._update_actions()

    def _update_actions(self) -> None:
        rec = self.selected()
        clinician = self._role in (None, "clinician")
        takes = rec is not None and clinician and rec.open
        b = self.buttons
        b["open"].setEnabled(rec is not None)
        b["acknowledge"].setEnabled(takes and rec is not None and rec.state == EscalationState.OPEN)
        for key in ("reassign", "resolve", "call", "video", "outcome"):
            b[key].setEnabled(takes)
        tip = "" if clinician else self.tr("Only a clinician takes escalations.")
        for key in ("acknowledge", "reassign", "resolve", "call", "video", "outcome"):
            b[key].setToolTip(tip)

    # -- actions --
    def start(self) -> None:
        self.controller.refresh()
        self.controller.load_directory()

    def _open_selected(self) -> None:
        rec = self.selected()
        if rec is not None:
            self.open_conversation.emit(rec.conversation_id)

    def _acknowledge(self) -> None:
        rec = self.selected()
        if rec is not None:
            self.controller.acknowledge(rec.id)

    def _on_touched(self, ids: object) -> None:
        # A call event (the patient's answer, a webhook) for the open escalation: re-list.
        rec = self.selected()
        if rec is not None and isinstance(ids, list) and rec.id in ids:
            self.controller.load_calls(rec.id)

    def _on_directory(self, directory: object) -> None:
        if isinstance(directory, dict):
            self.directory = directory

    def ask_reassign(self) -> ReassignDialog | None:
        rec = self.selected()
        if rec is None:
            return None
        dialog = ReassignDialog(self.directory, self)
        escalation_id = rec.id

        def done(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                assignee, team = dialog.target.target()
                self.controller.reassign(escalation_id, assignee, team)
            dialog.deleteLater()
            self.reassign_dialog = None

        dialog.finished.connect(done)
        self.reassign_dialog = dialog
        dialog.open()
        return dialog

    def ask_resolve(self) -> QInputDialog | None:
        rec = self.selected()
        if rec is None:
            return None
        dialog = QInputDialog(self)
        dialog.setObjectName("resolveDialog")
        dialog.setWindowTitle(self.tr("Resolve escalation"))
        dialog.setLabelText(self.tr("What was done? (optional)"))
        escalation_id = rec.id

        def done(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.controller.resolve(escalation_id, dialog.textValue().strip() or None)
            dialog.deleteLater()
            self.resolve_dialog = None

        dialog.finished.connect(done)
        self.resolve_dialog = dialog
        dialog.open()
        return dialog

    def _call(self, mode: str) -> None:
        rec = self.selected()
        if rec is not None:
            self.controller.call(rec.id, mode)

    def _on_call_started(self, escalation_id: int, answer: object) -> None:
        if not isinstance(answer, dict):
            return
        mode = answer.get("mode")
        permission = answer.get("permission")
        if mode == "whatsapp" and isinstance(permission, dict):
            until = permission.get("expires_at")
            text = self.tr("The patient allows WhatsApp calls: call from the phone system now.")
            if isinstance(until, int | float):
                text = self.tr(
                    "The patient allows WhatsApp calls until %1: call from the phone system now."
                ).replace("%1", time.strftime("%d.%m. %H:%M", time.localtime(until)))
            self.status.setText(text)
        elif mode == "whatsapp":
            self.status.setText(
                self.tr(
                    "A call request was sent on WhatsApp; the patient's answer shows in the "
                    "calls list and the conversation. Call from the phone system when allowed."
                )
            )
        elif mode == "video":
            self.status.setText(
                self.tr(
                    "The 24-hour window is closed, so the video-visit link went out in the "
                    "approved template."
                )
                if answer.get("via") == "template"
                else self.tr("The video-visit link was sent to the patient.")
            )
        elif mode == "tel" and isinstance(answer.get("tel"), str):
            opened = (
                open_tel(answer["tel"], self._open_url)
                if self._open_url is not None
                else open_tel(answer["tel"])
            )
            self.status.setText(
                self.tr("Dialling %1 … log the outcome when the call ends.").replace(
                    "%1", str(answer.get("phone") or "")
                )
                if opened
                else self.tr("No phone program is set up; dial %1 by hand.").replace(
                    "%1", str(answer.get("phone") or "")
                )
            )
            if self.selected() is not None and self.selected().id == escalation_id:  # type: ignore[union-attr]
                self.ask_outcome()

    def _on_calls(self, escalation_id: int, calls: object) -> None:
        rec = self.selected()
        if rec is None or rec.id != escalation_id or not isinstance(calls, list):
            return
        self.calls.clear()
        for call in calls:
            if isinstance(call, CallRecord):
                self.calls.addItem(call_line(call))

    def ask_outcome(self) -> CallOutcomeDialog | None:
        rec = self.selected()
        if rec is None:
            return None
        if self.outcome_dialog is not None:
            return self.outcome_dialog
        dialog = CallOutcomeDialog(self, clock=self._clock)
        escalation_id = rec.id

        def done(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.controller.log_outcome(escalation_id, dialog.choice())
            dialog.deleteLater()
            self.outcome_dialog = None

        dialog.finished.connect(done)
        self.outcome_dialog = dialog
        dialog.open()
        return dialog


# -- the main window's part ----------------------------------------------------------------


def notify(window: Any, title: str, text: str) -> None:
    """A tray notification the way the main window gives them (no patient data)."""
    notifications = getattr(window, "notifications", None)
    if isinstance(notifications, list):
        notifications.append((title, text))
        del notifications[:-20]
    tray = getattr(window, "tray", None)
    if isinstance(tray, QSystemTrayIcon) and tray.isVisible() and tray.supportsMessages():
        tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 8000)


def install(window: Any, *, clock: Clock = time.time) -> EscalationsPage:
    """Add the queue page, a rail button and the escalate dialog to the main window.

    ``window`` is a ``ui.main_window.MainWindow`` (its ``pages``, ``controller``, rail,
    actions and notifications); kept loose here so the window module need not import this.
    """
    existing = getattr(window, "escalations_page", None)
    if isinstance(existing, EscalationsPage):
        return existing
    user = getattr(window, "_user", None)
    engine = window.controller.engine
    page = EscalationsPage(engine, role=getattr(user, "role", None), clock=clock, parent=window)
    window.escalations_page = page
    window.pages.addWidget(page)
    page.back_requested.connect(lambda: window.show_page("inbox"))

    def open_conversation(conversation_id: int) -> None:
        window.show_page("inbox")
        select = getattr(window, "_select_conversation", None)
        if callable(select):
            select(conversation_id)

    page.open_conversation.connect(open_conversation)
    window.controller.bridge.changed.connect(page.controller.apply_changes)

    def overdue(ids: object) -> None:
        count = len(ids) if isinstance(ids, list) else 1
        text = (
            QCoreApplication.translate(
                "EscalationsPage", "An escalation is overdue and not yet acknowledged"
            )
            if count == 1
            else QCoreApplication.translate(
                "EscalationsPage", "%1 escalations are overdue and not yet acknowledged"
            ).replace("%1", str(count))
        )
        notify(window, QCoreApplication.translate("EscalationsPage", "Praxis Inbox"), text)

    page.controller.overdue.connect(overdue)

    # A rail button beside settings and lock (only when the engine keeps escalations).
    buttons = getattr(window, "rail_buttons", None)
    settings_button = buttons.get("settings") if isinstance(buttons, dict) else None
    if (
        isinstance(buttons, dict)
        and settings_button is not None
        and page.controller.supports("escalations")
    ):
        rail_layout = settings_button.parentWidget().layout()
        button = QPushButton(
            QCoreApplication.translate("EscalationsPage", "Escalation queue"),
            settings_button.parentWidget(),
        )
        button.setObjectName("railButton")
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        rail_layout.insertWidget(rail_layout.indexOf(settings_button), button)
        buttons["escalations"] = button
        button.clicked.connect(lambda: show(window))

    # The escalate shortcut opens the dialog when the relay keeps escalations: a fresh
    # action with the same shortcut replaces the label-only placeholder.
    actions = getattr(window, "actions_by_key", None)
    old = actions.get("escalate") if isinstance(actions, dict) else None
    if (
        isinstance(actions, dict)
        and old is not None
        and page.controller.supports("create_escalation")
    ):
        action = QAction(window)
        action.setShortcut(old.shortcut())
        action.setShortcutContext(old.shortcutContext())
        action.setText(old.text())
        window.removeAction(old)
        window.addAction(action)
        actions["escalate"] = action
        action.triggered.connect(lambda _=False: ask_escalate(window, clock=clock))
        # And a button in the thread header, beside "Send result".
        result_button = getattr(window, "result_button", None)
        header = result_button.parentWidget() if isinstance(result_button, QPushButton) else None
        header_layout = header.layout() if header is not None else None
        if isinstance(header_layout, QHBoxLayout) and isinstance(result_button, QPushButton):
            escalate = QPushButton(
                QCoreApplication.translate("EscalationsPage", "Escalate…"), header
            )
            escalate.setObjectName("escalateButton")
            escalate.setAutoDefault(False)
            escalate.setToolTip(
                QCoreApplication.translate(
                    "EscalationsPage", "Hand this conversation to a clinician (Ctrl+Shift+E)"
                )
            )
            escalate.clicked.connect(lambda: ask_escalate(window, clock=clock))
            header_layout.insertWidget(header_layout.indexOf(result_button), escalate)
            window.escalate_button = escalate
    page.start()
    return page


def ask_escalate(window: Any, *, clock: Clock = time.time) -> EscalateDialog | None:
    """Open the escalate dialog for the open conversation (non-blocking)."""
    page = install(window)
    conversation_id = window.controller.current_conversation_id
    if conversation_id is None:
        return None
    dialog = EscalateDialog(page.directory, window, clock=clock)

    def patients(cid: int, found: object) -> None:
        if cid == conversation_id and window.escalate_dialog is dialog:
            dialog.set_patients(found)

    page.controller.patients_loaded.connect(patients)
    page.controller.load_patients(conversation_id)

    def done(result: int) -> None:
        if result == QDialog.DialogCode.Accepted:
            page.controller.create(conversation_id, dialog.values())
        dialog.deleteLater()
        window.escalate_dialog = None

    dialog.finished.connect(done)
    dialog.finished.connect(lambda _r: page.controller.patients_loaded.disconnect(patients))
    window.escalate_dialog = dialog
    dialog.open()
    return dialog


def show(window: Any) -> EscalationsPage:
    """Show the queue page (``--view escalations``)."""
    page = install(window)
    window.pages.setCurrentWidget(page)
    page.controller.refresh()
    return page
