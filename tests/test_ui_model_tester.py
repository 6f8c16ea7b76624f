"""pytest-qt's model tester on every list model of the UI, filled and then changed the way
the window changes them (inserts, moves, resets, filter changes)."""

from __future__ import annotations

import os
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.test_ui_composer_modes import TEMPLATES
from tests.test_ui_support import NOW, FakeEngine, conversation, message, run
from ui.mentions import ColleagueModel, parse_colleagues
from ui.models import ConversationListModel, ThreadModel
from ui.quick_replies import QuickReply, QuickReplyModel
from ui.search import SearchHit, SearchResultsModel
from ui.templates import TemplateListModel, parse_templates
from ui.views import (
    NOBODY,
    ConversationFilterModel,
    SavedView,
    SavedViewsModel,
    ViewCountsModel,
)

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


def conversations() -> list:
    return [
        conversation(i, f"Patient {i}", NOW - i * 60, last_inbound_at=NOW - i * 60, team_id=i % 2)
        for i in range(1, 8)
    ]


def _filled_source() -> ConversationListModel:
    source = ConversationListModel()
    source.upsert(conversations())
    return source


def _change(source: ConversationListModel) -> None:
    """What sync does to the list: a move, presence, a new row, then a lock (reset)."""
    source.upsert([replace(conversations()[3], last_message_at=NOW + 10)])
    source.set_presence(2, "Ben")
    source.upsert([conversation(50, "Neu", NOW + 20, team_id=1)])
    source.clear()


def test_conversation_list_model(qapp, qtmodeltester) -> None:
    source = _filled_source()
    qtmodeltester.check(source)
    _change(source)
    assert source.rowCount() == 0


def test_conversation_filter_model(qapp, qtmodeltester) -> None:
    source = _filled_source()
    proxy = ConversationFilterModel(clock=lambda: NOW)
    proxy.setSourceModel(source)
    qtmodeltester.check(proxy)
    proxy.set_team(1)
    proxy.set_assignee(NOBODY)
    proxy.set_label("labor")
    proxy.set_label(None)
    proxy.set_view("unassigned")
    _change(source)
    assert proxy.rowCount() == 0


def test_view_counts_model(qapp, qtmodeltester) -> None:
    source = _filled_source()
    counts = ViewCountsModel(source, clock=lambda: NOW)
    qtmodeltester.check(counts)
    counts.set_user(1)
    _change(source)
    counts.recount()
    assert counts.count("all") == 0


def test_thread_model(qapp, qtmodeltester, qloop) -> None:
    engine = FakeEngine(
        [conversation(1, "Lena", NOW)],
        [message(100 + i, 1, NOW - 1000 + i, f"Nachricht {i}") for i in range(120)],
    )
    model = ThreadModel(engine, page_size=30)
    qtmodeltester.check(model)
    run(qloop, model.load(1))
    run(qloop, model.fetch_older())
    model.upsert([message(999, 1, NOW, "neu")])
    model.upsert([replace(message(999, 1, NOW, "neu"), text="geändert")])
    last = model.record_at(model.rowCount() - 1)
    assert model.rowCount() >= 61 and last is not None and last.text == "geändert"
    model.clear()


def test_saved_views_model(qapp, qtmodeltester) -> None:
    saved = SavedViewsModel([SavedView("A", "all"), SavedView("B", "mine", "labor", 10, 2)])
    qtmodeltester.check(saved)
    saved.add(SavedView("C", "escalated"))
    saved.add(SavedView("C", "resolved"))  # same name: replaced in place
    saved.remove(0)
    assert [v.name for v in saved.views()] == ["B", "C"]


def test_quick_reply_model(qapp, qtmodeltester) -> None:
    replies = QuickReplyModel([QuickReply("a", "hallo", "Begrüßung", "Hallo")])
    qtmodeltester.check(replies)


def test_search_results_model(qapp, qtmodeltester) -> None:
    search = SearchResultsModel()
    qtmodeltester.check(search)
    search.set_hits("x", [SearchHit(message(1, 1, NOW, "x"), "Lena")])
    search.set_hits("", [])


def test_template_list_model(qapp, qtmodeltester) -> None:
    templates = TemplateListModel()
    qtmodeltester.check(templates)
    templates.set_templates(parse_templates(TEMPLATES))
    assert templates.rowCount() == 4
    templates.set_templates(parse_templates(TEMPLATES[:1]))


def test_colleague_model(qapp, qtmodeltester) -> None:
    colleagues = ColleagueModel()
    qtmodeltester.check(colleagues)
    colleagues.set_colleagues(
        parse_colleagues(
            [
                {"id": 1, "username": "anna", "display_name": "Anna"},
                {"id": 2, "username": "ben", "display_name": "Ben"},
                {"broken": True},
            ],
            me=1,
        )
    )
    assert colleagues.rowCount() == 1
