"""The report's state: one word, decided in one place (`report.state_of`)."""

from __future__ import annotations

import pytest

from shared.credentials.report import CheckResult, VerificationReport

ADVISORY = frozenset({"trust", "recipient"})
OK = ("shape", "proof", "validity", "status", "trust")


def report(**outcomes: tuple[str, str | None]) -> VerificationReport:
    """Checks in the core's order; `name=(outcome, code)` overrides `ok`."""
    built = VerificationReport({"id": "urn:uuid:1"}, advisory=ADVISORY)
    for name in (*OK, *(n for n in outcomes if n not in OK)):
        outcome, code = outcomes.get(name, ("ok", None))
        built.add(CheckResult(name, outcome, f"{name} {outcome}", code))  # type: ignore[arg-type]
    return built


@pytest.mark.parametrize(
    ("outcomes", "state"),
    [
        ({}, "valid"),
        ({"trust": ("failed", "registered")}, "untrusted"),
        ({"recipient": ("failed", "recipient_mismatch")}, "untrusted"),
        ({"status": ("failed", "revoked")}, "revoked"),
        ({"status": ("failed", "suspended")}, "suspended"),
        ({"validity": ("failed", "expired")}, "expired"),
        ({"validity": ("failed", "not_yet_valid")}, "not_yet_valid"),
        ({"proof": ("failed", "signature_invalid")}, "tampered"),
        ({"proof": ("failed", "key_compromised")}, "tampered"),
        ({"proof": ("failed", "malformed_jwt")}, "malformed"),
        ({"proof": ("failed", "missing_proof")}, "malformed"),
        ({"proof": ("not_checked", "unavailable")}, "unchecked"),
        ({"proof": ("failed", "unsupported_cryptosuite")}, "unchecked"),
        ({"status": ("not_checked", "status_unavailable")}, "unchecked"),
        ({"shape": ("failed", "missing")}, "malformed"),
        # Precedence: the issuer's act before the calendar, tampering before all.
        ({"status": ("failed", "revoked"), "validity": ("failed", "expired")}, "revoked"),
        ({"validity": ("failed", "expired"), "status": ("not_checked", None)}, "expired"),
        ({"proof": ("failed", "signature_invalid"), "shape": ("failed", "x")}, "tampered"),
        ({"status": ("failed", "revoked"), "trust": ("failed", "unknown")}, "revoked"),
    ],
)
def test_state_precedence(outcomes: dict[str, tuple[str, str | None]], state: str) -> None:
    built = report(**outcomes)
    assert built.state == state
    body = built.to_vc_api()
    assert body["state"] == state
    assert body["stateDetails"]["advice"]
    # `verdict` keeps its meaning: only valid/untrusted states are verified.
    assert (body["verdict"] != "invalid") == (state in ("valid", "untrusted"))


def test_an_unreadable_credential_is_malformed() -> None:
    built = VerificationReport(None)
    built.add(CheckResult("format", "failed", "not a JWT", "malformed_jwt"))
    assert built.state == "malformed"
    assert VerificationReport(None).state == "malformed"  # no checks at all


def test_revoked_says_since_when_and_a_null_reason() -> None:
    since = {"since": "2026-12-01T10:00:00Z", "reason": None}
    built = report()
    built.checks[3] = CheckResult("status", "failed", "revoked", "revoked", details=since)
    details = built.to_vc_api()["stateDetails"]
    assert details["check"] == "status" and details["code"] == "revoked"
    assert (details["since"], details["reason"]) == ("2026-12-01T10:00:00Z", None)
    assert "since" not in report().to_vc_api()["stateDetails"]


def test_unchecked_says_what_could_not_be_read() -> None:
    proof = report(proof=("not_checked", "unavailable")).to_vc_api()["stateDetails"]
    status = report(status=("not_checked", "status_unavailable")).to_vc_api()["stateDetails"]
    assert "DID document" in proof["advice"] and "status list" in status["advice"]
    assert (proof["check"], status["check"]) == ("proof", "status")
