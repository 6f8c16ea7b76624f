"""X-Hub-Signature-256: only the exact raw bytes signed with the app secret pass."""

from __future__ import annotations

import hashlib
import hmac
import json

from inbox_app.whatsapp.signature import sign, verify
from inbox_app.whatsapp.wire import meta_json_bytes

SECRET = "s3cret"
PAYLOAD = {"text": "Grüße aus Köln 😀 https://praxis.example/a/b"}


def test_meta_style_bytes_escape_unicode_and_slashes() -> None:
    body = meta_json_bytes(PAYLOAD)
    assert b"\\u00fc" in body and b"\\/" in body and b"\\ud83d" in body
    assert json.loads(body) == PAYLOAD


def test_correct_signature_over_raw_bytes_with_umlauts_and_emoji() -> None:
    body = meta_json_bytes(PAYLOAD)
    header = sign(body, SECRET)
    assert header.startswith("sha256=")
    assert verify(body, header, SECRET)
    assert verify(body, header.removeprefix("sha256="), SECRET)  # header without the prefix
    assert verify(body, header.upper().replace("SHA256=", "sha256="), SECRET)


def test_reserialised_json_does_not_verify() -> None:
    body = meta_json_bytes(PAYLOAD)
    header = sign(body, SECRET)
    again = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert not verify(again, header, SECRET)


def test_wrong_secret_flipped_byte_truncated_missing() -> None:
    body = meta_json_bytes(PAYLOAD)
    header = sign(body, SECRET)
    assert not verify(body, sign(body, "other"), SECRET)
    flipped = bytes([body[0] ^ 1]) + body[1:]
    assert not verify(flipped, header, SECRET)
    assert not verify(body[:-1], header, SECRET)
    assert not verify(body, None, SECRET)
    assert not verify(body, "", SECRET)
    assert not verify(body, "sha256=zz", SECRET)
    assert not verify(body, header, "")


def test_signature_matches_hmac_definition() -> None:
    body = b'{"a":1}'
    assert sign(body, SECRET) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
