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
from datetime import UTC, datetime
from typing import Any

from services.verifier.endorsements import ENDORSEMENTS, endorsements_check
from services.verifier.linkage import DomainLinkage
from services.verifier.replica import Replica
from services.verifier.sources import StatusLists
from services.verifier.trust import IMPERSONATION, TRUST, Claims, impersonation_check, trust_check
from services.verifier.trust_lists import Listed, TrustLists, listed_check
from shared.credentials.builders import format_datetime
from shared.credentials.dids import DidResolver
from shared.credentials.ob2 import is_ob2, verify_ob2
from shared.credentials.report import CheckResult, VerificationReport
from shared.credentials.verify import VerifyOptions, verify_credential
from shared.web.safe_fetch import SafeFetcher

TRUST_CHECKS = frozenset({TRUST, "achievement_known", IMPERSONATION, ENDORSEMENTS})
NOTICE = (
    "`verified` covers the proof, the validity period and the status only; "
    "whether the issuer is trusted is the `verdict`: `valid` only for a provider "
    "the platform operator accredited for this credential, else `untrusted` "
    "(see the `trust` check)."
)


class Verifier:
    def __init__(
        self, replica: Replica, fetcher: SafeFetcher, trust_lists: TrustLists | None = None
    ) -> None:
        self._replica = replica
        self._trust_lists = trust_lists
        self._resolver = DidResolver(fetch_json=fetcher.fetch_json, known=replica.did_documents)
        self._status_lists = StatusLists(replica, fetcher)
        self._linkage = DomainLinkage(fetcher, self._resolver)
        self._fetch_json = fetcher.fetch_json

    @property
    def resolver(self) -> DidResolver:
        """Issuers' and holders' DIDs: our replica's documents, did:key/did:jwk
        offline, did:web through the SSRF-guarded, caching fetcher."""
        return self._resolver

    async def verify(
        self, credential: dict[str, Any] | str, checks: frozenset[str] | None = None
    ) -> VerificationReport:
        """All checks, or only those of `checks` (VC-API `options.checks`) of
        proof, validity and status; the shape and the trust checks always.
        An Open Badges 2.0 assertion gets the checks that version allows."""
        if is_ob2(credential):
            return await self._verify_ob2(credential)
        report = await verify_credential(
            credential,
            resolver=self._resolver,
            status_lists=self._status_lists,
            options=VerifyOptions(checks=checks),
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
            report.notice = NOTICE
            report.add(trust)
            if claims.achievement_id is not None:  # an Open Badge, not any VC
                report.add(self._achievement_known(claims, listed))
            # Another list's accreditation does not excuse copying one of ours.
            level = trust.code if listed is None else None
            report.add(impersonation_check(claims, self._replica, level))
            endorsements = await endorsements_check(
                report.credential, self._resolver, self._status_lists, self._replica
            )
            if endorsements is not None:
                report.add(endorsements)
        return report

    async def _verify_ob2(self, assertion: dict[str, Any] | str) -> VerificationReport:
        """OB 2.0 (hosted, signed): documents fetched behind the SSRF guard;
        its issuer is a URL our registry cannot accredit (`trust` says so)."""
        report = await verify_ob2(assertion, self._fetch_json, datetime.now(UTC))
        if report.check("proof") is not None:
            now = format_datetime(datetime.now(UTC))
            report.advisory = TRUST_CHECKS
            report.notice = NOTICE
            report.add(trust_check(Claims.of({}), self._replica, now))
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
        return CheckResult("achievement_known", "ok", f"revision {known.revision} in the catalog")
