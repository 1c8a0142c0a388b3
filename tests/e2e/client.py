"""Async helpers for the e2e tests and benches: the services' HTTP APIs and
the session's Kafka topics, read and written as any outside client would."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.credentials.jwt import peek_vc_jwt
from shared.credentials.status_list import BitstringStatusList
from shared.kafka.topics import topic_partitions
from tests.e2e.harness import Stack

Json = dict[str, Any]
T = TypeVar("T")
REVOKE = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}


async def until(
    predicate: Callable[[], Awaitable[T]], *, within: float = 15.0, interval: float = 0.05
) -> T:
    """Poll an async predicate until it returns something truthy (or time runs out)."""
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def webhook_receiver(
    stack: Stack, handle: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> AsyncIterator[str]:
    """A real HTTP server at the stack's webhook origin answering every POST
    with `handle`, for as long as the block runs; yields that origin."""
    app = web.Application()
    app.router.add_post("/{path:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", stack.webhook_port).start()
    try:
        yield f"http://127.0.0.1:{stack.webhook_port}"
    finally:
        await runner.cleanup()


def check(report: Json, name: str) -> Json:
    """One named check of a VC-API verification report."""
    for result in report["results"]:
        if result["check"] == name:
            return dict(result)
    raise AssertionError(f"no {name!r} check in {report}")


def status_entries(credential: Json) -> dict[str, tuple[str, int]]:
    """purpose -> (statusListCredential, statusListIndex) of a credential."""
    entries = credential["credentialStatus"]
    return {
        e["statusPurpose"]: (e["statusListCredential"], int(e["statusListIndex"])) for e in entries
    }


def all_entries(credentials: list[Json]) -> list[tuple[str, int]]:
    """Every (statusListCredential, statusListIndex) of these credentials, all purposes."""
    return [entry for c in credentials for entry in status_entries(c["credential"]).values()]


def list_bits(list_jwt: str) -> BitstringStatusList:
    """The bitstring of a signed status list credential (unverified: use a
    verifier for the signature)."""
    _, credential = peek_vc_jwt(list_jwt)
    return BitstringStatusList.decode(credential["credentialSubject"]["encodedList"])


class Api:
    """The four services' HTTP APIs on one aiohttp session, as one tenant."""

    def __init__(self, stack: Stack, session: aiohttp.ClientSession, token: str | None = None):
        self.stack = stack
        self.session = session
        self.token = stack.token if token is None else token

    @property
    def auth(self) -> dict[str, str]:
        """The tenant's bearer token (none for an empty token)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def as_tenant(self, token: str) -> Api:
        return Api(self.stack, self.session, token)

    async def call(
        self, method: str, url: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.session.request(method, url, json=json, headers=headers) as answer:
            if "json" in answer.headers.get("Content-Type", ""):
                return answer.status, await answer.json(content_type=None)
            return answer.status, await answer.text()

    async def create_issuer(self, name: str = "Example Polytechnic") -> str:
        status, body = await self.call(
            "POST",
            f"{self.stack.url('issuer')}/issuers",
            json={"name": name, "url": "https://poly.example", "country": "IE"},
            headers=self.auth,
        )
        assert status == 201, body
        return str(body["id"])

    @property
    def operator(self) -> Api:
        """The same session with the platform operator's token."""
        return Api(self.stack, self.session, self.stack.operator_token)

    async def register_provider(
        self, issuer_dids: list[str], name: str = "Example Polytechnic", *, key: str | None = None
    ) -> tuple[int, Any]:
        headers = {**self.auth, **({"Idempotency-Key": key} if key else {})}
        return await self.call(
            "POST",
            f"{self.stack.url('catalog')}/providers",
            json={"legalName": name, "country": "IE", "type": "college", "issuerDids": issuer_dids},
            headers=headers,
        )

    async def accredit(
        self,
        provider_id: str,
        *,
        accreditation_id: str = "QA-1",
        scope: Json | None = None,
        valid_until: str = "2099-01-01T00:00:00Z",
        key: str | None = None,
    ) -> tuple[int, Any]:
        """Record an accreditation (with this Api's token: the operator's to succeed)."""
        headers = {**self.auth, **({"Idempotency-Key": key} if key else {})}
        return await self.call(
            "POST",
            f"{provider_id}/accreditations",
            json={
                "id": accreditation_id,
                "qualityAssuranceBody": {"name": "Example QA Agency"},
                "scope": scope or {},
                "validFrom": "2020-01-01T00:00:00Z",
                "validUntil": valid_until,
            },
            headers=headers,
        )

    async def accredited_issuer(self, name: str = "Example Polytechnic") -> str:
        """A new issuer whose provider the operator accredited (open scope), so
        its credentials can get the verdict `valid`."""
        did = await self.create_issuer(name)
        status, provider = await self.register_provider([did], name)
        assert status == 201, provider
        status, body = await self.operator.accredit(str(provider["id"]))
        assert status == 201, body
        return did

    async def create_achievement(self, issuer_did: str) -> tuple[int, Json]:
        return await self.call(
            "POST",
            f"{self.stack.url('catalog')}/achievements",
            json={
                "issuerDid": issuer_did,
                "name": "Applied Data Protection",
                "description": "Apply GDPR principles to data processing in an SME.",
                "criteria": {"narrative": "Pass the final assessment with at least 90%."},
                "masteryThreshold": 0.9,
            },
            headers=self.auth,
        )

    async def achievement(self, issuer_did: str) -> str:
        status, body = await self.create_achievement(issuer_did)
        assert status == 201, body
        return str(body["id"])

    async def award(
        self,
        achievement_id: str,
        *,
        key: str | None = None,
        recipient: Json | None = None,
        score: float = 95,
        issuer: str = "issuer",
        renews: str | None = None,
    ) -> tuple[int, Any]:
        headers = {**self.auth, **({"Idempotency-Key": key} if key else {})}
        return await self.call(
            "POST",
            f"{self.stack.url(issuer)}/awards",
            json={
                "achievementId": achievement_id,
                "recipient": recipient or {"id": "did:example:learner-1"},
                "score": score,
                "maxScore": 100,
                **({"renews": renews} if renews else {}),
            },
            headers=headers,
        )

    async def issuer_knows(self, achievement_id: str, issuer: str = "issuer") -> None:
        """Wait until an issuer instance learnt the achievement from Kafka (an
        award without a passing score then answers 422, not 404)."""

        async def known() -> bool:
            status, _ = await self.award(achievement_id, score=0, issuer=issuer)
            return status != 404

        assert await until(known), f"{issuer} never learnt {achievement_id}"

    async def issue(self, achievement_id: str, **options: Any) -> Json:
        status, body = await self.award(achievement_id, **options)
        assert status == 201, body
        return dict(body)

    async def set_status(
        self,
        credential_id: str,
        *,
        purpose: str = "revocation",
        status: bool = True,
        key: str | None = None,
    ) -> tuple[int, Any]:
        headers = {**self.auth, **({"Idempotency-Key": key} if key else {})}
        return await self.call(
            "POST",
            f"{self.stack.url('revocation')}/credentials/status",
            json={
                "credentialId": credential_id,
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
                "status": status,
            },
            headers=headers,
        )

    async def verify(
        self, credential: Json | str, verifier: str = "verifier", *, options: Json | None = None
    ) -> tuple[int, Json]:
        status, body = await self.call(
            "POST",
            f"{self.stack.url(verifier)}/credentials/verify",
            json={"verifiableCredential": credential, "options": options or {}},
        )
        assert isinstance(body, dict), body
        return status, body

    async def verdict(self, credential: Json | str) -> str:
        """'valid', 'revoked', 'suspended' or 'invalid: <reasons>' from the verifier.

        'valid' here means *verified* (proof, validity period, status: what
        these callers test); whether the issuer is trusted is the report's
        `verdict` (tests/e2e/test_trust.py)."""
        code, report = await self.verify(credential)
        if code == 200 and report["verified"]:
            return "valid"
        status = [r for r in report.get("results", []) if r["check"] == "status"]
        reason = str(status[0].get("reason") or "") if status else ""
        for word in ("revoked", "suspended"):
            if word in reason:
                return word
        return f"invalid: {report}"

    async def reaches(self, credential: Json | str, verdict: str, *, within: float = 5) -> bool:
        """Whether the verifier gives `verdict` for the credential within `within` s."""

        async def now() -> bool:
            return await self.verdict(credential) == verdict

        return await until(now, within=within, interval=0.02)

    async def trusted_report(self, credential: Json | str, *, within: float = 10) -> Json | None:
        """The verifier's report once its verdict is `valid` (verified and
        trusted), or None if it is not within `within` s. Trust comes from the
        verifier's replica, which learns a new provider's accreditation, the
        achievement and the operator's status list (of the accreditation
        endorsement a credential carries) over Kafka, a moment after the writes."""

        async def now() -> Json | None:
            code, report = await self.verify(credential)
            return report if code == 200 and report["verdict"] == "valid" else None

        return await until(now, within=within)


# -- Kafka ------------------------------------------------------------------


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record of `topic` from the beginning to the end seen now."""
    partitions = (await topic_partitions(bootstrap, [topic]))[topic]
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list[ConsumerRecord] = []
        pending = {tp for tp in tps if end[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=200)
            for tp, batch in batches.items():
                records.extend(r for r in batch if r.offset < end[tp])
            pending = {tp for tp in pending if await consumer.position(tp) < end[tp]}
        return records
    finally:
        await consumer.stop()


async def produce_raw(
    bootstrap: str, topic: str, records: list[tuple[str, bytes]], *, partition: int | None = None
) -> None:
    """Write raw (key, value) records, each acknowledged by Kafka (acks=all)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key.encode(), partition=partition)
    finally:
        await producer.stop()


async def produce_many(bootstrap: str, topic: str, key: str, value: bytes, count: int) -> None:
    """`count` copies of one record, batched (a long topic history, quickly)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key.encode()) for _ in range(count)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
