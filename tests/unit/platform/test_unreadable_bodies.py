"""A body the client got wrong below JSON (a Content-Encoding that does not
decode, a multipart part whose headers do not parse) is a 400 problem, never
a 500."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from shared.web.body import json_response, read_json
from shared.web.problems import PROBLEM_JSON, problem_middleware

BAD_PART = (
    b'--XyZ\r\nContent-Disposition: form-data; name="credential"; filename="a\0b"\r\n\r\n'
    b"x\r\n--XyZ--\r\n"
)


async def json_echo(request: web.Request) -> web.Response:
    return json_response(await read_json(request))


async def form_echo(request: web.Request) -> web.Response:
    return json_response(sorted((await request.post()).keys()))


async def answer(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, dict]:
    app = web.Application(middlewares=[problem_middleware])
    app.router.add_post("/json", json_echo)
    app.router.add_post("/form", form_echo)
    async with TestClient(TestServer(app)) as client:
        response = await client.post(path, data=body, headers=headers)
        return response.status, response.content_type, await response.json(content_type=None)


async def test_a_body_that_is_not_the_gzip_it_says_is_a_400() -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    status, content_type, problem = await answer("/json", b"notgzip", headers)
    assert (status, content_type) == (400, PROBLEM_JSON), problem
    assert "cannot be read" in problem["detail"] and "gzip" in problem["detail"]


async def test_a_form_part_with_a_control_character_in_its_headers_is_a_400() -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=XyZ"}
    status, content_type, problem = await answer("/form", BAD_PART, headers)
    assert (status, content_type) == (400, PROBLEM_JSON), problem
    assert "cannot be read" in problem["detail"]
