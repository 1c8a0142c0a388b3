"""ob2.py: Open Badges 2.0 assertions, built with the independent openbadgeslib
(which issues OB 2.0): hosted, signed and baked, judged right, revoked ones too.

The documents an OB 2.0 verifier fetches (BadgeClass, Issuer, CryptographicKey,
RevocationList, the hosted assertion) come from an in-memory fetcher here;
the verifier service fetches them through its SSRF guard."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openbadgeslib.baking import bake_png
from openbadgeslib.ob2 import OB2Signer
from openbadgeslib.ob2.models import (
    Assertion,
    BadgeClass,
    CryptographicKey,
    IdentityObject,
    Profile,
    RevocationList,
    Verification,
)

from shared.credentials.baking import unbake_ob2_png
from shared.credentials.ob2 import is_ob2, verify_ob2
from shared.credentials.report import VerificationReport
from tests.unit.credentials.test_baking import make_png

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ORIGIN = "https://badges.example.org"
ISSUER = f"{ORIGIN}/issuer"
BADGE = f"{ORIGIN}/badges/python"
KEY = f"{ORIGIN}/keys/1"
REVOCATIONS = f"{ORIGIN}/revocations"


class Site:
    """The issuer's web site: URL -> JSON document; missing URLs are unreachable."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.docs: dict[str, dict[str, Any]] = {
            ISSUER: Profile(
                id=ISSUER, name="Example Badges", public_key=[KEY], revocation_list=REVOCATIONS
            ).to_dict(),
            BADGE: BadgeClass(
                id=BADGE,
                name="Python",
                description="Writes Python.",
                image=f"{ORIGIN}/python.png",
                criteria=f"{ORIGIN}/criteria",
                issuer=ISSUER,
            ).to_dict(),
            KEY: CryptographicKey(
                id=KEY, owner=ISSUER, public_key_pem=public_pem.decode()
            ).to_dict(),
            REVOCATIONS: RevocationList(id=REVOCATIONS, issuer=ISSUER).to_dict(),
        }

    async def fetch(self, url: str) -> dict[str, Any]:
        if url not in self.docs:
            raise ConnectionError(url)
        return self.docs[url]

    def signer(self) -> OB2Signer:
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return OB2Signer(pem, "RS256")


def assertion(kind: str, assertion_id: str | None = None, **extra: Any) -> Assertion:
    verification = Verification(type=kind, creator=KEY if kind == "SignedBadge" else None)
    return Assertion(
        recipient=IdentityObject.create("learner@example.org", "s4lt"),
        badge=BADGE,
        verification=verification,
        id=assertion_id,
        issued_on=NOW - timedelta(days=10),
        **extra,
    )


async def judge(site: Site, value: dict[str, Any] | str) -> VerificationReport:
    return await verify_ob2(value, site.fetch, NOW)


def outcomes(report: VerificationReport) -> dict[str, tuple[str, str | None]]:
    return {c.name: (c.outcome, c.code) for c in report.checks}


async def test_signed_assertion() -> None:
    site = Site()
    token = site.signer().sign(assertion("SignedBadge"))
    assert is_ob2(token)
    report = await judge(site, token)
    assert report.verified, report.checks
    assert outcomes(report)["format"] == ("ok", "ob2_signed")
    # signed by someone else's key
    forged = Site().signer().sign(assertion("SignedBadge"))
    assert outcomes(await judge(site, forged))["proof"] == ("failed", "signature_invalid")
    # a key the issuer does not list
    site.docs[ISSUER] = {**site.docs[ISSUER], "publicKey": [f"{ORIGIN}/keys/other"]}
    assert outcomes(await judge(site, token))["proof"] == ("failed", "key_not_owned")


async def test_signed_and_revoked() -> None:
    site = Site()
    badge = assertion("SignedBadge")
    token = site.signer().sign(badge)
    site.docs[REVOCATIONS] = RevocationList(
        id=REVOCATIONS,
        issuer=ISSUER,
        revoked_assertions=[{"id": badge.id, "revocationReason": "Cheated"}],
    ).to_dict()
    report = await judge(site, token)
    assert not report.verified and outcomes(report)["status"] == ("failed", "revoked")
    assert outcomes(report)["proof"] == ("ok", None)


async def test_hosted_assertion_still_served_and_not_revoked() -> None:
    site = Site()
    url = f"{ORIGIN}/assertions/1"
    hosted = assertion("HostedBadge", url).to_dict()
    site.docs[url] = hosted
    report = await judge(site, hosted)
    assert report.verified and outcomes(report)["format"] == ("ok", "ob2_hosted"), report.checks
    site.docs[url] = {**hosted, "revoked": True, "revocationReason": "Issued in error"}
    report = await judge(site, hosted)
    assert outcomes(report)["status"] == ("failed", "revoked")
    site.docs[url] = {**hosted, "badge": f"{ORIGIN}/badges/other"}
    assert outcomes(await judge(site, hosted))["proof"] == ("failed", "hosted_mismatch")
    del site.docs[url]  # gone, or the site is down: could not check, never "failed"
    report = await judge(site, hosted)
    assert outcomes(report)["proof"] == ("not_checked", "unavailable") and not report.verified


async def test_expired_and_malformed() -> None:
    site = Site()
    old = assertion("SignedBadge", expires=NOW - timedelta(days=1))
    report = await judge(site, site.signer().sign(old))
    assert outcomes(report)["validity"] == ("failed", "expired")
    unsigned = assertion("SignedBadge").to_dict()  # signed badges are JWS
    assert outcomes(await judge(site, unsigned))["proof"] == ("failed", "missing_proof")
    bad = {**unsigned, "verification": {"type": "Magic"}}
    assert outcomes(await judge(site, bad))["format"][0] == "failed"
    assert outcomes(await judge(site, "not.a.jws"))["format"][0] == "failed"
    assert not is_ob2({"@context": "https://www.w3.org/ns/credentials/v2"})


@pytest.mark.parametrize("revoked", [False, True])
async def test_baked_png(revoked: bool) -> None:
    site = Site()
    badge = assertion("SignedBadge")
    png = bake_png(make_png(), site.signer().sign(badge))
    token = unbake_ob2_png(png)
    if revoked:
        site.docs[REVOCATIONS] = RevocationList(
            id=REVOCATIONS, issuer=ISSUER, revoked_assertions=[badge.id]
        ).to_dict()
    report = await judge(site, token)
    assert report.verified is not revoked, report.checks


def test_baked_svg_forms() -> None:
    """OB 2.0 Baking, SVG: `<openbadges:assertion>` in http://openbadges.org."""
    from openbadgeslib.baking import bake_svg

    from shared.credentials.baking import unbake_ob2_svg
    from shared.credentials.errors import ShapeError

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    token = Site().signer().sign(assertion("SignedBadge"))
    assert unbake_ob2_svg(bake_svg(svg, token)) == token
    hosted = json.dumps(assertion("HostedBadge", f"{ORIGIN}/a/1").to_dict())
    assert json.loads(unbake_ob2_svg(bake_svg(svg, hosted, as_text=True))) == json.loads(hosted)
    for bad in (svg, bake_svg(bake_svg(svg, token), token)):
        with pytest.raises(ShapeError) as info:
            unbake_ob2_svg(bad)
        assert info.value.code == "no_credential"
