"""The relay's automation runs each inbound message through its handlers exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inbox_app.relay.automation import Automation, Context, Inbound
from inbox_app.relay.db import Database, messages, outbox
from inbox_app.relay.store import Store
from inbox_app.whatsapp.webhook import parse_envelope

from .webhooks import text_message


@pytest.fixture
def store(db_url: str):
    db = Database(db_url)
    db.create_schema()
    yield Store(db)
    db.dispose()


def _ingest(store: Store, wamid: str, text: str) -> None:
    store.ingest_many([parse_envelope(text_message(text, wamid=wamid))])


def test_each_inbound_message_is_handled_once_even_across_restarts(store: Store) -> None:
    seen: list[str | None] = []

    def echo(ctx: Context, item: Inbound) -> bool:
        seen.append(item.text)
        ctx.send(item.conversation_id, purpose="echo", text=f"got it ({len(seen)})")
        return True

    first = Automation(store)
    first.on_inbound("echo", echo)
    first.init_cursor()
    _ingest(store, "wamid.A1", "Hallo")
    _ingest(store, "wamid.A2", "Noch eine Frage")
    assert first.process_inbound() == 2
    assert first.process_inbound() == 0
    # A second relay process (or a restart) starts from the stored cursor.
    second = Automation(store)
    second.on_inbound("echo", echo)
    second.init_cursor()
    _ingest(store, "wamid.A3", "Danke")
    assert second.process_inbound() == 1
    assert seen == ["Hallo", "Noch eine Frage", "Danke"]
    with store.db.read() as conn:
        sent = conn.execute(
            select(messages.c.text, messages.c.author_id, outbox.c.state)
            .join(outbox, outbox.c.message_id == messages.c.id)
            .order_by(messages.c.id)
        ).all()
    assert [(r.text, r.author_id, r.state) for r in sent] == [
        ("got it (1)", None, "pending"),
        ("got it (2)", None, "pending"),
        ("got it (3)", None, "pending"),
    ]


def test_a_failing_handler_does_not_block_the_next_messages(store: Store) -> None:
    def picky(ctx: Context, item: Inbound) -> bool:
        if item.text == "kaputt":
            raise RuntimeError("boom")
        ctx.send(item.conversation_id, purpose="echo", text=f"re: {item.text}")
        return True

    auto = Automation(store)
    auto.on_inbound("picky", picky)
    auto.init_cursor()
    for i, text in enumerate(["eins", "kaputt", "drei"]):
        _ingest(store, f"wamid.B{i}", text)
    auto.process_inbound()
    assert auto.process_inbound() == 0  # the bad one is not retried for ever
    with store.db.read() as conn:
        sent = conn.execute(
            select(messages.c.text).where(messages.c.direction == "out").order_by(messages.c.id)
        ).scalars()
        # The batch's effects were rolled back and redone one by one: each answer once.
        assert list(sent) == ["re: eins", "re: drei"]


def test_keyed_sends_happen_once_and_opt_out_cancels_queued_automated_ones(store: Store) -> None:
    auto = Automation(store)
    auto.init_cursor()
    _ingest(store, "wamid.C1", "Hallo")
    with store.db.write() as conn:
        ctx = Context(store, conn, now=_now(store))
        conv_id = conn.execute(select(messages.c.conversation_id)).scalar_one()
        assert ctx.send(conv_id, purpose="reminder", text="Termin morgen", key="rem:1:24")
        assert ctx.send(conv_id, purpose="reminder", text="Termin morgen", key="rem:1:24") is None
        assert ctx.cancel_automated(conv_id, reason="Patient opted out") == 1
    with store.db.read() as conn:
        row = conn.execute(
            select(messages.c.status, messages.c.error_title, outbox.c.state).join(
                outbox, outbox.c.message_id == messages.c.id
            )
        ).one()
    assert tuple(row) == ("failed", "Patient opted out", "cancelled")


def _now(store: Store) -> float:
    with store.db.read() as conn:
        return float(conn.execute(select(messages.c.timestamp)).scalar_one()) + 1
