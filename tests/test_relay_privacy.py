"""DSGVO Art. 15 (export) and Art. 17 (erasure) across the relay and a desktop cache."""

from __future__ import annotations

import asyncio
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from inbox_app.domain.roles import Role
from inbox_app.relay.audit import AuditLog
from inbox_app.relay.cli import main as relay_main
from inbox_app.relay.db import Database, connect_raw, metadata
from inbox_app.relay.dbkey import key_from_env
from inbox_app.relay.importer import parse_csv
from inbox_app.relay.patients import Registry
from inbox_app.relay.store import Store
from tests.test_client_sync import PASSWORD, Relay, make_engine, wait_until

ERIKA = "4915100000777"
OTHER = "4915100000888"
SENTINEL = "QZX-Gallenkolik-5150"
CSV = (
    "patient_id,family_name,given_name,birth_date,phone,appointment_id,start,end,reason\n"
    f"p-77,Zebrowska,Erika,1961-04-02,+{ERIKA},a-1,2030-01-10T09:00:00+01:00,"
    f"2030-01-10T09:20:00+01:00,Kontrolle {SENTINEL}\n"
)


def cli(database_url: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("INBOX_DATABASE_URL", database_url)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = relay_main(list(args))
    return code, out.getvalue() + err.getvalue()


def plain_dump(database_url: str) -> str:
    """Every value in every relay table, decrypted (SQLCipher) and as text."""
    conn = connect_raw(database_url.removeprefix("sqlite:///"), key_from_env())
    try:
        parts = []
        for table in metadata.sorted_tables:
            for row in conn.execute(f'SELECT * FROM "{table.name}"'):  # noqa: S608
                parts.append(repr(row))
        return "\n".join(parts)
    finally:
        conn.close()


def admin_client(relay: Relay) -> httpx.Client:
    token = httpx.post(
        relay.url + "/v1/auth/login", json={"username": "root", "password": PASSWORD}
    ).json()["token"]
    return httpx.Client(base_url=relay.url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def relay(tmp_path: Path) -> Any:
    relay = Relay(tmp_path)
    relay.start()
    relay.add_user("anna")
    relay.add_user("root", Role.ADMIN)
    db = Database(relay.settings.database_url)
    try:
        batch = parse_csv(CSV)
        Registry(Store(db)).upsert(batch.patients, batch.appointments)
    finally:
        db.dispose()
    try:
        yield relay
    finally:
        relay.stop()


def test_export_then_erase_reaches_the_desktop_cache(
    relay: Relay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay.post_text(f"Schmerzen {SENTINEL}", wa_id=ERIKA, name="Erika Zebrowska")
    relay.post_text(f"zweite Nachricht {SENTINEL}", wa_id=ERIKA, name="Erika Zebrowska")
    relay.post_text("Termin bitte", wa_id=OTHER, name="Otto Normal")
    url = relay.settings.database_url
    with Database(url).read() as conn:
        patient_id = conn.execute(text("SELECT id FROM patients")).scalar_one()

    data_dir = tmp_path / "desktop"

    async def scenario() -> None:
        engine = make_engine(relay, data_dir)
        await engine.sign_in("anna", PASSWORD)
        await engine.start()
        try:

            async def both_there() -> bool:
                return len(await engine.conversations()) == 2

            await wait_until(both_there, what="both conversations in the cache")
            (erika,) = [c for c in await engine.conversations() if c.wa_id == ERIKA]
            assert len(await engine.messages(erika.id)) == 2
            assert await engine.search(SENTINEL.split("-")[1])

            # Art. 15 over the admin API: everything about Erika, nothing about Otto.
            with admin_client(relay) as admin:
                r = await asyncio.to_thread(admin.get, f"/v1/admin/patients/{patient_id}/export")
                assert r.status_code == 200, r.text
                exported = r.json()
                assert exported["format"] == "praxis-inbox/patient-export/1"
                assert exported["patient"]["family_name"] == "Zebrowska"
                assert exported["whatsapp_numbers"] == [ERIKA]
                (conversation,) = exported["conversations"]
                assert [m["text"] for m in conversation["messages"]] == [
                    f"Schmerzen {SENTINEL}",
                    f"zweite Nachricht {SENTINEL}",
                ]
                assert exported["appointments"][0]["reason"] == f"Kontrolle {SENTINEL}"
                assert "Otto" not in json.dumps(exported) and OTHER not in json.dumps(exported)
                anna = httpx.post(
                    relay.url + "/v1/auth/login", json={"username": "anna", "password": PASSWORD}
                ).json()["token"]
                refused = await asyncio.to_thread(
                    httpx.get,
                    f"{relay.url}/v1/admin/patients/{patient_id}/export",
                    headers={"Authorization": f"Bearer {anna}"},
                )
                assert refused.status_code == 403  # staff cannot pull a whole record

                # Art. 17 over the admin API: gone from the relay, then from the cache.
                r = await asyncio.to_thread(admin.post, f"/v1/admin/patients/{patient_id}/erase")
                assert r.status_code == 200, r.text
                assert r.json()["erased"]["conversations"] == 1
                assert r.json()["erased"]["messages"] == 2
                again = await asyncio.to_thread(
                    admin.post, f"/v1/admin/patients/{patient_id}/erase"
                )
                assert again.status_code == 404

            async def erased_in_cache() -> bool:
                return [c.wa_id for c in await engine.conversations()] == [OTHER]

            await wait_until(erased_in_cache, what="erasure reaches the desktop")
            assert await engine.messages(erika.id) == []
            assert await engine.search(SENTINEL.split("-")[1]) == []
            assert await engine.patients_for(ERIKA) == []
        finally:
            await engine.close()

    asyncio.run(scenario())

    remaining = plain_dump(url)
    for word in (SENTINEL, "Zebrowska", ERIKA, "Gallenkolik"):
        assert word not in remaining, word
    assert "Otto Normal" in remaining  # the other patient is untouched
    with Database(url).read() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit ORDER BY id"))]
    assert actions.count("patient_exported") == 1 and actions.count("patient_erased") == 1
    assert AuditLog(Database(url)).verify() == []


def test_cli_export_and_erase_by_number_with_legal_hold(
    relay: Relay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay.post_text(f"nur WhatsApp {SENTINEL}", wa_id=OTHER, name="Otto Normal")
    url = relay.settings.database_url
    out = tmp_path / "otto.json"
    code, output = cli(url, "patient", "export", f"wa:{OTHER}", str(out), monkeypatch=monkeypatch)
    assert code == 0, output
    exported = json.loads(out.read_text())
    assert exported["patient"] is None and exported["whatsapp_numbers"] == [OTHER]
    assert exported["conversations"][0]["messages"][0]["text"] == f"nur WhatsApp {SENTINEL}"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert (
        cli(url, "patient", "export", "wa:4915100000000", str(out), monkeypatch=monkeypatch)[0] == 2
    )

    with Database(url).read() as conn:
        conversation_id = conn.execute(
            text("SELECT id FROM conversations WHERE wa_id = :w"), {"w": OTHER}
        ).scalar_one()
    code, output = cli(
        url,
        "retention", "hold", "add", "--conversation", str(conversation_id), "--reason", "Klage",
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    code, output = cli(url, "patient", "erase", f"wa:{OTHER}", monkeypatch=monkeypatch)
    assert code == 2 and "legal hold" in output
    assert "nur WhatsApp" in plain_dump(url)
    code, _ = cli(url, "retention", "hold", "release", "1", monkeypatch=monkeypatch)
    assert code == 0
    code, output = cli(url, "patient", "erase", f"wa:{OTHER}", monkeypatch=monkeypatch)
    assert code == 0 and "1 conversation(s), 1 message(s)" in output, output
    assert "nur WhatsApp" not in plain_dump(url) and OTHER not in plain_dump(url)
    assert "Zebrowska" in plain_dump(url)  # Erika (not asked about) is untouched
