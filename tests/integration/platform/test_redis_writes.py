"""shared.redis_writes: gathered writes made in one atomic step, on the real Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from shared.redis_scripts import APPLY_WRITES
from shared.redis_writes import Writes

pytestmark = [pytest.mark.integration]


@pytest.fixture
def p() -> str:
    return f"test-{secrets.token_hex(6)}"


@pytest.fixture
async def client(redis_url: str, p: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    keys = [key async for key in connection.scan_iter(match=f"{p}:*")]
    if keys:
        await connection.delete(*keys)
    await connection.aclose()


async def test_every_write_is_made_in_order(client: redis.Redis, p: str) -> None:
    writes = Writes()
    writes.hset(f"{p}:h", "a", b"\x00binary\xff")
    writes.hset(f"{p}:h", "a", "second")  # later writes win, as in MULTI/EXEC
    writes.hsetnx(f"{p}:h", "b", 1)
    writes.hsetnx(f"{p}:h", "b", 2)  # HSETNX keeps the first
    writes.sadd(f"{p}:s", "x")
    writes.sadd(f"{p}:s", "y")
    writes.zadd(f"{p}:z", {"m": 1_700_000_000_123, "n": 2.5})
    await writes.apply(client)

    assert await client.hgetall(f"{p}:h") == {b"a": b"second", b"b": b"1"}
    assert await client.smembers(f"{p}:s") == {b"x", b"y"}
    assert await client.zrange(f"{p}:z", 0, -1, withscores=True) == [
        (b"n", 2.5),
        (b"m", 1_700_000_000_123.0),
    ]


async def test_no_writes_make_no_call() -> None:
    nowhere = redis.Redis(port=1)  # any call to it fails
    await Writes().apply(nowhere)
    writes = Writes()
    writes.sadd("k", "m")
    with pytest.raises(RedisConnectionError):
        await writes.apply(nowhere)
    await nowhere.aclose()


async def test_writes_are_made_after_redis_forgot_the_script(client: redis.Redis, p: str) -> None:
    """A restarted Redis has no scripts: the call loads it again (redis-py's
    Script), so no write is lost."""
    first = Writes()
    first.sadd(f"{p}:s", "before")
    await first.apply(client)
    await client.script_flush()
    second = Writes()
    second.sadd(f"{p}:s", "after")
    await second.apply(client)
    assert await client.smembers(f"{p}:s") == {b"before", b"after"}


async def test_the_script_refuses_any_other_command(client: redis.Redis, p: str) -> None:
    script = client.register_script(APPLY_WRITES)
    with pytest.raises(ResponseError, match="APPLY_WRITES: no DEL"):
        await script(keys=[f"{p}:h"], args=["DEL", 0])
