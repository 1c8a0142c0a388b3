"""Validity periods: at most 100 years, and adding one never overflows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.durations import PERIOD_PATTERN, PeriodError, add_period, check_period

START = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    "period",
    ["P100Y", "P1200M", "P99Y12M", "P36525D", "P0000000100Y", "P2Y", "P1Y6M10D", "P0Y0M1D"],
)
def test_up_to_100_years_is_accepted(period: str) -> None:
    check_period(period)


@pytest.mark.parametrize(
    "period",
    [
        "P101Y",
        "P1201M",
        "P36526D",
        "P99Y12M1D",
        "P100Y1D",
        "P9999999Y",
        "P9999999999999999999Y",
        "P" + "9" * 5000 + "D",  # more digits than int() converts
    ],
)
def test_longer_than_100_years_is_refused(period: str) -> None:
    with pytest.raises(PeriodError, match="longer than 100 years") as raised:
        check_period(period)
    assert len(str(raised.value)) < 200
    with pytest.raises(PeriodError):
        add_period(START, period)


def test_a_zero_period_is_refused_and_a_stored_one_never_expires() -> None:
    with pytest.raises(PeriodError, match="zero period"):
        check_period("P0D")
    assert add_period(START, "P0Y0M0D") is None  # stored before the rule: as before


def test_other_forms_are_left_to_the_pattern() -> None:
    check_period("5 years")
    assert add_period(START, "5 years") is None


def test_the_longest_period_from_now() -> None:
    assert add_period(START, "P100Y") == datetime(2126, 11, 28, tzinfo=UTC)


def test_an_end_after_year_9999_is_refused_not_an_overflow() -> None:
    assert add_period(datetime(9950, 1, 1, tzinfo=UTC), "P49Y") == datetime(9999, 1, 1, tzinfo=UTC)
    for start, period in [
        (datetime(9950, 1, 1, tzinfo=UTC), "P50Y"),
        (datetime(9999, 12, 31, tzinfo=UTC), "P1D"),
        (datetime(9999, 12, 1, tzinfo=UTC), "P1M"),
    ]:
        with pytest.raises(PeriodError, match="after year 9999"):
            add_period(start, period)


@given(st.datetimes(timezones=st.just(UTC)), st.from_regex(PERIOD_PATTERN, fullmatch=True))
def test_add_period_never_overflows(start: datetime, period: str) -> None:
    try:
        end = add_period(start, period)
    except PeriodError:
        return
    assert end is None or end >= start
