"""The public status list endpoint: cacheable, and no unbounded on-demand signing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from shared.credentials.jwt import peek_vc_jwt
from shared.status_lists import list_id_for
from tests.e2e.client import Api, until
from tests.e2e.harness import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def fetch(api: Api, list_id: str, etag: str | None = None) -> aiohttp.ClientResponse:
    headers = {"If-None-Match": etag} if etag else {}
    async with api.session.get(
        f"{api.stack.url('revocation')}/status-lists/{list_id}", headers=headers
    ) as answer:
        await answer.read()
        return answer


async def test_lists_exist_only_up_to_the_one_after_the_last_used(api: Api) -> None:
    did = await api.create_issuer()
    first, second, far = (list_id_for(did, "revocation", n) for n in (0, 1, 5))

    async def first_exists() -> bool:  # opened once revocation has seen the issuer
        return (await fetch(api, first)).status == 200

    assert await until(first_exists, within=5)
    answer = await fetch(api, first)
    assert answer.status == 200 and answer.content_type == "application/vc+jwt"
    assert (await fetch(api, second)).status == 404  # no credential uses list 0 yet

    achievement = await api.achievement(did)
    await api.issue(achievement)  # lands in list 0: list 1 may exist once revocation saw it

    async def second_exists() -> bool:
        return (await fetch(api, second)).status == 200

    assert await until(second_exists, within=5)
    assert (await fetch(api, far)).status == 404
    assert (await fetch(api, list_id_for("did:example:stranger", "revocation", 0))).status == 404


async def test_a_list_is_signed_by_its_issuer_and_revalidates_by_etag(api: Api) -> None:
    did = await api.create_issuer()
    list_id = list_id_for(did, "suspension", 0)

    async def exists() -> bool:  # opened once revocation has seen the issuer
        return (await fetch(api, list_id)).status == 200

    assert await until(exists, within=5)
    async with api.session.get(f"{api.stack.url('revocation')}/status-lists/{list_id}") as answer:
        assert answer.status == 200
        etag = answer.headers["ETag"]
        assert "max-age=" in answer.headers["Cache-Control"]
        _, credential = peek_vc_jwt(await answer.text())
    assert credential["issuer"] == did
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["statusPurpose"] == "suspension"
    assert (await fetch(api, list_id, etag)).status == 304
