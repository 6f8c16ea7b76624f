"""Engine → Qt: change summaries become one coalesced Qt signal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from inbox_app.client.engine import ChangeSummary, ConnectionState

# Long enough to swallow a sync burst, short enough that a new message feels instant.
COALESCE_MS = 40


class _Listenable(Protocol):
    def add_listener(self, listener: Callable[[ChangeSummary], None]) -> None: ...


def merge_summaries(a: ChangeSummary, b: ChangeSummary) -> ChangeSummary:
    """Union of two summaries' id sets; the later connection (and session) state wins.

    Field by field, so ids a newer engine adds (patients, appointments, escalations …)
    are never dropped when ticks merge.
    """
    values: dict[str, Any] = {}
    for f in fields(a):
        first, second = getattr(a, f.name), getattr(b, f.name, None)
        if isinstance(first, frozenset):
            values[f.name] = first | (second or frozenset())
        else:
            values[f.name] = second if second is not None else first
    return replace(a, **values)


class EngineBridge(QObject):
    """Listens on the engine and emits ``changed(ChangeSummary)`` at most once per timer tick."""

    changed = Signal(object)
    # Internal hop: an AutoConnection makes a listener call from another thread safe too.
    _received = Signal(object)

    def __init__(self, engine: _Listenable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: ChangeSummary | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._received.connect(self._accumulate)
        engine.add_listener(self._on_engine_change)

    def _on_engine_change(self, summary: ChangeSummary) -> None:
        self._received.emit(summary)

    def _accumulate(self, summary: ChangeSummary) -> None:
        self._pending = (
            summary if self._pending is None else merge_summaries(self._pending, summary)
        )
        if not self._timer.isActive():
            self._timer.start()

    def flush_now(self) -> None:
        """Emit what is pending at once (for shutdown and tests)."""
        self._timer.stop()
        self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self.changed.emit(pending)


__all__ = ["COALESCE_MS", "ChangeSummary", "ConnectionState", "EngineBridge", "merge_summaries"]
