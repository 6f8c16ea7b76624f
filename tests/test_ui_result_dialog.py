"""The result dialog: attach (file dialog or drop), the wrong-patient guard, the override
reason, the two identifiers, consent, and five seconds to undo before anything leaves."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from inbox_app.client.api import RelayError
from inbox_app.domain.appointments import PatientRecord
from inbox_app.domain.consent import ConsentPurpose, ConsentRecord, ConsentSource
from tests.pdfs import encrypt, make_pdf
from tests.test_ui_support import run, settle
from ui.result_dialog import ResultDialog

ERIKA = PatientRecord(
    id=7,
    external_id="test|erika",
    family_name="Musterfrau",
    given_name="Erika",
    birth_date="1980-03-12",
    wa_id="4915100000101",
    language="de",
    record_number="A-1001",
)
MAX = PatientRecord(
    id=8,
    external_id="test|max",
    family_name="Musterfrau",
    given_name="Max",
    birth_date="2015-06-01",
    wa_id="4915100000101",
    language="de",
    record_number=None,
)
CONSENT = ConsentRecord("4915100000101", ConsentPurpose.RESULTS, True, ConsentSource.FORM, 1.0)


class ResultEngine:
    """Records what would leave the PC; ``refuse`` makes the relay say no."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.refuse: RelayError | None = None

    async def send_result(
        self,
        conversation_id: int,
        patient_id: int,
        path: Path,
        *,
        confirmed_name: str,
        confirmed_dob: str,
        override_reason: str | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        self.calls.append(
            {
                "client_id": client_id,
                "conversation_id": conversation_id,
                "patient_id": patient_id,
                "path": path,
                "confirmed_name": confirmed_name,
                "confirmed_dob": confirmed_dob,
                "override_reason": override_reason,
            }
        )
        if self.refuse is not None:
            raise self.refuse
        return {"id": 1, "state": "queued"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "erika": make_pdf(["Laborbefund", "Patientin: Erika Musterfrau", "geb. 12.03.1980"]),
        "other": make_pdf(["Laborbefund", "Patient: Paul Beispiel", "geb. 01.01.1975"]),
        "locked": encrypt(make_pdf(["Erika Musterfrau 12.03.1980"])),
    }
    paths = {}
    for name, data in out.items():
        paths[name] = tmp_path / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


def dialog(
    qtbot: Any, engine: ResultEngine, *, consents: list[ConsentRecord] | None = None, **kw: Any
) -> ResultDialog:
    d = ResultDialog(engine, 3, [ERIKA, MAX], [CONSENT] if consents is None else consents, **kw)
    qtbot.addWidget(d)
    d.show()
    return d


def confirm(d: ResultDialog) -> None:
    d.name_check.setChecked(True)
    d.dob_check.setChecked(True)


def test_attach_checks_the_file_and_send_waits_for_both_identifiers(
    qtbot: Any, qloop: Any, files: dict[str, Path]
) -> None:
    d = dialog(qtbot, ResultEngine())
    assert not d.send_button.isEnabled()
    assert "Attach the result." in d.send_button.toolTip()
    d.attach(files["erika"])
    assert "1 page(s)" in d.drop_area.text() and "erika.pdf" in d.file_label.text()
    assert "match this patient" in d.findings.text()
    assert not d.override.isVisible()
    d.name_check.setChecked(True)
    assert not d.send_button.isEnabled()  # one identifier is not enough
    d.dob_check.setChecked(True)
    assert d.send_button.isEnabled()
    # Choosing the child who shares the number asks again, and the guard now blocks.
    d.patient_box.setCurrentIndex(1)
    assert not d.name_check.isChecked() and "Max Musterfrau" in d.name_check.text()
    assert "Sending is blocked" in d.findings.text()


def test_rejected_file_and_missing_consent_block_with_a_clear_message(
    qtbot: Any, qloop: Any, files: dict[str, Path]
) -> None:
    d = dialog(qtbot, ResultEngine(), consents=[])
    d.attach(files["locked"])
    assert "password-protected" in d.file_label.text()
    assert d.checked is None
    d.attach(files["erika"])
    confirm(d)
    assert not d.send_button.isEnabled()
    assert "not on file" in d.consent_label.text()
    assert "consent for results" in d.send_button.toolTip()


def test_mismatch_blocks_until_a_written_reason_and_the_reason_goes_along(
    qtbot: Any, qloop: Any, files: dict[str, Path]
) -> None:
    engine = ResultEngine()
    d = dialog(qtbot, engine, undo_seconds=0.3)
    d.attach(files["other"])
    confirm(d)
    assert "Sending is blocked" in d.findings.text()
    assert "name does not appear" in d.findings.text()
    assert d.override.isVisible() and not d.send_button.isEnabled()
    d.override.setPlainText("ok")
    assert not d.send_button.isEnabled()  # too short to be a reason
    reason = "Befund unter Geburtsnamen, telefonisch bestätigt"
    d.override.setPlainText(reason)
    assert d.send_button.isEnabled()
    with qtbot.waitSignal(d.sent, timeout=3000):
        d.send_button.click()
        assert d.pending() and d.send_button.text().startswith("Undo")
        run(qloop, settle(0.8))
    (call,) = engine.calls
    assert call["override_reason"] == reason and call["patient_id"] == ERIKA.id
    assert call["confirmed_name"] == "Erika Musterfrau" and call["confirmed_dob"] == "1980-03-12"


def test_undo_within_five_seconds_sends_nothing(
    qtbot: Any, qloop: Any, files: dict[str, Path]
) -> None:
    engine = ResultEngine()
    d = dialog(qtbot, engine)
    assert d.undo_seconds == 5.0
    d.attach(files["erika"])
    confirm(d)
    d.send_button.click()
    assert d.send_button.text() == "Undo (5)" and not d.name_check.isEnabled()
    run(qloop, settle(1.2))
    assert d.send_button.text() in ("Undo (4)", "Undo (3)")
    with qtbot.waitSignal(d.undone, timeout=1000):
        d.send_button.click()
    run(qloop, settle(5.0), timeout=8)
    assert engine.calls == [] and d.status.text() == "Not sent."
    assert d.name_check.isEnabled() and d.send_button.text() == "Send"


def test_relay_refusal_is_shown_and_the_dialog_stays(
    qtbot: Any, qloop: Any, files: dict[str, Path]
) -> None:
    engine = ResultEngine()
    engine.refuse = RelayError(
        "The patient's consent for results by WhatsApp is not on file; record it before sending.",
        status=422,
        code="no_consent",
    )
    d = dialog(qtbot, engine, undo_seconds=0.2)
    d.attach(files["erika"])
    confirm(d)
    d.send_button.click()
    run(qloop, settle(0.6))
    assert len(engine.calls) == 1 and d.isVisible()
    assert "consent for results" in d.status.text() and d.send_button.isEnabled()
    # Trying again is the same send for the relay (same client id), not a second one.
    d.send_button.click()
    run(qloop, settle(0.6))
    assert len(engine.calls) == 2 and engine.calls[0]["client_id"] == engine.calls[1]["client_id"]


def test_a_dropped_file_is_attached(qtbot: Any, qloop: Any, files: dict[str, Path]) -> None:
    d = dialog(qtbot, ResultEngine())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(files["erika"]))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    d.dropEvent(event)
    assert d.checked is not None and d.path == files["erika"]
    assert asyncio.get_event_loop() is qloop


# -- from the main window ------------------------------------------------------------------


class NurseEngine(ResultEngine):
    """The demo engine plus what the result dialog needs."""

    def __init__(self, base: Any) -> None:
        super().__init__()
        self.base = base

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    async def patients_for(self, wa_id: str) -> list[PatientRecord]:
        return [ERIKA, MAX]

    async def consents_for(self, wa_id: str) -> list[ConsentRecord]:
        return [CONSENT]


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_nurses_open_the_dialog_from_the_thread_and_receptionists_do_not_see_it(
    qtbot: Any, qloop: Any
) -> None:
    from inbox_app.client.engine import SignedInUser
    from tests.test_ui_support import NOW, demo_engine
    from ui.main_window import MainWindow

    windows = {}
    for role in ("nurse", "receptionist"):
        user = SignedInUser(id=1, username=role, display_name="Nina Pflege", role=role)
        win = MainWindow(NurseEngine(demo_engine()), user, clock=lambda: NOW)
        qtbot.addWidget(win)
        win.show()
        win.start()
        windows[role] = win
    run(qloop, settle(0.3))
    assert windows["receptionist"].result_button.isHidden()
    assert windows["receptionist"].open_result_dialog() is None
    nurse = windows["nurse"]
    assert not nurse.result_button.isHidden()
    assert nurse.result_button.text() == "Send result…"
    nurse.result_button.click()
    run(qloop, settle(0.2))
    d = nurse.result_dialog
    assert d is not None and d.patient_box.count() == 2
    assert "on file" in d.consent_label.text() and "Erika Musterfrau" in d.name_check.text()
    d.reject()


# -- the result's state in the thread ---------------------------------------------------------


def test_a_result_message_shows_its_state_and_time_under_the_bubble(qtbot: Any, qloop: Any) -> None:
    from dataclasses import replace

    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QListView, QStyleOptionViewItem

    from inbox_app.domain.messages import MessageRecord, MessageStatus
    from tests.test_ui_support import NOW, FakeEngine, message
    from ui.delegates import MessageDelegate
    from ui.models import ThreadModel

    plain = message(1, 9, NOW - 900, "Ihre Praxis hat eine Nachricht …", out=True)
    plain = replace(plain, status=MessageStatus.READ)
    data = {**plain.to_json(), "result": {"state": "opened", "took_seconds": 720.0}}
    opened = MessageRecord.from_json(data)
    assert (opened.result_state, opened.result_took) == ("opened", 720.0)
    model = ThreadModel(FakeEngine(messages=[opened]))
    run(qloop, model.load(9))
    view = QListView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    delegate = MessageDelegate(view, clock=lambda: NOW)
    assert delegate.result_text(opened) == "Result opened on the page · after 12 min"
    assert delegate.result_text(plain) is None
    later = replace(opened, result_state="downloaded", result_took=2 * 3600.0)
    assert delegate.result_text(later) == "Result downloaded · after 2.0 h"
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = QRect(0, 0, 600, 10)
    with_line = delegate._measure(opened, view.font(), 600, chip=False)
    without = delegate._measure(plain, view.font(), 600, chip=False)
    assert with_line.schedule is not None and with_line.height > without.height
    image = QImage(600, with_line.height, QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    option.rect = QRect(0, 0, 600, with_line.height)
    delegate.paint(painter, option, model.index(0, 0))
    painter.end()
