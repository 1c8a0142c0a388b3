"""The SSRF guard: caller-given URLs never reach inside the network."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shared.web.safe_fetch import FetchError, FetchPolicy, SafeFetcher, _is_public, url_parts


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/status/1",  # plain http
        "https://127.0.0.1/status",  # loopback
        "https://localhost/status",
        "https://10.0.0.8/x",  # private range
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[::1]/x",
        "https://user:secret@example.org/x",  # credentials in the URL
        "file:///etc/passwd",
        "gopher://example.org/",
        "https://[::1",  # unreadable: an unclosed bracket, a port out of range or no number
        "https://example.org:99999/",
        "https://example.org:abc/",
        "https://example.org:0/",
        "https://exa mple.org/",
        "https://xn--/",
    ],
)
async def test_inside_addresses_and_odd_schemes_are_refused(url: str) -> None:
    with pytest.raises(FetchError):
        await SafeFetcher().fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://microcred-revocation:8080/x",  # a container's short name
        "https://web01/x",
        "https://my_host.example.com/x",
        "https://example.com./x",
        "https://bücher.example/x",
        "https://[2606:2800::1]:8443/x",
    ],
)
def test_real_host_names_name_a_server(url: str) -> None:
    parts, _ = url_parts(url)
    assert parts.hostname


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::ffff:0:7f00:1", False),  # IPv4-translated
        ("64:ff9b::7f00:1", False),  # NAT64 to 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 to the cloud metadata address
        ("64:ff9b::5db8:d70e", True),  # NAT64 to a public address
        ("64:ff9b:1::1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("fec0::1", False),  # site-local
        ("::", False),
    ],
)
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address: str, public: bool) -> None:
    assert _is_public(address) is public


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    hits = {"count": 0}

    async def status_list(request: web.Request) -> web.Response:
        hits["count"] += 1
        return web.json_response({"hits": hits["count"]}, headers={"Cache-Control": "max-age=60"})

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/")

    app = web.Application()
    app.router.add_get("/list", status_list)
    app.router.add_get("/big", big)
    app.router.add_get("/moved", moved)
    async with TestServer(app, host="127.0.0.1") as running:
        yield running


def trusting(server: TestServer, **limits: float) -> SafeFetcher:
    origin = f"http://127.0.0.1:{server.port}"
    return SafeFetcher(FetchPolicy(trusted_origins=frozenset({origin}), **limits))  # type: ignore[arg-type]


async def test_a_trusted_origin_is_fetched_and_cached(server: TestServer) -> None:
    fetcher = trusting(server)
    url = f"http://127.0.0.1:{server.port}/list"
    assert await fetcher.fetch_json(url) == {"hits": 1}
    assert await fetcher.fetch_json(url) == {"hits": 1}  # max-age=60: from the cache


async def test_the_same_host_on_another_port_is_not_trusted(server: TestServer) -> None:
    fetcher = trusting(server)
    with pytest.raises(FetchError):
        await fetcher.fetch(f"http://127.0.0.1:{server.port + 1}/list")


async def test_oversize_answers_are_cut_off(server: TestServer) -> None:
    fetcher = trusting(server, max_bytes=1000)
    with pytest.raises(FetchError, match="size limit"):
        await fetcher.fetch(f"http://127.0.0.1:{server.port}/big")


async def test_redirects_are_not_followed(server: TestServer) -> None:
    with pytest.raises(FetchError, match="HTTP 302"):
        await trusting(server).fetch(f"http://127.0.0.1:{server.port}/moved")
