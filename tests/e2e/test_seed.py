"""`make seed` (deploy/local/seed.py, run by `make up`): against the running
services it loads an operator's accreditations, two accredited providers,
one registered-only provider, one endorser with an endorsement, and their
achievements, so every trust state shows at once; a second run changes
nothing (fixed Idempotency-Keys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "seed.py"


def run_seed(stack: Stack) -> list[str]:
    env = {
        **os.environ,
        "MICROCRED_API_TOKENS": f"{stack.token}=seed-tenant",
        "MICROCRED_OPERATOR_TOKENS": f"{stack.operator_token}=seed-operator",
        "MICROCRED_ENDORSER_TOKENS": f"{stack.endorser_token}={stack.endorser}",
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


def verdicts(lines: list[str]) -> dict[str, str]:
    """`<provider> / <achievement>` -> `verdict X, trust Y, endorsements Z`."""
    found = {}
    for line in lines:
        if line.startswith("seed: a credential of "):
            label, _, outcome = line.removeprefix("seed: a credential of ").partition(": ")
            found[label] = outcome
    return found


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_seed_shows_every_trust_state_and_runs_again_unchanged(stack: Stack) -> None:
    first = run_seed(stack)
    seen = verdicts(first)
    dias, tda = "Dublin Institute of Applied Skills", "Tallinn Digital Academy"
    accredited = "verdict valid, trust accredited"
    registered = "verdict untrusted, trust registered"
    assert seen.keys() == {
        f"{dias} / Applied Data Protection",
        f"{dias} / Cloud Operations Fundamentals",
        f"{tda} / Secure Software Engineering",
        f"{tda} / Doctoral Research Methods",
        "Registered Only Training Ltd / Workplace First Aid",
    }, first
    # Two accredited providers (in scope: valid), one credential outside the
    # scope and the registered-only provider's (trust `registered`).
    assert seen[f"{dias} / Cloud Operations Fundamentals"].startswith(accredited), seen
    assert seen[f"{tda} / Secure Software Engineering"].startswith(accredited), seen
    assert seen[f"{tda} / Doctoral Research Methods"].startswith(registered), seen
    assert seen["Registered Only Training Ltd / Workplace First Aid"].startswith(
        registered + ", endorsements none"
    ), seen
    # The endorsed achievement's credential carries the endorser's signed
    # endorsement next to the operator's accreditation, and both verify.
    endorsed = seen[f"{dias} / Applied Data Protection"]
    assert endorsed.startswith(accredited + ", endorsements ok ("), endorsed
    assert f"endorser {stack.endorser}" in endorsed and "operator " in endorsed, endorsed

    # The catalog shows the endorsement with the achievement.
    (line,) = [line for line in first if line.startswith("seed: endorsement ")]
    words = line.split()  # seed: endorsement <id> by <endorser> of <achievement id>
    endorsement_id, achievement_id = words[2], words[-1]
    achievement = get_json(achievement_id)
    assert [e["id"] for e in achievement.get("endorsement", [])] == [endorsement_id], achievement
    # The registry: two providers with an active accreditation, one with none.
    providers = [line.rsplit("(", 1)[1].rstrip(")") for line in first if "did:web" in line]
    states = sorted(
        tuple(a["status"] for a in get_json(provider)["accreditations"]) for provider in providers
    )
    assert states == [(), ("active",), ("active",)], states

    again = run_seed(stack)
    assert [line for line in first if "did:web" in line or "endorsement " in line] == [
        line for line in again if "did:web" in line or "endorsement " in line
    ]
    assert verdicts(again) == seen
