"""The verifier's `endorsements` check: each embedded EndorsementCredential
verified on its own, about what it is attached to, with who signed it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from services.verifier.endorsements import endorsements_check
from services.verifier.replica import Replica
from shared.credentials.builders import build_profile
from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import DidResolver, did_key_document, did_key_for
from shared.credentials.endorsements import build_endorsement
from shared.events import IssuerProfilePublished
from tests.unit.credentials.vc_samples import ob3_credential

CREATED = datetime(2025, 4, 2, 8, 0, tzinfo=UTC)
ISSUER = "did:example:college"
ACHIEVEMENT = "https://example.edu/achievements/data-101"


class NoLists:
    async def get(self, url: str) -> dict[str, Any] | str:
        raise AssertionError(url)


def _signed_by(key: SigningKey, subject: str, name: str) -> dict[str, Any]:
    did = did_key_for(key.public_key)
    unsigned = build_endorsement(
        id="urn:uuid:7f0d1c5e-9b7a-4d8e-8a40-0d4f2b1f8a11",
        issuer=build_profile(did, name),
        subject_id=subject,
        comment="Matters to employers.",
        valid_from="2025-01-01T00:00:00Z",
        name=f"{name} endorses",
    )
    return sign_data_integrity(unsigned, key, created=CREATED)


def _known(replica: Replica, key: SigningKey, role: str, name: str) -> None:
    did = did_key_for(key.public_key)
    replica.apply(
        IssuerProfilePublished(
            tenant="@" + role,
            did=did,
            profile=build_profile(did, name),
            did_document=did_key_document(did),
            role=role,  # type: ignore[arg-type]
        )
    )


async def _check(credential: dict[str, Any], replica: Replica) -> Any:
    return await endorsements_check(credential, DidResolver(), NoLists(), replica)


async def test_operator_and_endorser_are_named() -> None:
    operator, employer, replica = generate_ed25519(), generate_ed25519(), Replica()
    _known(replica, operator, "operator", "Ministry of Skills")
    _known(replica, employer, "endorser", "Logistics Employers")
    credential = ob3_credential(ISSUER)
    credential["issuer"]["endorsement"] = [_signed_by(operator, ISSUER, "Ministry of Skills")]
    achievement = credential["credentialSubject"]["achievement"]
    achievement["endorsement"] = [_signed_by(employer, ACHIEVEMENT, "Logistics Employers")]
    result = await _check(credential, replica)
    assert result.outcome == "ok", result
    shown = {e["on"]: e["endorser"] for e in result.details["endorsements"]}
    assert shown["issuer"]["role"] == "operator"
    assert shown["achievement"] == {
        "id": did_key_for(employer.public_key),
        "name": "Logistics Employers",
        "role": "endorser",
    }
    assert "Ministry of Skills (operator)" in result.reason


async def test_unknown_signer_is_shown_as_such() -> None:
    credential = ob3_credential(ISSUER)
    credential["issuer"]["endorsement"] = [_signed_by(generate_ed25519(), ISSUER, "Self")]
    result = await _check(credential, Replica())
    assert result.outcome == "ok"
    assert result.details["endorsements"][0]["endorser"]["role"] == "unknown"


async def test_tampered_or_misplaced_endorsements_fail() -> None:
    key = generate_ed25519()
    tampered = _signed_by(key, ISSUER, "Ministry")
    tampered["credentialSubject"]["endorsementComment"] = "Accredited for everything."
    credential = ob3_credential(ISSUER)
    credential["issuer"]["endorsement"] = [tampered]
    result = await _check(credential, Replica())
    assert (result.outcome, result.code) == ("failed", "endorsement_invalid")

    elsewhere = ob3_credential(ISSUER)
    elsewhere["issuer"]["endorsement"] = [_signed_by(key, "did:example:other", "Ministry")]
    result = await _check(copy.deepcopy(elsewhere), Replica())
    assert result.outcome == "failed" and "not this issuer" in result.reason


async def test_no_endorsements_no_check() -> None:
    assert await _check(ob3_credential(ISSUER), Replica()) is None


async def test_too_many_endorsements_are_not_all_checked() -> None:
    key = generate_ed25519()
    credential = ob3_credential(ISSUER)
    credential["issuer"]["endorsement"] = [_signed_by(key, ISSUER, "Spam")] * 21
    result = await _check(credential, Replica())
    assert (result.outcome, result.code) == ("failed", "too_many_endorsements")
