"""Team and assignee filters above the conversation list (the label filter is the window's).

Choices come from the staff directory (``engine.directory()``) and from the conversations
themselves (a holder's name rides on the row), so they work offline and before the
directory loads. Each combo hides while it would offer nothing to choose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QBoxLayout, QComboBox, QHBoxLayout, QWidget

from inbox_app.domain.conversations import ConversationRecord
from ui.views import NO_TEAM, NOBODY, ConversationFilterModel


class ListFilters(QObject):
    """Two combos (team, assignee) that narrow ``ConversationFilterModel``."""

    changed = Signal()

    def __init__(
        self,
        filter_model: ConversationFilterModel,
        host: QWidget,
        layout: QBoxLayout,
        *,
        index: int,
        me: int | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.filter_model = filter_model
        self.me = me
        self._teams: dict[int, str] = {}
        self._people: dict[int, str] = {}
        self.row = QHBoxLayout()
        self.row.setSpacing(6)
        self.team_filter = QComboBox(host)
        self.team_filter.setObjectName("teamFilter")
        self.assignee_filter = QComboBox(host)
        self.assignee_filter.setObjectName("assigneeFilter")
        for combo in (self.team_filter, self.assignee_filter):
            # Long names must not widen the sidebar: the combo elides, its popup shows all.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(6)
        self.row.addWidget(self.team_filter, 1)
        self.row.addWidget(self.assignee_filter, 1)
        layout.insertLayout(index, self.row)
        self.team_filter.currentIndexChanged.connect(self._on_team)
        self.assignee_filter.currentIndexChanged.connect(self._on_assignee)
        self.retranslate()

    def retranslate(self) -> None:
        self.team_filter.setAccessibleName(self.tr("Filter by team"))
        self.assignee_filter.setAccessibleName(self.tr("Filter by assignee"))
        self.refresh([])

    def set_directory(self, directory: Mapping[str, Any]) -> None:
        for entry in directory.get("teams") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), int):
                self._teams[int(entry["id"])] = str(entry.get("name") or entry["id"])
        for entry in directory.get("users") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), int):
                name = entry.get("display_name") or entry.get("username") or entry["id"]
                self._people[int(entry["id"])] = str(name)

    def refresh(self, records: Sequence[ConversationRecord]) -> None:
        """Rebuild the choices (keeping the current ones), e.g. after the list changed."""
        for rec in records:
            if rec.team_id is not None:
                self._teams.setdefault(
                    rec.team_id, self.tr("Team %1").replace("%1", str(rec.team_id))
                )
            if rec.claimed_by is not None and rec.claimed_by_name:
                self._people.setdefault(rec.claimed_by, rec.claimed_by_name)
        teams: list[tuple[str, int | None]] = [(self.tr("All teams"), None)]
        if self._teams:
            teams += sorted(((n, i) for i, n in self._teams.items()), key=lambda t: t[0].casefold())
            teams.append((self.tr("No team"), NO_TEAM))
        self._fill(self.team_filter, teams, self.filter_model.team)
        self.team_filter.setVisible(bool(self._teams))
        people: list[tuple[str, int | None]] = [(self.tr("Anyone"), None)]
        if self.me is not None:
            people.append((self.tr("Assigned to me"), self.me))
        people.append((self.tr("Unassigned"), NOBODY))
        others = sorted(
            ((n, i) for i, n in self._people.items() if i != self.me), key=lambda t: t[0].casefold()
        )
        people += others
        self._fill(self.assignee_filter, people, self.filter_model.assignee)
        self.assignee_filter.setVisible(self.me is not None or bool(others))

    def _fill(
        self, combo: QComboBox, items: list[tuple[str, int | None]], current: int | None
    ) -> None:
        combo.blockSignals(True)
        try:
            combo.clear()
            for text, value in items:
                combo.addItem(text, value)
            found = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(0, found))
        finally:
            combo.blockSignals(False)

    def select(self, team: int | None, assignee: int | None) -> None:
        """Apply a saved view's team and assignee (kept even when not listed yet)."""
        self.filter_model.set_team(team)
        self.filter_model.set_assignee(assignee)
        for combo, value, label in (
            (self.team_filter, team, self.tr("Team %1")),
            (self.assignee_filter, assignee, self.tr("Colleague %1")),
        ):
            index = combo.findData(value) if value is not None else 0
            if index < 0:
                combo.blockSignals(True)
                combo.addItem(label.replace("%1", str(value)), value)
                combo.blockSignals(False)
                index = combo.count() - 1
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self.changed.emit()

    def _on_team(self, index: int) -> None:
        value = self.team_filter.itemData(index)
        self.filter_model.set_team(value if isinstance(value, int) else None)
        self.changed.emit()

    def _on_assignee(self, index: int) -> None:
        value = self.assignee_filter.itemData(index)
        self.filter_model.set_assignee(value if isinstance(value, int) else None)
        self.changed.emit()

    def describe(self) -> str:
        """The active filters as text (for a saved view's default name)."""
        parts = []
        for combo in (self.team_filter, self.assignee_filter):
            if combo.currentIndex() > 0:
                parts.append(combo.currentText())
        return " · ".join(parts)
