"""One credential's verification: the credential core's checks plus ours.

The core checks shape, proof, validity window and status: `verified`, as
the W3C suites define it. On top, the verifier knows from Kafka the
provider registry, the issuers on our platform and the achievements they
defined: the `trust`, `achievement_known` and `impersonation` checks
(`trust.py`) decide the verdict (`valid` only for an accredited provider)
but never turn a cryptographically valid credential into an invalid one.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime
from typing import Any

from services.verifier.budget import Limits, check_unwrapped
from services.verifier.endorsements import ENDORSEMENTS, EndorsementMemo, endorsements_check
from services.verifier.linkage import DomainLinkage
from services.verifier.replica import Replica
from services.verifier.sources import StatusLists
from services.verifier.trust import (
    IMPERSONATION,
    TRUST,
    Claims,
    TrustPolicy,
    impersonation_check,
    trust_check,
    under_policy,
)
from services.verifier.trust_lists import Listed, TrustLists, listed_check
from shared.credentials.builders import format_datetime
from shared.credentials.data_integrity import Canonicalizer
from shared.credentials.dids import DidResolver
from shared.credentials.errors import CredentialError
from shared.credentials.jsonld import ContextRegistry
from shared.credentials.list_cache import VerifiedLists
from shared.credentials.ob2 import is_ob2, verify_ob2
from shared.credentials.recipients import RECIPIENT, recipient_check
from shared.credentials.report import CheckResult, VerificationReport
from shared.credentials.status_list import parse_status_entry
from shared.credentials.summary import summarise
from shared.credentials.verify import VerifyOptions, verify_credential
from shared.events import AchievementPublished
from shared.web.safe_fetch import SafeFetcher

TRUST_CHECKS = frozenset({TRUST, "achievement_known", IMPERSONATION, ENDORSEMENTS})
NOTICES: dict[TrustPolicy, str] = {
    "accredited": (
        "`verified` covers the proof, the validity period and the status only; "
        "whether the issuer is trusted is the `verdict`: `valid` only for a provider "
        "the platform operator accredited for this credential, else `untrusted` "
        "(see the `trust` check; trust policy `accredited`)."
    ),
    "registered": (
        "`verified` covers the proof, the validity period and the status only; "
        "whether the issuer is trusted is the `verdict`: under the trust policy "
        "`registered` asked for here, `valid` for a provider the operator accredited "
        "for this credential or a registered one it did not accredit, else `untrusted` "
        "(see the `trust` check)."
    ),
}


class Verifier:
    def __init__(
        self,
        replica: Replica,
        fetcher: SafeFetcher,
        trust_lists: TrustLists | None = None,
        *,
        policy: TrustPolicy = "accredited",
        limits: Limits | None = None,
        canonicalizer: Canonicalizer | None = None,
        contexts: ContextRegistry | None = None,
    ) -> None:
        self._replica = replica
        self.policy = policy
        self._limits = limits or Limits()
        self._options = VerifyOptions(
            canonicalizer=canonicalizer,
            contexts=contexts,
            precheck=functools.partial(check_unwrapped, self._limits),
        )
        self._verified_lists = VerifiedLists()
        self._trust_lists = trust_lists
        self._resolver = DidResolver(fetch_json=fetcher.fetch_json, known=replica.did_documents)
        self._status_lists = StatusLists(replica, fetcher)
        self._linkage = DomainLinkage(fetcher, self._resolver)
        self._fetch_json = fetcher.fetch_json

    @property
    def canonicalizer(self) -> Canonicalizer | None:
        """Where RDFC-1.0 runs for this verifier's Data Integrity proofs."""
        return self._options.canonicalizer

    @property
    def contexts(self) -> ContextRegistry | None:
        """The bundled contexts this verifier serves to JSON-LD processing."""
        return self._options.contexts

    @property
    def resolver(self) -> DidResolver:
        """Issuers' and holders' DIDs: our replica's documents, did:key/did:jwk
        offline, did:web through the SSRF-guarded, caching fetcher."""
        return self._resolver

    async def verify(
        self,
        credential: dict[str, Any] | str,
        policy: TrustPolicy | None = None,
        *,
        recipient: str | None = None,
        checks: frozenset[str] | None = None,
        memo: EndorsementMemo | None = None,
    ) -> VerificationReport:
        """The report with its state, its credential summary and, when
        `recipient` (an e-mail address or identifier) is given, the
        `recipient` check (advisory, like trust: a mismatch is `untrusted`).
        `policy` (a VC-API caller's `options.trust`) overrides the configured
        trust policy for this credential; `checks` (VC-API `options.checks`)
        limits proof, validity and status to those named (the shape and the
        trust checks are always made). `memo`: embedded endorsements already
        verified in the same batch. An Open Badges 2.0 assertion gets the
        checks that version allows."""
        policy = policy or self.policy
        if is_ob2(credential):
            return await self._verify_ob2(credential, policy)
        report = await verify_credential(
            credential,
            resolver=self._resolver,
            status_lists=self._status_lists,
            options=(
                self._options
                if checks == self._options.checks
                else dataclasses.replace(self._options, checks=checks)
            ),
            verified_lists=self._verified_lists,
        )
        if report.credential is not None and report.check("proof") is not None:
            claims = Claims.of(report.credential)
            now = format_datetime(datetime.now(UTC))
            trust = trust_check(claims, self._replica, now)
            listed = self._listed(trust, claims)
            if listed is not None:
                trust = listed_check(listed, claims, now)
            trust = await self._with_linkage(trust, claims)
            report.advisory = TRUST_CHECKS
            report.notice = NOTICES[policy]
            report.trust_policy = policy
            report.add(under_policy(trust, policy))
            if claims.achievement_id is not None:  # an Open Badge, not any VC
                report.add(self._achievement_known(claims, listed))
            # Another list's accreditation does not excuse copying one of ours.
            level = trust.code if listed is None else None
            report.add(impersonation_check(claims, self._replica, level))
            endorsements = await endorsements_check(
                report.credential,
                self._resolver,
                self._status_lists,
                self._replica,
                options=self._options,
                memo=memo,
            )
            if endorsements is not None:
                report.add(endorsements)
        proof = report.check("proof")
        if report.credential is not None and proof is not None and proof.outcome == "ok":
            self._date_status(report, report.credential)
            subject = report.credential.get("credentialSubject")
            matched = recipient_check(subject, recipient)
            if matched is not None:
                report.advisory = report.advisory | {RECIPIENT}
                report.add(matched)
            report.summary = _summary(report)
        return report

    def _date_status(self, report: VerificationReport, credential: dict[str, Any]) -> None:
        """A revoked or suspended status check says since when (our issuers'
        lists, from `status.changes`) and why, when the institution made the
        reason public (null otherwise: a private reason never leaves it)."""
        status = report.check("status")
        if status is None or status.code not in ("revoked", "suspended"):
            return
        raw = credential.get("credentialStatus")
        since = reason = None
        for item in raw if isinstance(raw, list) else [raw]:
            try:
                entry = parse_status_entry(item, "/credentialStatus")
            except CredentialError:
                continue
            if entry.purpose == ("revocation" if status.code == "revoked" else "suspension"):
                since = since or self._replica.status_since(entry.list_url, entry.index)
                reason = reason or self._replica.public_reason(entry.list_url, entry.index)
        details = {**(status.details or {}), "since": since, "reason": reason}
        report.checks[report.checks.index(status)] = dataclasses.replace(status, details=details)

    async def _verify_ob2(
        self, assertion: dict[str, Any] | str, policy: TrustPolicy
    ) -> VerificationReport:
        """OB 2.0 (hosted, signed): documents fetched behind the SSRF guard;
        its issuer is a URL our registry cannot accredit (`trust` says so)."""
        report = await verify_ob2(assertion, self._fetch_json, datetime.now(UTC))
        if report.check("proof") is not None:
            now = format_datetime(datetime.now(UTC))
            report.advisory = TRUST_CHECKS
            report.notice = NOTICES[policy]
            report.trust_policy = policy
            report.add(under_policy(trust_check(Claims.of({}), self._replica, now), policy))
        return report

    def _listed(self, trust: CheckResult, claims: Claims) -> Listed | None:
        """Another trust list's entry, for an issuer our registry does not know."""
        if trust.code != "unknown" or self._trust_lists is None:
            return None
        return self._trust_lists.find(claims.issuer_did or "")

    async def _with_linkage(self, trust: CheckResult, claims: Claims) -> CheckResult:
        """The trust check with `domainLinked` and `domain` in its details when
        the issuer's provider registered a web domain (confidence, never the verdict)."""
        provider = self._replica.provider_for(claims.issuer_did or "")
        if provider is None or not provider.web_domain:
            return trust
        linkage = await self._linkage.check(claims.issuer_did or "", provider.web_domain)
        return dataclasses.replace(trust, details={**(trust.details or {}), **linkage.details()})

    def _achievement_known(self, claims: Claims, listed: Listed | None) -> CheckResult:
        known = self._replica.achievements.get(claims.achievement_id or "")
        if known is None and listed is not None:
            reason = (
                f"an issuer of the trust list {listed.list_name}: its own catalog's achievement"
            )
            return CheckResult("achievement_known", "ok", reason, "listed_issuer")
        if known is None:
            return CheckResult(
                "achievement_known",
                "failed",
                "the achievement is not in our catalog",
                "unknown_achievement",
            )
        if known.issuer_did != claims.issuer_did:
            return CheckResult(
                "achievement_known",
                "failed",
                "the achievement belongs to another issuer",
                "achievement_issuer_mismatch",
            )
        return _known(claims, known)


def _known(claims: Claims, known: AchievementPublished) -> CheckResult:
    """Known: the revision the credential was issued under, and the catalog's
    own now (an update or a retirement leaves issued credentials valid)."""
    issued = claims.achievement_revision
    retired = " (retired: no new awards)" if known.status == "retired" else ""
    if issued is None or issued == known.revision:
        reason = f"revision {known.revision} in the catalog{retired}"
    else:
        reason = (
            f"issued under revision {issued}; the catalog has revision {known.revision}{retired}"
        )
    details = {"issuedUnder": issued, "current": known.revision, "status": known.status}
    return CheckResult("achievement_known", "ok", reason, details=details)


def _summary(report: VerificationReport) -> dict[str, Any]:
    """The credential summary, with the trust and endorsements checks' details."""
    assert report.credential is not None
    trust = report.check(TRUST)
    endorsed = report.check(ENDORSEMENTS)
    listed = (endorsed.details or {}).get("endorsements") if endorsed is not None else None
    return summarise(
        report.credential,
        trust=trust.details if trust is not None else None,
        endorsements=listed if isinstance(listed, list) else None,
    )
