from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Stack


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    redis_url: str,
) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("e2e")
    running = Stack(workdir=workdir, kafka_bootstrap=kafka_bootstrap, redis_url=redis_url)
    # A module marked `signing_processes(n)` runs the issuer as deployed, with
    # a signing pool; the others sign inline (each pool costs a process start).
    marker = request.node.get_closest_marker("signing_processes")
    if marker is not None:
        running.services["issuer"].env["MICROCRED_ISSUER_SIGNING_PROCESSES"] = str(marker.args[0])
    running.start()
    try:
        yield running
    finally:
        running.stop()
        running.remove_traces()
