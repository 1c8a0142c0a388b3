"""Issue 7's attacks on the public verifier and the revocation service, as
tests against the real service processes.

Two verifiers run: the session's own (the defaults, one worker) and
`verifier-limits`, started with settings the attacks need to get past the
first caps (long arrays, many status entries), short connection timeouts
and a small address quota. Its other callers use a job board's API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import orjson
import pytest

from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.jwt import sign_vc_jwt
from shared.status_lists import list_id_for
from tests.e2e.client import Api, Json, until
from tests.e2e.harness import ServiceProcess, Stack, free_port

BOARD_KEY = "e2e-job-board"
BOARD = {"X-API-Key": BOARD_KEY}
LIMITS_ENV = {
    "MICROCRED_VERIFIER_MAX_ARRAY_LENGTH": "20000",
    "MICROCRED_VERIFIER_MAX_JSON_VALUES": "200000",
    "MICROCRED_VERIFIER_MAX_STATUS_ENTRIES": "5000",
    "MICROCRED_VERIFIER_CANON_MS": "1000",
    "MICROCRED_VERIFIER_CANON_PROCESSES": "1",
    "MICROCRED_VERIFIER_KEEPALIVE_S": "5",
    "MICROCRED_VERIFIER_CONNECTIONS_PER_ADDRESS": "600",
    "MICROCRED_VERIFIER_ADDRESS_QUOTA": "5",
    "MICROCRED_VERIFIER_QUOTA_WINDOW_S": "60",
    "MICROCRED_VERIFIER_API_KEYS": f"{BOARD_KEY}=100000,small-board=3",
}


class SlowLists(BaseHTTPRequestHandler):
    """Answers every GET after 3 s (404), noting the path first."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        time.sleep(3)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def slow_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), SlowLists)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def limited(stack: Stack, slow_origin: str) -> Iterator[ServiceProcess]:
    instance = stack.add_instance("verifier", "verifier-limits")
    instance.env.update(LIMITS_ENV)
    trusted = instance.env["MICROCRED_TRUSTED_FETCH_ORIGINS"]
    instance.env["MICROCRED_TRUSTED_FETCH_ORIGINS"] = f"{trusted},{slow_origin}"
    instance.start()
    instance.wait_ready()
    yield instance
    instance.stop()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Api(stack, session)


@pytest.fixture(scope="module")
def issued() -> dict[str, Any]:
    return {}


async def credentials(api: Api, issued: dict[str, Any], count: int = 4) -> list[Json]:
    """A few real awards of the session (shared by the tests of this module)."""
    if "awards" not in issued:
        did = await api.create_issuer()
        achievement = await api.achievement(did)
        await api.issuer_knows(achievement)
        issued["awards"] = [await api.issue(achievement) for _ in range(count)]
    return list(issued["awards"])


async def timed_verify(
    session: aiohttp.ClientSession, url: str, credential: object, headers: dict[str, str]
) -> tuple[int, Json, float]:
    started = time.monotonic()
    async with session.post(
        f"{url}/credentials/verify", json={"verifiableCredential": credential}, headers=headers
    ) as answer:
        body = await answer.json(content_type=None)
        return answer.status, body, time.monotonic() - started


def with_results(credential: Json, count: int) -> Json:
    """The credential with `count` results added, its proof left as it was."""
    forged = copy.deepcopy(credential)
    forged["credentialSubject"]["result"] = [
        {"type": ["Result"], "value": str(i)} for i in range(count)
    ]
    return forged


# --- one request's work ------------------------------------------------------------


@pytest.mark.parametrize("instance", ["verifier", "verifier-limits"])
async def test_a_huge_document_is_refused_fast_while_valid_ones_go_on(
    api: Api, issued: dict[str, Any], limited: ServiceProcess, instance: str
) -> None:
    """The default verifier refuses the 10,000-result document at its array
    cap; `verifier-limits` lets a 2,500-result one through to
    canonicalisation, which runs in the process pool and stops at its 1 s
    time cap."""
    awards = await credentials(api, issued)
    url = api.stack.url(instance)
    key = BOARD if instance == "verifier-limits" else {}
    valid: list[object] = [a["jwt"] for a in awards] + [a["credential"] for a in awards]
    # The issue's 10,000 results for the defaults; 2,500 suffice to need far
    # more than the 1 s cap (the cost is quadratic) with less JSON to parse.
    huge = with_results(awards[0]["credential"], 10_000 if instance == "verifier" else 2_500)
    for credential in valid:  # warm: status lists and keys resolved once, as in production
        assert (await timed_verify(api.session, url, credential, key))[0] == 200

    async def burst() -> list[tuple[int, Json, float]]:
        return await asyncio.gather(
            *(timed_verify(api.session, url, valid[i % len(valid)], key) for i in range(50))
        )

    # The same burst alone first: on this shared machine its own time varies
    # with the load the other processes put on the 2 cores.
    alone = max(seconds for _, _, seconds in await burst())
    heavy = asyncio.create_task(timed_verify(api.session, url, huge, key))
    await asyncio.sleep(0.05)
    light = await burst()
    status, problem, took = await heavy
    assert status == 422, problem
    assert problem["type"] == "urn:microcred:problem:limit-exceeded"
    expected = "MAX_ARRAY_LENGTH" if instance == "verifier" else "CANON_MS"
    assert problem["limit"] == f"MICROCRED_VERIFIER_{expected}"
    assert took < 3, took
    assert all(code == 200 for code, _, _ in light), [b for c, b, _ in light if c != 200][:1]
    slowest = max(seconds for _, _, seconds in light)
    # The issue's bound is 1 s (before issue 7: 46 s); with the caps raised,
    # the event loop still parses and checks the 620 KB body (~0.1-0.3 s),
    # so 2 s there. A loaded machine stretches the burst alone too: then
    # twice its time alone.
    bound = max(1.0 if instance == "verifier" else 2.0, 2 * alone)
    assert slowest < bound, f"a valid verification waited {slowest:.2f} s (alone {alone:.2f} s)"


async def test_the_json_caps_hold_however_a_credential_comes(
    api: Api, issued: dict[str, Any]
) -> None:
    """As text, in the page's form and as a batch line (none a JSON body the
    body check reads), a credential over the array cap is refused before any
    canonicalisation, naming the limit."""
    award = (await credentials(api, issued))[0]
    over = orjson.dumps(with_results(award["credential"], 200))
    url = api.stack.url("verifier")
    sent = [
        ("text", {"data": over, "headers": {"Content-Type": "text/plain"}}),
        (
            "form",
            {"data": {"credential": over.decode()}, "headers": {"Accept": "application/json"}},
        ),
    ]
    for name, request in sent:
        async with api.session.post(f"{url}/credentials/verify", **request) as answer:
            problem = await answer.json(content_type=None)
            assert answer.status == 422, (name, problem)
            assert problem["limit"] == "MICROCRED_VERIFIER_MAX_ARRAY_LENGTH", (name, problem)
    headers = {"Content-Type": "application/x-ndjson"}
    async with api.session.post(
        f"{url}/credentials/verify/batch", data=over, headers=headers
    ) as answer:
        [line] = [orjson.loads(text) for text in (await answer.read()).splitlines()]
    assert "MAX_ARRAY_LENGTH" in line["error"]["detail"], line


def self_signed_with_entries(status_base: str, count: int) -> str:
    key = generate_ed25519()
    issuer = key.kid.partition("#")[0]
    entries = [
        {
            "id": f"{status_base}/{secrets.token_hex(8)}#{i}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(i),
            "statusListCredential": f"{status_base}/{secrets.token_hex(8)}",
        }
        for i in range(count)
    ]
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:someone"},
        "credentialStatus": entries,
    }
    return sign_vc_jwt(doc, key)


async def list_gets(api: Api) -> float:
    """How many status list GETs the revocation service has answered."""
    async with api.session.get(f"{api.stack.url('revocation')}/metrics") as answer:
        text = await answer.text()
    pattern = r'^http_requests_total\{[^}]*route="/status-lists/\{list_id\}"[^}]*\} (\S+)$'
    return sum(float(m) for m in re.findall(pattern, text, re.MULTILINE))


async def test_many_status_entries_are_refused_with_a_handful_of_fetches(
    api: Api, limited: ServiceProcess
) -> None:
    token = self_signed_with_entries(f"{api.stack.url('revocation')}/status-lists", 2000)
    before = await list_gets(api)
    status, problem, took = await timed_verify(api.session, api.stack.url("verifier"), token, {})
    assert (status, problem["limit"]) == (422, "MICROCRED_VERIFIER_MAX_STATUS_ENTRIES")
    assert took < 3
    assert await list_gets(api) == before  # refused before any fetch
    # Past the entry cap, the fetch budget (8 distinct documents) stops it.
    status, problem, took = await timed_verify(api.session, limited.url, token, BOARD)
    assert (status, problem["limit"]) == (422, "MICROCRED_VERIFIER_MAX_FETCHES"), problem
    assert took < 3
    fetched = await list_gets(api) - before
    assert fetched <= 8, f"{fetched} internal fetches"


async def test_a_client_that_goes_away_stops_its_verification(
    api: Api, limited: ServiceProcess, slow_origin: str
) -> None:
    """Status entries are checked one after the other; each list here takes
    3 s. The client leaves after 0.5 s: the list being fetched is finished
    (for whoever else wants it), the next ones are never asked for."""
    token = self_signed_with_entries(f"{slow_origin}/gone", 3)
    SlowLists.asked.clear()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.5):
            await timed_verify(api.session, limited.url, token, BOARD)
    await asyncio.sleep(8)  # without cancellation the 2nd list is asked for at 3 s
    assert len(SlowLists.asked) == 1, SlowLists.asked


# --- the revocation service's public reads ----------------------------------------


async def test_public_list_reads_never_starve_an_authenticated_revoke(
    api: Api, issued: dict[str, Any]
) -> None:
    award = (await credentials(api, issued))[-1]
    known = award["credential"]["credentialStatus"][0]["statusListCredential"]
    base = f"{api.stack.url('revocation')}/status-lists"
    did = award["credential"]["issuer"]["id"]
    statuses: list[int] = []
    stop = time.monotonic() + 4

    async def reader(n: int) -> None:
        async with aiohttp.ClientSession() as session:  # a connection pool each
            while time.monotonic() < stop:
                if n % 3 == 0:
                    url = known
                elif n % 3 == 1:
                    url = f"{base}/{secrets.token_hex(12)}"
                else:  # well-formed ids of a real issuer, far beyond its lists
                    url = (
                        f"{base}/{list_id_for(did, 'revocation', 1000 + secrets.randbelow(10**6))}"
                    )
                async with session.get(url) as answer:
                    await answer.read()
                    statuses.append(answer.status)

    readers = [asyncio.create_task(reader(n)) for n in range(300)]
    await asyncio.sleep(1.5)
    revoked, body = await api.set_status(award["credentialId"], key=secrets.token_hex(8))
    await asyncio.gather(*readers)
    assert revoked == 200, (body, api.stack.services["revocation"].log_tail(10))
    assert statuses, "no reads were answered"
    assert not [s for s in statuses if s >= 500], f"{len(statuses)} reads: 5xx among them"
    assert set(statuses) <= {200, 404}
    assert await api.reaches(award["jwt"], "revoked", within=10)


# --- connections and rates ----------------------------------------------------------


async def slow_client(port: int) -> tuple[float, float]:
    """A client sending a partial header, a line a second: (opened, closed) times."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened = time.monotonic()
    writer.write(b"POST /credentials/verify HTTP/1.1\r\nHost: verifier\r\n")
    try:
        while time.monotonic() - opened < 90:
            writer.write(b"X-Slow: a\r\n")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), 1.0) == b"":
                    break
            except TimeoutError:
                continue
    except OSError:
        pass
    writer.close()
    return opened, time.monotonic()


async def test_slow_clients_are_cut_off(limited: ServiceProcess) -> None:
    started = time.monotonic()
    spans = await asyncio.gather(*(slow_client(limited.port) for _ in range(500)))
    last = max(closed for _, closed in spans) - started
    assert last < 60, f"the last slow connection lasted until {last:.1f} s"
    lived = [closed - opened for opened, closed in spans]
    assert min(lived) >= 4.5, min(lived)  # by the 5 s timeout, not refused at once


async def test_connections_per_address_are_capped(limited: ServiceProcess) -> None:
    spans = await asyncio.gather(*(slow_client(limited.port) for _ in range(700)))
    at_once = [closed - opened for opened, closed in spans if closed - opened < 2]
    assert len(at_once) >= 100, f"{len(at_once)} of 700 closed at once (cap 600)"


async def test_rate_limits_answer_429_with_ratelimit_fields(
    api: Api, limited: ServiceProcess
) -> None:
    url = f"{limited.url}/credentials/verify"
    body = {"verifiableCredential": "not-a-credential"}
    answers = []
    for _ in range(7):
        async with api.session.post(url, json=body) as answer:
            answers.append((answer.status, dict(answer.headers), await answer.json()))
    codes = [status for status, _, _ in answers]
    assert codes[:5] == [400] * 5 and codes[5:] == [429, 429], codes
    _, headers, problem = answers[5]
    assert problem["type"] == "urn:microcred:problem:rate-limited"
    assert 1 <= int(headers["Retry-After"]) <= 12  # one token refills in 12 s
    assert headers["RateLimit-Policy"] == '"address";q=5;w=60'
    assert headers["RateLimit"].startswith('"address";r=0;t=')
    assert answers[0][1]["RateLimit"].startswith('"address";r=4;')
    # A job board's key has its own, larger quota; an unknown key is refused.
    async with api.session.post(url, json=body, headers=BOARD) as answer:
        assert answer.status == 400
        assert answer.headers["RateLimit-Policy"] == '"api-key";q=100000;w=60'
    async with api.session.post(url, json=body, headers={"X-API-Key": "nobody"}) as answer:
        assert answer.status == 401
    small = {"X-API-Key": "small-board"}
    statuses = []
    for _ in range(4):
        async with api.session.post(url, json=body, headers=small) as answer:
            statuses.append(answer.status)
    assert statuses == [400, 400, 400, 429]
    async with api.session.get(f"{limited.url}/readyz") as answer:  # probes are not limited
        assert answer.status == 200
    # A batch's items count one each: the streamed answer carries the fields
    # (and its request id), and the board's next request waits.
    batch = f"{limited.url}/credentials/verify/batch"
    lines = b'"x"\n' * 50
    jsonl = {**BOARD, "Content-Type": "application/x-ndjson"}
    async with api.session.post(batch, data=lines, headers=jsonl) as answer:
        assert answer.status == 200 and len((await answer.read()).splitlines()) == 50
        left = int(re.search(r";r=(\d+);", answer.headers["RateLimit"]).group(1))  # type: ignore[union-attr]
        # fifty tokens taken (the key refills 1,667 a second: a few back by now)
        assert left <= 100_000 - 40, answer.headers
        assert answer.headers["X-Request-Id"]


# --- every core ---------------------------------------------------------------------


def worker_pids(pid: int) -> list[int]:
    """The spawned worker processes among `pid`'s children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def any_alive(pids: list[int]) -> bool:
    return any(Path(f"/proc/{pid}").exists() for pid in pids)


async def test_workers_share_one_port(api: Api, stack: Stack, issued: dict[str, Any]) -> None:
    instance = stack.add_instance("verifier", "verifier-workers")
    instance.env.update({"MICROCRED_VERIFIER_WORKERS": "2"})
    instance.start()
    try:
        instance.wait_ready()
        assert instance.process is not None
        workers = worker_pids(instance.process.pid)
        assert len(workers) >= 2, workers
        award = (await credentials(api, issued))[0]
        verdicts = await asyncio.gather(
            *(api.verify(award["jwt"], "verifier-workers") for _ in range(40))
        )
        assert all(code == 200 for code, _ in verdicts)
    finally:
        instance.stop()

    async def workers_gone() -> bool:
        return not any_alive(workers)

    assert await until(workers_gone, within=5), "a worker outlived the verifier"
