"""Validity periods of micro-credentials: ISO 8601 durations in years, months, days.

The catalog accepts `validityPeriod` only in this form (`P2Y`, `P18M`,
`P1Y6M`, `P90D`) and at most 100 years long; the issuer turns it into a
credential's `validUntil`.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Annotated

import msgspec

# ISO 8601 §5.5.3.2 duration, restricted to calendar units (no time part).
PERIOD_PATTERN = r"^P(?=\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?$"
# A request member holding one: the form is checked when decoding, the length
# by `check_period` afterwards (the 422 names the member's path).
Period = Annotated[
    str,
    msgspec.Meta(
        pattern=PERIOD_PATTERN,
        description="ISO 8601 years, months, days (P2Y, P18M, P1Y6M); at most 100 years",
    ),
]
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")

# The longest validity a credential may state, counted as
# years + months / 12 + days / 365.25 (the mean Julian year), independent of
# the date it starts from: `P100Y`, `P1200M`, `P99Y12M` and `P36525D` are the
# longest allowed. `validityPeriod` is our extension (docs/credential-format.md)
# and no standard bounds it; 100 years admits any real renewal cycle, refuses
# typos and probes (`P9999999Y`), and keeps every `validUntil` a four-digit
# year (VC Data Model 2.0 §4.9 dateTimeStamp; see shared/timestamps.py).
MAX_PERIOD_YEARS = 100
_MAX_DIGITS = 6  # a part with more digits is far over the limit (and int() refuses 4,300+)


class PeriodError(ValueError):
    """A validity period longer than 100 years, or one ending after year 9999."""


def _too_long(period: str) -> PeriodError:
    shown = period if len(period) <= 40 else f"{period[:37]}..."
    return PeriodError(
        f"{shown} is longer than {MAX_PERIOD_YEARS} years "
        f"(years + months/12 + days/365.25 must be at most {MAX_PERIOD_YEARS})"
    )


def _parts(period: object) -> tuple[int, int, int] | None:
    """(years, months, days) of a period in PERIOD_PATTERN's form, else None;
    PeriodError when it is longer than MAX_PERIOD_YEARS."""
    match = _PERIOD.match(period) if isinstance(period, str) else None
    if match is None:
        return None
    texts = [part or "0" for part in match.groups()]
    if any(len(text.lstrip("0")) > _MAX_DIGITS for text in texts):
        raise _too_long(match.string)
    years, months, days = (int(text) for text in texts)
    if years + Fraction(months, 12) + Fraction(4 * days, 1461) > MAX_PERIOD_YEARS:
        raise _too_long(match.string)
    return years, months, days


def check_period(period: str) -> None:
    """PeriodError when `period` is longer than MAX_PERIOD_YEARS (see above)
    or zero (`P0D` would read as "never expires": leave the period out for
    that); a string in another form is left to PERIOD_PATTERN."""
    if _parts(period) == (0, 0, 0):
        raise PeriodError(f"{period} is a zero period: leave validityPeriod out for no expiry")


def add_period(start: datetime, period: object) -> datetime | None:
    """`start` plus `period`; None for no period, a zero one, or another form.

    Months are calendar months, clamped to the month's last day (31 January
    plus one month is 28 or 29 February). PeriodError (never OverflowError)
    for a period over the limit or an end after year 9999."""
    parts = _parts(period)
    if parts is None or parts == (0, 0, 0):
        return None
    years, months, days = parts
    total_months = start.month - 1 + months + 12 * years
    year, month = start.year + total_months // 12, total_months % 12 + 1
    try:
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(days=days)
    except (ValueError, OverflowError):  # beyond datetime.max
        raise PeriodError(f"{start.isoformat()} plus {period!s} ends after year 9999") from None
