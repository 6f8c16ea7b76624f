"""The relay behind webhook delivery at its worst (simulator delivery_faults.py): shuffled,
duplicated and batched. Every message stored once, every status ends at the highest one,
nothing refused. (What the simulator itself does is in test_simulator.py.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from inbox_app.relay.db import Database, messages
from inbox_app.relay.settings import RelaySettings
from tests.test_relay_outbox_faults import final_states, open_conversations, queue, running_pair
from tests.test_simulator import WA_ID, wait_until


def _inbound_all(sim_url: str, texts: list[str], sender: str = WA_ID) -> list[dict[str, Any]]:
    """Patients writing at the same moment (each call returns after its first attempt)."""

    async def run() -> list[dict[str, Any]]:
        # Generous: each answer waits for the relay's first delivery attempt, and a loaded
        # 2-core CI box queues 30 of them behind a busy database (speed is for tests/bench).
        async with httpx.AsyncClient(base_url=sim_url, timeout=90) as client:
            answers = await asyncio.gather(
                *(client.post("/_sim/inbound", json={"from": sender, "text": t}) for t in texts)
            )
        return [a.json() for a in answers]

    return asyncio.run(run())


def test_relay_stores_everything_once_under_every_delivery_fault(
    relay_settings: RelaySettings,
) -> None:
    with running_pair(relay_settings) as p:
        (conversation,) = open_conversations(p, 1)
        httpx.post(
            p.sim.url + "/_sim/delivery",
            json={
                "shuffle_seconds": 0.3,
                "duplicate_rate": 0.5,
                "batch_size": 4,
                "batch_window": 0.05,
            },
        ).raise_for_status()
        texts = [f"Frage {i}" for i in range(30)]
        answers = _inbound_all(p.sim.url, texts, sender="4915100000000")
        assert {a["status"] for a in answers} == {200}
        ids = [queue(p, conversation, f"Antwort {i}") for i in range(10)]
        states = final_states(p, ids, timeout=60, wanted=frozenset({"read"}))
        assert len(states) == len(ids), "stuck: " + str(set(ids) - set(states))

        def settled() -> bool:
            records = httpx.get(p.sim.url + "/_sim/webhooks").json()["webhooks"]
            return all(r["delivered"] for r in records)

        wait_until(settled, timeout=90)  # retries back off; a loaded CI box is slow
        records = httpx.get(p.sim.url + "/_sim/webhooks").json()["webhooks"]
        assert any(r["redelivered"] for r in records)  # duplicates really went out
        assert all(r["last_status"] == 200 for r in records)
    db = Database(relay_settings.database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(
                select(messages.c.text, func.count())
                .where(messages.c.direction == "in")
                .group_by(messages.c.text)
            ).all()
    finally:
        db.dispose()
    counts: dict[str, int] = {text: n for text, n in rows}
    assert all(counts[t] == 1 for t in texts), counts
    assert counts["Hallo"] == 1 and len(counts) == len(texts) + 1
