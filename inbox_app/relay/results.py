"""Sending a result to a patient, safely, and the phi-safe page's rules.

The relay checks everything again whatever the desktop did: the role (nurse or clinician),
the file (``domain.results.check_result``), the wrong-patient guard (``identity_check``;
a mismatch needs a written, audited reason), the two identifiers the sender confirmed,
the patient's consent for results by WhatsApp, and that the patient belongs to the
conversation. Then it follows the clinic's compliance profile:

- ``direct``: a WhatsApp document with a short caption (24-hour window only: WhatsApp
  accepts free-form documents only then);
- ``phi-safe`` (the default: nothing about health leaves through WhatsApp unless a clinic
  chose otherwise): a neutral notification with a short-lived link to the relay's page
  (result_page.py), where the patient confirms date of birth and a one-time code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from inbox_app.domain.consent import ConsentPurpose
from inbox_app.domain.conversations import window_remaining
from inbox_app.domain.keywords import fold
from inbox_app.domain.messages import Direction, MessageStatus
from inbox_app.domain.results import (
    IdentityStatus,
    ResultRejected,
    check_result,
    identity_check,
)

from . import audit
from .audit import Action
from .consent import Consents
from .db import conversations, media, messages, outbox, patients, results
from .inbound import preview_of
from .result_state import emit_result, result_state
from .settings import ConfigError
from .store import Store, WindowClosed
from .teams import Claimed, active_claim
from .templates import TemplateCache
from .vault import Vault

DIRECT = "direct"
PHI_SAFE = "phi-safe"
PROFILES = (DIRECT, PHI_SAFE)
OVERRIDE_MIN_CHARS = 10


@dataclass(frozen=True, slots=True)
class ResultSettings:
    """``INBOX_COMPLIANCE_PROFILE``, ``INBOX_PUBLIC_URL`` and the page's limits."""

    profile: str = PHI_SAFE
    public_url: str = ""  # empty: the address the desktop reached the relay at
    link_hours: float = 72.0
    code_minutes: float = 10.0
    max_attempts: int = 5
    max_codes: int = 5
    session_minutes: float = 15.0
    link_template: str = "result_link"
    code_template: str = "verification_code"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ResultSettings:
        env = dict(os.environ if env is None else env)
        profile = env.get("INBOX_COMPLIANCE_PROFILE", PHI_SAFE).strip().lower() or PHI_SAFE
        if profile not in PROFILES:
            raise ConfigError("INBOX_COMPLIANCE_PROFILE must be 'direct' or 'phi-safe'.")
        try:
            hours = float(env.get("INBOX_RESULT_LINK_HOURS", "72"))
            attempts = int(env.get("INBOX_RESULT_MAX_ATTEMPTS", "5"))
        except ValueError:
            raise ConfigError(
                "INBOX_RESULT_LINK_HOURS and INBOX_RESULT_MAX_ATTEMPTS must be numbers."
            ) from None
        if not 0 < hours <= 24 * 30 or not 1 <= attempts <= 20:
            raise ConfigError("A result link lives 0–720 hours and allows 1–20 attempts.")
        return cls(
            profile=profile,
            public_url=env.get("INBOX_PUBLIC_URL", "").strip().rstrip("/"),
            link_hours=hours,
            max_attempts=attempts,
            link_template=env.get("INBOX_RESULT_LINK_TEMPLATE", "result_link"),
            code_template=env.get("INBOX_RESULT_CODE_TEMPLATE", "verification_code"),
        )


class SendRefused(Exception):
    """A result that may not go out; ``code`` for the client, the message for staff."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass(frozen=True, slots=True)
class ResultRequest:
    conversation_id: int
    patient_id: int
    client_id: str
    data: bytes
    filename: str
    confirmed_name: str
    confirmed_dob: str
    override_reason: str | None
    author_id: int
    address: str | None
    base_url: str  # where the page lives when INBOX_PUBLIC_URL is not set


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def parse_dob(text: str) -> date | None:
    """A date of birth as people type it: 31.12.1980, 31/12/1980 or 1980-12-31."""
    text = text.strip()
    m = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _same_name(confirmed: str, given: str, family: str) -> bool:
    """Order and commas do not matter ("Musterfrau, Erika" = "Erika Musterfrau")."""
    words = sorted(re.findall(r"[\w'-]+", fold(confirmed)))
    return bool(words) and words == sorted(re.findall(r"[\w'-]+", fold(f"{given} {family}")))


def _safe_filename(name: str, mime: str) -> str:
    stem = re.sub(r"[^\w.\- ]", "_", Path(name or "").name).strip(" .")[:120] or "result"
    ext = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[mime]
    if not stem.lower().endswith(ext):
        stem = stem.rsplit(".", 1)[0] + ext if "." in stem else stem + ext
    return stem


def _language(patient_language: str | None) -> str:
    return "en" if (patient_language or "").lower().startswith("en") else "de"


CAPTIONS = {
    "de": "Guten Tag {given}, anbei Ihr Dokument aus der Praxis: {filename}",
    "en": "Hello {given}, here is your document from the practice: {filename}",
}
# Neutral on purpose: no name, no word about health, only that something is waiting.
NOTICES = {
    "de": "Guten Tag, Ihre Praxis hat eine Nachricht für Sie hinterlegt. "
    "Öffnen Sie sie hier (gültig bis {until}): {link}",
    "en": "Hello, your practice has left a message for you. "
    "Open it here (valid until {until}): {link}",
}
CODES = {
    "de": "{code} ist Ihr Bestätigungscode. Geben Sie ihn nicht weiter.",
    "en": "{code} is your verification code. Do not share it.",
}
HIDDEN_LINK = "…/r/••••••"
HIDDEN_CODE = "••••••"


class ResultService:
    """Everything the result routes and the page do with the database."""

    def __init__(
        self,
        store: Store,
        settings: ResultSettings,
        *,
        folder: Path,
        vault: Vault,
        templates: TemplateCache,
    ) -> None:
        self.store = store
        self.settings = settings
        self.folder = folder
        self.vault = vault
        self.templates = templates

    # -- sending -----------------------------------------------------------------------
    def existing(self, client_id: str) -> dict[str, Any] | None:
        with self.store.db.read() as conn:
            found = conn.execute(
                select(results.c.id).where(results.c.client_id == client_id)
            ).scalar_one_or_none()
            return result_state(conn, int(found)) if found is not None else None

    def _patient_for(self, conn: Connection, req: ResultRequest) -> Any:
        conv = conn.execute(
            select(conversations.c.wa_id).where(conversations.c.id == req.conversation_id)
        ).one_or_none()
        if conv is None:
            raise SendRefused(404, "not_found", "No such conversation.")
        patient = conn.execute(
            select(patients).where(patients.c.id == req.patient_id)
        ).one_or_none()
        if patient is None or patient.wa_id != conv.wa_id:
            raise SendRefused(
                422,
                "patient_not_in_conversation",
                "This patient is not linked to this conversation's number.",
            )
        if not _same_name(req.confirmed_name, patient.given_name, patient.family_name):
            raise SendRefused(
                422,
                "identifiers_mismatch",
                "The confirmed name does not match the patient record.",
            )
        dob = parse_dob(req.confirmed_dob)
        if patient.birth_date is None or dob is None or dob.isoformat() != patient.birth_date:
            raise SendRefused(
                422,
                "identifiers_mismatch",
                "The confirmed date of birth does not match the patient record.",
            )
        consent = Consents.current(conn, conv.wa_id, ConsentPurpose.RESULTS)
        if consent is None or not consent.granted:
            raise SendRefused(
                422,
                "no_consent",
                "The patient's consent for results by WhatsApp is not on file; "
                "record it before sending.",
            )
        return patient

    def check(self, req: ResultRequest) -> tuple[Any, Any, Any]:
        """(patient, checked file, identity check), or SendRefused with the reason."""
        with self.store.db.read() as conn:
            patient = self._patient_for(conn, req)
        try:
            checked = check_result(req.data)
        except ResultRejected as exc:
            raise SendRefused(422, "file_rejected", str(exc), reason=exc.reason.value) from None
        identity = identity_check(
            checked.text,
            family_name=patient.family_name,
            birth_date=patient.birth_date,
            record_number=patient.record_number,
        )
        reason = (req.override_reason or "").strip()
        if identity.status == IdentityStatus.MISMATCH:
            if not reason:
                raise SendRefused(
                    422,
                    "identity_mismatch",
                    "The document does not match this patient: "
                    + "; ".join(identity.reasons)
                    + ". Check the file, or give a written reason to send it anyway.",
                    reasons=identity.reasons,
                )
            if len(reason) < OVERRIDE_MIN_CHARS:
                raise SendRefused(
                    422,
                    "override_reason_too_short",
                    f"An override needs a reason of at least {OVERRIDE_MIN_CHARS} characters.",
                )
        return patient, checked, identity

    def send(self, req: ResultRequest) -> tuple[dict[str, Any], bool]:
        """Check, store the file, queue the message; returns (result state, created)."""
        done = self.existing(req.client_id)
        if done is not None:
            return self._repeat(done, req), False
        patient, checked, identity = self.check(req)
        profile = self.settings.profile
        filename = _safe_filename(req.filename, checked.mime)
        now = time.time()
        # Sealed (AES-GCM, vault.py) when the relay has a key; the outbox opens it to upload.
        path = self.folder / f"result-{secrets.token_hex(12)}"
        sealed = self.vault.encrypts
        self.vault.write(path, req.data, temp_prefix=".result-")
        lang = _language(patient.language)
        token = secrets.token_urlsafe(32) if profile == PHI_SAFE else None
        expires_at = now + self.settings.link_hours * 3600 if token else None
        try:
            message_type, text, details, is_template = self._message_for(
                req, patient, profile, lang, filename, checked, token, expires_at
            )
            with self.store.db.write() as conn:
                result_id = self._insert(
                    conn,
                    req,
                    patient=patient,
                    profile=profile,
                    checked=checked,
                    identity=identity,
                    filename=filename,
                    path=path,
                    sealed=sealed,
                    token=token,
                    expires_at=expires_at,
                    message_type=message_type,
                    text=text,
                    details=details,
                    is_template=is_template,
                    now=now,
                )
                audit.record(
                    conn,
                    Action.RESULT_SENT,
                    user_id=req.author_id,
                    conversation_id=req.conversation_id,
                    detail={
                        "result_id": result_id,
                        "patient_id": patient.id,
                        "profile": profile,
                        "identity": identity.status.value,
                        "pages": checked.pages,
                    },
                    address=req.address,
                )
                if identity.status == IdentityStatus.MISMATCH:
                    audit.record(
                        conn,
                        Action.RESULT_OVERRIDE,
                        user_id=req.author_id,
                        conversation_id=req.conversation_id,
                        detail={
                            "result_id": result_id,
                            "patient_id": patient.id,
                            "reasons": identity.reasons,
                            "override_reason": (req.override_reason or "").strip(),
                        },
                        address=req.address,
                    )
                return result_state(conn, result_id), True
        except IntegrityError:
            # The same client id raced in from a retry: the first one counts.
            path.unlink(missing_ok=True)
            done = self.existing(req.client_id)
            if done is None:
                raise
            return self._repeat(done, req), False
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    @staticmethod
    def _repeat(done: dict[str, Any], req: ResultRequest) -> dict[str, Any]:
        if done["conversation_id"] != req.conversation_id or done["author_id"] != req.author_id:
            raise SendRefused(409, "client_id_reused", "This client id belongs to another send.")
        return done

    def _message_for(
        self,
        req: ResultRequest,
        patient: Any,
        profile: str,
        lang: str,
        filename: str,
        checked: Any,
        token: str | None,
        expires_at: float | None,
    ) -> tuple[str, str | None, dict[str, Any], bool]:
        """(type, text staff see, details, is_template) of the message that goes out."""
        marker = {"result": {"profile": profile, "patient_id": int(patient.id)}}
        if profile == DIRECT:
            kind = "document" if checked.mime == "application/pdf" else "image"
            caption = CAPTIONS[lang].format(given=patient.given_name, filename=filename)
            info = {
                "kind": kind,
                "mime_type": checked.mime,
                "filename": filename if kind == "document" else None,
                "caption": caption,
            }
            return kind, caption, {**marker, "media": info}, False
        assert token is not None and expires_at is not None
        base = self.settings.public_url or req.base_url.rstrip("/")
        link = f"{base}/r/{token}"
        until = datetime.fromtimestamp(expires_at, UTC).astimezone()
        until_text = (
            until.strftime("%d.%m.%Y %H:%M") if lang == "de" else until.strftime("%Y-%m-%d %H:%M")
        )
        template = self.templates.get(self.settings.link_template, lang)
        if template is not None and template.status == "APPROVED":
            shown = template.graph_payload(header=[], body=[until_text, HIDDEN_LINK], buttons={})
            real = template.graph_payload(header=[], body=[until_text, link], buttons={})
            text = template.render([until_text, HIDDEN_LINK])
            details = {**marker, "template": shown, "_private": {"template": real}}
            return "template", text, details, True
        # No approved template: a free-form text, which WhatsApp takes in the window only.
        text = NOTICES[lang].format(until=until_text, link=HIDDEN_LINK)
        real_text = NOTICES[lang].format(until=until_text, link=link)
        return "text", text, {**marker, "_private": {"text": real_text}}, False

    def _insert(
        self,
        conn: Connection,
        req: ResultRequest,
        *,
        patient: Any,
        profile: str,
        checked: Any,
        identity: Any,
        filename: str,
        path: Path,
        sealed: bool,
        token: str | None,
        expires_at: float | None,
        message_type: str,
        text: str | None,
        details: dict[str, Any],
        is_template: bool,
        now: float,
    ) -> int:
        conv = conn.execute(
            select(conversations).where(conversations.c.id == req.conversation_id)
        ).one()
        if not is_template and window_remaining(conv.last_inbound_at, now) <= 0:
            raise WindowClosed()
        holder = active_claim(conv, now)
        if holder is not None and holder != req.author_id:
            raise Claimed(holder)
        created = conn.execute(
            results.insert().values(
                client_id=req.client_id,
                conversation_id=req.conversation_id,
                patient_id=int(patient.id),
                author_id=req.author_id,
                profile=profile,
                mime_type=checked.mime,
                filename=filename,
                size=checked.size,
                pages=checked.pages,
                sha256=hashlib.sha256(req.data).hexdigest(),
                path=str(path),
                encrypted=sealed,
                identity=identity.status.value,
                overridden=identity.status == IdentityStatus.MISMATCH,
                token_hash=hash_secret(token) if token else None,
                expires_at=expires_at,
                failed_attempts=0,
                codes_sent=0,
                created_at=now,
            )
        )
        pk = created.inserted_primary_key
        assert pk is not None
        result_id = int(pk[0])

        def attach(message_id: int) -> None:
            conn.execute(
                update(results).where(results.c.id == result_id).values(message_id=message_id)
            )
            if message_type in ("document", "image"):
                conn.execute(
                    media.insert().values(
                        message_id=message_id,
                        media_id=None,  # set once the outbox uploaded it
                        kind=message_type,
                        mime_type=checked.mime,
                        filename=filename,
                        size=checked.size,
                        state="ready",
                        attempts=0,
                        next_attempt_at=now,
                        path=str(path),
                        updated_at=now,
                    )
                )

        self._queue(
            conn,
            conversation_id=req.conversation_id,
            type=message_type,
            text=text,
            details=details,
            author_id=req.author_id,
            now=now,
            before_emit=attach,
        )
        return result_id

    def _queue(
        self,
        conn: Connection,
        *,
        conversation_id: int,
        type: str,
        text: str | None,
        details: dict[str, Any],
        author_id: int | None,
        now: float,
        before_emit: Callable[[int], None] | None = None,
    ) -> int:
        """A message and its outbox row, as Store.create_outgoing_text does, but also for
        the relay's own messages (the one-time code has no staff author)."""
        inserted = conn.execute(
            messages.insert().values(
                conversation_id=conversation_id,
                direction=Direction.OUTBOUND.value,
                type=type,
                text=text,
                status=MessageStatus.QUEUED.value,
                timestamp=now,
                client_id=str(uuid.uuid4()),
                author_id=author_id,
                details=json.dumps(details, separators=(",", ":")),
            )
        )
        pk = inserted.inserted_primary_key
        assert pk is not None
        message_id = int(pk[0])
        if before_emit is not None:
            before_emit(message_id)
        conn.execute(
            outbox.insert().values(
                message_id=message_id, state="pending", attempts=0, next_attempt_at=now
            )
        )
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(last_message_at=now, last_message_preview=preview_of(type, text))
        )
        self.store._emit_message(conn, message_id)
        self.store._emit_conversation(conn, conversation_id)
        return message_id

    # -- reading (staff) ---------------------------------------------------------------
    def row(self, result_id: int) -> Any:
        with self.store.db.read() as conn:
            return conn.execute(select(results).where(results.c.id == result_id)).one_or_none()

    def read_file(self, row: Any) -> bytes:
        return self.vault.read(Path(row.path))  # a plain file reads as it is

    def audit_access(
        self,
        action: str,
        row: Any,
        *,
        user_id: int | None,
        address: str | None,
        by: str,
        first: str | None = None,
    ) -> None:
        """Audit a view or download; the patient's first view/download also moves the
        result's state in the thread (``first`` names the column)."""
        with self.store.db.write() as conn:
            audit.record(
                conn,
                action,
                user_id=user_id,
                username=None if user_id is not None else "patient",
                conversation_id=int(row.conversation_id),
                detail={"result_id": int(row.id), "patient_id": int(row.patient_id), "by": by},
                address=address,
            )
            if first is not None:
                changed = conn.execute(
                    update(results)
                    .where(results.c.id == row.id, getattr(results.c, first).is_(None))
                    .values({first: time.time()})
                ).rowcount
                if changed:
                    self._emit(conn, row)

    def _emit(self, conn: Connection, row: Any) -> None:
        """The result's new state to the feed: on its message (the thread shows it there),
        which also appends the ``result`` event."""
        if row.message_id is not None:
            self.store._emit_message(conn, int(row.message_id))
        else:
            emit_result(self.store._append, conn, int(row.id))

    # -- the phi-safe page -------------------------------------------------------------
    def by_token(self, token: str) -> Any:
        if not token or len(token) > 128:
            return None
        with self.store.db.read() as conn:
            return conn.execute(
                select(results).where(results.c.token_hash == hash_secret(token))
            ).one_or_none()

    def link_state(self, row: Any, now: float | None = None) -> LinkState:
        now = time.time() if now is None else now
        if row is None:
            return LinkState.UNKNOWN
        if row.locked_at is not None:
            return LinkState.LOCKED
        if row.expires_at is None or now >= row.expires_at:
            return LinkState.EXPIRED
        return LinkState.OPEN

    def _fail(self, conn: Connection, row: Any, kind: str, address: str | None) -> PageOutcome:
        """Count a wrong answer; the last allowed one locks the link (and is audited)."""
        attempts = int(row.failed_attempts) + 1
        values: dict[str, Any] = {"failed_attempts": attempts}
        locked = attempts >= self.settings.max_attempts
        if locked:
            values.update(locked_at=time.time(), code_hash=None, session_hash=None)
        conn.execute(update(results).where(results.c.id == row.id).values(**values))
        audit.record(
            conn,
            Action.RESULT_PAGE_LOCKED if locked else Action.RESULT_PAGE_FAILED,
            username="patient",
            conversation_id=int(row.conversation_id),
            detail={"result_id": int(row.id), "what": kind, "attempts": attempts},
            address=address,
        )
        if locked:
            self._emit(conn, row)
            return PageOutcome(LinkState.LOCKED)
        return PageOutcome(
            LinkState.OPEN, error=kind, remaining=self.settings.max_attempts - attempts
        )

    def request_code(self, token: str, dob_text: str, *, address: str | None) -> PageOutcome:
        """Check the date of birth; if right, send a one-time code through the outbox."""
        now = time.time()
        with self.store.db.write() as conn:
            row: Any = conn.execute(
                select(results).where(results.c.token_hash == hash_secret(token))
            ).one_or_none()
            state = self.link_state(row, now)
            if state != LinkState.OPEN:
                return PageOutcome(state)
            patient = conn.execute(select(patients).where(patients.c.id == row.patient_id)).one()
            dob = parse_dob(dob_text)
            if dob is None or patient.birth_date is None or dob.isoformat() != patient.birth_date:
                return self._fail(conn, row, "dob", address)
            if row.codes_sent >= self.settings.max_codes:
                return PageOutcome(LinkState.OPEN, error="too_many_codes")
            code = f"{secrets.randbelow(10**6):06d}"
            lang = _language(patient.language)
            conv = conn.execute(
                select(conversations).where(conversations.c.id == row.conversation_id)
            ).one()
            message = self._code_message(code, lang)
            if message is None and window_remaining(conv.last_inbound_at, now) <= 0:
                return PageOutcome(LinkState.OPEN, error="cannot_send")
            conn.execute(
                update(results)
                .where(results.c.id == row.id)
                .values(
                    code_hash=hash_secret(f"{row.id}:{code}"),
                    code_expires_at=now + self.settings.code_minutes * 60,
                    codes_sent=row.codes_sent + 1,
                )
            )
            if message is None:
                shown = CODES[lang].format(code=HIDDEN_CODE)
                msg_type, text = "text", shown
                details: dict[str, Any] = {
                    "result_code": True,
                    "_private": {"text": CODES[lang].format(code=code)},
                }
            else:
                msg_type, text, details = message
            self._queue(
                conn,
                conversation_id=int(row.conversation_id),
                type=msg_type,
                text=text,
                details=details,
                author_id=None,
                now=now,
            )
            return PageOutcome(LinkState.OPEN, code_sent=True)

    def _code_message(self, code: str, lang: str) -> tuple[str, str, dict[str, Any]] | None:
        """The authentication template with the code (Meta's copy-code form), if approved."""
        template = self.templates.get(self.settings.code_template, lang)
        if template is None or template.status != "APPROVED":
            return None

        def payload(value: str) -> dict[str, Any]:
            return {
                "name": template.name,
                "language": {"code": template.language},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": value}]},
                    {
                        "type": "button",
                        "sub_type": "url",
                        "index": "0",
                        "parameters": [{"type": "text", "text": value}],
                    },
                ],
            }

        details = {
            "result_code": True,
            "template": payload(HIDDEN_CODE),
            "_private": {"template": payload(code)},
        }
        return "template", template.render([HIDDEN_CODE]), details

    def verify_code(self, token: str, code: str, *, address: str | None) -> PageOutcome:
        """Check the one-time code; if right, a session for this browser (cookie)."""
        now = time.time()
        with self.store.db.write() as conn:
            row: Any = conn.execute(
                select(results).where(results.c.token_hash == hash_secret(token))
            ).one_or_none()
            state = self.link_state(row, now)
            if state != LinkState.OPEN:
                return PageOutcome(state)
            if row.code_hash is None:
                return PageOutcome(LinkState.OPEN, error="no_code")
            if row.code_expires_at is None or now >= row.code_expires_at:
                conn.execute(update(results).where(results.c.id == row.id).values(code_hash=None))
                return PageOutcome(LinkState.OPEN, error="code_expired")
            given = re.sub(r"\D", "", code)[:12]
            if not hmac.compare_digest(hash_secret(f"{row.id}:{given}"), row.code_hash):
                return self._fail(conn, row, "code", address)
            session = secrets.token_urlsafe(32)
            conn.execute(
                update(results)
                .where(results.c.id == row.id)
                .values(
                    code_hash=None,  # one time only
                    session_hash=hash_secret(session),
                    session_expires_at=now + self.settings.session_minutes * 60,
                )
            )
            return PageOutcome(LinkState.OPEN, session=session)

    def session_row(self, token: str, session: str | None) -> Any:
        """The result, if the link is open and this browser proved itself (else None)."""
        row = self.by_token(token)
        if row is None or self.link_state(row) != LinkState.OPEN or not session:
            return None
        if row.session_hash is None or row.session_expires_at is None:
            return None
        if time.time() >= row.session_expires_at:
            return None
        if not hmac.compare_digest(hash_secret(session), row.session_hash):
            return None
        return row


class LinkState(StrEnum):
    OPEN = "open"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class PageOutcome:
    state: LinkState
    error: str | None = None  # dob | code | code_expired | no_code | too_many_codes | cannot_send
    remaining: int | None = None
    code_sent: bool = False
    session: str | None = None
