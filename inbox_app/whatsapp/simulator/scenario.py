"""Demo scenario: virtual patients writing in on a schedule (``resources/demo/scenario.json``)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inbox_app.whatsapp.simulator.inbound import InboundText, post_until_delivered
from inbox_app.whatsapp.simulator.runtime import Runtime

logger = logging.getLogger("inbox.whatsapp.simulator")

# The relay may start after the simulator: poll gently for up to a minute before
# the scenario clock starts, rather than backing off as for an outage.
_WAIT_FOR_RELAY: tuple[float, ...] = (0.25,) * 240


class ScenarioPatient(BaseModel):
    """A virtual patient (synthetic data only)."""

    model_config = ConfigDict(extra="forbid")

    wa_id: str = Field(pattern=r"^\d{8,15}$")
    name: str
    language: str = "de"


class ScriptLine(BaseModel):
    """One message: ``after`` seconds since the scenario started, ``from`` a patient."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    after: float = Field(ge=0)
    from_: str = Field(alias="from")
    text: str = Field(min_length=1, max_length=4096)


class Scenario(BaseModel):
    """A whole scenario file."""

    model_config = ConfigDict(extra="forbid")

    patients: list[ScenarioPatient]
    script: list[ScriptLine]

    @model_validator(mode="after")
    def _senders_are_patients(self) -> Scenario:
        known = {p.wa_id for p in self.patients}
        unknown = [i for i, line in enumerate(self.script) if line.from_ not in known]
        if unknown:
            raise ValueError(f"script lines {unknown} come from no listed patient")
        return self

    def name_of(self, wa_id: str) -> str:
        """The profile name a patient's messages carry."""
        return next(p.name for p in self.patients if p.wa_id == wa_id)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raises ``ValueError`` on a malformed one."""
    return Scenario.model_validate_json(path.read_bytes())


async def play_scenario(runtime: Runtime, scenario: Scenario) -> None:
    """Post the script's messages at their offsets, in order.

    The clock starts when the first message was accepted, so a relay that comes up a
    little later still sees the intended spacing.
    """
    if not runtime.settings.webhook_url:
        logger.warning("scenario not played: no webhook_url")
        return
    loop = asyncio.get_running_loop()
    booted = loop.time()
    start: float | None = None
    lines = sorted(scenario.script, key=lambda line: line.after)
    for index, line in enumerate(lines):
        message = InboundText(wa_id=line.from_, name=scenario.name_of(line.from_), text=line.text)
        if start is None:
            await asyncio.sleep(max(0.0, booted + line.after - loop.time()))
            await post_until_delivered(runtime, message, delays=_WAIT_FOR_RELAY)
            start = loop.time() - line.after
        else:
            await asyncio.sleep(max(0.0, start + line.after - loop.time()))
            await post_until_delivered(runtime, message)
        logger.info("scenario line %d of %d posted", index + 1, len(lines))
