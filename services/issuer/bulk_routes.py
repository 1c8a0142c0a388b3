"""Bulk award jobs over HTTP: upload, progress, per-row results, cancel."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.issuer.app_keys import BULK_JOBS
from services.issuer.bulk_store import BulkJob
from services.issuer.domain.bulk_rows import (
    FORMATS,
    Format,
    result_csv_line,
    results_csv_header,
)
from shared.web.auth import require_tenant
from shared.web.body import idempotency_key, json_response
from shared.web.problems import Problem

bulk_routes = web.RouteTableDef()

RESULTS_PAGE = 1_000
RESULT_TYPES = {"csv": "text/csv", "jsonl": "application/jsonl"}


def _upload_format(request: web.Request) -> Format:
    mime = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    form = FORMATS.get(mime)
    if form is None:
        raise Problem(
            415,
            "Send the file as text/csv or application/jsonl (JSON Lines).",
            headers={"Accept-Post": ", ".join(FORMATS)},
        )
    return form


async def job_view(request: web.Request, job: BulkJob) -> dict[str, Any]:
    counts = await request.app[BULK_JOBS].store.counts(job.id)
    refused = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("refused:")}
    return {
        "id": job.id,
        "state": job.state,
        # the job stops after the rows in flight, then reads `cancelled`
        "cancelRequested": job.cancel_requested,
        "format": job.format,
        "rows": job.rows,
        "progress": {
            "read": counts.get("read", 0),
            "issued": counts.get("issued", 0),
            "refused": refused,
            "failed": counts.get("failed", 0),
        },
        "createdAt": job.created_at,
        "results": f"/bulk-jobs/{job.id}/results",
    }


@bulk_routes.post("/bulk-jobs")
async def create_bulk_job(request: web.Request) -> web.Response:
    """Stream the uploaded file onto Kafka and queue its job (bulk.py)."""
    tenant = require_tenant(request)
    form = _upload_format(request)
    key = idempotency_key(request)
    chunks = request.content.iter_chunked(64 * 1024)
    job, created = await request.app[BULK_JOBS].create(tenant, form, chunks, key)
    headers = {"Location": f"/bulk-jobs/{job.id}"}
    return json_response(
        await job_view(request, job), status=201 if created else 200, headers=headers
    )


@bulk_routes.get("/bulk-jobs/{job_id}")
async def get_bulk_job(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    job = await request.app[BULK_JOBS].own(tenant, request.match_info["job_id"])
    return json_response(await job_view(request, job), headers={"Cache-Control": "no-store"})


@bulk_routes.post("/bulk-jobs/{job_id}/cancel")
async def cancel_bulk_job(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    job = await request.app[BULK_JOBS].cancel(tenant, request.match_info["job_id"])
    return json_response(await job_view(request, job))


def _results_format(request: web.Request) -> str:
    asked = request.query.get("format")
    if asked is None:
        asked = "csv" if "text/csv" in request.headers.get("Accept", "") else "jsonl"
    if asked not in RESULT_TYPES:
        raise Problem(400, "format must be csv or jsonl")
    return asked


@bulk_routes.get("/bulk-jobs/{job_id}/results")
async def get_bulk_results(request: web.Request) -> web.StreamResponse:
    """The per-row results recorded so far, in row order, streamed page by page."""
    tenant = require_tenant(request)
    jobs = request.app[BULK_JOBS]
    job = await jobs.own(tenant, request.match_info["job_id"])
    form = _results_format(request)
    answer = web.StreamResponse(
        headers={
            "Content-Type": RESULT_TYPES[form],
            "Content-Disposition": f'attachment; filename="{job.id}-results.{form}"',
            "Cache-Control": "no-store",
        }
    )
    await answer.prepare(request)
    if request.method == "HEAD":  # the headers only (RFC 9110 §9.3.2)
        await answer.write_eof()
        return answer
    if form == "csv":
        await answer.write(results_csv_header().encode())
    for first in range(1, job.rows + 1, RESULTS_PAGE):
        last = min(first + RESULTS_PAGE - 1, job.rows)
        page = await jobs.store.results(job.id, first, last)
        if form == "csv":
            await answer.write("".join(result_csv_line(r) for r in page).encode())
        else:
            await answer.write(b"".join(r + b"\n" for r in page))
    await answer.write_eof()
    return answer
