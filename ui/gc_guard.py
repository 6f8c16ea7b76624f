"""Garbage collection on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate. If it frees a Qt
object there (our engine has a database worker thread; httpx and anyio have others), the
object's timers are unregistered from the wrong thread and Qt later fires a timer into
freed memory — a segfault seen here in tests. qutebrowser solves it the same way: turn the
automatic collector off and collect from a timer on the GUI thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """Runs the generations whose thresholds are exceeded, every ``interval_ms``, here."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop, and give automatic collection back as it was before ``start``."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def collect(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for gen in range(3):
            if counts[gen] > thresholds[gen]:
                generation = gen
        if generation >= 0:
            gc.collect(generation)
