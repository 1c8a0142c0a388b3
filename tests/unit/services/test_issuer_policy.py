"""Award-time rules (issue 9): retired achievements, evidence, and the
provider's policy profile, on the real Issuance over fakeredis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.issuer.domain.awarding import AwardIn
from services.issuer.domain.errors import AchievementRetired, ProfileRequirementsUnmet
from shared.credentials.builders import format_datetime
from shared.credentials.model import check_credential
from shared.errors import InvalidField
from shared.events import (
    AccreditationScope,
    AchievementPublished,
    CredentialIssued,
    IssuerProfilePublished,
    ProviderAccreditation,
    ProviderPublished,
)
from shared.status_lists import issuer_slug
from tests.unit.services.test_application import (  # noqa: F401 (the fixture)
    ACHIEVEMENT_ID,
    TENANT,
    IssuerWorld,
    issuer,
)

EVIDENCE = [
    {"id": "https://lms.example/portfolio/42", "name": "Portfolio"},
    {"narrative": "Oral defence before two assessors."},
]


def award_with(**extra: object) -> AwardIn:
    return msgspec.convert(
        {
            "achievementId": ACHIEVEMENT_ID,
            "recipient": {"id": "did:example:learner"},
            "score": 95,
            **extra,
        },
        AwardIn,
    )


def _profile_event(world: IssuerWorld) -> IssuerProfilePublished:
    event = world.history[0]
    assert isinstance(event, IssuerProfilePublished)
    return event


async def _provider(world: IssuerWorld, profile: str, *, accredited: bool) -> None:
    did = _profile_event(world).did
    since = format_datetime(datetime.now(UTC) - timedelta(days=1))
    accreditations = [
        ProviderAccreditation(
            accreditation_id="qa-1",
            quality_assurance_body="Quality Agency",
            scope=AccreditationScope(),
            valid_from=since,
            recorded_by="operator",
        )
    ]
    await world.issuance.store.save_provider(
        ProviderPublished(
            tenant=TENANT,
            provider_id="https://catalog.example/providers/p",
            revision=1,
            legal_name="Example Polytechnic",
            country="NL",
            provider_type="college",
            issuer_dids=[did],
            accreditations=accreditations if accredited else [],
            policy_profile=profile,
        )
    )


async def test_a_retired_achievement_gets_no_award(issuer: IssuerWorld) -> None:  # noqa: F811
    achievement = issuer.history[1]
    assert isinstance(achievement, AchievementPublished)
    retired = msgspec.structs.replace(achievement, revision=2, status="retired")
    await issuer.issuance.store.save_achievement(retired)
    with pytest.raises(AchievementRetired):
        await issuer.issuance.award(TENANT, award_with(), None)
    assert issuer.published.events == []


async def test_evidence_is_carried_and_checked(issuer: IssuerWorld) -> None:  # noqa: F811
    event, _ = await issuer.issuance.award(TENANT, award_with(evidence=EVIDENCE), None)
    credential = event.credential_ldp
    assert credential is not None
    assert [e.get("id") for e in credential["evidence"]] == [EVIDENCE[0]["id"], None]  # type: ignore[union-attr]
    [result] = credential["credentialSubject"]["result"]  # type: ignore[index]
    assert result["resultDate"]
    with pytest.raises(InvalidField) as caught:
        await issuer.issuance.award(TENANT, award_with(evidence=[{"id": "portfolio"}]), None)
    assert caught.value.extra["errors"][0]["path"] == "$.evidence[0].id"  # type: ignore[index]
    with pytest.raises(InvalidField):
        await issuer.issuance.award(TENANT, award_with(evidence=[{"name": "nothing"}]), None)


async def test_trusted_credential_awards_need_evidence(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer, "trusted-credential", accredited=True)
    with pytest.raises(ProfileRequirementsUnmet) as caught:
        await issuer.issuance.award(TENANT, award_with(), None)
    assert caught.value.extra["errors"] == [
        {"path": "$.evidence", "message": "trusted-credential requires at least one evidence"}
    ]
    # Refused before any status entry of the issuer is taken or a credential
    # published (the operator's accreditation endorsement has its own entry).
    assert not any(isinstance(e, CredentialIssued) for e in issuer.published.events)
    slug = issuer_slug(_profile_event(issuer).did)
    taken = [key async for key in issuer.redis.scan_iter(match=f"issuer:status-alloc:{slug}-*")]
    assert taken == []
    event, _ = await issuer.issuance.award(TENANT, award_with(evidence=EVIDENCE), None)
    credential = event.credential_ldp
    assert credential is not None and check_credential(credential) == []
    assert event.achievement_revision == 1
    assert credential["issuer"]["accreditations"]  # type: ignore[index]


async def test_trusted_credential_awards_need_accreditors(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer, "trusted-credential", accredited=False)
    with pytest.raises(ProfileRequirementsUnmet) as caught:
        await issuer.issuance.award(TENANT, award_with(evidence=EVIDENCE), None)
    assert "accreditors" in str(caught.value.extra["errors"])


async def test_badge_and_eu_profiles_need_no_evidence(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer, "eu-2022", accredited=False)
    event, _ = await issuer.issuance.award(TENANT, award_with(), None)
    assert event.credential_ldp is not None


def test_inbound_assessments_carry_evidence() -> None:
    """AssessmentPassed (Kafka) carries evidence like POST /awards; a
    malformed list is poison (dead-lettered with the reason)."""
    from services.issuer.inbound import _award_request
    from shared.events import AssessmentPassed, PoisonMessage

    event = AssessmentPassed(
        tenant=TENANT,
        achievement_id=ACHIEVEMENT_ID,
        learner={"id": "did:example:learner"},
        score=95,
        evidence=[{"id": "https://lms.example/portfolio/42"}],
    )
    award = _award_request(event)
    assert [e.id for e in award.evidence] == ["https://lms.example/portfolio/42"]
    bad = msgspec.structs.replace(event, evidence=[{"colour": "blue"}])
    with pytest.raises(PoisonMessage, match="invalid evidence"):
        _award_request(bad)
    # at most 20 items, as in POST /awards (Kafka took 25 and signed them)
    many = [{"id": f"https://lms.example/portfolio/{n}"} for n in range(21)]
    with pytest.raises(PoisonMessage, match="length <= 20"):
        _award_request(msgspec.structs.replace(event, evidence=many))
    assert len(_award_request(msgspec.structs.replace(event, evidence=many[:20])).evidence) == 20
