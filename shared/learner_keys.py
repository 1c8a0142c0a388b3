"""One key per learner, the same across every credential they are awarded:
how stacking recognises that a learner's credentials complete a pathway.

A recipient is named by a DID/URI or by an e-mail address or student number
that credentials carry only salted and hashed (OB 3.0 §B.2.3), with a new
salt each time, so the hashes cannot be matched. The issuer knows the plain
identity when it awards; it keeps only an HMAC-SHA256 of it (RFC 2104)
under a key derived from the key store's master key (HKDF, RFC 5869), never
the identity itself. Without the master key the keys reveal nothing and
cannot be recomputed from a guessed address.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.credentials.recipients import normalise_identity

_INFO = b"microcred learner keys v1"


@dataclass(frozen=True)
class LearnerKeys:
    key: bytes = field(repr=False)

    @classmethod
    def from_master_key(cls, master_key: bytes) -> LearnerKeys:
        return cls(
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(master_key)
        )

    def of(self, kind: str, value: str) -> str:
        """The learner key of an identity: `kind` is `id` (a DID or URI),
        `emailAddress` or `sisSourcedId` (OB 3.0 identity types)."""
        normalised = normalise_identity(value, kind) if kind != "id" else value
        message = f"{kind}\x00{normalised}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()
