"""Quick replies: canned answers with ``{{variables}}`` filled from the conversation, and the
``/`` palette that searches them, previews the filled text and flags missing values.

A reply with a missing value is inserted with the ``{{variable}}`` left in place, and the
window refuses to send text that still holds one, so nothing goes out with a blank.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QDate,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from inbox_app.domain.appointments import AppointmentRecord, PatientRecord

log = logging.getLogger("inbox.ui.quick_replies")

QUICK_REPLIES = Path(__file__).resolve().parent.parent / "resources" / "demo" / "quick_replies.json"
VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")
ReplyRole = Qt.ItemDataRole.UserRole + 20
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class QuickReply:
    id: str
    shortcut: str
    title: str
    text: str
    language: str = "de"


@dataclass(frozen=True, slots=True)
class FilledReply:
    """A reply with its variables filled; ``missing`` names those without a value."""

    text: str
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def load_quick_replies(path: Path = QUICK_REPLIES) -> tuple[list[QuickReply], dict[str, str]]:
    """The replies and clinic values from ``path`` (empty when the file is missing or broken)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        replies = [
            QuickReply(
                id=str(r["id"]),
                shortcut=str(r.get("shortcut") or r["id"]),
                title=str(r["title"]),
                text=str(r["text"]),
                language=str(r.get("language") or "de"),
            )
            for r in data.get("replies", [])
        ]
        clinic = {f"clinic.{k}": str(v) for k, v in (data.get("clinic") or {}).items() if v}
        return replies, clinic
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("quick replies unavailable: %s", type(exc).__name__)
        return [], {}


def variables_in(text: str) -> list[str]:
    """The variable names in ``text``, in order of appearance, without repeats."""
    seen: list[str] = []
    for name in VARIABLE.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def fill(text: str, values: Mapping[str, str | None]) -> FilledReply:
    """Fill ``{{name}}`` from ``values``; a missing or blank value stays as ``{{name}}``."""
    missing: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or not str(value).strip():
            if name not in missing:
                missing.append(name)
            return "{{" + name + "}}"
        return str(value)

    return FilledReply(VARIABLE.sub(sub, text), tuple(missing))


def unfilled(text: str) -> list[str]:
    """Variables still in ``text`` (the composer refuses to send while any remain)."""
    return variables_in(text)


def patient_values(display_name: str | None) -> dict[str, str]:
    """What the conversation tells about the patient (first and last name from the display
    name); appointment values need the patient record, which does not exist yet."""
    values: dict[str, str] = {}
    parts = (display_name or "").split()
    # A display name that is just a phone number is not a name.
    if parts and not any(ch.isdigit() for ch in parts[0]):
        values["patient.first_name"] = parts[0]
        if len(parts) > 1:
            values["patient.last_name"] = parts[-1]
    return values


def appointment_values(start: float, language: str | None) -> dict[str, str]:
    """An appointment's date and time as a message in ``language`` writes them
    (``appointment.when``: "Donnerstag, 4. Dezember 2025, 09:30 Uhr"); German by default."""
    locale = QLocale((language or "de").replace("_", "-"))
    moment = datetime.fromtimestamp(start)
    day = QDate(moment.year, moment.month, moment.day)
    german = locale.language() == QLocale.Language.German
    date = (
        day.toString("dd.MM.yyyy")
        if german
        else locale.toString(day, QLocale.FormatType.ShortFormat)
    )
    clock = moment.strftime("%H:%M")
    when = f"{locale.toString(day, QLocale.FormatType.LongFormat)}, {clock}"
    return {
        "appointment.date": date,
        "appointment.time": clock,
        "appointment.when": when + (" Uhr" if german else ""),
    }


def record_values(
    patient: PatientRecord | None, appointment: AppointmentRecord | None
) -> dict[str, str]:
    """Values from the patient register: names and language, and the next appointment's
    date and time in the patient's language (``appointment.start`` keeps the moment, so a
    template in another language can write it its own way; ``reference`` is the booking)."""
    values: dict[str, str] = {}
    if patient is not None:
        if patient.given_name:
            values["patient.first_name"] = patient.given_name
        if patient.family_name:
            values["patient.last_name"] = patient.family_name
        full = " ".join(p for p in (patient.given_name, patient.family_name) if p)
        if full:
            values["patient.full_name"] = full
        if patient.language:
            values["patient.language"] = patient.language
    if appointment is not None:
        values.update(appointment_values(appointment.start, patient.language if patient else None))
        values["appointment.start"] = repr(float(appointment.start))
        values["appointment.reference"] = appointment.external_id
    return values


class QuickReplyModel(QAbstractListModel):
    """The quick replies, one per row."""

    def __init__(self, replies: list[QuickReply], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._replies = list(replies)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._replies)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._replies):
            return None
        reply = self._replies[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"/{reply.shortcut}  —  {reply.title}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return reply.title
        if role == ReplyRole:
            return reply
        if role == Qt.ItemDataRole.ToolTipRole:
            return reply.text
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names[ReplyRole] = QByteArray(b"reply")
        return names


class _ReplyFilter(QSortFilterProxyModel):
    """Matches the query against shortcut, title and text (every word must match)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []

    def set_query(self, query: str) -> None:
        self.beginFilterChange()
        self._words = query.lower().lstrip("/").split()
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        reply = model.index(source_row, 0, source_parent).data(ReplyRole)
        if not isinstance(reply, QuickReply):
            return False
        hay = f"{reply.shortcut} {reply.title} {reply.text}".lower()
        return all(w in hay for w in self._words)


class QuickReplyPalette(QFrame):
    """A popup: a search field, the matching replies and a preview of the filled text.

    Enter (or a click) emits ``chosen(text)`` with the filled reply; Escape closes it.
    """

    chosen = Signal(str)

    def __init__(self, replies: list[QuickReply], parent: QWidget | None = None) -> None:
        # A child overlay rather than a Qt.Popup window: no extra top-level window, no
        # keyboard grab (which some platforms, offscreen among them, cannot do).
        super().__init__(parent)
        self.hide()
        self.setObjectName("quickReplyPalette")
        self.setAccessibleName(self.tr("Quick replies"))
        self._values: dict[str, str] = {}
        self.model = QuickReplyModel(replies, self)
        self.proxy = _ReplyFilter(self)
        self.proxy.setSourceModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        self.search = QLineEdit(self)
        self.search.setObjectName("quickReplySearch")
        self.search.setAccessibleName(self.tr("Search quick replies"))
        self.search.setPlaceholderText(self.tr("Search quick replies…"))
        self.search.installEventFilter(self)
        self.list = QListView(self)
        self.list.setObjectName("quickReplyList")
        self.list.setAccessibleName(self.tr("Quick replies"))
        self.list.setModel(self.proxy)
        self.list.setUniformItemSizes(True)
        self.preview = QLabel(self)
        self.preview.setObjectName("quickReplyPreview")
        self.preview.setAccessibleName(self.tr("Preview"))
        self.preview.setWordWrap(True)
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setMinimumHeight(56)
        self.missing = QLabel(self)
        self.missing.setObjectName("quickReplyMissing")
        self.missing.setAccessibleName(self.tr("Missing values"))
        self.missing.setWordWrap(True)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.preview)
        layout.addWidget(self.missing)
        self.resize(460, 380)
        self.search.textChanged.connect(self._on_query)
        self.list.selectionModel().currentChanged.connect(self._update_preview)
        self.list.activated.connect(self._choose)
        self.list.clicked.connect(self._choose)

    def open_for(self, values: Mapping[str, str], query: str = "") -> None:
        """Show the palette with these variable values, filtered by ``query``."""
        self._values = dict(values)
        self.search.setText(query)
        self._on_query(query)
        self.show()
        self.raise_()
        self.search.setFocus()

    def _on_query(self, query: str) -> None:
        self.proxy.set_query(query)
        if self.proxy.rowCount() and not self.list.currentIndex().isValid():
            self.list.setCurrentIndex(self.proxy.index(0, 0))
        self._update_preview()

    def current_reply(self) -> QuickReply | None:
        reply = self.list.currentIndex().data(ReplyRole)
        return reply if isinstance(reply, QuickReply) else None

    def filled(self) -> FilledReply | None:
        """The highlighted reply, filled."""
        reply = self.current_reply()
        return None if reply is None else fill(reply.text, self._values)

    def _update_preview(self, *_: object) -> None:
        filled = self.filled()
        if filled is None:
            self.preview.setText(self.tr("No quick reply matches."))
            self.missing.clear()
            return
        self.preview.setText(filled.text)
        if filled.missing:
            self.missing.setText(
                self.tr("Missing: %1 — fill it in before sending.").replace(
                    "%1", ", ".join(filled.missing)
                )
            )
        else:
            self.missing.clear()

    def _choose(self, *_: object) -> None:
        filled = self.filled()
        if filled is None:
            return
        self.hide()
        self.chosen.emit(filled.text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentIndex().row() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.proxy.rowCount():
                    self.list.setCurrentIndex(self.proxy.index(row, 0))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(watched, event)
