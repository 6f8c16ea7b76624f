"""Retention per data class, legal holds, and a purge that leaves nothing in the file or WAL."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, select, text

from inbox_app.domain.roles import Role
from inbox_app.relay import privacy
from inbox_app.relay.app import create_app
from inbox_app.relay.audit import AuditLog
from inbox_app.relay.db import Database, conversations, events, messages
from inbox_app.relay.retention import DAY, YEAR, Policy, Retention, RetentionError, place_hold
from inbox_app.relay.settings import ConfigError, RelaySettings
from inbox_app.relay.store import Store
from tests.live_server import LiveServer
from tests.test_relay_api import add_user, login
from tests.test_relay_atrest import JPEG, inbound_media, ready_media, running, settings_for
from tests.test_relay_outbox import Pair
from tests.webhooks import signed, text_message

OLD = "QZX-Altbefund-1901"
NEW = "QZX-Neubefund-2024"
HELD = "QZX-Streitfall-0042"


def post(url: str, body_text: str, wa_id: str, ts: float) -> None:
    body, headers = signed(text_message(body_text, wa_id=wa_id, ts=ts))
    assert httpx.post(url + "/webhook", content=body, headers=headers).status_code == 200


def raw(db_file: Path) -> bytes:
    """The database file and its WAL, as bytes on disk."""
    wal = db_file.with_name(db_file.name + "-wal")
    return db_file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_purge_removes_old_messages_from_file_and_wal_but_keeps_held_and_recent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Demo mode (no key) on purpose: plaintext pages show whether deleted rows survive.
    monkeypatch.delenv("INBOX_DB_KEY")
    settings = settings_for(tmp_path, demo=True, run_outbox=False, message_retention_years=2)
    db_file = tmp_path / "relay" / "relay.db"
    add_user(settings, "anna", Role.RECEPTIONIST)
    add_user(settings, "root", Role.ADMIN)
    long_ago = time.time() - 3 * YEAR
    with LiveServer(create_app(settings)) as relay:
        for i in range(20):
            post(relay.url, f"{OLD} {i}", "4915100000001", long_ago + i)
        for i in range(3):
            post(relay.url, f"{HELD} {i}", "4915100000002", long_ago + i)
        post(relay.url, f"{NEW} und {OLD[:3]}", "4915100000001", time.time())
        staff = login(relay.url, "anna")
        with Database(settings.database_url).read() as conn:
            held_id = conn.execute(
                text("SELECT id FROM conversations WHERE wa_id = '4915100000002'")
            ).scalar_one()
        db = Database(settings.database_url)
        place_hold(db, conversation_id=held_id, reason="Beschwerde beim Ärztekammer")
        db.dispose()
        assert OLD.encode() in raw(db_file)  # the check below can fail

        admin = login(relay.url, "root")
        r = admin.post("/v1/admin/retention/run")
        assert r.status_code == 200, r.text
        purged = r.json()["purged"]
        assert purged["messages"] == 20 and purged["held_conversations"] == 1

        events = staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        texts = [e["data"].get("text") for e in events if e["type"] == "message"]
        assert not any(OLD in (t or "") for t in texts)
        assert sum(HELD in (t or "") for t in texts) == 3
        assert any(NEW in (t or "") for t in texts)
        # Raw bytes while the relay runs: not in the file, not in the WAL.
        on_disk = raw(db_file)
        assert OLD.encode() not in on_disk
        assert HELD.encode() in on_disk and NEW.encode() in on_disk
        staff.close()
        admin.close()
    audit = AuditLog(Database(settings.database_url))
    assert audit.verify() == []
    runs = [e for e in audit.entries() if e["action"] == "retention_purge"]
    # The relay's own periodic run (at start, nothing due yet), then the admin's.
    assert [(r["username"], r["detail"]["messages"]) for r in runs] == [(None, 0), ("root", 20)]


def test_media_expire_first_then_messages_then_audit_under_sqlcipher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media_dir = tmp_path / "media"
    monkeypatch.setenv("INBOX_MEDIA_DIR", str(media_dir))
    settings = settings_for(tmp_path)
    add_user(settings, "anna", Role.RECEPTIONIST)
    with running(settings) as p:
        p.inbound(f"{OLD} Text")
        inbound_media(p, "image", JPEG, "image/jpeg", caption=OLD)
        (image,) = ready_media(p, 1)
        assert len(list(media_dir.iterdir())) == 1
        db = p.relay.app.state.relay.db
        policy = Policy(media_days=30, message_years=2, audit_years=3)
        now = time.time()

        report = Retention(db, policy).run(now + 40 * DAY)
        assert report.media_files == 1 and report.messages == 0
        assert list(media_dir.iterdir()) == []
        gone = p.staff.get(f"/v1/media/{image['media']['id']}")
        assert gone.status_code == 409
        assert any(m["text"] == f"{OLD} Text" for m in _messages(p))  # messages stay

        report = Retention(db, policy).run(now + 2.5 * YEAR)
        assert report.messages == 2 and report.conversations == 1
        assert _messages(p) == []
        with db.read() as conn:
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
            dump = " ".join(
                str(r)
                for t in ("messages", "events", "media")
                for r in conn.execute(text(f"SELECT * FROM {t}"))  # noqa: S608
            )
        assert OLD not in dump

        before = len(AuditLog(db).entries())
        report = Retention(db, policy).run(now + 3.5 * YEAR)
        # Every row older than three years: all but the purge run "at" 2.5 years.
        assert report.audit_rows == before - 1
        assert [e["action"] for e in AuditLog(db).entries()] == ["retention_purge"] * 2
        assert AuditLog(db).verify() == []  # the chain continues from its anchor
        AuditLog(db).record("sign_in", user_id=None)
        assert AuditLog(db).verify() == []


def _messages(p: Pair) -> list[dict[str, Any]]:
    events = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
    latest = {e["data"]["id"]: e["data"] for e in events if e["type"] == "message"}
    return list(latest.values())


def test_audit_must_outlive_messages_and_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(RetentionError, match="at least as long"):
        Policy(message_years=10, audit_years=5)
    with pytest.raises(ConfigError, match="INBOX_RETENTION_MEDIA_DAYS"):
        RelaySettings.from_env({"INBOX_RETENTION_MEDIA_DAYS": "soon"})
    with pytest.raises(RetentionError):
        create_app(
            replace(settings_for(tmp_path), message_retention_years=10, audit_retention_years=5)
        )


def _incoming(conn: Connection, mid: int, cid: int, body: str, at: float) -> None:
    """A patient's text row as the store writes it."""
    conn.execute(
        messages.insert().values(
            id=mid,
            conversation_id=cid,
            direction="in",
            type="text",
            text=body,
            status="received",
            timestamp=at,
        )
    )


def test_purge_and_erasure_on_sqlite_and_postgres(db_url: str) -> None:
    """The same deletions through PostgreSQL's dialect (rows written as the store would)."""
    db = Database(db_url)
    db.create_schema()
    now = time.time()
    try:
        with db.write() as conn:
            for cid, wa_id in ((1, "4915100000001"), (2, "4915100000002")):
                conn.execute(
                    conversations.insert().values(
                        id=cid, wa_id=wa_id, display_name=f"P{cid}", last_message_at=now - 3 * YEAR
                    )
                )
                for i in range(3):
                    mid = cid * 10 + i
                    _incoming(conn, mid, cid, f"{OLD} {mid}", now - 3 * YEAR)
                    conn.execute(
                        events.insert().values(
                            type="message",
                            entity_id=mid,
                            data="{}",
                            created_at=now,
                            conversation_id=cid,
                        )
                    )
        place_hold(db, conversation_id=2, reason="Prüfung")
        report = Retention(db, Policy(message_years=2)).run(now)
        assert (report.messages, report.conversations, report.held_conversations) == (3, 1, 1)
        with db.read() as conn:
            left = [r.text for r in conn.execute(messages.select().order_by(messages.c.id))]
            assert left == [f"{OLD} 20", f"{OLD} 21", f"{OLD} 22"]  # the held conversation
            assert (
                conn.execute(text("SELECT count(*) FROM events WHERE conversation_id = 1")).scalar()
                == 0
            )
        with pytest.raises(privacy.UnderLegalHold):
            privacy.erase(db, "wa:4915100000002")
        exported = privacy.export(db, "wa:4915100000002")
        assert len(exported["conversations"][0]["messages"]) == 3
        with db.write() as conn:
            conn.execute(text("UPDATE legal_holds SET released_at = 1"))
        done = privacy.erase(db, "wa:4915100000002")
        assert (done.conversations, done.messages) == (1, 3)
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 0
            erased = conn.execute(
                text("SELECT data FROM events WHERE type = 'patient.erased'")
            ).scalar()
        assert '"conversation_ids": [2]' in str(erased)
        assert AuditLog(db).verify() == []
    finally:
        db.dispose()


def test_a_conversation_that_stays_no_longer_quotes_a_purged_message(db_url: str) -> None:
    """Its preview (in the row and in the feed's snapshot) takes the newest message left."""
    db = Database(db_url)
    db.create_schema()
    now = time.time()
    store = Store(db)
    try:
        with db.write() as conn:
            # A late-delivered old message left the preview quoting it; one conversation
            # stays only through recent activity, with no message young enough to keep.
            for cid, rows in (
                (1, [(10, OLD, 3 * YEAR), (11, NEW, DAY)]),
                (2, [(20, OLD, 3 * YEAR)]),
            ):
                conn.execute(
                    conversations.insert().values(
                        id=cid,
                        wa_id=f"49151000000{cid:02d}",
                        display_name=f"P{cid}",
                        last_message_at=now,
                        last_message_preview=f"{OLD} {cid}",
                    )
                )
                for mid, word, age in rows:
                    _incoming(conn, mid, cid, f"{word} {cid}", now - age)
                store._emit_conversation(conn, cid)
        report = Retention(db, Policy(message_years=2)).run(now)
        assert (report.messages, report.conversations) == (2, 0)
        with db.read() as conn:
            previews = {
                int(r.id): r.last_message_preview
                for r in conn.execute(
                    select(conversations.c.id, conversations.c.last_message_preview)
                )
            }
            feed = [str(d) for d in conn.execute(select(events.c.data)).scalars()]
        assert previews == {1: f"{NEW} 1", 2: ""}
        assert not any(OLD in d for d in feed)
        assert sum(f'"last_message_preview":"{NEW} 1"' in d for d in feed) == 1
    finally:
        db.dispose()
