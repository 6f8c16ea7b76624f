"""Conversation and thread models: row-level updates, paging, outbox replacement, coalescing."""

from __future__ import annotations

import os
import random
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex
from PySide6.QtTest import QAbstractItemModelTester

from inbox_app.client.engine import ChangeSummary, ConnectionState
from inbox_app.domain.messages import MessageStatus
from tests.test_ui_support import (
    NOW,
    FakeEngine,
    conversation,
    demo_engine,
    message,
    run,
    settle,
)
from ui.bridge import EngineBridge, merge_summaries
from ui.controller import InboxController
from ui.models import ConversationListModel, IdRole, RecordRole, ThreadModel

# Any Qt warning (including every QAbstractItemModelTester finding) fails the test.

pytestmark = pytest.mark.qt_log_level_fail("WARNING")


class Spy:
    """Counts a model's structural signals."""

    def __init__(self, model: QAbstractItemModel) -> None:
        self.resets = 0
        self.inserted: list[tuple[int, int]] = []
        self.moved: list[tuple[int, int]] = []
        self.changed: list[int] = []
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(lambda _p, a, b: self.inserted.append((a, b)))
        model.rowsMoved.connect(lambda _p, a, _b, _d, row: self.moved.append((a, row)))
        model.dataChanged.connect(lambda tl, _br, _roles=(): self.changed.append(tl.row()))

    def _reset(self) -> None:
        self.resets += 1


def attach_tester(model: QAbstractItemModel) -> QAbstractItemModelTester:
    return QAbstractItemModelTester(
        model, QAbstractItemModelTester.FailureReportingMode.Warning, model
    )


def names(model: ConversationListModel) -> list[int]:
    return [r.id for r in model.records()]


def test_conversation_upsert_inserts_updates_and_moves_without_reset(qapp) -> None:
    model = ConversationListModel()
    attach_tester(model)
    spy = Spy(model)
    model.upsert(
        [
            conversation(1, "A", NOW - 10),
            conversation(2, "B", NOW - 20),
            conversation(3, "C", NOW - 30),
        ]
    )
    assert names(model) == [1, 2, 3]
    assert spy.inserted == [(0, 2)]  # first load is one insert

    # update in place: same order, one dataChanged
    model.upsert([replace(model.record_at(1), unread=4)])  # type: ignore[arg-type]
    assert names(model) == [1, 2, 3]
    assert spy.changed == [1]
    assert model.index(1, 0).data(RecordRole).unread == 4

    # a new message in the last conversation moves it to the top
    model.upsert([conversation(3, "C", NOW, "neu")])
    assert names(model) == [3, 1, 2]
    assert spy.moved == [(2, 0)]
    assert model.index(0, 0).data(RecordRole).last_message_preview == "neu"

    # and moving down works too (beginMoveRows counts the destination before the move)
    model.upsert([conversation(3, "C", NOW - 25)])
    assert names(model) == [1, 2, 3]

    # a new conversation lands at its sorted place
    model.upsert([conversation(4, "D", NOW - 15)])
    assert names(model) == [1, 4, 2, 3]
    assert spy.inserted[-1] == (1, 1)
    # unchanged records are no-ops
    before = len(spy.changed)
    model.upsert([model.record_at(0)])  # type: ignore[list-item]
    assert len(spy.changed) == before
    assert spy.resets == 0
    assert model.index(0, 0).data(IdRole) == 1


def test_conversation_order_stays_sorted_under_random_updates(qapp) -> None:
    rng = random.Random(7)
    model = ConversationListModel()
    attach_tester(model)
    spy = Spy(model)
    model.upsert([conversation(i, f"P{i}", NOW - i * 60) for i in range(1, 41)])
    for step in range(500):
        cid = rng.randint(1, 60)  # some new, most known
        model.upsert([conversation(cid, f"P{cid}", NOW + step * rng.choice([-1, 1]) * 7)])
    keys = [(-r.last_message_at, -r.id) for r in model.records()]
    assert keys == sorted(keys)
    assert len({r.id for r in model.records()}) == model.rowCount()
    assert spy.resets == 0


def test_thread_loads_newest_page_and_fetches_older(qapp, qloop) -> None:
    engine = demo_engine()
    model = ThreadModel(engine, page_size=50)
    # No model tester here: it calls fetchMore itself (see the next test), which would
    # load every page before we could look at one.
    run(qloop, model.load(4))
    assert model.rowCount() == 50
    assert model.canFetchMore(QModelIndex())
    rows = model.records()
    assert [(m.timestamp, m.id) for m in rows] == sorted((m.timestamp, m.id) for m in rows)
    newest = rows[-1]

    spy = Spy(model)
    first = rows[0]
    model.fetchMore(QModelIndex())  # what the view calls at the top; the page arrives async
    assert not model.canFetchMore(QModelIndex())  # no second request while one is in flight
    run(qloop, settle(0.05))
    assert model.rowCount() == 100
    assert engine.message_calls[-1] == (4, (first.timestamp, first.id), 50)
    assert spy.inserted == [(0, 49)]

    run(qloop, model.fetch_older())
    assert model.rowCount() == 121  # 120 history + 1
    assert not model.canFetchMore(QModelIndex())
    assert model.records()[-1] == newest
    ordered = [(m.timestamp, m.id) for m in model.records()]
    assert ordered == sorted(ordered)
    assert spy.resets == 0


def test_model_tester_driving_fetch_more_keeps_the_thread_consistent(qapp, qloop) -> None:
    engine = demo_engine()
    model = ThreadModel(engine, page_size=30)
    attach_tester(model)
    spy = Spy(model)
    run(qloop, model.load(4))
    run(qloop, settle(0.2))  # the tester's fetchMore calls chain page after page
    assert model.rowCount() == 121
    assert not model.has_more
    ordered = [(m.timestamp, m.id) for m in model.records()]
    assert ordered == sorted(ordered) and len(set(ordered)) == 121
    assert spy.resets == 1  # the load itself (switching threads); paging never resets


def test_thread_upsert_appends_updates_and_ignores_other_conversations(qapp, qloop) -> None:
    engine = demo_engine()
    model = ThreadModel(engine)
    attach_tester(model)
    run(qloop, model.load(1))
    spy = Spy(model)
    count = model.rowCount()
    model.upsert([message(900, 1, NOW + 5, "Noch eine Frage")])
    model.upsert([message(901, 2, NOW + 6, "anderes Gespräch")])
    assert model.rowCount() == count + 1
    assert model.records()[-1].id == 900
    last_out = next(m for m in reversed(model.records()) if m.status == MessageStatus.SENT)
    model.upsert([replace(last_out, status=MessageStatus.DELIVERED)])
    row = model.row_of_id(last_out.id)
    assert row is not None
    assert model.record_at(row).status == MessageStatus.DELIVERED  # type: ignore[union-attr]
    assert spy.changed == [row]
    assert spy.resets == 0


def test_outbox_row_is_replaced_by_the_acknowledged_message(qapp, qloop) -> None:
    engine = demo_engine()
    controller = InboxController(engine)
    model = controller.thread_model
    attach_tester(model)
    attach_tester(controller.conversation_model)

    async def scenario() -> None:
        await controller.load_conversations()
        await controller.open_conversation_now(1)
        spy = Spy(model)
        count = model.rowCount()
        await controller.send_now("Bis Donnerstag!")
        queued = model.records()[-1]
        assert queued.id < 0 and queued.status == MessageStatus.QUEUED
        assert model.rowCount() == count + 1

        acked = engine.acknowledge(queued.client_id, 555, MessageStatus.SENT)  # type: ignore[arg-type]
        await settle(0.15)  # coalescing timer, then the async refresh
        assert model.rowCount() == count + 1
        assert model.records()[-1] == acked
        assert model.row_of_id(queued.id) is None

        # a stale outbox entry arriving late never hides the acknowledged row
        model.upsert([queued])
        assert model.records()[-1] == acked

        engine.set_status(555, MessageStatus.READ)
        await settle(0.15)
        assert model.records()[-1].status == MessageStatus.READ
        assert spy.resets == 0

    run(qloop, scenario())


def test_bridge_coalesces_a_burst_into_one_signal(qapp, qloop) -> None:
    engine = FakeEngine()
    bridge = EngineBridge(engine)
    received: list[ChangeSummary] = []
    bridge.changed.connect(received.append)

    async def scenario() -> None:
        for i in range(500):
            engine.emit(ChangeSummary(message_ids=frozenset({i})))
        engine.emit(ChangeSummary(connection=ConnectionState.ONLINE))
        await settle(0.2)

    run(qloop, scenario())
    assert len(received) == 1
    assert received[0].message_ids == frozenset(range(500))
    assert received[0].connection == ConnectionState.ONLINE


def test_merge_keeps_patient_appointment_and_consent_changes() -> None:
    # Two ticks merged must still tell the patient panel what changed (it refreshes on these).
    a = ChangeSummary(patient_ids=frozenset({4}), consent_wa_ids=frozenset({"4915100000001"}))
    b = ChangeSummary(appointment_ids=frozenset({9}), patient_ids=frozenset({5}))
    merged = merge_summaries(a, b)
    assert merged.patient_ids == {4, 5}
    assert merged.appointment_ids == {9}
    assert merged.consent_wa_ids == {"4915100000001"}


def test_merge_keeps_the_latest_connection_state() -> None:
    a = ChangeSummary(conversation_ids=frozenset({1}), connection=ConnectionState.OFFLINE)
    b = ChangeSummary(client_ids=frozenset({"x"}))
    merged = merge_summaries(a, b)
    assert merged.connection == ConnectionState.OFFLINE
    assert merged.conversation_ids == {1} and merged.client_ids == {"x"}
    assert merge_summaries(merged, ChangeSummary(connection=ConnectionState.ONLINE)).connection == (
        ConnectionState.ONLINE
    )


def test_purged_messages_and_conversations_leave_the_open_window(qapp, qloop) -> None:
    """A retention purge or erasure names ids the cache no longer has: the rows go at once,
    and an open conversation that went entirely leaves an empty thread."""
    engine = demo_engine()
    controller = InboxController(engine)
    attach_tester(controller.thread_model)
    attach_tester(controller.conversation_model)

    async def scenario() -> None:
        await controller.load_conversations()
        await controller.open_conversation_now(1)
        thread = controller.thread_model
        before = [m.id for m in thread.records()]
        assert len(before) >= 3
        purged, kept = before[0], before[1:]
        del engine.msgs[purged]
        await controller.apply_changes_now(ChangeSummary(message_ids=frozenset({purged, kept[0]})))
        assert [m.id for m in thread.records()] == kept
        # An id that is only a pending outbox entry is never dropped this way.
        queued = -7
        await controller.apply_changes_now(ChangeSummary(message_ids=frozenset({queued})))
        assert [m.id for m in thread.records()] == kept

        conversations = [c.id for c in controller.conversation_model.records()]
        assert 1 in conversations
        del engine.convs[1]
        await controller.apply_changes_now(ChangeSummary(conversation_ids=frozenset({1})))
        assert [c.id for c in controller.conversation_model.records()] == [
            c for c in conversations if c != 1
        ]
        assert thread.conversation_id is None and thread.rowCount() == 0

    run(qloop, scenario())
