"""Run the four services as real processes against the real Kafka and Redis.

Each test session gets its own topic prefix, Redis key namespace, key store
folder and free ports, so e2e runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import redis
from aiokafka.admin import AIOKafkaAdminClient

SERVICES = ("catalog", "issuer", "revocation", "verifier")
ROOT = Path(__file__).resolve().parents[2]


# Ports for the services a test starts come from a block of its own per
# pytest-xdist worker, below the kernel's ephemeral range (32768+): a port
# asked of the kernel (`bind(0)`) is released before the service binds it,
# and in that gap another worker's `bind(0)` could be handed the same one.
_PORT_BLOCK = 2000
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
_FIRST_PORT = 20000 + _PORT_BLOCK * (int(_WORKER) % 6 if _WORKER.isdigit() else 0)
_PORTS = iter(range(_FIRST_PORT, _FIRST_PORT + _PORT_BLOCK))


def free_port() -> int:
    """A loopback port free now, from this worker's own block."""
    for port in _PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("this test worker used up its block of ports")


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None, f"{self.name} already running"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """SIGTERM: the service shuts down by itself (`wait_stopped` waits for it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        """After `terminate`: wait for the exit (SIGKILL after 20 s)."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown code runs. `start()` starts it again."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process = None

    def exit_code(self) -> int | None:
        """The exit status once the process ended by itself, else None."""
        return None if self.process is None else self.process.poll()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    """The four services of one e2e session."""

    workdir: Path
    kafka_bootstrap: str
    redis_url: str
    token: str = "e2e-token"
    tenant: str = "e2e-tenant"
    operator_token: str = "e2e-operator-token"
    operator: str = "e2e-operator"
    endorser_token: str = "e2e-endorser-token"
    endorser: str = "Skills Council of Employers"
    other_endorser_token: str = "e2e-other-endorser-token"
    other_endorser: str = "Federation of Logistics Firms"
    namespace: str = field(default_factory=lambda: f"e2e-{secrets.token_hex(4)}")
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # A port for a test's webhook receiver (plain http on loopback): allowed
    # through the test-only MICROCRED_WEBHOOK_TEST_ORIGINS, off by default.
    webhook_port: int = field(default_factory=lambda: free_port())

    def __post_init__(self) -> None:
        ports = {name: free_port() for name in SERVICES}
        master_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        keys_dir = self.workdir / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        base = {
            **os.environ,
            "MICROCRED_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "MICROCRED_REDIS_URL": self.redis_url,
            "MICROCRED_TOPIC_PREFIX": f"{self.namespace}.",
            "MICROCRED_API_TOKENS": f"{self.token}={self.tenant},other-token=other-tenant",
            "MICROCRED_OPERATOR_TOKENS": f"{self.operator_token}={self.operator}",
            "MICROCRED_ENDORSER_TOKENS": (
                f"{self.endorser_token}={self.endorser},"
                f"{self.other_endorser_token}={self.other_endorser}"
            ),
            "MICROCRED_MASTER_KEY": master_key,
            "MICROCRED_KEYSTORE_DIR": str(keys_dir),
            "MICROCRED_CATALOG_BASE_URL": f"http://127.0.0.1:{ports['catalog']}",
            "MICROCRED_ISSUER_BASE_URL": f"http://127.0.0.1:{ports['issuer']}",
            "MICROCRED_VERIFIER_BASE_URL": f"http://127.0.0.1:{ports['verifier']}",
            "MICROCRED_STATUS_BASE_URL": f"http://127.0.0.1:{ports['revocation']}/status-lists",
            "MICROCRED_TRUSTED_FETCH_ORIGINS": f"http://127.0.0.1:{ports['revocation']}",
            "MICROCRED_LOG_LEVEL": "info",
            # Tests send many requests from one address, on a shared 2-core
            # machine: one verifier worker, one canonicalisation process, the
            # issuer signing inline (the `signing_processes` marker of
            # tests/e2e/conftest.py gives it a pool), a generous quota (the
            # limits' own tests, tests/e2e/test_verifier_limits.py, set theirs).
            "MICROCRED_VERIFIER_WORKERS": "1",
            "MICROCRED_VERIFIER_CANON_PROCESSES": "1",
            "MICROCRED_ISSUER_SIGNING_PROCESSES": "0",
            "MICROCRED_VERIFIER_ADDRESS_QUOTA": "1000000",
            "MICROCRED_WEBHOOK_TEST_ORIGINS": f"http://127.0.0.1:{self.webhook_port}",
            "MICROCRED_WEBHOOK_RETRY_BASE_MS": "200",
            "MICROCRED_WEBHOOK_MAX_ATTEMPTS": "4",
            "MICROCRED_WEBHOOK_EXPIRING_SCAN_SECONDS": "1",
        }
        for name in SERVICES:
            env = {
                **base,
                "MICROCRED_HTTP_PORT": str(ports[name]),
                "MICROCRED_REDIS_PREFIX": f"{self.namespace}:{name}",
            }
            self.services[name] = ServiceProcess(
                name, ports[name], env, self.workdir / f"{name}.log"
            )

    def url(self, name: str) -> str:
        return self.services[name].url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, *names: str) -> None:
        """Start these services (default: the four) and wait until each is
        ready; when one is not, stop them all: none is left running."""
        chosen = names or SERVICES
        for name in chosen:
            self.services[name].start()
        try:
            for name in chosen:
                self.services[name].wait_ready()
        except BaseException:
            self.stop(*chosen)
            raise

    def stop(self, *names: str) -> None:
        """Stop these services (default: the four), all shutting down at once."""
        chosen = [self.services[name] for name in names or SERVICES]
        for service in chosen:
            service.terminate()
        for service in chosen:
            service.wait_stopped()

    # -- additions for the invariant tests ----------------------------------

    def topic(self, base: str) -> str:
        """A platform topic under this session's prefix (e.g. `credentials.issued`)."""
        return f"{self.namespace}.{base}"

    def redis_prefix(self, name: str) -> str:
        """The Redis key prefix (`MICROCRED_REDIS_PREFIX`) of one service."""
        return f"{self.namespace}:{name}"

    def add_instance(self, name: str, label: str) -> ServiceProcess:
        """Another process of service `name` (same Redis namespace, topics and
        keys; its own port and log), registered as `label`; not started."""
        assert label not in self.services, f"{label} exists already"
        base = self.services[name]
        port = free_port()
        env = {**base.env, "MICROCRED_HTTP_PORT": str(port)}
        instance = ServiceProcess(name, port, env, self.workdir / f"{label}.log")
        self.services[label] = instance
        return instance

    def redis_keys(self, *names: str) -> list[bytes]:
        """Every Redis key of these services' namespaces."""
        with redis.Redis.from_url(self.redis_url) as client:
            return [
                key
                for name in names
                for key in client.scan_iter(match=f"{self.redis_prefix(name)}:*", count=1000)
            ]

    def wipe_redis(self, *names: str) -> int:
        """Delete every Redis key of these services; the number deleted."""
        keys = self.redis_keys(*names)
        with redis.Redis.from_url(self.redis_url) as client:
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        return len(keys)

    def remove_traces(self) -> None:
        """Delete this session's topics and Redis keys, so a developer's
        long-lived stack does not pile up thousands of test topics."""
        self.wipe_redis(*SERVICES)
        asyncio.run(_delete_topics(self.kafka_bootstrap, f"{self.namespace}."))


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
