import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.issuer.domain.gate import ScoreError, meets_mastery, score_fraction


@pytest.mark.parametrize(
    ("score", "maximum", "threshold", "expected"),
    [
        (90, 100, 0.9, True),  # exactly at the threshold: float maths would refuse it
        (89.99, 100, 0.9, False),
        (9, 10, 0.9, True),
        (27, 30, 0.9, True),
        (26, 30, 0.9, False),
        (100, 100, 1.0, True),
        (0, 100, 0.0, True),
    ],
)
def test_mastery_threshold(score: float, maximum: float, threshold: float, expected: bool) -> None:
    assert meets_mastery(score, maximum, threshold) is expected


@pytest.mark.parametrize(
    ("score", "maximum"),
    [(-1, 100), (101, 100), (5, 0), (float("nan"), 100), (float("inf"), 100)],
)
def test_nonsense_scores_are_refused(score: float, maximum: float) -> None:
    with pytest.raises(ScoreError):
        score_fraction(score, maximum)


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_a_percentage_threshold_matches_integer_maths(score: int, maximum: int) -> None:
    if score > maximum:
        return
    assert meets_mastery(score, maximum, 0.9) is (score * 10 >= maximum * 9)
