"""One entry point to verify a credential: :func:`verify_credential`.

Accepted forms: a JSON object with an embedded proof (Data Integrity, or a VC
1.1 Linked Data proof), a compact VC-JWT, or a VC 2.0
``EnvelopedVerifiableCredential`` (``data:application/vc+jwt,<jwt>``).

Checks, in the order of OB 3.0 §9.1 "Verifying" (schema, proof, then status
and the validity window): ``shape``, ``proof``, ``validity``, ``status``.
Refresh, recipient and endorsements are left to the caller. A ``not_checked``
outcome (a status list or did:web that could not be fetched) makes the report
unverified unless ``VerifyOptions.tolerate_not_checked`` names that check:
failing closed is the safe default for a public verifier.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

import orjson

from .data_integrity import Canonicalizer, verify_data_integrity
from .dids import DidResolver
from .ed25519_ld import LD_TYPES, verify_ed25519_ld
from .errors import CredentialError
from .jsonld import ContextRegistry, default_registry
from .jwt import issuer_id, parse_vc_datetime, peek_vc_jwt, verify_vc_jwt
from .key_revocation import check_key_revocation
from .legacy_proofs import LEGACY_PROOF_TYPES, verify_legacy_proof
from .list_cache import VerifiedLists
from .model import check_credential
from .related_resources import used_related_resources
from .report import CORE_CHECKS, CheckResult, Outcome, VerificationReport
from .status_list import StatusReading, parse_status_entry, read_status

ENVELOPE_MEDIA_TYPES = frozenset({"application/vc+jwt", "application/jwt", "application/vc-ld+jwt"})
# Codes that mean "could not check" rather than "checked and wrong".
# (network_resolution_refused: a VC 1.1 proof whose did:web key didkit would
# fetch itself, past our SSRF guard: we did not check it, it is not wrong.)
UNAVAILABLE_CODES = frozenset({"key_unavailable", "unavailable", "network_resolution_refused"})
_MAX_REASONS = 5
RELATED_RESOURCES = "related_resources"  # VC 2.0 §5.3 digests of the contexts used


class StatusListSource(Protocol):
    """Where status list credentials come from (a Kafka-fed replica, HTTP, a cache)."""

    async def get(self, url: str) -> dict[str, Any] | str:
        """The list credential at ``url``, as JSON or as a VC-JWT; raise if unavailable."""
        ...


@dataclass(frozen=True)
class VerifyOptions:
    """Knobs for :func:`verify_credential`."""

    clock_skew: timedelta = timedelta(seconds=60)
    tolerate_not_checked: frozenset[str] = frozenset()
    check_shape: bool = True
    allow_network_dids: bool = False  # let didkit resolve did:web for VC 1.1 proofs
    canonicalizer: Canonicalizer | None = None  # RDFC-1.0 elsewhere (a process pool)
    # The bundled contexts (None: the default registry, without the W3C
    # example contexts; see MICROCRED_JSONLD_EXAMPLE_CONTEXTS).
    contexts: ContextRegistry | None = None
    # Called with the unwrapped credential (and its JWT) before any check; it
    # may raise to refuse the request (the verifier's work budget).
    precheck: Callable[[dict[str, Any], str | None], None] | None = None
    # VC-API `options.checks`: which of proof, validity, status to make (None: all).
    # The shape (the VC data model) is always checked: it says what the input is.
    checks: frozenset[str] | None = None

    def wants(self, check: str) -> bool:
        return self.checks is None or check in self.checks

    @property
    def not_requested(self) -> frozenset[str]:
        """The core checks `checks` leaves out."""
        return frozenset(c for c in CORE_CHECKS if not self.wants(c))


# VC-API `options.checks` names (VCALM and the W3C suites) -> our checks.
CHECK_ALIASES = {
    "proof": "proof",
    "validity": "validity",
    "expiration": "validity",
    "validityPeriod": "validity",
    "status": "status",
    "credentialStatus": "status",
}


def requested_checks(names: object) -> frozenset[str] | None:
    """Our check names for a VC-API ``options.checks`` value (None when absent).

    Raises ``CredentialError`` (``unknown_check``) for a name we do not make."""
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CredentialError("unknown_check", "options.checks must be an array of strings")
    unknown = sorted(n for n in names if n not in CHECK_ALIASES)
    if unknown:
        known = ", ".join(sorted(CHECK_ALIASES))
        raise CredentialError("unknown_check", f"unknown checks {unknown} (known: {known})")
    return frozenset(CHECK_ALIASES[n] for n in names)


# --- input forms -----------------------------------------------------------------


def _data_url_jwt(url: object) -> str:
    """VC 2.0 §4.13 enveloped credential: ``data:<media type>[;base64],<jwt>``."""
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise CredentialError("unsupported_envelope", "envelope id must be a data: URL", "/id")
    meta, _, data = url[5:].partition(",")
    media_type, *params = meta.split(";")
    if media_type.strip().lower() not in ENVELOPE_MEDIA_TYPES:
        raise CredentialError("unsupported_envelope", f"media type {media_type!r}", "/id")
    try:
        raw = unquote_to_bytes(data)
        raw = base64.b64decode(raw, validate=True) if "base64" in params else raw
        return raw.decode("ascii").strip()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise CredentialError("unsupported_envelope", "unreadable data: URL", "/id") from exc


def _is_envelope(doc: dict[str, Any]) -> bool:
    types = doc.get("type")
    return "EnvelopedVerifiableCredential" in (types if isinstance(types, list) else [types])


def unwrap(credential: dict[str, Any] | str) -> tuple[dict[str, Any], str | None]:
    """(document, JWT or None); the document of a JWT is its unverified payload."""
    if isinstance(credential, str):
        text = credential.strip()
        if text.startswith("{"):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise CredentialError("malformed_input", "not valid JSON") from exc
            if not isinstance(parsed, dict):
                raise CredentialError("malformed_input", "a credential is a JSON object")
            return unwrap(parsed)
        return peek_vc_jwt(text)[1], text
    if not isinstance(credential, dict):
        raise CredentialError("malformed_input", "a credential is a JSON object or a JWT")
    if _is_envelope(credential):
        token = _data_url_jwt(credential.get("id"))
        return peek_vc_jwt(token)[1], token
    return credential, None


# --- checks ----------------------------------------------------------------------


def _shape_check(doc: dict[str, Any]) -> CheckResult:
    errors = check_credential(doc)
    if not errors:
        return CheckResult("shape", "ok")
    reasons = [f"{e.path}: {e.detail}" if e.path else e.detail for e in errors[:_MAX_REASONS]]
    more = f" (+{len(errors) - _MAX_REASONS} more)" if len(errors) > _MAX_REASONS else ""
    return CheckResult("shape", "failed", "; ".join(reasons) + more, errors[0].code)


def _related_resources_check(doc: dict[str, Any], registry: ContextRegistry) -> CheckResult | None:
    """VC 2.0 §5.3 for the contexts we process the document with (None: none named)."""
    try:
        checked = used_related_resources(doc, registry)
    except CredentialError as exc:
        return _failure(RELATED_RESOURCES, exc)
    if not checked:
        return None
    return CheckResult(RELATED_RESOURCES, "ok", f"{checked} digest(s) of bundled contexts match")


async def _verify_embedded(
    doc: dict[str, Any], resolver: DidResolver, now: datetime, opts: VerifyOptions
) -> None:
    raw = doc.get("proof")
    if raw is None or raw == []:
        raise CredentialError("missing_proof", "the credential has no proof", "/proof")
    proofs = raw if isinstance(raw, list) else [raw]
    kinds = {
        p.get("type") if isinstance(p, dict) and isinstance(p.get("type"), str) else None
        for p in proofs
    }
    if kinds == {"DataIntegrityProof"}:
        await verify_data_integrity(
            doc, resolver, now=now, contexts=opts.contexts, canonicalizer=opts.canonicalizer
        )
    elif kinds <= LD_TYPES:
        # our RDFC path, every bundled context
        await verify_ed25519_ld(doc, resolver, contexts=opts.contexts)
    elif kinds <= LEGACY_PROOF_TYPES:
        await verify_legacy_proof(
            doc, allow_network_dids=opts.allow_network_dids, contexts=opts.contexts
        )
    else:
        raise CredentialError("unsupported_proof", f"proof types {sorted(map(str, kinds))}")


async def verify_secured(
    doc: dict[str, Any],
    token: str | None,
    resolver: DidResolver,
    now: datetime,
    opts: VerifyOptions,
) -> dict[str, Any]:
    """Verify the proof of an unwrapped credential; return the verified document.

    A proof made with a compromised key (its method's ``revoked`` time at or
    before the document's own time) fails with ``key_compromised``."""
    if token is not None:
        verified = await verify_vc_jwt(token, resolver)
    else:
        await _verify_embedded(doc, resolver, now, opts)
        verified = doc
    await check_key_revocation(verified, token, resolver, now)
    return verified


def _failure(name: str, exc: CredentialError, prefix: str = "") -> CheckResult:
    outcome: Outcome = "not_checked" if exc.code in UNAVAILABLE_CODES else "failed"
    where = f" (at {exc.path})" if exc.path else ""
    return CheckResult(name, outcome, f"{prefix}{exc.detail}{where}", exc.code)


def window_check(
    doc: dict[str, Any], now: datetime, skew: timedelta, name: str = "validity"
) -> CheckResult:
    """validFrom/validUntil (VC 2.0 §4.9), or VC 1.1 issuanceDate/expirationDate."""
    start_name = "validFrom" if "validFrom" in doc else "issuanceDate"
    end_name = "validUntil" if "validUntil" in doc else "expirationDate"
    try:
        start = parse_vc_datetime(doc[start_name], f"/{start_name}") if start_name in doc else None
        end = parse_vc_datetime(doc[end_name], f"/{end_name}") if end_name in doc else None
    except CredentialError as exc:
        return _failure(name, exc)
    if start is not None and now + skew < start:
        return CheckResult(name, "failed", f"not valid before {doc[start_name]}", "not_yet_valid")
    if end is not None and now - skew > end:
        return CheckResult(name, "failed", f"expired at {doc[end_name]}", "expired")
    span = f"from {doc.get(start_name, '-')} until {doc.get(end_name, '-')}"
    return CheckResult(name, "ok", f"valid {span}")


# --- status ----------------------------------------------------------------------


class _StatusContext:
    """Per-call state: fetched and verified list credentials, by URL."""

    def __init__(
        self,
        resolver: DidResolver,
        lists: StatusListSource,
        now: datetime,
        opts: VerifyOptions,
        cache: VerifiedLists | None = None,
    ) -> None:
        self.resolver, self.lists, self.now, self.opts = resolver, lists, now, opts
        self.cache = cache
        self.verified: dict[str, dict[str, Any] | CheckResult] = {}

    async def list_credential(self, url: str) -> dict[str, Any] | CheckResult:
        if url not in self.verified:
            self.verified[url] = await self._load(url)
        return self.verified[url]

    async def _load(self, url: str) -> dict[str, Any] | CheckResult:
        try:
            raw = await self.lists.get(url)
        except Exception as exc:  # any fetch failure means "could not check"
            return CheckResult("status", "not_checked", f"list {url} unavailable ({exc})",
                               "status_unavailable")  # fmt: skip
        listed = self.cache.get(url, raw) if self.cache is not None else None
        if listed is None:
            try:
                doc, token = unwrap(raw)
                listed = await verify_secured(doc, token, self.resolver, self.now, self.opts)
            except CredentialError as exc:
                return _failure("status", exc, f"status list {url} does not verify: ")
            if self.cache is not None:
                self.cache.put(url, raw, listed)
        window = window_check(listed, self.now, self.opts.clock_skew, "status")
        if window.outcome != "ok":
            return CheckResult("status", "not_checked", f"status list {url}: {window.reason}",
                               "status_list_stale")  # fmt: skip
        return listed


def _reading_result(reading: StatusReading, where: str) -> CheckResult:
    note = " (list shorter than the 131072-entry minimum)" if reading.short_list else ""
    if reading.value and reading.purpose == "revocation":
        return CheckResult("status", "failed", f"revoked ({where}){note}", "revoked")
    if reading.value and reading.purpose == "suspension":
        return CheckResult("status", "failed", f"suspended ({where}){note}", "suspended")
    message = f": {reading.message}" if reading.message else ""
    state = f"{reading.purpose} status {reading.value}{message}"
    return CheckResult("status", "ok", f"{state} ({where}){note}")


async def _entry_result(
    raw: object, path: str, issuer: str | None, ctx: _StatusContext
) -> CheckResult:
    try:
        entry = parse_status_entry(raw, path)
    except CredentialError as exc:
        outcome: Outcome = "not_checked" if exc.code == "unsupported_status_type" else "failed"
        return CheckResult("status", outcome, f"{exc.detail} (at {path})", exc.code)
    listed = await ctx.list_credential(entry.list_url)
    if isinstance(listed, CheckResult):
        return listed
    where = f"{entry.purpose} list {entry.list_url} index {entry.index}"
    try:
        return _reading_result(read_status(entry, listed, issuer), where)
    except CredentialError as exc:
        return CheckResult("status", "failed", f"{exc.detail} ({where})", exc.code)


def _combine(results: list[CheckResult]) -> CheckResult:
    outcomes: tuple[Outcome, ...] = ("failed", "not_checked")
    for outcome in outcomes:
        chosen = [r for r in results if r.outcome == outcome]
        if chosen:
            reason = "; ".join(r.reason or "" for r in chosen)
            return CheckResult("status", outcome, reason, chosen[0].code)
    return CheckResult("status", "ok", "; ".join(r.reason or "" for r in results))


async def status_check(doc: dict[str, Any], ctx: _StatusContext) -> CheckResult:
    """Bitstring Status List §3.2: every ``credentialStatus`` entry of the credential."""
    raw = doc.get("credentialStatus")
    if raw is None:
        return CheckResult("status", "ok", "the credential has no status entry")
    entries = raw if isinstance(raw, list) else [raw]
    if not entries:
        return CheckResult("status", "ok", "the credential has no status entry")
    many = isinstance(raw, list)
    paths = [f"/credentialStatus/{i}" if many else "/credentialStatus" for i in range(len(entries))]
    issuer = issuer_id(doc)
    return _combine(
        [await _entry_result(e, p, issuer, ctx) for e, p in zip(entries, paths, strict=True)]
    )


# --- entry point -------------------------------------------------------------------


async def verify_credential(
    credential: dict[str, Any] | str,
    *,
    resolver: DidResolver,
    status_lists: StatusListSource,
    now: datetime | None = None,
    options: VerifyOptions | None = None,
    verified_lists: VerifiedLists | None = None,
) -> VerificationReport:
    """Verify one credential; never raises for a bad credential (see the report).
    ``verified_lists`` spares re-verifying a status list version seen before."""
    opts = options or VerifyOptions()
    moment = now or datetime.now(UTC)
    try:
        doc, token = unwrap(credential)
    except CredentialError as exc:
        report = VerificationReport(None, tolerate_not_checked=opts.tolerate_not_checked)
        report.add(CheckResult("format", "failed", exc.detail, exc.code))
        return report
    if opts.precheck is not None:
        opts.precheck(doc, token)
    report = VerificationReport(
        doc, tolerate_not_checked=opts.tolerate_not_checked, not_requested=opts.not_requested
    )
    if opts.check_shape:
        report.add(_shape_check(doc))
    if "relatedResource" in doc:
        related = _related_resources_check(doc, opts.contexts or default_registry())
        if related is not None:
            report.add(related)
    proof_ok = True
    if opts.wants("proof"):
        try:
            report.credential = await verify_secured(doc, token, resolver, moment, opts)
            report.add(CheckResult("proof", "ok", "JWT" if token else "embedded proof"))
        except CredentialError as exc:
            report.add(_failure("proof", exc))
            proof_ok = False
    checked = report.credential or doc
    if opts.wants("validity"):
        report.add(window_check(checked, moment, opts.clock_skew))
    if not opts.wants("status"):
        return report
    if proof_ok:
        ctx = _StatusContext(resolver, status_lists, moment, opts, verified_lists)
        report.add(await status_check(checked, ctx))
    else:
        report.add(CheckResult("status", "not_checked", "the proof did not verify", "no_proof"))
    return report
