"""Shared fixtures: real relay servers on loopback, SQLite and PostgreSQL databases."""

from __future__ import annotations

import gc
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from inbox_app.relay.app import create_app
from inbox_app.relay.settings import RelaySettings
from tests.live_server import LiveServer
from tests.pg_server import PostgresServer

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"
PHONE_NUMBER_ID = "106540352242922"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Every relay in the tests (in process or spawned as `inbox-relay serve`) runs on SQLCipher
# under this synthetic key, as a clinic's would; refusal tests remove it from their env.
TEST_DB_KEY = "5eed" * 16
os.environ["INBOX_DB_KEY"] = TEST_DB_KEY
for _name in ("INBOX_DB_KEY_FILE", "INBOX_DEMO"):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session", autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """As the app does (ui.gc_guard): never let the collector free Qt objects in a worker
    thread (relay and engine tests run many), which leaves dangling Qt timers behind."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _keep_root_logging() -> Iterator[None]:
    """A CLI run in-process (``inbox-relay`` configures logging) must not leave a handler on
    a captured stream that closes after the test, nor a changed level, for later tests."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """A real PostgreSQL server: INBOX_TEST_POSTGRES_URL, or a private one started here."""
    given = os.environ.get("INBOX_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    if not PostgresServer.available():
        pytest.fail("PostgreSQL server binaries not found (apt-get install postgresql)")
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


_db_counter = itertools.count(1)

# Outside CI a machine without PostgreSQL still runs the SQLite half; CI must have both.
PG_MISSING = not (
    os.environ.get("INBOX_TEST_POSTGRES_URL") or os.environ.get("CI") or PostgresServer.available()
)


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"inbox_test_{os.getpid()}_{next(_db_counter)}"
    admin = create_engine(pg_base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_base_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(PG_MISSING, reason="no PostgreSQL server binaries here"),
            ],
        ),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each relay test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relay.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def relay_settings(db_url: str) -> RelaySettings:
    return RelaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        graph_url="http://127.0.0.1:9",  # nothing listens: tests that send start a simulator
        database_url=db_url,
    )


@pytest.fixture
def relay_server(relay_settings: RelaySettings) -> Iterator[LiveServer]:
    """A real relay on a loopback port (uvicorn), with its outbox worker."""
    with LiveServer(create_app(relay_settings)) as server:
        yield server


@pytest.fixture
def qloop(qapp: Any) -> Iterator[Any]:
    """A qasync loop for one test (STYLE.md: scenarios run with ``run_until_complete``)."""
    import asyncio

    import qasync

    # Closing the last window must not stop the loop a test is still running on.
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()
