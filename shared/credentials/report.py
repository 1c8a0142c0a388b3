"""Verification report: one result per check, and its VC-API rendering.

Outcomes: ``ok``; ``failed`` (the credential is not acceptable); ``not_checked``
(the check could not be made, e.g. a status list was unreachable). A report is
``verified`` only when every check is ``ok``, except checks named in
``tolerate_not_checked`` which may also be ``not_checked``. Callers (the
verifier service) add their own checks (issuer trust, achievement known...)
with :meth:`VerificationReport.add`.

``problemDetails`` follow VC-DATA-MODEL 2.0 §7.1 (``type``, ``code``, ``title``,
``detail``) with the registered types where one fits, the Bitstring Status List
§3.4 types for status retrieval/validation, and ``urn:microcred:problem:*``
for outcomes the registries do not name (revoked, expired...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["ok", "failed", "not_checked"]
Verdict = Literal["valid", "invalid", "untrusted"]

VC_PROBLEMS = "https://www.w3.org/TR/vc-data-model#"
STATUS_PROBLEMS = "https://www.w3.org/ns/credentials/status-list#"
OWN_PROBLEMS = "urn:microcred:problem:"

PARSING_ERROR = (VC_PROBLEMS + "PARSING_ERROR", -64)
CRYPTOGRAPHIC_SECURITY_ERROR = (VC_PROBLEMS + "CRYPTOGRAPHIC_SECURITY_ERROR", -65)
MALFORMED_VALUE_ERROR = (VC_PROBLEMS + "MALFORMED_VALUE_ERROR", -66)
RANGE_ERROR = (VC_PROBLEMS + "RANGE_ERROR", -67)
STATUS_RETRIEVAL_ERROR = (STATUS_PROBLEMS + "STATUS_RETRIEVAL_ERROR", -128)
STATUS_VERIFICATION_ERROR = (STATUS_PROBLEMS + "STATUS_VERIFICATION_ERROR", -129)

_TITLES = {
    "format": "Unreadable credential",
    "shape": "Credential does not match the data model",
    "proof": "Proof does not verify",
    "validity": "Credential outside its validity period",
    "status": "Credential status",
}
_OWN_CODES = {"revoked", "suspended", "expired", "not_yet_valid"}
_PARSE_CODES = {"malformed_jwt", "malformed_input", "unsupported_envelope"}


@dataclass(frozen=True)
class CheckResult:
    """One check: ``name`` (e.g. ``proof``), ``outcome``, and why."""

    name: str
    outcome: Outcome
    reason: str | None = None
    code: str | None = None
    problem_type: str | None = None  # overrides the default mapping below
    # Structured outcome (e.g. the trust check's provider and accreditation).
    details: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """``{check, outcome, reason, code}`` (and ``details`` when there are
        some) as in the ``results`` array."""
        result: dict[str, Any] = {
            "check": self.name,
            "outcome": self.outcome,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            result["details"] = dict(self.details)
        return result


def _problem_type(check: CheckResult) -> tuple[str, int | None]:
    if check.problem_type is not None:
        return check.problem_type, None
    if check.code in _OWN_CODES:
        return OWN_PROBLEMS + check.code.replace("_", "-"), None
    if check.name == "format" or check.code in _PARSE_CODES:
        return PARSING_ERROR
    if check.name == "status":
        return (
            STATUS_RETRIEVAL_ERROR if check.outcome == "not_checked" else STATUS_VERIFICATION_ERROR
        )
    if check.name == "proof":
        return CRYPTOGRAPHIC_SECURITY_ERROR
    if check.name == "validity":
        return RANGE_ERROR
    if check.name == "shape":
        return MALFORMED_VALUE_ERROR
    return OWN_PROBLEMS + check.name.replace("_", "-"), None


def problem_detail(check: CheckResult) -> dict[str, Any]:
    """A VC 2.0 §7.1 ProblemDetails object for a check that is not ``ok``."""
    type_, code = _problem_type(check)
    title = _TITLES.get(check.name, check.name.replace("_", " ").capitalize())
    if check.outcome == "not_checked":
        title = f"Could not check: {title[0].lower()}{title[1:]}"
    problem: dict[str, Any] = {"type": type_, "title": title}
    if code is not None:
        problem["code"] = code
    problem["detail"] = check.reason or check.code or check.outcome
    return problem


@dataclass
class VerificationReport:
    """All checks made on one credential; ``credential`` is the (unwrapped) document."""

    credential: dict[str, Any] | None
    checks: list[CheckResult] = field(default_factory=list)
    tolerate_not_checked: frozenset[str] = frozenset()
    # Trust checks (issuer registered, achievement known) inform the verdict
    # but never make a cryptographically valid credential unverified.
    advisory: frozenset[str] = frozenset()
    # A line for the reader about what `verified` and `verdict` mean.
    notice: str | None = None

    def add(self, check: CheckResult) -> None:
        """Append a check (services add theirs on top of the core checks)."""
        self.checks.append(check)

    def check(self, name: str) -> CheckResult | None:
        """The last check called ``name``, if any."""
        return next((c for c in reversed(self.checks) if c.name == name), None)

    def _acceptable(self, check: CheckResult) -> bool:
        if check.outcome == "ok" or check.name in self.advisory:
            return True
        return check.outcome == "not_checked" and check.name in self.tolerate_not_checked

    @property
    def verdict(self) -> Verdict:
        """``valid``, ``invalid``, or ``untrusted``: valid, but an advisory
        (trust) check is not ok (architecture §6)."""
        if not self.verified:
            return "invalid"
        # Trust needs the proof checked (VC-API `options.checks` may leave it out).
        trusted = self.check("proof") is not None and all(
            c.outcome == "ok" for c in self.checks if c.name in self.advisory
        )
        return "valid" if trusted else "untrusted"

    @property
    def verified(self) -> bool:
        """True when there is at least one check and none blocks."""
        return bool(self.checks) and all(self._acceptable(c) for c in self.checks)

    @property
    def problem_details(self) -> list[dict[str, Any]]:
        """ProblemDetails for every blocking check that is not ``ok``."""
        return [
            problem_detail(c)
            for c in self.checks
            if c.outcome != "ok" and c.name not in self.advisory
        ]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """ProblemDetails for advisory checks that are not ``ok``."""
        return [
            problem_detail(c) for c in self.checks if c.outcome != "ok" and c.name in self.advisory
        ]

    def to_vc_api(self) -> dict[str, Any]:
        """The VC-API verify response body: ``verified``, ``problemDetails``, ``results``."""
        body: dict[str, Any] = {
            "verified": self.verified,
            "verdict": self.verdict,
            "problemDetails": self.problem_details,
            "warnings": self.warnings,
            "results": [c.to_dict() for c in self.checks],
            # every check made, whatever its outcome (`results` says which passed)
            "checks": [c.name for c in self.checks],
        }
        if self.notice is not None:
            body["notice"] = self.notice
        return body
