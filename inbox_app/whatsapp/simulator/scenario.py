"""Demo scenario: virtual patients writing in on a schedule (``resources/demo/scenario.json``)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inbox_app.whatsapp.simulator.inbound import InboundText, post_until_delivered
from inbox_app.whatsapp.simulator.inbound_calls import deliver_in_order, user_call
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


class ScriptCall(BaseModel):
    """A WhatsApp call from the patient (signalling only): how long, how it ended."""

    model_config = ConfigDict(extra="forbid")

    duration: int = Field(default=0, ge=0, le=86_400)
    status: Literal["COMPLETED", "FAILED", "REJECTED", "NO_ANSWER"] = "NO_ANSWER"


class ScriptLine(BaseModel):
    """One message: ``after`` seconds since the scenario started, ``from`` a patient.

    Either ``text``, or ``tap``: the patient taps choice ``tap`` (0-based) of the newest
    message sent to them with buttons or a list (a reminder's Confirm / Reschedule /
    Cancel, the offered slots), so the reply carries the payload the relay really sent;
    or ``call``: the patient calls the practice on WhatsApp.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    after: float = Field(ge=0)
    from_: str = Field(alias="from")
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    tap: int | None = Field(default=None, ge=0, le=9)
    # Which kind of message to tap on ("button": a template's quick replies, "list_reply":
    # a list), so a tap on a list that has not arrived yet does not hit the reminder.
    tap_kind: Literal["button", "button_reply", "list_reply"] | None = None
    call: ScriptCall | None = None

    @model_validator(mode="after")
    def _text_or_tap(self) -> ScriptLine:
        if [self.text, self.tap, self.call].count(None) != 2:
            raise ValueError("a script line needs one of text, tap or call")
        return self


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
        if line.tap is not None:
            base = start if start is not None else booted
            await asyncio.sleep(max(0.0, base + line.after - loop.time()))
            # In the background: waiting for a late reminder must not hold up the script.
            runtime.tasks.spawn(
                _tap(runtime, line.from_, scenario.name_of(line.from_), line.tap, line.tap_kind),
                name=f"scenario tap {index + 1}",
            )
            continue
        if line.call is not None:
            base = start if start is not None else booted
            await asyncio.sleep(max(0.0, base + line.after - loop.time()))
            call_id, connect, terminate = user_call(
                runtime,
                wa_id=line.from_,
                name=scenario.name_of(line.from_),
                duration=line.call.duration,
                status=line.call.status,
            )
            runtime.tasks.spawn(
                deliver_in_order(runtime, call_id, [connect, terminate]),
                name=f"scenario call {index + 1}",
            )
            continue
        assert line.text is not None
        message = InboundText(wa_id=line.from_, name=scenario.name_of(line.from_), text=line.text)
        if start is None:
            await asyncio.sleep(max(0.0, booted + line.after - loop.time()))
            await post_until_delivered(runtime, message, delays=_WAIT_FOR_RELAY)
            start = loop.time() - line.after
        else:
            await asyncio.sleep(max(0.0, start + line.after - loop.time()))
            await post_until_delivered(runtime, message)
        logger.info("scenario line %d of %d posted", index + 1, len(lines))


async def _tap(runtime: Runtime, wa_id: str, name: str, index: int, kind: str | None) -> None:
    """Tap once the message with the choices has arrived (a reminder may still be on its
    way); give up quietly after a minute, as a patient who never saw it would."""
    from inbox_app.whatsapp.simulator.taps import tap_last

    for _ in range(_TAP_WAIT_ROUNDS):
        reply = tap_last(runtime, wa_id, name, index, kind=kind)
        if reply is not None:
            await post_until_delivered(runtime, reply)
            logger.info("scenario tap posted")
            return
        await asyncio.sleep(0.5)
    logger.info("scenario tap skipped: nothing to tap")


_TAP_WAIT_ROUNDS = 120
