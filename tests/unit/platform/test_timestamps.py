"""The range of timestamps given to us: 1900-9999 in UTC, not in the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.timestamps import (
    CLOCK_SKEW,
    Timestamp,
    TimestampError,
    parse_timestamp,
    past_instant,
    utc_instant,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PLUS_14 = timezone(timedelta(hours=14))
MINUS_14 = timezone(-timedelta(hours=14))


@pytest.mark.parametrize(
    ("moment", "utc"),
    [
        (datetime(1900, 1, 1, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC)),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59)),
        (datetime(1900, 1, 1, 14, tzinfo=PLUS_14), datetime(1900, 1, 1)),
        (datetime(9999, 12, 31, 9, 59, 59, tzinfo=MINUS_14), datetime(9999, 12, 31, 23, 59, 59)),
    ],
)
def test_the_edges_of_the_range_are_accepted(moment: datetime, utc: datetime) -> None:
    assert utc_instant(moment) == utc.replace(tzinfo=UTC)
    assert utc_instant(moment).tzinfo is UTC


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC),  # one second before 1900
        datetime(1, 1, 1, tzinfo=PLUS_14),  # UTC: year 0
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_14),  # UTC: year 10000
        datetime(1900, 1, 1, 13, 59, 59, tzinfo=PLUS_14),  # UTC: 1899
        datetime(1, 1, 1, tzinfo=UTC),
        datetime.max.replace(tzinfo=MINUS_14),
    ],
)
def test_outside_1900_to_9999_utc_is_refused(moment: datetime) -> None:
    with pytest.raises(TimestampError, match="outside 1900"):
        utc_instant(moment)


def test_a_timestamp_without_an_offset_is_refused() -> None:
    with pytest.raises(TimestampError, match="UTC offset"):
        utc_instant(datetime(2026, 1, 1))


def test_the_future_is_refused_beyond_the_clock_skew() -> None:
    assert past_instant(NOW + CLOCK_SKEW, now=NOW) == NOW + CLOCK_SKEW
    assert past_instant(NOW - timedelta(days=400), now=NOW) == NOW - timedelta(days=400)
    with pytest.raises(TimestampError, match="future"):
        past_instant(NOW + CLOCK_SKEW + timedelta(seconds=1), now=NOW)
    with pytest.raises(TimestampError, match="outside 1900"):
        past_instant(datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_14), now=NOW)


def test_the_clock_skew_is_five_minutes() -> None:
    assert timedelta(minutes=5) == CLOCK_SKEW


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0001-01-01T00:00:00+14:00", "outside 1900"),
        ("9999-12-31T23:59:59-14:00", "outside 1900"),
        ("1899-12-31T23:59:59Z", "outside 1900"),
        ("2026-11-20T10:00:00", "timezone"),
        ("2026-11-20", "RFC3339"),
        ("yesterday", "RFC3339"),
    ],
)
def test_parsed_timestamps_are_checked(text: str, reason: str) -> None:
    with pytest.raises(TimestampError, match=reason):
        parse_timestamp(text)


def test_a_parsed_timestamp_keeps_its_offset() -> None:
    moment = parse_timestamp("2026-11-20T10:00:00+01:00")
    assert moment.utcoffset() == timedelta(hours=1)
    assert utc_instant(moment) == datetime(2026, 11, 20, 9, tzinfo=UTC)


def test_request_bodies_decode_only_timestamps_with_an_offset() -> None:
    class Body(msgspec.Struct):
        at: Timestamp

    with pytest.raises(msgspec.ValidationError, match=r"timezone.*\$\.at"):
        msgspec.convert({"at": "2026-11-20T10:00:00"}, Body)


@given(
    st.datetimes(timezones=st.timezones() | st.just(PLUS_14) | st.just(MINUS_14)),
    st.datetimes(timezones=st.just(UTC)),
)
def test_any_aware_datetime_is_accepted_or_refused_never_overflows(
    moment: datetime, now: datetime
) -> None:
    try:
        instant = past_instant(moment, now=now)
    except TimestampError:
        return
    assert 1900 <= instant.year <= 9999 and instant - now <= CLOCK_SKEW
