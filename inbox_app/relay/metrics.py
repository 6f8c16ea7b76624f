"""Prometheus metrics for the relay: counts and gauges only, never patient data.

Labels are closed sets chosen here (a rejection reason, a send outcome), never a phone
number, name, text or id from a request. One registry per relay, so several relays in one
process (tests) do not share counters.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from .db import Database, events, media, outbox

WEBHOOK_REASONS = (
    "other",
    "missing_signature",
    "invalid_signature",
    "too_large",
    "not_an_envelope",
    "unavailable",
)
SEND_OUTCOMES = ("sent", "retry", "failed", "needs_review", "other")


class _DatabaseGauges(Collector):
    """Depths read from the database at scrape time (indexed counts, cheap)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterable[GaugeMetricFamily]:
        with self.db.read() as conn:
            depth = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.state != "done")
            ).scalar_one()
            pending_media = conn.execute(
                select(func.count()).select_from(media).where(media.c.state == "pending")
            ).scalar_one()
            head = conn.execute(select(func.max(events.c.seq))).scalar()
        yield GaugeMetricFamily(
            "inbox_outbox_depth", "Outgoing messages not yet handed to WhatsApp.", value=depth
        )
        yield GaugeMetricFamily(
            "inbox_media_pending", "Patient attachments waiting to be downloaded.", pending_media
        )
        yield GaugeMetricFamily("inbox_feed_head_seq", "Newest change-feed sequence.", head or 0)


class RelayMetrics:
    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.webhooks_received = Counter(
            "inbox_webhooks_received", "Webhook deliveries accepted and stored.", registry=r
        )
        self.webhooks_rejected = Counter(
            "inbox_webhooks_rejected", "Webhook deliveries refused.", ["reason"], registry=r
        )
        for reason in WEBHOOK_REASONS:
            self.webhooks_rejected.labels(reason)
        self.sends = Counter("inbox_sends", "Send attempts by outcome.", ["outcome"], registry=r)
        for outcome in SEND_OUTCOMES:
            self.sends.labels(outcome)
        self.sse_clients = Gauge("inbox_sse_clients", "Open live event streams.", registry=r)
        self.sync_lag = Histogram(
            "inbox_sync_lag_seconds",
            "Age of the oldest event in each sync page a client fetched.",
            buckets=(0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400, float("inf")),
            registry=r,
        )
        r.register(_DatabaseGauges(db))
        self.db = db

    def webhook_rejected(self, reason: str) -> None:
        self.webhooks_rejected.labels(reason if reason in WEBHOOK_REASONS else "other").inc()

    def send_outcome(self, outcome: str) -> None:
        self.sends.labels(outcome if outcome in SEND_OUTCOMES else "other").inc()

    def observe_sync(self, first_seq: int) -> None:
        """Called in a worker thread with the first event a sync page delivered."""
        with self.db.read() as conn:
            created = conn.execute(
                select(events.c.created_at).where(events.c.seq == first_seq)
            ).scalar()
        if created is not None:
            self.sync_lag.observe(max(0.0, time.time() - float(created)))

    def render(self) -> bytes:
        return generate_latest(self.registry)


_WEBHOOK_STATUS = {
    401: "missing_signature",
    403: "invalid_signature",
    413: "too_large",
    400: "not_an_envelope",
    503: "unavailable",
}


class WebhookCounter:
    """ASGI layer around the webhook endpoint: counts each POST /webhook by its answer
    (the status says which check refused it), without touching the hot path's code."""

    def __init__(self, app: Any, *, metrics: RelayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/webhook" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status == 200:
                    self.metrics.webhooks_received.inc()
                else:
                    self.metrics.webhook_rejected(_WEBHOOK_STATUS.get(status, "other"))
            await send(message)

        await self.app(scope, receive, counting_send)


async def counted_stream(stream: AsyncIterator[Any], gauge: Gauge) -> AsyncIterator[Any]:
    """A live event stream that counts itself in ``gauge`` while it is open."""
    gauge.inc()
    try:
        async for chunk in stream:
            yield chunk
    finally:
        gauge.dec()
