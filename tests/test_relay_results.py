"""Sending a result over real HTTP: relay → simulator (signed webhooks back), the roles that
may send and open it, the wrong-patient guard, consent, both compliance profiles, and the
phi-safe page's one-time code, expiry and lock."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from inbox_app.domain.consent import ConsentPurpose, ConsentSource
from inbox_app.domain.roles import Role
from inbox_app.relay.app import create_app
from inbox_app.relay.consent import Consents
from inbox_app.relay.db import Database, audit, results
from inbox_app.relay.patients import PatientIn, Registry
from inbox_app.relay.settings import RelaySettings
from inbox_app.relay.store import Store
from inbox_app.whatsapp.simulator import SimulatorSettings
from inbox_app.whatsapp.simulator import create_app as create_simulator
from inbox_app.whatsapp.simulator.templates_api import default_templates, result_templates
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID
from tests.live_server import LiveServer, free_port
from tests.pdfs import encrypt, make_pdf
from tests.test_relay_api import add_user, login

WA = "4915100000101"
ERIKA = ["Praxis Dr. Beispiel - Laborbefund", "Patientin: Erika Musterfrau", "geb. 12.03.1980"]
OTHER = ["Praxis Dr. Beispiel - Laborbefund", "Patient: Max Mustermann", "geb. 01.01.1975"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Rig:
    relay: LiveServer
    sim: LiveServer
    settings: RelaySettings
    nurse: httpx.Client
    receptionist: httpx.Client
    patient_id: int

    def inbound(self, text: str = "Hallo, ist mein Befund da?") -> None:
        r = httpx.post(
            self.sim.url + "/_sim/inbound",
            json={"from": WA, "name": "Erika Musterfrau", "type": "text", "text": text},
        )
        assert r.status_code == 200 and r.json()["status"] == 200, r.text

    def send(
        self,
        data: bytes,
        *,
        client: httpx.Client | None = None,
        name: str = "Erika Musterfrau",
        dob: str = "12.03.1980",
        override: str | None = None,
        client_id: str | None = None,
        filename: str = "Laborbefund.pdf",
        mime: str = "application/pdf",
    ) -> httpx.Response:
        fields = {
            "patient_id": str(self.patient_id),
            "confirmed_name": name,
            "confirmed_dob": dob,
            "client_id": client_id or str(uuid.uuid4()),
        }
        if override is not None:
            fields["override_reason"] = override
        return (client or self.nurse).post(
            "/v1/conversations/1/results", data=fields, files={"file": (filename, data, mime)}
        )

    def sent(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(found := httpx.get(self.sim.url + "/_sim/sent").json()["messages"]) < count:
            assert time.monotonic() < deadline, found
            time.sleep(0.05)
        return list(found)

    def events(self, kind: str) -> list[dict[str, Any]]:
        got = self.nurse.get("/v1/sync", params={"limit": 1000}).json()["events"]
        return [e["data"] for e in got if e["type"] == kind]

    def result_state(self, result_id: int, wanted: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            states = [r for r in self.events("result") if r["id"] == result_id]
            if (states and states[-1]["state"] == wanted) or time.monotonic() > deadline:
                return states[-1]
            time.sleep(0.05)

    def audit_actions(self) -> list[tuple[str, dict[str, Any]]]:
        import json

        db = Database(self.settings.database_url)
        try:
            with db.read() as conn:
                rows = conn.execute(select(audit.c.action, audit.c.detail).order_by(audit.c.id))
                return [(r.action, json.loads(r.detail)) for r in rows]
        finally:
            db.dispose()

    def shift(self, **values: Any) -> None:
        """Move a result's clock fields (expiry) as time passing would."""
        db = Database(self.settings.database_url)
        try:
            with db.write() as conn:
                conn.execute(update(results).values(**values))
        finally:
            db.dispose()


def seed(settings: RelaySettings, *, consent: bool = True) -> int:
    db = Database(settings.database_url)
    try:
        db.create_schema()
        store = Store(db)
        Registry(store).upsert(
            [
                PatientIn(
                    external_id="test|erika",
                    family_name="Musterfrau",
                    given_name="Erika",
                    birth_date="1980-03-12",
                    wa_id=WA,
                    language="de",
                    record_number="A-1001",
                ),
                # The same phone, another patient (a caregiver's number).
                PatientIn(
                    external_id="test|max",
                    family_name="Musterfrau",
                    given_name="Max",
                    birth_date="2015-06-01",
                    wa_id=WA,
                    language="de",
                ),
            ],
            [],
        )
        if consent:
            with db.write() as conn:
                Consents(store).record(
                    conn,
                    wa_id=WA,
                    purposes=[ConsentPurpose.RESULTS],
                    granted=True,
                    source=ConsentSource.FORM,
                )
        with db.read() as conn:
            from inbox_app.relay.db import patients

            found = conn.execute(
                select(patients.c.id).where(patients.c.external_id == "test|erika")
            ).scalar_one()
            return int(found)
    finally:
        db.dispose()


def start_rig(
    relay_settings: RelaySettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    profile: str = "phi-safe",
    consent: bool = True,
) -> Iterator[Rig]:
    relay_port, sim_port = free_port(), free_port()
    monkeypatch.setenv("WHATSAPP_WABA_ID", "102290129340398")
    monkeypatch.setenv("INBOX_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("INBOX_COMPLIANCE_PROFILE", profile)
    monkeypatch.setenv("INBOX_PUBLIC_URL", f"http://127.0.0.1:{relay_port}")
    settings = replace(relay_settings, graph_url=f"http://127.0.0.1:{sim_port}", graph_timeout=2.0)
    sim_settings = SimulatorSettings(
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        webhook_url=f"http://127.0.0.1:{relay_port}/webhook",
        status_delay=0.02,
        templates=default_templates() + result_templates(),
    )
    add_user(settings, "nina", Role.NURSE)
    add_user(settings, "rita", Role.RECEPTIONIST)
    patient_id = seed(settings, consent=consent)
    with (
        LiveServer(create_app(settings), port=relay_port) as relay,
        LiveServer(create_simulator(sim_settings), port=sim_port) as sim,
    ):
        nurse, receptionist = login(relay.url, "nina"), login(relay.url, "rita")
        rig = Rig(relay, sim, settings, nurse, receptionist, patient_id)
        # The relay syncs the WABA's templates at start; the result templates must be there.
        deadline = time.monotonic() + 10
        while "result_link" not in {
            t["name"] for t in nurse.get("/v1/templates").json()["templates"]
        }:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        rig.inbound()
        yield rig
        nurse.close()
        receptionist.close()


@pytest.fixture
def rig(
    relay_settings: RelaySettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Rig]:
    yield from start_rig(relay_settings, monkeypatch, tmp_path)


def link_of(message: dict[str, Any]) -> str:
    params = message["payload"]["template"]["components"][0]["parameters"]
    link = params[1]["text"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/r/[\w-]{40,}", link), link
    return str(link)


def code_of(message: dict[str, Any]) -> str:
    assert message["payload"]["template"]["name"] == "verification_code"
    code = message["payload"]["template"]["components"][0]["parameters"][0]["text"]
    assert re.fullmatch(r"\d{6}", code)
    return str(code)


def sent_result(rig: Rig) -> tuple[dict[str, Any], str]:
    r = rig.send(make_pdf(ERIKA))
    assert r.status_code == 202, r.text
    (notice,) = rig.sent(1)
    return r.json()["result"], link_of(notice)


# -- who may send and open -----------------------------------------------------------------


def test_receptionist_cannot_send_view_or_download_a_result(rig: Rig) -> None:
    refused = rig.send(make_pdf(ERIKA), client=rig.receptionist)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    result, _link = sent_result(rig)
    assert rig.receptionist.get(f"/v1/results/{result['id']}").status_code == 403
    assert rig.receptionist.get(f"/v1/results/{result['id']}/file").status_code == 403
    # The nurse may open it, and that is audited.
    own = rig.nurse.get(f"/v1/results/{result['id']}/file")
    assert own.status_code == 200 and own.content == make_pdf(ERIKA)
    # At rest the file is sealed under the relay's key (vault.py), not readable as a PDF.
    (stored,) = Path(os.environ["INBOX_MEDIA_DIR"]).glob("result-*")
    assert stored.read_bytes().startswith(b"PXVAULT1") and b"Musterfrau" not in stored.read_bytes()
    actions = [a for a, _ in rig.audit_actions()]
    assert "result_sent" in actions and "result_downloaded" in actions
    # Nothing went out for the refused attempt: one notice only.
    assert len(rig.sent(1)) == 1
    # The receptionist sees the notice in the thread, its state, and nothing of the file.
    rig.result_state(result["id"], "read")
    feed = rig.receptionist.get("/v1/sync", params={"limit": 1000}).json()["events"]
    assert [e for e in feed if e["type"] == "result"] == []
    notice = [e["data"] for e in feed if e["type"] == "message"][-1]
    assert notice["result"]["state"] == "read" and "filename" not in notice["result"]
    assert "Laborbefund" not in str(feed)


# -- the checks before anything leaves -------------------------------------------------------


def test_wrong_patient_pdf_is_blocked_and_an_override_is_audited_with_its_reason(
    rig: Rig,
) -> None:
    blocked = rig.send(make_pdf(OTHER))
    assert blocked.status_code == 422, blocked.text
    body = blocked.json()
    assert body["error"] == "identity_mismatch"
    assert "name does not appear" in body["message"] and body["reasons"]
    short = rig.send(make_pdf(OTHER), override="ok")
    assert short.json()["error"] == "override_reason_too_short"
    time.sleep(0.3)
    assert httpx.get(rig.sim.url + "/_sim/sent").json()["messages"] == []
    reason = "Befund mit altem Namen vor der Heirat, telefonisch bestätigt"
    sent = rig.send(make_pdf(OTHER), override=reason)
    assert sent.status_code == 202, sent.text
    assert sent.json()["result"]["overridden"] is True
    overrides = [d for a, d in rig.audit_actions() if a == "result_override"]
    assert len(overrides) == 1 and overrides[0]["override_reason"] == reason
    assert overrides[0]["reasons"]


def test_identifiers_consent_and_file_are_checked_on_the_relay(rig: Rig) -> None:
    wrong_dob = rig.send(make_pdf(ERIKA), dob="13.03.1980")
    assert wrong_dob.json()["error"] == "identifiers_mismatch"
    assert "date of birth" in wrong_dob.json()["message"]
    # The child sharing the number is not the patient this result is for.
    wrong_name = rig.send(make_pdf(ERIKA), name="Max Musterfrau")
    assert wrong_name.json()["error"] == "identifiers_mismatch"
    locked = rig.send(encrypt(make_pdf(ERIKA)))
    assert locked.json()["error"] == "file_rejected" and locked.json()["reason"] == "encrypted"
    script = rig.send(make_pdf(ERIKA, javascript=True))
    assert script.json()["reason"] == "active_content"
    fake = rig.send(b"MZ\x90\x00 not a pdf", filename="befund.pdf")
    assert fake.json()["reason"] == "type"
    # "Musterfrau, Erika" and an ISO date are the same identifiers.
    ok = rig.send(make_pdf(ERIKA), name="Musterfrau, Erika", dob="1980-03-12")
    assert ok.status_code == 202, ok.text


def test_no_consent_no_send(
    relay_settings: RelaySettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for rig in start_rig(relay_settings, monkeypatch, tmp_path, consent=False):
        refused = rig.send(make_pdf(ERIKA))
        assert refused.status_code == 422
        assert refused.json()["error"] == "no_consent"
        assert "consent" in refused.json()["message"]


def test_a_repeated_client_id_sends_once(rig: Rig) -> None:
    client_id = str(uuid.uuid4())
    first = rig.send(make_pdf(ERIKA), client_id=client_id)
    again = rig.send(make_pdf(ERIKA), client_id=client_id)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["result"]["id"] == again.json()["result"]["id"]
    time.sleep(0.5)
    assert len(rig.sent(1)) == 1


# -- phi-safe: the notice, the page, the code -------------------------------------------------


def test_phi_safe_notice_page_code_view_and_download(rig: Rig) -> None:
    result, link = sent_result(rig)
    (notice,) = rig.sent(1)
    assert notice["payload"]["template"]["name"] == "result_link"
    assert "Laborbefund" not in str(notice["payload"]) and "Musterfrau" not in str(notice)
    # Staff see the message, never the link itself.
    shown = [m for m in rig.events("message") if m["id"] == result["message_id"]][-1]
    token = link.rsplit("/", 1)[1]
    assert token not in str(rig.events("message")) and "••••" in shown["text"]
    assert rig.result_state(result["id"], "read")["times"]["read"] is not None

    page = httpx.Client(base_url=rig.relay.url, timeout=10)
    start = page.get(link, headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
    assert start.status_code == 200 and "Date of birth" in start.text
    assert "<script" not in start.text and "http" not in start.text.split("<body>")[1]
    wrong = page.post(f"/r/{token}/code", data={"dob": "01.01.1970", "lang": "en"})
    assert wrong.status_code == 422 and "4 attempt(s) left" in wrong.text
    right = page.post(f"/r/{token}/code", data={"dob": "12.03.1980", "lang": "en"})
    assert right.status_code == 200 and "6-digit code" in right.text
    code = code_of(rig.sent(2)[1])
    assert code not in str(rig.events("message"))  # staff never see the code either
    # Without the code there is nothing to see.
    assert page.get(f"/r/{token}/view").status_code == 401
    ok = page.post(f"/r/{token}/verify", data={"code": code, "lang": "en"})
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"/r/{token}/view")
    assert "httponly" in ok.headers["set-cookie"].lower()
    view = page.get(ok.headers["location"])
    assert view.status_code == 200 and "Laborbefund.pdf" in view.text and "1 page(s)" in view.text
    assert rig.result_state(result["id"], "opened")["took_seconds"] >= 0
    download = page.get(f"/r/{token}/file")
    assert download.status_code == 200 and download.content == make_pdf(ERIKA)
    assert download.headers["content-disposition"].startswith("attachment")
    final = rig.result_state(result["id"], "downloaded")
    assert final["times"]["opened"] <= final["times"]["downloaded"]
    # The thread shows it on the message itself (the desktop's delegate reads this).
    on_message = [m for m in rig.events("message") if m["id"] == result["message_id"]][-1]
    assert on_message["result"]["state"] == "downloaded"
    # The code worked once only.
    assert page.post(f"/r/{token}/verify", data={"code": code}).status_code == 422
    patient_actions = [a for a, d in rig.audit_actions() if d.get("by") == "patient" or "what" in d]
    assert patient_actions == ["result_page_failed", "result_viewed", "result_downloaded"]
    # Another browser without the session cookie cannot download.
    assert httpx.get(rig.relay.url + f"/r/{token}/file").status_code == 401
    page.close()


def test_wrong_attempts_lock_the_link(rig: Rig) -> None:
    result, link = sent_result(rig)
    token = link.rsplit("/", 1)[1]
    page = httpx.Client(base_url=rig.relay.url, timeout=10)
    page.post(f"/r/{token}/code", data={"dob": "12.03.1980"})
    code = code_of(rig.sent(2)[1])
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    for expected_left in (4, 3, 2, 1):
        r = page.post(f"/r/{token}/verify", data={"code": wrong_code})
        assert r.status_code == 422 and f"Noch {expected_left} Versuch" in r.text
    locked = page.post(f"/r/{token}/code", data={"dob": "11.11.1911"})
    assert locked.status_code == 410 and "gesperrt" in locked.text
    # Locked means locked: the right code and the right date of birth are refused now.
    assert page.post(f"/r/{token}/verify", data={"code": code}).status_code == 410
    assert page.post(f"/r/{token}/code", data={"dob": "12.03.1980"}).status_code == 410
    assert page.get(link).status_code == 410
    assert rig.result_state(result["id"], "read")["locked"] is True
    assert "result_page_locked" in [a for a, _ in rig.audit_actions()]
    page.close()


def test_the_code_and_the_link_expire(rig: Rig) -> None:
    _result, link = sent_result(rig)
    token = link.rsplit("/", 1)[1]
    page = httpx.Client(base_url=rig.relay.url, timeout=10)
    page.post(f"/r/{token}/code", data={"dob": "12.03.1980"})
    code = code_of(rig.sent(2)[1])
    rig.shift(code_expires_at=time.time() - 1)  # 10 minutes later
    late = page.post(f"/r/{token}/verify", data={"code": code})
    assert late.status_code == 422 and "abgelaufen" in late.text
    # A new code works, until the link itself expires (72 hours by default).
    page.post(f"/r/{token}/code", data={"dob": "12.03.1980"})
    fresh = code_of(rig.sent(3)[2])
    ok = page.post(f"/r/{token}/verify", data={"code": fresh})
    assert ok.status_code == 303
    assert page.get(f"/r/{token}/view").status_code == 200
    rig.shift(expires_at=time.time() - 1)
    gone = page.get(f"/r/{token}/view")
    assert gone.status_code == 410 and "abgelaufen" in gone.text
    assert page.get(f"/r/{token}/file").status_code == 410
    assert page.get(link).status_code == 410
    assert httpx.get(rig.relay.url + "/r/not-a-real-token").status_code == 404
    page.close()


# -- direct: a document with a caption ---------------------------------------------------------


def test_direct_profile_sends_the_document_with_a_caption(
    relay_settings: RelaySettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for rig in start_rig(relay_settings, monkeypatch, tmp_path, profile="direct"):
        r = rig.send(make_pdf(ERIKA))
        assert r.status_code == 202, r.text
        result = r.json()["result"]
        assert result["profile"] == "direct"
        (sent,) = rig.sent(1)
        assert sent["type"] == "document"
        document = sent["payload"]["document"]
        assert document["filename"] == "Laborbefund.pdf" and document["id"]
        assert document["caption"].startswith("Guten Tag Erika")
        # What WhatsApp received is the PDF itself (opened from the vault for the upload).
        auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
        info = httpx.get(f"{rig.sim.url}/v21.0/{document['id']}", headers=auth).json()
        assert httpx.get(info["url"], headers=auth).content == make_pdf(ERIKA)
        final = rig.result_state(result["id"], "read")
        assert final["took_seconds"] is not None and final["took_seconds"] >= 0
        assert final["times"]["delivered"] is not None
        image = rig.send(PNG, filename="wunde.png", mime="image/png")
        assert image.status_code == 202, image.text
        assert rig.sent(2)[1]["type"] == "image"


# -- the desktop engine ------------------------------------------------------------------------


def test_engine_sends_a_result_and_its_state_reaches_the_cache(rig: Rig, tmp_path: Path) -> None:
    import asyncio

    from inbox_app.client.api import RelayError
    from inbox_app.client.engine import ClientEngine, EngineConfig
    from inbox_app.client.keys import KdfParams
    from inbox_app.domain.results import ResultRejected

    pdf = tmp_path / "Laborbefund.pdf"
    pdf.write_bytes(make_pdf(ERIKA))
    other = tmp_path / "Fremdbefund.pdf"
    other.write_bytes(make_pdf(OTHER))
    locked = tmp_path / "verschlüsselt.pdf"
    locked.write_bytes(encrypt(make_pdf(ERIKA)))

    async def scenario() -> None:
        engine = ClientEngine(
            EngineConfig(relay_url=rig.relay.url, data_dir=tmp_path / "client"),
            kdf=KdfParams(time_cost=1, memory_cost=1024, parallelism=1),
            keyring_backends=[],
        )
        await engine.sign_in("nina", "correct horse")
        await engine.start()
        try:
            with pytest.raises(ResultRejected):  # checked on the PC before anything leaves
                await engine.send_result(
                    1, rig.patient_id, locked, confirmed_name="x", confirmed_dob="x"
                )
            with pytest.raises(RelayError) as refused:
                await engine.send_result(
                    1,
                    rig.patient_id,
                    other,
                    confirmed_name="Erika Musterfrau",
                    confirmed_dob="12.03.1980",
                )
            assert refused.value.code == "identity_mismatch"
            state = await engine.send_result(
                1,
                rig.patient_id,
                pdf,
                confirmed_name="Erika Musterfrau",
                confirmed_dob="12.03.1980",
            )
            assert state["profile"] == "phi-safe" and state["filename"] == "Laborbefund.pdf"
            deadline = time.monotonic() + 10
            while True:
                found = [m for m in await engine.messages(1) if m.id == state["message_id"]]
                if found and found[0].result_state == "read":
                    break
                assert time.monotonic() < deadline, found
                await asyncio.sleep(0.05)
            assert found[0].result_took is not None
        finally:
            await engine.close()

    asyncio.run(scenario())
