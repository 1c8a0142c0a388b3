"""Invariant 7: a tenant acts only on its own issuers, achievements and
credentials; the public verifier shows no learner data beyond what was sent.

(Another tenant revoking ours is in test_thin_slice.)
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import orjson
import pytest

from tests.e2e.client import Api, Json
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

EMAIL = "ada.lovelace@example.org"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


@pytest.fixture
async def ours(api: Api) -> Json:
    """Our issuer, achievement and one credential (to a hashed email)."""
    issuer_did = await api.create_issuer("Our University")
    achievement_id = await api.achievement(issuer_did)
    await api.issuer_knows(achievement_id)
    key = f"key-{secrets.token_hex(4)}"
    credential = await api.issue(achievement_id, key=key, recipient={"email": EMAIL})
    return {"issuer": issuer_did, "achievement": achievement_id, "key": key, **credential}


async def test_other_tenant_cannot_use_our_issuer_or_credentials(api: Api, ours: Json) -> None:
    other = api.as_tenant("other-token")

    status, body = await other.create_achievement(ours["issuer"])
    assert status == 404, body

    status, body = await other.award(ours["achievement"], score=100)
    assert status == 404, body

    status, body = await other.call(
        "GET", f"{api.stack.url('issuer')}/credentials/{ours['credentialId']}", headers=other.auth
    )
    assert status == 404, body
    assert ours["jwt"] not in orjson.dumps(body).decode()

    status, body = await other.set_status(ours["credentialId"], purpose="suspension")
    assert status == 404, body
    assert await api.verdict(ours["jwt"]) == "valid"

    # Idempotency keys are per tenant: the same key gives the other tenant
    # its own credential, never ours.
    their_achievement = await other.achievement(await other.create_issuer("Their College"))
    status, theirs = await other.award(their_achievement, key=ours["key"])
    assert status == 201, theirs
    assert theirs["credentialId"] != ours["credentialId"]

    # Without a token nothing is written at all.
    anonymous = api.as_tenant("")
    for status, _ in (
        await anonymous.award(ours["achievement"]),
        await anonymous.create_achievement(ours["issuer"]),
        await anonymous.set_status(ours["credentialId"]),
    ):
        assert status == 401


async def test_the_verifier_shows_no_learner_data(api: Api, ours: Json) -> None:
    """The credential carries the email only salted and hashed (OB 3.0
    IdentityObject); the verifier answers about what it was sent and offers
    no look-up of credentials."""
    assert EMAIL not in ours["jwt"] and EMAIL not in orjson.dumps(ours["credential"]).decode()
    status, report = await api.verify(ours["jwt"])
    assert status == 200 and report["verified"], report
    assert EMAIL not in orjson.dumps(report).decode()
    status, _ = await api.call(
        "GET", f"{api.stack.url('verifier')}/credentials/{ours['credentialId']}"
    )
    assert status in (404, 405)
    # It holds no learner data to expose: none of the topics that carry
    # credentials or assessments feed its replica.
    status, ready = await api.call("GET", f"{api.stack.url('verifier')}/readyz")
    assert status == 200, ready
    consumed = {
        partition.rsplit("/", 1)[0]
        for check in ready["checks"].values()
        for partition in check.get("partitions", {})
    }
    assert api.stack.topic("status.lists") in consumed  # the details do name topics
    assert not consumed & {
        api.stack.topic("credentials.issued"),
        api.stack.topic("issuer.assessments"),
    }, consumed


async def timed(call: Awaitable[tuple[int, Any]]) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = await call
    return status, time.monotonic() - started


async def test_another_tenants_record_and_a_missing_one_answer_alike_in_time(
    api: Api, ours: Json
) -> None:
    """Invariant 7 / issue 7: a 404 for another tenant's record takes as long
    as one for a record that does not exist (no existence leak by timing)."""
    other = api.as_tenant("other-token")
    their_issuer = await other.create_issuer("Their College")
    their_achievement = await other.achievement(their_issuer)
    await other.issuer_knows(their_achievement)
    pairs = {
        "renewal": (
            other.award(their_achievement, renews=ours["credentialId"]),
            other.award(their_achievement, renews=f"urn:uuid:{secrets.token_hex(8)}"),
        ),
        "provider": (
            other.register_provider([ours["issuer"]]),
            other.register_provider(["did:key:z6MkmissingMissingMissing"]),
        ),
        "award": (
            other.award(ours["achievement"]),
            other.award(f"{ours['achievement']}-missing"),
        ),
        "revoke": (
            other.set_status(ours["credentialId"]),
            other.set_status(f"urn:uuid:{secrets.token_hex(8)}"),
        ),
        "achievement": (
            other.create_achievement(ours["issuer"]),
            other.create_achievement("did:key:z6MkmissingMissingMissing"),
        ),
    }
    for name, (theirs, missing) in pairs.items():
        (status_a, took_a), (status_b, took_b) = await asyncio.gather(timed(theirs), timed(missing))
        assert status_a == status_b == 404, (name, status_a, status_b)
        assert abs(took_a - took_b) < 0.05, (name, took_a, took_b)


async def test_a_burst_of_one_tenants_awards_leaves_anothers_answered(api: Api, ours: Json) -> None:
    """300 awards at once naming achievements that do not exist, from
    another tenant, each waiting out the wait for one on its way: our own
    awards meanwhile are made (no 503 for want of a Redis connection) and
    the other tenant's get their 404."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        other = Api(api.stack, session, "other-token")
        own = Api(api.stack, session)
        flood = [other.award(f"urn:uuid:{secrets.token_hex(8)}") for _ in range(300)]
        valid = [
            own.award(ours["achievement"], recipient={"id": f"did:example:burst-{n}"})
            for n in range(10)
        ]
        answers = await asyncio.gather(*flood, *valid)
    assert Counter(status for status, _ in answers[:300]) == {404: 300}
    assert [status for status, _ in answers[300:]] == [201] * 10, answers[300:]
