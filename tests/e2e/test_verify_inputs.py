"""Issue 10, the job boards' API: `POST /credentials/verify` on the verifier
process reads a credential in every form a CV or profile carries it (JSON
body, VC-JWT, baked PNG/SVG, multipart upload, URL), answers one `state`
and a `credential` summary, compares `options.recipient` with the salted
hash, says since when a credential is revoked, and refuses URLs that point
inside (loopback, private ranges, names resolving to them) without fetching.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from shared.credentials.baking import bake_png, bake_svg
from shared.credentials.crypto_keys import b64url_decode, b64url_encode, generate_ed25519
from shared.credentials.jwt import sign_vc_jwt
from tests.e2e.client import Api, Json, check, status_entries, until
from tests.e2e.harness import Stack
from tests.unit.credentials.test_baking import make_png
from tests.unit.credentials.vc_samples import ob3_credential

pytestmark = [pytest.mark.e2e]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect/></svg>'
EMAIL = "ada.lovelace@example.com"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def micro_credential(api: Api) -> str:
    """An accredited issuer's achievement with level, workload and a skill."""
    did = await api.accredited_issuer("Inputs Polytechnic")
    status, body = await api.call(
        "POST",
        f"{api.stack.url('catalog')}/achievements",
        json={
            "issuerDid": did,
            "name": "Applied Data Protection",
            "description": "Apply GDPR principles to data processing in an SME.",
            "criteria": {"narrative": "Pass the final assessment with at least 80%."},
            "masteryThreshold": 0.8,
            "alignment": [
                {
                    "targetName": "apply data protection",
                    "targetUrl": "http://data.europa.eu/esco/skill/example",
                    "targetFramework": "ESCO",
                }
            ],
            "microCredential": {
                "eqfLevel": 5,
                "workloadHours": 50,
                "ectsCredits": 2,
                "assessmentType": "Supervised online exam",
            },
        },
        headers=api.auth,
    )
    assert status == 201, body
    await api.issuer_knows(str(body["id"]))
    return str(body["id"])


async def post(api: Api, data: bytes | str, content_type: str) -> tuple[int, Any]:
    url = f"{api.stack.url('verifier')}/credentials/verify"
    async with api.session.post(url, data=data, headers={"Content-Type": content_type}) as answer:
        return answer.status, await answer.json(content_type=None)


async def post_form(api: Api, form: aiohttp.FormData) -> tuple[int, Any]:
    url = f"{api.stack.url('verifier')}/credentials/verify"
    async with api.session.post(url, data=form) as answer:
        return answer.status, await answer.json(content_type=None)


async def valid_now(api: Api, jwt: str) -> Json:
    """The report once the verifier's replica knows the accreditation."""

    async def report() -> Json | None:
        _, body = await api.verify(jwt)
        return body if body["state"] == "valid" else None

    found = await until(report, within=10)
    assert found, await api.verify(jwt)
    return found


async def test_every_form_reads_the_same_credential(api: Api) -> None:
    achievement = await micro_credential(api)
    awarded = await api.issue(achievement, recipient={"email": EMAIL}, score=92)
    jwt, credential = awarded["jwt"], awarded["credential"]
    report = await valid_now(api, jwt)
    summary = report["credential"]
    assert summary["achievement"]["name"] == "Applied Data Protection"
    assert summary["achievement"]["eqfLevel"] == 5
    assert (summary["achievement"]["workloadHours"], summary["achievement"]["ectsCredits"]) == (
        50,
        2,
    )
    assert summary["achievement"]["assessmentType"] == "Supervised online exam"
    assert summary["achievement"]["result"]["value"] is not None
    assert summary["achievement"]["masteryThreshold"]["requiredValue"] is not None
    assert summary["alignments"] == [
        {
            "name": "apply data protection",
            "targetUrl": "http://data.europa.eu/esco/skill/example",
            "framework": "ESCO",
            "type": None,
            "code": None,
        }
    ]
    assert summary["provider"]["name"] == "Inputs Polytechnic"
    assert summary["provider"]["id"] == credential["issuer"]["id"]
    assert summary["learner"]["identifierType"] == "hashedEmail"
    assert EMAIL not in str(report)  # nothing about the learner beyond what was sent
    assert summary["accreditation"]["level"] == "accredited"
    assert summary["dates"]["issued"] == credential["validFrom"]

    forms: list[tuple[bytes | str, str]] = [
        (jwt, "application/vc+jwt"),
        (jwt, "application/jwt"),
        (jwt + "\n", "text/plain"),
        (api_json(credential), "application/json"),
        (api_json(credential), "application/vc"),
        (bake_png(make_png(), jwt), "image/png"),
        (bake_png(make_png(), credential), "image/png"),
        (bake_svg(SVG, jwt), "image/svg+xml"),
        (bake_svg(SVG, credential), "image/svg+xml"),
    ]
    for data, content_type in forms:
        status, body = await post(api, data, content_type)
        assert (status, body.get("state")) == (200, "valid"), (content_type, body)
        assert body["credential"]["achievement"]["id"] == achievement

    form = aiohttp.FormData()
    form.add_field("file", bake_png(make_png(), jwt), content_type="image/png", filename="b.png")
    form.add_field("recipient", EMAIL.upper())
    status, body = await post_form(api, form)
    assert (status, body["state"], check(body, "recipient")["outcome"]) == (200, "valid", "ok")
    form = aiohttp.FormData()
    form.add_field("credential", jwt)
    status, body = await post_form(api, form)
    assert (status, body["state"]) == (200, "valid"), body


def api_json(credential: Json) -> str:
    return json.dumps(credential)


async def test_recipient_is_compared_with_the_salted_hash(api: Api) -> None:
    achievement = await micro_credential(api)
    jwt = (await api.issue(achievement, recipient={"email": EMAIL}))["jwt"]
    await valid_now(api, jwt)
    url = f"{api.stack.url('verifier')}/credentials/verify"
    for given, outcome, state in [
        (EMAIL, "ok", "valid"),
        ("  Ada.Lovelace@EXAMPLE.com ", "ok", "valid"),
        ("someone.else@example.com", "failed", "untrusted"),
    ]:
        body = {"verifiableCredential": jwt, "options": {"recipient": given}}
        status, report = await api.call("POST", url, json=body)
        assert status == 200, report  # verified: the recipient is advisory
        assert (check(report, "recipient")["outcome"], report["state"]) == (outcome, state)
    # Without options.recipient there is no recipient check at all.
    _, report = await api.verify(jwt)
    assert all(r["check"] != "recipient" for r in report["results"])


async def test_states_revoked_with_date_suspended_tampered_unchecked(api: Api) -> None:
    achievement = await micro_credential(api)
    awarded = await api.issue(achievement)
    suspended = await api.issue(achievement)
    await valid_now(api, awarded["jwt"])
    before = time.time()
    status, body = await api.set_status(awarded["credentialId"])
    assert status == 200, body

    async def state_of(jwt: str, state: str) -> Json | None:
        _, report = await api.verify(jwt)
        return report if report["state"] == state else None

    revoked = await until(lambda: state_of(awarded["jwt"], "revoked"), within=5)
    assert revoked, await api.verify(awarded["jwt"])

    async def dated() -> Json | None:
        _, report = await api.verify(awarded["jwt"])
        return report if report["stateDetails"].get("since") else None

    revoked = await until(dated, within=5)
    assert revoked, "the revocation date never showed"
    details = revoked["stateDetails"]
    since = details["since"]
    assert details["reason"] is None and details["check"] == "status"
    moment = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
    assert before - 2 <= moment <= time.time() + 1, since
    assert revoked["verdict"] == "invalid"  # compatibility: the verdict is kept

    status, body = await api.set_status(suspended["credentialId"], purpose="suspension")
    assert status == 200, body

    async def suspended_since() -> Json | None:  # its date comes from status.changes
        found = await state_of(suspended["jwt"], "suspended")
        return found if found and found["stateDetails"]["since"] else None

    found = await until(suspended_since, within=5)
    assert found, await api.verify(suspended["jwt"])

    header, payload, signature = awarded["jwt"].split(".")
    claims = json.loads(b64url_decode(payload))
    claims["name"] = "Doctor of Medicine"
    forged = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    _, report = await api.verify(forged)
    assert (report["state"], report["credential"]) == ("tampered", None), report
    _, report = await api.verify("eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln")
    assert report["state"] == "malformed", report
    changed = {**awarded["credential"], "name": "Doctor of Medicine"}
    _, report = await api.verify(changed)
    assert (report["state"], report["credential"]) == ("tampered", None), report

    # An issuer whose DID document cannot be read (did:web on a name that
    # resolves to loopback: refused by the guard) cannot be checked.
    key = generate_ed25519(kid="did:web:localhost#key-1")
    token = sign_vc_jwt(ob3_credential("did:web:localhost"), key)
    _, report = await api.verify(token)
    assert report["state"] == "unchecked", report
    assert report["stateDetails"]["advice"]


async def test_unreadable_bodies_are_4xx_problems(api: Api) -> None:
    cases: list[tuple[bytes | str, str, int]] = [
        (b"\x00\x01", "application/octet-stream", 415),
        ("hello", "text/html", 415),
        ("not a credential", "text/plain", 422),
        (make_png(), "image/png", 422),
        (SVG, "image/svg+xml", 422),
        ('{"name": "no context"}', "application/json", 422),
        ("{broken", "application/json", 422),
        ("[1]", "application/json", 422),
        ('{"verifiableCredential": 5}', "application/json", 422),
        ('{"url": 5}', "application/json", 422),
    ]
    for data, content_type, expected in cases:
        status, body = await post(api, data, content_type)
        assert status == expected, (content_type, data, body)
        assert body["status"] == expected and body["detail"], body


class Listener:
    """A loopback TCP listener that counts connections: proof that a refused
    URL was never fetched."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def test_urls_pointing_inside_are_refused_without_a_fetch(api: Api) -> None:
    # The verifier fetches status lists from the revocation service's origin
    # (trusted for that); a caller's URL there must be refused all the same.
    awarded = await api.issue(await micro_credential(api))
    revocation_list, _ = status_entries(awarded["credential"])["revocation"]
    async with api.session.get(revocation_list) as answer:
        assert answer.status == 200  # it is there to be fetched
    listener = Listener()
    port = await listener.start()
    try:
        urls = [
            f"https://127.0.0.1:{port}/vc.json",
            f"http://127.0.0.1:{port}/vc.json",
            f"https://localhost:{port}/vc.json",
            f"https://vm:{port}/vc.json",  # /etc/hosts names for loopback
            f"https://[::ffff:127.0.0.1]:{port}/vc.json",
            f"https://2130706433:{port}/vc.json",  # 127.0.0.1 as one number
            f"https://127.1:{port}/vc.json",
            "https://[::1]/vc.json",
            "https://10.0.0.1/vc.json",
            "https://172.16.0.1/vc.json",
            "https://192.168.1.1/vc.json",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fc00::1]/vc.json",
            "https://[fd12:3456::1]/vc.json",
            "https://0.0.0.0/vc.json",
            "ftp://example.org/vc.json",
            revocation_list,
        ]
        for url in urls:
            for data, content_type in [
                (url, "text/plain"),
                (api_json({"url": url}), "application/json"),
            ]:
                status, body = await post(api, data, content_type)
                assert status == 422, (url, body)
                assert body["type"] == "urn:microcred:problem:url-not-fetched", body
        assert listener.connections == 0
    finally:
        await listener.stop()
