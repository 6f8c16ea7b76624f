"""Cyclic garbage is collected on the GUI thread, not wherever Python happens to allocate."""

from __future__ import annotations

import gc
import weakref

from ui.gc_guard import GuiThreadCollector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_collector_owns_collection_and_frees_cycles(qapp) -> None:
    gc.enable()  # as in the app before start (the test session itself keeps it off)
    collector = GuiThreadCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        node = _Node()
        ref = weakref.ref(node)
        del node
        for _ in range(gc.get_threshold()[0] + 10):
            _Node()  # push generation 0 over its threshold
        assert ref() is not None  # nothing collects by itself any more
        collector.collect()
        assert ref() is None
    finally:
        collector.stop()
    assert gc.isenabled()
    gc.disable()
