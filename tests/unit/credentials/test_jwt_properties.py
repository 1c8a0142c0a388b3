"""Property tests: sign-then-verify round trips, and any edit of a token is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.credentials.crypto_keys import SigningKey, generate_ed25519, generate_p256
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.errors import ProofError
from shared.credentials.jwt import sign_vc_jwt, verify_vc_jwt
from tests.unit.credentials.vc_samples import iso, ob3_credential

KEYS = [generate_ed25519(), generate_p256()]
RESOLVER = DidResolver()

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20)
)
extras = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10).filter(
        lambda k: k not in {"iss", "sub", "jti", "nbf", "exp", "iat", "aud", "vc", "proof"}
    ),
    st.one_of(json_scalars, st.lists(json_scalars, max_size=3)),
    max_size=4,
)


@st.composite
def credentials(draw: st.DrawFn) -> tuple[SigningKey, dict[str, Any]]:
    key = draw(st.sampled_from(KEYS))
    start = draw(moments)
    end = draw(st.one_of(st.none(), st.timedeltas(timedelta(seconds=1), timedelta(days=3650))))
    credential = ob3_credential(
        did_key_for(key.public_key),
        subject=f"did:example:{draw(st.uuids())}",
        name=draw(st.text(min_size=1, max_size=60)),
        valid_from=start,
        valid_until=None if end is None else start + end,
        cred_id=f"urn:uuid:{draw(st.uuids())}",
    )
    extra = draw(extras)
    return key, {**extra, **credential}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_sign_then_verify_round_trip(case: tuple[SigningKey, dict[str, Any]]) -> None:
    key, credential = case
    token = sign_vc_jwt(credential, key)
    assert asyncio.run(verify_vc_jwt(token, RESOLVER)) == credential


@settings(max_examples=60, deadline=None)
@given(credentials(), st.data())
def test_any_edit_of_the_token_is_refused(
    case: tuple[SigningKey, dict[str, Any]], data: st.DataObject
) -> None:
    key, credential = case
    token = sign_vc_jwt(credential, key)
    position = data.draw(st.integers(0, len(token) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[position]))
    edited = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(ProofError):
        asyncio.run(verify_vc_jwt(edited, RESOLVER))


def test_dates_survive_as_numeric_dates() -> None:
    key = KEYS[0]
    start = datetime(2030, 5, 6, 7, 8, 9, 987654, tzinfo=UTC)
    credential = ob3_credential(did_key_for(key.public_key), valid_from=start)
    assert credential["validFrom"] == iso(start)
    token = sign_vc_jwt(credential, key)
    assert asyncio.run(verify_vc_jwt(token, RESOLVER))["validFrom"] == iso(start)
