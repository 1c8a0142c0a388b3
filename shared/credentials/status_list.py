"""Bitstring Status List v1.0 (and the older StatusList2021).

Bit order (Bitstring Status List §3.1, "Bitstring Generation Algorithm"): index 0
is the left-most bit of the bitstring, i.e. the most significant bit of the
first byte. An entry of ``statusSize`` bits starts at bit ``index * statusSize``
and is read most significant bit first.

Fetching a list credential and verifying its proof happen in verify.py; this
module builds lists, encodes/decodes them and checks an entry against a list
credential (issuer, purpose, index range).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import StatusError

MIN_ENTRIES = 131072  # §2.2: at least 16 KB of bits, for group privacy
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024  # zip-bomb guard
MAX_ENCODED_LENGTH = 8 * 1024 * 1024
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
SL2021_CONTEXT = "https://w3id.org/vc/status-list/2021/v1"
ENTRY_TYPES = {
    "BitstringStatusListEntry": "BitstringStatusListCredential",
    "StatusList2021Entry": "StatusList2021Credential",
}
_INDEX_RE = re.compile(r"0|[1-9][0-9]{0,17}")


class BitstringStatusList:
    """A status list of ``size`` entries of ``status_size`` bits each."""

    def __init__(
        self,
        size: int = MIN_ENTRIES,
        status_size: int = 1,
        *,
        allow_short: bool = False,
        _bits: bytearray | None = None,
    ) -> None:
        if not 1 <= status_size <= 8:
            raise StatusError("bad_status_size", "statusSize must be between 1 and 8")
        if size <= 0 or (size < MIN_ENTRIES and not allow_short):
            raise StatusError("list_too_short", f"a status list needs {MIN_ENTRIES} entries")
        nbytes = (size * status_size + 7) // 8
        if nbytes > MAX_DECOMPRESSED_BYTES:
            raise StatusError("list_too_large", "status list exceeds the size limit")
        self._bits = _bits if _bits is not None else bytearray(nbytes)
        self.size = size
        self.status_size = status_size

    @property
    def short(self) -> bool:
        """True when the list is below the §2.2 minimum (readable, but worth noting)."""
        return self.size < MIN_ENTRIES

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise StatusError("index_out_of_range", f"index {index!r} is outside the list")

    def get(self, index: int) -> int:
        """The status value at ``index``."""
        self._check_index(index)
        value = 0
        start = index * self.status_size
        for pos in range(start, start + self.status_size):
            bit = (self._bits[pos >> 3] >> (7 - (pos & 7))) & 1
            value = (value << 1) | bit
        return value

    def set(self, index: int, value: int) -> None:
        """Store ``value`` (0 <= value < 2**status_size) at ``index``."""
        self._check_index(index)
        if isinstance(value, bool):
            value = int(value)
        if not 0 <= value < (1 << self.status_size):
            raise StatusError("bad_status_value", f"value {value} does not fit the status size")
        start = index * self.status_size
        for offset in range(self.status_size):
            pos = start + offset
            mask = 0x80 >> (pos & 7)
            if (value >> (self.status_size - 1 - offset)) & 1:
                self._bits[pos >> 3] |= mask
            else:
                self._bits[pos >> 3] &= ~mask & 0xFF

    def set_indexes(self) -> Iterator[int]:
        """Indexes whose status is not zero, ascending."""
        last = -1
        for byte_index, byte in enumerate(self._bits):
            for bit in range(8) if byte else ():
                if byte & (0x80 >> bit):
                    index = (byte_index * 8 + bit) // self.status_size
                    if last < index < self.size:
                        last = index
                        yield index

    def to_bytes(self) -> bytes:
        """The raw bitstring."""
        return bytes(self._bits)

    def encode(self) -> str:
        """§3.1: GZIP, then multibase base64url without padding (prefix ``u``)."""
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    def encode_2021(self) -> str:
        """StatusList2021 form: GZIP then base64url (no multibase prefix)."""
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        return base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def from_bytes(cls, raw: bytes, status_size: int = 1) -> BitstringStatusList:
        """A list over an existing bitstring; lists under the minimum are accepted."""
        if not raw:
            raise StatusError("malformed_list", "empty status list")
        size = len(raw) * 8 // status_size
        return cls(size, status_size, allow_short=True, _bits=bytearray(raw))

    @classmethod
    def decode(cls, encoded: str, status_size: int = 1) -> BitstringStatusList:
        """Inverse of :meth:`encode` (``u`` + base64url); refuses zip bombs."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusError("malformed_list", "encodedList must be multibase base64url ('u')")
        return cls.from_bytes(_gunzip(_b64decode(encoded[1:], urlsafe=True)), status_size)

    @classmethod
    def decode_2021(cls, encoded: str) -> BitstringStatusList:
        """StatusList2021 ``encodedList``: base64 or base64url of the GZIP bitstring."""
        if not isinstance(encoded, str):
            raise StatusError("malformed_list", "encodedList must be a string")
        urlsafe = "-" in encoded or "_" in encoded
        return cls.from_bytes(_gunzip(_b64decode(encoded, urlsafe=urlsafe)))


def _b64decode(text: str, *, urlsafe: bool) -> bytes:
    if len(text) > MAX_ENCODED_LENGTH:
        raise StatusError("list_too_large", "encodedList is too long")
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded.encode("ascii"))
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise StatusError("malformed_list", "encodedList is not valid base64") from exc


def _gunzip(data: bytes) -> bytes:
    """Decompress one GZIP member, refusing output over MAX_DECOMPRESSED_BYTES."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise StatusError("malformed_list", "encodedList is not GZIP data") from exc
    if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise StatusError("list_too_large", "decompressed status list exceeds the limit")
    if not inflater.eof:
        raise StatusError("malformed_list", "truncated GZIP data")
    return out


# --- documents ---------------------------------------------------------------


def _iso(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def status_list_credential(
    list_url: str,
    issuer: str,
    purpose: str,
    encoded_list: str,
    valid_from: datetime | str,
    ttl: int | None = None,
    *,
    valid_until: datetime | str | None = None,
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential (§2.2); ``ttl`` in milliseconds."""
    subject: dict[str, Any] = {
        "id": list_url + "#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    if ttl is not None:
        subject["ttl"] = ttl
    credential: dict[str, Any] = {
        "@context": [VC2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": _iso(valid_from),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        credential["validUntil"] = _iso(valid_until)
    return credential


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """A BitstringStatusListEntry (§2.1) for bit ``index`` of the list at ``list_url``."""
    if index < 0:
        raise StatusError("index_out_of_range", "statusListIndex must be >= 0")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_2021_credential(
    list_url: str, issuer: str, purpose: str, encoded_list: str, issuance_date: datetime | str
) -> dict[str, Any]:
    """An unsigned StatusList2021Credential (VC 1.1 shape)."""
    return {
        "@context": [VC1_CONTEXT, SL2021_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": issuer,
        "issuanceDate": _iso(issuance_date),
        "credentialSubject": {
            "id": list_url + "#list",
            "type": "StatusList2021",
            "statusPurpose": purpose,
            "encodedList": encoded_list,
        },
    }


def status_entry_2021(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """A StatusList2021Entry."""
    entry = status_entry(list_url, index, purpose)
    entry["type"] = "StatusList2021Entry"
    return entry


# --- checking an entry against its list ------------------------------------------


@dataclass(frozen=True)
class StatusEntry:
    """A parsed ``credentialStatus`` entry of a status-list type."""

    type: str
    list_url: str
    index: int
    purpose: str
    status_size: int = 1
    messages: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StatusReading:
    """The value read for an entry; ``short_list`` notes a list below the minimum."""

    value: int
    purpose: str
    short_list: bool
    message: str | None = None


def _str_member(entry: dict[str, Any], name: str, path: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise StatusError("malformed_entry", f"{name} must be a non-empty string", f"{path}/{name}")
    return value


def _messages(entry: dict[str, Any], path: str) -> tuple[tuple[str, str], ...]:
    raw = entry.get("statusMessage", [])
    if not isinstance(raw, list) or not all(
        isinstance(m, dict) and isinstance(m.get("status"), str) for m in raw
    ):
        raise StatusError("malformed_entry", "statusMessage must list {status, message}", path)
    return tuple((m["status"].lower(), str(m.get("message", ""))) for m in raw)


def parse_status_entry(entry: object, path: str = "/credentialStatus") -> StatusEntry:
    """Parse a BitstringStatusListEntry or StatusList2021Entry (§2.1)."""
    if not isinstance(entry, dict):
        raise StatusError("malformed_entry", "credentialStatus entry must be an object", path)
    kind = entry.get("type")
    if kind not in ENTRY_TYPES:
        raise StatusError("unsupported_status_type", f"status type {kind!r} unsupported", path)
    index_text = _str_member(entry, "statusListIndex", path)
    if not _INDEX_RE.fullmatch(index_text):
        raise StatusError("malformed_entry", "statusListIndex must be a base-10 integer", path)
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 8:
        raise StatusError("malformed_entry", "statusSize must be an integer 1..8", path)
    return StatusEntry(
        type=str(kind),
        list_url=_str_member(entry, "statusListCredential", path),
        index=int(index_text),
        purpose=_str_member(entry, "statusPurpose", path),
        status_size=size,
        messages=_messages(entry, path),
    )


def _issuer_of(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _list_subject(list_credential: dict[str, Any], entry: StatusEntry) -> dict[str, Any]:
    types = list_credential.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if ENTRY_TYPES[entry.type] not in types:
        raise StatusError("list_type_mismatch", f"not a {ENTRY_TYPES[entry.type]}")
    if list_credential.get("id", entry.list_url) != entry.list_url:
        raise StatusError("list_mismatch", "the list credential's id is not the entry's URL")
    subject = list_credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, dict) or not isinstance(subject.get("encodedList"), str):
        raise StatusError("malformed_list", "list credential has no encodedList subject")
    return subject


# The last lists read, decoded (GZIP cost 5% of a busy verifier's CPU, issue
# 7); only lists of at most 256 KiB decoded (2 million 1-bit entries).
_DECODED_ENTRIES = 64
_DECODED_MAX_BYTES = 256 * 1024
_decoded_lists: OrderedDict[tuple[str, int, bool], BitstringStatusList] = OrderedDict()


def _decoded(encoded: object, status_size: int, legacy: bool) -> BitstringStatusList:
    """``encodedList`` decoded (``legacy``: StatusList2021), from the cache when seen."""
    if not isinstance(encoded, str):
        raise StatusError("malformed_list", "encodedList must be a string")
    key = (encoded, status_size, legacy)
    found = _decoded_lists.get(key)
    if found is not None:
        _decoded_lists.move_to_end(key)
        return found
    if legacy:
        bits = BitstringStatusList.decode_2021(encoded)
    else:
        bits = BitstringStatusList.decode(encoded, status_size)
    if (bits.size * bits.status_size) // 8 <= _DECODED_MAX_BYTES:
        _decoded_lists[key] = bits
        while len(_decoded_lists) > _DECODED_ENTRIES:
            _decoded_lists.popitem(last=False)
    return bits


def read_status(
    entry: StatusEntry, list_credential: dict[str, Any], credential_issuer: str | None
) -> StatusReading:
    """Check issuer and purpose (§3.2 validate algorithm) and read the entry's value.

    ``list_credential`` must already have had its proof verified by the caller.
    """
    subject = _list_subject(list_credential, entry)
    if credential_issuer is None or _issuer_of(list_credential) != credential_issuer:
        raise StatusError("issuer_mismatch", "the status list has a different issuer")
    purposes = subject.get("statusPurpose")
    purposes = [purposes] if isinstance(purposes, str) else purposes
    if not isinstance(purposes, list) or entry.purpose not in purposes:
        raise StatusError("purpose_mismatch", "the list's statusPurpose differs from the entry's")
    bits = _decoded(subject["encodedList"], entry.status_size, entry.type == "StatusList2021Entry")
    value = bits.get(entry.index)
    message = dict(entry.messages).get(f"0x{value:x}")
    return StatusReading(value, entry.purpose, bits.short, message)
