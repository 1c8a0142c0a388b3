"""The services a benchmark measures: real processes against the running
Kafka and Redis (`make bench` starts them), in a namespace of their own,
stopped and cleaned up afterwards (tests/e2e/harness.py does the work)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.settings import cpu_cores
from tests.e2e.harness import Stack


@contextmanager
def running_services(name: str, *services: str, token: str = "bench-token") -> Iterator[Stack]:
    """`services` (default: all four) started for benchmark `name`."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir:
        stack = Stack(
            workdir=Path(workdir),
            kafka_bootstrap=os.environ.get("MICROCRED_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
            redis_url=os.environ.get("MICROCRED_REDIS_URL", "redis://127.0.0.1:16379/0"),
            token=token,
        )
        # The issuer signs as deployed (one process per core), not as in tests.
        stack.services["issuer"].env["MICROCRED_ISSUER_SIGNING_PROCESSES"] = str(cpu_cores())
        print(f"starting the services (namespace {stack.namespace}) ...")
        stack.start(*services)
        try:
            yield stack
        finally:
            stack.stop()
            stack.remove_traces()
