"""status_list.py: codec, bit order, limits, entries and list checks; openbadgeslib cross-checks."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openbadgeslib.ob3 import decode_encoded_list, encode_bitstring, set_indices

from shared.credentials.errors import StatusError
from shared.credentials.status_list import (
    MAX_DECOMPRESSED_BYTES,
    MIN_ENTRIES,
    BitstringStatusList,
    parse_status_entry,
    read_status,
    status_entry,
    status_entry_2021,
    status_list_2021_credential,
    status_list_credential,
)

URL = "https://status.example/lists/1"
ISSUER = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
indexes = st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=64)


def test_index_zero_is_the_left_most_bit() -> None:
    bits = BitstringStatusList()
    bits.set(0, 1)
    bits.set(9, 1)
    raw = bits.to_bytes()
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000
    assert len(raw) == MIN_ENTRIES // 8


@settings(max_examples=40, deadline=None)
@given(indexes)
def test_encode_decode_round_trip(chosen: set[int]) -> None:
    bits = BitstringStatusList()
    for index in chosen:
        bits.set(index, 1)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    decoded = BitstringStatusList.decode(encoded)
    assert decoded.size == MIN_ENTRIES
    assert set(decoded.set_indexes()) == chosen
    assert all(decoded.get(i) == (1 if i in chosen else 0) for i in [*list(chosen)[:8], 1, 2])


@settings(max_examples=25, deadline=None)
@given(indexes)
def test_openbadgeslib_encoding_decodes_here_bit_for_bit(chosen: set[int]) -> None:
    theirs = encode_bitstring(chosen, MIN_ENTRIES)
    ours = BitstringStatusList.decode(theirs)
    assert set(ours.set_indexes()) == chosen
    assert ours.to_bytes() == decode_encoded_list(theirs)


@settings(max_examples=25, deadline=None)
@given(indexes)
def test_our_encoding_decodes_in_openbadgeslib(chosen: set[int]) -> None:
    bits = BitstringStatusList()
    for index in chosen:
        bits.set(index, 1)
    raw = decode_encoded_list(bits.encode())
    assert raw == bits.to_bytes()
    assert set_indices(raw) == frozenset(chosen)
    # StatusList2021 form (no multibase prefix) too
    assert set_indices(decode_encoded_list(bits.encode_2021())) == frozenset(chosen)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.dictionaries(st.integers(0, 999), st.integers(0, 255), max_size=20))
def test_multi_bit_entries(status_size: int, values: dict[int, int]) -> None:
    bits = BitstringStatusList(1000, status_size, allow_short=True)
    expected = {i: v % (1 << status_size) for i, v in values.items()}
    for index, value in expected.items():
        bits.set(index, value)
    decoded = BitstringStatusList.decode(bits.encode(), status_size)
    for index in range(1000):
        assert decoded.get(index) == expected.get(index, 0)
    assert set(decoded.set_indexes()) == {i for i, v in expected.items() if v}


def test_set_clears_and_limits() -> None:
    bits = BitstringStatusList()
    bits.set(5, 1)
    bits.set(5, 0)
    assert bits.get(5) == 0 and not list(bits.set_indexes())
    for bad in (-1, MIN_ENTRIES):
        with pytest.raises(StatusError) as err:
            bits.get(bad)
        assert err.value.code == "index_out_of_range"
    with pytest.raises(StatusError):
        bits.set(1, 2)
    with pytest.raises(StatusError) as err:
        BitstringStatusList(1000)
    assert err.value.code == "list_too_short"


def test_short_list_from_elsewhere_is_accepted_but_noted() -> None:
    small = "u" + base64.urlsafe_b64encode(gzip.compress(b"\x80" + bytes(99))).decode().rstrip("=")
    decoded = BitstringStatusList.decode(small)
    assert decoded.short and decoded.size == 800 and decoded.get(0) == 1


def test_zip_bomb_refused() -> None:
    bomb = gzip.compress(bytes(MAX_DECOMPRESSED_BYTES + 1024))
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    assert len(encoded) < 100_000  # tiny on the wire
    with pytest.raises(StatusError) as err:
        BitstringStatusList.decode(encoded)
    assert err.value.code == "list_too_large"


@pytest.mark.parametrize("encoded", ["", "zabc", "u!!!", "u" + "QUJD", 42])
def test_malformed_encodings(encoded: object) -> None:
    with pytest.raises(StatusError):
        BitstringStatusList.decode(encoded)  # type: ignore[arg-type]


def test_documents() -> None:
    entry = status_entry(URL, 94567, "revocation")
    assert entry == {
        "id": f"{URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": URL,
    }
    cred = status_list_credential(
        URL, ISSUER, "revocation", "uH4sI", "2025-01-01T00:00:00Z", 300000
    )
    assert cred["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert cred["credentialSubject"] == {
        "id": f"{URL}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": "uH4sI",
        "ttl": 300000,
    }


def _list(purpose: str = "revocation", issuer: str = ISSUER, revoked: tuple[int, ...] = ()) -> dict:
    bits = BitstringStatusList()
    for index in revoked:
        bits.set(index, 1)
    return status_list_credential(URL, issuer, purpose, bits.encode(), "2025-01-01T00:00:00Z")


def test_read_status_checks_issuer_purpose_and_reads_bits() -> None:
    entry = parse_status_entry(status_entry(URL, 42, "revocation"))
    assert read_status(entry, _list(revoked=(42,)), ISSUER).value == 1
    assert read_status(entry, _list(revoked=(41, 43)), ISSUER).value == 0
    cases = {
        "issuer_mismatch": (_list(issuer="did:example:someone-else", revoked=(42,)), ISSUER),
        "purpose_mismatch": (_list(purpose="suspension"), ISSUER),
    }
    for code, (list_cred, issuer) in cases.items():
        with pytest.raises(StatusError) as err:
            read_status(entry, list_cred, issuer)
        assert err.value.code == code
    far = parse_status_entry(status_entry(URL, MIN_ENTRIES + 5, "revocation"))
    with pytest.raises(StatusError) as err:
        read_status(far, _list(), ISSUER)
    assert err.value.code == "index_out_of_range"


def test_status_messages_with_multi_bit_entries() -> None:
    bits = BitstringStatusList(MIN_ENTRIES, 2)
    bits.set(7, 2)
    list_cred = status_list_credential(
        URL, ISSUER, "message", bits.encode(), "2025-01-01T00:00:00Z"
    )
    raw = {
        **status_entry(URL, 7, "message"),
        "statusSize": 2,
        "statusMessage": [
            {"status": "0x0", "message": "pending"},
            {"status": "0x1", "message": "accepted"},
            {"status": "0x2", "message": "rejected"},
        ],
    }
    reading = read_status(parse_status_entry(raw), list_cred, ISSUER)
    assert (reading.value, reading.message) == (2, "rejected")


def test_status_list_2021() -> None:
    bits = BitstringStatusList()
    bits.set(1234, 1)
    list_cred = status_list_2021_credential(
        URL, ISSUER, "revocation", bits.encode_2021(), "2025-01-01T00:00:00Z"
    )
    entry = parse_status_entry(status_entry_2021(URL, 1234, "revocation"))
    assert read_status(entry, list_cred, ISSUER).value == 1
    # standard-alphabet base64 is accepted as well
    std = base64.b64encode(gzip.compress(bits.to_bytes())).decode()
    assert BitstringStatusList.decode_2021(std).get(1234) == 1
    # a 2021 entry never reads a Bitstring list credential
    with pytest.raises(StatusError) as err:
        read_status(entry, _list(revoked=(1234,)), ISSUER)
    assert err.value.code == "list_type_mismatch"


@pytest.mark.parametrize(
    "raw",
    [
        "not an object",
        {"type": "RevocationList2020Status"},
        {**status_entry(URL, 1, "revocation"), "statusListIndex": "01"},
        {**status_entry(URL, 1, "revocation"), "statusListIndex": 1},
        {**status_entry(URL, 1, "revocation"), "statusListIndex": "-1"},
        {**status_entry(URL, 1, "revocation"), "statusSize": 0},
        {**status_entry(URL, 1, "revocation"), "statusListCredential": ""},
    ],
)
def test_bad_entries(raw: object) -> None:
    with pytest.raises(StatusError):
        parse_status_entry(raw)
