"""Logging how a call back went: reached, not reached, or a callback at a set time, with a
note. The relay shows it in the thread and audits it (relay/calls.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QDateTime, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from inbox_app.domain.escalations import MAX_NOTE, CallOutcome

UrlOpener = Callable[[QUrl], bool]


def open_tel(uri: str, opener: UrlOpener = QDesktopServices.openUrl) -> bool:
    """Hand a ``tel:`` URI to the system's phone handler (softphone, paired mobile …)."""
    if not uri.startswith("tel:+"):
        return False
    return bool(opener(QUrl(uri)))


@dataclass(frozen=True, slots=True)
class OutcomeChoice:
    outcome: CallOutcome
    note: str | None
    callback_at: float | None


class CallOutcomeDialog(QDialog):
    """Choose the outcome; a scheduled callback needs its time (in the future)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("callOutcomeDialog")
        self.setWindowTitle(self.tr("Log call outcome"))
        self._clock = clock
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("How did the call go?"), self))
        self.group = QButtonGroup(self)
        self.buttons: dict[CallOutcome, QRadioButton] = {}
        labels = {
            CallOutcome.REACHED: self.tr("Reached the patient"),
            CallOutcome.NOT_REACHED: self.tr("Not reached"),
            CallOutcome.CALLBACK: self.tr("Callback scheduled"),
        }
        for outcome, label in labels.items():
            button = QRadioButton(label, self)
            self.group.addButton(button)
            self.buttons[outcome] = button
            layout.addWidget(button)
        self.buttons[CallOutcome.REACHED].setChecked(True)
        self.callback_time = QDateTimeEdit(self)
        self.callback_time.setCalendarPopup(True)
        self.callback_time.setDisplayFormat("dd.MM.yyyy HH:mm")
        self.callback_time.setDateTime(QDateTime.fromSecsSinceEpoch(int(clock()) + 3600))
        self.callback_time.setEnabled(False)
        layout.addWidget(self.callback_time)
        self.note = QPlainTextEdit(self)
        self.note.setPlaceholderText(self.tr("Note (optional, staff only)"))
        self.note.setFixedHeight(90)
        layout.addWidget(self.note)
        self.problem = QLabel(self)
        self.problem.setObjectName("dialogProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d93025;")  # the same red as failed messages
        self.problem.hide()
        layout.addWidget(self.problem)
        self.box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
            Qt.Orientation.Horizontal,
            self,
        )
        self.box.accepted.connect(self._check)
        self.box.rejected.connect(self.reject)
        layout.addWidget(self.box)
        self.buttons[CallOutcome.CALLBACK].toggled.connect(self.callback_time.setEnabled)

    def selected(self) -> CallOutcome:
        for outcome, button in self.buttons.items():
            if button.isChecked():
                return outcome
        return CallOutcome.REACHED

    def choice(self) -> OutcomeChoice:
        outcome = self.selected()
        note = self.note.toPlainText().strip() or None
        callback = (
            float(self.callback_time.dateTime().toSecsSinceEpoch())
            if outcome == CallOutcome.CALLBACK
            else None
        )
        return OutcomeChoice(outcome, note, callback)

    def _check(self) -> None:
        choice = self.choice()
        problem = None
        if choice.callback_at is not None and choice.callback_at <= self._clock():
            problem = self.tr("Choose a callback time in the future.")
        elif choice.note is not None and len(choice.note) > MAX_NOTE:
            problem = self.tr("The note is too long.")
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return
        self.accept()
