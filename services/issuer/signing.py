"""Issuer identities and signatures: keys stay in the key store, never on Kafka."""

from __future__ import annotations

import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.credentials.crypto_keys import PublicKey, SigningKey
from shared.credentials.data_integrity import sign_data_integrity, signs_data_integrity
from shared.credentials.did_documents import current_method_id, web_did, web_document
from shared.credentials.dids import did_key_document, did_key_for
from shared.credentials.jwt import sign_ob_jwt
from shared.keystore import KeyKind, KeyStore, PrivateKey


class Signer:
    """Creates did:key and platform-hosted did:web identities and signs with
    their keys (cached in memory)."""

    def __init__(self, keystore: KeyStore) -> None:
        self._keystore = keystore
        self._keys: dict[str, SigningKey] = {}

    async def create_identity(
        self, tenant: str, kind: KeyKind = "Ed25519"
    ) -> tuple[str, str, dict[str, Any]]:
        """A new key (Ed25519 or P-256: did:key has no RSA form here): its key
        store id, did:key and DID document."""
        key_id = await self._keystore.create_key(tenant, kind)
        did = did_key_for(await self._keystore.public_key(key_id))
        return key_id, did, did_key_document(did)

    async def create_web_identity(
        self, tenant: str, base_url: str, kind: KeyKind = "Ed25519"
    ) -> tuple[str, str, dict[str, Any]]:
        """A new key and `did:web:<host>:issuers:<slug>` (a random slug), whose
        document the issuer service serves at `<base_url>/issuers/<slug>/did.json`."""
        key_id, public_key = await self.new_key(tenant, kind)
        did = web_did(base_url, "issuers", secrets.token_hex(8))
        return key_id, did, web_document(did, public_key)

    async def create_self_hosted_identity(
        self, tenant: str, did: str, kind: KeyKind = "Ed25519"
    ) -> tuple[str, str, dict[str, Any]]:
        """A new key for `did` (a did:web on the institution's own domain): its
        key store id, the DID and the document to host there."""
        key_id, public_key = await self.new_key(tenant, kind)
        return key_id, did, web_document(did, public_key)

    async def new_key(self, tenant: str, kind: KeyKind = "Ed25519") -> tuple[str, PublicKey]:
        """A new key of ``kind`` in the key store: its id and public key."""
        key_id = await self._keystore.create_key(tenant, kind)
        return key_id, await self._keystore.public_key(key_id)

    async def kind_of(self, key_id: str) -> KeyKind:
        """The kind of a stored key (a rotation keeps the issuer's key type)."""
        return key_kind(await self._keystore.load(key_id))

    async def signing_key(
        self, key_id: str, did_document: dict[str, Any], method_id: str | None = None
    ) -> SigningKey:
        """The key `key_id`, signing as `method_id` (default: the document's
        current method; did:key v0.7 §3.1 has one)."""
        kid = method_id or current_method_id(did_document)
        key = self._keys.get(key_id)
        if key is None or key.kid != kid:
            private_key = await self._keystore.load(key_id)
            key = self._keys[key_id] = SigningKey(private_key, kid)
        return key

    @staticmethod
    def sign(credential: dict[str, Any], key: SigningKey) -> tuple[str, dict[str, Any] | None]:
        """The credential as a VC-JWT (EdDSA, ES256 or RS256 by the issuer's key)
        and with an embedded Data Integrity proof (eddsa-rdfc-2022 or
        ecdsa-rdfc-2019; None for an RSA key: no RSA cryptosuite exists): the
        two proof formats OB 3.0 §8 allows. §8.2: the Data Integrity proof is
        made first and travels inside the JWT payload."""
        if not signs_data_integrity(key):
            return sign_ob_jwt(credential, key), None
        signed = sign_data_integrity(credential, key)
        return sign_ob_jwt(signed, key), signed


def key_kind(key: PrivateKey) -> KeyKind:
    """The key store kind of a private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    return "P-256" if isinstance(key, ec.EllipticCurvePrivateKey) else "Ed25519"
