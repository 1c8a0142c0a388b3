"""Issuer identities and signatures: keys stay in the key store, never on Kafka."""

from __future__ import annotations

from typing import Any

from shared.credentials.crypto_keys import SigningKey
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import did_key_document, did_key_for
from shared.credentials.jwt import sign_vc_jwt
from shared.keystore import KeyStore


class Signer:
    """Creates did:key identities and signs with their keys (cached in memory)."""

    def __init__(self, keystore: KeyStore) -> None:
        self._keystore = keystore
        self._keys: dict[str, SigningKey] = {}

    async def create_identity(self, tenant: str) -> tuple[str, str, dict[str, Any]]:
        """A new Ed25519 key: its key store id, did:key and DID document."""
        key_id = await self._keystore.create_key(tenant, "Ed25519")
        did = did_key_for(await self._keystore.public_key(key_id))
        return key_id, did, did_key_document(did)

    async def signing_key(self, key_id: str, did_document: dict[str, Any]) -> SigningKey:
        key = self._keys.get(key_id)
        if key is None:
            private_key = await self._keystore.load(key_id)
            # did:key v0.7 §3.1: the one verification method, used for assertions.
            method = did_document["assertionMethod"][0]
            kid = method if isinstance(method, str) else str(method["id"])
            key = self._keys[key_id] = SigningKey(private_key, kid)
        return key

    @staticmethod
    def sign(credential: dict[str, Any], key: SigningKey) -> tuple[str, dict[str, Any]]:
        """The credential as a VC-JWT and with an embedded eddsa-rdfc-2022 proof:
        the two proof formats OB 3.0 §8 allows."""
        return sign_vc_jwt(credential, key), sign_data_integrity(credential, key)
