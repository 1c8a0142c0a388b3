"""The verifier's `POST /presentations/verify` logic, called directly (the app
itself needs Kafka; tests/e2e/test_presentations.py drives the real endpoint)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from services.verifier.presentations import (
    MAX_CREDENTIALS,
    PresentationOptions,
    VerifyPresentationIn,
    verify_presentation_request,
)
from services.verifier.replica import Replica
from services.verifier.verification import Verifier
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import DidResolver, did_key_document
from shared.credentials.jws import sign_jws
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.presentations import build_presentation, sign_presentation
from shared.credentials.vp_jwt import enveloped_presentation, sign_vp_jwt
from shared.events import (
    AccreditationScope,
    AchievementPublished,
    IssuerProfilePublished,
    PathwayPublished,
    ProviderAccreditation,
    ProviderPublished,
)
from shared.web.body import convert
from shared.web.problems import Problem
from shared.web.safe_fetch import SafeFetcher
from tests.unit.credentials.di_samples import badge, did_of, mutate

CHALLENGE = "7c1e-verifier-challenge"
DOMAIN = "jobs.example"
Json = dict[str, Any]


class World:
    """An issuer registered in the verifier's replica, and a learner holding a did:key."""

    def __init__(self) -> None:
        self.issuer, self.holder = generate_ed25519(), generate_ed25519()
        issuer_did = did_of(self.issuer)
        self.replica = Replica()
        self.replica.apply(
            IssuerProfilePublished(
                tenant="t",
                did=issuer_did,
                profile={"id": issuer_did, "name": "Example University"},
                did_document=did_key_document(issuer_did),
            )
        )
        self.replica.apply(
            AchievementPublished(
                tenant="t",
                issuer_did=issuer_did,
                achievement_id="https://example.edu/achievements/data-101",
                revision=1,
                achievement={},
                mastery_threshold=0.7,
                status="active",
            )
        )
        self.replica.apply(  # accredited by the operator: the verdict can be `valid`
            ProviderPublished(
                tenant="t",
                provider_id="https://catalog.example/providers/1",
                revision=2,
                legal_name="Example University",
                country="IE",
                provider_type="university",
                issuer_dids=[issuer_did],
                accreditations=[
                    ProviderAccreditation(
                        accreditation_id="QA-1",
                        quality_assurance_body="Example QA Agency",
                        scope=AccreditationScope(achievement_types=["Course"]),
                        valid_from="2020-01-01T00:00:00Z",
                        recorded_by="operator",
                    )
                ],
            )
        )
        self.verifier = Verifier(self.replica, SafeFetcher())

    def credential(self, subject: str | None = None) -> Json:
        doc = badge(did_of(self.issuer))
        doc["credentialSubject"]["id"] = subject or did_of(self.holder)
        return doc

    def signed(self, subject: str | None = None) -> tuple[Json, str]:
        doc = self.credential(subject)
        return sign_data_integrity(doc, self.issuer), sign_vc_jwt(doc, self.issuer)

    def vp_jwt(self, credentials: list[Any], **options: Any) -> str:
        vp = build_presentation(credentials, did_of(self.holder))
        return sign_vp_jwt(vp, self.holder, **{"challenge": CHALLENGE, "domain": DOMAIN, **options})

    async def verify(
        self, vp: Json | str, resolver: DidResolver | None = None, **options: Any
    ) -> Json:
        settings = {"challenge": CHALLENGE, "domain": DOMAIN, **options}
        body = VerifyPresentationIn(vp, PresentationOptions(**settings))
        return await verify_presentation_request(
            body, verifier=self.verifier, resolver=resolver or DidResolver()
        )


def _check(report: Json, name: str) -> Json:
    return next(dict(r) for r in report["results"] if r["check"] == name)


def _presentation(result: Json) -> Json:
    return dict(result["results"]["presentation"])


async def test_vp_jwt_round_trip() -> None:
    world = World()
    embedded, jwt = world.signed()
    result = await world.verify(world.vp_jwt([jwt, embedded]))
    assert result["verified"] is True and result["problemDetails"] == []
    section = _presentation(result)
    assert section["proof"][0]["verified"] is True
    assert section["proof"][0]["input"]["typ"] == "vp+jwt"
    assert section["challenge"] == {"verified": True, "input": CHALLENGE}
    assert section["domain"] == {"verified": True, "input": DOMAIN}
    assert section["holder"] == {"verified": True, "input": did_of(world.holder)}
    credentials = result["results"]["credentials"]
    assert [c["verified"] for c in credentials] == [True, True]
    assert [c["verdict"] for c in credentials] == ["valid", "valid"]
    assert _check(credentials[0], "proof")["reason"] == "JWT"
    assert _check(credentials[1], "proof")["reason"] == "embedded proof"
    assert _check(credentials[0], "holder_binding")["outcome"] == "ok"
    assert _check(credentials[0], "trust")["code"] == "accredited"


async def test_data_integrity_and_enveloped_presentations() -> None:
    world = World()
    embedded, jwt = world.signed()
    vp = build_presentation([embedded, jwt], did_of(world.holder))
    signed = sign_presentation(vp, world.holder, challenge=CHALLENGE, domain=DOMAIN)
    result = await world.verify(signed)
    assert result["verified"] is True, result
    assert _presentation(result)["proof"][0]["input"]["proofPurpose"] == "authentication"
    assert len(result["results"]["credentials"]) == 2
    enveloped = await world.verify(enveloped_presentation(world.vp_jwt([jwt])))
    assert enveloped["verified"] is True, enveloped


async def _refused(result: Json, code: str) -> Json:
    assert result["verified"] is False
    assert result["results"]["credentials"] == []  # no work for an unproven presentation
    [problem] = result["problemDetails"]
    assert problem["errorCode"] == code, problem
    section = _presentation(result)
    assert section["proof"][0]["verified"] is False
    assert section["proof"][0]["problemDetails"] == [problem]
    return dict(problem)


async def test_wrong_challenge_and_domain() -> None:
    world = World()
    _, jwt = world.signed()
    token = world.vp_jwt([jwt])
    problem = await _refused(await world.verify(token, challenge="stale"), "challenge_mismatch")
    assert problem["type"] == "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
    assert _presentation(await world.verify(token, challenge="stale"))["challenge"] == {
        "verified": False,
        "input": "stale",
    }
    await _refused(await world.verify(token, domain="other.example"), "domain_mismatch")
    di = sign_presentation(
        build_presentation([jwt], did_of(world.holder)), world.holder, challenge=CHALLENGE
    )
    await _refused(await world.verify(di, challenge="stale"), "challenge_mismatch")


async def test_missing_challenge_when_one_is_expected() -> None:
    world = World()
    _, jwt = world.signed()
    await _refused(await world.verify(world.vp_jwt([jwt], challenge=None)), "challenge_missing")
    unchallenged = sign_data_integrity(
        build_presentation([jwt], did_of(world.holder)),
        world.holder,
        proof_purpose="authentication",
        domain=DOMAIN,
    )
    await _refused(await world.verify(unchallenged), "challenge_mismatch")


async def test_presentation_holder_mismatch() -> None:
    world, mallory = World(), generate_ed25519()
    _, jwt = world.signed()
    holder = did_of(world.holder)
    claims = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "iss": did_of(mallory),
        "nonce": CHALLENGE,
        "aud": DOMAIN,
        "verifiableCredential": build_presentation([jwt], holder)["verifiableCredential"],
    }
    await _refused(await world.verify(sign_jws(claims, mallory, "vp+jwt")), "holder_mismatch")
    forged = sign_data_integrity(
        build_presentation([jwt], holder),
        mallory,
        proof_purpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    result = await world.verify(forged)
    await _refused(result, "holder_mismatch")
    assert _presentation(result)["holder"] == {"verified": False, "input": holder}


async def test_credential_subject_other_than_the_holder_is_a_warning() -> None:
    world = World()
    _, theirs = world.signed(subject="did:example:someone-else")
    result = await world.verify(world.vp_jwt([theirs]))
    assert result["verified"] is True, result  # advisory: a holder may present for another
    [report] = result["results"]["credentials"]
    binding = _check(report, "holder_binding")
    assert (binding["outcome"], binding["code"]) == ("failed", "subject_not_holder")
    assert report["verdict"] == "untrusted" and report["problemDetails"] == []
    assert [w["type"] for w in report["warnings"]] == [
        "https://w3id.org/microcred/problems#holder-binding"
    ]


async def test_key_not_authorised_for_authentication() -> None:
    world = World()
    _, jwt = world.signed()
    holder = did_of(world.holder)
    document = did_key_document(holder)
    resolver = DidResolver(known={holder: {**document, "authentication": []}})
    problem = await _refused(await world.verify(world.vp_jwt([jwt]), resolver), "unknown_key")
    assert "key_not_authorized" in problem["detail"]


async def test_alg_none_is_refused() -> None:
    world = World()
    _, jwt = world.signed()
    _, payload, _ = world.vp_jwt([jwt]).split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    await _refused(await world.verify(f"{header.decode()}.{payload}."), "alg_not_allowed")


async def test_tampered_credential_inside_a_valid_presentation() -> None:
    world = World()
    embedded, jwt = world.signed()
    altered = mutate(embedded, "credentialSubject.achievement.name", "Rocket Science")
    result = await world.verify(world.vp_jwt([jwt, altered]))
    assert result["verified"] is False
    section = _presentation(result)
    assert section["proof"][0]["verified"] is True and section["proof"][0]["problemDetails"] == []
    good, bad = result["results"]["credentials"]
    assert good["verified"] is True
    assert bad["verified"] is False and _check(bad, "proof")["outcome"] == "failed"
    [problem] = result["problemDetails"]
    assert problem["errorCode"] == "credential_not_verified"
    assert "verifiableCredential[1]" in problem["detail"]


async def test_unreadable_presentations() -> None:
    world = World()
    await _refused(await world.verify("not-a-jwt"), "malformed_jwt")
    problem = await _refused(
        await world.verify({"type": "VerifiableCredential"}), "not_a_presentation"
    )
    assert problem["type"] == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"


async def test_too_many_credentials() -> None:
    world = World()
    _, jwt = world.signed()
    token = world.vp_jwt([jwt] * (MAX_CREDENTIALS + 1))
    with pytest.raises(Problem) as info:
        await world.verify(token)
    assert info.value.status == 422


def test_request_body_shapes() -> None:
    body = convert({"verifiablePresentation": "a.b.c"}, VerifyPresentationIn)
    assert (body.options.challenge, body.options.domain) == (None, None)
    extra = {
        "verifiablePresentation": {},
        "options": {"challenge": "c", "returnPresentation": True},
    }
    assert convert(extra, VerifyPresentationIn).options.challenge == "c"
    for bad in (
        {},
        {"verifiablePresentation": 5},
        {"verifiablePresentation": "x", "options": {"domain": 1}},
    ):
        with pytest.raises(Problem) as info:
            convert(bad, VerifyPresentationIn)
        assert info.value.status == 422


async def test_stacking_names_the_pathways_the_learner_completes() -> None:
    """architecture.md §6: which pathways the presented set completes (informational)."""
    world = World()
    second = world.credential()
    second["id"] = "urn:uuid:5f0d9d0e-2b7e-4b8a-9a51-0f3c7b0d1e22"
    second["credentialSubject"]["achievement"]["id"] = "https://example.edu/achievements/data-102"
    first = sign_vc_jwt(world.credential(), world.issuer)
    pathway = PathwayPublished(
        tenant="t",
        pathway_id="https://catalog.example/pathways/1",
        pathway={"name": "Data Certificate"},
        achievement_id="https://example.edu/achievements/data-cert",
        core=["https://example.edu/achievements/data-101"],
        electives=["https://example.edu/achievements/data-102", "https://example.edu/x"],
        electives_required=1,
    )
    settings = PresentationOptions(challenge=CHALLENGE, domain=DOMAIN)

    async def stacking(credentials: list[Any]) -> list[Json]:
        body = VerifyPresentationIn(world.vp_jwt(credentials), settings)
        result = await verify_presentation_request(
            body, verifier=world.verifier, resolver=DidResolver(), pathways=[pathway]
        )
        return list(result["results"]["stacking"])

    assert await stacking([first]) == []
    [entry] = await stacking([first, sign_vc_jwt(second, world.issuer)])
    assert entry["pathway"] == pathway.pathway_id and entry["learner"] == did_of(world.holder)
    assert entry["credentials"] == ["urn:uuid:0b0c6f1e-4a59-4b8e-9d38-2d3f6a1c7e42", second["id"]]
    # A credential that does not verify counts for nothing.
    tampered = sign_vc_jwt(second, world.holder)  # signed by someone else
    assert await stacking([first, tampered]) == []
