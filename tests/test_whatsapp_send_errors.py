"""Graph error codes become staff sentences in German and English, and a retry decision."""

from __future__ import annotations

import pytest

from inbox_app.domain.send_errors import Retry, is_permanent, send_error, staff_reason

PERMANENT = [131026, 131047, 131051, 131053, 132000, 132001, 132012, 100, 190, 368]


@pytest.mark.parametrize("code", PERMANENT)
def test_permanent_codes_have_reasons_in_both_languages(code: int) -> None:
    meaning = send_error(code)
    assert is_permanent(code) and meaning.retry is Retry.NEVER
    assert meaning.en and meaning.de and meaning.en != meaning.de
    assert staff_reason(code, "de-DE") == meaning.de and staff_reason(code) == meaning.en


def test_rate_limits_throttle_and_hiccups_back_off() -> None:
    assert send_error(130429).retry is send_error(131056).retry is Retry.THROTTLE
    assert send_error(131000).retry is Retry.BACKOFF


def test_unknown_codes_get_a_generic_sentence_not_a_crash() -> None:
    assert send_error(999_999).en == send_error(None).en
    assert send_error(999_999).code == 999_999
