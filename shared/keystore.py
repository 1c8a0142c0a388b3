"""Private signing keys at rest: one AES-256-GCM encrypted file per key.

`KeyStore` is the interface (a KMS or HSM could implement it); `FileKeyStore`
keeps PKCS#8 private keys encrypted under a 32-byte master key, with a fresh
96-bit nonce per file (NIST SP 800-38D §8.2) and the key's id, owner and
kind as associated data, so a file cannot be swapped or relabelled unnoticed.
Keys and the master key never appear in logs or reprs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.credentials.crypto_keys import public_key_to_jwk
from shared.events import utc_now
from shared.settings import SettingsError, env_str, env_var

KeyKind = Literal["Ed25519", "P-256", "RSA"]
PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
RSA_BITS = 3072  # RS256 keys (OB 3.0 §8.2); NIST SP 800-57: 128-bit security

FORMAT_VERSION = 1
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_KINDS: tuple[KeyKind, ...] = ("Ed25519", "P-256", "RSA")


class KeyStoreError(Exception):
    """A key is missing, unreadable, tampered with, or the master key is wrong."""


@dataclass(frozen=True)
class KeyInfo:
    """Public metadata of a stored key (never the key material)."""

    key_id: str
    owner: str
    kind: KeyKind
    created_at: str


class KeyStore(Protocol):
    """Where private keys live; callers only ever hold key ids."""

    async def create_key(self, owner: str, kind: KeyKind) -> str: ...
    async def load(self, key_id: str) -> PrivateKey: ...
    async def public_key(self, key_id: str) -> PublicKey: ...
    async def public_jwk(self, key_id: str) -> dict[str, str]: ...
    async def list_keys(self, owner: str) -> list[KeyInfo]: ...


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_master_key(value: str, *, source: str = "MICROCRED_MASTER_KEY") -> bytes:
    """Decode a base64url master key; it must be exactly 32 bytes (AES-256)."""
    try:
        key = _unb64u(value.strip())
    except (binascii.Error, ValueError):
        raise SettingsError(f"{source}: not valid base64url") from None
    if len(key) != 32:
        raise SettingsError(f"{source}: must decode to 32 bytes, got {len(key)}")
    return key


def master_key_from_env(environ: Mapping[str, str] | None = None) -> bytes:
    """`MICROCRED_MASTER_KEY` (base64url, 32 bytes), else the file named by
    `MICROCRED_MASTER_KEY_FILE`; a clear SettingsError otherwise."""
    value = env_str("MASTER_KEY", "", environ)
    if value:
        return parse_master_key(value)
    path = env_str("MASTER_KEY_FILE", "", environ)
    if path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise SettingsError(f"{env_var('MASTER_KEY_FILE')}: cannot read: {exc}") from None
        return parse_master_key(text, source=env_var("MASTER_KEY_FILE"))
    raise SettingsError(
        f"{env_var('MASTER_KEY')} is not set (base64url of 32 random bytes, e.g. "
        '`python -c "import secrets,base64;print(base64.urlsafe_b64encode('
        'secrets.token_bytes(32)).decode())"`)'
    )


def _generate(kind: KeyKind) -> PrivateKey:
    if kind == "Ed25519":
        return Ed25519PrivateKey.generate()
    if kind == "P-256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    raise ValueError(f"unsupported key kind {kind!r}")


def _associated_data(key_id: str, owner: str, kind: str) -> bytes:
    return orjson.dumps([FORMAT_VERSION, key_id, owner, kind])


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class FileKeyStore:
    """A directory of `<key id>.key.json` files, each AES-256-GCM encrypted."""

    def __init__(self, directory: str | os.PathLike[str], master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("master key must be 32 bytes")
        self._dir = Path(directory)
        self._aead = AESGCM(master_key)

    def __repr__(self) -> str:
        return f"FileKeyStore(directory={str(self._dir)!r})"

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise KeyStoreError(f"malformed key id {key_id!r}")
        return self._dir / f"{key_id}.key.json"

    async def create_key(self, owner: str, kind: KeyKind) -> str:
        """Generate a key for `owner`, store it encrypted, return its random id."""
        if kind not in _KINDS:
            raise ValueError(f"unsupported key kind {kind!r}")
        return await asyncio.to_thread(self._create_sync, owner, kind)

    def _create_sync(self, owner: str, kind: KeyKind) -> str:
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_id = secrets.token_urlsafe(18)
        pkcs8 = _generate(kind).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, pkcs8, _associated_data(key_id, owner, kind))
        record = {
            "v": FORMAT_VERSION,
            "key_id": key_id,
            "owner": owner,
            "kind": kind,
            "created_at": utc_now(),
            "nonce": _b64u(nonce),
            "ciphertext": _b64u(sealed),
        }
        _write_atomic(self._path(key_id), orjson.dumps(record))
        return key_id

    def _read_record(self, path: Path) -> dict[str, str]:
        try:
            record = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(f"no key {path.name.removesuffix('.key.json')!r}") from None
        except (OSError, orjson.JSONDecodeError) as exc:
            raise KeyStoreError(f"unreadable key file {path.name}: {exc}") from None
        members = ("key_id", "owner", "kind", "created_at", "nonce", "ciphertext")
        if not isinstance(record, dict) or not all(isinstance(record.get(f), str) for f in members):
            raise KeyStoreError(f"malformed key file {path.name}")
        return {f: record[f] for f in members}

    def _load_sync(self, key_id: str) -> PrivateKey:
        record = self._read_record(self._path(key_id))
        if record["key_id"] != key_id:
            raise KeyStoreError(f"key file for {key_id!r} names another key")
        aad = _associated_data(key_id, record["owner"], record["kind"])
        try:
            pkcs8 = self._aead.decrypt(_unb64u(record["nonce"]), _unb64u(record["ciphertext"]), aad)
        except (InvalidTag, ValueError, binascii.Error):
            raise KeyStoreError(
                f"cannot decrypt key {key_id!r}: wrong master key or tampered file"
            ) from None
        key = serialization.load_der_private_key(pkcs8, password=None)
        if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError(f"key {key_id!r} has an unsupported type")
        return key

    async def load(self, key_id: str) -> PrivateKey:
        """The private key object (decrypted in memory only)."""
        return await asyncio.to_thread(self._load_sync, key_id)

    async def public_key(self, key_id: str) -> PublicKey:
        return (await self.load(key_id)).public_key()

    async def public_jwk(self, key_id: str) -> dict[str, str]:
        """The public key as a JWK (RFC 7517), without `kid`."""
        return public_key_to_jwk(await self.public_key(key_id))

    async def info(self, key_id: str) -> KeyInfo:
        record = await asyncio.to_thread(self._read_record, self._path(key_id))
        return _info(record)

    def _list_sync(self, owner: str) -> list[KeyInfo]:
        if not self._dir.is_dir():
            return []
        infos = [_info(self._read_record(p)) for p in self._dir.glob("*.key.json")]
        return sorted((i for i in infos if i.owner == owner), key=lambda i: i.created_at)

    async def list_keys(self, owner: str) -> list[KeyInfo]:
        """Metadata of `owner`'s keys, oldest first (nothing is decrypted)."""
        return await asyncio.to_thread(self._list_sync, owner)


def _info(record: Mapping[str, str]) -> KeyInfo:
    kind = record["kind"]
    if kind not in _KINDS:
        raise KeyStoreError(f"key {record['key_id']!r} has unknown kind {kind!r}")
    return KeyInfo(record["key_id"], record["owner"], kind, record["created_at"])


@dataclass(frozen=True)
class KeyStoreSettings:
    """Where the issuer's and revocation's shared key store lives, and its master key."""

    directory: str
    master_key: bytes = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyStoreSettings:
        """`MICROCRED_KEYSTORE_DIR` (default `var/keys`) and the master key."""
        return cls(
            directory=env_str("KEYSTORE_DIR", "var/keys", environ),
            master_key=master_key_from_env(environ),
        )

    def open(self) -> FileKeyStore:
        return FileKeyStore(self.directory, self.master_key)
