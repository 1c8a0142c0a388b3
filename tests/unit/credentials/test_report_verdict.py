"""Trust checks inform the verdict without making a valid credential invalid."""

from shared.credentials.report import CheckResult, VerificationReport

TRUST = frozenset({"issuer_known"})


def report(*checks: CheckResult) -> VerificationReport:
    built = VerificationReport({"id": "urn:uuid:1"}, advisory=TRUST)
    for check in checks:
        built.add(check)
    return built


def test_all_ok_is_valid() -> None:
    result = report(CheckResult("proof", "ok"), CheckResult("issuer_known", "ok"))
    assert (result.verified, result.verdict) == (True, "valid")
    assert result.to_vc_api()["warnings"] == []


def test_an_unknown_issuer_is_valid_but_untrusted() -> None:
    result = report(
        CheckResult("proof", "ok"), CheckResult("issuer_known", "failed", "not registered")
    )
    body = result.to_vc_api()
    assert (body["verified"], body["verdict"]) == (True, "untrusted")
    assert body["problemDetails"] == []
    assert [w["detail"] for w in body["warnings"]] == ["not registered"]


def test_a_failed_proof_is_invalid_whatever_the_trust() -> None:
    result = report(CheckResult("proof", "failed", "bad"), CheckResult("issuer_known", "ok"))
    assert (result.verified, result.verdict) == (False, "invalid")
    assert [p["detail"] for p in result.problem_details] == ["bad"]


def test_advisory_names_do_not_excuse_other_checks() -> None:
    result = report(CheckResult("status", "not_checked", "list unreachable"))
    assert result.verdict == "invalid"


def test_details_and_notice_are_rendered_only_when_given() -> None:
    result = report(
        CheckResult("proof", "ok"),
        CheckResult("issuer_known", "ok", "accredited", "accredited", details={"level": "x"}),
    )
    body = result.to_vc_api()
    assert "notice" not in body and "details" not in body["results"][0]
    assert body["results"][1]["details"] == {"level": "x"}
    result.notice = "trust is the verdict"
    assert result.to_vc_api()["notice"] == "trust is the verdict"
