"""A service started with bad configuration says so in one line and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("service", "env", "message"),
    [
        ("issuer", {}, "MICROCRED_MASTER_KEY is not set"),
        ("revocation", {"MICROCRED_MASTER_KEY": "too-short"}, "MICROCRED_MASTER_KEY"),
        ("verifier", {"MICROCRED_HTTP_PORT": "eighty"}, "MICROCRED_HTTP_PORT"),
        ("catalog", {"MICROCRED_REDIS_URL": "http://nope"}, "MICROCRED_REDIS_URL"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    service: str, env: dict[str, str], message: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    finished = subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert finished.stderr.startswith(f"{service}: configuration error:")
    assert message in finished.stderr
    assert "Traceback" not in finished.stderr
