"""Cross-check with openbadgeslib, an independent OB 3.0 implementation."""

from __future__ import annotations

from datetime import UTC, datetime

from openbadgeslib.ob3 import credential as obl

from shared.credentials import jsonld
from shared.credentials.json_schema import validate_schema
from shared.credentials.model import check_credential
from tests.unit.credentials.test_model_samples import RD_ID, full_credential


def openbadgeslib_credential() -> dict[str, object]:
    rd = obl.ResultDescription(id=RD_ID, name="Final exam", result_type="Percent")
    achievement = obl.Achievement(
        id="https://uni.example/achievements/data-101",
        name="Data Literacy",
        description="Reading and cleaning data.",
        criteria_narrative="Pass the final exam.",
        tags=["data"],
        achievement_type="MicroCredential",
        credits_available=5,
        alignments=[
            obl.Alignment(
                target_name="analyse data", target_url="http://data.europa.eu/esco/skill/x"
            )
        ],
        result_descriptions=[rd],
    )
    cred = obl.OpenBadgeCredential(
        issuer=obl.Issuer(
            id="did:web:uni.example", name="Example University", url="https://uni.example"
        ),
        recipient_id="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        achievement=achievement,
        issuance_date=datetime(2025, 3, 1, tzinfo=UTC),
        identifiers=[obl.IdentityObject.create("learner@example.com", salt="s")],
        results=[obl.Result(value="94", result_description=RD_ID)],
    )
    vc: dict[str, object] = cred.to_vc()
    return vc


def test_their_credential_passes_our_checks() -> None:
    doc = openbadgeslib_credential()
    assert check_credential(doc) == []
    assert validate_schema(doc) == []
    jsonld.expand(doc)


def test_they_parse_our_credential() -> None:
    doc = full_credential()
    parsed = obl.OpenBadgeCredential.from_vc_document(doc)
    assert parsed.achievement.name == "Data Literacy for Professionals"
    assert parsed.achievement.achievement_type == "MicroCredential"
    assert parsed.recipient_id == doc["credentialSubject"]["id"]  # type: ignore[index]
    assert [i.identity_hash for i in parsed.identifiers] == [
        doc["credentialSubject"]["identifier"][0]["identityHash"]
    ]  # type: ignore[index]
    assert parsed.results[0].result_description == RD_ID
