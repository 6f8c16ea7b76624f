"""Checking a result file before it may be sent, and the wrong-patient guard.

Sending a result to the wrong person is the worst thing this product could do, so a
file is judged by its content (never its name), a PDF must open, must not be encrypted
and must carry no scripts, launch actions or embedded files, and the text found in it
is compared with the patient it is meant for.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import DictionaryObject, IndirectObject, PdfObject

from .filetypes import sniff
from .keywords import fold

MiB = 1024 * 1024
# WhatsApp's limits per kind (whatsapp-cloud-api.md §4): documents 100 MB, images 5 MB.
LIMITS = {"application/pdf": 100 * MiB, "image/jpeg": 5 * MiB, "image/png": 5 * MiB}
MAX_PAGES = 50
TEXT_PAGES = 10
_DANGEROUS = ("/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia")


class RejectReason(StrEnum):
    TYPE = "type"
    SIZE = "size"
    DAMAGED = "damaged"
    ENCRYPTED = "encrypted"
    ACTIVE_CONTENT = "active_content"
    PAGES = "pages"


class ResultRejected(Exception):
    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CheckedResult:
    mime: str
    size: int
    pages: int
    text: str


def _walk(obj: PdfObject | None, seen: set[int], depth: int = 0) -> str | None:
    """The first dangerous key anywhere below ``obj`` (bounded, cycle-safe)."""
    if obj is None or depth > 40:
        return None
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return None
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            if key in _DANGEROUS:
                return str(key)
            if key == "/S" and value in ("/JavaScript", "/Launch"):
                return str(value)
            if key in ("/Parent", "/P"):
                continue  # back-links up the page tree; already visited from the root
            found = _walk(value, seen, depth + 1)
            if found:
                return found
    elif isinstance(obj, list):
        for item in obj:
            found = _walk(item, seen, depth + 1)
            if found:
                return found
    return None


def check_result(data: bytes) -> CheckedResult:
    """Accept a PDF, JPEG or PNG result, or raise ResultRejected with the reason."""
    mime = sniff(data)
    if mime not in LIMITS:
        raise ResultRejected(
            RejectReason.TYPE, "Only PDF, JPEG or PNG files can be sent as results."
        )
    if len(data) > LIMITS[mime]:
        raise ResultRejected(
            RejectReason.SIZE,
            f"The file is larger than WhatsApp allows ({LIMITS[mime] // MiB} MB).",
        )
    if mime != "application/pdf":
        return CheckedResult(mime, len(data), 1, "")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ResultRejected(
                RejectReason.ENCRYPTED,
                "The PDF is password-protected; export it without a password.",
            )
        danger = _walk(reader.trailer.get("/Root"), set())
        pages = len(reader.pages)
        text = "\n".join((page.extract_text() or "") for page in list(reader.pages)[:TEXT_PAGES])
    except ResultRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ResultRejected(RejectReason.DAMAGED, "The PDF cannot be opened.") from None
    if danger:
        raise ResultRejected(
            RejectReason.ACTIVE_CONTENT,
            "The PDF contains scripts, actions or embedded files and cannot be sent.",
        )
    if pages == 0 or pages > MAX_PAGES:
        raise ResultRejected(RejectReason.PAGES, f"A result must have 1 to {MAX_PAGES} pages.")
    return CheckedResult(mime, len(data), pages, text)


class IdentityStatus(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"  # blocks the send; an override needs a written, audited reason
    UNVERIFIABLE = "unverifiable"  # no text (a scan or an image): staff confirm by eye


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    status: IdentityStatus
    reasons: list[str] = field(default_factory=list)


_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_BIRTH_LABEL = re.compile(r"(geb\.?|geboren|geburtsdatum|dob|date of birth|born)\W{0,3}$")
_RECORD = re.compile(r"(pat\.?-?\s?nr\.?|patientennummer|mrn|record (?:no|number))\W{0,3}([\w-]+)")


def _dates(text: str) -> list[tuple[date, bool]]:
    """Dates in the text, each with whether a birth label stands right before it."""
    found = []
    for m in _DATE.finditer(text):
        try:
            if m.group(1):
                day = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            else:
                day = date(int(m.group(4)), int(m.group(5)), int(m.group(6)))
        except ValueError:
            continue
        before = text[max(0, m.start() - 20) : m.start()]
        found.append((day, bool(_BIRTH_LABEL.search(before))))
    return found


def identity_check(
    text: str,
    *,
    family_name: str,
    birth_date: str | None,
    record_number: str | None = None,
) -> IdentityCheck:
    """Compare what the document says with the patient the result is for."""
    folded = fold(text)
    if len(re.sub(r"\W", "", folded)) < 20:
        return IdentityCheck(IdentityStatus.UNVERIFIABLE, ["no readable text in the file"])
    reasons = []
    if fold(family_name) not in folded:
        reasons.append("the patient's name does not appear in the document")
    dates = _dates(folded)
    if birth_date:
        dob = date.fromisoformat(birth_date)
        labelled = [d for d, is_birth in dates if is_birth]
        if any(d != dob for d in labelled):
            reasons.append("the date of birth in the document differs")
        elif not any(d == dob for d, _ in dates):
            reasons.append("the patient's date of birth does not appear in the document")
    if record_number:
        for m in _RECORD.finditer(folded):
            if m.group(2) != fold(record_number):
                reasons.append("the record number in the document differs")
                break
    return IdentityCheck(IdentityStatus.MISMATCH if reasons else IdentityStatus.MATCH, reasons)
