"""External trust lists (issue 8): the issuer service publishes the
operator's registry as a trust list signed by the operator's DID (ETag,
cacheable), also while the catalog is down; a verifier started with
`MICROCRED_TRUST_LISTS` (here: files) vouches for issuers it does not know
and names the list: a signed microcred list's accreditation counts, a DCC
registry entry is `registered`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from services.issuer.trust_list import trust_list
from services.verifier.trust_lists import Source, parse_list
from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.dids import DidResolver
from shared.credentials.jws import sign_jws
from shared.credentials.jwt import sign_vc_jwt
from shared.events import AccreditationScope, ProviderAccreditation, ProviderPublished
from tests.e2e.client import Api, check, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

ACCREDITED, LISTED = generate_ed25519(), generate_ed25519()
LIST_KEY = generate_ed25519()


def did_of(key: SigningKey) -> str:
    return key.kid.split("#", 1)[0]


@pytest.fixture(scope="module")
def listing_verifier(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("lists")
    other = ProviderPublished(
        tenant="elsewhere",
        provider_id="https://catalog.other.example/providers/1",
        revision=1,
        legal_name="Elsewhere Institute",
        country="FR",
        provider_type="university",
        issuer_dids=[did_of(ACCREDITED)],
        accreditations=[
            ProviderAccreditation(
                accreditation_id="HCERES-1",
                quality_assurance_body="HCERES",
                scope=AccreditationScope(),
                valid_from="2020-01-01T00:00:00Z",
                recorded_by="ministere",
            )
        ],
    )
    payload = trust_list(
        [other],
        publisher="https://catalog.other.example/trust-list",
        operator="Other Ministry",
        signer=did_of(LIST_KEY),
    )
    (folder / "other.jwt").write_text(sign_jws(payload, LIST_KEY, "JWT"))
    dcc = {
        "meta": {"created": "2020-12-02T02:32:16+0000"},
        "registry": {
            did_of(LISTED): {
                "name": "Listed Academy",
                "location": "Cambridge",
                "url": "https://l.example",
            }
        },
    }
    (folder / "registry.json").write_bytes(orjson.dumps(dcc))
    instance = stack.add_instance("verifier", "verifier-lists")
    instance.env["MICROCRED_TRUST_LISTS"] = (
        f"{folder / 'other.jwt'}|{did_of(LIST_KEY)},{folder / 'registry.json'}"
    )
    stack.start("verifier-lists")
    try:
        yield stack
    finally:
        stack.stop("verifier-lists")


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def test_the_registry_is_published_as_a_trust_list_signed_by_the_operator(
    api: Api,
) -> None:
    did = await api.accredited_issuer("Trust List College")

    # The operator's DID, as it signs the accreditation in the issuer profile;
    # the accreditation reaches the issuer's replica over Kafka.
    async def endorsed_profile() -> Any:
        status, profile = await api.call(
            "GET", f"{api.stack.url('issuer')}/issuers/{quote(did, safe=':')}"
        )
        return profile if status == 200 and profile.get("endorsement") else None

    profile = await until(endorsed_profile, within=10)
    assert profile, "the issuer profile never showed the operator's accreditation"
    operator_did = profile["endorsement"][0]["issuer"]["id"]

    url = f"{api.stack.url('issuer')}/trust-list"
    async with api.session.get(url) as answer:
        assert answer.status == 200 and answer.content_type == "application/jwt"
        token, etag = await answer.text(), answer.headers["ETag"]
        assert "max-age" in answer.headers["Cache-Control"]
    async with api.session.get(url, headers={"If-None-Match": etag}) as answer:
        assert answer.status == 304
    # Pinned to the operator's DID: anyone else's signature would be refused.
    entries = await parse_list(token.encode(), Source(url, operator_did), DidResolver())
    listed = entries[did]
    assert listed.provider is not None and listed.provider.accreditations[0].status == "active"
    status, payload = await api.call("GET", f"{url}.json")
    assert status == 200 and payload["type"] == "MicrocredTrustList", payload
    assert payload["iss"] == operator_did and payload["id"] == url
    assert any(did in p["issuerDids"] for p in payload["providers"])
    # The catalog holds no key and serves no list.
    status, _ = await api.call("GET", f"{api.stack.url('catalog')}/trust-list")
    assert status == 404

    # Served while the catalog is down, from the issuer's replica of the registry.
    api.stack.stop("catalog")
    try:
        async with api.session.get(url) as answer:
            assert answer.status == 200 and await answer.text() == token
            assert answer.headers["ETag"] == etag
    finally:
        api.stack.start("catalog")


def external(issued: dict[str, Any], key: SigningKey, name: str) -> str:
    """A credential of an issuer from elsewhere (not registered here)."""
    credential = {
        k: v for k, v in issued["credential"].items() if k not in ("proof", "credentialStatus")
    }
    credential["issuer"] = {**credential["issuer"], "id": did_of(key), "name": name}
    subject = credential["credentialSubject"]
    achievement = {**subject["achievement"], "id": f"https://{name.split()[0].lower()}.example/a/1"}
    credential["credentialSubject"] = {**subject, "achievement": achievement}
    return sign_vc_jwt(credential, key)


async def test_other_lists_vouch_for_issuers_we_do_not_know(
    api: Api, listing_verifier: Stack
) -> None:
    issued = await api.issue(await api.achievement(await api.create_issuer("Template College")))
    accredited = external(issued, ACCREDITED, "Elsewhere Institute")
    listed = external(issued, LISTED, "Listed Academy")
    stranger = external(issued, generate_ed25519(), "Stranger School")

    _, report = await api.verify(accredited, verifier="verifier-lists")
    trust = check(report, "trust")
    assert (trust["code"], report["verdict"]) == ("accredited", "valid"), report
    assert trust["details"]["trustList"]["name"] == "Other Ministry"
    assert trust["details"]["accreditation"]["qualityAssuranceBody"]["name"] == "HCERES"

    # Listed elsewhere, but under the name of one of our issuers: still flagged
    # (once that verifier learnt our new issuer's name: issuer.profiles, Kafka).
    copycat = external(issued, ACCREDITED, "Template College")

    async def flagged() -> Any:
        _, report = await api.verify(copycat, verifier="verifier-lists")
        return report if check(report, "impersonation")["outcome"] == "failed" else None

    report = await until(flagged, within=5)
    assert report, await api.verify(copycat, verifier="verifier-lists")
    assert check(report, "trust")["code"] == "accredited"
    assert report["verdict"] == "untrusted"

    _, report = await api.verify(listed, verifier="verifier-lists")
    trust = check(report, "trust")
    assert (trust["code"], report["verdict"]) == ("registered", "untrusted"), report
    assert trust["details"]["trustList"]["kind"] == "dcc"

    _, report = await api.verify(stranger, verifier="verifier-lists")
    assert check(report, "trust")["code"] == "unknown"
    # The default verifier has no lists configured: the same issuer is unknown there.
    _, report = await api.verify(accredited)
    assert check(report, "trust")["code"] == "unknown"
