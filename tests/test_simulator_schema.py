"""schemathesis against the simulator's own ``/openapi.json``: generated requests for every
route (Graph imitations and ``/_sim`` controls) over real HTTP, with the access token; no
answer may be a 5xx (Meta answers bad input with a 4xx error object), and answers whose
status the description declares must match their declared schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from inbox_app.whatsapp.simulator import create_app
from tests.live_server import LiveServer
from tests.test_simulator import TOKEN, settings_for

EXAMPLES = 8  # per operation and generation mode


@pytest.fixture(scope="module")
def simulator() -> Iterator[LiveServer]:
    # No webhook URL: control routes that would post answer 409 instead of waiting on one.
    with LiveServer(create_app(settings_for(None))) as server:
        yield server


def test_no_server_errors_and_declared_answers_conform(simulator: LiveServer) -> None:
    schema: Any = schemathesis.openapi.from_url(simulator.url + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        modes = [GenerationMode.POSITIVE]
        if len(operation.path_parameters) + len(operation.query) + len(operation.body):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    checks=[not_a_server_error, response_schema_conformance],
                    timeout=10,
                )

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # collect all, report together
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert operations >= 15
