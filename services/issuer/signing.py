"""Issuer identities and signatures: keys stay in the key store, never on Kafka.

Signing a credential (RDFC-1.0 canonicalisation for the Data Integrity
proof, then the VC-JWT) is pure Python and CPU-bound: about 40% of the
issuer's event loop per award. With `MICROCRED_ISSUER_SIGNING_PROCESSES` > 0
(the default: one per core) it runs in a process pool
(shared/process_pool.py), so the event loop goes on with other awards'
Redis and Kafka work meanwhile and the signing uses every core. A worker
gets the private key as PKCS#8 bytes over its pipe (same host, same user;
never on Kafka or in Redis) and keeps the loaded key in memory.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

from shared.credentials.crypto_keys import PublicKey, SigningKey
from shared.credentials.data_integrity import sign_data_integrity, signs_data_integrity
from shared.credentials.did_documents import current_method_id, web_did, web_document
from shared.credentials.dids import did_key_document, did_key_for
from shared.credentials.jsonld import default_registry
from shared.credentials.jwt import sign_ob_jwt
from shared.errors import Unavailable
from shared.keystore import KeyKind, KeyStore, PrivateKey
from shared.logging import get_logger
from shared.process_pool import spawn_pool

_log = get_logger("issuer.signing")
Signed = tuple[str, dict[str, Any] | None]  # the VC-JWT, the Data Integrity form


def sign_both(credential: dict[str, Any], key: SigningKey) -> Signed:
    """The credential as a VC-JWT (EdDSA, ES256 or RS256 by the issuer's key)
    and with an embedded Data Integrity proof (eddsa-rdfc-2022 or
    ecdsa-rdfc-2019; None for an RSA key: no RSA cryptosuite exists): the
    two proof formats OB 3.0 §8 allows. §8.2: the Data Integrity proof is
    made first and travels inside the JWT payload."""
    if not signs_data_integrity(key):
        return sign_ob_jwt(credential, key), None
    signed = sign_data_integrity(credential, key)
    return sign_ob_jwt(signed, key), signed


_worker_keys: dict[tuple[str, bytes], SigningKey] = {}  # in a pool process


def _sign_in_worker(credentials: list[dict[str, Any]], kid: str, pkcs8: bytes) -> list[Signed]:
    key = _worker_keys.get((kid, pkcs8))
    if key is None:
        if len(_worker_keys) >= 1024:
            _worker_keys.clear()
        private_key = load_der_private_key(pkcs8, password=None)
        key = _worker_keys[(kid, pkcs8)] = SigningKey(private_key, kid)  # type: ignore[arg-type]
    return [sign_both(credential, key) for credential in credentials]


class SigningPool:
    """`processes` signing processes (0: sign on the event loop)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._pkcs8: weakref.WeakKeyDictionary[SigningKey, bytes] = weakref.WeakKeyDictionary()

    def start(self) -> None:
        if self.processes > 0:
            # each worker loads the JSON-LD contexts once
            self._pool = spawn_pool(self.processes, default_registry)

    async def warm_up(self) -> None:
        """Start every worker now (spawn and imports take a second), not on the first award."""
        if self._pool is None:
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, default_registry) for _ in range(self.processes))
            )
        except BrokenProcessPool:  # replaced on first use (`sign`)
            _log.warning("signing_pool.warm_up_failed", processes=self.processes)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def sign(self, credential: dict[str, Any], key: SigningKey) -> Signed:
        (signed,) = await self.sign_many([credential], key)
        return signed

    async def sign_many(self, credentials: list[dict[str, Any]], key: SigningKey) -> list[Signed]:
        """Each credential signed, shared out among the workers in one chunk
        per worker (one round trip each, not one per credential)."""
        if self._pool is None:
            return [sign_both(credential, key) for credential in credentials]
        pkcs8 = self._pkcs8.get(key)
        if pkcs8 is None:
            pkcs8 = self._pkcs8[key] = key.private_key.private_bytes(
                Encoding.DER, PrivateFormat.PKCS8, NoEncryption()
            )
        loop, size = asyncio.get_running_loop(), -(-len(credentials) // self.processes)
        chunks = [credentials[i : i + size] for i in range(0, len(credentials), size)]
        try:
            signed = await asyncio.gather(
                *(
                    loop.run_in_executor(self._pool, _sign_in_worker, chunk, key.kid, pkcs8)
                    for chunk in chunks
                )
            )
        except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool
            _log.warning("signing_pool.broken", processes=self.processes)
            self.stop()
            self.start()
            raise Unavailable("the signing workers restarted; retry") from None
        return [each for chunk in signed for each in chunk]


class Signer:
    """Creates did:key and platform-hosted did:web identities and signs with
    their keys (cached in memory)."""

    def __init__(self, keystore: KeyStore, pool: SigningPool | None = None) -> None:
        self._keystore = keystore
        self._keys: dict[str, SigningKey] = {}
        self._pool = pool or SigningPool(0)

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

    async def sign(self, credential: dict[str, Any], key: SigningKey) -> Signed:
        """`sign_both`, in the signing pool when there is one."""
        return await self._pool.sign(credential, key)

    async def sign_many(self, credentials: list[dict[str, Any]], key: SigningKey) -> list[Signed]:
        """`sign` for a batch (one round trip per signing process)."""
        return await self._pool.sign_many(credentials, key)


def key_kind(key: PrivateKey) -> KeyKind:
    """The key store kind of a private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    return "P-256" if isinstance(key, ec.EllipticCurvePrivateKey) else "Ed25519"
