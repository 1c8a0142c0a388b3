import base64
import os
import stat
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.keystore import FileKeyStore, KeyStore, KeyStoreError, master_key_from_env
from shared.settings import SettingsError

MASTER = bytes(range(32))
OTHER = bytes(range(1, 33))


def _only_file(directory: Path) -> Path:
    (path,) = directory.iterdir()
    return path


async def test_round_trip_ed25519_and_p256(tmp_path: Path) -> None:
    store: KeyStore = FileKeyStore(tmp_path / "keys", MASTER)
    ed = await store.create_key("did:web:uni.example", "Ed25519")
    p256 = await store.create_key("did:web:uni.example", "P-256")
    assert ed != p256
    ed_key = await store.load(ed)
    assert isinstance(ed_key, Ed25519PrivateKey)
    signature = ed_key.sign(b"msg")
    (await store.public_key(ed)).verify(signature, b"msg")  # type: ignore[call-arg]
    p_key = await store.load(p256)
    assert isinstance(p_key, ec.EllipticCurvePrivateKey)
    assert p_key.curve.name == "secp256r1"
    jwk = await store.public_jwk(p256)
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and "d" not in jwk
    ed_jwk = await store.public_jwk(ed)
    assert ed_jwk["kty"] == "OKP" and "d" not in ed_jwk
    infos = await store.list_keys("did:web:uni.example")
    assert {i.key_id for i in infos} == {ed, p256}
    assert {i.kind for i in infos} == {"Ed25519", "P-256"}
    assert await store.list_keys("did:web:other") == []


async def test_files_are_private_and_hold_no_plaintext_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, MASTER)
    key_id = await store.create_key("o", "Ed25519")
    path = _only_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = await store.load(key_id)
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    content = path.read_bytes()
    assert raw not in content
    assert base64.urlsafe_b64encode(raw).rstrip(b"=") not in content
    assert _only_file(tmp_path).name == f"{key_id}.key.json"  # no temp files left


async def test_wrong_master_key_fails(tmp_path: Path) -> None:
    key_id = await FileKeyStore(tmp_path, MASTER).create_key("o", "Ed25519")
    with pytest.raises(KeyStoreError, match="wrong master key or tampered"):
        await FileKeyStore(tmp_path, OTHER).load(key_id)


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "owner", "kind"])
async def test_tampered_file_fails(tmp_path: Path, field: str) -> None:
    store = FileKeyStore(tmp_path, MASTER)
    key_id = await store.create_key("o", "Ed25519")
    path = _only_file(tmp_path)
    record = orjson.loads(path.read_bytes())
    if field in ("ciphertext", "nonce"):
        data = bytearray(base64.urlsafe_b64decode(record[field] + "=" * (-len(record[field]) % 4)))
        data[0] ^= 1
        record[field] = base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()
    elif field == "owner":
        record["owner"] = "attacker"
    else:
        record["kind"] = "P-256"
    path.write_bytes(orjson.dumps(record))
    with pytest.raises(KeyStoreError):
        await store.load(key_id)


async def test_swapped_file_fails(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, MASTER)
    a = await store.create_key("o", "Ed25519")
    b = await store.create_key("o", "Ed25519")
    (tmp_path / f"{a}.key.json").write_bytes((tmp_path / f"{b}.key.json").read_bytes())
    with pytest.raises(KeyStoreError):
        await store.load(a)


async def test_missing_and_malformed_ids(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, MASTER)
    with pytest.raises(KeyStoreError, match="no key"):
        await store.load("A" * 24)
    with pytest.raises(KeyStoreError, match="malformed key id"):
        await store.load("../../etc/passwd")


def test_repr_hides_the_master_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, MASTER)
    text = repr(store) + str(store.__dict__)
    assert MASTER.hex() not in text
    assert base64.urlsafe_b64encode(MASTER).decode().rstrip("=") not in text
    assert repr(MASTER) not in text


def test_master_key_from_env(tmp_path: Path) -> None:
    encoded = base64.urlsafe_b64encode(MASTER).decode().rstrip("=")
    assert master_key_from_env({"MICROCRED_MASTER_KEY": encoded}) == MASTER
    assert master_key_from_env({"MICROCRED_MASTER_KEY": encoded + "="}) == MASTER
    key_file = tmp_path / ".master"
    key_file.write_text(encoded + "\n")
    assert master_key_from_env({"MICROCRED_MASTER_KEY_FILE": str(key_file)}) == MASTER
    for bad in ["", "c2hvcnQ", "!!!not base64!!!"]:
        with pytest.raises(SettingsError, match="MICROCRED_MASTER_KEY"):
            master_key_from_env({"MICROCRED_MASTER_KEY": bad} if bad else {})
    with pytest.raises(SettingsError, match="MICROCRED_MASTER_KEY_FILE"):
        master_key_from_env({"MICROCRED_MASTER_KEY_FILE": str(tmp_path / "missing")})


def test_umask_does_not_matter(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        import asyncio

        store = FileKeyStore(tmp_path / "k", MASTER)
        asyncio.run(store.create_key("o", "P-256"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(_only_file(tmp_path / "k").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o700
