"""related_resources.py: VC 2.0 §5.3 digests of the contexts a document is processed with."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from shared.credentials.crypto_keys import b58encode
from shared.credentials.dids import DidResolver
from shared.credentials.jsonld import default_registry
from shared.credentials.related_resources import RelatedResourceError, used_related_resources
from shared.credentials.verify import VerifyOptions, verify_credential

V2 = "https://www.w3.org/ns/credentials/v2"
# The W3C DM 2.0 suite's fixture (tests/fixtures.js): digests of the 2024-07-20
# revision of the v2 context, the one that still had `@vocab`.
SUITE_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"
SUITE_MULTIBASE = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"


def _bundled() -> bytes:
    data = default_registry().resource_bytes(V2)
    assert data is not None
    return data


def _sri(alg: str) -> str:
    return f"{alg}-" + base64.b64encode(hashlib.new(alg, _bundled()).digest()).decode()


def _doc(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
        "relatedResource": list(resources),
    }


def _mismatch(resource: dict[str, Any]) -> str:
    with pytest.raises(RelatedResourceError) as info:
        used_related_resources(_doc(resource), default_registry())
    return info.value.code


def test_matching_digests_in_every_form() -> None:
    digest = hashlib.sha256(_bundled()).digest()
    forms = [
        {"digestSRI": _sri("sha384")},
        {"digestSRI": f"sha256-bm90LWl0 {_sri('sha512')}"},  # SRI: one of them matches
        {"digestMultibase": "u" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()},
        {"digestMultibase": "z" + b58encode(bytes([0x12, 0x20]) + digest)},  # a multihash
        {"digestSRI": _sri("sha256"), "digestMultibase": "z" + b58encode(digest)},
    ]
    for form in forms:
        assert used_related_resources(_doc({"id": V2, **form}), default_registry()) == 1, form


def test_a_digest_of_another_revision_is_an_error() -> None:
    assert _mismatch({"id": V2, "digestSRI": SUITE_SRI}) == "digest_mismatch"
    assert _mismatch({"id": V2, "digestMultibase": SUITE_MULTIBASE}) == "digest_mismatch"
    one_bit = bytearray(hashlib.sha384(_bundled()).digest())
    one_bit[0] ^= 1
    flipped = "sha384-" + base64.b64encode(bytes(one_bit)).decode()
    assert _mismatch({"id": V2, "digestSRI": flipped}) == "digest_mismatch"
    assert _mismatch({"id": V2, "digestSRI": "md5-abcd"}) == "unsupported_digest"
    assert _mismatch({"id": V2, "digestMultibase": "mAAAA"}) == "unsupported_digest"
    assert _mismatch({"id": V2, "digestMultibase": "z0OIl"}) == "bad_digest"


def test_resources_we_do_not_use_are_not_computed() -> None:
    registry = default_registry()
    elsewhere = {"id": "https://example.com/terms.html", "digestSRI": SUITE_SRI}
    assert used_related_resources(_doc(elsewhere), registry) == 0
    # a bundled context the document does not name is not used either
    other = {"id": "https://w3id.org/security/data-integrity/v2", "digestSRI": SUITE_SRI}
    assert used_related_resources(_doc(other), registry) == 0


async def test_the_verifier_reports_a_mismatch() -> None:
    class _NoLists:
        async def get(self, url: str) -> dict[str, Any] | str:
            raise AssertionError(url)

    options = VerifyOptions(checks=frozenset({"validity"}))
    wrong = _doc({"id": V2, "digestSRI": SUITE_SRI})
    report = await verify_credential(
        wrong, resolver=DidResolver(), status_lists=_NoLists(), options=options
    )
    check = report.check("related_resources")
    assert check is not None and (check.outcome, check.code) == ("failed", "digest_mismatch")
    assert not report.verified
    assert report.problem_details[0]["type"].endswith("CRYPTOGRAPHIC_SECURITY_ERROR")
    right = _doc({"id": V2, "digestSRI": _sri("sha384")})
    report = await verify_credential(
        right, resolver=DidResolver(), status_lists=_NoLists(), options=options
    )
    check = report.check("related_resources")
    assert check is not None and check.outcome == "ok"
