"""Patients' attachments: fetched in the background from the simulator, checked, served to
staff who may see the conversation (QUALITY S14)."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox_app.domain.roles import Role
from inbox_app.relay.media import check, sniff
from inbox_app.relay.settings import RelaySettings
from tests.test_relay_api import add_user, login
from tests.test_relay_outbox import Pair, pair  # noqa: F401  (the relay+simulator fixture)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2048)
PDF = b"%PDF-1.4\n" + b"1 0 obj << >> endobj\n" * 50 + b"%%EOF\n"
EXE = b"MZ\x90\x00\x03" + os.urandom(1024)


def send_media(p: Pair, kind: str, data: bytes, mime: str, **extra: Any) -> str:
    r = httpx.post(
        p.sim.url + "/_sim/inbound",
        json={
            "from": "4915100000301",
            "name": "Erika Musterfrau",
            "type": kind,
            "data": base64.b64encode(data).decode(),
            "mime_type": mime,
            **extra,
        },
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == 200, r.text
    wamid: str = r.json()["wamid"]
    return wamid


def media_state(p: Pair, wamid: str, wanted: set[str], timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        events = p.staff.get("/v1/sync", params={"limit": 1000}).json()["events"]
        states = [
            e["data"] for e in events if e["type"] == "message" and e["data"]["wamid"] == wamid
        ]
        if states and states[-1]["media"]["state"] in wanted:
            return states[-1]
        assert time.monotonic() < deadline, states[-1:] if states else "no message"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files go to a folder of this test (on PostgreSQL there is no database folder)."""
    folder = tmp_path / "media-files"
    monkeypatch.setenv("INBOX_MEDIA_DIR", str(folder))
    return folder


def test_image_is_downloaded_verified_and_served(pair: Pair) -> None:  # noqa: F811
    wamid = send_media(pair, "image", JPEG, "image/jpeg", caption="Befund")
    state = media_state(pair, wamid, {"ready", "failed"})
    assert state["media"]["state"] == "ready", state["media"]
    assert state["text"] == "Befund" and state["media"]["size"] == len(JPEG)
    r = pair.staff.get(f"/v1/media/{state['media']['id']}")
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg"


def test_document_keeps_its_filename(pair: Pair) -> None:  # noqa: F811
    wamid = send_media(pair, "document", PDF, "application/pdf", filename="Befund.pdf")
    state = media_state(pair, wamid, {"ready", "failed"})
    assert state["media"]["state"] == "ready" and state["filename"] == "Befund.pdf"
    r = pair.staff.get(f"/v1/media/{state['media']['id']}")
    assert r.content == PDF and "Befund.pdf" in r.headers["content-disposition"]


def test_expired_url_is_fetched_again(pair: Pair) -> None:  # noqa: F811
    assert httpx.post(pair.sim.url + "/_sim/media/expire", json={"count": 1}).status_code == 200
    wamid = send_media(pair, "audio", b"OggS" + os.urandom(512), "audio/ogg", voice=True)
    state = media_state(pair, wamid, {"ready", "failed"})
    assert state["media"]["state"] == "ready" and state["media"]["voice"] is True
    assert httpx.get(pair.sim.url + "/_sim/media").json()["downloads"] == 2


def test_mismatched_checksum_is_rejected_and_nothing_is_kept(
    pair: Pair,  # noqa: F811
    media_dir: Path,
) -> None:
    wrong = base64.b64encode(b"\x00" * 32).decode()
    wamid = send_media(pair, "image", JPEG, "image/jpeg", sha256=wrong)
    state = media_state(pair, wamid, {"ready", "failed"})
    assert state["media"]["state"] == "failed" and "checksum" in state["media"]["reason"]
    r = pair.staff.get(f"/v1/media/{state['media']['id']}")
    assert r.status_code == 409
    assert not media_dir.exists() or list(media_dir.iterdir()) == []


def test_disguised_executable_is_rejected(pair: Pair) -> None:  # noqa: F811
    wamid = send_media(pair, "image", EXE, "image/jpeg")
    state = media_state(pair, wamid, {"ready", "failed"})
    assert state["media"]["state"] == "failed" and "type" in state["media"]["reason"]


def test_oversized_image_is_rejected(pair: Pair) -> None:  # noqa: F811
    big = JPEG + b"\x00" * (5 * 1024 * 1024)
    wamid = send_media(pair, "image", big, "image/jpeg")
    state = media_state(pair, wamid, {"ready", "failed"})
    assert state["media"]["state"] == "failed" and "MB" in state["media"]["reason"]


def test_media_is_only_served_to_who_may_see_the_conversation(
    pair: Pair,  # noqa: F811
    relay_settings: RelaySettings,
) -> None:
    wamid = send_media(pair, "image", JPEG, "image/jpeg")
    media_id = media_state(pair, wamid, {"ready"})["media"]["id"]
    add_user(relay_settings, "root", Role.ADMIN)
    admin = login(pair.relay.url, "root")
    try:
        refused = admin.get(f"/v1/media/{media_id}")
        missing = pair.staff.get("/v1/media/999999")
    finally:
        admin.close()
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    assert JPEG not in refused.content
    assert httpx.get(f"{pair.relay.url}/v1/media/{media_id}").status_code == 401


def test_content_checks_by_magic_bytes() -> None:
    assert sniff(JPEG) == "image/jpeg" and sniff(PDF) == "application/pdf"
    assert sniff(EXE) is None and sniff(b"#!/bin/sh\nrm -rf /") is None
    assert check("document", PDF, None, None) == "application/pdf"
