"""Shared pytest fixtures.

Stack discovery (owned by deploy/local): integration and e2e tests run against
the real Kafka and Redis that `make test` (or `deploy/local/stack.sh up`)
started; pytest never starts them. Their addresses come from
MICROCRED_KAFKA_BOOTSTRAP and MICROCRED_REDIS_URL.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from hypothesis import settings as hypothesis_settings

# CI explores the same examples on every run (a red main always means a change
# broke something); developers' runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# --- stack discovery ----------------------------------------------------------

DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:19092"
DEFAULT_REDIS_URL = "redis://127.0.0.1:16379/0"
STACK_MARKERS = ("integration", "e2e")
START_HINT = "start it with `make stack-up` (or deploy/local/stack.sh up)"


@dataclass(frozen=True)
class StackProbe:
    """Result of one TCP probe of the stack, made once per session."""

    kafka_error: str | None
    redis_error: str | None


def _tcp_error(host: str, port: int) -> str | None:
    """None when host:port accepts a TCP connection, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return None
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc})"


def _bootstrap_error(bootstrap: str) -> str | None:
    """Probe the first reachable bootstrap server of a comma-separated list."""
    errors = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        error = _tcp_error(host.strip("[]") or "127.0.0.1", int(port))
        if error is None:
            return None
        errors.append(error)
    return "; ".join(errors)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration and tests/e2e with its folder's marker."""
    for item in items:
        parts = item.path.parts
        for marker in STACK_MARKERS:
            if marker in parts and "tests" in parts and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """Kafka bootstrap servers of the running stack."""
    return os.environ.get("MICROCRED_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis URL of the running stack."""
    return os.environ.get("MICROCRED_REDIS_URL", DEFAULT_REDIS_URL)


@pytest.fixture(scope="session")
def stack_probe(kafka_bootstrap: str, redis_url: str) -> StackProbe:
    """Whether the Kafka broker and Redis accept connections."""
    parts = urlsplit(redis_url)
    redis_error = _tcp_error(parts.hostname or "127.0.0.1", parts.port or 6379)
    return StackProbe(kafka_error=_bootstrap_error(kafka_bootstrap), redis_error=redis_error)


@pytest.fixture(autouse=True)
def _require_stack(request: pytest.FixtureRequest) -> None:
    """Fail (never skip) an integration or e2e test when the stack is down."""
    if not any(request.node.get_closest_marker(m) for m in STACK_MARKERS):
        return
    probe: StackProbe = request.getfixturevalue("stack_probe")
    if probe.kafka_error:
        pytest.fail(f"Kafka broker not reachable: {probe.kafka_error}; {START_HINT}", pytrace=False)
    if probe.redis_error:
        pytest.fail(f"Redis not reachable: {probe.redis_error}; {START_HINT}", pytrace=False)


# --- end of stack discovery ---------------------------------------------------
