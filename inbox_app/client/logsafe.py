"""Defence in depth for invariant I5: log records are redacted before any handler sees them.

Our own loggers log ids only (STYLE.md). Third-party libraries are less careful: httpx logs
every request URL (query strings), exceptions may quote headers or bodies. ``install()``
wraps the process-wide log record factory, so every record of every logger — whatever
handler later formats it — has these replaced by ``[redacted]``:

- ``Authorization`` headers, bearer tokens, ``token``/``password`` JSON or form fields,
  long hex strings (raw keys, tokens);
- URL query strings (``?after=…`` and anything else after a ``?``);
- e-mail addresses and anything that looks like a phone number (7+ digits, ``+``, spaces);
- strings registered with ``register_sensitive`` (kept only as long as needed);
- every argument of SQLAlchemy's engine log (bound parameters, result rows), should anyone
  turn on ``echo`` or that logger's DEBUG level.

The record's message is formatted once, redacted, and stored without args; exception text
is formatted and redacted too. Ids (short numbers) survive, so logs stay useful.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)(authorization\s*[:=]\s*)(?:bearer\s+)?[^\s,;'\"}]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)([\"']?(?:token|password|passwd|secret|access_token)[\"']?\s*[:=]\s*)"
        r"(?:\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
    ),
    # Long hex strings: keys (x'…'), tokens, device ids.
    re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])"),
    # A query string: everything after '?' up to whitespace or a quote.
    re.compile(r"(?<=[A-Za-z0-9/_.-])\?[^\s'\"<>]+"),
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # Phone numbers: optional +, then 8 or more digits, maybe split by spaces, dots, dashes.
    re.compile(r"(?<![\w.])\+?\d(?:[\s\-./()]?\d){7,}(?![\w])"),
)

_lock = threading.Lock()
_sensitive: set[str] = set()
_sensitive_pattern: re.Pattern[str] | None = None
_previous_factory: Callable[..., logging.LogRecord] | None = None


def register_sensitive(*values: str) -> None:
    """Redact these exact strings (case-insensitive) from every later log record."""
    global _sensitive_pattern
    with _lock:
        _sensitive.update(v for v in values if v and len(v) >= 3)
        _sensitive_pattern = _compile()


def clear_sensitive() -> None:
    """Forget registered strings (on sign-out and lock)."""
    global _sensitive_pattern
    with _lock:
        _sensitive.clear()
        _sensitive_pattern = None


def _compile() -> re.Pattern[str] | None:
    if not _sensitive:
        return None
    ordered = sorted(_sensitive, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every secret-looking or registered part replaced by ``[redacted]``."""
    pattern = _sensitive_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex in _PATTERNS:
        if regex.groups:
            text = regex.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = regex.sub(REDACTED, text)
    return text


# Loggers whose arguments are data (SQLAlchemy echoes bound parameters and result rows):
# their templates (SQL text, fixed words) stay, every argument goes.
_DATA_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm")


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message once, redact it, and drop the args."""
    if record.args and record.name.startswith(_DATA_LOGGERS):
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        try:
            record.msg = str(record.msg) % tuple(REDACTED for _ in args)
        except (TypeError, ValueError, KeyError):
            record.msg = f"{record.msg} {REDACTED}"
        record.args = None
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the template, drop the args
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for handlers configured elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install() -> None:
    """Redact every log record in this process from now on (idempotent)."""
    global _previous_factory
    with _lock:
        if _previous_factory is not None:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        _previous_factory = previous
        logging.setLogRecordFactory(factory)


def uninstall() -> None:
    """Restore the previous record factory (tests)."""
    global _previous_factory
    with _lock:
        if _previous_factory is not None:
            logging.setLogRecordFactory(_previous_factory)
            _previous_factory = None


def installed() -> bool:
    return _previous_factory is not None
