"""The patient panel beside the thread: who writes (name, date of birth and age, record
number, the other patients sharing the number with a switch), their upcoming appointments
with Book / Move / Cancel, consent per purpose, labels; Link or Create for an unknown
number (issues 6 and 8).

``PatientPanelController`` (a QObject with ``@asyncSlot`` methods: qasync breaks on free
functions) reads the engine's cached patient register and sends staff changes to the relay;
``PatientPanel`` only shows what it emits. Engines without the register (older fakes) leave
the patient rows at "—" and the actions disabled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QDateTime, QLocale, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from inbox_app.client.engine import ChangeSummary, SignedInUser
from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus, PatientRecord
from inbox_app.domain.consent import ConsentPurpose, ConsentRecord
from inbox_app.domain.conversations import ConversationRecord, window_remaining
from ui.call_events import call_event_text
from ui.controller import InboxController, asyncSlot
from ui.locale_dates import format_date as format_date  # booking_dialog.py imports it here
from ui.locale_dates import short_date_format
from ui.locale_dates import ui_locale as ui_locale
from ui.views import status_label

log = logging.getLogger("inbox.ui.patient_panel")

PURPOSES = (ConsentPurpose.CARE, ConsentPurpose.REMINDERS, ConsentPurpose.RESULTS)
UPCOMING_SHOWN = 5
NOTES_SHOWN = 3
NOTE_CHARS = 80


@dataclass(frozen=True, slots=True)
class PanelData:
    """What the panel shows for one conversation, read from the cache in one go."""

    conversation: ConversationRecord
    patients: list[PatientRecord] = field(default_factory=list)
    appointments: dict[int, list[AppointmentRecord]] = field(default_factory=dict)
    consents: dict[str, ConsentRecord] = field(default_factory=dict)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def parse_birth(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def format_when(start: float, locale: QLocale | None = None) -> str:
    """Weekday, date and time in the UI language (``Tue 01.12.2026, 09:00``)."""
    loc = locale or ui_locale()
    moment = QDateTime.fromSecsSinceEpoch(int(start))
    day = loc.toString(moment.date(), short_date_format(loc))
    weekday = loc.dayName(moment.date().dayOfWeek(), QLocale.FormatType.ShortFormat)
    clock = loc.toString(moment.time(), QLocale.FormatType.ShortFormat)
    return f"{weekday} {day}, {clock}"


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    # Context "": pyside6-lupdate files bare tr() calls under the empty context.
    return QCoreApplication.translate("", text, disambiguation, n)


def appointment_status_label(status: AppointmentStatus) -> str:
    return {
        AppointmentStatus.BOOKED: tr("booked"),
        AppointmentStatus.CONFIRMED: tr("confirmed"),
        AppointmentStatus.CANCELLED: tr("cancelled"),
        AppointmentStatus.ATTENDED: tr("attended"),
        AppointmentStatus.NO_SHOW: tr("no-show"),
    }[status]


def purpose_label(purpose: ConsentPurpose) -> str:
    return {
        ConsentPurpose.CARE: tr("Care conversation"),
        ConsentPurpose.REMINDERS: tr("Reminders"),
        ConsentPurpose.RESULTS: tr("Results"),
    }[purpose]


def source_label(source: str) -> str:
    return {
        "form": tr("signed form"),
        "staff": tr("recorded by staff"),
        "keyword": tr("patient's message"),
        "whatsapp": tr("WhatsApp setting"),
        "import": tr("practice system"),
    }.get(source, source)


class PatientPanelController(QObject):
    """Reads the register for the shown conversation and sends staff changes."""

    loaded = Signal(object)  # PanelData
    failed = Signal(str)  # a sentence for the user
    slots_found = Signal(object)  # SlotOffer
    slot_taken = Signal(str, object)  # (sentence, list of suggested slot dicts)
    booked = Signal(object)  # AppointmentRecord
    patients_found = Signal(str, object)  # (query, list[PatientRecord])

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.conversation: ConversationRecord | None = None
        self._generation = 0

    def supports(self, operation: str) -> bool:
        return callable(getattr(self.engine, operation, None))

    def show(self, rec: ConversationRecord | None) -> None:
        self.conversation = rec
        self._generation += 1
        if rec is not None and self.supports("patients_for"):
            self.load(self._generation)

    @asyncSlot(int)
    async def load(self, generation: int) -> None:
        await self.load_now(generation)

    async def load_now(self, generation: int | None = None) -> PanelData | None:
        rec = self.conversation
        generation = self._generation if generation is None else generation
        if rec is None:
            return None
        try:
            patients = await self.engine.patients_for(rec.wa_id)
            appointments: dict[int, list[AppointmentRecord]] = {}
            if self.supports("appointments_for"):
                for patient in patients:
                    appointments[patient.id] = await self.engine.appointments_for(patient.id)
            consents: dict[str, ConsentRecord] = {}
            if self.supports("consents_for"):
                for consent in await self.engine.consents_for(rec.wa_id):
                    consents[consent.purpose.value] = consent
        except Exception as exc:  # a locked cache or a closed engine: show nothing stale
            log.info("patient panel not loaded: %s", type(exc).__name__)
            return None
        if generation != self._generation:
            return None  # another conversation was opened meanwhile
        data = PanelData(rec, patients, appointments, consents)
        self.loaded.emit(data)
        return data

    def apply_changes(self, summary: ChangeSummary) -> None:
        rec = self.conversation
        if rec is None:
            return
        if summary.patient_ids or summary.appointment_ids or rec.wa_id in summary.consent_wa_ids:
            self.load(self._generation)

    # -- staff changes (online only; errors come back as sentences) ----------------------

    async def _call(self, what: str, operation: str, *args: Any, **kw: Any) -> Any:
        try:
            return await getattr(self.engine, operation)(*args, **kw)
        except Exception as exc:
            suggestions = getattr(exc, "suggestions", None)
            message = str(getattr(exc, "message", "") or exc) or what
            if getattr(exc, "code", None) == "slot_taken":
                self.slot_taken.emit(message, suggestions or [])
            else:
                self.failed.emit(f"{what}: {message}")
            return None

    @asyncSlot(str, str)
    async def find_slots(self, type_code: str, clinician: str) -> None:
        offer = await self._call(
            tr("Free times could not be loaded"),
            "free_slots",
            type_code,
            clinician=clinician or None,
        )
        if offer is not None:
            self.slots_found.emit(offer)

    @asyncSlot(int, str, str, float)
    async def book(self, patient_id: int, type_code: str, clinician: str, start: float) -> None:
        await self.book_now(patient_id, type_code, clinician, start)

    async def book_now(self, patient_id: int, type_code: str, clinician: str, start: float) -> Any:
        record = await self._call(
            tr("The appointment was not booked"),
            "book_appointment",
            patient_id,
            type_code=type_code,
            clinician=clinician,
            start=start,
        )
        if record is not None:
            self.booked.emit(record)
        return record

    @asyncSlot(int, str, str, float)
    async def move(self, appointment_id: int, type_code: str, clinician: str, start: float) -> None:
        record = await self._call(
            tr("The appointment was not moved"),
            "move_appointment",
            appointment_id,
            clinician=clinician,
            start=start,
            type_code=type_code or None,
        )
        if record is not None:
            self.booked.emit(record)

    @asyncSlot(int)
    async def cancel(self, appointment_id: int) -> None:
        await self._call(
            tr("The appointment was not cancelled"), "cancel_appointment", appointment_id
        )

    @asyncSlot(str, bool)
    async def set_consent(self, purpose: str, granted: bool) -> None:
        rec = self.conversation
        if rec is None:
            return
        done = await self._call(
            tr("Consent was not recorded"),
            "record_consent",
            rec.id,
            [purpose],
            granted=granted,
            source="staff",
        )
        if done is None:
            self.load(self._generation)  # put the checkbox back as the cache has it

    @asyncSlot(str)
    async def search_patients(self, query: str) -> None:
        found = await self._call(tr("Search failed"), "search_patients", query)
        self.patients_found.emit(query, found or [])

    @asyncSlot(int)
    async def link(self, patient_id: int) -> None:
        rec = self.conversation
        if rec is not None:
            await self._call(tr("The patient was not linked"), "link_patient", rec.id, patient_id)

    @asyncSlot(str, str, str, str)
    async def create(
        self, family_name: str, given_name: str, birth_date: str, record_number: str
    ) -> None:
        rec = self.conversation
        await self._call(
            tr("The patient was not created"),
            "create_patient",
            family_name=family_name,
            given_name=given_name,
            birth_date=birth_date or None,
            record_number=record_number or None,
            conversation_id=rec.id if rec is not None else None,
        )


class PatientPanel(QFrame):
    """The panel's widgets; ``values`` keeps the plain rows (name, phone, window, status,
    labels, birth, record, appointments, consent) that tests and the lock page clear."""

    KEYS = (
        "name",
        "birth",
        "record",
        "phone",
        "window",
        "status",
        "labels",
        "notes",
        "appointments",
        "consent",
    )

    def __init__(
        self,
        inbox: InboxController,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        user: SignedInUser | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientPanel")
        self._clock = clock
        self._user = user
        self.data: PanelData | None = None
        self.rec: ConversationRecord | None = None
        self.question: QMessageBox | None = None
        self.dialog: QDialog | None = None
        self.controller = PatientPanelController(inbox.engine, self)
        self.controller.loaded.connect(self._show_data)
        self.controller.failed.connect(self._show_error)
        inbox.bridge.changed.connect(self.controller.apply_changes)
        # Recent internal notes come from the open thread (what the engine offers today).
        self._thread = inbox.thread_model
        for signal in (
            self._thread.modelReset,
            self._thread.rowsInserted,
            self._thread.dataChanged,
        ):
            signal.connect(self._update_notes)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # The panel is narrow: text wraps instead of scrolling sideways.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        body.setObjectName("patientPanelBody")
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(2)
        self.title = QLabel(body)
        self.title.setObjectName("panelTitle")
        layout.addWidget(self.title)
        self.switch = QComboBox(body)
        self.switch.setObjectName("patientSwitch")
        self.switch.currentIndexChanged.connect(self._on_switch)
        self.sections: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for key in self.KEYS:
            section = QLabel(body)
            section.setObjectName("panelSection")
            value = QLabel(body)
            value.setObjectName("panelValue")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(section)
            if key == "name":
                layout.addWidget(self.switch)
            layout.addWidget(value)
            self.sections[key] = section
            self.values[key] = value
            if key == "name":
                self.link_row = QWidget(body)
                row = QVBoxLayout(self.link_row)
                row.setContentsMargins(0, 4, 0, 4)
                self.link_button = QPushButton(self.link_row)
                self.link_button.setObjectName("linkPatient")
                self.create_button = QPushButton(self.link_row)
                self.create_button.setObjectName("createPatient")
                row.addWidget(self.link_button)
                row.addWidget(self.create_button)
                layout.addWidget(self.link_row)
            if key == "appointments":
                self.appointment_list = QListWidget(body)
                self.appointment_list.setObjectName("appointmentList")
                self.appointment_list.setMaximumHeight(150)
                self.appointment_list.setWordWrap(True)
                self.appointment_list.setSizePolicy(
                    QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed
                )
                self.appointment_list.setHorizontalScrollBarPolicy(
                    Qt.ScrollBarPolicy.ScrollBarAlwaysOff
                )
                self.appointment_list.currentRowChanged.connect(self._update_actions)
                layout.addWidget(self.appointment_list)
                actions = QWidget(body)
                # Book on its own row, Move and Cancel below: fits the narrow panel in
                # every language (Ignored size policies would clip longer captions).
                grid = QGridLayout(actions)
                grid.setContentsMargins(0, 4, 0, 4)
                self.book_button = QPushButton(actions)
                self.book_button.setObjectName("bookAppointment")
                self.move_button = QPushButton(actions)
                self.move_button.setObjectName("moveAppointment")
                self.cancel_button = QPushButton(actions)
                self.cancel_button.setObjectName("cancelAppointment")
                grid.addWidget(self.book_button, 0, 0, 1, 2)
                grid.addWidget(self.move_button, 1, 0)
                grid.addWidget(self.cancel_button, 1, 1)
                layout.addWidget(actions)
            if key == "consent":
                self.consent_boxes: dict[str, QCheckBox] = {}
                self.consent_notes: dict[str, QLabel] = {}
                for purpose in PURPOSES:
                    box = QCheckBox(body)
                    box.setObjectName(f"consent_{purpose.value}")
                    box.clicked.connect(
                        lambda checked, p=purpose.value: self._consent_clicked(p, checked)
                    )
                    note = QLabel(body)
                    note.setObjectName("consentNote")
                    note.setWordWrap(True)
                    note.setIndent(22)  # under the checkbox's text
                    layout.addWidget(box)
                    layout.addWidget(note)
                    self.consent_boxes[purpose.value] = box
                    self.consent_notes[purpose.value] = note
        self.error = QLabel(body)
        self.error.setObjectName("panelError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.setMinimumWidth(220)
        self.link_button.clicked.connect(self.open_link_dialog)
        self.create_button.clicked.connect(self.open_create_dialog)
        self.book_button.clicked.connect(self.open_book_dialog)
        self.move_button.clicked.connect(self.open_move_dialog)
        self.cancel_button.clicked.connect(self.ask_cancel)
        self.retranslate()
        self.show_conversation(None)

    # -- texts -------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setAccessibleName(self.tr("Patient"))
        self.title.setText(self.tr("Patient"))
        sections = {
            "name": self.tr("NAME"),
            "birth": self.tr("DATE OF BIRTH"),
            "record": self.tr("RECORD NUMBER"),
            "phone": self.tr("PHONE"),
            "window": self.tr("24-HOUR WINDOW"),
            "status": self.tr("STATUS"),
            "labels": self.tr("LABELS"),
            "notes": self.tr("RECENT NOTES"),
            "appointments": self.tr("APPOINTMENTS"),
            "consent": self.tr("CONSENT"),
        }
        # Screen readers get the name in sentence case as its own string: capitalising the
        # heading ("Geburtsdatum" → "geburtsdatum") breaks nouns and bypasses translation.
        value_names = {
            "name": self.tr("Name"),
            "birth": self.tr("Date of birth"),
            "record": self.tr("Record number"),
            "phone": self.tr("Phone"),
            "window": self.tr("24-hour window"),
            "status": self.tr("Status"),
            "labels": self.tr("Labels"),
            "notes": self.tr("Recent notes"),
            "appointments": self.tr("Appointments"),
            "consent": self.tr("Consent"),
        }
        for key, text in sections.items():
            self.sections[key].setText(text)
            self.values[key].setAccessibleName(value_names[key])
        self.switch.setAccessibleName(self.tr("Patients sharing this number"))
        self.link_button.setText(self.tr("Link patient…"))
        self.link_button.setAccessibleName(self.tr("Link an existing patient to this number"))
        self.create_button.setText(self.tr("Create patient…"))
        self.create_button.setAccessibleName(self.tr("Create a patient for this number"))
        self.appointment_list.setAccessibleName(self.tr("Upcoming appointments"))
        self.book_button.setText(self.tr("Book…"))
        self.book_button.setAccessibleName(self.tr("Book an appointment"))
        self.move_button.setText(self.tr("Move…"))
        self.move_button.setAccessibleName(self.tr("Move the selected appointment"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the selected appointment"))
        for purpose in PURPOSES:
            self.consent_boxes[purpose.value].setAccessibleName(
                self.tr("Consent: %1").replace("%1", purpose_label(purpose))
            )
        if self.data is not None:
            self._show_data(self.data)
        else:
            self.show_conversation(self.rec)

    # -- showing -----------------------------------------------------------------------

    def show_conversation(self, rec: ConversationRecord | None) -> None:
        """Show ``rec``'s conversation rows at once; the register follows from the cache."""
        changed = rec is None or self.rec is None or rec.id != self.rec.id
        self.rec = rec
        v = self.values
        if rec is None:
            self.data = None
            for label in v.values():
                label.setText("—")
            self.switch.clear()
            self.switch.hide()
            self.link_row.hide()
            self.appointment_list.clear()
            self.error.clear()
            for box in self.consent_boxes.values():
                box.setText("")
                box.setChecked(False)
                box.hide()
            for note in self.consent_notes.values():
                note.clear()
                note.hide()
            self._update_actions()
            self.controller.show(None)
            return
        v["name"].setText(rec.display_name)
        v["phone"].setText(rec.phone or rec.wa_id)
        remaining = window_remaining(rec.last_inbound_at, self._clock())
        v["window"].setText(
            self.tr("open, %n h left", "", max(1, int(-(-remaining // 3600))))
            if remaining > 0
            else self.tr("closed — templates only")
        )
        holder = rec.claimed_by if rec.claimed_by is not None else rec.assignee_id
        who = (
            self.tr("unassigned")
            if holder is None
            else self.tr("you")
            if self._user is not None and holder == self._user.id
            else rec.claimed_by_name or self.tr("a colleague")
        )
        status = status_label(rec.status) + (" · " + self.tr("escalated") if rec.escalated else "")
        v["status"].setText(f"{status} · {who}")
        v["labels"].setText(", ".join(rec.labels) if rec.labels else self.tr("none"))
        self._update_notes()
        if changed:
            self.data = None
            self.error.clear()
            for key in ("birth", "record", "appointments", "consent"):
                v[key].setText("—")
            self.switch.hide()
            self.link_row.hide()
            self.appointment_list.clear()
            for box in self.consent_boxes.values():
                box.hide()
            for note in self.consent_notes.values():
                note.hide()
            self._update_actions()
            self.controller.show(rec)
        elif self.data is not None:
            self._show_data(PanelData(rec, *self._rest(self.data)))

    def _update_notes(self, *_: object) -> None:
        label = self.values["notes"]
        rec = self.rec
        if rec is None or self._thread.conversation_id != rec.id:
            label.setText("—")
            return
        notes = [m for m in self._thread.records() if m.type == "note" and m.text][-NOTES_SHOWN:]
        if not notes:
            label.setText(self.tr("none"))
            return
        lines = []
        for note in reversed(notes):  # newest first
            shown = call_event_text(note.call) if note.call is not None else note.text
            text = " ".join((shown or "").split())
            short = text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"
            lines.append(f"{format_when(note.timestamp)}: {short}")
        label.setText("\n".join(lines))

    @staticmethod
    def _rest(
        data: PanelData,
    ) -> tuple[list[PatientRecord], dict[int, list[AppointmentRecord]], dict[str, ConsentRecord]]:
        return data.patients, data.appointments, data.consents

    def current_patient(self) -> PatientRecord | None:
        if self.data is None or not self.data.patients:
            return None
        index = max(0, self.switch.currentIndex())
        return self.data.patients[min(index, len(self.data.patients) - 1)]

    def _show_data(self, data: PanelData) -> None:
        if self.rec is None or data.conversation.id != self.rec.id:
            return
        previous = self.current_patient()
        self.data = data
        v = self.values
        patients = data.patients
        self.switch.blockSignals(True)
        self.switch.clear()
        for p in patients:
            born = parse_birth(p.birth_date)
            when = format_date(born) if born else ""
            self.switch.addItem(f"{p.given_name} {p.family_name}" + (f" ({when})" if when else ""))
        keep = next(
            (i for i, p in enumerate(patients) if previous is not None and p.id == previous.id),
            0,
        )
        self.switch.setCurrentIndex(keep if patients else -1)
        self.switch.blockSignals(False)
        self.switch.setVisible(len(patients) > 1)
        self.switch.setToolTip(
            self.tr("%n patient(s) share this number", "", len(patients))
            if len(patients) > 1
            else ""
        )
        self.link_row.setVisible(not patients)  # an unknown number: link or create
        self.link_button.setEnabled(self.controller.supports("link_patient"))
        self.create_button.setEnabled(self.controller.supports("create_patient"))
        self._show_patient()
        for purpose in PURPOSES:
            box = self.consent_boxes[purpose.value]
            consent = data.consents.get(purpose.value)
            box.blockSignals(True)
            box.setChecked(bool(consent and consent.granted))
            box.blockSignals(False)
            box.setText(purpose_label(purpose))
            if consent is not None:
                state = self.tr("granted") if consent.granted else self.tr("withdrawn")
                stamp = format_date(datetime.fromtimestamp(consent.at).date())
                detail = f"{state} · {source_label(consent.source.value)} · {stamp}"
            else:
                detail = self.tr("not recorded")
            self.consent_notes[purpose.value].setText(detail)
            self.consent_notes[purpose.value].show()
            box.setEnabled(self.controller.supports("record_consent"))
            box.show()
        granted = [
            purpose_label(p) for p in PURPOSES if (c := data.consents.get(p.value)) and c.granted
        ]
        v["consent"].setText(", ".join(granted) if granted else self.tr("no consent recorded"))

    def _on_switch(self, _index: int) -> None:
        if self.data is not None:
            self._show_patient()

    def _show_patient(self) -> None:
        v = self.values
        patient = self.current_patient()
        self.appointment_list.clear()
        if patient is None:
            v["name"].setText(self.rec.display_name if self.rec else "—")
            v["birth"].setText("—")
            v["record"].setText("—")
            v["appointments"].setText(self.tr("No patient is registered under this number."))
            self._update_actions()
            return
        v["name"].setText(f"{patient.given_name} {patient.family_name}".strip())
        born = parse_birth(patient.birth_date)
        if born is None:
            v["birth"].setText(patient.birth_date or self.tr("unknown"))
        else:
            today = datetime.fromtimestamp(self._clock()).date()
            v["birth"].setText(
                self.tr("%1 (%n years)", "", age_on(born, today)).replace("%1", format_date(born))
            )
        v["record"].setText(patient.record_number or self.tr("none"))
        assert self.data is not None
        now = self._clock()
        upcoming = [
            a
            for a in self.data.appointments.get(patient.id, [])
            if a.end >= now and a.status != AppointmentStatus.CANCELLED
        ][:UPCOMING_SHOWN]
        for a in upcoming:
            who = " · ".join(p for p in (a.clinician, a.reason) if p)
            when = f"{format_when(a.start)} · {appointment_status_label(a.status)}"
            item = QListWidgetItem(f"{when}\n{who}" if who else when)
            item.setData(Qt.ItemDataRole.UserRole, a.id)
            self.appointment_list.addItem(item)
        v["appointments"].setText(
            self.tr("%n upcoming", "", len(upcoming)) if upcoming else self.tr("none upcoming")
        )
        self.appointment_list.setVisible(bool(upcoming))
        # Up to three wrapped lines per appointment (the size hint comes before layout).
        rows = len(upcoming) * (3 * self.appointment_list.fontMetrics().lineSpacing() + 6)
        self.appointment_list.setFixedHeight(
            min(150, rows + 2 * self.appointment_list.frameWidth() + 2)
        )
        if upcoming:
            self.appointment_list.setCurrentRow(0)
        self._update_actions()

    def selected_appointment(self) -> AppointmentRecord | None:
        item = self.appointment_list.currentItem()
        patient = self.current_patient()
        if item is None or patient is None or self.data is None:
            return None
        wanted = item.data(Qt.ItemDataRole.UserRole)
        return next((a for a in self.data.appointments.get(patient.id, []) if a.id == wanted), None)

    def _update_actions(self, *_: object) -> None:
        has_patient = self.current_patient() is not None
        selected = self.selected_appointment() is not None
        self.book_button.setEnabled(has_patient and self.controller.supports("book_appointment"))
        self.move_button.setEnabled(selected and self.controller.supports("move_appointment"))
        self.cancel_button.setEnabled(selected and self.controller.supports("cancel_appointment"))

    def _show_error(self, sentence: str) -> None:
        self.error.setText(sentence)

    # -- actions -----------------------------------------------------------------------

    def _consent_clicked(self, purpose: str, checked: bool) -> None:
        if checked:
            self.controller.set_consent(purpose, True)
            return
        # Withdrawing reminders cancels queued reminders: ask first.
        box = self.consent_boxes[purpose]
        box.setChecked(True)
        self._ask(
            "withdrawConsentQuestion",
            self.tr("Withdraw consent?"),
            self.tr(
                "Record that the patient withdrew consent for “%1”? Queued automated "
                "messages for it are cancelled."
            ).replace("%1", purpose_label(PURPOSES[[p.value for p in PURPOSES].index(purpose)])),
            lambda: self.controller.set_consent(purpose, False),
        )

    def ask_cancel(self) -> None:
        appointment = self.selected_appointment()
        if appointment is None:
            return
        self._ask(
            "cancelAppointmentQuestion",
            self.tr("Cancel this appointment?"),
            self.tr("Cancel the appointment on %1? The time becomes free for others.").replace(
                "%1", format_when(appointment.start)
            ),
            lambda: self.controller.cancel(appointment.id),
        )

    def _ask(self, name: str, title: str, text: str, then: Callable[[], object]) -> None:
        """A Yes/No question, opened (never exec(): it must not block the event loop)."""
        box = QMessageBox(self)
        box.setObjectName(name)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        for button in box.buttons():
            button.setAccessibleName(button.text().replace("&", ""))

        def done(result: int) -> None:
            box.deleteLater()
            self.question = None
            if result == QMessageBox.StandardButton.Yes:
                then()

        box.finished.connect(done)
        self.question = box
        box.open()

    def _replace_dialog(self, dialog: QDialog) -> None:
        # One panel dialog at a time; the previous (closed) one is released.
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()

    def open_book_dialog(self) -> None:
        from ui.booking_dialog import BookingDialog

        patient = self.current_patient()
        if patient is None:
            return
        dialog = BookingDialog(self.controller, patient, None, self)
        self._replace_dialog(dialog)

    def open_move_dialog(self) -> None:
        from ui.booking_dialog import BookingDialog

        patient = self.current_patient()
        appointment = self.selected_appointment()
        if patient is None or appointment is None:
            return
        dialog = BookingDialog(self.controller, patient, appointment, self)
        self._replace_dialog(dialog)

    def open_link_dialog(self) -> None:
        from ui.booking_dialog import LinkPatientDialog

        dialog = LinkPatientDialog(self.controller, self)
        self._replace_dialog(dialog)

    def open_create_dialog(self) -> None:
        from ui.booking_dialog import CreatePatientDialog

        dialog = CreatePatientDialog(self.controller, self)
        self._replace_dialog(dialog)
