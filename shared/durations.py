"""Validity periods of micro-credentials: ISO 8601 durations in years, months, days.

The catalog accepts `validityPeriod` only in this form (`P2Y`, `P18M`,
`P1Y6M`, `P90D`); the issuer turns it into a credential's `validUntil`.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

# ISO 8601 §5.5.3.2 duration, restricted to calendar units (no time part).
PERIOD_PATTERN = r"^P(?=\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?$"
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def add_period(start: datetime, period: object) -> datetime | None:
    """`start` plus `period`; None for no period, a zero one, or another form.

    Months are calendar months, clamped to the month's last day (31 January
    plus one month is 28 or 29 February)."""
    match = _PERIOD.match(period) if isinstance(period, str) else None
    if match is None:
        return None
    years, months, days = (int(part or 0) for part in match.groups())
    if years == months == days == 0:
        return None
    total_months = start.month - 1 + months + 12 * years
    year, month = start.year + total_months // 12, total_months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day) + timedelta(days=days)
