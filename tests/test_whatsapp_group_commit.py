"""Group commit stores a run of webhooks exactly as storing them one by one would (P2, I2).

The relay stores runs of plain deliveries set-wise (inbound_bulk.py) and the rest row by
row. Random streams of deliveries — new messages, Meta's redeliveries, media, replies,
reactions/edits/deletions before and after their message, number changes, echoes from the
Business app and their statuses out of order — are stored once in random groups and once a
delivery at a time through the row-by-row path alone, into two namespaces of one database;
what staff would see must match.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from inbox_app.relay.db import Database, conversations, events, inbound_actions, media, messages
from inbox_app.relay.store import Store
from inbox_app.whatsapp.webhook import WebhookBatch, parse_envelope
from tests.webhooks import envelope

PATIENTS = ("4915100000001", "4915100000002", "4915100000003")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = Database(db_url)
    db.create_schema()
    try:
        yield Store(db)
    finally:
        db.dispose()


class _Stream:
    """Meta-shaped deliveries for one namespace (every id carries ``ns``)."""

    def __init__(self, seed: int, ns: str) -> None:
        self.rng = random.Random(seed)
        self.ns = ns
        self.ts = 1_800_000_000
        self.bubbles: list[tuple[str, str]] = []  # (wamid, patient)
        self.echoes: list[tuple[str, str]] = []
        self.sent: list[dict[str, Any]] = []  # payloads, for redelivery
        self.number = {p: p for p in PATIENTS}  # the patient's current number

    def wa(self, patient: str) -> str:
        return f"{self.ns}{self.number[patient]}"

    def wamid(self) -> str:
        return f"wamid.{self.ns}.{self.rng.getrandbits(40):x}"

    def delivery(self) -> dict[str, Any]:
        rng = self.rng
        self.ts += rng.choice((0, 1, 5, 60))
        roll = rng.random()
        if roll < 0.12 and self.sent:
            return rng.choice(self.sent)  # Meta delivers at least once
        if roll < 0.3 and self.echoes:
            wamid, _ = rng.choice(self.echoes)
            states = ("sent", "delivered", "read", "failed")
            return self._remember(envelope({"statuses": [self._status(wamid, rng.choice(states))]}))
        if roll < 0.36:
            return self._remember(self._echo())
        if roll < 0.5 and self.bubbles:
            return self._remember(self._action())
        if roll < 0.52:
            return self._remember(self._renumber())
        count = 1 if rng.random() < 0.8 else rng.randint(2, 4)  # Meta batches, too
        patient = rng.choice(PATIENTS)
        msgs = [self._bubble(patient) for _ in range(count)]
        return self._remember(envelope({"contacts": [self._contact(patient)], "messages": msgs}))

    def _remember(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(payload)
        return payload

    def _contact(self, patient: str) -> dict[str, Any]:
        name = self.rng.choice(("Erika Musterfrau", "Erika M.", "E. Musterfrau"))
        return {"profile": {"name": name}, "wa_id": self.wa(patient)}

    def _bubble(self, patient: str) -> dict[str, Any]:
        rng = self.rng
        wamid = self.wamid()
        msg: dict[str, Any] = {"from": self.wa(patient), "id": wamid, "timestamp": str(self.ts)}
        if rng.random() < 0.2:
            msg.update(
                type="image",
                image={
                    "id": f"media-{wamid}",
                    "mime_type": "image/jpeg",
                    "sha256": "0" * 64,
                    "caption": "Rezept",
                },
            )
        else:
            msg.update(type="text", text={"body": f"Frage {rng.randint(1, 99)}"})
        if self.bubbles and rng.random() < 0.2:
            msg["context"] = {"from": self.wa(patient), "id": rng.choice(self.bubbles)[0]}
        if rng.random() < 0.5:
            self.ts -= rng.choice((0, 30))  # older messages arrive late
        self.bubbles.append((wamid, patient))
        return msg

    def _echo(self) -> dict[str, Any]:
        patient = self.rng.choice(PATIENTS)
        wamid = self.wamid()
        self.echoes.append((wamid, patient))
        echo = {
            "from": "4930901820",
            "to": self.wa(patient),
            "id": wamid,
            "timestamp": str(self.ts),
            "type": "text",
            "text": {"body": "Ihr Termin ist bestätigt."},
        }
        return _change("smb_message_echoes", {"message_echoes": [echo]})

    def _action(self) -> dict[str, Any]:
        rng = self.rng
        target, patient = rng.choice(self.bubbles)
        if rng.random() < 0.3:  # sometimes the action comes before its message
            target = f"wamid.{self.ns}.future{rng.randint(0, 3)}"
        msg: dict[str, Any] = {
            "from": self.wa(patient),
            "id": self.wamid(),
            "timestamp": str(self.ts),
        }
        kind = rng.choice(("reaction", "reaction", "edit", "revoke"))
        if kind == "reaction":
            msg.update(
                type="reaction", reaction={"message_id": target, "emoji": rng.choice(("👍", ""))}
            )
        elif kind == "edit":
            edited = {"type": "text", "text": {"body": "korrigiert"}}
            msg.update(type="edit", edit={"original_message_id": target, "message": edited})
        else:
            msg.update(type="revoke", revoke={"original_message_id": target})
        return envelope({"contacts": [self._contact(patient)], "messages": [msg]})

    def _renumber(self) -> dict[str, Any]:
        patient = self.rng.choice(PATIENTS)
        old = self.wa(patient)
        self.number[patient] = self.number[patient][:-1] + "9"
        msg = {
            "from": old,
            "id": self.wamid(),
            "timestamp": str(self.ts),
            "type": "system",
            "system": {
                "body": "Nummer geändert",
                "wa_id": self.wa(patient),
                "type": "user_changed_number",
            },
        }
        return envelope({"messages": [msg]})

    def _status(self, wamid: str, state: str) -> dict[str, Any]:
        return {
            "id": wamid,
            "status": state,
            "timestamp": str(self.ts),
            "recipient_id": self.wa(self.rng.choice(PATIENTS)),
        }

    def futures(self) -> list[dict[str, Any]]:
        """The messages some actions were waiting for, delivered at last."""
        out = []
        for i in range(4):
            patient = PATIENTS[i % len(PATIENTS)]
            msg = {
                "from": self.wa(patient),
                "id": f"wamid.{self.ns}.future{i}",
                "timestamp": str(self.ts),
                "type": "text",
                "text": {"body": "spät"},
            }
            out.append(envelope({"contacts": [self._contact(patient)], "messages": [msg]}))
        return out


def _change(field: str, value: dict[str, Any]) -> dict[str, Any]:
    payload = envelope(value)
    payload["entry"][0]["changes"][0]["field"] = field
    return payload


def _batches(seed: int, ns: str, n: int) -> list[WebhookBatch]:
    stream = _Stream(seed, ns)
    payloads = [stream.delivery() for _ in range(n)]
    payloads[n // 2 : n // 2] = stream.futures()
    return [parse_envelope(json.loads(json.dumps(p))) for p in payloads]


def _state(store: Store, ns: str) -> str:
    """Everything staff see of one namespace, with database ids replaced by wamids."""
    with store.db.read() as conn:
        convs = conn.execute(
            select(conversations).where(conversations.c.wa_id.like(f"{ns}%"))
        ).all()
        conv_ids = {c.id: c.wa_id for c in convs}
        rows = conn.execute(
            select(messages).where(messages.c.conversation_id.in_(list(conv_ids)))
        ).all()
        wamid_of = {m.id: m.wamid for m in rows}
        files = conn.execute(select(media).where(media.c.message_id.in_(list(wamid_of)))).all()
        actions = conn.execute(
            select(inbound_actions).where(inbound_actions.c.wamid.like(f"wamid.{ns}.%"))
        ).all()
        feed = conn.execute(select(events).order_by(events.c.seq)).all()
    last_event: dict[str, Any] = {}
    for event in feed:
        data = json.loads(event.data)
        if event.type == "message" and event.entity_id in wamid_of:
            last_event[wamid_of[event.entity_id]] = {
                k: data.get(k)
                for k in ("status", "text", "reactions", "edited", "deleted", "reply_to", "type")
            }
        elif event.type == "conversation" and event.entity_id in conv_ids:
            last_event[conv_ids[event.entity_id]] = {
                k: data.get(k)
                for k in (
                    "display_name",
                    "wa_id",
                    "unread",
                    "last_message_preview",
                    "last_inbound_at",
                )
            }
    state = {
        "conversations": sorted(
            (
                c.wa_id,
                c.display_name,
                c.last_message_at,
                c.last_message_preview,
                c.last_inbound_at,
                c.unread,
            )
            for c in convs
        ),
        "messages": sorted(
            (
                m.wamid,
                conv_ids[m.conversation_id],
                m.direction,
                m.type,
                m.text,
                m.status,
                m.details,
                m.reactions,
                m.edited_at,
                m.deleted_at,
                m.reply_to,
            )
            for m in rows
        ),
        "media": sorted((wamid_of[f.message_id], f.media_id, f.state) for f in files),
        "actions": sorted((a.wamid, a.kind, a.target_wamid, a.applied) for a in actions),
        "feed": last_event,
    }
    return json.dumps(state, sort_keys=True, default=str).replace(ns, "NS")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_group_commit_stores_what_one_by_one_stores(store: Store, seed: int) -> None:
    grouped, single = _batches(seed, "nsa", 160), _batches(seed, "nsb", 160)
    rng = random.Random(seed)
    i = 0
    results = []
    while i < len(grouped):
        size = rng.choice((1, 3, 8, 32))
        results += store.ingest_many(grouped[i : i + size], now=1_800_000_000)
        i += size
    one_by_one = []
    for batch in single:  # the row-by-row path alone, one transaction per delivery
        with store.db.write() as conn:
            one_by_one.append(store._ingest_into(conn, batch, 1_800_000_000))

    assert _state(store, "nsa") == _state(store, "nsb")
    # Each delivery reports what happened to it; only a message's first delivery stores it.
    assert sum(r.stored_messages for r in results) == sum(r.stored_messages for r in one_by_one)
    assert [r.stored_messages + r.duplicate_messages for r in results] == [
        r.stored_messages + r.duplicate_messages for r in one_by_one
    ]
    with store.db.read() as conn:
        wamids = [w for (w,) in conn.execute(select(messages.c.wamid))]
    assert len(wamids) == len(set(wamids))
