"""Sending a result: attach, check, confirm two identifiers, then send with five seconds to undo.

The file is checked here as on the relay (``domain.results``): by content, size, a PDF must
open and carry no scripts; the text in it is compared with the patient the result is for.
A mismatch blocks the send until a written reason is given (the relay audits it). The
sender ticks two identifiers of the patient (name, date of birth), and the patient's
consent for results by WhatsApp must be on file. After Send, nothing leaves this PC for
five seconds: Undo stops it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inbox_app.domain.appointments import PatientRecord
from inbox_app.domain.consent import ConsentPurpose, ConsentRecord
from inbox_app.domain.results import (
    CheckedResult,
    IdentityCheck,
    IdentityStatus,
    ResultRejected,
    check_result,
    identity_check,
)
from ui.controller import asyncSlot

log = logging.getLogger("inbox.ui.result")

UNDO_SECONDS = 5.0
OVERRIDE_MIN_CHARS = 10  # as the relay (inbox_app/relay/results.py)


def _reject_sentence(exc: ResultRejected) -> str:
    """The checker's reason in the user's language."""
    sentences = {
        "type": QCoreApplication.translate(
            "ResultDialog", "Only PDF, JPEG or PNG files can be sent as results."
        ),
        "size": QCoreApplication.translate(
            "ResultDialog", "The file is larger than WhatsApp allows."
        ),
        "damaged": QCoreApplication.translate("ResultDialog", "The PDF cannot be opened."),
        "encrypted": QCoreApplication.translate(
            "ResultDialog", "The PDF is password-protected; export it without a password."
        ),
        "active_content": QCoreApplication.translate(
            "ResultDialog",
            "The PDF contains scripts, actions or embedded files and cannot be sent.",
        ),
        "pages": QCoreApplication.translate("ResultDialog", "A result must have 1 to 50 pages."),
    }
    return sentences.get(exc.reason.value, str(exc))


def _finding(reason: str) -> str:
    sentences = {
        "the patient's name does not appear in the document": QCoreApplication.translate(
            "ResultDialog", "The patient's name does not appear in the document."
        ),
        "the date of birth in the document differs": QCoreApplication.translate(
            "ResultDialog", "The date of birth in the document differs."
        ),
        "the patient's date of birth does not appear in the document": QCoreApplication.translate(
            "ResultDialog", "The patient's date of birth does not appear in the document."
        ),
        "the record number in the document differs": QCoreApplication.translate(
            "ResultDialog", "The record number in the document differs."
        ),
        "no readable text in the file": QCoreApplication.translate(
            "ResultDialog", "No readable text in the file: compare it by eye."
        ),
    }
    return sentences.get(reason, reason)


def _german_date(iso: str | None) -> str:
    if not iso:
        return "—"
    try:
        return date.fromisoformat(iso).strftime("%d.%m.%Y")
    except ValueError:
        return iso


class ResultDialog(QDialog):
    """One result for one patient of the conversation; ``sent`` carries the relay's state."""

    sent = Signal(dict)
    undone = Signal()

    def __init__(
        self,
        engine: Any,
        conversation_id: int,
        patients: Sequence[PatientRecord],
        consents: Sequence[ConsentRecord],
        parent: QWidget | None = None,
        *,
        undo_seconds: float = UNDO_SECONDS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("resultDialog")
        self.setWindowTitle(self.tr("Send result"))
        self.setAcceptDrops(True)
        self.engine = engine
        self.conversation_id = conversation_id
        self.patients = list(patients)
        self.consents = list(consents)
        self.undo_seconds = undo_seconds
        self.path: Path | None = None
        self.client_id = str(uuid.uuid4())
        self.checked: CheckedResult | None = None
        self.identity: IdentityCheck | None = None
        self._remaining = 0.0
        self._countdown = QTimer(self)
        self._countdown.setInterval(100)
        self._countdown.timeout.connect(self._tick)

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.patient_box = QComboBox(self)
        self.patient_box.setObjectName("resultPatient")
        self.patient_box.currentIndexChanged.connect(self._patient_changed)
        form.addRow(self.tr("Result for"), self.patient_box)
        self.consent_label = QLabel(self)
        self.consent_label.setObjectName("resultConsent")
        self.consent_label.setWordWrap(True)
        form.addRow(self.tr("Consent"), self.consent_label)
        layout.addLayout(form)

        self.drop_area = QLabel(self.tr("Drop a PDF, JPEG or PNG here"), self)
        self.drop_area.setObjectName("resultDropArea")
        self.drop_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_area.setFrameShape(QFrame.Shape.StyledPanel)
        self.drop_area.setMinimumHeight(120)
        self.drop_area.setWordWrap(True)
        layout.addWidget(self.drop_area)
        self.choose_button = QPushButton(self.tr("Choose file…"), self)
        self.choose_button.setObjectName("resultChoose")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self._choose)
        layout.addWidget(self.choose_button)

        self.file_label = QLabel(self)
        self.file_label.setObjectName("resultFile")
        self.file_label.setWordWrap(True)
        layout.addWidget(self.file_label)
        self.findings = QLabel(self)
        self.findings.setObjectName("resultFindings")
        self.findings.setWordWrap(True)
        layout.addWidget(self.findings)

        self.name_check = QCheckBox(self)
        self.name_check.setObjectName("resultConfirmName")
        self.dob_check = QCheckBox(self)
        self.dob_check.setObjectName("resultConfirmDob")
        for box in (self.name_check, self.dob_check):
            box.toggled.connect(self._update)
            layout.addWidget(box)

        self.override_label = QLabel(
            self.tr("The document does not match. Reason for sending it anyway (audited):"), self
        )
        self.override_label.setWordWrap(True)
        self.override = QPlainTextEdit(self)
        self.override.setObjectName("resultOverride")
        self.override.setMaximumHeight(70)
        self.override.textChanged.connect(self._update)
        layout.addWidget(self.override_label)
        layout.addWidget(self.override)

        self.status = QLabel(self)
        self.status.setObjectName("resultStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.clicked.connect(self.reject)
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setObjectName("resultSend")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self._send_or_undo)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        layout.addLayout(buttons)
        self.resize(480, 560)
        self.set_context(patients, consents)

    # -- the patient, the consent ------------------------------------------------------
    def set_context(
        self, patients: Sequence[PatientRecord], consents: Sequence[ConsentRecord]
    ) -> None:
        """The patients linked to the conversation's number and their consents."""
        self.patients, self.consents = list(patients), list(consents)
        self.patient_box.blockSignals(True)
        self.patient_box.clear()
        for p in self.patients:
            self.patient_box.addItem(
                f"{p.given_name} {p.family_name} · {_german_date(p.birth_date)}", p.id
            )
        self.patient_box.blockSignals(False)
        self._patient_changed()

    @asyncSlot(str)
    async def load(self, wa_id: str) -> None:
        """Fill the patients and consents from the engine's cache (main window's entry)."""
        try:
            patients = await self.engine.patients_for(wa_id)
            consents = await self.engine.consents_for(wa_id)
        except Exception as exc:
            log.info("result dialog context not loaded: %s", type(exc).__name__)
            self.status.setText(self.tr("The patient record could not be loaded."))
            return
        self.set_context(patients, consents)

    def patient(self) -> PatientRecord | None:
        index = self.patient_box.currentIndex()
        return self.patients[index] if 0 <= index < len(self.patients) else None

    def consent_on_file(self) -> bool:
        results = [c for c in self.consents if c.purpose == ConsentPurpose.RESULTS]
        latest = max(results, key=lambda c: c.at, default=None)
        return latest is not None and latest.granted

    def _patient_changed(self) -> None:
        patient = self.patient()
        if patient is None:
            self.name_check.setText(self.tr("No patient is linked to this conversation."))
            self.dob_check.setText("")
        else:
            self.name_check.setText(
                self.tr("Name matches: %1").replace(
                    "%1", f"{patient.given_name} {patient.family_name}"
                )
            )
            self.dob_check.setText(
                self.tr("Date of birth matches: %1").replace("%1", _german_date(patient.birth_date))
            )
        # Confirmations belong to one patient: choosing another asks again.
        self.name_check.setChecked(False)
        self.dob_check.setChecked(False)
        if self.consent_on_file():
            self.consent_label.setText(self.tr("Results by WhatsApp: on file"))
        else:
            self.consent_label.setText(
                self.tr("Results by WhatsApp: not on file — record the consent before sending.")
            )
        self._compare()

    # -- the file ----------------------------------------------------------------------
    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose result"), "", self.tr("Results (*.pdf *.jpg *.jpeg *.png)")
        )
        if name:
            self.attach(Path(name))

    @staticmethod
    def _local_file(mime: QMimeData) -> Path | None:
        for url in mime.urls():
            if url.isLocalFile():
                return Path(url.toLocalFile())
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._local_file(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._local_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.attach(path)

    def attach(self, path: Path) -> None:
        """Check the file at once; a rejected file says why and cannot be sent."""
        self.path, self.checked, self.identity = None, None, None
        self.override.clear()
        try:
            data = path.read_bytes()
            checked = check_result(data)
        except OSError:
            self._show_problem(self.tr("The file cannot be read."))
            return
        except ResultRejected as exc:
            self._show_problem(_reject_sentence(exc))
            return
        self.path, self.checked = path, checked
        # One id per attached file: a send repeated after a lost answer is not sent twice.
        self.client_id = str(uuid.uuid4())
        size_kb = max(1, checked.size // 1024)
        if checked.mime == "application/pdf":
            pages = self.tr("%n page(s)", "", checked.pages)
            self.drop_area.setText(f"{path.name}\n{pages}")
        else:
            pixmap = QPixmap()
            pixmap.loadFromData(data)
            if pixmap.isNull():
                self.drop_area.setText(path.name)
            else:
                self.drop_area.setPixmap(
                    pixmap.scaled(
                        320,
                        200,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
        self.file_label.setText(f"{path.name} · {checked.mime} · {size_kb} KB")
        self._compare()

    def _show_problem(self, sentence: str) -> None:
        self.drop_area.setText(self.tr("Drop a PDF, JPEG or PNG here"))
        self.file_label.setText(sentence)
        self.file_label.setProperty("problem", True)
        self.findings.clear()
        self._update()

    def _compare(self) -> None:
        """The wrong-patient guard for the chosen patient."""
        patient = self.patient()
        if self.checked is None or patient is None:
            self.identity = None
            self.findings.clear()
        else:
            self.identity = identity_check(
                self.checked.text,
                family_name=patient.family_name,
                birth_date=patient.birth_date,
                record_number=patient.record_number,
            )
            if self.identity.status == IdentityStatus.MATCH:
                self.findings.setText(
                    self.tr("✔ Name and date of birth in the document match this patient.")
                )
            else:
                lines = [_finding(r) for r in self.identity.reasons]
                prefix = (
                    self.tr("✖ Wrong patient? Sending is blocked:")
                    if self.identity.status == IdentityStatus.MISMATCH
                    else self.tr("Check by eye:")
                )
                self.findings.setText(prefix + "\n• " + "\n• ".join(lines))
        self._update()

    # -- sending -----------------------------------------------------------------------
    def mismatch(self) -> bool:
        return self.identity is not None and self.identity.status == IdentityStatus.MISMATCH

    def blockers(self) -> list[str]:
        """Why Send is disabled, in order (empty: ready)."""
        found = []
        if self.patient() is None:
            found.append(self.tr("No patient is linked to this conversation."))
        if self.checked is None:
            found.append(self.tr("Attach the result."))
        if not self.consent_on_file():
            found.append(self.tr("The patient's consent for results by WhatsApp is missing."))
        if not (self.name_check.isChecked() and self.dob_check.isChecked()):
            found.append(self.tr("Confirm the patient's name and date of birth."))
        if self.mismatch() and len(self.override.toPlainText().strip()) < OVERRIDE_MIN_CHARS:
            found.append(self.tr("Give a reason for sending a document that does not match."))
        return found

    def _update(self) -> None:
        self.override_label.setVisible(self.mismatch())
        self.override.setVisible(self.mismatch())
        if self._countdown.isActive():
            return
        blockers = self.blockers()
        self.send_button.setEnabled(not blockers)
        self.send_button.setToolTip("\n".join(blockers))

    def pending(self) -> bool:
        """Send was pressed and the undo time is running."""
        return self._countdown.isActive()

    def _send_or_undo(self) -> None:
        if self._countdown.isActive():
            self.undo()
            return
        if self.blockers():
            return
        self._remaining = self.undo_seconds
        self._set_inputs_enabled(False)
        self._countdown.start()
        self._tick(first=True)

    def undo(self) -> None:
        """Nothing has left the PC: stop, and let the sender change anything."""
        self._countdown.stop()
        self._set_inputs_enabled(True)
        self.send_button.setText(self.tr("Send"))
        self.status.setText(self.tr("Not sent."))
        self._update()
        self.undone.emit()

    def _tick(self, first: bool = False) -> None:
        if not first:
            self._remaining -= self._countdown.interval() / 1000.0
        if self._remaining <= 0:
            self._countdown.stop()
            self.send_button.setEnabled(False)
            self.send_button.setText(self.tr("Sending…"))
            self._deliver()
            return
        seconds = max(1, int(self._remaining + 0.999))
        self.send_button.setText(self.tr("Undo (%1)").replace("%1", str(seconds)))
        self.status.setText(self.tr("Sending in %1 s…").replace("%1", str(seconds)))

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (
            self.patient_box,
            self.name_check,
            self.dob_check,
            self.override,
            self.cancel_button,
            self.choose_button,
        ):
            widget.setEnabled(enabled)
        self.setAcceptDrops(enabled)

    @asyncSlot()
    async def _deliver(self) -> None:
        patient = self.patient()
        assert patient is not None and self.path is not None
        try:
            state = await self.engine.send_result(
                self.conversation_id,
                patient.id,
                self.path,
                confirmed_name=f"{patient.given_name} {patient.family_name}",
                confirmed_dob=patient.birth_date or "",
                override_reason=self.override.toPlainText().strip() or None,
                client_id=self.client_id,
            )
        except ResultRejected as exc:
            self._failed(_reject_sentence(exc))
            return
        except Exception as exc:  # the relay's refusal carries a sentence meant for staff
            message = getattr(exc, "message", None)
            log.info("result not sent: %s", type(exc).__name__)
            self._failed(
                message
                if isinstance(message, str) and message
                else self.tr("The result could not be sent.")
            )
            return
        self.status.setText(self.tr("Sent."))
        self.sent.emit(state)
        self.accept()

    def _failed(self, sentence: str) -> None:
        self._set_inputs_enabled(True)
        self.send_button.setText(self.tr("Send"))
        self.status.setText(sentence)
        self._update()
