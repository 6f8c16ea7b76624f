"""Result files are judged by content, and the document must be about the right patient."""

from __future__ import annotations

import pytest

from inbox_app.domain.results import (
    IdentityStatus,
    RejectReason,
    ResultRejected,
    check_result,
    identity_check,
)
from tests.pdfs import encrypt, make_pdf

ERIKA = {"family_name": "Musterfrau", "birth_date": "1970-03-14", "record_number": "4711"}
REPORT = [
    "Labor Dr. Sommer - Befundbericht",
    "Patientin: Erika Musterfrau, geb. 14.03.1970",
    "Pat.-Nr. 4711",
    "Blutbild: unauffaellig. Kontrolle in 12 Monaten.",
]


def test_a_clean_pdf_is_accepted_with_its_text() -> None:
    checked = check_result(make_pdf(REPORT, pages=2))
    assert checked.mime == "application/pdf" and checked.pages == 2
    assert "Musterfrau" in checked.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"MZ\x90\x00 this is a program renamed to befund.pdf", RejectReason.TYPE),
        (b"PK\x03\x04 a zip", RejectReason.TYPE),
        (b"%PDF-1.4\n garbage that is no pdf", RejectReason.DAMAGED),
        (make_pdf(REPORT, javascript=True), RejectReason.ACTIVE_CONTENT),
        (make_pdf(REPORT, embedded=True), RejectReason.ACTIVE_CONTENT),
        (encrypt(make_pdf(REPORT)), RejectReason.ENCRYPTED),
        (make_pdf(["x"], pages=51), RejectReason.PAGES),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), RejectReason.SIZE),
    ],
    ids=["exe", "zip", "damaged", "javascript", "embedded", "encrypted", "pages", "big-png"],
)
def test_bad_files_are_rejected_with_a_reason(data: bytes, reason: RejectReason) -> None:
    with pytest.raises(ResultRejected) as caught:
        check_result(data)
    assert caught.value.reason == reason and str(caught.value)


def test_the_right_patient_matches() -> None:
    check = identity_check(check_result(make_pdf(REPORT)).text, **ERIKA)
    assert check.status == IdentityStatus.MATCH and check.reasons == []


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ([line.replace("Erika Musterfrau", "Max Mustermann") for line in REPORT], "name"),
        ([line.replace("14.03.1970", "15.03.1970") for line in REPORT], "date of birth"),
        ([line.replace("4711", "4712") for line in REPORT], "record number"),
    ],
)
def test_another_patients_document_is_a_mismatch(lines: list[str], why: str) -> None:
    check = identity_check(check_result(make_pdf(lines)).text, **ERIKA)
    assert check.status == IdentityStatus.MISMATCH
    assert any(why in reason for reason in check.reasons)


def test_an_image_or_scan_cannot_be_verified_by_text() -> None:
    assert identity_check("", **ERIKA).status == IdentityStatus.UNVERIFIABLE
