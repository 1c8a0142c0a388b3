"""The verification page (issue 10): forms in, HTML or JSON out, both languages.

A real verifier (an empty replica: did:key issuers verify offline, and are
`untrusted` since no operator accredited them) behind the page routes."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from services.verifier.app_keys import INTAKE, VERIFIER
from services.verifier.intake import Intake
from services.verifier.page_i18n import LANGUAGES, catalogue
from services.verifier.page_render import CONTENT_SECURITY_POLICY, PageRenderer
from services.verifier.page_view import UNTRUSTED_BY, result_view
from services.verifier.pages import PAGES, page_routes, share_page
from services.verifier.replica import Replica
from services.verifier.shares import SharedCredential, ShareNotFound, ShareUnpublished
from services.verifier.verification import Verifier
from shared.credentials.baking import bake_png, bake_svg
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.dids import did_key_for
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.recipients import hash_identity
from shared.sharing.facts import facts_of
from shared.web.metrics import OUTCOMES, Outcomes
from shared.web.negotiation import negotiate_language, prefers_json
from shared.web.problems import problem_middleware
from shared.web.safe_fetch import FetchPolicy, SafeFetcher
from tests.unit.credentials.test_baking import make_png
from tests.unit.credentials.vc_samples import iso, ob3_credential

Client = TestClient[web.Request, web.Application]
NOW = datetime.now(UTC)


class Issuer:
    def __init__(self) -> None:
        self.key = generate_ed25519()
        self.did = did_key_for(self.key.public_key)

    def credential(self, **kwargs: Any) -> dict[str, Any]:
        credential = ob3_credential(self.did, valid_from=NOW - timedelta(days=1), **kwargs)
        achievement = credential["credentialSubject"]["achievement"]
        achievement["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": "analyse data",
                "targetUrl": "http://data.europa.eu/esco/skill/abc",
                "targetFramework": "ESCO",
            }
        ]
        return credential

    def jwt(self, **kwargs: Any) -> str:
        return sign_vc_jwt(self.credential(**kwargs), self.key)


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app = web.Application(middlewares=[problem_middleware])
    app[VERIFIER] = Verifier(Replica(), SafeFetcher(FetchPolicy()))
    app[INTAKE] = Intake(SafeFetcher(FetchPolicy()))
    app[PAGES] = PageRenderer()
    app[OUTCOMES] = Outcomes.create(CollectorRegistry())
    app.add_routes(page_routes)
    app.router.add_post("/test-share", _share)
    app.router.add_get("/test-gone/{status}", _gone)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _share(request: web.Request) -> web.StreamResponse:
    """A share page for what the test posts (the share store's lookup stands in)."""
    body = await request.json()
    report = await request.app[VERIFIER].verify(body["jwt"])
    url = "https://verify.example/s/abc"
    shared = SharedCredential(
        share_id="abc",
        share_url=url,
        credential_jwt=body["jwt"],
        facts=facts_of(body["jwt"]),
        report=report,
        badge_url=f"{url}/badge.png",
        linkedin_url="https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=x",
        certificate_url=f"{url}/certificate.pdf",
    )
    return await share_page(request, shared)


async def _gone(request: web.Request) -> web.StreamResponse:
    status = request.match_info["status"]
    error = ShareNotFound("no such share link") if status == "404" else ShareUnpublished("gone")
    return await share_page(request, error)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


async def post(
    client: Client, lang: str = "en", headers: dict[str, str] | None = None, **fields: Any
) -> tuple[int, str]:
    form = aiohttp.FormData()
    for name, value in fields.items():
        if isinstance(value, tuple):
            form.add_field(name, value[1], filename=value[0])
        else:
            form.add_field(name, value, content_type="text/plain")  # multipart, as the page
    answer = await client.post(f"/?lang={lang}", data=form, headers=headers)
    return answer.status, await answer.text()


def verdict_state(html: str) -> str:
    found = re.search(r'id="verdict" data-state="([a-z_]+)"', html)
    assert found, html
    return found.group(1)


async def test_the_form_is_html_with_a_strict_policy(client: Client) -> None:
    answer = await client.get("/", headers={"Accept-Language": "de, fr;q=0.8, en;q=0.5"})
    html = await answer.text()
    assert answer.status == 200 and answer.content_type == "text/html"
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert '<html lang="fr">' in html and "Vérifier une micro-certification" in html
    assert 'href="/?lang=en"' in html  # the visible switch
    for field in ("credential", "file", "url", "recipient"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html


async def test_a_pasted_jwt_and_its_json_read_the_same(client: Client, issuer: Issuer) -> None:
    status, html = await post(client, credential=issuer.jwt())
    assert status == 200
    assert verdict_state(html) == "untrusted"  # genuine, but nobody accredited a did:key
    assert "Data Analysis Basics" in html and "Example University" in html
    assert 'href="http://data.europa.eu/esco/skill/abc"' in html and "ESCO" in html
    status, html = await post(client, credential=json.dumps(issuer.credential()))
    assert status == 200 and verdict_state(html) == "malformed"  # no proof: not a credential


async def test_baked_png_and_svg_uploads(client: Client, issuer: Issuer) -> None:
    token = issuer.jwt()
    png = bake_png(make_png(), token)
    svg = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', token)
    for name, data in (("badge.png", png), ("badge.svg", svg), ("c.jwt", token.encode())):
        status, html = await post(client, file=(name, data))
        assert status == 200 and verdict_state(html) == "untrusted", name


async def test_tampered_expired_and_future_credentials(client: Client, issuer: Issuer) -> None:
    head, _payload, signature = issuer.jwt().split(".")
    other = issuer.jwt(name="Brain Surgery").split(".")[1]
    _, html = await post(client, credential=f"{head}.{other}.{signature}")
    assert verdict_state(html) == "tampered"
    expired = issuer.jwt(valid_until=NOW - timedelta(hours=1))
    assert verdict_state((await post(client, credential=expired))[1]) == "expired"
    future = sign_vc_jwt(
        {**issuer.credential(), "validFrom": iso(NOW + timedelta(days=3))}, issuer.key
    )
    assert verdict_state((await post(client, credential=future))[1]) == "not_yet_valid"
    malformed = "eyJhbGciOiJub25lIn0.eyJ9.c2ln"  # shaped like a JWT, unreadable
    assert verdict_state((await post(client, credential=malformed))[1]) == "malformed"


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"credential": "  "}, "Rien n'a été envoyé"),
        ({"credential": "not a credential"}, "Ce n'est pas une attestation"),
        ({"file": ("x.png", b"\x89PNG junk")}, "Ce n'est pas une attestation"),
    ],
)
async def test_unreadable_input_answers_the_form_again(
    client: Client, fields: dict[str, Any], sentence: str
) -> None:
    """In the page's language: why, then the technical detail."""
    status, html = await post(client, **fields)
    assert status == 422 and 'role="alert"' in html and 'id="credential"' in html
    status, html = await post(client, lang="fr", **fields)
    assert status == 422 and html_unescape(sentence) in html_unescape(html)
    assert "Détail technique" in html
    status, text = await post(client, headers={"Accept": "application/json"}, **fields)
    problem = json.loads(text)
    assert status == 422 and problem["status"] == 422 and problem["detail"]


async def test_a_file_over_the_body_limit_answers_the_form_again(client: Client) -> None:
    """A browser upload over 1 MiB: the form again with the reason in its
    language (413), not a problem document."""
    status, html = await post(
        client, lang="fr", file=("big.png", io.BytesIO(b"\x89PNG" + b"0" * (1 << 20)))
    )
    assert status == 413 and 'role="alert"' in html
    assert "trop volumineux" in html and 'id="credential"' in html
    status, text = await post(
        client,
        headers={"Accept": "application/json"},
        file=("big.png", io.BytesIO(b"0" * (1 << 20))),
    )
    assert status == 413 and json.loads(text)["status"] == 413


async def test_json_by_content_negotiation(client: Client, issuer: Issuer) -> None:
    status, text = await post(
        client, headers={"Accept": "application/json"}, credential=issuer.jwt()
    )
    body = json.loads(text)
    assert status == 200
    assert body["state"] == "untrusted" and body["verified"] is True
    assert body["credential"]["achievement"]["name"] == "Data Analysis Basics"
    assert {r["check"] for r in body["results"]} >= {"proof", "validity", "trust"}
    _, html = await post(
        client, headers={"Accept": "application/json;q=0.5, text/html"}, credential=issuer.jwt()
    )
    assert verdict_state(html) == "untrusted"


async def test_the_french_result(client: Client, issuer: Issuer) -> None:
    _, html = await post(client, lang="fr", credential=issuer.jwt())
    assert '<html lang="fr">' in html
    assert "Authentique, mais d'un émetteur" in html.replace("&#39;", "'")
    assert "Toutes les vérifications" in html


async def test_learner_data_is_escaped(client: Client, issuer: Issuer) -> None:
    credential = issuer.credential(name="<script>alert(1)</script>")
    _, html = await post(client, credential=sign_vc_jwt(credential, issuer.key))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


async def test_text_in_a_right_to_left_script_runs_from_the_right(
    client: Client, issuer: Issuer
) -> None:
    """The institution's and the learner's words take their own direction
    (HTML `dir="auto"`, `<bdi>`): an Arabic title on an English page reads
    from the right, and does not drag the punctuation around it along."""
    credential = issuer.credential()
    credential["credentialSubject"]["achievement"]["name"] = "أمن الشبكات"
    credential["issuer"]["name"] = "جامعة القاهرة"
    _, html = await post(client, credential=sign_vc_jwt(credential, issuer.key))
    assert '<p class="title" dir="auto">أمن الشبكات</p>' in html
    assert '<dd class="wrap" dir="auto">جامعة القاهرة</dd>' in html


async def test_a_hashed_email_offers_a_comparison(client: Client, issuer: Issuer) -> None:
    credential = issuer.credential()
    del credential["credentialSubject"]["id"]
    identity = hash_identity("ada@example.org")
    credential["credentialSubject"]["identifier"] = [identity]
    token = sign_vc_jwt(credential, issuer.key)
    _, html = await post(client, credential=token)
    assert "A hashed e-mail address: check it." in html and 'id="recipient"' not in html
    assert 'name="credential" value="' + token in html and 'id="compare-email"' in html
    _, html = await post(client, credential=token, recipient="Ada@example.org ")
    assert 'data-outcome="ok"' in html and "The e-mail address matches" in html
    _, html = await post(client, credential=token, recipient="eve@example.org")
    assert 'data-outcome="failed"' in html and "does NOT match" in html
    assert verdict_state(html) == "untrusted"
    # the headline says what is wrong: the learner, not the issuer's accreditation
    assert "not awarded to the person you named" in html and "not accredited" not in html


@pytest.mark.parametrize(
    ("failing", "headline"),
    [
        (["trust"], "issuer we cannot vouch for"),
        (["trust", "impersonation"], "that provider did not issue it"),
        (["trust", "recipient"], "not awarded to the person you named"),
        (["endorsements"], "an endorsement it carries does not check out"),
        (["achievement_known"], "the achievement it names is not in"),
    ],
)
def test_an_untrusted_headline_names_what_is_wrong(failing: list[str], headline: str) -> None:
    """The most telling advisory check leads (a copied name before a missing
    accreditation), in both languages."""
    names = ("trust", "achievement_known", "impersonation", "endorsements", "recipient")
    results = [{"check": name, "outcome": "failed" if name in failing else "ok"} for name in names]
    view = result_view({"state": "untrusted", "results": results, "credential": None})
    for lang in ("en", "fr"):
        strings = catalogue(lang)
        assert strings.has(f"state.{view.headline}") and strings.has(f"advice.{view.headline}")
    html = PageRenderer().render("result.html", "en", view=view, compare=None, email=None)
    assert headline in html


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [value or "" for name, value in attrs if name == "id"]


async def test_ids_are_unique(client: Client, issuer: Issuer) -> None:
    _, html = await post(client, credential=issuer.jwt())
    parser = _Parser()
    parser.feed(html)
    assert len(parser.ids) == len(set(parser.ids)), parser.ids


def test_catalogues_have_the_same_keys_and_every_used_key() -> None:
    english, french = catalogue("en").strings, catalogue("fr").strings
    assert set(english) == set(french)
    templates = Path(__file__).resolve().parents[3] / "services/verifier/templates"
    used = set()
    for template in templates.glob("*.html"):
        used |= set(re.findall(r't\("([a-z_.]+)"\)', template.read_text()))
    assert used and used <= set(english), used - set(english)
    states = ("valid", "untrusted", "revoked", "suspended", "expired", "not_yet_valid")
    untrusted = tuple(f"untrusted.{check}" for check in UNTRUSTED_BY)
    for state in (*states, "tampered", "unchecked", "malformed", *untrusted):
        assert {f"state.{state}", f"advice.{state}"} <= set(english)
        assert english[f"state.{state}"] != french[f"state.{state}"]


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "en"),
        ("fr", "en", "fr"),
        ("xx", "fr-CA,en;q=0.5", "fr"),
        (None, "en;q=0.4, fr;q=0.9", "fr"),
        (None, "de, fr;q=0", "en"),
        (None, "fr;q=abc, en", "en"),
    ],
)
def test_language_negotiation(query: str | None, header: str | None, expected: str) -> None:
    assert negotiate_language(query, header, LANGUAGES) == expected
    assert expected in LANGUAGES


async def test_the_share_page_previews_and_verifies(client: Client, issuer: Issuer) -> None:
    head, _payload, signature = issuer.jwt().split(".")
    forged = f"{head}.{issuer.jwt(name='Brain Surgery').split('.')[1]}.{signature}"
    answer = await client.post("/test-share?lang=fr", json={"jwt": issuer.jwt()})
    html = (await answer.text()).replace("&#39;", "'")
    assert answer.status == 200 and verdict_state(html) == "untrusted"
    assert '<meta property="og:title" content="Data Analysis Basics">' in html
    assert '<meta property="og:image" content="https://verify.example/s/abc/badge.png">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    linkedin = "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&amp;name=x"
    assert f'href="{linkedin}"' in html and "Ajouter au profil LinkedIn" in html
    assert 'href="https://verify.example/s/abc/certificate.pdf?lang=fr"' in html  # in French
    assert 'href="/test-share?lang=en"' in html and "Authentique" in html
    answer = await client.post("/test-share", json={"jwt": forged})
    assert verdict_state(await answer.text()) == "tampered"


async def test_the_link_field_goes_through_the_ssrf_guard(client: Client) -> None:
    status, html = await post(client, url="https://127.0.0.1/credential.json")
    assert status == 422 and "was not fetched" in html


@pytest.mark.parametrize("state", ["revoked", "suspended"])
def test_the_status_date_and_public_reason(state: str) -> None:
    report = {
        "state": state,
        "stateDetails": {
            "since": "2026-11-30T08:00:00Z",
            "reason": {"code": "issued_in_error", "text": "issued in error"},
        },
        "results": [{"check": "status", "outcome": "failed", "code": state}],
        "credential": None,
    }
    view = result_view(report)
    assert view.status_details == [(f"{state}_on", "2026-11-30"), ("reason", "issued in error")]
    for key, _ in view.status_details:
        assert catalogue("en").has(key) and catalogue("fr").has(key)
    html = PageRenderer().render("result.html", "en", view=view, compare=None, email=None)
    assert "2026-11-30" in html and "issued in error" in html and not view.has_credential


@pytest.mark.parametrize(
    ("accept", "json_wanted"),
    [
        ("", False),  # curl, link-preview crawlers: the page
        ("*/*", False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),  # a browser
        ("application/json", True),
        ("application/json;q=0.9, text/html;q=0.5", True),
        ("application/json;q=0.5, text/html", False),
        ("application/json, text/html", False),  # a tie: the page
    ],
)
def test_json_only_when_asked_for(accept: str, json_wanted: bool) -> None:
    assert prefers_json(accept) is json_wanted


@pytest.mark.parametrize(
    ("status", "lang", "words"),
    [(404, "en", "does not exist"), (410, "en", "withdrawn"), (410, "fr", "a retiré")],
)
async def test_an_unknown_or_unpublished_share_link_says_so(
    client: Client, status: int, lang: str, words: str
) -> None:
    answer = await client.get(f"/test-gone/{status}?lang={lang}")
    html = (await answer.text()).replace("&#39;", "'")
    assert answer.status == status and answer.content_type == "text/html"
    assert words in html and 'role="alert"' in html and f'<html lang="{lang}">' in html


async def test_an_issuer_whose_keys_cannot_be_read(client: Client) -> None:
    """did:web on a non-public address: the SSRF guard never fetches its DID
    document, so the proof cannot be checked: `unchecked`, with what to do."""
    key = generate_ed25519(kid="did:web:127.0.0.1#key-1")
    token = sign_vc_jwt(ob3_credential("did:web:127.0.0.1"), key)
    _, html = await post(client, credential=token)
    assert verdict_state(html) == "unchecked"
    assert "Could not be checked right now." in html and "Try again in a few minutes" in html
    assert 'data-check="proof"' in html and "non-public address" in html


def test_templates_are_compiled_at_start_not_reread_from_disk(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("before {{ lang }}")
    pages = PageRenderer(tmp_path)
    (tmp_path / "page.html").write_text("after {{ missing_in_this_code }}")
    (tmp_path / "new.html").write_text("new")
    assert pages.render("page.html", "en") == "before en"
    with pytest.raises(KeyError):
        pages.render("new.html", "en")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'--XyZ\r\nContent-Disposition: form-data; name="credential"\r\n\r\nabc', "XyZ"),
        (b"--a\r\n\r\nabc\r\n--a--\r\n", "multipart/form-data"),  # no boundary
        (b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n', "Q"),
        (b"credential=abc", "application/x-www-form-urlencoded; charset=nope"),
        (b"credential=abc", "application/x-www-form-urlencoded; charset=utf-16"),
    ],
)
async def test_a_form_that_cannot_be_read_is_a_422(
    client: Client, body: bytes, content_type: str
) -> None:
    """Cut short, without or with another boundary, an unknown charset: a
    4xx problem (a 500 before), also for a browser."""
    if content_type in ("XyZ", "Q"):
        content_type = f"multipart/form-data; boundary={content_type}"
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    answer = await client.post("/", data=body, headers=headers)
    problem = await answer.json(content_type=None)
    assert answer.status == 422 and problem["status"] == 422, problem
    answer = await client.post("/", data=body, headers={"Content-Type": content_type})
    assert answer.status == 422 and 'role="alert"' in await answer.text()
