"""Finding a learner's credentials without keeping who they are in clear.

Credentials name an emailed or student-numbered learner only by a salted
hash (OB 3.0 §B.2.3 IdentityObject), a different salt each time, so a
registrar's "every credential of jane@uni.example" cannot be answered from
the hashes without re-hashing the query with every credential's salt. At
award time, when the plain identity is at hand, we compute a keyed
fingerprint instead: HMAC-SHA256 under a per-tenant key derived (HKDF) from
the key store's master key. The fingerprint goes on `credentials.issued`
(so the index is rebuilt by replay), the plain identity never leaves the
request: not in Redis, not on Kafka. Another tenant's fingerprints of the
same learner differ, and without the master key nobody can test a guess.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.credentials.recipients import normalise_identity

_INFO = b"microcred learner index v1"
# The kinds a registrar searches by, and the IdentityObject type each stands for.
KINDS = {"id": "id", "email": "emailAddress", "studentId": "sisSourcedId"}


@dataclass(frozen=True)
class LearnerKeys:
    key: bytes = field(repr=False)

    @classmethod
    def from_master_key(cls, master_key: bytes) -> LearnerKeys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
        return cls(derived.derive(master_key))

    def of(self, tenant: str, identity_type: str, value: str) -> str:
        """The tenant's fingerprint of a learner (`identity_type` as in the
        credential: `id`, `emailAddress`, `sisSourcedId`)."""
        normalised = normalise_identity(value.strip(), identity_type)
        message = f"{tenant}\x00{identity_type}\x00{normalised}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:40]
