"""verify.py: the single entry point, end to end on pure data (no network)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from shared.credentials.crypto_keys import SigningKey, b64url_encode, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.errors import CredentialError
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.report import CheckResult, VerificationReport
from shared.credentials.status_list import (
    BitstringStatusList,
    status_entry,
    status_entry_2021,
    status_list_2021_credential,
    status_list_credential,
)
from shared.credentials.verify import VerifyOptions, requested_checks, verify_credential
from tests.unit.credentials.vc_samples import NOW, iso, ob3_credential

LISTS = "https://status.example/lists"


class MemoryLists:
    """A StatusListSource over a dict; unknown URLs are unreachable."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any] | str] = {}
        self.calls: list[str] = []

    async def get(self, url: str) -> dict[str, Any] | str:
        self.calls.append(url)
        if url not in self.docs:
            raise ConnectionError("list server unreachable")
        return self.docs[url]


class Issuer:
    def __init__(self) -> None:
        self.key = generate_ed25519()
        self.did = did_key_for(self.key.public_key)

    def publish_list(
        self, lists: MemoryLists, name: str, purpose: str, flagged: tuple[int, ...] = ()
    ) -> str:
        bits = BitstringStatusList()
        for index in flagged:
            bits.set(index, 1)
        url = f"{LISTS}/{name}"
        doc = status_list_credential(
            url, self.did, purpose, bits.encode(), iso(NOW - timedelta(hours=1))
        )
        lists.docs[url] = sign_vc_jwt(doc, self.key)
        return url

    def credential(self, **kwargs: Any) -> dict[str, Any]:
        return ob3_credential(self.did, **kwargs)


async def _verify(credential: Any, lists: MemoryLists, **kwargs: Any) -> VerificationReport:
    return await verify_credential(
        credential, resolver=DidResolver(), status_lists=lists, now=NOW, **kwargs
    )


def _outcomes(report: VerificationReport) -> dict[str, tuple[str, str | None]]:
    return {c.name: (c.outcome, c.code) for c in report.checks}


@pytest.fixture
def setup() -> tuple[Issuer, MemoryLists]:
    issuer, lists = Issuer(), MemoryLists()
    issuer.publish_list(lists, "rev", "revocation", flagged=(7,))
    issuer.publish_list(lists, "sus", "suspension", flagged=(8,))
    return issuer, lists


def _with_status(issuer: Issuer, index: int, **kwargs: Any) -> dict[str, Any]:
    status = [
        status_entry(f"{LISTS}/rev", index, "revocation"),
        status_entry(f"{LISTS}/sus", index, "suspension"),
    ]
    return issuer.credential(status=status, **kwargs)


async def test_valid_jwt_credential(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    credential = _with_status(issuer, 3)
    report = await _verify(sign_vc_jwt(credential, issuer.key), lists)
    assert report.verified, report.checks
    assert [c.name for c in report.checks] == ["shape", "proof", "validity", "status"]
    assert report.credential == credential
    body = report.to_vc_api()
    assert body["verified"] is True and body["problemDetails"] == []
    assert {r["check"]: r["outcome"] for r in body["results"]}["status"] == "ok"
    assert sorted(set(lists.calls)) == [f"{LISTS}/rev", f"{LISTS}/sus"]


async def test_enveloped_and_json_string_forms(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    token = sign_vc_jwt(_with_status(issuer, 3), issuer.key)
    for media in ("application/vc+jwt", "application/jwt"):
        envelope = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "EnvelopedVerifiableCredential",
            "id": f"data:{media},{token}",
        }
        assert (await _verify(envelope, lists)).verified
    b64 = base64.b64encode(token.encode()).decode()
    envelope["id"] = f"data:application/vc+jwt;base64,{b64}"
    assert (await _verify(envelope, lists)).verified
    envelope["id"] = f"data:text/plain,{token}"
    report = await _verify(envelope, lists)
    assert not report.verified and _outcomes(report) == {
        "format": ("failed", "unsupported_envelope")
    }


async def test_revoked_and_suspended(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    revoked = await _verify(sign_vc_jwt(_with_status(issuer, 7), issuer.key), lists)
    assert not revoked.verified
    status = revoked.check("status")
    assert status is not None and status.outcome == "failed" and status.code == "revoked"
    assert "revoked" in (status.reason or "") and "index 7" in (status.reason or "")
    problems = revoked.to_vc_api()["problemDetails"]
    assert problems == [
        {
            "type": "https://w3id.org/microcred/problems#revoked",
            "title": "Credential status",
            "detail": status.reason,
        }
    ]
    suspended = await _verify(sign_vc_jwt(_with_status(issuer, 8), issuer.key), lists)
    assert _outcomes(suspended)["status"] == ("failed", "suspended")


async def test_expired_and_not_yet_valid(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    expired = issuer.credential(
        valid_from=NOW - timedelta(days=30), valid_until=NOW - timedelta(days=1)
    )
    report = await _verify(sign_vc_jwt(expired, issuer.key), lists)
    assert _outcomes(report)["validity"] == ("failed", "expired")
    assert _outcomes(report)["proof"] == ("ok", None) and not report.verified
    future = issuer.credential(valid_from=NOW + timedelta(days=2))
    report = await _verify(sign_vc_jwt(future, issuer.key), lists)
    assert _outcomes(report)["validity"] == ("failed", "not_yet_valid")
    # inside the clock skew is still valid
    soon = issuer.credential(valid_from=NOW + timedelta(seconds=30))
    assert (await _verify(sign_vc_jwt(soon, issuer.key), lists)).verified


async def test_status_list_bits_changed_after_signing(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    head, payload, sig = str(lists.docs[f"{LISTS}/rev"]).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    cleared = BitstringStatusList()  # the attacker un-revokes index 7
    body["credentialSubject"]["encodedList"] = cleared.encode()
    lists.docs[f"{LISTS}/rev"] = f"{head}.{b64url_encode(json.dumps(body).encode())}.{sig}"
    report = await _verify(sign_vc_jwt(_with_status(issuer, 7), issuer.key), lists)
    assert not report.verified
    assert _outcomes(report)["status"] == ("failed", "signature_invalid")


async def test_status_list_from_a_different_issuer(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    impostor = Issuer()
    impostor.publish_list(
        lists, "rev", "revocation"
    )  # a clean list, validly signed by someone else
    report = await _verify(sign_vc_jwt(_with_status(issuer, 7), issuer.key), lists)
    assert not report.verified
    assert _outcomes(report)["status"] == ("failed", "issuer_mismatch")


async def test_status_purpose_mismatch(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    entry = status_entry(f"{LISTS}/rev", 3, "suspension")  # points at the revocation list
    report = await _verify(sign_vc_jwt(issuer.credential(status=entry), issuer.key), lists)
    assert _outcomes(report)["status"] == ("failed", "purpose_mismatch")


async def test_unreachable_list_is_not_checked(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    entry = status_entry(f"{LISTS}/gone", 3, "revocation")
    token = sign_vc_jwt(issuer.credential(status=entry), issuer.key)
    report = await _verify(token, lists)
    assert _outcomes(report)["status"] == ("not_checked", "status_unavailable")
    assert not report.verified
    problem = report.to_vc_api()["problemDetails"][0]
    assert problem["type"].endswith("#STATUS_RETRIEVAL_ERROR") and problem["code"] == -128
    tolerant = VerifyOptions(tolerate_not_checked=frozenset({"status"}))
    assert (await _verify(token, lists, options=tolerant)).verified


async def test_stale_status_list(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    bits = BitstringStatusList()
    url = f"{LISTS}/old"
    start, end = iso(NOW - timedelta(days=9)), iso(NOW - timedelta(days=2))
    doc = status_list_credential(
        url, issuer.did, "revocation", bits.encode(), start, valid_until=end
    )
    lists.docs[url] = sign_vc_jwt(doc, issuer.key)
    entry = status_entry(url, 3, "revocation")
    report = await _verify(sign_vc_jwt(issuer.credential(status=entry), issuer.key), lists)
    assert _outcomes(report)["status"] == ("not_checked", "status_list_stale")


async def test_tampered_jwt_fails_proof_and_skips_status(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    head, payload, sig = sign_vc_jwt(_with_status(issuer, 3), issuer.key).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["credentialSubject"]["achievement"]["name"] = "Something Grander"
    report = await _verify(f"{head}.{b64url_encode(json.dumps(body).encode())}.{sig}", lists)
    assert _outcomes(report)["proof"] == ("failed", "signature_invalid")
    assert _outcomes(report)["status"] == ("not_checked", "no_proof")
    assert lists.calls == []  # nothing fetched for an unverified credential
    types = [p["type"] for p in report.to_vc_api()["problemDetails"]]
    assert "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR" in types


async def test_data_integrity_credential(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    signed = sign_data_integrity(_with_status(issuer, 3), issuer.key)
    report = await _verify(signed, lists)
    assert report.verified, report.checks
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    report = await _verify(tampered, lists)
    assert _outcomes(report)["proof"][0] == "failed"
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert _outcomes(await _verify(unsigned, lists))["proof"] == ("failed", "missing_proof")


async def test_unreachable_did_web_is_not_checked(setup: tuple[Issuer, MemoryLists]) -> None:
    _, lists = setup
    key = SigningKey(generate_ed25519().private_key, "did:web:school.example#k1")
    token = sign_vc_jwt(ob3_credential("did:web:school.example"), key)
    report = await _verify(token, lists)
    assert _outcomes(report)["proof"] == ("not_checked", "key_unavailable")
    assert not report.verified


async def test_shape_failure_is_reported(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    credential = issuer.credential()
    del credential["credentialSubject"]["achievement"]
    report = await _verify(sign_vc_jwt(credential, issuer.key), lists)
    assert _outcomes(report)["shape"][0] == "failed"
    assert _outcomes(report)["proof"] == ("ok", None)
    assert not report.verified


@pytest.mark.parametrize("bad", ["", "not a jwt", "{not json", "[1, 2]", 42])
async def test_unreadable_input(bad: Any, setup: tuple[Issuer, MemoryLists]) -> None:
    report = await _verify(bad, setup[1])
    assert not report.verified and report.credential is None
    assert [c.name for c in report.checks] == ["format"]
    assert report.to_vc_api()["problemDetails"][0]["type"].endswith("#PARSING_ERROR")


def test_report_is_extensible() -> None:
    report = VerificationReport({"id": "x"})
    assert not report.verified  # no checks at all is not a verdict
    report.add(CheckResult("proof", "ok"))
    assert report.verified
    report.add(
        CheckResult("issuer_known", "failed", "issuer is not in the registry", "unknown_issuer")
    )
    assert not report.verified
    assert report.problem_details == [
        {
            "type": "https://w3id.org/microcred/problems#issuer-known",
            "title": "Issuer known",
            "detail": "issuer is not in the registry",
        }
    ]


def test_hypothesis_style_round_trip_runs_in_sync_context() -> None:
    # guard: verify_credential works from a fresh event loop (used by the property tests)
    issuer, lists = Issuer(), MemoryLists()
    token = sign_vc_jwt(issuer.credential(), issuer.key)
    assert asyncio.run(_verify(token, lists)).verified


async def test_status_list_2021_entry(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    bits = BitstringStatusList()
    bits.set(21, 1)
    url = f"{LISTS}/2021"
    doc = status_list_2021_credential(
        url, issuer.did, "revocation", bits.encode_2021(), iso(NOW - timedelta(days=1))
    )
    lists.docs[url] = sign_vc_jwt(doc, issuer.key)
    for index, expected in ((20, ("ok", None)), (21, ("failed", "revoked"))):
        entry = status_entry_2021(url, index, "revocation")
        token = sign_vc_jwt(issuer.credential(status=entry), issuer.key)
        assert _outcomes(await _verify(token, lists))["status"] == expected


async def test_unsupported_status_type_is_not_checked(setup: tuple[Issuer, MemoryLists]) -> None:
    issuer, lists = setup
    entry = {"id": "https://x.example/1", "type": "1EdTechRevocationList"}
    report = await _verify(sign_vc_jwt(issuer.credential(status=entry), issuer.key), lists)
    assert _outcomes(report)["status"] == ("not_checked", "unsupported_status_type")
    assert not report.verified


async def test_only_the_requested_checks_are_made(setup: tuple[Issuer, MemoryLists]) -> None:
    """VC-API `options.checks`: an expired, revoked credential passes
    (`verified`) when only its proof is asked for, but its verdict is not
    valid; `checks` lists what was checked, failed ones too."""
    issuer, lists = setup
    expired = _with_status(
        issuer, 7, valid_from=NOW - timedelta(days=30), valid_until=NOW - timedelta(days=1)
    )
    token = sign_vc_jwt(expired, issuer.key)
    proof_only = await _verify(token, lists, options=VerifyOptions(checks=frozenset({"proof"})))
    assert proof_only.verified and lists.calls == []
    assert proof_only.to_vc_api()["checks"] == ["shape", "proof"]
    everything = await _verify(token, lists)
    assert not everything.verified
    assert everything.to_vc_api()["checks"] == ["shape", "proof", "validity", "status"]
    status = await _verify(
        token, lists, options=VerifyOptions(checks=requested_checks(["credentialStatus"]))
    )
    assert _outcomes(status) == {"shape": ("ok", None), "status": ("failed", "revoked")}
    assert status.state == "revoked" and not status.verified
    # a report that left a core check out never says it is valid or in force
    assert (proof_only.state, proof_only.verdict) == ("unchecked", "invalid")
    details = proof_only.to_vc_api()["stateDetails"]
    assert (details["check"], details["code"]) == ("validity", "not_requested")
    assert "Only the checks asked for" in details["advice"]
    unproven = await _verify(token, lists, options=VerifyOptions(checks=frozenset({"validity"})))
    assert (unproven.state, unproven.verdict) == ("expired", "invalid")
    fresh = sign_vc_jwt(issuer.credential(), issuer.key)
    proof_and_dates = VerifyOptions(checks=frozenset({"proof", "validity"}))
    left_status = await _verify(fresh, lists, options=proof_and_dates)
    assert left_status.verified and left_status.verdict == "invalid"
    assert left_status.to_vc_api()["stateDetails"]["check"] == "status"
    assert (await _verify(fresh, lists)).verdict == "valid"


def test_unknown_checks_are_refused() -> None:
    assert requested_checks(None) is None
    assert requested_checks(["proof", "expiration"]) == {"proof", "validity"}
    for bad in (["proof", "teleport"], "proof", [1]):
        with pytest.raises(CredentialError) as info:
            requested_checks(bad)
        assert info.value.code == "unknown_check"


async def test_any_vc_verifies(setup: tuple[Issuer, MemoryLists]) -> None:
    """Not an Open Badge: the VC data model rules, and the same proof checks."""
    issuer, lists = setup
    generic = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "credentialSubject": {"id": "did:example:subject"},
    }
    for signed in (sign_data_integrity(generic, issuer.key), sign_vc_jwt(generic, issuer.key)):
        report = await _verify(signed, lists)
        assert report.verified, report.checks
    no_subject = {k: v for k, v in generic.items() if k != "credentialSubject"}
    report = await _verify(sign_data_integrity(no_subject, issuer.key), lists)
    assert _outcomes(report)["shape"] == ("failed", "missing_field") and not report.verified


async def test_issuer_url_is_not_bound_to_the_key(setup: tuple[Issuer, MemoryLists]) -> None:
    """A DID issuer must control the key; an issuer named by a plain URL
    (VC DM 2.0 §4.7) cannot be compared with a key's controller."""
    issuer, lists = setup
    generic = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "https://vc.example/issuers/5678",
        "credentialSubject": {"id": "did:example:subject"},
    }
    assert (await _verify(sign_data_integrity(generic, issuer.key), lists)).verified
    other = {**generic, "issuer": Issuer().did}
    report = await _verify(sign_data_integrity(other, issuer.key), lists)
    assert _outcomes(report)["proof"] == ("failed", "controller_mismatch")


async def test_json_ld_status_lists_are_read(setup: tuple[Issuer, MemoryLists]) -> None:
    """A list served as JSON-LD with an eddsa-rdfc-2022 proof reads like its
    VC-JWT twin; a tampered one does not verify."""
    issuer, lists = setup
    bits = BitstringStatusList()
    bits.set(5, 1)
    url = f"{LISTS}/ld"
    doc = status_list_credential(
        url, issuer.did, "revocation", bits.encode(), iso(NOW - timedelta(hours=1))
    )
    lists.docs[url] = sign_data_integrity(doc, issuer.key)
    revoked = issuer.credential(status=[status_entry(url, 5, "revocation")])
    fine = issuer.credential(status=[status_entry(url, 4, "revocation")])
    assert _outcomes(await _verify(sign_vc_jwt(revoked, issuer.key), lists))["status"] == (
        "failed",
        "revoked",
    )
    assert (await _verify(sign_vc_jwt(fine, issuer.key), lists)).verified
    tampered = json.loads(json.dumps(lists.docs[url]))
    tampered["credentialSubject"]["encodedList"] = BitstringStatusList().encode()
    lists.docs[url] = tampered
    report = await _verify(sign_vc_jwt(revoked, issuer.key), lists)
    assert _outcomes(report)["status"][0] == "failed" and not report.verified


async def test_a_key_we_could_not_fetch_is_not_checked(setup: tuple[Issuer, MemoryLists]) -> None:
    """Could not check is never a failed proof: a did:web key that is not
    reachable, whatever the proof type."""
    _, lists = setup
    for proof_type in ("Ed25519Signature2018", "Ed25519Signature2020"):
        doc = {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                "https://w3id.org/security/suites/ed25519-2020/v1",
            ],
            "type": ["VerifiableCredential"],
            "issuer": "did:web:school.example",
            "issuanceDate": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:subject"},
            "proof": {
                "type": proof_type,
                "created": "2024-01-01T00:00:00Z",
                "verificationMethod": "did:web:school.example#key-1",
                "proofPurpose": "assertionMethod",
            },
        }
        if proof_type == "Ed25519Signature2020":
            doc["proof"]["proofValue"] = "z" + "1" * 64  # 64 zero bytes
        else:  # a detached JWS (RFC 7797)
            header = b64url_encode(b'{"alg":"EdDSA","b64":false,"crit":["b64"]}')
            doc["proof"]["jws"] = f"{header}..{b64url_encode(bytes(64))}"
        report = await _verify(doc, lists)
        assert _outcomes(report)["proof"][0] == "not_checked", (proof_type, report.checks)
        assert not report.verified
