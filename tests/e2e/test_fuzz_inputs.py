"""Bad input never gets a 5xx: arbitrary JSON and bytes at every write endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.harness import Stack

ENDPOINTS = [
    ("issuer", "/issuers"),
    ("issuer", "/awards"),
    ("catalog", "/achievements"),
    ("revocation", "/credentials/status"),
    ("verifier", "/credentials/verify"),
]

json_values = st.recursive(
    # NaN and infinities are not JSON: the bytes test covers malformed bodies.
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "url",
                    "issuerDid",
                    "achievementId",
                    "recipient",
                    "score",
                    "maxScore",
                    "criteria",
                    "masteryThreshold",
                    "credentialId",
                    "credentialStatus",
                    "status",
                    "verifiableCredential",
                    "options",
                    "id",
                    "type",
                    "proof",
                    "@context",
                ]
            )
            | st.text(max_size=10),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


def post(stack: Stack, service: str, path: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{stack.url(service)}{path}",
        data=body,
        method="POST",
        headers={**stack.auth, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", "")


FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize(("service", "path"), ENDPOINTS)
@FUZZ
@given(value=json_values)
def test_arbitrary_json_is_answered_without_5xx(
    stack: Stack, service: str, path: str, value: object
) -> None:
    status, content_type = post(stack, service, path, json.dumps(value).encode())
    assert status < 500, (service, path, value)
    if status >= 400:
        # Malformed requests get problem+json; a readable credential that does
        # not verify gets the VC-API's 400 with the verification report.
        report = service == "verifier" and content_type.startswith("application/json")
        assert report or content_type.startswith("application/problem+json"), content_type


@pytest.mark.parametrize(("service", "path"), ENDPOINTS)
@FUZZ
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_answered_without_5xx(
    stack: Stack, service: str, path: str, raw: bytes
) -> None:
    status, _content_type = post(stack, service, path, raw)
    assert status < 500, (service, path, raw)


def call_json(stack: Stack, service: str, path: str, body: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"{stack.url(service)}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={**stack.auth, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def signed_credential(stack: Stack) -> dict[str, object]:
    """A real credential with its embedded eddsa-rdfc-2022 proof."""
    status, issuer = call_json(
        stack, "issuer", "/issuers", {"name": "Fuzz U", "url": "https://f.example"}
    )
    assert status == 201, issuer
    status, achievement = call_json(
        stack,
        "catalog",
        "/achievements",
        {
            "issuerDid": issuer["id"],
            "name": "Fuzzing",
            "description": "Find the bugs.",
            "criteria": {"narrative": "Pass."},
            "masteryThreshold": 0.5,
        },
    )
    assert status == 201, achievement
    status, award = call_json(
        stack,
        "issuer",
        "/awards",
        {"achievementId": achievement["id"], "recipient": {"id": "did:example:f"}, "score": 60},
    )
    assert status == 201, award
    credential = award["credential"]
    assert isinstance(credential, dict)
    return credential


def paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a member or item below `value`."""
    found: list[tuple[object, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def replaced(document: object, path: tuple[object, ...], new: object) -> object:
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


@FUZZ
@given(data=st.data())
def test_any_change_to_a_signed_credential_is_refused(
    stack: Stack, signed_credential: dict[str, object], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(paths(signed_credential)))
    new = data.draw(json_values)
    changed = replaced(signed_credential, path, new)
    if changed == signed_credential:
        return
    status, report = call_json(
        stack, "verifier", "/credentials/verify", {"verifiableCredential": changed}
    )
    assert status == 400, (path, new, report)
    assert report["verified"] is False
