"""The ASGI app: Graph routes, control routes, and the lifespan owning client and tasks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from inbox_app.whatsapp.simulator import (
    calls_api,
    control,
    media_api,
    send_api,
    templates_api,
)
from inbox_app.whatsapp.simulator.delivery import WebhookSender
from inbox_app.whatsapp.simulator.errors import GraphError, graph_error_handler
from inbox_app.whatsapp.simulator.runtime import Runtime
from inbox_app.whatsapp.simulator.scenario import load_scenario, play_scenario
from inbox_app.whatsapp.simulator.settings import SimulatorSettings

logger = logging.getLogger("inbox.whatsapp.simulator")

# Meta publishes no webhook timeout; third parties quote 5-10 s.
_WEBHOOK_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


def create_app(settings: SimulatorSettings) -> FastAPI:
    """A local stand-in for the WhatsApp Cloud API, posting signed webhooks to the relay."""
    runtime = Runtime(settings=settings)
    # Load now so a broken scenario file fails at start-up, not silently in a task.
    scenario = load_scenario(settings.scenario) if settings.scenario else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=_WEBHOOK_TIMEOUT, follow_redirects=False) as client:
            runtime.attach(
                WebhookSender(
                    settings=settings, client=client, store=runtime.store, tasks=runtime.tasks
                )
            )
            if scenario is not None:
                runtime.tasks.spawn(play_scenario(runtime, scenario), name="scenario")
            logger.info("simulator up for phone number id %s", settings.phone_number_id)
            try:
                yield
            finally:
                await runtime.tasks.close()
                runtime.attach(None)

    app = FastAPI(
        title="WhatsApp Cloud API simulator",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.add_exception_handler(GraphError, graph_error_handler)
    app.include_router(control.build_router(runtime))
    app.include_router(send_api.build_router(runtime))
    app.include_router(templates_api.build_router(runtime))
    app.include_router(calls_api.build_router(runtime))
    # Last: its GET /{version}/{media_id} would otherwise shadow other two-segment paths.
    app.include_router(media_api.build_router(runtime, runtime.media))
    return app


def run(settings: SimulatorSettings, host: str, port: int) -> None:
    """Serve the simulator with uvicorn until interrupted (what the CLI calls)."""
    # No access log: Graph clients may pass ?access_token= in the query string.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        lifespan="on",
        log_level="info",
        access_log=False,
    )
