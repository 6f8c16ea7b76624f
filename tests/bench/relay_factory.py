"""uvicorn --factory entry for benchmarks: the relay configured from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings


def app_factory() -> FastAPI:
    return create_app(RelaySettings.from_env())
