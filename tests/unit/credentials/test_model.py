"""OB 3.0 shape checks (model.check_*)."""

from __future__ import annotations

import pytest

from shared.credentials.errors import ShapeError
from shared.credentials.model import (
    check_achievement,
    check_alignment,
    check_credential,
    check_identity_object,
    check_profile,
    check_result,
    check_result_description,
)
from shared.credentials.shape_rules import is_duration, is_uri, is_url, parse_datetime
from tests.unit.credentials.test_model_samples import (
    endorsement,
    full_credential,
    minimal_credential,
    replaced,
    vc11_badge,
    without,
)


def found(errors: list[ShapeError]) -> set[tuple[str, str | None]]:
    return {(e.code, e.path) for e in errors}


@pytest.mark.parametrize(
    "doc",
    [full_credential(), minimal_credential(), endorsement(), vc11_badge()],
    ids=["full", "minimal", "endorsement", "vc11"],
)
def test_valid_documents_have_no_errors(doc: dict[str, object]) -> None:
    assert check_credential(doc) == []


def test_other_ob_context_revisions_accepted() -> None:
    for url in ("context.json", "context-3.0.1.json", "context-3.0.2.json"):
        doc = replaced(
            full_credential(), "@context[1]", f"https://purl.imsglobal.org/spec/ob/v3p0/{url}"
        )
        assert check_credential(doc) == []


CS = "credentialSubject"
ACH = "credentialSubject.achievement"


@pytest.mark.parametrize(
    ("member", "code", "path"),
    [
        ("@context", "bad_context", "@context"),
        ("id", "missing_field", "id"),
        ("type", "missing_field", "type"),
        ("issuer", "missing_field", "issuer"),
        ("issuer.id", "missing_field", "issuer.id"),
        ("issuer.type", "missing_field", "issuer.type"),
        ("validFrom", "missing_field", "validFrom"),
        (CS, "missing_field", CS),
        (f"{CS}.type", "missing_field", f"{CS}.type"),
        (f"{CS}.achievement", "missing_field", f"{CS}.achievement"),
        (f"{ACH}.id", "missing_field", f"{ACH}.id"),
        (f"{ACH}.type", "missing_field", f"{ACH}.type"),
        (f"{ACH}.name", "missing_field", f"{ACH}.name"),
        (f"{ACH}.description", "missing_field", f"{ACH}.description"),
        (f"{ACH}.criteria", "missing_field", f"{ACH}.criteria"),
        (f"{ACH}.alignment[0].targetName", "missing_field", f"{ACH}.alignment[0].targetName"),
        (f"{ACH}.alignment[0].targetUrl", "missing_field", f"{ACH}.alignment[0].targetUrl"),
        (f"{ACH}.alignment[0].type", "missing_field", f"{ACH}.alignment[0].type"),
        (f"{ACH}.resultDescription[0].id", "missing_field", f"{ACH}.resultDescription[0].id"),
        (f"{ACH}.resultDescription[0].name", "missing_field", f"{ACH}.resultDescription[0].name"),
        (
            f"{ACH}.resultDescription[0].resultType",
            "missing_field",
            f"{ACH}.resultDescription[0].resultType",
        ),
        (f"{ACH}.creator.id", "missing_field", f"{ACH}.creator.id"),
        (
            f"{ACH}.otherIdentifier[0].identifierType",
            "missing_field",
            f"{ACH}.otherIdentifier[0].identifierType",
        ),
        (f"{ACH}.related[0].id", "missing_field", f"{ACH}.related[0].id"),
        (f"{ACH}.image.id", "missing_field", f"{ACH}.image.id"),
        (f"{CS}.result[0].type", "missing_field", f"{CS}.result[0].type"),
        (f"{CS}.identifier[0].identityHash", "missing_field", f"{CS}.identifier[0].identityHash"),
        (f"{CS}.identifier[0].identityType", "missing_field", f"{CS}.identifier[0].identityType"),
        (f"{CS}.identifier[0].hashed", "missing_field", f"{CS}.identifier[0].hashed"),
        ("credentialSchema[0].id", "missing_field", "credentialSchema[0].id"),
        ("credentialStatus.type", "missing_field", "credentialStatus.type"),
        ("issuer.address.type", "missing_field", "issuer.address.type"),
    ],
)
def test_each_missing_field_is_reported(member: str, code: str, path: str) -> None:
    errors = check_credential(without(full_credential(), member))
    assert (code, path) in found(errors), errors


def test_criteria_needs_id_or_narrative() -> None:
    doc = replaced(full_credential(), f"{ACH}.criteria", {})
    assert ("missing_field", f"{ACH}.criteria") in found(check_credential(doc))


def test_subject_needs_id_or_identifier() -> None:
    doc = without(without(full_credential(), f"{CS}.id"), f"{CS}.identifier")
    assert ("missing_subject_identity", CS) in found(check_credential(doc))
    assert check_credential(without(full_credential(), f"{CS}.id")) == []
    assert check_credential(without(full_credential(), f"{CS}.identifier")) == []


@pytest.mark.parametrize(
    ("member", "value", "code"),
    [
        (
            "@context[0]",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "bad_context",
        ),
        ("@context[1]", "https://example.org/other.json", "bad_context"),
        ("@context", "https://www.w3.org/ns/credentials/v2", "bad_context"),
        ("type", ["OpenBadgeCredential"], "bad_type"),
        ("type", [], "wrong_type"),
        ("id", "not a uri", "bad_uri"),
        ("issuer", "no-scheme", "bad_uri"),
        ("issuer", 42, "wrong_type"),
        ("validFrom", "2025-03-01T09:30:00", "bad_datetime"),  # no timezone
        ("validFrom", "2025-02-30T09:30:00Z", "bad_datetime"),
        ("validFrom", "2025-03-01 09:30:00Z", "bad_datetime"),
        ("validFrom", "2025-03-01T09:30:00+15:00", "bad_datetime"),
        ("validUntil", "tomorrow", "bad_datetime"),
        ("awardedDate", 20250301, "wrong_type"),
        (CS, [{"type": "AchievementSubject"}], "wrong_type"),
        (f"{CS}.type", ["Person"], "bad_type"),
        (f"{CS}.creditsEarned", "5", "wrong_type"),
        (f"{CS}.creditsEarned", -1, "out_of_range"),
        (f"{CS}.activityEndDate", "2025-13-01T00:00:00Z", "bad_datetime"),
        (f"{CS}.result[0].status", "Done", "bad_enum"),
        (f"{CS}.result[0].resultDescription", "urn:uuid:unknown", "unknown_result_description"),
        (f"{CS}.identifier[0].identityHash", "sha256$abc", "bad_identity_hash"),
        (f"{CS}.identifier[0].identityType", "studentId", "bad_enum"),
        (f"{CS}.identifier[0].type", "Identity", "bad_type"),
        (f"{CS}.identifier[0].hashed", "true", "wrong_type"),
        (f"{ACH}.name", "  ", "empty_value"),
        (f"{ACH}.achievementType", "Nanodegree", "bad_enum"),
        (f"{ACH}.creditsAvailable", True, "wrong_type"),
        (f"{ACH}.inLanguage", "english please", "bad_language"),
        (f"{ACH}.tag", ["ok", 3], "wrong_type"),
        (f"{ACH}.alignment[0].targetUrl", "ftp://esco.example/skill", "bad_url"),
        (f"{ACH}.alignment[0].targetType", "ESCO", "bad_enum"),
        (f"{ACH}.resultDescription[0].resultType", "Score", "bad_enum"),
        (f"{ACH}.image", {"id": "https://x.example/i.png", "type": "Picture"}, "bad_type"),
        (f"{ACH}.eqfLevel", 9, "bad_eqf_level"),
        (f"{ACH}.eqfLevel", "6", "bad_eqf_level"),
        (f"{ACH}.ectsCredits", -2, "out_of_range"),
        (f"{ACH}.participationMode", "hybrid", "bad_enum"),
        (f"{ACH}.validityPeriod", "5 years", "bad_duration"),
        (f"{ACH}.supervisedAssessment", "yes", "wrong_type"),
        (f"{ACH}.stackableInto", ["not a uri"], "bad_uri"),
        ("issuer.address.addressCountryCode", "NLD", "bad_country_code"),
        ("issuer.email", "registry.uni.example", "bad_email"),
        ("credentialStatus", "https://uni.example/status", "wrong_type"),
    ],
)
def test_bad_values_are_reported(member: str, value: object, code: str) -> None:
    errors = check_credential(replaced(full_credential(), member, value))
    expected_path = member.split("[")[0] if member.startswith("@context[") else member
    codes = {e.code for e in errors}
    assert code in codes, errors
    if code != "bad_context":
        assert any(e.path is not None and e.path.startswith(expected_path) for e in errors)


def test_ext_enum_values_are_accepted() -> None:
    doc = replaced(full_credential(), f"{ACH}.achievementType", "ext:Nanodegree")
    doc = replaced(doc, f"{CS}.identifier[0].identityType", "ext:studentId")
    assert check_credential(doc) == []


def test_single_values_where_arrays_are_expected_are_read() -> None:
    ach = full_credential()["credentialSubject"]["achievement"]  # type: ignore[index]
    doc = replaced(full_credential(), f"{ACH}.alignment", ach["alignment"][0])
    assert check_credential(doc) == []
    doc = replaced(doc, f"{ACH}.alignment.targetUrl", "nope")
    assert ("bad_url", f"{ACH}.alignment.targetUrl") in found(check_credential(doc))


def test_vc11_rules() -> None:
    badge = vc11_badge()
    assert ("missing_field", "issuanceDate") in found(
        check_credential(without(badge, "issuanceDate"))
    )
    assert ("missing_field", "name") in found(check_credential(without(badge, "name")))
    # VC 1.1 xsd:dateTime: the timezone is optional
    assert check_credential(replaced(badge, "expirationDate", "2028-05-01T00:00:00")) == []


def test_endorsement_rules() -> None:
    doc = endorsement()
    assert ("missing_field", "name") in found(check_credential(without(doc, "name")))
    assert ("missing_field", "credentialSubject.id") in found(
        check_credential(without(doc, "credentialSubject.id"))
    )
    assert ("bad_type", "credentialSubject.type") in found(
        check_credential(replaced(doc, "credentialSubject.type", ["AchievementSubject"]))
    )


def test_embedded_endorsements_are_checked() -> None:
    bad = without(endorsement(), "validFrom")
    doc = replaced(full_credential(), "endorsement", [endorsement(), bad])
    assert found(check_credential(doc)) == {("missing_field", "endorsement[1].validFrom")}


def test_not_an_object() -> None:
    assert found(check_credential([1])) == {("wrong_type", "")}


def test_all_errors_are_reported_at_once() -> None:
    doc = without(without(full_credential(), "id"), f"{ACH}.criteria")
    assert {("missing_field", "id"), ("missing_field", f"{ACH}.criteria")} <= found(
        check_credential(doc)
    )


def test_part_checks_have_own_paths() -> None:
    assert found(check_achievement({"id": "urn:x:1"})) >= {
        ("missing_field", "achievement.name"),
        ("missing_field", "achievement.criteria"),
    }
    assert found(check_profile({"id": "did:web:x"})) == {("missing_field", "issuer.type")}
    assert found(check_result({"type": ["Result"], "status": "Done"}, "r")) == {
        ("bad_enum", "r.status")
    }
    assert found(
        check_result_description({"id": "urn:x:1", "type": ["ResultDescription"], "name": "n"})
    ) == {("missing_field", "resultDescription.resultType")}
    assert found(check_alignment({"type": ["Alignment"], "targetName": "x"})) == {
        ("missing_field", "alignment.targetUrl")
    }
    assert (
        found(
            check_identity_object(
                {
                    "type": "IdentityObject",
                    "hashed": False,
                    "identityHash": "s-1",
                    "identityType": "sisSourcedId",
                }
            )
        )
        == set()
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("urn:uuid:1", True),
        ("did:key:z6Mk", True),
        ("https://a.example/x?y=1#z", True),
        ("data:image/png;base64,iVBOR", True),
        ("https://ex.example/é", True),
        ("relative/path", False),
        ("http://a b", False),
        ("urn:", False),
        ("1http://x", False),
        ("https://a.example/\x00", False),
    ],
)
def test_uri_rule(value: str, ok: bool) -> None:
    assert is_uri(value) is ok


def test_url_rule() -> None:
    assert is_url("https://esco.example/skill/1")
    assert not is_url("urn:uuid:1") and not is_url("https:///nohost")


@pytest.mark.parametrize(
    ("value", "stamp", "ok"),
    [
        ("2025-03-01T09:30:00Z", True, True),
        ("2025-03-01T09:30:00.123456789+02:00", True, True),
        ("2025-03-01T09:30:00", True, False),
        ("2025-03-01T09:30:00", False, True),
        ("2024-02-29T00:00:00Z", True, True),
        ("2023-02-29T00:00:00Z", True, False),
        ("2025-03-01T24:00:00Z", True, False),
        ("2025-03-01T09:30:00-14:00", True, True),
        ("2025-03-01T09:30Z", True, False),
        ("2025-03-01", True, False),
    ],
)
def test_datetime_rule(value: str, stamp: bool, ok: bool) -> None:
    assert (parse_datetime(value, stamp=stamp) is not None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("P5Y", True),
        ("P1Y6M", True),
        ("PT36H", True),
        ("P1DT12H30M5.5S", True),
        ("P", False),
        ("PT", False),
        ("P1YT", False),
        ("P2W", False),
        ("5Y", False),
        ("-P1Y", False),
    ],
)
def test_duration_rule(value: str, ok: bool) -> None:
    assert is_duration(value) is ok


# --- any other VC: the VC data model rules only (VC 2.0 §4) ---------------------------

GENERIC = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "ExampleDegreeCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "did:example:subject", "degree": "BSc"},
}


def test_a_generic_vc_follows_only_the_vc_data_model() -> None:
    assert check_credential(GENERIC) == []
    # no id, no validFrom, no OB context, subject without achievement: all fine
    assert check_credential({**GENERIC, "type": ["VerifiableCredential"]}) == []
    multi = {**GENERIC, "credentialSubject": [{"id": "did:example:a"}, {"name": "B"}]}
    assert check_credential(multi) == []
    named = {**GENERIC, "name": {"@value": "Degree", "@language": "en"}}
    assert check_credential(named) == []
    related = [
        {
            "id": "https://x.example/a",
            "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA",
        }
    ]
    assert check_credential({**GENERIC, "relatedResource": related}) == []


@pytest.mark.parametrize(
    ("member", "value", "code"),
    [
        ("type", ["ExampleDegreeCredential"], "bad_type"),
        ("issuer", {"name": "no id"}, "missing_field"),
        ("issuer", 4, "wrong_type"),
        ("credentialSubject", {}, "empty_value"),
        ("credentialSubject", "did:example:subject", "wrong_type"),
        ("credentialSubject", [], "empty_value"),
        ("id", "not a url", "bad_uri"),
        ("validFrom", "2025-03-01T09:30:00", "bad_datetime"),
        ("name", 5, "wrong_type"),
        ("credentialStatus", {"id": "https://x.example/s"}, "missing_field"),
        ("validUntil", "2020-01-01T00:00:00Z", "bad_validity_period"),
        ("relatedResource", ["https://x.example/a"], "wrong_type"),
        ("relatedResource", [{"digestSRI": "sha384-abc"}], "missing_field"),
        ("relatedResource", [{"id": "https://x.example/a"}], "missing_field"),
        (
            "relatedResource",
            [{"id": "https://x.example/a", "digestSRI": "sha384-a"}] * 2,
            "duplicate_id",
        ),
    ],
)
def test_generic_vc_rules(member: str, value: object, code: str) -> None:
    doc = {**GENERIC, "validFrom": "2021-01-01T00:00:00Z", member: value}
    assert code in {e.code for e in check_credential(doc)}


def test_generic_vc11_needs_issuance_date() -> None:
    v1 = {**GENERIC, "@context": ["https://www.w3.org/2018/credentials/v1"]}
    assert ("missing_field", "issuanceDate") in found(check_credential(v1))
    assert check_credential({**v1, "issuanceDate": "2025-01-01T00:00:00Z"}) == []
