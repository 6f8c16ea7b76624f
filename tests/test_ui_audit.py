"""The administrator's audit window against a real relay: only admins get in, filters
narrow the rows, the chain check shows intact or broken, the CSV export is written and is
itself audited."""

from __future__ import annotations

import csv
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
import pytest
from PySide6.QtTest import QAbstractItemModelTester
from sqlalchemy import update

from inbox_app.client.audit_session import AuditSession
from inbox_app.domain.roles import Role
from inbox_app.relay.db import Database, audit
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.test_relay_api import add_user
from tests.test_ui_support import run, settle
from ui.audit_view import AuditWindow

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
    model = window.controller.model
    return [
        (str(model.index(r, 1).data()), str(model.index(r, 2).data()))
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
    actions = [window.action_filter.itemData(i) for i in range(window.action_filter.count())]
    assert {"", "sign_in", "sign_in_failed"} <= set(actions)

    # Filters: one user; then one action across users.
    window.user_filter.setText("anna")
    run(qloop, _apply(window), timeout=15)
    assert {user for user, _ in _rows(window)} == {"anna"}
    window.user_filter.setText("")
    window.action_filter.setCurrentIndex(window.action_filter.findData("sign_in_failed"))
    run(qloop, _apply(window), timeout=15)
    assert _rows(window) == [("anna", "sign_in_failed")]
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
    assert {r["action"] for r in exported} >= {"sign_in", "sign_in_failed"}
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
