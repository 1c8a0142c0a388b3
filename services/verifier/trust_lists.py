"""Other trust lists the verifier loads at start-up (`MICROCRED_TRUST_LISTS`).

Each source is a URL (fetched through the SSRF guard) or a file path,
optionally followed by `|<signer DID>` to pin who must have signed it. Two
shapes are understood:

- a **microcred trust list** (another instance's `GET /trust-list`): a
  compact JWS whose payload is `MicrocredTrustList` v1, signed by its `iss`
  (the pinned DID when one is given). Its providers count like ours: an
  active accreditation, in force and in scope, is `accredited`; otherwise
  `registered`, `suspended` or `withdrawn` as the list states.
- a **JSON registry of issuer DIDs** in the Digital Credentials Consortium's
  shape (`{"meta": {...}, "registry": {"<did>": {"name", "location", "url"}}}`,
  unsigned as the DCC publishes it): such an entry states no accreditation,
  so it is `registered`.

Our own registry always wins: a list is consulted only for an issuer we do
not know (`unknown`). The trust check then names the list that vouched for
the issuer (`details.trustList`). Lists are reloaded every
`MICROCRED_TRUST_LIST_REFRESH_S`; a list that fails to load keeps its last
good entries.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
import orjson

from services.verifier.trust import TRUST, Claims, provider_level
from shared.credentials.dids import DidResolver
from shared.credentials.errors import CredentialError
from shared.credentials.jws import open_jws, verify_jws_signature
from shared.credentials.report import CheckResult
from shared.events import AccreditationScope, ProviderAccreditation, ProviderPublished
from shared.logging import get_logger
from shared.web.safe_fetch import FetchError, SafeFetcher

log = get_logger(__name__)
Kind = Literal["microcred", "dcc"]


class TrustListError(Exception):
    """A list that could not be loaded (unreadable, unsigned, wrong signer)."""


@dataclass(frozen=True)
class Source:
    location: str
    signer: str | None = None

    @classmethod
    def parse(cls, value: str) -> Source:
        location, _, signer = value.partition("|")
        return cls(location.strip(), signer.strip() or None)


@dataclass(frozen=True)
class Listed:
    did: str
    source: str
    kind: Kind
    list_name: str
    issuer_name: str | None
    provider: ProviderPublished | None = None  # microcred lists: the entry as a record

    def view(self) -> dict[str, Any]:
        return {"source": self.source, "name": self.list_name, "kind": self.kind}


def _accreditation(raw: dict[str, Any]) -> ProviderAccreditation:
    body = raw.get("qualityAssuranceBody") or {}
    scope = raw.get("scope") or {}
    return ProviderAccreditation(
        accreditation_id=str(raw["id"]),
        quality_assurance_body=str(body.get("name")),
        quality_assurance_body_url=body.get("url"),
        scope=msgspec.convert(
            {
                "eqf_levels": scope.get("eqfLevels", []),
                "fields_of_study": scope.get("fieldsOfStudy", []),
                "achievement_types": scope.get("achievementTypes", []),
            },
            AccreditationScope,
        ),
        valid_from=str(raw["validFrom"]),
        valid_until=raw.get("validUntil"),
        status=raw.get("status", "active"),
        recorded_by=str(raw.get("recordedBy") or "external"),
    )


def microcred_entries(payload: dict[str, Any], source: str) -> dict[str, Listed]:
    if payload.get("type") != "MicrocredTrustList" or payload.get("version") != 1:
        raise TrustListError("not a MicrocredTrustList v1")
    name = str((payload.get("operator") or {}).get("name") or payload.get("id") or source)
    found: dict[str, Listed] = {}
    for raw in payload.get("providers") or []:
        try:
            provider = ProviderPublished(
                tenant=f"trust-list:{source}",
                provider_id=str(raw["id"]),
                revision=0,
                legal_name=str(raw["legalName"]),
                country=str(raw.get("country") or ""),
                provider_type=str(raw.get("type") or "other"),
                web_domain=raw.get("webDomain"),
                issuer_dids=[str(d) for d in raw.get("issuerDids") or []],
                status=raw.get("status", "active"),
                status_reason=raw.get("statusReason"),
                accreditations=[_accreditation(a) for a in raw.get("accreditations") or []],
            )
        except (KeyError, TypeError, ValueError, msgspec.ValidationError) as error:
            log.warning("trust_list.entry_skipped", source=source, error=str(error))
            continue
        for did in provider.issuer_dids:
            found[did] = Listed(did, source, "microcred", name, provider.legal_name, provider)
    return found


def dcc_entries(document: dict[str, Any], source: str) -> dict[str, Listed]:
    registry = document.get("registry")
    if not isinstance(registry, dict):
        raise TrustListError("not a registry of issuer DIDs (no `registry` object)")
    name = str((document.get("meta") or {}).get("name") or source)
    found: dict[str, Listed] = {}
    for did, entry in registry.items():
        if isinstance(did, str) and did.startswith("did:") and isinstance(entry, dict):
            issuer_name = entry.get("name") if isinstance(entry.get("name"), str) else None
            found[did] = Listed(did, source, "dcc", name, issuer_name)
    return found


async def parse_list(body: bytes, source: Source, resolver: DidResolver) -> dict[str, Listed]:
    text = body.strip()
    if text.startswith(b"eyJ"):
        try:
            opened = open_jws(text.decode(), typs=frozenset({"jwt"}), kind="trust list")
            signer = opened.payload.get("iss")
            if not isinstance(signer, str):
                raise TrustListError("the trust list names no signer (iss)")
            if source.signer is not None and signer != source.signer:
                raise TrustListError(f"signed by {signer}, not the pinned {source.signer}")
            await verify_jws_signature(
                opened, signer, resolver, purpose="assertionMethod", role="trust list"
            )
        except CredentialError as error:
            raise TrustListError(f"signature: {error}") from None
        return microcred_entries(opened.payload, source.location)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise TrustListError("neither a signed trust list nor JSON") from None
    if not isinstance(document, dict):
        raise TrustListError("not a JSON object")
    if document.get("type") == "MicrocredTrustList":
        raise TrustListError("an unsigned microcred trust list is not accepted")
    return dcc_entries(document, source.location)


@dataclass
class TrustLists:
    sources: list[Source]
    fetcher: SafeFetcher
    resolver: DidResolver
    refresh_seconds: float = 600.0
    _by_source: dict[str, dict[str, Listed]] = field(default_factory=dict)

    def find(self, did: str) -> Listed | None:
        """The first configured list (most authoritative first) naming `did`."""
        for source in self.sources:
            listed = self._by_source.get(source.location, {}).get(did)
            if listed is not None:
                return listed
        return None

    async def _read(self, source: Source) -> bytes:
        if "://" in source.location:
            body, _ = await self.fetcher.fetch(source.location)
            return body
        return await asyncio.to_thread(Path(source.location).read_bytes)

    async def load(self, source: Source) -> None:
        try:
            entries = await parse_list(await self._read(source), source, self.resolver)
        except (TrustListError, FetchError, OSError) as error:
            log.warning("trust_list.not_loaded", source=source.location, error=str(error))
            return
        self._by_source[source.location] = entries
        log.info("trust_list.loaded", source=source.location, issuers=len(entries))

    async def refresh(self) -> None:
        for source in self.sources:
            await self.load(source)

    async def run(self) -> None:
        """Load every list now, then again every `refresh_seconds`."""
        while True:
            try:
                await self.refresh()
            except Exception:  # a bug in one refresh must not end the reloads
                log.exception("trust_list.refresh_failed")
            await asyncio.sleep(self.refresh_seconds)


def listed_check(listed: Listed, claims: Claims, now: str) -> CheckResult:
    """The trust check for an issuer we do not know that `listed` vouches for."""
    vouched = f"vouched for by the trust list {listed.list_name} ({listed.source})"
    if listed.provider is not None:
        found = provider_level(listed.provider, claims, now)
        reason = f"{found.reason}; {vouched}"
    else:
        name = listed.issuer_name or listed.did
        reason = f"{name} is listed, with no accreditation stated; {vouched}"
        found = CheckResult(TRUST, "failed", reason, "registered", details={"level": "registered"})
    details = {**(found.details or {}), "trustList": listed.view()}
    return dataclasses.replace(found, reason=reason, details=details)
