"""Issue 10, batch verification for job boards: `POST /credentials/verify/batch`.

1,000 mixed lines (valid JWTs and Data Integrity credentials, revoked,
suspended, tampered, URLs served over real TLS, baked images, tagged lines
with a recipient, garbage) get the right per-item answer, streamed as items
complete; a malformed line gets an error line, never a 500 for the batch.
The URLs are served by a local HTTPS server under a `trustme` test CA, so
the verifier runs in this process (its fetcher trusts that CA and reaches
the made-up domain on loopback, like tests/e2e/test_domain_linkage.py) on
the stack's Kafka, with the other services as processes. The verifier
process itself gets 1,000 mixed items without URLs, streams CPU-bound
batches, survives a client leaving mid-stream and refuses bad batches (415,
413, 422). Redirects are never followed, to a private address or anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.verifier.app import create_app
from services.verifier.ratelimit import RatePolicy
from services.verifier.settings import Settings
from shared.credentials.baking import bake_png
from shared.credentials.crypto_keys import b64url_decode, b64url_encode
from shared.settings import CommonSettings
from shared.web.safe_fetch import FetchPolicy, SafeFetcher
from tests.e2e.client import Api, Json, until
from tests.e2e.harness import Stack
from tests.e2e.test_verify_inputs import Listener
from tests.unit.credentials.test_baking import make_png

pytestmark = [pytest.mark.e2e]

NDJSON = "application/x-ndjson"
EMAIL = "grace.hopper@example.com"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


@dataclass
class Hosted:
    """A credential host on https://<domain>/ (loopback, test CA)."""

    domain: str
    runner: web.AppRunner
    fetcher: SafeFetcher
    hits: dict[str, int]


async def host(domain: str, jwt: str, loopback_port: int) -> Hosted:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(domain).configure_cert(server_context)
    hits: dict[str, int] = {}
    badge = bake_png(make_png(), jwt)

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        hits[name] = hits.get(name, 0) + 1
        if name == "slow":
            await asyncio.sleep(1.5)
        if name.startswith("redirect-loopback"):
            raise web.HTTPFound(f"https://127.0.0.1:{loopback_port}/vc")
        if name.startswith("redirect-private"):
            raise web.HTTPFound("https://10.0.0.1/vc")
        if name.startswith("redirect-here"):
            raise web.HTTPFound(f"https://{domain}/vc-0")
        if name.startswith("badge"):
            return web.Response(body=badge, content_type="image/png")
        return web.Response(text=jwt, content_type="application/vc+jwt")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    policy = FetchPolicy(ssl_context=client_context, connect_to={domain: ("127.0.0.1", port)})
    return Hosted(domain, runner, SafeFetcher(policy), hits)


def tampered(jwt: str) -> str:
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["name"] = "Doctor of Medicine"
    return f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"


def line(value: object) -> bytes:
    return json.dumps(value).encode()


def mixed_batch(
    domain: str, valid: list[Json], revoked: list[Json], suspended: list[Json]
) -> tuple[list[bytes], list[tuple[str, Any]]]:
    """1,000 lines and, per line, what its answer must be: ("state", s),
    ("error", status) or ("tagged", id)."""
    badge = base64.b64encode(bake_png(make_png(), valid[0]["jwt"])).decode()
    lines: list[bytes] = []
    expected: list[tuple[str, Any]] = []
    for i in range(1000):
        pick = valid[i % len(valid)]
        kind = i % 12
        if kind == 0:
            lines.append(line(pick["jwt"]))
            expected.append(("state", "valid"))
        elif kind == 1:
            lines.append(line(pick["credential"]))  # Data Integrity, as an object
            expected.append(("state", "valid"))
        elif kind == 2:
            lines.append(line(revoked[i % len(revoked)]["jwt"]))
            expected.append(("state", "revoked"))
        elif kind == 3:
            lines.append(line(suspended[i % len(suspended)]["jwt"]))
            expected.append(("state", "suspended"))
        elif kind == 4:
            lines.append(line(tampered(pick["jwt"])))
            expected.append(("state", "tampered"))
        elif kind == 5:
            lines.append(line(f"https://{domain}/vc-{i}"))
            expected.append(("state", "valid"))
        elif kind == 6:
            lines.append(line({"url": f"https://{domain}/badge-{i}.png"}))
            expected.append(("state", "valid"))
        elif kind == 7:
            lines.append(line({"image": badge}))
            expected.append(("state", "valid"))
        elif kind == 8:
            tag = f"cv-{i}"
            options = {"recipient": EMAIL}
            lines.append(line({"id": tag, "jwt": valid[0]["jwt"], "options": options}))
            expected.append(("tagged", tag))
        elif kind == 9:
            lines.append(b"{this is not json")
            expected.append(("error", 422))
        elif kind == 10:
            lines.append(line("not a credential at all"))
            expected.append(("error", 422))
        else:
            lines.append(line(f"https://{domain}/redirect-private-{i}"))
            expected.append(("error", 422))
    return lines, expected


async def issued(api: Api, achievement: str, count: int) -> list[Json]:
    return [await api.issue(achievement, recipient={"email": EMAIL}) for _ in range(count)]


async def test_a_thousand_mixed_items_get_the_right_answers_streamed(api: Api) -> None:
    did = await api.accredited_issuer("Batch Polytechnic")
    achievement = await api.achievement(did)
    await api.issuer_knows(achievement)
    valid = await issued(api, achievement, 6)
    revoked = await issued(api, achievement, 3)
    suspended = await issued(api, achievement, 3)
    for credential in revoked:
        assert (await api.set_status(credential["credentialId"]))[0] == 200
    for credential in suspended:
        assert (await api.set_status(credential["credentialId"], purpose="suspension"))[0] == 200

    domain = f"cv-{uuid.uuid4().hex[:10]}.example"
    listener = Listener()
    loopback_port = await listener.start()
    hosted = await host(domain, valid[0]["jwt"], loopback_port)
    environ = {**api.stack.services["verifier"].env, "MICROCRED_HTTP_PORT": "0"}
    settings = Settings(
        common=CommonSettings.from_env("verifier", 0, environ),
        trusted_fetch_origins=frozenset(),
        # each item counts against the quota: one client sends 1,021 here
        rates=RatePolicy(address_quota=10_000),
    )
    try:
        async with TestClient(TestServer(create_app(settings, fetcher=hosted.fetcher))) as client:

            async def state(item: str) -> str:
                answer = await client.post(
                    "/credentials/verify", json={"verifiableCredential": item}
                )
                return str((await answer.json())["state"])

            async def caught_up() -> bool:
                return (
                    await state(valid[-1]["jwt"]) == "valid"
                    and await state(revoked[-1]["jwt"]) == "revoked"
                    and await state(suspended[-1]["jwt"]) == "suspended"
                )

            assert await until(caught_up, within=30), "the in-process verifier never caught up"
            lines, expected = mixed_batch(domain, valid, revoked, suspended)
            started = time.monotonic()
            answer = await client.post(
                "/credentials/verify/batch",
                data=io.BytesIO(b"\n".join(lines) + b"\n"),
                headers={"Content-Type": NDJSON},
            )
            assert answer.status == 200, await answer.text()
            assert answer.headers["Content-Type"].startswith(NDJSON)
            answers, first = [], 0.0
            async for raw in answer.content:
                if raw.strip():
                    first = first or time.monotonic() - started
                    answers.append(json.loads(raw))
            elapsed = time.monotonic() - started
            # Streamed while CPU-bound items are verified, not all at the end.
            assert first < elapsed / 4, (first, elapsed)
            assert sorted(a["index"] for a in answers) == list(range(1000))
            for got in answers:
                kind, value = expected[got["index"]]
                if kind == "state":
                    assert got["report"]["state"] == value, (got["index"], got)
                elif kind == "tagged":
                    assert got["id"] == value and got["report"]["state"] == "valid", got
                    results = {r["check"]: r["outcome"] for r in got["report"]["results"]}
                    assert results["recipient"] == "ok", got
                else:
                    assert "report" not in got and got["error"]["status"] == value, got
            revoked_answer = next(
                a for a in answers if expected[a["index"]] == ("state", "revoked")
            )
            assert revoked_answer["report"]["stateDetails"]["since"], revoked_answer
            print(f"1000 mixed items in {elapsed:.1f} s, first line after {first:.2f} s")

            # Streamed: a slow item (1.5 s) does not hold back the others.
            slow = [line(f"https://{domain}/slow")] + [line(valid[0]["jwt"])] * 20
            started = time.monotonic()
            answer = await client.post(
                "/credentials/verify/batch",
                data=b"\n".join(slow),
                headers={"Content-Type": "application/jsonl"},
            )
            arrivals: list[tuple[float, int]] = []
            async for raw in answer.content:
                if raw.strip():
                    arrivals.append((time.monotonic() - started, json.loads(raw)["index"]))
            assert len(arrivals) == 21
            assert arrivals[0][0] < 1.0 and arrivals[0][1] != 0, arrivals[:3]
            assert arrivals[-1][1] == 0 and arrivals[-1][0] >= 1.5, arrivals[-3:]

            # Redirects are never followed: to loopback, to a private
            # address, not even to the same public host.
            for name in ("redirect-loopback", "redirect-private", "redirect-here"):
                url = f"https://{domain}/{name}"
                answer = await client.post("/credentials/verify", json={"url": url})
                problem = await answer.json()
                assert answer.status == 422, problem
                assert problem["type"] == "urn:microcred:problem:url-not-fetched"
                assert "302" in problem["detail"], problem
            assert hosted.hits.get("vc-0") is None  # the redirect target was not fetched
    finally:
        await hosted.runner.cleanup()
        await listener.stop()
    assert listener.connections == 0


async def batch_call(api: Api, body: bytes, content_type: str = NDJSON) -> tuple[int, str]:
    url = f"{api.stack.url('verifier')}/credentials/verify/batch"
    headers = {"Content-Type": content_type}
    async with api.session.post(url, data=io.BytesIO(body), headers=headers) as answer:
        return answer.status, await answer.text()


async def test_the_verifier_process_answers_lines_and_refuses_bad_batches(api: Api) -> None:
    did = await api.accredited_issuer("Batch Process College")
    achievement = await api.achievement(did)
    await api.issuer_knows(achievement)
    jwt = (await api.issue(achievement))["jwt"]

    async def valid() -> bool:
        _, report = await api.verify(jwt)
        return bool(report["state"] == "valid")

    assert await until(valid, within=10)
    revoked = await api.issue(achievement)
    assert (await api.set_status(revoked["credentialId"]))[0] == 200

    async def gone() -> bool:
        _, report = await api.verify(revoked["jwt"])
        return bool(report["state"] == "revoked")

    assert await until(gone, within=10)

    # 1,000 mixed items on the verifier process itself (no URLs: it trusts
    # no test CA; those are in the test above).
    badge = base64.b64encode(bake_png(make_png(), jwt)).decode()
    kinds: list[tuple[bytes, str]] = [
        (line(jwt), "valid"),
        (line(revoked["jwt"]), "revoked"),
        (line(tampered(jwt)), "tampered"),
        (line({"image": badge}), "valid"),
        (b"<html>garbage</html>", "error"),
    ]
    mixed = [kinds[i % len(kinds)] for i in range(1000)]
    status, text = await batch_call(api, b"\n".join(raw for raw, _ in mixed))
    assert status == 200, text
    for got in map(json.loads, text.splitlines()):
        want = mixed[got["index"]][1]
        assert (got["report"]["state"] if "report" in got else "error") == want, got

    body = b"\n".join([line(jwt), b"", b"garbage", line({"id": "a", "jwt": jwt}), line(5)])
    status, text = await batch_call(api, body)
    assert status == 200, text
    answers = {a["index"]: a for a in map(json.loads, text.splitlines())}
    assert answers[0]["report"]["state"] == "valid"
    assert answers[1]["error"]["status"] == 422  # the blank line is skipped, not counted
    assert answers[2]["id"] == "a" and answers[2]["report"]["state"] == "valid"
    assert answers[3]["error"]["status"] == 422 and len(answers) == 4

    # Streamed even when every item is CPU-bound (no fetch to wait on).
    url = f"{api.stack.url('verifier')}/credentials/verify/batch"
    started, arrivals = time.monotonic(), []
    body = io.BytesIO(b"\n".join([line(jwt)] * 300))
    async with api.session.post(url, data=body, headers={"Content-Type": NDJSON}) as answer:
        async for raw in answer.content:
            if raw.strip():
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 300
    assert arrivals[0] < arrivals[-1] / 4, (arrivals[0], arrivals[-1])

    # A client that leaves mid-stream: the verifier stops that batch quietly
    # and goes on serving.
    async with aiohttp.ClientSession() as leaving:
        body = io.BytesIO(b"\n".join([line(jwt)] * 300))
        async with leaving.post(url, data=body, headers={"Content-Type": NDJSON}) as answer:
            assert json.loads(await answer.content.readline())["report"]["state"] == "valid"
    status, report = await api.verify(jwt)
    assert status == 200 and report["state"] == "valid"
    log = api.stack.services["verifier"].log_tail(200)
    assert "request.failed" not in log and "batch.item_failed" not in log, log

    assert (await batch_call(api, line(jwt), "application/json"))[0] == 415
    assert (await batch_call(api, b"\n \n"))[0] == 422
    status, text = await batch_call(api, b"\n".join([line("x")] * 1001))
    assert status == 413 and "1000" in text, text
