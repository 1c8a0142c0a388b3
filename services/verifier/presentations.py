"""VC-API "Verify Presentation" (W3C VCALM, `POST /presentations/verify`).

The holder's proof first (Data Integrity, a VP-JWT, or an enveloped VP-JWT:
challenge, domain, holder binding, lifetime), then every credential inside,
each through the verifier's own `Verifier.verify` as `/credentials/verify`
would. The answer follows VCALM's `VerifyPresentationResult`:
`{verified, problemDetails, results: {presentation: {proof, challenge?,
domain?, holder?}, credentials: [...]}}`. A `verified: true` on `challenge`,
`domain` or `holder` means "established by a proof that verified".

Credentials are verified only inside a presentation whose proof verified:
an unauthenticated or replayed presentation gets no further work. Whether a
credential's DID subject is the holder is an advisory check (`holder_binding`,
VC DM 2.0 Appendix C): a warning and an "untrusted" verdict, never a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec
import orjson

from services.verifier.stacking import stacking_result
from services.verifier.trust import TrustPolicy
from services.verifier.verification import Verifier
from shared.credentials.crypto_keys import b64url_decode
from shared.credentials.dids import DidResolver
from shared.credentials.errors import CredentialError, ShapeError
from shared.credentials.presentations import (
    HOLDER_BINDING,
    holder_binding_check,
    verify_any_presentation,
)
from shared.credentials.report import (
    OWN_PROBLEMS,
    CheckResult,
    Outcome,
    problem_detail,
)
from shared.credentials.verify import UNAVAILABLE_CODES
from shared.credentials.vp_jwt import VP_ENVELOPE_TYPE, enveloped_presentation_jwt
from shared.credentials.vp_model import Credential, has_type, holder_of
from shared.events import PathwayPublished
from shared.web.problems import Problem

MAX_CREDENTIALS = 100
_LIFETIME_CODES = frozenset({"presentation_expired", "presentation_not_yet_valid"})
_TITLES = {
    "format": "Unreadable presentation",
    "shape": "Not a verifiable presentation",
    "proof": "Presentation proof does not verify",
    "validity": "Presentation outside its lifetime",
}


class PresentationOptions(msgspec.Struct):
    """VCALM `VerifyPresentationOptions` plus ours: `trust` (`accredited` or
    `registered`) is the trust policy for the credentials inside, as on
    `/credentials/verify` (other members are ignored)."""

    challenge: str | None = None
    domain: str | None = None
    trust: TrustPolicy | None = None


class VerifyPresentationIn(msgspec.Struct):
    """`{verifiablePresentation, options}`: the presentation as JSON with an
    embedded proof, a VP-JWT, or an `EnvelopedVerifiablePresentation`."""

    verifiablePresentation: dict[str, Any] | str
    options: PresentationOptions = msgspec.field(default_factory=PresentationOptions)


# --- the presentation's own result ------------------------------------------------


def _jose_header(token: str) -> dict[str, Any] | None:
    try:
        header = orjson.loads(b64url_decode(token.partition(".")[0]))
    except (CredentialError, ValueError):
        return None
    return header if isinstance(header, dict) else None


def _proof_inputs(vp: dict[str, Any] | str) -> list[object]:
    """What each proof result reports as `input`: the proof objects, or the JOSE header."""
    if isinstance(vp, dict) and not has_type(vp, VP_ENVELOPE_TYPE):
        raw = vp.get("proof")
        return [] if raw is None else list(raw) if isinstance(raw, list) else [raw]
    try:
        token = vp if isinstance(vp, str) else enveloped_presentation_jwt(vp)
    except ShapeError:
        return []
    header = _jose_header(token)
    return [] if header is None else [header]


def _problem(exc: CredentialError) -> dict[str, Any]:
    """A VC DM 2.0 §7.1 ProblemDetails for a presentation that does not verify."""
    if isinstance(exc, ShapeError):
        name = "shape"
    elif exc.code in _LIFETIME_CODES:
        name = "validity"
    else:
        name = "proof"
    outcome: Outcome = "not_checked" if exc.code in UNAVAILABLE_CODES else "failed"
    where = f" (at {exc.path})" if exc.path else ""
    problem = problem_detail(CheckResult(name, outcome, f"{exc.detail}{where}", exc.code))
    title = _TITLES[name]
    problem["title"] = title if outcome == "failed" else f"Could not check: {title.lower()}"
    problem["errorCode"] = exc.code
    return problem


def _presentation_section(
    vp: dict[str, Any] | str,
    options: PresentationOptions,
    holder: str | None,
    problem: dict[str, Any] | None,
) -> dict[str, Any]:
    ok = problem is None
    problems = [] if ok else [problem]
    entries = [{"verified": ok, "input": item} for item in _proof_inputs(vp)] or [{"verified": ok}]
    section: dict[str, Any] = {"proof": [{**e, "problemDetails": problems} for e in entries]}
    if options.challenge is not None:
        section["challenge"] = {"verified": ok, "input": options.challenge}
    if options.domain is not None:
        section["domain"] = {"verified": ok, "input": options.domain}
    if holder is not None:
        section["holder"] = {"verified": ok, "input": holder}
    return section


# --- the credentials inside ----------------------------------------------------------


async def _credential_report(
    verifier: Verifier, credential: Credential, holder: str | None, policy: TrustPolicy | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What `/credentials/verify` answers, plus the advisory `holder_binding`
    check when the presentation names its holder; and the credential when it verified."""
    report = await verifier.verify(credential, policy)
    if report.credential is not None and holder is not None:
        binding = holder_binding_check(report.credential, holder)
        if binding is not None:
            report.advisory = report.advisory | {HOLDER_BINDING}
            report.add(binding)
    answer = report.to_vc_api()
    return answer, report.credential if answer["verified"] else None


def _credential_problem(index: int, result: Mapping[str, Any]) -> dict[str, Any]:
    first = result["problemDetails"][0]["title"] if result["problemDetails"] else "not verified"
    return {
        "type": OWN_PROBLEMS + "credential-not-verified",
        "title": "A credential in the presentation does not verify",
        "detail": f"verifiableCredential[{index}]: {first} (see results.credentials[{index}])",
        "errorCode": "credential_not_verified",
    }


# --- entry point -----------------------------------------------------------------------


async def verify_presentation_request(
    body: VerifyPresentationIn,
    *,
    verifier: Verifier,
    resolver: DidResolver,
    pathways: Iterable[PathwayPublished] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The VCALM response body; `verified` decides 200 or 400 (standards.md, VC-API).
    `results.stacking` (ours, informational) lists the `pathways` the verified
    credentials of one learner complete (services.verifier.stacking)."""
    vp, options = body.verifiablePresentation, body.options
    try:
        verified = await verify_any_presentation(
            vp,
            resolver,
            challenge=options.challenge,
            domain=options.domain,
            now=now,
            contexts=verifier.contexts,
            canonicalizer=verifier.canonicalizer,
        )
    except CredentialError as exc:
        claimed = holder_of(vp) if isinstance(vp, dict) else None
        problem = _problem(exc)
        section = _presentation_section(vp, options, claimed, problem)
        results = {"presentation": section, "credentials": []}
        return {"verified": False, "problemDetails": [problem], "results": results}
    if len(verified.credentials) > MAX_CREDENTIALS:
        raise Problem(422, f"A presentation may carry at most {MAX_CREDENTIALS} credentials.")
    answers = await asyncio.gather(
        *(
            _credential_report(verifier, c, verified.holder, options.trust)
            for c in verified.credentials
        )
    )
    reports = [report for report, _ in answers]
    problems = [_credential_problem(i, r) for i, r in enumerate(reports) if not r["verified"]]
    section = _presentation_section(vp, options, verified.holder, None)
    held = [credential for _, credential in answers if credential is not None]
    return {
        "verified": not problems,
        "problemDetails": problems,
        "results": {
            "presentation": section,
            "credentials": reports,
            "stacking": stacking_result(pathways, held, verified.holder),
        },
    }
