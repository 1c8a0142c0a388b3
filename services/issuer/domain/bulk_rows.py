"""Bulk award files: their rows in, their per-row results out (pure logic).

A file is CSV (RFC 4180, a header row first) or JSON Lines (one `POST
/awards` body per line). Each data row becomes the same `AwardIn` that
`POST /awards` takes; a row that cannot (bad JSON, a wrong number of cells, a
score that is not a number...) is `malformed`, a refusal of that row only.
Rows are numbered from 1, the first data row (the CSV header is not a row).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import orjson

from services.issuer.domain.awarding import AwardIn

Format = Literal["csv", "jsonl"]
FORMATS: dict[str, Format] = {
    "text/csv": "csv",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/x-jsonlines": "jsonl",
}

# CSV columns: the `POST /awards` members, flattened (one evidence item per row).
RECIPIENT_COLUMNS = {
    "recipientId": "id",
    "recipientEmail": "email",
    "recipientStudentId": "studentId",
    "recipientName": "name",
}
EVIDENCE_COLUMNS = {
    "evidenceId": "id",
    "evidenceName": "name",
    "evidenceDescription": "description",
    "evidenceNarrative": "narrative",
    "evidenceGenre": "genre",
}
PLAIN_COLUMNS = ("achievementId", "score", "maxScore", "assessedAt")
CSV_COLUMNS = (*PLAIN_COLUMNS, *RECIPIENT_COLUMNS, *EVIDENCE_COLUMNS)
REQUIRED_COLUMNS = ("achievementId", "score")

MALFORMED = "malformed"
INVALID_FIELD = "invalid-field"  # as POST /awards names a member out of its rules
RESULT_COLUMNS = ("row", "status", "reason", "credentialId", "detail")


class FileError(ValueError):
    """A file that cannot be a bulk job at all (its header, its encoding)."""


class RowError(ValueError):
    """One row refused before it is awarded: `malformed` when it is no award
    request (not JSON, a member missing or of the wrong type), `invalid-field`
    when a member's value breaks its rules (a `maxScore` of 0, an
    `assessedAt` without an offset), as `POST /awards` would say."""

    def __init__(self, detail: str, reason: str = MALFORMED) -> None:
        super().__init__(detail)
        self.reason = reason


def csv_header(line: str) -> list[str]:
    """The columns of a CSV header line; FileError naming what is wrong."""
    try:
        cells = _cells(line)
    except RowError as error:  # e.g. a stray quote, or CR alone as the line end
        raise FileError(f"the CSV header is {error} (lines end with LF or CRLF)") from None
    columns = [c.strip() for c in cells]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise FileError(f"unknown CSV columns {unknown}; known: {', '.join(CSV_COLUMNS)}")
    if len(set(columns)) != len(columns):
        raise FileError("a CSV column appears twice in the header")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing or not any(c in columns for c in RECIPIENT_COLUMNS if c != "recipientName"):
        raise FileError(
            f"the CSV header needs {', '.join(REQUIRED_COLUMNS)} and one of "
            "recipientId, recipientEmail, recipientStudentId"
        )
    return columns


def record_complete(text: str) -> bool:
    """Whether `text` (one or more physical lines) ends a CSV record: no
    quoted field is left open. A field is quoted when it starts with a quote;
    inside it a quote is doubled, and only there may a line break stand
    (RFC 4180 §2.5-2.7). A quote inside an unquoted field (`Bob 5" tall`) is
    a character like any other, as Python's csv module reads it, and opens
    nothing: counting every quote joined the rest of the file to that row."""
    if '"' not in text:
        return True
    quoted, field_start, i = False, True, 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text[i + 1 : i + 2] == '"':
                i += 1  # an escaped quote
            elif c == '"':
                quoted = False
        elif c == '"' and field_start:
            quoted = True
        field_start = not quoted and c in ",\r\n"
        i += 1
    return not quoted


def csv_cells(record: str) -> list[str]:
    return _cells(record)


def _cells(text: str) -> list[str]:
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as error:
        raise RowError(f"not a CSV record: {error}") from None
    if len(rows) > 1:  # never silently one of them
        raise RowError(f"{len(rows)} CSV records where one was expected")
    return rows[0] if rows else []


def award_from_cells(columns: list[str], cells: list[str]) -> AwardIn:
    """The award request of one CSV record; RowError saying what is wrong."""
    if len(cells) != len(columns):
        raise RowError(f"{len(cells)} cells where the header has {len(columns)} columns")
    given = {c: v.strip() for c, v in zip(columns, cells, strict=True) if v.strip()}
    body: dict[str, Any] = {c: given[c] for c in PLAIN_COLUMNS if c in given}
    body["recipient"] = {m: given[c] for c, m in RECIPIENT_COLUMNS.items() if c in given}
    evidence = {m: given[c] for c, m in EVIDENCE_COLUMNS.items() if c in given}
    if evidence:
        body["evidence"] = [evidence]
    return _convert(body, strict=False)


def award_from_json(text: str) -> AwardIn:
    """The award request of one JSON Lines line; RowError saying what is wrong."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise RowError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise RowError("a line must be a JSON object (a POST /awards body)")
    return _convert(value, strict=True)


def _convert(value: dict[str, Any], *, strict: bool) -> AwardIn:
    try:
        return msgspec.convert(value, AwardIn, strict=strict)
    except msgspec.ValidationError as error:
        detail = str(error)  # msgspec: "Expected `float`, got `str` - at `$.score`"
        shapeless = "got `" in detail or "missing required field" in detail
        raise RowError(detail, MALFORMED if shapeless else INVALID_FIELD) from None


@dataclass(frozen=True)
class RowResult:
    """What became of one row: `issued` (with its credential), `refused`
    (with the reason: the problem name `POST /awards` would answer with), or
    `failed` (an error of ours, not of the row)."""

    row: int
    status: Literal["issued", "refused", "failed"]
    reason: str | None = None
    credential_id: str | None = None
    detail: str | None = None

    @property
    def counter(self) -> str:
        """The progress counter it adds to: issued, failed, refused:<reason>."""
        return f"refused:{self.reason}" if self.status == "refused" else self.status

    def to_json(self) -> bytes:
        fields = {
            "row": self.row,
            "status": self.status,
            "reason": self.reason,
            "credentialId": self.credential_id,
            "detail": self.detail,
        }
        return orjson.dumps({k: v for k, v in fields.items() if v is not None})


def result_csv_line(result: bytes) -> str:
    """One stored result (`RowResult.to_json`) as a line of the results CSV."""
    value = orjson.loads(result)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([value.get(c, "") for c in RESULT_COLUMNS])
    return out.getvalue()


def results_csv_header() -> str:
    return ",".join(RESULT_COLUMNS) + "\n"


def kebab(name: str) -> str:
    """`AchievementNotFound` -> `achievement-not-found` (a refusal's reason
    when its error names no problem type)."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")
