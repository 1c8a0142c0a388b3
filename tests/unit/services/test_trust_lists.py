"""Trust lists: the catalog's signed list of its registry, and the other
lists a verifier loads (another microcred instance's, signed; a DCC-shaped
registry of issuer DIDs) with how their entries map to trust levels."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from services.issuer.trust_list import etag_of, trust_list
from services.verifier.trust import Claims
from services.verifier.trust_lists import (
    Source,
    TrustListError,
    TrustLists,
    listed_check,
    parse_list,
)
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.dids import DidResolver
from shared.credentials.jws import sign_jws
from shared.events import AccreditationScope, ProviderAccreditation, ProviderPublished
from shared.web.safe_fetch import SafeFetcher

NOW = "2026-06-01T00:00:00Z"
ISSUER = "did:key:zListedIssuer"


def provider(**changes: object) -> ProviderPublished:
    fields: dict[str, object] = {
        "tenant": "uni-a",
        "provider_id": "https://catalog.other/providers/1",
        "revision": 3,
        "legal_name": "Other Polytechnic",
        "country": "IE",
        "provider_type": "college",
        "web_domain": "other.example",
        "issuer_dids": [ISSUER],
        "accreditations": [
            ProviderAccreditation(
                accreditation_id="QQI-9",
                quality_assurance_body="QQI",
                scope=AccreditationScope(eqf_levels=[6]),
                valid_from="2025-01-01T00:00:00Z",
                valid_until="2030-01-01T00:00:00Z",
                recorded_by="ministry",
            )
        ],
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    fields.update(changes)
    return ProviderPublished(**fields)  # type: ignore[arg-type]


def claims(level: int) -> Claims:
    return Claims(ISSUER, "Other Polytechnic", "https://x/ach", level, None, None)


def signed_list(providers: list[ProviderPublished]) -> tuple[str, str]:
    key = generate_ed25519()
    did = key.kid.split("#")[0]
    payload = trust_list(
        providers, publisher="https://catalog.other/trust-list", operator="Ministry", signer=did
    )
    return sign_jws(payload, key, "JWT"), did


def test_the_published_list_depends_only_on_the_registry() -> None:
    a = trust_list([provider()], publisher="p", operator="o", signer="did:key:z1")
    b = trust_list([provider()], publisher="p", operator="o", signer="did:key:z1")
    assert a == b and etag_of(a) == etag_of(b)
    assert a["type"] == "MicrocredTrustList" and a["providers"][0]["issuerDids"] == [ISSUER]
    assert "revision" not in a["providers"][0] and "tenant" not in a["providers"][0]
    changed = trust_list(
        [provider(status="suspended")], publisher="p", operator="o", signer="did:key:z1"
    )
    assert etag_of(changed) != etag_of(a)


async def test_a_signed_microcred_list_maps_accreditations_like_ours() -> None:
    token, did = signed_list([provider()])
    entries = await parse_list(
        token.encode(), Source("https://catalog.other/trust-list", did), DidResolver()
    )
    listed = entries[ISSUER]
    accredited = listed_check(listed, claims(6), NOW)
    assert (accredited.outcome, accredited.code) == ("ok", "accredited")
    assert accredited.details and accredited.details["trustList"]["kind"] == "microcred"
    assert "vouched for by the trust list Ministry" in (accredited.reason or "")
    outside = listed_check(listed, claims(7), NOW)
    assert (outside.outcome, outside.code) == ("failed", "registered")


async def test_a_list_signed_by_another_than_the_pinned_signer_is_refused() -> None:
    token, _ = signed_list([provider()])
    with pytest.raises(TrustListError, match="not the pinned"):
        await parse_list(token.encode(), Source("x", "did:key:zSomeoneElse"), DidResolver())
    head, body, sig = token.split(".")
    with pytest.raises(TrustListError, match="signature"):
        await parse_list(f"{head}.{body}.{sig[:-6]}AAAAAA".encode(), Source("x"), DidResolver())
    payload = trust_list([provider()], publisher="p", operator="o", signer="did:key:z1")
    unsigned = orjson.dumps(payload)
    with pytest.raises(TrustListError, match="unsigned"):
        await parse_list(unsigned, Source("x"), DidResolver())


DCC = {
    "meta": {"created": "2020-12-02T02:32:16+0000", "updated": "2022-05-25T12:40:00+0000"},
    "registry": {
        ISSUER: {"name": "Example University", "location": "Cambridge", "url": "https://x.edu"},
        "not-a-did": {"name": "ignored"},
    },
}


async def test_a_dcc_registry_vouches_registered_only(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(orjson.dumps(DCC))
    lists = TrustLists([Source.parse(str(path))], SafeFetcher(), DidResolver())
    await lists.refresh()
    listed = lists.find(ISSUER)
    assert listed is not None and listed.kind == "dcc" and lists.find("not-a-did") is None
    result = listed_check(listed, claims(6), NOW)
    assert (result.outcome, result.code) == ("failed", "registered")
    assert result.details and result.details["trustList"]["source"] == str(path)
    assert "Example University is listed" in (result.reason or "")


async def test_the_first_list_wins_and_a_broken_list_keeps_its_last_entries(tmp_path: Path) -> None:
    token, did = signed_list([provider()])
    first, second = tmp_path / "first.jwt", tmp_path / "second.json"
    first.write_text(token)
    second.write_bytes(orjson.dumps(DCC))
    lists = TrustLists(
        [Source.parse(f"{first}|{did}"), Source.parse(str(second))], SafeFetcher(), DidResolver()
    )
    await lists.refresh()
    assert (found := lists.find(ISSUER)) is not None and found.kind == "microcred"
    first.write_text("garbage")
    await lists.refresh()
    assert (found := lists.find(ISSUER)) is not None and found.kind == "microcred"


def test_a_source_may_pin_its_signer() -> None:
    assert Source.parse("https://a.example/trust-list|did:key:z1") == Source(
        "https://a.example/trust-list", "did:key:z1"
    )
    assert Source.parse("/etc/lists/dcc.json") == Source("/etc/lists/dcc.json", None)
