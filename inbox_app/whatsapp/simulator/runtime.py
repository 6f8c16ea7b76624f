"""What the routes share: settings, records, background tasks and (once started) the sender."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbox_app.whatsapp.simulator.delivery import TaskTracker, WebhookSender
from inbox_app.whatsapp.simulator.media_store import MediaLibrary
from inbox_app.whatsapp.simulator.settings import SimulatorSettings
from inbox_app.whatsapp.simulator.store import SimulatorStore


@dataclass
class Runtime:
    """One simulator's state; the sender exists only while the app's lifespan runs."""

    settings: SimulatorSettings
    store: SimulatorStore = field(default_factory=SimulatorStore)
    tasks: TaskTracker = field(default_factory=TaskTracker)
    media: MediaLibrary = field(default_factory=MediaLibrary)
    _sender: WebhookSender | None = None

    @property
    def sender(self) -> WebhookSender:
        """The webhook sender; fails loudly if the ASGI lifespan was not run."""
        if self._sender is None:
            raise RuntimeError("simulator not started: run the app with its lifespan enabled")
        return self._sender

    def attach(self, sender: WebhookSender | None) -> None:
        """Set (or clear, at shutdown) the sender."""
        self._sender = sender
