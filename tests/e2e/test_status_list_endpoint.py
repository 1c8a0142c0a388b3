"""The public status list endpoint: cacheable, in both forms (JSON-LD with a
Data Integrity proof, or the VC-JWT), and no unbounded on-demand signing."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import aiohttp
import pytest
from openbadgeslib.ob3.did import resolve_did
from openbadgeslib.ob3.ldp import verify_data_integrity_proof
from openbadgeslib.ob3.verifier import OB3VerificationError

from shared.credentials.data_integrity import verify_data_integrity
from shared.credentials.dids import DidResolver
from shared.credentials.errors import CredentialError
from shared.credentials.jwt import peek_vc_jwt
from shared.status_lists import list_id_for
from tests.e2e.client import Api, until
from tests.e2e.harness import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


JWT_ONLY = {"Accept": "application/vc+jwt"}


async def fetch(api: Api, list_id: str, etag: str | None = None) -> aiohttp.ClientResponse:
    headers = {**JWT_ONLY, **({"If-None-Match": etag} if etag else {})}
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
    async with api.session.get(
        f"{api.stack.url('revocation')}/status-lists/{list_id}", headers=JWT_ONLY
    ) as answer:
        assert answer.status == 200
        assert "max-age=" in answer.headers["Cache-Control"]
        _, credential = peek_vc_jwt(await answer.text())
    assert credential["issuer"] == did
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["statusPurpose"] == "suspension"

    async def revalidates() -> bool:  # a fresh list may get its first re-signed snapshot
        etag = (await fetch(api, list_id)).headers["ETag"]
        return (await fetch(api, list_id, etag)).status == 304

    assert await until(revalidates, within=5)


async def test_json_ld_by_default_and_the_jwt_on_request(api: Api) -> None:
    """Both forms of the same snapshot, each with its own ETag; the JSON-LD
    one carries an eddsa-rdfc-2022 proof by the list's issuer."""
    did = await api.create_issuer()
    list_id = list_id_for(did, "revocation", 0)
    url = f"{api.stack.url('revocation')}/status-lists/{list_id}"

    async def exists() -> bool:
        return (await fetch(api, list_id)).status == 200

    assert await until(exists, within=5)
    async with api.session.get(url) as answer:
        assert answer.status == 200 and answer.content_type == "application/vc+ld+json"
        assert answer.headers["Vary"] == "Accept"
        ld_etag = answer.headers["ETag"]
        listed = await answer.json(content_type=None)
    jwt_answer = await fetch(api, list_id)
    assert jwt_answer.content_type == "application/vc+jwt"
    assert jwt_answer.headers["ETag"] != ld_etag
    assert listed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert listed["proof"]["verificationMethod"].startswith(did)
    proofs = await verify_data_integrity(listed, DidResolver())
    assert proofs.verification_method.startswith(did)
    # the independent openbadgeslib verifies it too (it raises when it does not)
    verify_data_integrity_proof(copy.deepcopy(listed), resolve_did(did))

    async def revalidates() -> bool:  # a fresh list may get its first re-signed snapshot
        async with api.session.get(url) as answer:
            etag = answer.headers["ETag"]
        async with api.session.get(url, headers={"If-None-Match": etag}) as answer:
            return answer.status == 304 and not etag.endswith('-jwt"')

    assert await until(revalidates, within=5)
    forged = copy.deepcopy(listed)
    forged["credentialSubject"]["statusPurpose"] = "suspension"
    with pytest.raises(CredentialError):
        await verify_data_integrity(forged, DidResolver())
    with pytest.raises(OB3VerificationError):
        verify_data_integrity_proof(forged, resolve_did(did))
