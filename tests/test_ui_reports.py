"""The reports page shows the relay's figures in human units, charts one, exports CSV."""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, Qt

from inbox_app.client.api import RelayUnavailable
from inbox_app.client.records import SignedInUser
from inbox_app.relay.db import Database
from inbox_app.relay.reports import build_report
from ui.i18n import install_language
from ui.main_window import MainWindow
from ui.reports import ReportsPage, period_axis_label, period_label

from .test_relay_reports import D1, D2, seed
from .test_ui_support import FakeEngine, conversation


class ReportEngine:
    def __init__(self, report: dict[str, Any] | None) -> None:
        self.report = report
        self.asked: list[tuple[float, float, str]] = []

    async def reports(self, *, since: float, until: float, group: str = "day") -> dict[str, Any]:
        self.asked.append((since, until, group))
        if self.report is None:
            raise RelayUnavailable("The relay cannot be reached.")
        return self.report


def _report(tmp_path: Path, group: str) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp_path / f'r-{group}.db'}")
    db.create_schema()
    with db.write() as conn:
        seed(conn)
    with db.read() as conn:
        report = build_report(
            conn, since=D1, until=D2 + 86399, group=group, timezone="UTC"
        ).to_json()
    db.dispose()
    return report


@pytest.fixture
def known_report(tmp_path: Path) -> dict[str, Any]:
    return _report(tmp_path, "day")


@pytest.fixture
def ui_language(qapp: Any) -> Iterator[Any]:
    """Switch the UI language like the settings page does; English on a US system, so the
    English date form does not depend on the machine running the tests."""
    previous = QLocale()
    QLocale.setDefault(QLocale("en_US"))

    def switch(language: str) -> None:
        assert install_language(qapp, language) == language
        qapp.processEvents()  # delivers LanguageChange to the widgets

    try:
        yield switch
    finally:
        install_language(qapp, "en")
        QLocale.setDefault(previous)


def settle(qloop: Any, seconds: float = 0.1) -> None:
    qloop.run_until_complete(asyncio.sleep(seconds))


def test_figures_chart_and_csv(qtbot, qloop, qtmodeltester, known_report, tmp_path) -> None:
    engine = ReportEngine(known_report)
    page = ReportsPage(engine, clock=lambda: D2 + 86399)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.refresh()
    settle(qloop)
    since, until, group = engine.asked[-1]
    assert (until - since, group) == (30 * 86400, "day")  # default: the last 30 days
    model = page.model
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert header[:3] == ["Period", "First response (median)", "Resolution time (median)"]
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) == "2026-11-03"  # newest
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == "2026-11-03"
    assert model.data(model.index(1, 1)) == "20 min"  # median of 10 and 30 minutes
    assert model.data(model.index(1, 2)) == "2.0 h"
    rate = header.index("Reminders confirmed")
    assert model.data(model.index(1, rate)) == "67 %"
    no_data = header.index("No-shows without reminder")
    assert model.data(model.index(1, no_data)) == "–"
    # The chart follows the chosen figure.
    page.chart_metric.setCurrentIndex(page.chart_metric.findData("resolution"))
    assert page.chart.points == [("2026-11-02", 7200.0), ("2026-11-03", 3600.0)]
    assert "Reception" in page.roles.text() and "Nurses" in page.roles.text()
    # Grouping by week asks again.
    page.group.setCurrentIndex(page.group.findData("week"))
    settle(qloop)
    assert engine.asked[-1][2] == "week"
    target = tmp_path / "report.csv"
    page.export_csv(target)
    rows = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert rows[0][:2] == ["period", "first_response"]
    assert rows[1][0] == "2026-11-02"


def test_offline_or_not_allowed_says_so(qtbot, qloop) -> None:
    page = ReportsPage(ReportEngine(None))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.error, timeout=2000):
        page.refresh()
        settle(qloop)
    assert "connection" in page.status.text()
    assert not page.export_button.isEnabled()


class ReportingFake(FakeEngine):
    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__([conversation(1, "Lena Hoffmann", 1.0)])
        self.report = report

    async def reports(self, *, since: float, until: float, group: str = "day") -> dict[str, Any]:
        return self.report


@pytest.mark.parametrize(
    ("role", "offered"), [("admin", True), ("clinician", True), ("receptionist", False)]
)
def test_reports_are_offered_to_admins_and_clinicians_only(
    qtbot, qloop, known_report, role: str, offered: bool
) -> None:
    user = SignedInUser(id=3, username="x", display_name="X", role=role)
    win = MainWindow(ReportingFake(known_report), user)
    qtbot.addWidget(win)
    win.show()
    win.start()
    settle(qloop)
    assert ("reports" in win.rail_buttons) is offered
    if offered:
        win.rail_buttons["reports"].click()
        settle(qloop)
        page = win.reports_page
        assert win.pages.currentWidget() is page
        assert page.model.rowCount() == 2
        page.back_button.click()
        assert win.current_page() == "inbox"


# Week 45 of 2026 runs Monday 2 to Sunday 8 November; the week word is the translator's.
DATES = {
    "de": {
        "days": ["03.11.2026", "02.11.2026"],
        "week": r"(Week|KW) 45 · 02\.11\.–08\.11\.",
        "axis": "02.11.",
        "range": "02.11.2026 – 03.11.2026",
    },
    "en": {
        "days": ["11/3/2026", "11/2/2026"],
        "week": r"Week 45 · 11/2–11/8",
        "axis": "11/2",
        "range": "11/2/2026 – 11/3/2026",
    },
}


@pytest.mark.parametrize("language", ["de", "en"])
def test_dates_follow_the_ui_language_and_csv_stays_iso(
    qtbot, qloop, ui_language, known_report, tmp_path, language: str
) -> None:
    ui_language(language)
    expected = DATES[language]
    page = ReportsPage(ReportEngine(known_report), clock=lambda: D2 + 86399)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    settle(qloop)
    model = page.model
    assert [model.data(model.index(r, 0)) for r in range(2)] == expected["days"]
    assert expected["range"] in page.status.text()
    page.chart_metric.setCurrentIndex(page.chart_metric.findData("resolution"))
    assert page.chart.accessibleDescription().startswith(f"{expected['days'][1]}: 2.0 h")
    assert period_axis_label("2026-11-02") == expected["axis"]
    assert re.fullmatch(expected["week"], period_label("2026-W45"))
    target = tmp_path / "report.csv"
    page.export_csv(target)
    rows = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert [row[0] for row in rows] == ["period", "2026-11-02", "2026-11-03"]


def test_week_rows_read_as_weeks_and_follow_a_language_switch(
    qtbot, qloop, ui_language, tmp_path
) -> None:
    weekly = _report(tmp_path, "week")
    assert weekly["periods"] == ["2026-W45"]
    ui_language("en")
    page = ReportsPage(ReportEngine(weekly), clock=lambda: D2 + 86399)
    qtbot.addWidget(page)
    page.show()
    page.refresh()
    settle(qloop)
    cell = page.model.index(0, 0)
    assert re.fullmatch(DATES["en"]["week"], cell.data())
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == "2026-W45"
    assert "11/2/2026 – 11/8/2026" in page.status.text()  # the whole week
    # Switching to German redraws the page's dates at once (no reload).
    ui_language("de")
    assert re.fullmatch(DATES["de"]["week"], page.model.index(0, 0).data())
    assert "02.11.2026 – 08.11.2026" in page.status.text()
    target = tmp_path / "weekly.csv"
    page.export_csv(target)
    assert target.read_text(encoding="utf-8").splitlines()[1].startswith("2026-W45,")
