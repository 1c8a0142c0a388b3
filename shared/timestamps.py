"""Timestamps given to us (e.g. `assessedAt`): the one place their range is checked.

Every instant we accept ends up in a credential, written in UTC with a `Z`
(`builders.format_datetime`; VC Data Model 2.0 §4.9 wants an XSD
dateTimeStamp). RFC 3339 §5.6 gives a year exactly four digits
(`date-fullyear = 4DIGIT`) and §4.2 says UTC is the local time minus its
offset, so a timestamp is judged by its UTC instant: `0001-01-01T00:00:00+14:00`
is in year 0 and `9999-12-31T23:59:59-14:00` in year 10000, both out (and
both overflow Python's `datetime` when converted). The floor of 1900 is ours:
no assessment took place before it, and such a value is a typo or a probe.

A timestamp without an offset names no instant (RFC 3339 §4.4: a local time
alone is ambiguous), so it is refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
# How far ahead of our clock a sender's clock may run (e.g. an LMS stamping
# `assessedAt` just before calling us); anything later has not happened yet.
CLOCK_SKEW = timedelta(minutes=5)

# An RFC 3339 date-time with its offset, as request bodies declare it; the
# range is checked after decoding (`utc_instant`), as the error needs the path.
Timestamp = Annotated[
    datetime,
    msgspec.Meta(tz=True, description="RFC 3339 with an offset; 1900 to 9999 in UTC"),
]


class TimestampError(ValueError):
    """A timestamp without an offset, outside 1900-9999 UTC, or in the future."""


def utc_instant(moment: datetime) -> datetime:
    """`moment` in UTC; TimestampError when naive or outside 1900-01-01 to
    9999-12-31 UTC. Comparing aware datetimes never overflows, so the range is
    checked before converting."""
    if moment.utcoffset() is None:
        raise TimestampError("must include a UTC offset (e.g. Z or +01:00)")
    if not EARLIEST <= moment <= LATEST:
        raise TimestampError(
            f"{moment.isoformat()} is outside 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z "
            "once converted to UTC"
        )
    return moment.astimezone(UTC)


def past_instant(moment: datetime, *, now: datetime, skew: timedelta = CLOCK_SKEW) -> datetime:
    """`utc_instant(moment)`, also refusing a moment more than `skew` after `now`."""
    instant = utc_instant(moment)
    if instant - now > skew:  # subtraction, not now + skew: never overflows
        minutes = f"{skew.total_seconds() / 60:g}"
        raise TimestampError(
            f"{moment.isoformat()} is in the future "
            f"(more than {minutes} minutes after the server's clock)"
        )
    return instant


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 date-time string (as `Timestamp` decodes it), range-checked
    by `utc_instant`; the offset given is kept. TimestampError otherwise."""
    try:
        moment = msgspec.convert(text, Timestamp)
    except msgspec.ValidationError as error:
        raise TimestampError(str(error)) from None
    utc_instant(moment)
    return moment
