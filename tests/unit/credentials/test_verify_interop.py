"""verify_credential on credentials and status lists made by openbadgeslib (independent code)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from openbadgeslib.ob3 import (
    Achievement,
    Issuer,
    OB3Signer,
    OpenBadgeCredential,
    build_status_list_credential,
    sign_status_list_credential,
    status_entry,
)

from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.report import VerificationReport
from shared.credentials.verify import verify_credential

LIST_URL = "https://other.example/status/revocation"


class Lists:
    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    async def get(self, url: str) -> dict[str, Any] | str:
        return self.docs[url]


def _their_badge(key: SigningKey, did: str, index: int) -> str:
    credential = OpenBadgeCredential(
        issuer=Issuer(id=did, name="Other Implementation University"),
        recipient_id="did:example:learner-3",
        achievement=Achievement(
            id="https://other.example/achievements/2",
            name="Status-checked",
            description="Issued and listed by openbadgeslib.",
            criteria_narrative="Exist.",
        ),
        issuance_date=datetime.now(UTC) - timedelta(days=1),
        credential_status=[status_entry(LIST_URL, "revocation", index)],
    )
    return OB3Signer(privkey_pem=key.private_key, algorithm="EdDSA").sign(credential)


def _their_list(key: SigningKey, did: str, revoked: set[int]) -> str:
    doc = build_status_list_credential(did, LIST_URL, "revocation", revoked)
    return sign_status_list_credential(doc, key.private_key, "EdDSA")


async def _verify(token: str, lists: Lists) -> VerificationReport:
    return await verify_credential(token, resolver=DidResolver(), status_lists=lists)


async def test_their_badge_and_list_verify_here() -> None:
    key = generate_ed25519()
    did = did_key_for(key.public_key)
    lists = Lists({LIST_URL: _their_list(key, did, {5, 77})})
    report = await _verify(_their_badge(key, did, 12), lists)
    assert report.verified, report.checks
    revoked = await _verify(_their_badge(key, did, 77), lists)
    status = revoked.check("status")
    assert status is not None and (status.outcome, status.code) == ("failed", "revoked")


async def test_their_list_signed_by_another_issuer_is_refused() -> None:
    key, other = generate_ed25519(), generate_ed25519()
    did, other_did = did_key_for(key.public_key), did_key_for(other.public_key)
    lists = Lists({LIST_URL: _their_list(other, other_did, set())})
    report = await _verify(_their_badge(key, did, 77), lists)
    status = report.check("status")
    assert status is not None and (status.outcome, status.code) == ("failed", "issuer_mismatch")
    assert not report.verified
