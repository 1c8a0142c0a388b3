"""Waiting for records still on their way through Kafka (shared.replica_wait)."""

from __future__ import annotations

import asyncio
import time

from shared.replica_wait import wait_for_records


async def test_many_keys_wait_out_one_deadline_and_stop_when_all_arrived() -> None:
    arrived: dict[str, int] = {"a": 1}
    asked: list[list[str]] = []

    async def lookup(keys: list[str]) -> dict[str, int]:
        asked.append(keys)
        return {k: arrived[k] for k in keys if k in arrived}

    started = time.monotonic()
    found = await wait_for_records(lookup, ["a", *(f"x{n}" for n in range(10))], 0.3)
    elapsed = time.monotonic() - started
    assert found == {"a": 1}
    assert 0.3 <= elapsed < 0.6, elapsed  # ten missing keys: one deadline, not ten
    assert all("a" not in keys for keys in asked[1:])  # found ones are not asked again

    async def later() -> None:
        await asyncio.sleep(0.05)
        arrived["b"] = 2

    started = time.monotonic()
    arriving = asyncio.create_task(later())
    found = await wait_for_records(lookup, ["a", "b", "a"], 5)
    await arriving
    assert found == {"a": 1, "b": 2}
    assert time.monotonic() - started < 1  # not the whole deadline
