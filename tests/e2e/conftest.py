from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Stack


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, redis_url: str
) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("e2e")
    running = Stack(workdir=workdir, kafka_bootstrap=kafka_bootstrap, redis_url=redis_url)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        running.remove_traces()
