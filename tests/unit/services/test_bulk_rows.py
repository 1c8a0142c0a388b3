"""Bulk award files: rows in (CSV, JSON Lines), results out (issuer domain.bulk_rows)."""

from __future__ import annotations

import re

import orjson
import pytest

from services.issuer.domain.bulk_rows import (
    FileError,
    RowError,
    RowResult,
    award_from_cells,
    award_from_json,
    csv_cells,
    csv_header,
    kebab,
    record_complete,
    result_csv_line,
)

COLUMNS = ["achievementId", "recipientEmail", "recipientName", "score", "evidenceId"]


def test_a_csv_row_becomes_the_award_request_of_post_awards() -> None:
    cells = csv_cells('urn:a,ada@example.org,"Lovelace, Ada",91.5,https://lms.example/1\n')
    award = award_from_cells(COLUMNS, cells)
    assert award.achievementId == "urn:a"
    assert (award.recipient.email, award.recipient.name) == ("ada@example.org", "Lovelace, Ada")
    assert award.score == 91.5 and award.maxScore == 100
    assert [e.id for e in award.evidence] == ["https://lms.example/1"]


def test_empty_cells_are_absent_members() -> None:
    award = award_from_cells(COLUMNS, ["urn:a", "ada@example.org", "", "95", ""])
    assert award.recipient.name is None and award.evidence == []


@pytest.mark.parametrize(
    "cells",
    [
        ["urn:a", "ada@example.org", "Ada", "ninety", ""],  # a score that is no number
        ["urn:a", "ada@example.org", "Ada"],  # too few cells
        ["urn:a", "ada@example.org", "Ada", "95", "", "extra"],  # too many
    ],
)
def test_malformed_rows_are_refused_with_the_reason(cells: list[str]) -> None:
    with pytest.raises(RowError) as refused:
        award_from_cells(COLUMNS, cells)
    assert refused.value.reason == "malformed"


@pytest.mark.parametrize(
    ("columns", "cells", "path"),
    [
        (
            ["achievementId", "recipientId", "score", "maxScore"],
            ["urn:a", "did:x:1", "1", "0"],
            "$.maxScore",
        ),
        (
            ["achievementId", "recipientId", "score", "assessedAt"],
            ["urn:a", "did:x:1", "95", "2026-01-01T00:00:00"],  # no offset
            "$.assessedAt",
        ),
    ],
)
def test_a_member_out_of_its_rules_is_an_invalid_field(
    columns: list[str], cells: list[str], path: str
) -> None:
    """As `POST /awards` answers it (a 422 naming the member), not `malformed`."""
    with pytest.raises(RowError, match=re.escape(path)) as refused:
        award_from_cells(columns, cells)
    assert refused.value.reason == "invalid-field"


def test_a_header_names_unknown_or_missing_columns() -> None:
    assert csv_header("achievementId,recipientId,score") == [
        "achievementId",
        "recipientId",
        "score",
    ]
    with pytest.raises(FileError, match="unknown CSV columns"):
        csv_header("achievementId,recipientId,score,grade")
    with pytest.raises(FileError, match="needs"):
        csv_header("achievementId,score")  # no recipient
    with pytest.raises(FileError, match="twice"):
        csv_header("achievementId,recipientId,score,score")


@pytest.mark.parametrize(
    "header",
    ['"achievementId,score,recipientId', "achievementId,score,recipientId\rx,1,y\r"],
    ids=["unterminated-quote", "cr-line-ends"],
)
def test_a_header_that_is_no_csv_record_is_a_file_error(header: str) -> None:
    with pytest.raises(FileError, match="the CSV header is not a CSV record"):
        csv_header(header)


def test_a_quoted_line_break_keeps_the_record_open() -> None:
    assert not record_complete('urn:a,ada@example.org,"Ada')
    assert record_complete('urn:a,ada@example.org,"Ada\nLovelace",95')
    assert record_complete('urn:a,x,"say ""hi""",95')  # doubled quotes: still balanced
    # a quote inside an unquoted field is a character: the record ends with its line
    # (counting quotes joined every later row to this one, and they were lost)
    assert record_complete('urn:a,ada@example.org,Bob 5" tall,95')
    assert csv_cells('urn:a,ada@example.org,Bob 5" tall,95') == [
        "urn:a",
        "ada@example.org",
        'Bob 5" tall',
        "95",
    ]
    assert not record_complete('urn:a,x,"still ""open""\nand on')
    assert record_complete('urn:a,x,"two\r\nlines",95')
    with pytest.raises(RowError, match="2 CSV records"):
        csv_cells("urn:a,x,y,95\nurn:b,x,y,95")


def test_json_lines() -> None:
    award = award_from_json(
        '{"achievementId": "urn:a", "recipient": {"id": "did:x:1"}, "score": 9}'
    )
    assert award.recipient.id == "did:x:1"
    for bad in ("not json", "[1, 2]", '{"achievementId": "urn:a", "score": 9}'):
        with pytest.raises(RowError):
            award_from_json(bad)


def test_results_count_under_their_counter_and_render_as_csv() -> None:
    refused = RowResult(3, "refused", "assessment-below-threshold", detail='score 5, "low"')
    assert refused.counter == "refused:assessment-below-threshold"
    assert RowResult(1, "issued", credential_id="urn:uuid:1").counter == "issued"
    assert orjson.loads(refused.to_json())["row"] == 3
    line = result_csv_line(refused.to_json())
    assert line == '3,refused,assessment-below-threshold,,"score 5, ""low"""\n'


def test_reasons_of_errors_without_a_problem_name() -> None:
    assert kebab("AchievementNotFound") == "achievement-not-found"
