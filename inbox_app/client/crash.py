"""Crash reports written on this PC only, without patient data, shared only if the user says so.

A report holds the version, platform, exception type and the code locations of the
traceback (file, line, function). Never the exception's message or any variable: those
are where a patient's name or a message text would be.
"""

from __future__ import annotations

import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from inbox_app import __version__

from .keys import write_private_file

PREFIX = "crash-"
SUFFIX = ".txt"
KEEP = 20  # older reports are removed: a crash loop must not fill the disk


def format_report(exc_type: type[BaseException], tb: TracebackType | None, now: float) -> str:
    lines = [
        "Praxis Inbox crash report (no patient data: no messages, no variables)",
        f"version: {__version__}",
        f"time: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))}",
        f"python: {platform.python_version()} on {platform.system()} {platform.machine()}",
        f"exception: {exc_type.__module__}.{exc_type.__qualname__}",
        "traceback (most recent call last):",
    ]
    for frame in traceback.extract_tb(tb):
        lines.append(f"  {_short(frame.filename)}:{frame.lineno} in {frame.name}")
    return "\n".join(lines) + "\n"


def _short(filename: str) -> str:
    # Paths can contain the user's name; keep only the part inside the program.
    parts = Path(filename).parts
    for anchor in ("inbox_app", "ui", "site-packages"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) :])
    return Path(filename).name


def write_report(
    folder: Path,
    exc_type: type[BaseException],
    tb: TracebackType | None,
    now: float | None = None,
) -> Path:
    now = time.time() if now is None else now
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    path = folder / f"{PREFIX}{stamp}-{int(now * 1000) % 1000:03d}{SUFFIX}"
    write_private_file(path, format_report(exc_type, tb, now).encode())
    for old in pending_reports(folder)[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


def pending_reports(folder: Path) -> list[Path]:
    """Reports not yet reviewed by the user, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))


def install(folder: Path) -> Callable[[], None]:
    """Write a report for any uncaught exception (main and worker threads); returns undo."""
    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(exc_type, KeyboardInterrupt):
            try:
                write_report(folder, exc_type, tb)
            except OSError:
                pass  # a full disk must not hide the original error
        previous_hook(exc_type, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            try:
                write_report(folder, args.exc_type, args.exc_traceback)
            except OSError:
                pass
        previous_thread_hook(args)

    sys.excepthook = hook
    threading.excepthook = thread_hook

    def undo() -> None:
        sys.excepthook = previous_hook
        threading.excepthook = previous_thread_hook

    return undo
