"""One credential's verification: the credential core's checks plus ours.

The core checks shape, proof, validity window and status. On top, the
verifier knows from Kafka which issuers are on our platform and which
achievements they defined; those trust checks inform the verdict but never
turn a cryptographically valid credential into an invalid one.
"""

from __future__ import annotations

from typing import Any

from services.verifier.replica import Replica
from services.verifier.sources import StatusLists
from shared.credentials.dids import DidResolver
from shared.credentials.report import CheckResult, VerificationReport
from shared.credentials.verify import verify_credential
from shared.web.safe_fetch import SafeFetcher


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else None


def _achievement_id(credential: dict[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    value = achievement.get("id") if isinstance(achievement, dict) else None
    return value if isinstance(value, str) else None


TRUST_CHECKS = frozenset({"issuer_known", "achievement_known"})


class Verifier:
    def __init__(self, replica: Replica, fetcher: SafeFetcher) -> None:
        self._replica = replica
        self._resolver = DidResolver(fetch_json=fetcher.fetch_json, known=replica.did_documents)
        self._status_lists = StatusLists(replica, fetcher)

    @property
    def resolver(self) -> DidResolver:
        """Issuers' and holders' DIDs: our replica's documents, did:key/did:jwk
        offline, did:web through the SSRF-guarded, caching fetcher."""
        return self._resolver

    async def verify(self, credential: dict[str, Any] | str) -> VerificationReport:
        report = await verify_credential(
            credential, resolver=self._resolver, status_lists=self._status_lists
        )
        if report.credential is not None and report.check("proof") is not None:
            report.advisory = TRUST_CHECKS
            report.add(self._issuer_known(report.credential))
            report.add(self._achievement_known(report.credential))
        return report

    def _issuer_known(self, credential: dict[str, Any]) -> CheckResult:
        did = _issuer_id(credential)
        if did is not None and did in self._replica.issuers:
            name = self._replica.issuers[did].profile.get("name")
            return CheckResult("issuer_known", "ok", f"issuer {name!s} is registered here")
        return CheckResult(
            "issuer_known",
            "failed",
            "the issuer is not registered on this platform",
            "unknown_issuer",
        )

    def _achievement_known(self, credential: dict[str, Any]) -> CheckResult:
        achievement_id = _achievement_id(credential)
        known = self._replica.achievements.get(achievement_id or "")
        if known is None:
            return CheckResult(
                "achievement_known",
                "failed",
                "the achievement is not in our catalog",
                "unknown_achievement",
            )
        if known.issuer_did != _issuer_id(credential):
            return CheckResult(
                "achievement_known",
                "failed",
                "the achievement belongs to another issuer",
                "achievement_issuer_mismatch",
            )
        return CheckResult("achievement_known", "ok", f"revision {known.revision} in the catalog")
