"""Hostile documents never crash the credential core: every entry point
answers with a report or a CredentialError, whatever JSON it is given."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.credentials.builders import build_achievement, build_credential, build_profile
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import DidResolver
from shared.credentials.errors import CredentialError
from shared.credentials.json_schema import validate_schema
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.model import check_credential
from shared.credentials.presentations import verify_any_presentation
from shared.credentials.status_list import status_entry
from shared.credentials.verify import verify_credential

KEYS = [
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "achievement",
    "criteria",
    "name",
    "proof",
    "credentialStatus",
    "statusListIndex",
    "statusPurpose",
    "statusListCredential",
    "cryptosuite",
    "proofValue",
    "verificationMethod",
    "identifier",
    "result",
    "alignment",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=15,
)
documents = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)

KEY = generate_ed25519()
ISSUER = KEY.kid.split("#")[0]
LIST_URL = "https://status.example/lists/1"


def _credential() -> dict[str, Any]:
    from datetime import UTC, datetime

    achievement = build_achievement(
        id="https://example.org/achievements/1",
        name="Fuzzing",
        description="Finding bugs.",
        criteria_narrative="Pass.",
    )
    return build_credential(
        issuer=build_profile(ISSUER, "Fuzz U"),
        achievement=achievement,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        subject_id="did:example:learner",
        credential_status=status_entry(LIST_URL, 7, "revocation"),
    )


SIGNED = sign_data_integrity(_credential(), KEY)
JWT = sign_vc_jwt(_credential(), KEY)


class NoLists:
    async def get(self, url: str) -> dict[str, Any] | str:
        raise LookupError("no lists in this test")


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        items = []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


PATHS = _paths(SIGNED)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_shape_and_schema_checks_never_raise(doc: dict[str, Any]) -> None:
    assert isinstance(check_credential(doc), list)
    assert isinstance(validate_schema(doc), list)


@settings(max_examples=150, deadline=None)
@given(st.one_of(documents, st.text(max_size=200), st.sampled_from([JWT[:-3], JWT + "x"])))
async def test_verify_answers_any_input_with_a_report(credential: dict[str, Any] | str) -> None:
    report = await verify_credential(credential, resolver=DidResolver(), status_lists=NoLists())
    assert report.verified is False
    json.dumps(report.to_vc_api())  # the report always serialises


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATHS), json_values)
async def test_any_change_to_a_signed_credential_fails_verification(
    path: tuple[Any, ...], new: object
) -> None:
    changed: Any = copy.deepcopy(SIGNED)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    if changed == SIGNED:
        return
    report = await verify_credential(changed, resolver=DidResolver(), status_lists=NoLists())
    assert report.verified is False
    proof = report.check("proof")
    shape = report.check("shape")
    assert (proof and proof.outcome == "failed") or (shape and shape.outcome == "failed")


PRESENTATION_KEYS = st.sampled_from(
    ["@context", "type", "holder", "proof", "verifiableCredential", "challenge", "domain"]
)
presentations = st.dictionaries(PRESENTATION_KEYS, json_values, max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.one_of(presentations, st.text(max_size=200)))
async def test_presentations_fail_only_with_credential_errors(vp: dict[str, Any] | str) -> None:
    try:
        await verify_any_presentation(vp, DidResolver(), challenge="c", domain=None)
    except CredentialError:
        return
    raise AssertionError("a random presentation verified")
