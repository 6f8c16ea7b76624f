"""Filters by label, team and assignee on the conversation list, and saved views that keep
them (across starts, through the user's settings)."""

from __future__ import annotations

import os
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from inbox_app.client.engine import SignedInUser
from inbox_app.domain.conversations import ConversationRecord
from tests.test_ui_composer_modes import ComposeEngine
from tests.test_ui_support import NOW, conversation, run, settle
from ui.main_window import MainWindow
from ui.models import IdRole
from ui.preferences import Preferences
from ui.views import NO_TEAM, NOBODY, SavedView, filter_accepts

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]

ME = SignedInUser(id=1, username="anna", display_name="Anna Empfang", role="receptionist")
H = 3600.0


def records() -> list[ConversationRecord]:
    return [
        conversation(1, "Lena Hoffmann", NOW - 60, last_inbound_at=NOW - 60, team_id=10),
        conversation(
            2, "Murat Yılmaz", NOW - 120, last_inbound_at=NOW - 120, team_id=11, assignee_id=2
        ),
        conversation(
            3,
            "Familie Schneider",
            NOW - 180,
            last_inbound_at=NOW - 180,
            team_id=10,
            claimed_by=1,
            claimed_by_name="Anna Empfang",
            labels=("labor",),
        ),
        conversation(4, "Sophie Wagner", NOW - 240, last_inbound_at=NOW - 240),
    ]


def shown(win: MainWindow) -> set[int]:
    model = win.filter_model
    return {model.index(r, 0).data(IdRole) for r in range(model.rowCount())}


def test_filter_rules() -> None:
    recs = {r.id: r for r in records()}

    def ids(**kw: object) -> set[int]:
        return {i for i, r in recs.items() if filter_accepts(r, **kw)}  # type: ignore[arg-type]

    assert ids() == {1, 2, 3, 4}
    assert ids(team=10) == {1, 3}
    assert ids(team=NO_TEAM) == {4}
    assert ids(assignee=2) == {2}
    assert ids(assignee=1) == {3}  # a claim counts as having it
    assert ids(assignee=NOBODY) == {1, 4}
    assert ids(team=10, label="labor") == {3}
    assert ids(team=11, assignee=1) == set()


def test_team_and_assignee_filters_narrow_the_list_and_are_saved(qtbot, qloop, tmp_path) -> None:
    engine = ComposeEngine(records())
    settings = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    prefs = Preferences(settings)
    win = MainWindow(engine, ME, clock=lambda: NOW, saved_views=prefs.saved_views)
    win.saved_views_changed.connect(prefs.set_saved_views)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    filters = win.list_filters
    assert filters.team_filter.isVisibleTo(win) and filters.assignee_filter.isVisibleTo(win)
    teams = [filters.team_filter.itemText(i) for i in range(filters.team_filter.count())]
    assert teams == ["All teams", "Empfang", "Labor", "No team"]
    people = [filters.assignee_filter.itemText(i) for i in range(filters.assignee_filter.count())]
    assert people[:3] == ["Anyone", "Assigned to me", "Unassigned"]
    assert "Ben Pflege" in people and "Anna Empfang" not in people
    assert shown(win) == {1, 2, 3, 4}

    filters.team_filter.setCurrentIndex(teams.index("Empfang"))
    assert shown(win) == {1, 3}
    filters.assignee_filter.setCurrentIndex(people.index("Unassigned"))
    assert shown(win) == {1}
    # The open thread follows the narrowed list.
    run(qloop, settle(0.2))
    assert win.controller.current_conversation_id in shown(win)

    win.rail_buttons["save_view"].click()
    dialog = win.save_view_dialog
    assert dialog is not None and "Empfang" in dialog.textValue()
    dialog.setTextValue("Empfang offen")
    dialog.done(QDialog.DialogCode.Accepted)
    run(qloop, settle(0.05))
    assert prefs.saved_views == [SavedView("Empfang offen", "all", None, 10, NOBODY)]

    # Reset by hand, then the saved view brings team and assignee back.
    filters.team_filter.setCurrentIndex(0)
    filters.assignee_filter.setCurrentIndex(0)
    assert shown(win) == {1, 2, 3, 4}
    win._on_saved_view_chosen(win.saved_views.index(0, 0))
    assert shown(win) == {1}
    assert filters.team_filter.currentText() == "Empfang"
    assert filters.assignee_filter.currentText() == "Unassigned"
    # Kept across starts (the settings file), tolerant of older entries without filters.
    assert Preferences(settings).saved_views == prefs.saved_views
    old = SavedView.from_json({"name": "Alt", "view": "mine", "label": None})
    assert old == SavedView("Alt", "mine")
    assert SavedView.from_json({"name": "x", "view": "all", "team": "10"}) == SavedView("x", "all")


def test_a_new_holder_appears_among_the_choices(qtbot, qloop) -> None:
    engine = ComposeEngine(records())
    win = MainWindow(engine, ME, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    win.start()
    run(qloop, settle(0.3))
    rec = replace(engine.convs[4], claimed_by=7, claimed_by_name="Dora Neu", last_message_at=NOW)
    win.controller.conversation_model.upsert([rec])
    run(qloop, settle(0.1))
    combo = win.list_filters.assignee_filter
    names = [combo.itemText(i) for i in range(combo.count())]
    assert "Dora Neu" in names
    combo.setCurrentIndex(names.index("Dora Neu"))
    assert shown(win) == {4}
