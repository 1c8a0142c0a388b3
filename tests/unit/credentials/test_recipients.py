"""Hashed recipient identifiers (OB 3.0 IdentityObject)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.credentials.errors import ShapeError
from shared.credentials.recipients import (
    hash_identity,
    matches_identity,
    plain_identity,
)

# The example given with the IdentityHash type in OB 3.0 (appendix B).
SPEC_HASH = "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"


def test_spec_vector() -> None:
    identity = hash_identity("a@example.com", salt="Kosher")
    assert identity == {
        "type": "IdentityObject",
        "identityHash": SPEC_HASH,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "Kosher",
    }


def test_hash_is_sha256_of_value_plus_salt() -> None:
    identity = hash_identity("learner@uni.example", salt="00ff")
    expected = hashlib.sha256(b"learner@uni.example00ff").hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"


def test_email_is_normalised_before_hashing() -> None:
    upper = hash_identity("  A@Example.COM ", salt="Kosher")
    assert upper["identityHash"] == SPEC_HASH


def test_other_identity_types_are_not_normalised() -> None:
    identity = hash_identity("AB-12", salt="s", identity_type="sisSourcedId")
    expected = hashlib.sha256(b"AB-12s").hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert identity["identityType"] == "sisSourcedId"


def test_default_salt_is_random_16_bytes_hex() -> None:
    first = hash_identity("a@example.com")
    second = hash_identity("a@example.com")
    assert isinstance(first["salt"], str) and len(first["salt"]) == 32
    int(first["salt"], 16)
    assert first["salt"] != second["salt"]
    assert first["identityHash"] != second["identityHash"]


def test_empty_salt_means_unsalted_and_no_salt_member() -> None:
    identity = hash_identity("a@example.com", salt="")
    assert "salt" not in identity
    assert identity["identityHash"] == "sha256$" + hashlib.sha256(b"a@example.com").hexdigest()
    assert matches_identity(identity, "a@example.com")


def test_empty_value_refused() -> None:
    with pytest.raises(ValueError):
        hash_identity("")


def test_matches_spec_vector_and_variants() -> None:
    identity = {
        "type": "IdentityObject",
        "identityHash": SPEC_HASH,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "Kosher",
    }
    assert matches_identity(identity, "a@example.com")
    assert matches_identity(identity, "A@EXAMPLE.com")
    assert not matches_identity(identity, "b@example.com")
    assert not matches_identity({**identity, "salt": "kosher"}, "a@example.com")


def test_matches_upper_case_hex_and_md5() -> None:
    upper = {
        "identityHash": SPEC_HASH.upper().replace("SHA256$", "sha256$"),
        "hashed": True,
        "salt": "Kosher",
        "identityType": "emailAddress",
    }
    assert matches_identity(upper, "a@example.com")
    md5 = hashlib.md5(b"a@example.comKosher").hexdigest()
    legacy = {
        "identityHash": f"md5${md5}",
        "hashed": True,
        "salt": "Kosher",
        "identityType": "emailAddress",
    }
    assert matches_identity(legacy, "a@example.com")
    assert not matches_identity(legacy, "x@example.com")


def test_hash_from_a_non_normalising_issuer_still_matches() -> None:
    raw = hashlib.sha256(b"Mixed.Case@Example.com" + b"pepper").hexdigest()
    identity = {
        "identityHash": f"sha256${raw}",
        "hashed": True,
        "salt": "pepper",
        "identityType": "emailAddress",
    }
    assert matches_identity(identity, "Mixed.Case@Example.com")


def test_plaintext_identity() -> None:
    identity = plain_identity("S-1234", "sisSourcedId")
    assert identity["hashed"] is False
    assert matches_identity(identity, "S-1234")
    assert not matches_identity(identity, "S-1235")


@pytest.mark.parametrize(
    "identity",
    [
        {"identityHash": "sha1$abcd", "hashed": True},
        {"identityHash": "nodollar", "hashed": True},
        {"identityHash": 5, "hashed": True},
        {"identityHash": "sha256$00", "hashed": "yes"},
    ],
)
def test_malformed_identity_objects_raise(identity: dict[str, object]) -> None:
    with pytest.raises(ShapeError):
        matches_identity(identity, "a@example.com")


@given(value=st.text(min_size=1), salt=st.text(max_size=40))
def test_round_trip(value: str, salt: str) -> None:
    if any("\ud800" <= ch <= "\udfff" for ch in value + salt):
        with pytest.raises(UnicodeEncodeError):
            hash_identity(value, salt=salt, identity_type="name")
        return
    identity = hash_identity(value, salt=salt, identity_type="name")
    assert matches_identity(identity, value)
    assert not matches_identity(identity, value + "x")
