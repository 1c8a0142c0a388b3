"""Services start when Kafka or Redis is not up yet (issue 6, item 3).

They listen at once, report not ready while they wait with backoff, log one
clear line per attempt (no traceback), and become ready by themselves once
the infrastructure answers, with no restart by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.e2e.harness import ServiceProcess, Stack, free_port

pytestmark = [pytest.mark.e2e]


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status, orjson.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def wait_for(predicate, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    return False


@pytest.fixture
def lone_stack(tmp_path: Path, kafka_bootstrap: str, redis_url: str) -> Iterator[Stack]:
    stack = Stack(workdir=tmp_path, kafka_bootstrap=kafka_bootstrap, redis_url=redis_url)
    yield stack
    stack.stop()
    stack.remove_traces()


def with_env(service: ServiceProcess, **env: str) -> ServiceProcess:
    service.env.update(env)
    return service


def log_lines(service: ServiceProcess) -> list[dict[str, object]]:
    lines = service.log_path.read_text(errors="replace").splitlines()
    return [orjson.loads(line) for line in lines if line.startswith("{")]


def test_a_service_waits_for_redis_and_becomes_ready_by_itself(
    lone_stack: Stack, tmp_path: Path
) -> None:
    port = free_port()
    issuer = with_env(
        lone_stack.services["issuer"], MICROCRED_REDIS_URL=f"redis://127.0.0.1:{port}/0"
    )
    issuer.start()
    assert wait_for(lambda: get(f"{issuer.url}/healthz")[0] == 200), issuer.log_tail()
    time.sleep(2)  # a few attempts
    status, body = get(f"{issuer.url}/readyz")
    assert status == 503 and "issuer-replica" in body["failing"], body  # type: ignore[operator]
    assert issuer.process is not None and issuer.process.poll() is None

    redis_server = shutil.which("redis-server")
    assert redis_server is not None
    server = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: get(f"{issuer.url}/readyz")[0] == 200, 60), issuer.log_tail()
    finally:
        server.terminate()
        server.wait(10)
    text = issuer.log_path.read_text(errors="replace")
    assert "Traceback" not in text, issuer.log_tail()
    restarts = [line for line in log_lines(issuer) if line.get("event") == "consumer.restarting"]
    assert restarts and all("ConnectionError" in str(line["error"]) for line in restarts)


def test_a_service_waits_for_kafka_saying_so_once_per_attempt(lone_stack: Stack) -> None:
    dead = f"127.0.0.1:{free_port()}"
    catalog = with_env(lone_stack.services["catalog"], MICROCRED_KAFKA_BOOTSTRAP=dead)
    catalog.start()
    assert wait_for(lambda: get(f"{catalog.url}/healthz")[0] == 200), catalog.log_tail()
    time.sleep(4)
    status, body = get(f"{catalog.url}/readyz")
    assert status == 503, body
    assert {"kafka", "catalog-replica"} <= set(body["failing"]), body  # type: ignore[arg-type]
    assert catalog.process is not None and catalog.process.poll() is None
    text = catalog.log_path.read_text(errors="replace")
    assert "Traceback" not in text, catalog.log_tail()
    attempts = [line for line in log_lines(catalog) if line.get("event") == "kafka.unavailable"]
    assert 2 <= len(attempts) <= 10, attempts  # backoff: not a busy loop
    # A write meanwhile is a 503 with Retry-After, not a 500.
    request = urllib.request.Request(
        f"{catalog.url}/achievements",
        data=orjson.dumps(
            {
                "issuerDid": "did:key:z6MkexampleIssuer",
                "name": "Data Protection",
                "description": "Apply GDPR.",
                "criteria": {"narrative": "Pass with 90%."},
                "masteryThreshold": 0.9,
            }
        ),
        headers={**lone_stack.auth, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("accepted a write without Kafka")
    except urllib.error.HTTPError as error:
        assert error.code == 503 and error.headers["Retry-After"], error.read()
