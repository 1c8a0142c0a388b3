"""Claim tokens and share ids: unguessable, stable, and stored nowhere.

Both are HMAC-SHA256 of the credential id under a key derived from the key
store's master key (HKDF-SHA256, RFC 5869, with its own `info`, so the master
key's other use, sealing the key store, is kept separate). Every issuer
instance derives the same values, a replay or a Redis wipe changes nothing,
and a token cannot be forged without the master key.

- claim token: `<credential uuid as 32 hex><32 base64url of the MAC>`, so the
  token alone finds its credential; checked in constant time.
- share id: 32 base64url characters of another MAC (no credential id in it:
  a share link says nothing about the credential until the verifier answers).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"microcred learner links v1"
_MAC_CHARS = 32  # 192 bits of the MAC, base64url
_TOKEN = re.compile(r"^[0-9a-f]{32}[A-Za-z0-9_-]{32}$")
SHARE_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


def derive_link_key(master_key: bytes) -> bytes:
    """The links' HMAC key from the key store's master key (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(master_key)


def _mac(key: bytes, purpose: str, credential_id: str) -> str:
    digest = hmac.new(key, f"{purpose}\x00{credential_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]


def _uuid_of(credential_id: str) -> uuid.UUID | None:
    text = credential_id.removeprefix("urn:uuid:")
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class LearnerLinks:
    """Makes and checks claim tokens and share ids (credential ids are `urn:uuid:`)."""

    key: bytes = field(repr=False)

    @classmethod
    def from_master_key(cls, master_key: bytes) -> LearnerLinks:
        return cls(derive_link_key(master_key))

    def claim_token(self, credential_id: str) -> str:
        found = _uuid_of(credential_id)
        if found is None:
            raise ValueError("claim tokens are for urn:uuid credential ids")
        return found.hex + _mac(self.key, "claim", credential_id)

    def credential_of(self, token: str) -> str | None:
        """The credential id a claim token stands for, or None for a bad token."""
        if not _TOKEN.match(token):
            return None
        credential_id = f"urn:uuid:{uuid.UUID(token[:32])}"
        if not hmac.compare_digest(token[32:], _mac(self.key, "claim", credential_id)):
            return None
        return credential_id

    def share_id(self, credential_id: str) -> str:
        """The credential's share id: the same every time it is published."""
        return _mac(self.key, "share", credential_id)
