"""The administrator's audit window against a real relay: only admins get in, filters
narrow the rows, the chain check shows intact or broken, the CSV export is written and is
itself audited."""

from __future__ import annotations

import ast
import csv
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester
from sqlalchemy import update

import inbox_app.relay
from inbox_app.client.audit_session import AuditSession
from inbox_app.domain.roles import Role
from inbox_app.relay.db import Database, audit
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user
from tests.test_ui_support import run, settle
from ui.audit_view import CODE_ROLE, AuditWindow, action_label

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


@pytest.fixture
def relay_settings(tmp_path: Path) -> RelaySettings:
    # The window's behaviour does not depend on the database; SQLite keeps this quick.
    from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN

    return RelaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        graph_url="http://127.0.0.1:9",
        database_url=f"sqlite:///{tmp_path / 'relay.db'}",
        run_outbox=False,
    )


def _sign_in(url: str, name: str, password: str = "correct horse") -> None:
    r = httpx.post(url + "/v1/auth/login", json={"username": name, "password": password})
    assert r.status_code == 200


def _rows(window: AuditWindow) -> list[tuple[str, str]]:
    """(user, raw action code) per row, newest first."""
    model = window.controller.model
    return [
        (str(model.index(r, 1).data()), str(model.index(r, 2).data(CODE_ROLE)))
        for r in range(model.rowCount())
    ]


def test_audit_window_filters_verifies_and_exports(
    qtbot, qloop, relay_server: LiveServer, relay_settings: RelaySettings, tmp_path: Path
) -> None:
    add_user(relay_settings, "root", Role.ADMIN)
    add_user(relay_settings, "anna", Role.RECEPTIONIST)
    add_user(relay_settings, "ben", Role.NURSE)
    _sign_in(relay_server.url, "anna")
    _sign_in(relay_server.url, "ben")
    assert (
        httpx.post(
            relay_server.url + "/v1/auth/login", json={"username": "anna", "password": "falsch"}
        ).status_code
        == 401
    )

    chosen: list[AuditWindow] = []
    window = AuditWindow(
        AuditSession.for_relay(relay_server.url), choose_file=lambda w: chosen.append(w)
    )
    qtbot.addWidget(window)
    QAbstractItemModelTester(
        window.controller.model, QAbstractItemModelTester.FailureReportingMode.Warning, window
    )
    window.show()
    assert window.sign_in_box.isVisible() and not window.export_button.isEnabled()
    # A receptionist cannot open the audit trail.
    run(qloop, window.controller.sign_in_now("anna", "correct horse"), timeout=15)
    assert window.message.text() == "Only administrators see the audit trail."
    assert window.controller.model.rowCount() == 0
    window.controller.session = AuditSession.for_relay(relay_server.url)
    run(qloop, window.controller.sign_in_now("root", "correct horse"), timeout=15)
    run(qloop, settle(0.05))
    assert not window.sign_in_box.isVisible()
    assert window.chain.text().startswith("✔ Hash chain verified")
    rows = _rows(window)
    assert ("root", "sign_in") == rows[0]  # newest first
    assert ("anna", "sign_in_failed") in rows and ("ben", "sign_in") in rows
    # Staff read labels, not codes; the code is the tooltip.
    model = window.controller.model
    failed = next(r for r in range(model.rowCount()) if _rows(window)[r][1] == "sign_in_failed")
    assert model.index(failed, 2).data() == "Sign-in failed"
    assert model.index(failed, 2).data(Qt.ItemDataRole.ToolTipRole) == "sign_in_failed"
    combo = window.action_filter
    actions = [combo.itemData(i) for i in range(combo.count())]
    assert {"", "sign_in", "sign_in_failed"} <= set(actions)
    shown = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert shown["sign_in"] == "Signed in" and shown["user_created"] == "User created"
    assert combo.itemData(actions.index("sign_in"), Qt.ItemDataRole.ToolTipRole) == "sign_in"
    labels = [combo.itemText(i) for i in range(1, combo.count())]
    assert labels == sorted(labels, key=str.casefold)  # found by label, not by code

    # Filters: one user; then one action across users.
    window.user_filter.setText("anna")
    run(qloop, _apply(window), timeout=15)
    assert {user for user, _ in _rows(window)} == {"anna"}
    window.user_filter.setText("")
    window.action_filter.setCurrentIndex(window.action_filter.findText("Sign-in failed"))
    assert window.current_filters().action == "sign_in_failed"  # the relay is asked by code
    run(qloop, _apply(window), timeout=15)
    assert _rows(window) == [("anna", "sign_in_failed")]
    assert window.action_filter.currentText() == "Sign-in failed"  # kept across reloads
    # A time window in the future has nothing.
    window.action_filter.setCurrentIndex(0)
    window.since_on.setChecked(True)
    window.since.setDateTime(window.since.dateTime().addDays(30))
    run(qloop, _apply(window), timeout=15)
    assert _rows(window) == []
    window.since_on.setChecked(False)

    # Export: the chooser is asked, the file holds the rows, and the export is audited.
    window.export_button.click()
    assert chosen == [window]
    target = tmp_path / "audit.csv"
    run(qloop, window.controller.export_now(str(target)), timeout=15)
    with target.open(encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    # The export stays machine-readable: raw codes, whatever the window's language.
    assert {r["action"] for r in exported} >= {"sign_in", "sign_in_failed"}
    assert not {r["action"] for r in exported} & {"Signed in", "Sign-in failed"}
    assert window.message.text() == f"Exported to {target}"
    run(qloop, _apply(window), timeout=15)
    assert _rows(window)[0] == ("root", "export")

    # Someone edits a row in the database: the chain check says so, in red.
    db = Database(relay_settings.database_url)
    with db.write() as conn:
        conn.execute(update(audit).where(audit.c.id == 2).values(detail='{"forged":true}'))
    db.dispose()
    run(qloop, _apply(window), timeout=15)
    assert window.chain.text().startswith("✘ Hash chain broken: 1 problem(s)")
    assert "audit row 2" in window.chain.toolTip()
    run(qloop, window.controller.session.close(), timeout=15)


async def _apply(window: AuditWindow) -> None:
    window.controller.filters = window.current_filters()
    await window.controller.reload_now()


# -- every code the relay can write has a label ----------------------------------------

RELAY_DIR = Path(inbox_app.relay.__file__).parent
# Calls that write an audit row with the action code as an argument: audit.record,
# AuditLog.record, handover.record, remember_command(action=...), audit_access.
WRITERS = {"record", "remember_command", "audit_access"}


def _strings_in_action_classes(tree: ast.Module) -> set[str]:
    """``*Action`` classes hold the vocabulary (audit.Action, escalations.EscalationAction)."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Action"):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                    if isinstance(stmt.value.value, str):
                        found.add(stmt.value.value)
    return found


def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        if isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }


def relay_action_codes() -> set[str]:
    """Every action code the relay's source can write: the ``*Action`` classes, plus any
    module constant or string literal handed straight to an audit writer (the bot's
    ``handover.AUDIT_*``)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in RELAY_DIR.rglob("*.py")}
    constants: dict[str, str] = {}
    codes: set[str] = set()
    for tree in trees.values():
        codes |= _strings_in_action_classes(tree)
        constants.update(_module_constants(tree))
    for tree in trees.values():
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in WRITERS:
                continue
            args = [*call.args, *(k.value for k in call.keywords if k.arg == "action")]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
                elif isinstance(arg, ast.Attribute) and arg.attr.startswith("AUDIT_"):
                    codes.add(constants[arg.attr])
                elif isinstance(arg, ast.Name) and arg.id.startswith("AUDIT_"):
                    codes.add(constants[arg.id])
    return codes


def test_every_action_the_relay_writes_has_a_label() -> None:
    codes = relay_action_codes()
    # The collector finds all three vocabularies (a broken scan must not pass quietly).
    assert {"sign_in", "result_sent", "call_requested", "bot_handover", "bot_stopped"} <= codes
    unlabelled = sorted(code for code in codes if action_label(code) == code)
    assert unlabelled == [], f"add labels in ui/audit_view.py action_label(): {unlabelled}"
    labels = [action_label(code) for code in codes]
    assert len(set(labels)) == len(labels)  # two actions never read the same
    # A newer relay's code this desktop does not know shows as it is.
    assert action_label("hologram_sent") == "hologram_sent"


def test_labels_dates_and_filter_follow_the_ui_language(qtbot, qapp, qloop) -> None:
    """Labels go through translation (context "AuditActions"), dates follow the UI
    language, and a language switch relabels the open window; codes never change."""
    from PySide6.QtCore import QDateTime, QTimeZone

    from ui.i18n import install_language, pseudo

    window = AuditWindow(AuditSession.for_relay("http://127.0.0.1:9"))
    qtbot.addWidget(window)
    at = QDateTime.fromString("2026-11-23T11:00:00Z", Qt.DateFormat.ISODate)
    local = at.toTimeZone(QTimeZone.systemTimeZone())
    row = {"id": 2, "username": "anna", "conversation_id": 4, "detail": {}, "address": None}
    window.controller.model.replace(
        [
            {**row, "at": "2026-11-23T11:00:00+00:00", "action": "result_sent"},
            {**row, "id": 1, "at": "2026-11-23T10:00:00+00:00", "action": "hologram_sent"},
        ]
    )
    window._on_loaded(False, ["result_sent", "hologram_sent", "sign_in"])
    model, combo = window.controller.model, window.action_filter
    combo.setCurrentIndex(combo.findData("result_sent"))
    assert [model.index(r, 2).data() for r in range(2)] == ["Result sent", "hologram_sent"]
    try:
        install_language(qapp, "pseudo")
        qapp.processEvents()
        assert model.index(0, 2).data() == pseudo("Result sent")
        assert model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole) == "result_sent"
        assert model.index(1, 2).data() == "hologram_sent"  # unknown: the code as it is
        assert model.headerData(2, Qt.Orientation.Horizontal) == pseudo("Action")
        assert combo.itemText(0) == pseudo("All actions")
        assert combo.currentData() == "result_sent"  # the choice survives the switch
        assert combo.currentText() == pseudo("Result sent")
        assert install_language(qapp, "de") == "de"
        qapp.processEvents()
        assert model.index(0, 0).data() == local.toString("dd.MM.yyyy HH:mm:ss")
        assert window.since.displayFormat() == "dd.MM.yyyy HH:mm"
        assert window.current_filters().action == "result_sent"
    finally:
        install_language(qapp, "en")
        run(qloop, window.controller.session.close(), timeout=15)
