"""A bulk job's writes hold only in the Redis state generation it was read
in: after a wipe (and the rebuild from Kafka), a run that read the job
before writes nothing, so no result is lost behind a resume offset that
moved on and no partial job is left."""

from __future__ import annotations

import fakeredis
import pytest

from services.issuer.bulk_store import BulkJob, BulkJobStore
from services.issuer.domain.bulk_rows import RowResult
from shared.errors import Rebuilding
from shared.events import BulkJobChanged
from shared.redis_keys import generation_key, replayed_key

PREFIX = "t"
QUEUED = BulkJobChanged(
    job_id="j1", tenant="tenant-a", change="queued", rows=3, first_offset=10, last_offset=12
)


async def replayed(client: fakeredis.FakeAsyncRedis, generation: str) -> None:
    """The state of `generation`, rebuilt from Kafka (the job queued)."""
    await client.mset({generation_key(PREFIX): generation, replayed_key(PREFIX): generation})
    await BulkJobStore(client, PREFIX).apply(QUEUED)


async def job(store: BulkJobStore) -> BulkJob:
    found = await store.job("j1")
    assert found is not None
    return found


async def test_a_run_that_read_the_job_before_a_wipe_writes_nothing() -> None:
    client = fakeredis.FakeAsyncRedis()
    store = BulkJobStore(client, PREFIX)
    await replayed(client, "g1")
    before = await job(store)
    assert await store.record(before, 11, [RowResult(1, "issued", credential_id="urn:uuid:a")])
    await store.set_state(before, "running")

    await client.flushall()
    with pytest.raises(Rebuilding):  # not replayed yet
        await store.record(before, 12, [RowResult(2, "issued", credential_id="urn:uuid:b")])
    with pytest.raises(Rebuilding):
        await store.set_state(before, "done")
    assert await client.keys("*") == []  # no partial job

    await replayed(client, "g2")
    with pytest.raises(Rebuilding):  # replayed, but another generation than the run's
        await store.record(before, 12, [RowResult(2, "issued", credential_id="urn:uuid:b")])
    with pytest.raises(Rebuilding):
        await store.set_state(before, "done")
    again = await job(store)
    assert (again.next_offset, again.state) == (10, "queued")  # all rows awarded again
    assert await store.active() == ["j1"]
    assert await store.counts("j1") == {}

    assert await store.record(again, 11, [RowResult(1, "issued", credential_id="urn:uuid:a")])
    await store.set_state(again, "done")
    assert (await job(store)).state == "done"
    assert await store.active() == []  # done: left the active set
