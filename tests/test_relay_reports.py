"""Report figures computed on known data, by day and by role; who may read them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from inbox_app.domain.roles import Role
from inbox_app.relay.db import (
    Database,
    appointments,
    audit,
    conversations,
    escalations,
    events,
    messages,
    patients,
    reminders,
    results,
    satisfaction_surveys,
    status_receipts,
    users,
)
from inbox_app.relay.reports import build_report, to_csv_rows
from inbox_app.relay.settings import RelaySettings

from .live_server import LiveServer
from .test_relay_api import add_user, login

D1 = datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # a Monday
D2 = D1 + 86400
H = 3600.0


def _at(day: float, hours: float, minutes: float = 0) -> float:
    return day + hours * H + minutes * 60


def seed(conn: Connection) -> None:
    conn.execute(
        users.insert(),
        [
            dict(
                id=901,
                username="r",
                display_name="R",
                role="receptionist",
                password_hash="x",
                disabled=False,
                created_at=0,
            ),
            dict(
                id=902,
                username="n",
                display_name="N",
                role="nurse",
                password_hash="x",
                disabled=False,
                created_at=0,
            ),
        ],
    )
    for cid, wa in ((1, "4915100000001"), (2, "4915100000002")):
        conn.execute(
            conversations.insert().values(
                id=cid, wa_id=wa, display_name="Testperson", last_message_at=0, unread=0
            )
        )

    def msg(cid: int, direction: str, ts: float, author: int | None = None) -> dict[str, object]:
        return dict(
            conversation_id=cid,
            direction=direction,
            type="text",
            text="…",
            status="received" if direction == "in" else "sent",
            timestamp=ts,
            author_id=author,
        )

    conn.execute(
        messages.insert(),
        [
            msg(1, "in", _at(D1, 9)),
            msg(1, "out", _at(D1, 9, 10), 901),  # 600 s, receptionist
            msg(1, "in", _at(D1, 10)),
            msg(1, "out", _at(D1, 10, 1)),  # automated: not a staff response
            msg(1, "out", _at(D1, 10, 30), 902),  # 1,800 s, nurse
            msg(2, "in", _at(D2, 8)),
            msg(2, "out", _at(D2, 8, 2), 901),  # 120 s, receptionist
        ],
    )

    def status(cid: int, value: str, at: float) -> dict[str, object]:
        return dict(
            type="conversation",
            entity_id=cid,
            conversation_id=cid,
            data=json.dumps({"status": value}),
            created_at=at,
        )

    conn.execute(
        events.insert(),
        [
            status(1, "open", _at(D1, 9)),
            status(1, "resolved", _at(D1, 11)),  # 2 h after the first message
            status(1, "resolved", _at(D1, 11, 5)),  # a repeat is no second resolution
            status(2, "open", _at(D2, 8)),
            status(2, "resolved", _at(D2, 9)),  # 1 h
        ],
    )
    conn.execute(
        patients.insert().values(
            id=1, external_id="t|1", family_name="Test", given_name="P", updated_at=0
        )
    )
    inserted = conn.execute(
        messages.insert().values(
            conversation_id=2,
            direction="out",
            type="document",
            text=None,
            status="read",
            timestamp=_at(D2, 9),
            author_id=902,
            wamid="wamid.R2",
        )
    ).inserted_primary_key
    assert inserted is not None
    doc = inserted[0]
    conn.execute(
        status_receipts.insert().values(wamid="wamid.R2", status="read", timestamp=_at(D2, 10))
    )

    def result(n: int, created: float, **extra: object) -> dict[str, object]:
        row: dict[str, object] = dict(
            client_id=f"r{n}", conversation_id=1, patient_id=1, author_id=902,
            profile="phi-safe", mime_type="application/pdf", filename="b.pdf", size=1,
            pages=1, sha256="0" * 64, path="x", identity="match", created_at=created,
        )  # fmt: skip
        return {**row, **extra}

    for row in [
        result(1, _at(D1, 12), opened_at=_at(D1, 12, 30)),  # opened on the page: 30 min
        result(2, _at(D2, 9), profile="direct", message_id=doc),  # read in WhatsApp: 1 h
        result(3, _at(D2, 9, 30)),  # not opened yet: no figure
    ]:
        conn.execute(results.insert().values(**row))
    conn.execute(
        users.insert().values(
            id=903, username="c", display_name="C", role="clinician",
            password_hash="x", disabled=False, created_at=0,
        )
    )  # fmt: skip
    conn.execute(
        escalations.insert(),
        [
            dict(conversation_id=1, reason="r", priority="urgent", due_at=_at(D1, 14),
                 state="acknowledged", source="staff", created_at=_at(D1, 13),
                 acknowledged_by=903, acknowledged_at=_at(D1, 13, 5)),  # 5 min
            dict(conversation_id=2, reason="r", priority="routine", due_at=_at(D2, 18),
                 state="open", source="staff", created_at=_at(D2, 14),
                 acknowledged_by=None, acknowledged_at=None),  # not yet: no figure
        ],
    )  # fmt: skip
    conn.execute(
        satisfaction_surveys.insert(),
        [
            dict(conversation_id=1, wa_id="4915100000001", asked_at=_at(D1, 16), score=3,
                 answered_at=_at(D1, 16, 2)),
            dict(conversation_id=1, wa_id="4915100000001", asked_at=_at(D1, 17), score=1,
                 answered_at=_at(D1, 17, 2)),
            dict(conversation_id=2, wa_id="4915100000002", asked_at=_at(D2, 12), score=None,
                 answered_at=None),
        ],
    )  # fmt: skip
    plan = [  # id, start, status, reminded, external id
        (1, _at(D1, 14), "attended", True, "t|a1"),
        (2, _at(D1, 15), "no-show", True, "t|a2"),
        (3, _at(D2, 10), "no-show", False, "t|a3"),
        (4, _at(D2, 11), "attended", False, "t|a4"),
        (5, _at(D2, 12), "attended", False, "t|a5"),
        (6, _at(D2, 16), "confirmed", True, "t|a6"),
        (7, _at(D2 + 86400, 9), "booked", False, "chat:7"),  # booked by the bot (audit below)
    ]
    conn.execute(
        audit.insert().values(
            at=_at(D2, 13), action="bot_booking", conversation_id=2, detail="{}",
            prev_hash="0" * 64, hash="1" * 64,
        )
    )  # fmt: skip
    for aid, start, state, reminded, external in plan:
        conn.execute(
            appointments.insert().values(
                id=aid,
                external_id=external,
                patient_id=1,
                start=start,
                end=start + 900,
                status=state,
                updated_at=_at(D2, 13) if external.startswith("chat:") else 0,
            )
        )
        if reminded:
            conn.execute(
                reminders.insert().values(
                    appointment_id=aid, hours_before=24, state="sent", at=_at(D1, 8)
                )
            )


@pytest.fixture
def seeded(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    db.create_schema()
    with db.write() as conn:
        seed(conn)
    yield db
    db.dispose()


def test_figures_by_day_and_by_role(seeded: Database) -> None:
    with seeded.read() as conn:
        report = build_report(conn, since=D1, until=D2 + 86399, timezone="UTC").to_json()
    day1, day2 = report["rows"]
    assert (day1["period"], day2["period"]) == ("2026-11-02", "2026-11-03")
    assert (day1["first_response"], day1["first_response_n"]) == (1200.0, 2)
    assert (day2["first_response"], day2["first_response_n"]) == (120.0, 1)
    assert report["by_role"]["receptionist"]["first_response"] == {"value": 360.0, "n": 2}
    assert report["by_role"]["nurse"]["first_response"] == {"value": 1800.0, "n": 1}
    assert (day1["resolution"], day2["resolution"]) == (7200.0, 3600.0)
    assert report["totals"]["resolution"] == {"value": 5400.0, "n": 2}
    assert day1["reminder_confirmation"] == pytest.approx(2 / 3)
    assert (day1["no_show_with_reminder"], day1["no_show_with_reminder_n"]) == (0.5, 2)
    assert day2["no_show_without_reminder"] == pytest.approx(1 / 3)
    assert day1["no_show_without_reminder"] is None  # no data is not 0 %
    assert (day1["chat_bookings"], day2["chat_bookings"]) == (0.0, 1.0)
    assert (day1["result_opened"], day2["result_opened"]) == (1800.0, 3600.0)
    assert day2["result_opened_n"] == 1
    assert (day1["escalation_ack"], day2["escalation_ack"]) == (300.0, None)
    assert report["by_role"]["clinician"]["escalation_ack"] == {"value": 300.0, "n": 1}
    assert (day1["satisfaction"], day1["satisfaction_n"]) == (2.0, 2)
    assert day2["satisfaction"] is None  # asked, not answered


def test_weeks_and_csv(seeded: Database) -> None:
    with seeded.read() as conn:
        report = build_report(
            conn, since=D1, until=D2 + 86399, group="week", timezone="UTC"
        ).to_json()
    assert report["periods"] == ["2026-W45"]
    assert report["rows"][0]["first_response"] == 600.0  # median of 600, 1,800, 120
    rows = to_csv_rows(report)
    assert rows[0][:3] == ["period", "first_response", "first_response_n"]
    assert rows[1][:3] == ["2026-W45", "600", "3"]


def test_only_admins_and_clinicians_read_reports_and_it_is_audited(
    relay_settings: RelaySettings,
) -> None:
    from inbox_app.relay.app import create_app

    add_user(relay_settings, "boss", Role.ADMIN)
    add_user(relay_settings, "desk", Role.RECEPTIONIST)
    with LiveServer(create_app(relay_settings)) as relay:
        params = {"since": D1, "until": D2 + 86399}
        with login(relay.url, "desk") as desk:
            assert desk.get("/v1/reports", params=params).status_code == 403
        with login(relay.url, "boss") as boss:
            answer = boss.get("/v1/reports", params=params)
            assert answer.status_code == 200
            names = [m["name"] for m in answer.json()["metrics"]]
            assert names[:2] == ["first_response", "resolution"]
            bad = boss.get("/v1/reports", params={"since": D2, "until": D1})
            assert bad.status_code == 422
    db = Database(relay_settings.database_url)
    try:
        with db.read() as conn:
            actions = [r for r in conn.execute(audit.select()) if r.action == "export"]
        assert len(actions) == 1
    finally:
        db.dispose()
