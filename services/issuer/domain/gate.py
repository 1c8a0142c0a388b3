"""The assessment gate: a micro-credential is awarded only for proven mastery.

Scores are compared as decimals, never floats: 0.9 * 100 is 90.00000000000001
in binary floating point, which would refuse an exact 90 %.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class ScoreError(ValueError):
    """A score that cannot be compared (negative, above the maximum, not a number)."""


def _decimal(value: float | int | str, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ScoreError(f"{name} is not a number") from error
    if not number.is_finite():
        raise ScoreError(f"{name} is not a finite number")
    return number


def score_fraction(score: float | int, max_score: float | int) -> Decimal:
    """The score as a fraction of the maximum, checked for sense."""
    achieved = _decimal(score, "score")
    maximum = _decimal(max_score, "maxScore")
    if maximum <= 0:
        raise ScoreError("maxScore must be greater than zero")
    if achieved < 0 or achieved > maximum:
        raise ScoreError("score must lie between 0 and maxScore")
    return achieved / maximum


def meets_mastery(score: float | int, max_score: float | int, threshold: float) -> bool:
    """True when score/max_score reaches the achievement's mastery threshold (a fraction)."""
    return score_fraction(score, max_score) >= _decimal(threshold, "threshold")
