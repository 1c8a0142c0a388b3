"""JSON Schema check of OB 3.0 credentials (the first step of OB 3.0 verification).

The schemas in ``schemas/`` are Draft 2019-09, resolved from a local registry
only: a ``$ref`` to anything not bundled is an error, never a fetch.  See
``schemas/README.md`` for how they relate to the 1EdTech-published schemas.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

from jsonschema import Draft201909Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT201909

from shared.credentials.errors import ShapeError
from shared.credentials.shape_rules import parse_datetime
from shared.credentials.vocab import ACHIEVEMENT_CREDENTIAL_TYPES, VC_V1_CONTEXT

SCHEMAS_DIR = Path(__file__).with_name("schemas")
SCHEMA_BASE = "https://w3id.org/microcred/schemas/ob-v3p0/"
ACHIEVEMENT_CREDENTIAL = "achievementcredential.json"
ENDORSEMENT_CREDENTIAL = "endorsementcredential.json"
PROFILE = "profile.json"
ACHIEVEMENT = "achievement.json"
MAX_ERRORS = 50


@functools.cache
def _registry() -> Registry:
    """Every bundled schema, by its ``$id``; no retrieval of anything else."""
    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], DRAFT201909.create_resource(contents)))
    registry: Registry = Registry().with_resources(resources)
    return registry.crawl()


def _date_time(value: object) -> bool:
    """RFC 3339 date-time (the offset is required), checked like dateTimeStamp."""
    return not isinstance(value, str) or parse_datetime(value, stamp=True) is not None


def _date(value: object) -> bool:
    return (
        not isinstance(value, str) or parse_datetime(value + "T00:00:00Z", stamp=True) is not None
    )


def _format_checker() -> FormatChecker:
    """Our own checker (not the global one): date-time and date only."""
    checker = FormatChecker(formats=())
    checker.checkers["date-time"] = (_date_time, ())
    checker.checkers["date"] = (_date, ())
    return checker


@functools.cache
def _validator(name: str) -> Draft201909Validator:
    schema = {"$ref": SCHEMA_BASE + name}
    return Draft201909Validator(schema, registry=_registry(), format_checker=_format_checker())


def schema_for(doc: Mapping[str, object]) -> str:
    """The bundled schema that applies: by credential type and VC version."""
    types = doc.get("type")
    names = (
        {types}
        if isinstance(types, str)
        else {t for t in types if isinstance(t, str)}
        if isinstance(types, list)
        else set()
    )
    context = doc.get("@context")
    first = context[0] if isinstance(context, list) and context else None
    suffix = "-vc11.json" if first == VC_V1_CONTEXT else ".json"
    is_endorsement = "EndorsementCredential" in names and not names & ACHIEVEMENT_CREDENTIAL_TYPES
    stem = ENDORSEMENT_CREDENTIAL if is_endorsement else ACHIEVEMENT_CREDENTIAL
    return stem.removesuffix(".json") + suffix


def validate_schema(doc: object, schema: str | None = None) -> list[ShapeError]:
    """Schema violations of ``doc`` (empty when valid), each with its path.

    ``schema`` names a bundled schema file (default: chosen by ``schema_for``).
    """
    if not isinstance(doc, Mapping):
        return [ShapeError("schema_violation", "a credential must be a JSON object", "")]
    validator = _validator(schema or schema_for(doc))
    try:
        found = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    except Unresolvable as exc:  # a $ref to a schema we do not bundle
        return [ShapeError("schema_unavailable", f"unresolvable $ref: {exc}", "")]
    return [_to_shape_error(error) for error in found[:MAX_ERRORS]]


def _to_shape_error(error: ValidationError) -> ShapeError:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return ShapeError("schema_violation", f"{message} (rule: {error.validator})", path)
