"""Waking SSE streams of every relay process on one PostgreSQL (LISTEN/NOTIFY).

Writers call ``notify_feed`` inside the transaction that appends events: PostgreSQL
delivers the notification only on commit, and folds repeats within one transaction
into one. Each relay runs a ``PgListener`` thread that turns notifications into a
local ``FeedNotifier.notify()``; presence (ephemeral, never stored) travels the same
way on its own channel.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

log = logging.getLogger("inbox.relay.pgnotify")

FEED_CHANNEL = "inbox_feed"
PRESENCE_CHANNEL = "inbox_presence"


def notify_feed(conn: Connection) -> None:
    """Announce new events to every relay once this transaction commits."""
    tx = conn.get_transaction()
    if conn.info.get("inbox_feed_notified") is tx:
        return  # once per transaction is enough
    conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": FEED_CHANNEL})
    conn.info["inbox_feed_notified"] = tx


def notify_presence(conn: Connection, payload: dict[str, Any]) -> None:
    conn.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": PRESENCE_CHANNEL, "payload": json.dumps(payload, separators=(",", ":"))},
    )


def libpq_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    """A daemon thread LISTENing on the feed and presence channels; reconnects on errors."""

    def __init__(
        self,
        url: URL,
        *,
        on_feed: Callable[[], None],
        on_presence: Callable[[dict[str, Any]], None],
    ) -> None:
        self._dsn = libpq_dsn(url)
        self._on_feed = on_feed
        self._on_presence = on_presence
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listener", daemon=True)

    def start(self, *, wait: float = 5.0) -> None:
        self._thread.start()
        self._ready.wait(wait)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {FEED_CHANNEL}")
                    conn.execute(f"LISTEN {PRESENCE_CHANNEL}")
                    self._ready.set()
                    # Anything committed while we were not listening: look again.
                    self._on_feed()
                    delay = 0.2
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._dispatch(note.channel, note.payload)
            except psycopg.Error:
                log.warning("LISTEN connection lost; reconnecting in %.1f s", delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _dispatch(self, channel: str, payload: str) -> None:
        if channel == FEED_CHANNEL:
            self._on_feed()
        elif channel == PRESENCE_CHANNEL:
            try:
                self._on_presence(json.loads(payload))
            except (ValueError, TypeError):
                log.warning("malformed presence notification ignored")
