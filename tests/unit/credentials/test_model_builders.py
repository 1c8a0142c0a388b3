"""OB 3.0 builders: shape, JSON Schema and JSON-LD (safe mode) of what they build."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.credentials import jsonld
from shared.credentials.builders import (
    MICROCRED_TERMS,
    MicroCredentialTerms,
    build_achievement,
    build_credential,
    build_profile,
    build_result,
    contexts_for,
    format_datetime,
)
from shared.credentials.errors import ContextError
from shared.credentials.json_schema import validate_schema
from shared.credentials.model import check_credential
from shared.credentials.vocab import (
    ACCRED_CONTEXT,
    ASSESSMENT_CONTEXT,
    MICROCRED_CATALOG_CONTEXT,
    MICROCRED_CONTEXT,
    OB_CONTEXT,
    OB_EXTENSIONS_CONTEXT,
    OB_SCHEMA_ID,
    VC_V2_CONTEXT,
)
from tests.unit.credentials.test_model_samples import (
    EU_TERMS,
    LEARNER,
    RD_ID,
    achievement,
    full_credential,
    issuer,
    minimal_credential,
    replaced,
)

CONTEXTS = Path(__file__).resolve().parents[3] / "shared" / "credentials" / "contexts"
MICROCRED_VOCAB = "https://w3id.org/microcred/vocab#"


def test_full_credential_shape() -> None:
    doc = full_credential()
    assert doc["@context"] == [VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT, MICROCRED_CONTEXT]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["validFrom"] == "2025-03-01T09:30:00Z"
    assert doc["credentialSchema"] == [
        {"id": OB_SCHEMA_ID, "type": "1EdTechJsonSchemaValidator2019"}
    ]
    subject = doc["credentialSubject"]
    assert isinstance(subject, dict)
    assert subject["id"] == LEARNER
    assert subject["type"] == ["AchievementSubject"]
    assert subject["result"] == [
        {"type": ["Result"], "resultDescription": RD_ID, "value": "94", "status": "Completed"}
    ]
    ach = subject["achievement"]
    assert ach["achievementType"] == "MicroCredential"
    assert ach["eqfLevel"] == 6 and ach["participationMode"] == "blended"
    assert ach["stackableInto"] == ["https://uni.example/programmes/data-science-certificate"]
    assert doc["issuer"]["address"] == {  # type: ignore[index]
        "type": ["Address"],
        "addressCountry": "Netherlands",
        "addressCountryCode": "NL",
        "addressRegion": "Utrecht",
    }


@pytest.mark.parametrize("make", [full_credential, minimal_credential])
def test_builder_output_passes_shape_and_schema(make: object) -> None:
    doc = make()  # type: ignore[operator]
    assert check_credential(doc) == []
    assert validate_schema(doc) == []


@pytest.mark.parametrize("make", [full_credential, minimal_credential])
def test_builder_output_expands_in_safe_mode(make: object) -> None:
    doc = make()  # type: ignore[operator]
    expanded = json.dumps(jsonld.expand(doc))
    nquads = jsonld.canonize(doc)
    if MICROCRED_CONTEXT in doc["@context"]:
        for term in MICROCRED_TERMS:
            assert f"{MICROCRED_VOCAB}{term}" in expanded
            assert f"<{MICROCRED_VOCAB}{term}>" in nquads


def test_every_builder_term_is_defined() -> None:
    """Safe mode rejects an undefined term: so a stray one would fail here."""
    doc = full_credential()
    bad = replaced(doc, "credentialSubject.achievement.eqfLevl", 6)
    with pytest.raises(ContextError):
        jsonld.expand(bad)


def test_extension_context_defines_exactly_the_builder_terms() -> None:
    context = json.loads((CONTEXTS / "microcred-v1.jsonld").read_text())["@context"]
    assert context["@protected"] is True
    terms = {k for k in context if not k.startswith("@")} - {"id", "type"}
    assert terms == MICROCRED_TERMS
    for term in terms:
        assert context[term]["@id"] == MICROCRED_VOCAB + term


def test_extension_context_is_in_the_manifest_with_its_hash() -> None:
    import hashlib

    manifest = json.loads((CONTEXTS / "manifest.json").read_text())
    entry = next(e for e in manifest if e["url"] == MICROCRED_CONTEXT)
    data = (CONTEXTS / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_contexts_only_when_needed() -> None:
    doc = minimal_credential()
    assert doc["@context"] == [VC_V2_CONTEXT, OB_CONTEXT]
    plain = build_credential(
        issuer=issuer(),
        achievement=achievement(terms=None),
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        subject_id=LEARNER,
    )
    assert MICROCRED_CONTEXT not in plain["@context"]  # type: ignore[operator]
    assert contexts_for({"credentialSubject": {"achievement": {"ectsCredits": 1}}})[-1] == (
        MICROCRED_CONTEXT
    )


def test_contexts_follow_the_terms_used_and_not_an_endorsement_s_accreditations() -> None:
    """One walk finds every vocabulary a credential uses: microcred and
    catalog terms and the assessment type anywhere, accreditations only
    outside embedded endorsements (those carry their own contexts)."""
    endorsed = {
        "issuer": {"endorsement": [{"issuer": {"accreditations": []}}]},
        "credentialSubject": {
            "achievement": {"durationWeeks": 4},
            "result": [{"type": ["Result", "AssessmentResultDescription"]}],
        },
    }
    assert contexts_for(endorsed) == [
        VC_V2_CONTEXT,
        OB_CONTEXT,
        MICROCRED_CATALOG_CONTEXT,
        ASSESSMENT_CONTEXT,
    ]
    accredited = {"issuer": {"accreditations": []}, "credentialSchema": [], "a": {"eqfLevel": 5}}
    assert contexts_for(accredited) == [
        VC_V2_CONTEXT,
        OB_CONTEXT,
        OB_EXTENSIONS_CONTEXT,
        MICROCRED_CONTEXT,
        ACCRED_CONTEXT,
    ]


def test_microcred_terms_to_json() -> None:
    assert MicroCredentialTerms().to_json() == {}
    assert MicroCredentialTerms(supervised_assessment=False, ects_credits=2.5).to_json() == {
        "supervisedAssessment": False,
        "ectsCredits": 2.5,
    }
    assert set(EU_TERMS.to_json()) == MICROCRED_TERMS


def test_builder_preconditions() -> None:
    with pytest.raises(ValueError, match="criteria"):
        build_achievement(id="urn:x:1", name="n", description="d")
    with pytest.raises(ValueError, match="subject"):
        build_credential(
            issuer=issuer(), achievement=achievement(), valid_from=datetime(2025, 1, 1, tzinfo=UTC)
        )
    with pytest.raises(ValueError, match="validUntil"):
        build_credential(
            issuer=issuer(),
            achievement=achievement(),
            subject_id=LEARNER,
            valid_from=datetime(2025, 1, 2, tzinfo=UTC),
            valid_until=datetime(2025, 1, 1, tzinfo=UTC),
        )
    with pytest.raises(ValueError, match="timezone"):
        format_datetime(datetime(2025, 1, 1))


def test_datetimes_are_utc_seconds() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_datetime(datetime(2025, 3, 1, 10, 30, 15, 999, tzinfo=cet)) == (
        "2025-03-01T09:30:15Z"
    )


def test_fresh_ids_are_urn_uuids() -> None:
    first = build_credential(
        issuer=issuer(),
        achievement=achievement(),
        subject_id=LEARNER,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    )
    second = build_credential(
        issuer=issuer(),
        achievement=achievement(),
        subject_id=LEARNER,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert str(first["id"]).startswith("urn:uuid:") and first["id"] != second["id"]


def test_profile_and_result_defaults() -> None:
    assert build_profile("did:web:x.example", "X") == {
        "id": "did:web:x.example",
        "type": ["Profile"],
        "name": "X",
    }
    assert build_result(status=None, value="A") == {"type": ["Result"], "value": "A"}


def _bundled_loader() -> object:
    manifest = json.loads((CONTEXTS / "manifest.json").read_text())
    files = {entry["url"]: CONTEXTS / entry["file"] for entry in manifest}

    def load(url: str, options: object = None) -> dict[str, object]:
        document = json.loads(files[url].read_text())  # KeyError: never the network
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


@pytest.mark.parametrize("make", [full_credential, minimal_credential])
def test_plain_pyld_drops_nothing(make: object) -> None:
    """Independent of jsonld.py: pyld with only the bundled contexts drops no key."""
    from pyld import jsonld as pyld

    dropped: list[str | None] = []
    pyld.expand(
        make(),
        {"documentLoader": _bundled_loader()},  # type: ignore[operator]
        on_property_dropped=dropped.append,
    )
    assert dropped == []
    bad = replaced(full_credential(), "credentialSubject.achievement.eqfLevl", 6)
    pyld.expand(bad, {"documentLoader": _bundled_loader()}, on_property_dropped=dropped.append)
    assert dropped == ["eqfLevl"]
