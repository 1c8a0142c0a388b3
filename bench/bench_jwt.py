"""VC-JWT verification throughput vs the raw Ed25519 verify of the same bytes.

Run: .venv/bin/python bench/bench_jwt.py [seconds-per-measure]

Both rates come from the same process and run, on the same token: the full
``verify_vc_jwt`` (parse, header checks, did:key resolution through the
resolver's cache, alg/key match, canonical signature check, JWS verify,
claim checks) and the raw Ed25519 verify of the JWS signing input by the
same library (libsodium, ``verify_ed25519``). The goal is a ratio of at
least 0.7. OpenSSL's raw verify (``cryptography``) is shown for reference.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code

from shared.credentials.crypto_keys import b64url_decode, generate_ed25519, verify_ed25519
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.jwt import sign_vc_jwt, verify_vc_jwt


def sample_credential(issuer: str) -> dict[str, object]:
    """A realistic OB 3.0 credential (about 1.5 KB of JSON)."""
    start = datetime(2025, 6, 1, tzinfo=UTC)
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:2f1c5b8e-7c1e-4c61-9d1a-5f0a3b2c9e77",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Applied Data Protection",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "validFrom": start.isoformat().replace("+00:00", "Z"),
        "validUntil": (start + timedelta(days=3650)).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {
            "id": "did:example:learner-42",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.edu/achievements/gdpr-201",
                "type": ["Achievement"],
                "name": "Applied Data Protection",
                "description": "Applies GDPR principles to data processing in organisations.",
                "criteria": {"narrative": "Passed the final assessment with at least 90 %."},
                "achievementType": "MicroCredential",
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "manage personal data protection",
                        "targetUrl": "http://data.europa.eu/esco/skill/0000-example",
                        "targetType": "ext:ESCOSkill",
                    }
                ],
            },
            "result": [{"type": ["Result"], "value": "95", "status": "Completed"}],
        },
        "credentialStatus": {
            "id": "https://status.example/lists/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://status.example/lists/1",
        },
    }


def rate(step: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``step`` over about ``seconds`` (after a warm-up)."""
    for _ in range(200):
        step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            step()
        count += 200
    return count / (time.perf_counter() - start)


async def async_rate(step: Callable[[], Awaitable[object]], seconds: float) -> float:
    """Like :func:`rate` for a coroutine function, awaited inside one running loop."""
    for _ in range(200):
        await step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            await step()
        count += 200
    return count / (time.perf_counter() - start)


async def measure(seconds: float) -> tuple[int, float, float, float]:
    """(token size, raw verifies/s by libsodium and by OpenSSL, verify_vc_jwt/s),
    interleaved to share conditions."""
    key = generate_ed25519()
    token = sign_vc_jwt(sample_credential(did_key_for(key.public_key)), key)
    signing_input, _, sig = token.rpartition(".")
    signature, message = b64url_decode(sig), signing_input.encode()
    public = key.public_key
    assert isinstance(public, Ed25519PublicKey)
    resolver = DidResolver()
    raw_rates, openssl_rates, full_rates = [], [], []
    for _ in range(3):
        raw_rates.append(rate(lambda: verify_ed25519(public, signature, message), seconds / 3))
        openssl_rates.append(rate(lambda: public.verify(signature, message), seconds / 3))
        full_rates.append(await async_rate(lambda: verify_vc_jwt(token, resolver), seconds / 3))
    return len(token), max(raw_rates), max(openssl_rates), max(full_rates)


def main(seconds: float) -> float:
    size, raw_rate, openssl_rate, full_rate = asyncio.run(measure(seconds))
    ratio = full_rate / raw_rate
    print(f"token: {size} bytes")
    print(f"raw Ed25519 verify (libsodium, verify_ed25519): {raw_rate:10.0f} /s")
    print(f"raw Ed25519 verify (OpenSSL, cryptography):     {openssl_rate:10.0f} /s")
    print(f"verify_vc_jwt (did:key, cached):                {full_rate:10.0f} /s")
    print(f"ratio: {ratio:.2f}x the libsodium verify (goal >= 0.70);"
          f" {full_rate / openssl_rate:.2f}x OpenSSL's")  # fmt: skip
    return ratio


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
