"""Escalations through the desktop engine against a real relay: created by reception,
taken by a clinician, cached in the encrypted cache from the feed (and still there after a
restart), calls and outcomes listed per escalation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_app.client.api import RelayError
from inbox_app.domain.escalations import EscalationState, Priority
from inbox_app.domain.roles import Role
from tests.test_client_records import first_conversation, started
from tests.test_client_sync import PASSWORD, Relay, make_engine, wait_until


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    relay.add_user("doc", Role.CLINICIAN)
    relay.add_user("doc2", Role.CLINICIAN)
    try:
        yield relay
    finally:
        relay.stop()


def test_escalation_round_trip_through_two_desktops(relay: Relay, tmp_path: Path) -> None:
    relay.post_text("Mir ist seit heute Morgen schwindelig")

    async def scenario() -> None:
        anna = await started(relay, tmp_path / "anna")
        doc = await started(relay, tmp_path / "doc", "doc")
        try:
            cid = await first_conversation(anna)
            created = await anna.create_escalation(
                cid, "Schwindel, bitte zurückrufen", priority="urgent"
            )
            assert created.priority == Priority.URGENT and created.state == EscalationState.OPEN
            assert [e.id for e in await anna.escalations()] == [created.id]
            # The conversation reads as escalated from the relay's own flag.
            conv = (await anna.conversations_by_id(frozenset({cid})))[0]

            async def flagged() -> bool:
                found = await anna.conversations_by_id(frozenset({cid}))
                return bool(found) and found[0].escalated

            await wait_until(flagged, what="escalated flag")
            assert conv.id == cid
            with pytest.raises(RelayError) as refused:
                await anna.acknowledge_escalation(created.id)
            assert refused.value.status == 403

            async def doc_has_it() -> bool:
                return [e.id for e in await doc.escalations()] == [created.id]

            await wait_until(doc_has_it, what="the escalation on the clinician's desktop")
            taken = await doc.acknowledge_escalation(created.id)
            assert taken.state == EscalationState.ACKNOWLEDGED
            answer = await doc.request_call(created.id)
            assert answer["mode"] == "tel" and answer["tel"] == "tel:+4915100000001"
            await doc.log_call_outcome(created.id, "not_reached", note="Mailbox")

            async def anna_sees_taken() -> bool:
                found = await anna.escalations_by_id(frozenset({created.id}))
                return bool(found) and found[0].state == EscalationState.ACKNOWLEDGED

            await wait_until(anna_sees_taken, what="the acknowledgement on reception's desktop")

            async def calls_cached() -> bool:
                return len(await doc.calls_for(created.id)) == 2

            await wait_until(calls_cached, what="the calls in the cache")
            calls = await doc.calls_for(created.id)
            assert [(c.kind, c.outcome, c.note) for c in calls] == [
                ("tel", None, None),
                ("outcome", "not_reached", "Mailbox"),
            ]
            # The outcome is in the thread as the clinician's note.

            async def noted() -> bool:
                msgs = await anna.messages(cid)
                return any(m.type == "note" and "Mailbox" in (m.text or "") for m in msgs)

            await wait_until(noted, what="the outcome note in the thread")
            # It carries the outcome itself, so the desktop words it in its own language.
            note = next(m for m in await anna.messages(cid) if m.type == "note")
            assert note.call is not None
            assert (note.call.kind, note.call.outcome, note.call.note) == (
                "outcome",
                "not_reached",
                "Mailbox",
            )

            # Handed to doc alone: doc2's desktop saw it before; the feed cannot tell it
            # any more, so re-reading the queue from the relay drops it there.
            doc2 = await started(relay, tmp_path / "doc2", "doc2")
            try:

                async def doc2_has_it() -> bool:
                    return [e.id for e in await doc2.escalations()] == [created.id]

                await wait_until(doc2_has_it, what="the escalation on the second clinician's")
                assert doc.user is not None
                moved = await doc.reassign_escalation(created.id, assignee_id=doc.user.id)
                assert moved.assignee_id == doc.user.id and moved.state == EscalationState.OPEN
                assert await doc2.sync_escalations() == frozenset({created.id})
                assert await doc2.escalations() == []
                assert await doc2.sync_escalations() == frozenset()  # nothing more to do
            finally:
                await doc2.close()
            taken = await doc.acknowledge_escalation(created.id)
        finally:
            await anna.close()
            await doc.close()
        # After a restart the queue comes out of the encrypted cache, offline.
        again = make_engine(relay, tmp_path / "doc")
        await again.sign_in("doc", PASSWORD)
        try:
            cached = await again.escalations()
            assert [(e.id, e.state) for e in cached] == [(created.id, EscalationState.ACKNOWLEDGED)]
            assert cached[0].acknowledged_by_name
        finally:
            await again.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
