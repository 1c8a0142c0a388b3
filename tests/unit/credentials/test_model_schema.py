"""JSON Schema check (json_schema.validate_schema) with the bundled schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator

from shared.credentials.errors import ShapeError
from shared.credentials.json_schema import SCHEMAS_DIR, schema_for, validate_schema
from tests.unit.credentials.test_model_samples import (
    endorsement,
    full_credential,
    minimal_credential,
    replaced,
    vc11_badge,
    without,
)

ACH = "credentialSubject.achievement"


def paths(errors: list[ShapeError]) -> set[str | None]:
    assert all(e.code == "schema_violation" for e in errors)
    return {e.path for e in errors}


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS_DIR.glob("*.json")))
def test_bundled_schemas_are_valid_draft_2019_09(name: str) -> None:
    schema = json.loads((SCHEMAS_DIR / name).read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2019-09/schema"
    Draft201909Validator.check_schema(schema)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (full_credential, "achievementcredential.json"),
        (minimal_credential, "achievementcredential.json"),
        (endorsement, "endorsementcredential.json"),
        (vc11_badge, "achievementcredential-vc11.json"),
    ],
)
def test_valid_documents(make: object, expected: str) -> None:
    doc = make()  # type: ignore[operator]
    assert schema_for(doc) == expected
    assert validate_schema(doc) == []


@pytest.mark.parametrize(
    ("member", "path"),
    [
        ("id", ""),
        ("issuer", ""),
        ("validFrom", ""),
        ("credentialSubject", ""),
        (f"{ACH}.criteria", ACH),
        (f"{ACH}.name", ACH),
        (f"{ACH}.alignment[0].targetUrl", f"{ACH}.alignment[0]"),
        (f"{ACH}.resultDescription[0].resultType", f"{ACH}.resultDescription[0]"),
        ("credentialSubject.result[0].type", "credentialSubject.result[0]"),
        ("issuer.id", "issuer"),
    ],
)
def test_missing_required_members(member: str, path: str) -> None:
    assert path in paths(validate_schema(without(full_credential(), member)))


def test_subject_needs_id_or_identifier() -> None:
    doc = without(
        without(full_credential(), "credentialSubject.id"), "credentialSubject.identifier"
    )
    assert "credentialSubject" in paths(validate_schema(doc))


@pytest.mark.parametrize(
    ("member", "value", "path"),
    [
        ("@context[0]", "https://example.org/credentials/v3", "@context[0]"),
        ("@context[1]", "https://example.org/ob.json", "@context[1]"),
        ("type", ["VerifiableCredential", "Badge"], "type"),
        ("validFrom", "2025-03-01", "validFrom"),
        ("credentialSubject.identifier[0].salty", "x", "credentialSubject.identifier[0]"),
        (
            "credentialSubject.identifier[0].identityType",
            "phone",
            "credentialSubject.identifier[0].identityType",
        ),
        ("credentialSubject.result[0].status", "Passed", "credentialSubject.result[0].status"),
        (f"{ACH}.achievementType", "Nanodegree", f"{ACH}.achievementType"),
        (f"{ACH}.creditsAvailable", "5", f"{ACH}.creditsAvailable"),
        (f"{ACH}.alignment", {"type": ["Alignment"]}, f"{ACH}.alignment"),
    ],
)
def test_bad_values(member: str, value: object, path: str) -> None:
    assert path in paths(validate_schema(replaced(full_credential(), member, value)))


def test_a_v1_context_selects_the_vc11_rules() -> None:
    doc = replaced(full_credential(), "@context[0]", "https://www.w3.org/2018/credentials/v1")
    assert schema_for(doc) == "achievementcredential-vc11.json"
    assert any("issuanceDate" in e.detail for e in validate_schema(doc))


def test_vc11_requires_issuance_date_and_name() -> None:
    badge = vc11_badge()
    assert "" in paths(validate_schema(without(badge, "issuanceDate")))
    assert "" in paths(validate_schema(without(badge, "name")))


def test_endorsement_requires_name() -> None:
    assert "" in paths(validate_schema(without(endorsement(), "name")))


def test_not_an_object() -> None:
    assert [e.code for e in validate_schema("eyJ...")] == ["schema_violation"]


def test_no_remote_refs(tmp_path: Path) -> None:
    """A $ref outside the bundle is refused, not fetched."""
    from referencing.exceptions import Unresolvable

    from shared.credentials import json_schema

    validator = Draft201909Validator(
        {"$ref": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/x.json"},
        registry=json_schema._registry(),
    )
    with pytest.raises(Unresolvable):
        validator.validate({})
