"""Dialogs of the patient panel: book or move an appointment in a free slot, link an
existing patient to a number, create a patient. They talk to the panel's controller
(ui/patient_panel.py) through its signals and ``@asyncSlot`` methods, and are opened with
``open()`` (never ``exec()``: a nested loop would stall qasync)."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inbox_app.domain.appointments import AppointmentRecord, PatientRecord
from inbox_app.domain.scheduling import Slot
from ui.patient_panel import PatientPanelController, format_date, format_when, ui_locale

SlotRole = Qt.ItemDataRole.UserRole


def _slot_of(raw: Any) -> Slot:
    if isinstance(raw, Slot):
        return raw
    return Slot(str(raw["clinician"]), float(raw["start"]), float(raw["end"]))


class BookingDialog(QDialog):
    """Appointment type, clinician, and the free slots to choose from; books (or, with an
    ``appointment``, moves) the chosen one. A slot someone took meanwhile is reported and
    the relay's new suggestions replace the list."""

    def __init__(
        self,
        controller: PatientPanelController,
        patient: PatientRecord,
        appointment: AppointmentRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bookingDialog")
        self.controller = controller
        self.patient = patient
        self.appointment = appointment
        self._types_loaded = False
        self._waiting = False
        self._closed = False  # signals are disconnected once, on the first close
        name = f"{patient.given_name} {patient.family_name}".strip()
        self.setWindowTitle(
            self.tr("Move appointment — %1").replace("%1", name)
            if appointment is not None
            else self.tr("Book appointment — %1").replace("%1", name)
        )
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.type_box = QComboBox(self)
        self.type_box.setAccessibleName(self.tr("Appointment type"))
        self.clinician_box = QComboBox(self)
        self.clinician_box.setAccessibleName(self.tr("Clinician"))
        self.clinician_box.addItem(self.tr("Any clinician"), "")
        form.addRow(self.tr("Type"), self.type_box)
        form.addRow(self.tr("Clinician"), self.clinician_box)
        layout.addLayout(form)
        self.slot_list = QListWidget(self)
        self.slot_list.setObjectName("slotList")
        self.slot_list.setAccessibleName(self.tr("Free times"))
        self.slot_list.setMinimumSize(360, 220)
        layout.addWidget(self.slot_list)
        self.note = QLabel(self)
        self.note.setObjectName("bookingNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Move here") if appointment is not None else self.tr("Book"))
        ok.setAccessibleName(ok.text())
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.slot_list.currentRowChanged.connect(self._update_ok)
        self.slot_list.itemDoubleClicked.connect(lambda _item: self.submit())
        controller.slots_found.connect(self._show_offer)
        controller.slot_taken.connect(self._on_taken)
        controller.booked.connect(self._on_booked)
        controller.failed.connect(self._on_failed)
        self.type_box.currentIndexChanged.connect(self.refresh)
        self.clinician_box.currentIndexChanged.connect(self.refresh)
        self._update_ok()
        self.note.setText(self.tr("Looking for free times…"))
        # The first query (no type yet) brings the schedule's types and clinicians.
        controller.find_slots("", "")

    def done(self, result: int) -> None:
        if self._closed:
            super().done(result)
            return
        self._closed = True
        for signal, slot in (
            (self.controller.slots_found, self._show_offer),
            (self.controller.slot_taken, self._on_taken),
            (self.controller.booked, self._on_booked),
            (self.controller.failed, self._on_failed),
        ):
            signal.disconnect(slot)
        super().done(result)

    def refresh(self, *_: object) -> None:
        if not self._types_loaded:
            return
        self.slot_list.clear()
        self.note.setText(self.tr("Looking for free times…"))
        self.controller.find_slots(
            str(self.type_box.currentData() or ""), str(self.clinician_box.currentData() or "")
        )

    def _show_offer(self, offer: Any) -> None:
        if not self._types_loaded and offer.types:
            self._types_loaded = True
            german = ui_locale().language() == QLocale.Language.German
            for block in (self.type_box, self.clinician_box):
                block.blockSignals(True)
            for kind in offer.types:
                label = kind.label_de if german else kind.label_en
                self.type_box.addItem(f"{label} ({kind.minutes} min)", kind.code)
            for name in offer.clinicians:
                self.clinician_box.addItem(name, name)
            if self.appointment is not None:
                # Moving keeps the appointment's type (appointments carry its label).
                reason = (self.appointment.reason or "").casefold()
                for i, kind in enumerate(offer.types):
                    if reason in (kind.label_de.casefold(), kind.label_en.casefold()):
                        self.type_box.setCurrentIndex(i)
            for block in (self.type_box, self.clinician_box):
                block.blockSignals(False)
            if (
                self.type_box.currentData() == offer.type_code
                and self.clinician_box.currentIndex() == 0
            ):
                self._fill(offer.slots)
            else:
                self.refresh()
            return
        self._fill(offer.slots)

    def _fill(self, slots: list[Any]) -> None:
        self.slot_list.clear()
        for raw in slots:
            slot = _slot_of(raw)
            item = QListWidgetItem(f"{format_when(slot.start)} · {slot.clinician}")
            item.setData(SlotRole, slot)
            self.slot_list.addItem(item)
        self.note.setText(
            self.tr("Choose a time.") if slots else self.tr("No free times in the next two weeks.")
        )
        if slots:
            self.slot_list.setCurrentRow(0)
        self._update_ok()

    def chosen(self) -> Slot | None:
        item = self.slot_list.currentItem()
        value = item.data(SlotRole) if item is not None else None
        return value if isinstance(value, Slot) else None

    def _update_ok(self, *_: object) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.chosen() is not None and not self._waiting)

    def submit(self) -> None:
        slot = self.chosen()
        if slot is None or self._waiting:
            return
        self._waiting = True
        self._update_ok()
        type_code = str(self.type_box.currentData() or "")
        self.note.setText(self.tr("Booking…"))
        if self.appointment is not None:
            self.controller.move(self.appointment.id, type_code, slot.clinician, slot.start)
        else:
            self.controller.book(self.patient.id, type_code, slot.clinician, slot.start)

    def _on_taken(self, sentence: str, suggestions: list[Any]) -> None:
        self._waiting = False
        self._fill(suggestions)
        self.note.setText(self.tr("Someone booked that time first. Please choose another one."))

    def _on_booked(self, _record: object) -> None:
        self._waiting = False
        self.accept()

    def _on_failed(self, sentence: str) -> None:
        self._waiting = False
        self.note.setText(sentence)
        self._update_ok()


class LinkPatientDialog(QDialog):
    """Search the cached patients by name, record number or date of birth and link the
    chosen one to the conversation's number."""

    def __init__(self, controller: PatientPanelController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("linkPatientDialog")
        self.controller = controller
        self._closed = False
        self.setWindowTitle(self.tr("Link patient"))
        layout = QVBoxLayout(self)
        self.query = QLineEdit(self)
        self.query.setPlaceholderText(self.tr("Name, record number or date of birth"))
        self.query.setAccessibleName(self.tr("Search patients"))
        layout.addWidget(self.query)
        self.results = QListWidget(self)
        self.results.setAccessibleName(self.tr("Matching patients"))
        self.results.setMinimumSize(340, 200)
        layout.addWidget(self.results)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Link"))
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.query.textChanged.connect(self._search)
        controller.patients_found.connect(self._show)
        self._update_ok()

    def done(self, result: int) -> None:
        if not self._closed:
            self._closed = True
            self.controller.patients_found.disconnect(self._show)
        super().done(result)

    def _search(self, text: str) -> None:
        if len(text.strip()) >= 2:
            self.controller.search_patients(text.strip())
        else:
            self.results.clear()
            self._update_ok()

    def _show(self, query: str, found: list[PatientRecord]) -> None:
        if query != self.query.text().strip():
            return  # an older search answered late
        self.results.clear()
        for p in found:
            born = ""
            if p.birth_date:
                try:
                    born = format_date(date.fromisoformat(p.birth_date))
                except ValueError:
                    born = p.birth_date
            extra = ", ".join(x for x in (born, p.record_number or "") if x)
            item = QListWidgetItem(
                f"{p.given_name} {p.family_name}" + (f" ({extra})" if extra else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(0)
        self._update_ok()

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self.results.currentItem() is not None
        )

    def submit(self) -> None:
        item = self.results.currentItem()
        if item is None:
            return
        self.controller.link(int(item.data(Qt.ItemDataRole.UserRole)))
        self.accept()


class CreatePatientDialog(QDialog):
    """A new patient under the conversation's number (created by staff)."""

    def __init__(self, controller: PatientPanelController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("createPatientDialog")
        self.controller = controller
        self.setWindowTitle(self.tr("Create patient"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.given = QLineEdit(self)
        self.family = QLineEdit(self)
        self.birth = QLineEdit(self)
        self.birth.setPlaceholderText(self.tr("DD.MM.YYYY"))
        self.record = QLineEdit(self)
        for label, field in (
            (self.tr("Given name"), self.given),
            (self.tr("Family name"), self.family),
            (self.tr("Date of birth"), self.birth),
            (self.tr("Record number"), self.record),
        ):
            field.setAccessibleName(label)
            form.addRow(label, field)
        layout.addLayout(form)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Create"))
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    def birth_date(self) -> str | None:
        """ISO date from DD.MM.YYYY or YYYY-MM-DD; None when empty; raises ValueError."""
        text = self.birth.text().strip()
        if not text:
            return None
        if "." in text:
            day, month, year = (int(x) for x in text.split("."))
            return date(year, month, day).isoformat()
        return date.fromisoformat(text).isoformat()

    def submit(self) -> None:
        given, family = self.given.text().strip(), self.family.text().strip()
        if not given or not family:
            self.note.setText(self.tr("Given and family name are needed."))
            return
        try:
            born = self.birth_date()
        except ValueError:
            self.note.setText(self.tr("The date of birth is not a date (DD.MM.YYYY)."))
            return
        if born is not None and born > date.today().isoformat():
            self.note.setText(self.tr("The date of birth lies in the future."))
            return
        self.controller.create(family, given, born or "", self.record.text().strip())
        self.accept()
