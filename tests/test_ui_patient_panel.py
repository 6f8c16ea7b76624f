"""The patient panel over a fake engine with a patient register (issues 6 and 8): date of
birth with age, the switch between patients sharing a number, upcoming appointments,
consent per purpose, booking from a list of free slots, cancel asks first, link or create
for an unknown number, and live refresh on the engine's change summaries."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from inbox_app.client.api import SlotTakenError
from inbox_app.client.booking import SlotOffer
from inbox_app.client.engine import ChangeSummary, SignedInUser
from inbox_app.domain.appointments import AppointmentRecord, AppointmentStatus, PatientRecord
from inbox_app.domain.consent import ConsentPurpose, ConsentRecord, ConsentSource
from inbox_app.domain.scheduling import AppointmentType, Slot
from tests.test_ui_support import NOW, FakeEngine, demo_engine, message, run, settle
from ui.booking_dialog import BookingDialog, CreatePatientDialog, LinkPatientDialog
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

USER = SignedInUser(id=1, username="demo", display_name="Anna Empfang", role="receptionist")
DAY = 86400.0
TYPES = [
    AppointmentType("checkup", "Vorsorge", "Check-up", 30),
    AppointmentType("acute", "Akutsprechstunde", "Acute visit", 15),
]


class RegisterEngine(FakeEngine):
    """FakeEngine plus the patient register and the staff booking operations."""

    def __init__(self, base: FakeEngine) -> None:
        super().__init__(list(base.convs.values()), list(base.msgs.values()))
        self.patients: dict[int, PatientRecord] = {}
        self.appointments: dict[int, AppointmentRecord] = {}
        self.consents: dict[tuple[str, str], ConsentRecord] = {}
        self.calls: list[tuple[str, Any]] = []
        self.taken: set[float] = set()
        self.free = [
            Slot("Dr. Sommer", NOW + DAY + i * 1800, NOW + DAY + i * 1800 + 1800) for i in range(4)
        ]

    async def patients_for(self, wa_id: str) -> list[PatientRecord]:
        return [p for p in sorted(self.patients.values(), key=lambda p: p.id) if p.wa_id == wa_id]

    async def appointments_for(self, patient_id: int) -> list[AppointmentRecord]:
        return sorted(
            (a for a in self.appointments.values() if a.patient_id == patient_id),
            key=lambda a: a.start,
        )

    async def consents_for(self, wa_id: str) -> list[ConsentRecord]:
        return [c for (w, _), c in sorted(self.consents.items()) if w == wa_id]

    async def search_patients(self, query: str, *, limit: int = 20) -> list[PatientRecord]:
        q = query.casefold()
        return [
            p for p in self.patients.values() if q in f"{p.given_name} {p.family_name}".casefold()
        ]

    async def free_slots(self, type_code: str | None = None, **kw: Any) -> SlotOffer:
        self.calls.append(("free_slots", (type_code, kw.get("clinician"))))
        slots = [s for s in self.free if s.start not in self.taken]
        return SlotOffer(
            slots, TYPES, ["Dr. Sommer", "Dr. Winter"], "Europe/Berlin", type_code or "checkup"
        )

    async def book_appointment(
        self,
        patient_id: int,
        *,
        type_code: str,
        clinician: str,
        start: float,
        reason: str | None = None,
    ) -> AppointmentRecord:
        self.calls.append(("book", (patient_id, type_code, clinician, start)))
        if start in self.taken:
            raise SlotTakenError(
                "Someone booked this time first.",
                status=409,
                code="slot_taken",
                suggestions=[
                    {"clinician": "Dr. Winter", "start": NOW + 3 * DAY, "end": NOW + 3 * DAY + 1800}
                ],
            )
        new = AppointmentRecord(
            id=100 + len(self.appointments),
            external_id="staff|x",
            patient_id=patient_id,
            start=start,
            end=start + 1800,
            status=AppointmentStatus.BOOKED,
            clinician=clinician,
            reason="Vorsorge",
        )
        self.appointments[new.id] = new
        self.emit(ChangeSummary(appointment_ids=frozenset({new.id})))
        return new

    async def cancel_appointment(self, appointment_id: int) -> AppointmentRecord:
        self.calls.append(("cancel", appointment_id))
        record = replace(self.appointments[appointment_id], status=AppointmentStatus.CANCELLED)
        self.appointments[appointment_id] = record
        self.emit(ChangeSummary(appointment_ids=frozenset({appointment_id})))
        return record

    async def move_appointment(self, appointment_id: int, **kw: Any) -> AppointmentRecord:
        self.calls.append(("move", (appointment_id, kw)))
        return self.appointments[appointment_id]

    async def record_consent(
        self, conversation_id: int, purposes: list[str], *, granted: bool, source: str = "staff"
    ) -> list[ConsentRecord]:
        self.calls.append(("consent", (conversation_id, purposes, granted, source)))
        wa_id = self.convs[conversation_id].wa_id
        out = []
        for p in purposes:
            record = ConsentRecord(wa_id, ConsentPurpose(p), granted, ConsentSource(source), NOW)
            self.consents[(wa_id, p)] = record
            out.append(record)
        self.emit(ChangeSummary(consent_wa_ids=frozenset({wa_id})))
        return out

    async def link_patient(self, conversation_id: int, patient_id: int) -> PatientRecord:
        self.calls.append(("link", (conversation_id, patient_id)))
        record = replace(self.patients[patient_id], wa_id=self.convs[conversation_id].wa_id)
        self.patients[patient_id] = record
        self.emit(ChangeSummary(patient_ids=frozenset({patient_id})))
        return record

    async def create_patient(self, **kw: Any) -> PatientRecord:
        self.calls.append(("create", kw))
        return PatientRecord(
            99, "staff|y", kw["family_name"], kw["given_name"], kw["birth_date"], None
        )


def make_engine() -> RegisterEngine:
    base = demo_engine()
    note = replace(
        message(900, 1, NOW - 60, "Rückruf wegen   Befund vereinbart"), type="note", author_id=2
    )
    base.msgs[note.id] = note
    engine = RegisterEngine(base)
    wa_id = engine.convs[1].wa_id
    engine.patients[1] = PatientRecord(
        1, "p|1", "Hoffmann", "Lena", "1990-05-17", wa_id, "de", "K-1001"
    )
    engine.patients[2] = PatientRecord(
        2, "p|2", "Hoffmann", "Mia", "2018-11-30", wa_id, "de", "K-1002"
    )
    engine.patients[3] = PatientRecord(3, "p|3", "Weber", "Jonas", "1975-01-02", None)
    engine.appointments[10] = AppointmentRecord(
        10,
        "a|10",
        1,
        NOW + 2 * DAY,
        NOW + 2 * DAY + 1800,
        AppointmentStatus.CONFIRMED,
        "Dr. Sommer",
        "Raum 1",
        "Vorsorge",
    )
    engine.appointments[11] = AppointmentRecord(
        11,
        "a|11",
        1,
        NOW - 5 * DAY,
        NOW - 5 * DAY + 900,
        AppointmentStatus.ATTENDED,
        "Dr. Winter",
        None,
        "Blutabnahme",
    )
    engine.appointments[12] = AppointmentRecord(
        12,
        "a|12",
        2,
        NOW + 4 * DAY,
        NOW + 4 * DAY + 900,
        AppointmentStatus.BOOKED,
        "Dr. Winter",
        None,
        "Impfung",
    )
    engine.consents[(wa_id, "care")] = ConsentRecord(
        wa_id, ConsentPurpose.CARE, True, ConsentSource.FORM, NOW - 30 * DAY
    )
    engine.consents[(wa_id, "reminders")] = ConsentRecord(
        wa_id, ConsentPurpose.REMINDERS, False, ConsentSource.KEYWORD, NOW - DAY
    )
    return engine


@pytest.fixture
def window(qtbot, qloop):
    engine = make_engine()
    win = MainWindow(engine, USER, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    return win, engine


def test_panel_shows_birth_age_record_appointments_and_consent(window) -> None:
    win, _ = window
    panel = win.patient_panel
    assert win.controller.current_conversation_id == 1
    v = panel.values
    assert v["name"].text() == "Lena Hoffmann"
    # NOW is 2025-10-09: Lena (born 17 May 1990) is 35.
    assert "35" in v["birth"].text() and "1990" in v["birth"].text()
    assert v["record"].text() == "K-1001"
    # Only the upcoming, not the past appointment; clinician, reason and status shown.
    assert panel.appointment_list.count() == 1
    item = panel.appointment_list.item(0).text()
    assert "Dr. Sommer" in item and "Vorsorge" in item and "confirmed" in item
    assert panel.consent_boxes["care"].isChecked()
    assert not panel.consent_boxes["reminders"].isChecked()
    assert "withdrawn" in panel.consent_notes["reminders"].text()
    assert "patient's message" in panel.consent_notes["reminders"].text()
    assert "not recorded" in panel.consent_notes["results"].text()
    assert not panel.link_row.isVisible()
    # The thread's internal note, newest first, whitespace folded.
    assert "Rückruf wegen Befund vereinbart" in v["notes"].text()


def test_shared_number_switch_shows_the_other_patient(window, qloop) -> None:
    win, _ = window
    panel = win.patient_panel
    assert panel.switch.isVisible() and panel.switch.count() == 2
    panel.switch.setCurrentIndex(1)
    run(qloop, settle(0.05))
    assert panel.values["name"].text() == "Mia Hoffmann"
    assert panel.values["record"].text() == "K-1002"
    assert "Impfung" in panel.appointment_list.item(0).text()
    assert "(6 years)" in panel.values["birth"].text()


def test_book_dialog_books_the_chosen_slot(window, qloop, qtbot) -> None:
    win, engine = window
    panel = win.patient_panel
    panel.book_button.click()
    run(qloop, settle(0.2))
    dialog = panel.dialog
    assert isinstance(dialog, BookingDialog) and dialog.isVisible()
    assert dialog.type_box.count() == 2 and dialog.clinician_box.count() == 3
    assert dialog.slot_list.count() == 4
    dialog.slot_list.setCurrentRow(2)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    run(qloop, settle(0.3))
    assert ("book", (1, "checkup", "Dr. Sommer", engine.free[2].start)) in engine.calls
    assert not dialog.isVisible()
    # The new appointment appears in the panel through the change summary.
    assert panel.appointment_list.count() == 2


def test_a_slot_taken_meanwhile_offers_the_suggestions(window, qloop) -> None:
    win, engine = window
    panel = win.patient_panel
    panel.book_button.click()
    run(qloop, settle(0.2))
    dialog = panel.dialog
    assert isinstance(dialog, BookingDialog)
    engine.taken.add(engine.free[0].start)  # a colleague was faster
    dialog.slot_list.setCurrentRow(0)
    dialog.submit()
    run(qloop, settle(0.2))
    assert dialog.isVisible() and "first" in dialog.note.text()
    assert dialog.slot_list.count() == 1 and "Dr. Winter" in dialog.slot_list.item(0).text()
    dialog.reject()


def test_cancel_asks_first_and_no_keeps_the_appointment(window, qloop) -> None:
    win, engine = window
    panel = win.patient_panel
    panel.cancel_button.click()
    box = panel.question
    assert isinstance(box, QMessageBox) and box.isVisible()
    box.button(QMessageBox.StandardButton.No).click()
    run(qloop, settle(0.1))
    assert not [c for c in engine.calls if c[0] == "cancel"]
    panel.cancel_button.click()
    panel.question.button(QMessageBox.StandardButton.Yes).click()
    run(qloop, settle(0.3))
    assert ("cancel", 10) in engine.calls
    assert panel.appointment_list.count() == 0
    assert panel.values["appointments"].text() == "none upcoming"


def test_consent_toggle_records_staff_consent_and_withdrawal_asks(window, qloop) -> None:
    win, engine = window
    panel = win.patient_panel
    panel.consent_boxes["results"].click()
    run(qloop, settle(0.2))
    assert ("consent", (1, ["results"], True, "staff")) in engine.calls
    assert panel.consent_boxes["results"].isChecked()
    assert "recorded by staff" in panel.consent_notes["results"].text()
    panel.consent_boxes["care"].click()  # withdrawing: asks, box stays checked meanwhile
    assert panel.consent_boxes["care"].isChecked()
    panel.question.button(QMessageBox.StandardButton.Yes).click()
    run(qloop, settle(0.2))
    assert ("consent", (1, ["care"], False, "staff")) in engine.calls
    assert not panel.consent_boxes["care"].isChecked()


def test_unknown_number_offers_link_and_create(window, qloop) -> None:
    win, engine = window
    panel = win.patient_panel
    win.conversation_list.setCurrentIndex(win.filter_model.index(1, 0))
    run(qloop, settle(0.2))
    assert win.controller.current_conversation_id != 1
    assert panel.link_row.isVisible()
    assert "No patient" in panel.values["appointments"].text()
    assert not panel.book_button.isEnabled()
    panel.link_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, LinkPatientDialog)
    dialog.query.setText("jonas")
    run(qloop, settle(0.2))
    assert dialog.results.count() == 1 and "Weber" in dialog.results.item(0).text()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    run(qloop, settle(0.3))
    cid = win.controller.current_conversation_id
    assert ("link", (cid, 3)) in engine.calls
    assert panel.values["name"].text() == "Jonas Weber"
    assert not panel.link_row.isVisible()


def test_create_patient_checks_the_date(window, qloop) -> None:
    win, engine = window
    panel = win.patient_panel
    panel.open_create_dialog()
    dialog = panel.dialog
    assert isinstance(dialog, CreatePatientDialog)
    dialog.given.setText("Ida")
    dialog.family.setText("Neu")
    dialog.birth.setText("31.02.2001")
    dialog.submit()
    assert dialog.isVisible() and "not a date" in dialog.note.text()
    dialog.birth.setText("03.04.2001")
    dialog.record.setText("K-7")
    dialog.submit()
    run(qloop, settle(0.2))
    assert not dialog.isVisible()
    _kind, kw = next(c for c in engine.calls if c[0] == "create")
    assert kw["birth_date"] == "2001-04-03" and kw["conversation_id"] == 1
    assert kw["record_number"] == "K-7"


def test_panel_is_cleared_on_lock_and_without_register(qtbot, qloop) -> None:
    win = MainWindow(demo_engine(), USER, clock=lambda: NOW)  # no register: rows stay "—"
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    panel = win.patient_panel
    assert panel.values["name"].text() == "Lena Hoffmann"
    assert panel.values["birth"].text() == "—"
    assert not panel.book_button.isEnabled()
    panel.show_conversation(None)
    assert all(label.text() == "—" for label in panel.values.values())


def test_move_dialog_keeps_type_and_moves_the_selected_appointment(window, qloop) -> None:
    win, engine = window
    panel = win.patient_panel
    assert panel.move_button.isEnabled()
    panel.move_button.click()
    run(qloop, settle(0.2))
    dialog = panel.dialog
    assert isinstance(dialog, BookingDialog) and dialog.appointment is not None
    assert dialog.type_box.currentData() == "checkup"  # the appointment's "Vorsorge"
    dialog.slot_list.setCurrentRow(1)
    dialog.submit()
    run(qloop, settle(0.2))
    moves = [c for c in engine.calls if c[0] == "move"]
    assert moves == [
        (
            "move",
            (
                10,
                {"clinician": "Dr. Sommer", "start": engine.free[1].start, "type_code": "checkup"},
            ),
        )
    ]
    assert not dialog.isVisible()


def test_pseudo_locale_clips_nothing_in_the_panel(window, qapp, qloop) -> None:
    from ui.clipping import clipped_widgets
    from ui.i18n import install_language

    win, _ = window
    try:
        install_language(qapp, "pseudo")
        qapp.processEvents()
        run(qloop, settle(0.1))
        assert win.patient_panel.consent_boxes["care"].isVisible()
        assert clipped_widgets(win.patient_panel) == []
        win.conversation_list.setCurrentIndex(win.filter_model.index(1, 0))  # unknown number
        run(qloop, settle(0.2))
        assert win.patient_panel.link_row.isVisible()
        assert clipped_widgets(win.patient_panel) == []
    finally:
        install_language(qapp, "en")


def test_accessible_names_are_whole_translated_strings(window, qapp, qloop) -> None:
    """Screen readers hear each value's own translated name ("Date of birth"), never a
    capitalised heading ("DATE OF BIRTH" → "Date of birth" works in English only)."""
    from PySide6.QtWidgets import QWidget

    from ui.i18n import install_language, pseudo

    win, _ = window
    panel = win.patient_panel
    english = {
        "name": "Name",
        "birth": "Date of birth",
        "record": "Record number",
        "phone": "Phone",
        "window": "24-hour window",
        "status": "Status",
        "labels": "Labels",
        "notes": "Recent notes",
        "appointments": "Appointments",
        "consent": "Consent",
    }
    assert {key: label.accessibleName() for key, label in panel.values.items()} == english
    try:
        # Pseudo-translation marks every string that went through tr(): a name built from
        # the heading would come out lower-cased and differ.
        install_language(qapp, "pseudo")
        qapp.processEvents()
        run(qloop, settle(0.1))
        names = {key: label.accessibleName() for key, label in panel.values.items()}
        assert names == {key: pseudo(text) for key, text in english.items()}
        untranslated = [
            (w.objectName(), w.accessibleName())
            for w in panel.findChildren(QWidget)
            if w.accessibleName() and not w.accessibleName().startswith("[")
        ]
        assert untranslated == []
        assert panel.accessibleName() == pseudo("Patient")
    finally:
        install_language(qapp, "en")
