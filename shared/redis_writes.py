"""Redis writes gathered, then made in one atomic step.

A write-only transaction as a MULTI/EXEC pipeline costs the client a queued
reply and a result to parse for every command: redis-py spends about three
times the CPU on it that one EVALSHA of `APPLY_WRITES` with the same writes
does (bench figures: docs/internals.md). Like MULTI/EXEC, the writes are
made in order with nothing in between, and none is undone if one fails.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as redis

from shared.redis_scripts import APPLY_WRITES

Value = str | bytes | int | float


class Writes:
    def __init__(self) -> None:
        self._keys: list[str] = []
        self._args: list[Value] = []

    def _add(self, command: str, key: str, *args: Value) -> None:
        self._keys.append(key)
        self._args += [command, len(args), *args]

    def hset(self, key: str, field: str, value: Value) -> None:
        self._add("HSET", key, field, value)

    def hsetnx(self, key: str, field: str, value: Value) -> None:
        self._add("HSETNX", key, field, value)

    def sadd(self, key: str, member: str) -> None:
        self._add("SADD", key, member)

    def zadd(self, key: str, scores: Mapping[str, float]) -> None:
        self._add(
            "ZADD", key, *(each for member, score in scores.items() for each in (score, member))
        )

    async def apply(self, client: redis.Redis) -> None:
        """Make the writes gathered (one round trip; nothing when there are none)."""
        if self._keys:
            await client.register_script(APPLY_WRITES)(keys=self._keys, args=self._args)
