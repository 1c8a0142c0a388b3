"""Registrar routes: search and export issued credentials, the expiry report."""

from __future__ import annotations

import csv
import io

import orjson
from aiohttp import web

from services.issuer.app_keys import REGISTRY_INDEX
from services.issuer.registry import CSV_COLUMNS, SearchIn
from shared.errors import InvalidField
from shared.web.auth import require_tenant
from shared.web.body import decode_body, json_response

registry_routes = web.RouteTableDef()
MAX_DAYS = 3660


@registry_routes.post("/registry/search")
async def search(request: web.Request) -> web.Response:
    """A page of the tenant's credentials matching the query (a POST: learner
    emails and student numbers stay out of URLs and access logs)."""
    tenant = require_tenant(request)
    query = await decode_body(request, SearchIn)
    page = await request.app[REGISTRY_INDEX].search(tenant, query)
    return json_response({"items": page.items, "nextCursor": page.next_cursor})


@registry_routes.post("/registry/export")
async def export(request: web.Request) -> web.StreamResponse:
    """Every match, streamed as CSV or JSON Lines (`format`)."""
    tenant = require_tenant(request)
    query = await decode_body(request, SearchIn)
    matches = request.app[REGISTRY_INDEX].export(tenant, query)
    first = await anext(matches, None)  # a bad query is a 422 before anything is sent
    csv_wanted = query.format == "csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8" if csv_wanted else "application/jsonl",
            "Content-Disposition": f'attachment; filename="credentials.{query.format}"',
        }
    )
    await response.prepare(request)
    if csv_wanted:
        await response.write(_csv_row(CSV_COLUMNS))
    entry = first
    while entry is not None:
        if csv_wanted:
            await response.write(_csv_row(tuple(entry.get(c) for c in CSV_COLUMNS)))
        else:
            await response.write(orjson.dumps(entry) + b"\n")
        entry = await anext(matches, None)
    await response.write_eof()
    return response


def _csv_row(values: tuple[object, ...]) -> bytes:
    buffer = io.StringIO()
    # Formula injection: a cell starting with = + - @ is quoted as text.
    cells = ["" if v is None else str(v) for v in values]
    cells = ["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in cells]
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue().encode()


@registry_routes.get("/reports/expiring")
async def expiring(request: web.Request) -> web.Response:
    """Credentials expiring in the next `days` days, per achievement."""
    tenant = require_tenant(request)
    raw = request.query.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise InvalidField("$.days", f"days must be a whole number from 1 to {MAX_DAYS}")
    return json_response(await request.app[REGISTRY_INDEX].expiring(tenant, int(raw)))
