"""Open Badges 2.0 assertions: hosted, signed (JWS) and baked (IMS Open Badges
v2.0, "Verification" and "Baking").

Most badges people hold today (Credly, Badgr/Canvas Credentials) are OB 2.0.
They are no Verifiable Credentials: the checks are the ones that version
allows, reported like ours (``format`` says "Open Badges 2.0"):

- ``shape``: an ``Assertion`` with ``id``, ``recipient``, ``badge``,
  ``verification`` and ``issuedOn`` (OB 2.0 "Assertion");
- ``proof``: a *hosted* assertion is fetched from its ``id`` (https, through
  the caller's SSRF-guarded fetcher) and must still be served as the same
  assertion; a *signed* one is a compact JWS verified with the issuer's
  ``CryptographicKey`` (``verification.creator``), whose ``owner`` must be
  the issuer Profile that lists it in ``publicKey``;
- ``validity``: ``expires``;
- ``status``: hosted, the served copy's ``revoked``; signed, the issuer's
  ``revocationList``.

Fetch failures are ``not_checked``, never ``failed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .crypto_keys import PublicKey
from .errors import CredentialError, ProofError
from .jws import check_jws_signature, open_jws, peek_jws
from .jwt import parse_vc_datetime
from .report import CheckResult, Outcome, VerificationReport

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
FetchJson = Callable[[str], Awaitable[dict[str, Any]]]
_REQUIRED = ("id", "recipient", "badge", "verification", "issuedOn")


class Unreachable(CredentialError):
    """A document the verification needs could not be fetched."""


def _has_ob2_context(doc: object) -> bool:
    if not isinstance(doc, Mapping):
        return False
    context = doc.get("@context")
    return context == OB2_CONTEXT or (isinstance(context, list) and OB2_CONTEXT in context)


def is_ob2(value: object) -> bool:
    """An OB 2.0 assertion: JSON with the OB 2.0 context, or a JWS whose payload is one."""
    if isinstance(value, str) and value.count(".") == 2:
        try:
            return _has_ob2_context(peek_jws(value.strip())[1])
        except CredentialError:
            return False
    return _has_ob2_context(value)


async def _get(fetch: FetchJson, url: object, what: str) -> dict[str, Any]:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
        raise ProofError("bad_reference", f"{what} is not a URL")
    try:
        return await fetch(url)
    except Exception as exc:  # any fetch failure means "could not check"
        raise Unreachable("unavailable", f"{what} {url} could not be fetched ({exc})") from exc


def _ref_id(value: object) -> object:
    return value.get("id") if isinstance(value, Mapping) else value


def _shape(assertion: Mapping[str, Any]) -> CheckResult:
    missing = [name for name in _REQUIRED if name not in assertion]
    kind = assertion.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if missing or "Assertion" not in kinds:
        detail = f"missing {', '.join(missing)}" if missing else "type must be Assertion"
        return CheckResult("shape", "failed", f"not an OB 2.0 Assertion: {detail}", "bad_ob2")
    return CheckResult("shape", "ok", "Open Badges 2.0 Assertion")


def _verification_type(assertion: Mapping[str, Any]) -> str:
    verification = assertion.get("verification")
    kind = verification.get("type") if isinstance(verification, Mapping) else None
    lowered = kind.lower() if isinstance(kind, str) else ""
    if lowered in ("hostedbadge", "hosted"):
        return "hosted"
    if lowered in ("signedbadge", "signed"):
        return "signed"
    raise ProofError("bad_ob2", "verification.type must be HostedBadge or SignedBadge")


async def _issuer(assertion: Mapping[str, Any], fetch: FetchJson) -> dict[str, Any]:
    badge = assertion.get("badge")
    badge_class = badge if isinstance(badge, Mapping) else await _get(fetch, badge, "BadgeClass")
    issuer = badge_class.get("issuer")
    return dict(issuer) if isinstance(issuer, Mapping) else await _get(fetch, issuer, "Issuer")


async def _hosted(assertion: Mapping[str, Any], fetch: FetchJson) -> dict[str, Any]:
    """The served copy: the trust anchor of a hosted assertion."""
    served = await _get(fetch, assertion.get("id"), "the hosted assertion")
    for name in ("id", "recipient", "badge", "issuedOn"):
        if _ref_id(served.get(name)) != _ref_id(assertion.get(name)):
            raise ProofError("hosted_mismatch", f"the hosted assertion's {name} differs")
    return served


async def _signed(token: str, payload: Mapping[str, Any], fetch: FetchJson) -> None:
    opened = open_jws(token, typs=frozenset({"jwt"}), kind="OB 2.0")
    verification = payload.get("verification")
    creator = verification.get("creator") if isinstance(verification, Mapping) else None
    key_doc = await _get(fetch, creator, "verification.creator")
    issuer = await _issuer(payload, fetch)
    keys = issuer.get("publicKey")
    listed = [_ref_id(k) for k in (keys if isinstance(keys, list) else [keys])]
    if key_doc.get("owner") != issuer.get("id") or key_doc.get("id") not in listed:
        raise ProofError("key_not_owned", "the CryptographicKey is not the issuer's")
    try:
        key: PublicKey = load_pem_public_key(str(key_doc.get("publicKeyPem")).encode())  # type: ignore[assignment]
    except ValueError as exc:
        raise ProofError("bad_key", "publicKeyPem is not a PEM public key") from exc
    check_jws_signature(opened, key)


async def _revoked(
    assertion: Mapping[str, Any], kind: str, served: Mapping[str, Any] | None, fetch: FetchJson
) -> CheckResult:
    if kind == "hosted":
        if served is not None and served.get("revoked") is True:
            reason = served.get("revocationReason") or "revoked by its issuer"
            return CheckResult("status", "failed", str(reason), "revoked")
        return CheckResult("status", "ok", "the hosted assertion is served and not revoked")
    issuer = await _issuer(assertion, fetch)
    if "revocationList" not in issuer:
        return CheckResult("status", "ok", "the issuer publishes no revocation list")
    listed = await _get(fetch, issuer["revocationList"], "revocationList")
    revoked = listed.get("revokedAssertions") or []
    for entry in revoked if isinstance(revoked, list) else []:
        if _ref_id(entry) == assertion.get("id") or entry == assertion.get("uid"):
            reason = entry.get("revocationReason") if isinstance(entry, Mapping) else None
            return CheckResult("status", "failed", str(reason or "revoked"), "revoked")
    return CheckResult("status", "ok", "not in the issuer's revocation list")


def _window(assertion: Mapping[str, Any], now: datetime) -> CheckResult:
    expires = assertion.get("expires")
    if expires is None:
        return CheckResult("validity", "ok", "no expiry")
    try:
        end = parse_vc_datetime(expires, "/expires")
    except CredentialError as exc:
        return CheckResult("validity", "failed", exc.detail, exc.code)
    if now - timedelta(seconds=60) > end:
        return CheckResult("validity", "failed", f"expired at {expires}", "expired")
    return CheckResult("validity", "ok", f"valid until {expires}")


def _failure(name: str, exc: CredentialError) -> CheckResult:
    outcome: Outcome = "not_checked" if isinstance(exc, Unreachable) else "failed"
    return CheckResult(name, outcome, exc.detail, exc.code)


async def verify_ob2(
    value: Mapping[str, Any] | str, fetch: FetchJson, now: datetime
) -> VerificationReport:
    """Verify an OB 2.0 assertion (JSON or JWS); never raises for a bad one."""
    token = value.strip() if isinstance(value, str) else None
    if isinstance(value, str):
        try:
            assertion = dict(peek_jws(value.strip())[1])
        except CredentialError as exc:
            report = VerificationReport(None)
            report.add(CheckResult("format", "failed", exc.detail, exc.code))
            return report
    else:
        assertion = dict(value)
    report = VerificationReport(assertion)
    try:
        kind = _verification_type(assertion)
    except CredentialError as exc:
        report.add(CheckResult("format", "failed", exc.detail, exc.code))
        return report
    report.add(CheckResult("format", "ok", f"Open Badges 2.0 ({kind} assertion)", f"ob2_{kind}"))
    report.add(_shape(assertion))
    served: dict[str, Any] | None = None
    try:
        if kind == "hosted":
            served = await _hosted(assertion, fetch)
        elif token is None:
            raise ProofError("missing_proof", "a signed assertion is a JWS, not bare JSON")
        else:
            await _signed(token, assertion, fetch)
        report.add(CheckResult("proof", "ok", "served by its issuer" if served else "JWS"))
    except CredentialError as exc:
        report.add(_failure("proof", exc))
        report.add(_window(assertion, now))
        report.add(CheckResult("status", "not_checked", "the proof did not verify", "no_proof"))
        return report
    report.add(_window(served or assertion, now))
    try:
        report.add(await _revoked(assertion, kind, served, fetch))
    except CredentialError as exc:
        report.add(_failure("status", exc))
    return report
