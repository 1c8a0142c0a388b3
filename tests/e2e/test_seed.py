"""`make seed` (deploy/local/seed.py, run by `make up`): against the running
services it loads two accredited providers, one registered-only provider
and their achievements, so every trust state shows at once; a second run
changes nothing (fixed Idempotency-Keys)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "seed.py"


def run_seed(stack: Stack) -> list[str]:
    env = {
        **os.environ,
        "MICROCRED_API_TOKENS": f"{stack.token}=seed-tenant",
        "MICROCRED_OPERATOR_TOKENS": f"{stack.operator_token}=seed-operator",
        **{
            f"MICROCRED_{name.upper()}_PORT": str(stack.services[name].port)
            for name in ("catalog", "issuer", "verifier")
        },
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_the_seed_shows_every_trust_state_and_runs_again_unchanged(stack: Stack) -> None:
    first = run_seed(stack)
    verdicts = [line for line in first if "verdict" in line]
    assert len(verdicts) == 5, first
    assert sum("verdict valid, trust accredited" in line for line in verdicts) == 3, first
    # EQF 8 outside the scope, and the registered-only provider.
    assert sum("verdict untrusted, trust registered" in line for line in verdicts) == 2, first
    again = run_seed(stack)
    providers = [line for line in first if line.startswith("seed: ") and "did:web" in line]
    assert providers and providers == [line for line in again if "did:web" in line]
