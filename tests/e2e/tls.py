"""A made-up domain served over real TLS on loopback: a `trustme` test CA,
an aiohttp HTTPS server with fixed JSON resources, and a `SafeFetcher` that
trusts only that CA and reaches the domain on loopback (what a real domain
gives a deployed verifier). The fetcher keeps every other rule of the SSRF
guard: https only, no redirects, size caps."""

from __future__ import annotations

import ssl
from typing import Any

import trustme
from aiohttp import web

from shared.web.safe_fetch import FetchPolicy, SafeFetcher


async def hosted(domain: str, resources: dict[str, Any]) -> tuple[web.AppRunner, SafeFetcher]:
    """Each `resources` item (path -> JSON) at `https://<domain><path>`."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(domain).configure_cert(server_context)

    async def serve(request: web.Request) -> web.Response:
        return web.json_response(resources[request.path])

    app = web.Application()
    for path in resources:
        app.router.add_get(path, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    policy = FetchPolicy(ssl_context=client_context, connect_to={domain: ("127.0.0.1", port)})
    return runner, SafeFetcher(policy)
