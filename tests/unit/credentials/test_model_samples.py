"""Sample OB 3.0 documents shared by the model tests (no tests here)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from shared.credentials.builders import (
    MicroCredentialTerms,
    build_achievement,
    build_alignment,
    build_credential,
    build_identifier_entry,
    build_profile,
    build_related,
    build_result,
    build_result_description,
)
from shared.credentials.recipients import hash_identity

LEARNER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
ISSUER_DID = "did:web:uni.example"
RD_ID = "urn:uuid:8f0b7c84-5c62-4c4e-9d43-7d4b0a1e1f01"
STATUS = {
    "id": "https://uni.example/status/1#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://uni.example/status/1",
}
EU_TERMS = MicroCredentialTerms(
    eqf_level=6,
    nqf_level="NLQF 6",
    workload_hours=140,
    ects_credits=5,
    assessment_type="Supervised written exam and graded project",
    participation_mode="blended",
    quality_assurance="Internal QA under NVAO institutional accreditation",
    prerequisites="Secondary-school mathematics",
    supervised_assessment=True,
    identity_verified=True,
    stackable_into=("https://uni.example/programmes/data-science-certificate",),
    validity_period="P5Y",
    further_information="https://uni.example/courses/data-101",
)


def issuer() -> dict[str, object]:
    return build_profile(
        ISSUER_DID,
        "Example University",
        url="https://uni.example",
        email="registry@uni.example",
        country="Netherlands",
        country_code="NL",
        region="Utrecht",
    )


def achievement(terms: MicroCredentialTerms | None = EU_TERMS) -> dict[str, object]:
    return build_achievement(
        id="https://uni.example/achievements/data-101",
        name="Data Literacy for Professionals",
        description="Reading, cleaning and visualising data sets.",
        criteria_narrative="Pass the final exam with at least 90%.",
        criteria_id="https://uni.example/achievements/data-101/criteria",
        alignments=[
            build_alignment(
                "analyse data",
                "http://data.europa.eu/esco/skill/2b9a8d9c-5e36-4a6b-8a6f-0e4b1d8e9b3c",
                target_type="ext:ESCOSkill",
                target_framework="ESCO",
            )
        ],
        result_descriptions=[
            build_result_description(
                RD_ID, "Final exam", required_value="90", value_min="0", value_max="100"
            )
        ],
        credits_available=5,
        field_of_study="Data science",
        human_code="DATA-101",
        image="https://uni.example/badges/data-101.png",
        in_language="en",
        tags=["data", "statistics"],
        creator=issuer(),
        version="2025.1",
        other_identifiers=[build_identifier_entry("DATA-101", "identifier")],
        related=[build_related("https://uni.example/achievements/data-101-nl", in_language="nl")],
        microcred=terms,
    )


def full_credential() -> dict[str, object]:
    return build_credential(
        issuer=issuer(),
        achievement=achievement(),
        valid_from=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        valid_until=datetime(2030, 3, 1, 9, 30, tzinfo=UTC),
        awarded_date=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        subject_id=LEARNER,
        identifiers=[hash_identity("learner@example.com", salt="8d3f1c0a")],
        results=[build_result(result_description=RD_ID, value="94")],
        credits_earned=5,
        activity_start=datetime(2025, 1, 6, tzinfo=UTC),
        activity_end=datetime(2025, 2, 28, tzinfo=UTC),
        credential_status=dict(STATUS),
        credential_id="urn:uuid:2f5d1a6e-7d7b-4b8e-9a51-0e6c0c1b3d77",
    )


def minimal_credential() -> dict[str, object]:
    minimal = build_achievement(
        id="https://uni.example/achievements/a1",
        name="A1",
        description="d",
        criteria_narrative="n",
    )
    return build_credential(
        issuer=build_profile(ISSUER_DID, "Example University"),
        achievement=minimal,
        valid_from=datetime(2025, 3, 1, tzinfo=UTC),
        identifiers=[hash_identity("learner@example.com")],
        credential_schema=False,
    )


def endorsement() -> dict[str, object]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:6b0a6f8e-3c8a-4c39-8a8b-5b9d2d7d3e10",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Industry endorsement of Data Literacy",
        "issuer": {"id": "did:web:industry.example", "type": ["Profile"], "name": "Industry"},
        "validFrom": "2025-03-02T10:00:00Z",
        "credentialSubject": {
            "id": "https://uni.example/achievements/data-101",
            "type": ["EndorsementSubject"],
            "endorsementComment": "Meets our hiring bar for junior analysts.",
        },
    }


def vc11_badge() -> dict[str, object]:
    """An OB 3.0.0-style badge on the VC 1.1 data model."""
    doc = copy.deepcopy(minimal_credential())
    doc["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    ]
    doc["type"] = ["VerifiableCredential", "AchievementCredential"]
    del doc["validFrom"]
    doc["issuanceDate"] = "2023-05-01T00:00:00Z"
    doc["expirationDate"] = "2028-05-01T00:00:00Z"
    return doc


def without(doc: dict[str, object], dotted: str) -> dict[str, object]:
    """A deep copy of ``doc`` with the member at ``dotted`` removed ([i] indexes lists)."""
    copied = copy.deepcopy(doc)
    *parents, last = _split(dotted)
    node: object = copied
    for part in parents:
        node = node[part]  # type: ignore[index]
    del node[last]  # type: ignore[attr-defined]
    return copied


def replaced(doc: dict[str, object], dotted: str, value: object) -> dict[str, object]:
    """A deep copy of ``doc`` with the member at ``dotted`` set to ``value``."""
    copied = copy.deepcopy(doc)
    *parents, last = _split(dotted)
    node: object = copied
    for part in parents:
        node = node[part]  # type: ignore[index]
    node[last] = value  # type: ignore[index]
    return copied


def _split(dotted: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in dotted.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.lstrip("[")
    return parts
