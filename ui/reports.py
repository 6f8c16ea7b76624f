"""The reports page: the clinic's figures by day or week, a chart, by role, and CSV export.

Reports are aggregates from the relay (``GET /v1/reports``); nothing here names a patient.
"""

from __future__ import annotations

import contextlib
import csv
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inbox_app.domain.reports import human_value, to_csv_rows
from ui.controller import asyncSlot
from ui.locale_dates import format_date, format_day_month, ui_locale

Index = QModelIndex | QPersistentModelIndex


class ReportSource(Protocol):
    async def reports(
        self, *, since: float, until: float, group: str = "day"
    ) -> dict[str, Any]: ...


def metric_label(name: str) -> str:
    labels = {
        "first_response": QCoreApplication.translate("reports", "First response (median)"),
        "resolution": QCoreApplication.translate("reports", "Resolution time (median)"),
        "reminder_confirmation": QCoreApplication.translate("reports", "Reminders confirmed"),
        "no_show_with_reminder": QCoreApplication.translate("reports", "No-shows with reminder"),
        "no_show_without_reminder": QCoreApplication.translate(
            "reports", "No-shows without reminder"
        ),
        "chat_bookings": QCoreApplication.translate("reports", "Bookings by chat"),
        "result_opened": QCoreApplication.translate("reports", "Result sent → opened (median)"),
        "escalation_ack": QCoreApplication.translate("reports", "Escalation acknowledged (median)"),
        "satisfaction": QCoreApplication.translate("reports", "Patient satisfaction"),
    }
    return labels.get(name, name.replace("_", " "))


def role_label(role: str) -> str:
    labels = {
        "receptionist": QCoreApplication.translate("reports", "Reception"),
        "nurse": QCoreApplication.translate("reports", "Nurses"),
        "clinician": QCoreApplication.translate("reports", "Clinicians"),
        "admin": QCoreApplication.translate("reports", "Administrators"),
    }
    return labels.get(role, role)


_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def _week_of(period: str) -> tuple[int, date, date] | None:
    """``2026-W48`` → (48, its Monday, its Sunday); None for anything else."""
    found = _WEEK.fullmatch(period)
    if found is None:
        return None
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        return None
    return int(found[2]), monday, monday + timedelta(days=6)


def _day_of(period: str) -> date | None:
    # Checked after _week_of: fromisoformat also reads "2026-W48" (as its Monday).
    try:
        return date.fromisoformat(period)
    except ValueError:
        return None


def period_label(period: str, locale: QLocale | None = None) -> str:
    """A report period as staff read it, in the UI language's date form: a day as
    ``23.11.2026``, a week as ``Week 48 · 23.11.–29.11.`` ("KW" in German); anything
    unexpected as it is. CSV exports keep the relay's ISO periods."""
    loc = locale or ui_locale()
    week = _week_of(period)
    if week is not None:
        number, monday, sunday = week
        return (
            QCoreApplication.translate("reports", "Week %1 · %2–%3")
            .replace("%1", str(number))
            .replace("%2", format_day_month(monday, loc))
            .replace("%3", format_day_month(sunday, loc))
        )
    day = _day_of(period)
    return format_date(day, loc) if day is not None else period


def period_axis_label(period: str, locale: QLocale | None = None) -> str:
    """The chart's short form: ``23.11.`` for a day, ``Week 48`` for a week."""
    loc = locale or ui_locale()
    week = _week_of(period)
    if week is not None:
        return QCoreApplication.translate("reports", "Week %1").replace("%1", str(week[0]))
    day = _day_of(period)
    return format_day_month(day, loc) if day is not None else period


def period_range(periods: list[str], locale: QLocale | None = None) -> str:
    """The days the periods cover, first to last (``27.10.2026 – 26.11.2026``)."""
    days: list[date] = []
    for period in (periods[0], periods[-1]) if periods else ():
        week = _week_of(period)
        day = _day_of(period)
        if week is not None:
            days.append(week[1] if not days else week[2])
        elif day is not None:
            days.append(day)
    if len(days) != 2:
        return ""
    loc = locale or ui_locale()
    first, last = format_date(days[0], loc), format_date(days[1], loc)
    return first if first == last else f"{first} – {last}"


class ReportTableModel(QAbstractTableModel):
    """Periods as rows (newest first), metrics as columns; display text in human units, the
    raw value in UserRole."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: dict[str, Any] = {"metrics": [], "rows": []}

    def set_report(self, report: dict[str, Any]) -> None:
        self.beginResetModel()
        self._report = report
        self.endResetModel()

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return list(self._report.get("metrics") or [])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._report.get("rows") or [])

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1 + len(self.metrics)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        row = self._report["rows"][-1 - index.row()]  # newest period first
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return period_label(row["period"])
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.UserRole):
                return row["period"]  # the ISO form, as in the CSV export
            return None
        metric = self.metrics[index.column() - 1]
        value = row.get(metric["name"])
        if role == Qt.ItemDataRole.DisplayRole:
            return human_value(metric["kind"], value)
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            count = row.get(f"{metric['name']}_n", 0)
            # self.tr, not translate(): only tr() gives lupdate a plural (numerus) entry.
            return self.tr("%n case(s)", "", int(count))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section == 0:
            return QCoreApplication.translate("reports", "Period")
        if 0 < section <= len(self.metrics):
            return metric_label(self.metrics[section - 1]["name"])
        return None


class BarChart(QWidget):
    """One metric over the periods, painted (no chart library in PySide6-Essentials)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.kind = "count"
        self.points: list[tuple[str, float | None]] = []
        self.setAccessibleName(QCoreApplication.translate("reports", "Chart"))

    def set_series(self, kind: str, points: list[tuple[str, float | None]]) -> None:
        """``points``: (ISO period, value); labels are formatted for the UI language."""
        self.kind, self.points = kind, points
        self.setAccessibleDescription(
            ", ".join(f"{period_label(period)}: {human_value(kind, v)}" for period, v in points)
        )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        bar = pal.color(QPalette.ColorRole.Highlight)
        grid = QColor(text)
        grid.setAlpha(40)
        rect = QRectF(self.rect()).adjusted(8, 24, -8, -28)  # room for values and labels
        painter.setPen(grid)
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        values = [v for _, v in self.points if v is not None]
        if not self.points:
            return
        top = max(values) if values else 0.0
        top = top if top > 0 else 1.0
        slot = rect.width() / len(self.points)
        width = max(2.0, min(48.0, slot * 0.6))
        metrics = painter.fontMetrics()
        loc = ui_locale()
        labels = [period_axis_label(period, loc) for period, _ in self.points]
        widest = max(
            metrics.horizontalAdvance(label) for label in labels
        ) + metrics.horizontalAdvance("MM")
        step = max(1, int(len(self.points) * widest / rect.width()) + 1)
        for i, ((_, value), label) in enumerate(zip(self.points, labels, strict=True)):
            x = rect.left() + i * slot + (slot - width) / 2
            if value is not None:
                height = rect.height() * value / top
                painter.fillRect(QRectF(x, rect.bottom() - height, width, height), bar)
                if slot > metrics.horizontalAdvance("100 %") + 4:
                    painter.setPen(text)
                    painter.drawText(
                        QRectF(x - slot, rect.bottom() - height - 18, width + 2 * slot, 16),
                        Qt.AlignmentFlag.AlignCenter,
                        human_value(self.kind, value),
                    )
            if i % step == 0:
                painter.setPen(text)
                painter.drawText(
                    QRectF(x - slot, rect.bottom() + 4, width + 2 * slot, 18),
                    Qt.AlignmentFlag.AlignCenter,
                    label,
                )


class ReportsPage(QWidget):
    """Range and grouping, figure tiles, a chart of one metric, the table, by role, CSV."""

    error = Signal(str)
    RANGES = (("7", 7), ("30", 30), ("84", 84))  # days: a week, a month, twelve weeks

    def __init__(
        self,
        engine: ReportSource,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reportsPage")
        self._engine, self._clock = engine, clock
        self.report: dict[str, Any] | None = None
        self.back_button = QPushButton(self)
        self.back_button.setVisible(False)  # shown when the page sits in the main window
        self.title = QLabel(self)
        self.title.setObjectName("reportsTitle")
        self.range = QComboBox(self)
        self.group = QComboBox(self)
        self.chart_metric = QComboBox(self)
        self.refresh_button = QPushButton(self)
        self.export_button = QPushButton(self)
        self.export_button.setEnabled(False)
        self.status = QLabel(self)
        self.status.setObjectName("mutedLabel")
        self.tiles = QGridLayout()
        self.tiles.setSpacing(8)
        self.chart = BarChart(self)
        self.model = ReportTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        self.roles = QLabel(self)
        self.roles.setWordWrap(True)
        self.roles.setTextFormat(Qt.TextFormat.PlainText)

        bar = QHBoxLayout()
        bar.addWidget(self.back_button)
        bar.addWidget(self.title)
        bar.addStretch(1)
        for widget in (self.range, self.group, self.refresh_button, self.export_button):
            bar.addWidget(widget)
        chart_bar = QHBoxLayout()
        self.chart_label = QLabel(self)
        chart_bar.addWidget(self.chart_label)
        chart_bar.addWidget(self.chart_metric)
        chart_bar.addStretch(1)
        chart_bar.addWidget(self.status)
        tiles = QFrame(self)
        tiles.setLayout(self.tiles)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(bar)
        layout.addWidget(tiles)
        layout.addLayout(chart_bar)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.roles)

        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self._ask_export)
        self.range.currentIndexChanged.connect(lambda _i: self.refresh())
        self.group.currentIndexChanged.connect(lambda _i: self.refresh())
        self.chart_metric.currentIndexChanged.connect(lambda _i: self._draw_chart())
        self.retranslate()

    def retranslate(self) -> None:
        translate = QCoreApplication.translate
        self.title.setText(translate("reports", "Reports"))
        self.back_button.setText(translate("reports", "← Inbox"))
        self.refresh_button.setText(translate("reports", "Refresh"))
        self.export_button.setText(translate("reports", "Export CSV…"))
        self.chart_label.setText(translate("reports", "Chart:"))
        names = {
            "7": translate("reports", "Last 7 days"),
            "30": translate("reports", "Last 30 days"),
            "84": translate("reports", "Last 12 weeks"),
        }
        self._fill(self.range, [(names[key], days) for key, days in self.RANGES], default=1)
        self._fill(
            self.group,
            [(translate("reports", "By day"), "day"), (translate("reports", "By week"), "week")],
        )
        for widget, name in (
            (self.range, translate("reports", "Time range")),
            (self.group, translate("reports", "Grouping")),
            (self.chart_metric, translate("reports", "Figure shown in the chart")),
            (self.table, translate("reports", "Figures by period")),
            (self.refresh_button, translate("reports", "Refresh")),
            (self.export_button, translate("reports", "Export CSV")),
        ):
            widget.setAccessibleName(name)
        if self.report is not None:
            self.show_report(self.report)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()  # also redraws dates in the new language's form
        super().changeEvent(event)

    @staticmethod
    def _fill(combo: QComboBox, items: list[tuple[str, Any]], default: int = 0) -> None:
        current = combo.currentIndex() if combo.count() else default
        combo.blockSignals(True)
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        combo.setCurrentIndex(current)
        combo.blockSignals(False)

    # -- loading -----------------------------------------------------------------------
    @asyncSlot()
    async def refresh(self) -> None:
        until = self._clock()
        since = until - int(self.range.currentData() or 30) * 86400
        group = str(self.group.currentData() or "day")
        self.status.setText(QCoreApplication.translate("reports", "Loading…"))
        try:
            report = await self._engine.reports(since=since, until=until, group=group)
        except Exception as exc:  # offline, or a role without reports
            self._failed(exc)
            return
        self.show_report(report)

    def _failed(self, exc: Exception) -> None:
        self.status.setText(
            QCoreApplication.translate(
                "reports", "Reports need a connection to the relay and the right role."
            )
        )
        self.error.emit(str(exc))

    def show_report(self, report: dict[str, Any]) -> None:
        self.report = report
        self.model.set_report(report)
        self.export_button.setEnabled(True)
        periods = list(report.get("periods") or [])
        status = self.tr("%n period(s)", "", len(periods))
        span = period_range(periods)
        if span:
            status += " · " + span  # what the tiles add up
        self.status.setText(status)
        self._show_tiles(report)
        current = self.chart_metric.currentData()
        self._fill(
            self.chart_metric,
            [(metric_label(m["name"]), m["name"]) for m in report["metrics"]],
        )
        if current is not None:
            found = self.chart_metric.findData(current)
            if found >= 0:
                self.chart_metric.setCurrentIndex(found)
        self._draw_chart()
        self._show_roles(report)

    def _show_tiles(self, report: dict[str, Any]) -> None:
        while self.tiles.count():
            item = self.tiles.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for i, metric in enumerate(report["metrics"]):
            total = report["totals"].get(metric["name"]) or {}
            tile = QFrame(self)
            tile.setObjectName("reportTile")
            value = QLabel(human_value(metric["kind"], total.get("value")), tile)
            value.setObjectName("reportValue")
            caption = QLabel(metric_label(metric["name"]), tile)
            caption.setObjectName("reportCaption")
            caption.setWordWrap(True)
            box = QVBoxLayout(tile)
            box.setContentsMargins(12, 8, 12, 8)
            box.setSpacing(2)
            box.addWidget(value)
            box.addWidget(caption)
            tile.setAccessibleName(f"{metric_label(metric['name'])}: {value.text()}")
            self.tiles.addWidget(tile, i // 5, i % 5)

    def _draw_chart(self) -> None:
        if self.report is None:
            return
        name = self.chart_metric.currentData()
        kind = next((m["kind"] for m in self.report["metrics"] if m["name"] == name), "count")
        self.chart.set_series(kind, [(row["period"], row.get(name)) for row in self.report["rows"]])

    def _show_roles(self, report: dict[str, Any]) -> None:
        kinds = {m["name"]: m["kind"] for m in report["metrics"]}
        lines = []
        for role, figures in sorted(report.get("by_role", {}).items()):
            parts = [
                f"{metric_label(name)} {human_value(kinds.get(name, 'count'), f.get('value'))}"
                f" ({f.get('n', 0)})"
                for name, f in figures.items()
            ]
            lines.append(f"{role_label(role)}: " + "; ".join(parts))
        heading = QCoreApplication.translate("reports", "By role")
        self.roles.setText(heading + "\n" + "\n".join(lines) if lines else "")

    # -- export ------------------------------------------------------------------------
    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            QCoreApplication.translate("reports", "Export report"),
            "praxis-inbox-report.csv",
            QCoreApplication.translate("reports", "CSV files (*.csv)"),
        )
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> None:
        if self.report is None:
            return
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(to_csv_rows(self.report))
        self.status.setText(
            QCoreApplication.translate("reports", "Exported %1").replace("%1", path.name)
        )


# -- in the main window ------------------------------------------------------------------

REPORT_ROLES = ("admin", "clinician")


class DemoReportSource:
    """The demo signs in as a receptionist, who may not read reports: the page asks as the
    demo's synthetic administrator instead (the demo only)."""

    def __init__(self, stack: Any) -> None:
        self._stack = stack
        self._api: Any = None

    async def reports(self, *, since: float, until: float, group: str = "day") -> dict[str, Any]:
        if self._api is None:
            from inbox_app.client.api import RelayClient
            from ui.audit_view import DEMO_ADMIN, DEMO_ADMIN_PASSWORD

            with contextlib.suppress(Exception):  # already there (the audit page made it)
                await self._stack.add_user(
                    DEMO_ADMIN, DEMO_ADMIN_PASSWORD, role="admin", display_name="Praxis-Admin"
                )
            api = RelayClient(self._stack.relay_url)
            await api.login(DEMO_ADMIN, DEMO_ADMIN_PASSWORD)
            self._api = api
        answer: dict[str, Any] = await self._api.get(
            "/v1/reports", {"since": since, "until": until, "group": group}
        )
        return answer


def _source_for(window: Any) -> ReportSource | None:
    engine = window.controller.engine
    user = getattr(window, "_user", None)
    if getattr(user, "role", None) in REPORT_ROLES and callable(getattr(engine, "reports", None)):
        source: ReportSource = engine
        return source
    stack = getattr(window, "demo_stack", None)
    return DemoReportSource(stack) if stack is not None else None


def install(window: Any) -> None:
    """A "Reports" rail button for administrators and clinicians."""
    buttons = getattr(window, "rail_buttons", None)
    settings_button = buttons.get("settings") if isinstance(buttons, dict) else None
    user = getattr(window, "_user", None)
    if (
        not isinstance(buttons, dict)
        or settings_button is None
        or "reports" in buttons
        or getattr(user, "role", None) not in REPORT_ROLES
    ):
        return
    layout = settings_button.parentWidget().layout()
    button = QPushButton(
        QCoreApplication.translate("reports", "Reports"), settings_button.parentWidget()
    )
    button.setObjectName("railButton")
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    layout.insertWidget(layout.indexOf(settings_button), button)
    buttons["reports"] = button
    button.clicked.connect(lambda: show_page(window))


def show_page(window: Any) -> ReportsPage | None:
    """The reports as a page of the main window (``--view reports``)."""
    existing = getattr(window, "reports_page", None)
    if isinstance(existing, ReportsPage):
        window.pages.setCurrentWidget(existing)
        existing.refresh()
        return existing
    source = _source_for(window)
    if source is None:
        return None
    page = ReportsPage(source, parent=window)
    page.back_button.setVisible(True)
    page.back_button.clicked.connect(lambda: window.show_page("inbox"))
    window.reports_page = page
    window.pages.addWidget(page)
    window.pages.setCurrentWidget(page)
    page.refresh()
    return page
