"""Domain linkage: DIF Well Known DID Configuration v1, both proof formats.

An origin proves that its controller also controls a DID by hosting, at
`https://<domain>/.well-known/did-configuration.json`, a DID Configuration
Resource `{"@context": CONFIGURATION_CONTEXT, "linked_dids": [...]}` holding
one Domain Linkage Credential per DID, in either form the specification
allows (§ Linked Data Proof Format, § JSON Web Token Proof Format):

- **JWT**: the header names the DID's key (`alg`, `kid`), the payload
  carries `iss` = `sub` = the DID, `nbf`, `exp` and the VC 1.1 credential
  under `vc`, whose subject is `{id: DID, origin}`;
- **JSON-LD**: the VC 1.1 credential itself (`issuer` = subject `id` = the
  DID, `issuanceDate`, `expirationDate`) with an embedded proof. We make and
  accept Data Integrity proofs (`eddsa-rdfc-2022`, `ecdsa-rdfc-2019`, with
  the Data Integrity v2 context next to the two the specification names),
  checked in safe mode against bundled contexts like every JSON-LD document
  of ours; other proof types are refused with a reason.

Pure: no network; the caller fetches the resource (behind the SSRF guard).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .builders import format_datetime
from .crypto_keys import SigningKey
from .data_integrity import sign_data_integrity, verify_data_integrity
from .dids import DidResolver
from .errors import ContextError, CredentialError, ProofError
from .jws import open_jws, sign_jws, verify_jws_signature
from .shape_rules import parse_datetime

CONFIGURATION_CONTEXT = "https://identity.foundation/.well-known/did-configuration/v1"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
LINKAGE_TYPE = "DomainLinkageCredential"
WELL_KNOWN_PATH = "/.well-known/did-configuration.json"
DEFAULT_LIFETIME = timedelta(days=365)


class LinkageError(CredentialError):
    """Why a domain is not linked to a DID (`code`: `no_linkage`, `expired`,
    `not_yet_valid`, `origin_mismatch`, `malformed_configuration`, or a
    `ProofError` code of the signature)."""


def origin_of(domain: str) -> str:
    """`https://<domain>` for a DNS name; an origin given whole is normalised."""
    if "://" not in domain:
        return f"https://{domain.lower()}"
    parts = urlsplit(domain)
    return f"{parts.scheme}://{parts.netloc}".lower()


def configuration_url(domain: str) -> str:
    return origin_of(domain) + WELL_KNOWN_PATH


def _unsigned(did: str, domain: str, now: datetime, until: datetime) -> dict[str, Any]:
    """The Domain Linkage Credential both forms carry (a VC 1.1 credential)."""
    return {
        "@context": [VC_V1_CONTEXT, CONFIGURATION_CONTEXT],
        "issuer": did,
        "issuanceDate": format_datetime(now),
        "expirationDate": format_datetime(until),
        "type": ["VerifiableCredential", LINKAGE_TYPE],
        "credentialSubject": {"id": did, "origin": origin_of(domain)},
    }


def linkage_jwt(
    did: str, domain: str, key: SigningKey, now: datetime, lifetime: timedelta = DEFAULT_LIFETIME
) -> str:
    """A Domain Linkage Credential (JWT form) linking `did` to `domain`,
    signed by `key` (one of the DID's `assertionMethod` keys)."""
    until = now + lifetime
    claims = {
        "exp": int(until.timestamp()),
        "iss": did,
        "nbf": int(now.timestamp()),
        "sub": did,
        "vc": _unsigned(did, domain, now, until),
    }
    return sign_jws(claims, key, "JWT")


def linkage_ldp(
    did: str, domain: str, key: SigningKey, now: datetime, lifetime: timedelta = DEFAULT_LIFETIME
) -> dict[str, Any]:
    """The same credential in the JSON-LD form, with an embedded Data
    Integrity proof made by `key` (`assertionMethod`)."""
    unsigned = _unsigned(did, domain, now, now + lifetime)
    unsigned["@context"] = [*unsigned["@context"], DATA_INTEGRITY_CONTEXT]
    return sign_data_integrity(unsigned, key, created=now)


def configuration(linked: Sequence[str | dict[str, Any]]) -> dict[str, Any]:
    """The DID Configuration Resource to host at the well-known path."""
    return {"@context": CONFIGURATION_CONTEXT, "linked_dids": list(linked)}


def _entries(resource: dict[str, Any]) -> list[str | dict[str, Any]]:
    if resource.get("@context") != CONFIGURATION_CONTEXT:
        raise LinkageError("malformed_configuration", "not a DID Configuration Resource")
    linked = resource.get("linked_dids")
    if not isinstance(linked, list):
        raise LinkageError("malformed_configuration", "linked_dids is not a list")
    return [entry for entry in linked if isinstance(entry, str | dict)]


def _check_credential(vc: dict[str, Any], did: str, origin: str) -> None:
    """What both forms must say: a DomainLinkageCredential by and about
    `did`, for `origin`."""
    subject = vc.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    issuer = vc.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    types = vc.get("type")
    if subject.get("id") != did or issuer != did:
        raise LinkageError("no_linkage", "the linkage credential is about another DID")
    if not isinstance(types, list) or LINKAGE_TYPE not in types:
        raise LinkageError("no_linkage", f"not a {LINKAGE_TYPE}")
    claimed = subject.get("origin")
    if not isinstance(claimed, str) or origin_of(claimed) != origin:
        raise LinkageError("origin_mismatch", f"the linkage credential names {claimed!r}")


def _check_payload(payload: dict[str, Any], did: str, origin: str, now: datetime) -> None:
    vc = payload.get("vc")
    if payload.get("sub") != did:
        raise LinkageError("no_linkage", "the linkage credential is about another DID")
    _check_credential(vc if isinstance(vc, dict) else {}, did, origin)
    moment = int(now.timestamp())
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if not isinstance(exp, int) or exp <= moment:
        raise LinkageError("expired", "the linkage credential has expired")
    if isinstance(nbf, int) and nbf > moment + 60:
        raise LinkageError("not_yet_valid", "the linkage credential is not valid yet")


async def _check_entry(
    token: str, did: str, origin: str, resolver: DidResolver, now: datetime
) -> None:
    opened = open_jws(token, typs=frozenset({"jwt"}), kind="domain linkage")
    if opened.payload.get("iss") != did:
        raise LinkageError("no_linkage", "signed by another DID")
    _check_payload(opened.payload, did, origin, now)
    await verify_jws_signature(
        opened, did, resolver, purpose="assertionMethod", role="domain linkage"
    )


def _instant(vc: dict[str, Any], member: str) -> datetime | None:
    value = vc.get(member)
    found = parse_datetime(value, stamp=True) if isinstance(value, str) else None
    if value is not None and found is None:
        raise LinkageError("malformed_configuration", f"{member} is not a date-time with an offset")
    return found


async def _check_ld_entry(
    vc: dict[str, Any], did: str, origin: str, resolver: DidResolver, now: datetime
) -> None:
    """The JSON-LD form: the claims, the validity period (`expirationDate` is
    required), then the Data Integrity proof by one of the DID's keys."""
    _check_credential(vc, did, origin)
    until, since = _instant(vc, "expirationDate"), _instant(vc, "issuanceDate")
    if until is None or until <= now:
        raise LinkageError("expired", "the linkage credential has expired")
    if since is not None and since > now + timedelta(seconds=60):
        raise LinkageError("not_yet_valid", "the linkage credential is not valid yet")
    try:
        await verify_data_integrity(vc, resolver, expected_controller=did, now=now)
    except ContextError as error:
        raise LinkageError("malformed_configuration", f"linkage credential: {error}") from None


async def check_linkage(
    resource: dict[str, Any], did: str, domain: str, resolver: DidResolver, now: datetime
) -> None:
    """Returns when one entry of `resource` links `did` to `domain`, else
    raises `LinkageError` with the most telling reason."""
    origin = origin_of(domain)
    best = LinkageError("no_linkage", f"no linkage credential for {did} at {origin}")
    for entry in _entries(resource):
        try:
            if isinstance(entry, str):
                await _check_entry(entry, did, origin, resolver, now)
            else:
                await _check_ld_entry(entry, did, origin, resolver, now)
            return
        except LinkageError as error:
            if error.code != "no_linkage" or best.code == "no_linkage":
                best = error
        except ProofError as error:
            best = LinkageError(error.code, f"linkage credential: {error.detail}")
    raise best
