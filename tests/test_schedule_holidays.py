"""Public holidays and the clinic's closure days in the schedule: no free slots on them
(domain and the staff booking endpoint over real HTTP), and a bad holiday or closure
setting stops the relay at start with a message naming the value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from inbox_app.domain.closed_days import ScheduleError
from inbox_app.domain.roles import Role
from inbox_app.domain.scheduling import ClinicSchedule
from inbox_app.relay.app import create_app
from inbox_app.relay.bots.config import BotConfigError, BotSettings
from inbox_app.relay.reminder_config import ReminderConfig, parse
from inbox_app.relay.settings import ConfigError, RelaySettings
from inbox_app.relay.store import Store
from tests.live_server import LiveServer
from tests.test_bot_intake import Chat, store  # noqa: F401
from tests.test_relay_api import add_user
from tests.test_relay_patients_api import OPEN, cid, login, new_patient

DEMO = json.loads((Path(__file__).parents[1] / "resources/demo/schedule.json").read_text())
BERLIN = ZoneInfo("Europe/Berlin")
CORPUS_CHRISTI = date(2026, 6, 4)  # a Thursday: a holiday in Bavaria, not in Berlin


def schedule(**keys: Any) -> ClinicSchedule:
    """The demo clinic's hours with other holiday/closure keys (None: key left out)."""
    data = {k: v for k, v in DEMO.items() if k not in ("holidays", "closed")}
    data.update({k: v for k, v in keys.items() if v is not None})
    return ClinicSchedule.from_json(data)


def slot_days(found: ClinicSchedule, first: date, days: int) -> set[date]:
    slots = found.free_slots(
        type_code="acute", first_day=first, days=days, busy={}, now=0.0, limit=10_000
    )
    return {datetime.fromtimestamp(s.start, BERLIN).date() for s in slots}


def test_corpus_christi_closes_a_bavarian_practice_but_not_a_berlin_one() -> None:
    bavaria = schedule(holidays={"country": "DE", "subdivision": "BY"})
    berlin = schedule(holidays={"country": "DE", "subdivision": "BE"})
    assert bavaria.is_closed_day(CORPUS_CHRISTI) and not berlin.is_closed_day(CORPUS_CHRISTI)
    assert bavaria.closed_reason(CORPUS_CHRISTI) == "Fronleichnam"
    assert bavaria.closed_reason(CORPUS_CHRISTI, "en") == "Corpus Christi"
    assert berlin.closed_reason(CORPUS_CHRISTI) is None
    # Wednesday to Friday: Bavaria offers Wednesday and Friday only, Berlin all three.
    assert slot_days(bavaria, date(2026, 6, 3), 3) == {date(2026, 6, 3), date(2026, 6, 5)}
    assert slot_days(berlin, date(2026, 6, 3), 3) == {
        date(2026, 6, 3),
        CORPUS_CHRISTI,
        date(2026, 6, 5),
    }


def test_christmas_day_has_no_slots_nationwide_and_old_configs_keep_their_hours() -> None:
    germany = schedule(holidays={"country": "de"})  # any case; no state: nationwide only
    assert germany.closed_days.country == "DE" and germany.closed_reason(date(2026, 12, 25))
    assert slot_days(germany, date(2026, 12, 24), 5) == {date(2026, 12, 24), date(2026, 12, 28)}
    old = schedule()  # a schedule file from before holidays existed
    assert not old.is_closed_day(date(2026, 12, 25))
    assert date(2026, 12, 25) in slot_days(old, date(2026, 12, 24), 5)


def test_closure_days_and_inclusive_ranges_have_no_slots() -> None:
    clinic = schedule(
        holidays={"country": "DE", "subdivision": "BE"},
        closed=["2026-12-24", {"from": "2026-08-03", "to": "2026-08-14", "reason": "Praxisurlaub"}],
    )
    # Fri 31 July open; the vacation Mon 3 to Fri 14 August closed; Mon 17 open again.
    offered = slot_days(clinic, date(2026, 7, 31), 18)
    assert min(offered) == date(2026, 7, 31)
    assert sorted(d for d in offered if d > date(2026, 7, 31))[0] == date(2026, 8, 17)
    assert clinic.closed_reason(date(2026, 8, 3)) == "Praxisurlaub"
    assert clinic.closed_reason(date(2026, 8, 14)) == "Praxisurlaub"
    assert clinic.closed_reason(date(2026, 12, 24)) == ""  # closed, no reason given
    assert clinic.closed_reason(date(2026, 12, 26)) == "Zweiter Weihnachtstag"
    assert slot_days(clinic, date(2026, 12, 21), 10) == {
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
    }


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"holidays": {"country": "XX"}}, "'XX'"),
        ({"holidays": {"country": "DE", "subdivision": "Bavaria"}}, "'Bavaria'"),
        ({"holidays": "DE"}, "holidays must be an object"),
        ({"holidays": {"country": "DE", "state": "BY"}}, "state"),
        ({"closed": ["2026-13-01"]}, "'2026-13-01'"),
        ({"closed": ["24.12.2026"]}, "'24.12.2026'"),
        ({"closed": [{"from": "2026-08-14", "to": "2026-08-03"}]}, "before"),
        ({"closed": [{"from": "2026-08-03"}]}, "both from and to"),
        ({"closed": [{"from": "2026-08-03", "to": "2026-8-14"}]}, "'2026-8-14'"),
        ({"closed": "2026-12-24"}, "closed must be a list"),
    ],
)
def test_a_bad_holiday_or_closure_setting_is_refused_naming_the_value(
    keys: dict[str, Any], named: str
) -> None:
    with pytest.raises(ScheduleError, match=re.escape(named)):
        schedule(**keys)


def test_bad_settings_stop_the_relay_at_start_with_the_value(tmp_path: Path) -> None:
    bad = tmp_path / "schedule.json"
    bad.write_text(json.dumps({**DEMO, "holidays": {"country": "DE", "subdivision": "XY"}}))
    with pytest.raises(BotConfigError, match=r"'XY' is not a subdivision of DE.*BY"):
        BotSettings.from_env({"INBOX_BOTS": "hours", "INBOX_SCHEDULE_FILE": str(bad)})
    bad.write_text(json.dumps({**DEMO, "closed": ["2026-02-30"]}))
    with pytest.raises(ConfigError, match=r"closed\[0\]: '2026-02-30' is not a date"):
        parse({"schedule": str(bad)})


@pytest.fixture
def bavarian_relay(relay_settings: RelaySettings) -> Iterator[str]:
    clinic = schedule(holidays={"country": "DE", "subdivision": "BY"}, closed=["2030-12-24"])
    settings = replace(relay_settings, reminders=ReminderConfig(schedule=clinic), run_outbox=False)
    with LiveServer(create_app(settings)) as server:
        add_user(settings, "anna", Role.RECEPTIONIST)
        try:
            yield server.url
        finally:
            while OPEN:  # login() keeps its clients there (unclosed sockets fail tests)
                OPEN.pop().close()


def test_the_staff_booking_dialog_gets_no_slot_on_holidays(bavarian_relay: str) -> None:
    anna: httpx.Client = login(bavarian_relay, "anna")
    # Tue 24 Dec 2030 (closure day), Wed/Thu 25/26 (holidays), Fri 27 open.
    offer = anna.get(
        "/v1/slots", params={"type": "acute", "from": "2030-12-24", "days": 4, "limit": 200}
    )
    assert offer.status_code == 200, offer.text
    days = {datetime.fromtimestamp(s["start"], BERLIN).date() for s in offer.json()["slots"]}
    assert days == {date(2030, 12, 27)}
    # Booking a slot on Christmas Day by hand is refused, with open slots suggested.
    patient = new_patient(anna)
    christmas = datetime(2030, 12, 25, 9, 0, tzinfo=BERLIN).timestamp()
    refused = anna.post(
        "/v1/appointments",
        json={
            "client_id": cid(),
            "patient_id": patient["id"],
            "type": "acute",
            "clinician": "Dr. Winter",
            "start": christmas,
        },
    )
    assert refused.status_code == 409 and refused.json()["error"] == "slot_taken"
    assert refused.json()["suggestions"]


def test_the_booking_bot_offers_slots_after_the_holidays(store: Store) -> None:  # noqa: F811
    clinic = schedule(holidays={"country": "DE", "subdivision": "BY"}, closed=["2026-12-24"])
    christmas_eve = datetime(2026, 12, 24, 9, 30, tzinfo=BERLIN).timestamp()
    chat = Chat(store, BotSettings(schedule=clinic, out_of_hours=False), now=christmas_eve)
    chat.write("Ich möchte einen Termin")
    chat.write("Erika Musterfrau")
    chat.write("24.12.1980")
    chat.tap("bot-ins:statutory", "Gesetzlich", kind="button_reply")
    chat.tap("bot-insurer:0", "AOK")
    chat.tap("bot-type:acute", "Akutsprechstunde")
    offered = [title for _, title in chat.last_choices()]
    # Thursday closed, Friday and Saturday holidays, Sunday shut: Monday is the first.
    assert offered and all(title.startswith("Mo 28.12.") for title in offered), offered
