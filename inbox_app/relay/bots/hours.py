"""Opening hours and the out-of-hours reply (automation order 50).

While the practice is closed, the first message of a conversation gets one reply that
names the emergency number and when the practice opens again (public holidays and the
clinic's closure days from the schedule count as closed); at most once per
conversation per closed period (the send is keyed by the moment the period began). The
message is not consumed: the intake bot still greets the patient afterwards.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from inbox_app.domain.conversations import window_remaining
from inbox_app.domain.scheduling import ClinicSchedule

from ..automation import Automation, Context, Inbound
from ..db import conversations, patients
from . import state as bot_state
from .config import BotSettings
from .texts import WEEKDAYS_LONG, say
from .understand import guess_language

ORDER = 50
PURPOSE = "out_of_hours"
# How far the reply looks for the reopening: a summer vacation next to public holidays.
# Further away (or no hours at all) the reply says "during our opening hours" instead.
_LOOK_DAYS = 42
_DATED_FROM = 6 * 86400  # reopening further away than this: name the date, not just the day
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _day_spans(schedule: ClinicSchedule, day: date, zone: ZoneInfo) -> list[tuple[float, float]]:
    """One local day's opening spans as timestamps (none on a holiday or closure day)."""
    return sorted(
        (
            datetime.combine(day, start, zone).timestamp(),
            datetime.combine(day, end, zone).timestamp(),
        )
        for start, end in schedule.opening_on(day)
    )


def closed_period(schedule: ClinicSchedule, moment: float) -> tuple[float, float | None] | None:
    """(when it closed, when it opens again) if the practice is closed at ``moment``;
    public holidays and closure days count as closed. When it opens again is None beyond
    the look-ahead; when it closed is 0 if that lies further back than the look-back."""
    zone = ZoneInfo(schedule.timezone)
    today = datetime.fromtimestamp(moment, zone).date()
    if any(start <= moment < end for start, end in _day_spans(schedule, today, zone)):
        return None
    # Day by day outwards, so a long closure costs no more than it spans.
    opens_at = next(
        (
            start
            for offset in range(_LOOK_DAYS + 1)
            for start, _ in _day_spans(schedule, today + timedelta(days=offset), zone)
            if start > moment
        ),
        None,
    )
    closed_at = next(
        (
            end
            for offset in range(_LOOK_DAYS + 1)
            for _, end in reversed(_day_spans(schedule, today - timedelta(days=offset), zone))
            if end <= moment
        ),
        0.0,
    )
    return closed_at, opens_at


class OutOfHours:
    def __init__(self, settings: BotSettings) -> None:
        assert settings.schedule is not None
        self.settings = settings
        self.schedule = settings.schedule

    def __call__(self, ctx: Context, msg: Inbound) -> bool:
        period = closed_period(self.schedule, ctx.now)
        if period is None:
            return False
        closed_at, opens_at = period
        conv = ctx.conn.execute(
            select(
                conversations.c.wa_id,
                conversations.c.claimed_by,
                conversations.c.claim_expires_at,
                conversations.c.last_inbound_at,
            ).where(conversations.c.id == msg.conversation_id)
        ).one()
        if window_remaining(conv.last_inbound_at, ctx.now) < 600:
            return False  # a late redelivery of an old message: free text may not go out
        if conv.claimed_by is not None and (conv.claim_expires_at or 0) > ctx.now:
            return False  # someone is answering right now
        language = self._language(ctx, msg, conv.wa_id)
        ctx.send(
            msg.conversation_id,
            purpose=PURPOSE,
            text=self.text(language, opens_at, now=ctx.now),
            key=f"ooh:{msg.conversation_id}:{int(closed_at)}",
        )
        return False

    def _language(self, ctx: Context, msg: Inbound, wa_id: str) -> str:
        known = bot_state.load(ctx.conn, msg.conversation_id)
        if known is not None:
            return known.language
        record = ctx.conn.execute(
            select(patients.c.language).where(
                patients.c.wa_id == wa_id, patients.c.language.is_not(None)
            )
        ).scalar()
        return guess_language(msg.text, wa_id, record)

    def text(self, language: str, opens_at: float | None, *, now: float | None = None) -> str:
        if opens_at is None:
            next_open = say(language, "next_open_unknown")
        else:
            local = datetime.fromtimestamp(opens_at, ZoneInfo(self.schedule.timezone))
            day = WEEKDAYS_LONG[language][local.weekday()]
            if now is not None and opens_at - now >= _DATED_FROM:
                # A weekday name alone would mean the coming one: name the date too.
                if language == "de":
                    day += f", {local:%d.%m.}"
                else:
                    day += f" {local.day} {_MONTHS_EN[local.month - 1]}"
            when = f"{day}, {local:%H:%M}" + (" Uhr" if language == "de" else "")
            next_open = say(language, "next_open", when=when)
        custom = (
            self.settings.out_of_hours_de if language == "de" else self.settings.out_of_hours_en
        )
        template = custom or say(
            language, "out_of_hours", emergency="{emergency}", next_open="{next_open}", why="{why}"
        )
        # Closed all day for a holiday or the clinic's closure: say which ("Heiligabend").
        why = ""
        if now is not None:
            today = datetime.fromtimestamp(now, ZoneInfo(self.schedule.timezone)).date()
            reason = self.schedule.closed_reason(today, language)
            if reason:
                why = f" ({reason})"
        # replace, not format: an operator's text may contain other braces.
        return (
            template.replace("{emergency}", self.settings.emergency_number)
            .replace("{next_open}", next_open)
            .replace("{why}", why)
        )


def register(automation: Automation, settings: BotSettings) -> None:
    automation.on_inbound(PURPOSE, OutOfHours(settings), order=ORDER)
