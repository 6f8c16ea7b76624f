"""A faithful local stand-in for Meta's WhatsApp Cloud API (Graph send API + webhooks).

``create_app(settings)`` gives the ASGI app; ``run(settings, host, port)`` serves it.
Routes under ``/_sim`` are the simulator's own control API, not Meta's.
"""

from __future__ import annotations

from inbox_app.whatsapp.simulator.app import create_app, run
from inbox_app.whatsapp.simulator.settings import SimulatorSettings

__all__ = ["SimulatorSettings", "create_app", "run"]
