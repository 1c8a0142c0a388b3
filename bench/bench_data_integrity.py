"""Benchmark: eddsa-rdfc-2022 verifications per second, ours vs openbadgeslib.

Same credential, same process, same run. Figures:

- ours: ``verify_data_integrity`` (safe-mode expansion, RDFC-1.0 of document
  and proof config, did:key resolution, issuer binding, Ed25519);
- openbadgeslib full: ``OB3LdpVerifier().verify`` (its context validation,
  RDFC-1.0, did:key resolution, OB 3.0 checks), the comparable path;
- openbadgeslib proof-only: ``verify_data_integrity_proof`` with a pinned key
  (no context validation, no resolution), a lower bar than ours.

Run: ``.venv/bin/python bench/bench_data_integrity.py [--seconds 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from openbadgeslib.ob3.ldp import OB3LdpVerifier, verify_data_integrity_proof

from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity, verify_data_integrity
from shared.credentials.dids import DidResolver


def credential(issuer: str) -> dict[str, Any]:
    """A typical OB 3.0 micro-credential."""
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:91b2a0c4-7d1e-4f57-b0a3-6e2f9c1d8a77",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Applied Data Analysis (micro-credential)",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "validFrom": "2025-02-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-42",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.edu/achievements/ada-2025",
                "type": ["Achievement"],
                "name": "Applied Data Analysis",
                "description": "Cleaning, exploring and modelling tabular data.",
                "criteria": {"narrative": "Pass the capstone project with 70% or more."},
                "achievementType": "MicroCredential",
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "analyse big data",
                        "targetUrl": "http://data.europa.eu/esco/skill/S2.7.2",
                        "targetFramework": "ESCO",
                    },
                    {
                        "type": ["Alignment"],
                        "targetName": "use spreadsheets software",
                        "targetUrl": "http://data.europa.eu/esco/skill/S5.6.1",
                        "targetFramework": "ESCO",
                    },
                ],
            },
            "result": [{"type": ["Result"], "value": "86"}],
        },
    }


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """(first-call seconds, calls per second over ``seconds``)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    for _ in range(20):  # warm caches the same way for every contender
        fn()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        fn()
        count += 1
    return first, count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per contender")
    args = parser.parse_args()

    key = generate_ed25519()
    signed = sign_data_integrity(credential(key.kid.partition("#")[0]), key)
    pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    loop = asyncio.new_event_loop()
    resolver = DidResolver()
    verifier = OB3LdpVerifier()

    def ours() -> None:
        loop.run_until_complete(verify_data_integrity(signed, resolver))

    def theirs_full() -> None:
        verifier.verify(signed)  # it deep-copies the input itself

    def theirs_proof_only() -> None:
        verify_data_integrity_proof(signed, pem)

    results = {
        "ours": rate(ours, args.seconds),
        "openbadgeslib full": rate(theirs_full, args.seconds),
        "openbadgeslib proof-only": rate(theirs_proof_only, args.seconds),
    }
    loop.close()
    for name, (first, per_second) in results.items():
        print(f"{name:26s} {per_second:9.1f} verify/s   first call {first * 1000:7.1f} ms")
    for other in ("openbadgeslib full", "openbadgeslib proof-only"):
        ratio = results["ours"][1] / results[other][1]
        print(f"ratio ours / {other:24s} {ratio:5.2f}x")


if __name__ == "__main__":
    main()
