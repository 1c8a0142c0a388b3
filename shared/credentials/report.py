"""Verification report: one result per check, and its VC-API rendering.

Outcomes: ``ok``; ``failed`` (the credential is not acceptable); ``not_checked``
(the check could not be made, e.g. a status list was unreachable). A report is
``verified`` only when every check is ``ok``, except checks named in
``tolerate_not_checked`` which may also be ``not_checked``. Callers (the
verifier service) add their own checks (issuer trust, achievement known...)
with :meth:`VerificationReport.add`.

``problemDetails`` follow VC-DATA-MODEL 2.0 §7.1 (``type``, ``code``, ``title``,
``detail``) with the registered types where one fits, the Bitstring Status List
§3.4 types for status retrieval/validation, and ``OWN_PROBLEMS`` URLs for
outcomes the registries do not name (revoked, expired...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["ok", "failed", "not_checked"]
Verdict = Literal["valid", "invalid", "untrusted"]
State = Literal[
    "valid",
    "untrusted",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "tampered",
    "unchecked",
    "malformed",
]

VC_PROBLEMS = "https://www.w3.org/TR/vc-data-model#"
STATUS_PROBLEMS = "https://www.w3.org/ns/credentials/status-list#"
# VC DM 2.0 §7.1: a ProblemDetails `type` MUST be a URL (our HTTP problem
# types, RFC 9457, are `urn:microcred:problem:` URIs).
OWN_PROBLEMS = "https://w3id.org/microcred/problems#"

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
# The checks VC-API `options.checks` may leave out, in the order a report names them.
CORE_CHECKS = ("proof", "validity", "status")
_NOT_REQUESTED = "not asked for (options.checks)"
_PARSE_CODES = {"malformed_jwt", "malformed_input", "unsupported_envelope"}
# Proof failures that say "not a signed credential we can read" rather than
# "the signature does not match", and those that say "we cannot check this kind".
_MALFORMED_PROOF_CODES = _PARSE_CODES | {"missing_proof", "bad_proof", "bad_proof_value"}
_UNSUPPORTED_PROOF_CODES = {
    "unsupported_proof",
    "unsupported_cryptosuite",
    "context_not_bundled",
    "network_resolution_refused",
}

# What a reader should do about each state (the HTML page words its own).
STATE_ADVICE: dict[State, str] = {
    "valid": "Genuine, in force, from a provider the platform operator accredited.",
    "untrusted": "Genuine and in force, but not vouched for: see `warnings` "
    "(issuer not accredited, an endorsement that fails, or a recipient that does not match).",
    "revoked": "The issuer revoked it: do not accept it.",
    "suspended": "The issuer suspended it (it may be reinstated): do not accept it now.",
    "expired": "Its validity period has ended: ask the holder for a current one.",
    "not_yet_valid": "Its validity period has not started yet.",
    "tampered": "Its proof does not match its content or its issuer's keys: do not accept it.",
    "unchecked": "Something needed to check it (the issuer's DID document, a status list) "
    "could not be read: try again later and do not accept it meanwhile.",
    "malformed": "Not a credential we can read: ask the holder for the original file or link.",
}
_UNCHECKED_ADVICE = {
    "proof": "The issuer's keys (its DID document) could not be read, or its proof type is "
    "not supported: try again later, or ask the issuer; do not accept it meanwhile.",
    "status": "Whether it was revoked or suspended could not be read (its status list is "
    "unreachable or out of date): try again later; do not accept it meanwhile.",
}
_NOT_REQUESTED_ADVICE = (
    "Only the checks asked for (options.checks) were made: whether it is genuine, "
    "in force and not revoked is not known. Verify it with every check before accepting it."
)


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
    if check.name in ("proof", "related_resources"):  # a digest is cryptography too
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
    # The verifier's trust policy applied to the verdict (`accredited`,
    # `registered`), when a service judged trust.
    trust_policy: str | None = None
    # What the credential certifies, for indexing (`shared.credentials.summary`).
    summary: dict[str, Any] | None = None
    # The core checks the caller left out (VC-API `options.checks`): what
    # they would have found is unknown, so the report is never `valid`.
    not_requested: frozenset[str] = frozenset()

    def add(self, check: CheckResult) -> None:
        """Append a check (services add theirs on top of the core checks)."""
        self.checks.append(check)

    def check(self, name: str) -> CheckResult | None:
        """The last check called ``name``, if any."""
        for check in reversed(self.checks):
            if check.name == name:
                return check
        return None

    def _acceptable(self, check: CheckResult) -> bool:
        if check.outcome == "ok" or check.name in self.advisory:
            return True
        return check.outcome == "not_checked" and check.name in self.tolerate_not_checked

    @property
    def verdict(self) -> Verdict:
        """``valid``, ``untrusted`` (valid, but an advisory (trust) check is
        not ok: architecture §6), or ``invalid`` for every other state.
        (``verified`` is VC-API's: true when the checks made pass, even if
        `options.checks` left some out; the verdict says whether to accept it.)"""
        return verdict_of(self.state)

    @property
    def state(self) -> State:
        """One word for the whole report (see :func:`state_of`)."""
        return state_of(self)[0]

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
        state, deciding = state_of(self)  # once: the verdict follows from it
        body: dict[str, Any] = {
            "verified": self.verified,
            "verdict": verdict_of(state),
            "problemDetails": self.problem_details,
            "warnings": self.warnings,
            "results": [c.to_dict() for c in self.checks],
            # every check made, whatever its outcome (`results` says which passed)
            "checks": [c.name for c in self.checks],
        }
        body["state"] = state
        body["stateDetails"] = state_details(state, deciding)
        body["credential"] = self.summary
        if self.notice is not None:
            body["notice"] = self.notice
        if self.trust_policy is not None:
            body["trustPolicy"] = self.trust_policy
        return body


def verdict_of(state: State) -> Verdict:
    """The verdict a state reads as: `valid`, `untrusted`, else `invalid`."""
    return "valid" if state == "valid" else "untrusted" if state == "untrusted" else "invalid"


def _blocking(report: VerificationReport) -> CheckResult | None:
    """The first check that keeps the report from being verified."""
    advisory = report.advisory
    return next(
        (c for c in report.checks if c.name not in advisory and not report._acceptable(c)), None
    )


def state_of(report: VerificationReport) -> tuple[State, CheckResult | None]:
    """The report's state and the check that decided it: the one place where
    the precedence lives (documented in docs/api.md, "States").

    From first to last: ``malformed`` (unreadable), ``tampered`` (the proof
    fails), ``unchecked`` (the proof could not be checked), ``malformed``
    (readable but outside the data model), ``revoked``, ``suspended``,
    ``expired``, ``not_yet_valid``, ``unchecked`` (a core check left out by
    `options.checks`: nothing says it is genuine or in force; or any other
    blocking check not ok, e.g. a status list unreachable), ``untrusted``
    (verified, an advisory check not ok), ``valid``. A credential that is
    revoked and expired reads ``revoked``: the issuer's act says more than
    the calendar.
    """
    fmt = report.check("format")
    if not report.checks or (fmt is not None and fmt.outcome != "ok"):
        return "malformed", fmt
    proof = report.check("proof")
    if proof is not None and proof.outcome == "failed":
        if proof.code in _MALFORMED_PROOF_CODES:
            return "malformed", proof
        if proof.code in _UNSUPPORTED_PROOF_CODES:
            return "unchecked", proof
        return "tampered", proof
    if proof is not None and proof.outcome == "not_checked":
        return "unchecked", proof
    shape = report.check("shape")
    if shape is not None and shape.outcome == "failed":
        return "malformed", shape
    status = report.check("status")
    if status is not None and status.outcome == "failed":
        if status.code == "revoked":
            return "revoked", status
        if status.code == "suspended":
            return "suspended", status
    validity = report.check("validity")
    if validity is not None and validity.outcome == "failed":
        if validity.code == "expired":
            return "expired", validity
        if validity.code == "not_yet_valid":
            return "not_yet_valid", validity
        return "malformed", validity  # unreadable dates
    left_out = next((name for name in CORE_CHECKS if name in report.not_requested), None)
    if left_out is not None:
        return "unchecked", CheckResult(left_out, "not_checked", _NOT_REQUESTED, "not_requested")
    if proof is None:  # nothing vouches for the content
        return "unchecked", None
    blocking = _blocking(report)
    if blocking is not None:
        return "unchecked", blocking
    warned = next((c for c in report.checks if c.outcome != "ok"), None)
    if warned is not None:
        return "untrusted", warned
    return "valid", None


def state_details(state: State, deciding: CheckResult | None) -> dict[str, Any]:
    """``{check, code, message, advice}`` for the state; revoked and suspended
    add ``since`` (when the issuer changed the status, if known) and
    ``reason`` (a public reason: none is published yet, so null)."""
    advice = STATE_ADVICE[state]
    if state == "unchecked" and deciding is not None:
        advice = (
            _NOT_REQUESTED_ADVICE
            if deciding.code == "not_requested"
            else _UNCHECKED_ADVICE.get(deciding.name, advice)
        )
    details: dict[str, Any] = {"advice": advice}
    if deciding is not None:
        details.update(check=deciding.name, code=deciding.code, message=deciding.reason)
    if state in ("revoked", "suspended"):
        extra = dict(deciding.details or {}) if deciding is not None else {}
        details["since"] = extra.get("since")
        details["reason"] = extra.get("reason")
    return details
