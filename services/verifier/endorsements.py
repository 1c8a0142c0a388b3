"""The `endorsements` check: every OB 3.0 EndorsementCredential embedded in
the credential (the issuer profile's `endorsement`: the operator's
accreditations; the achievement's: employers' endorsements) is verified on
its own (proof, validity window, shape), must be about the profile or
achievement it is attached to, and is shown with who signed it: the
platform operator, a registered endorser, or an unknown DID, and whether
its endorser has withdrawn it since or its own status entry revoked it.

Advisory like the other trust checks: a forged or misplaced endorsement
makes the verdict `untrusted`, never the credential unverified.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from services.verifier.replica import Replica
from shared.credentials.dids import DidResolver
from shared.credentials.report import CheckResult
from shared.credentials.verify import StatusListSource, VerifyOptions, verify_credential
from shared.endorsement_index import MAX_EMBEDDED_ENDORSEMENTS

ENDORSEMENTS = "endorsements"


def _attached(credential: dict[str, Any]) -> list[tuple[str, str | None, object]]:
    """(where, the id it must be about, the embedded endorsement) triples."""
    found: list[tuple[str, str | None, object]] = []
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        found += [("issuer", issuer.get("id"), e) for e in _list(issuer.get("endorsement"))]
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if isinstance(achievement, dict):
        about = achievement.get("id")
        found += [("achievement", about, e) for e in _list(achievement.get("endorsement"))]
    return found


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _endorser(replica: Replica, document: dict[str, Any]) -> dict[str, Any]:
    issuer = document.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    known = replica.issuers.get(did) if isinstance(did, str) else None
    role = known.role if known is not None and known.role != "issuer" else "unknown"
    name = issuer.get("name") if isinstance(issuer, dict) else None
    return {"id": did, "name": name, "role": role}


def _status(revoked: bool, endorsement_id: object, replica: Replica) -> str:
    """`revoked` by its own credentialStatus (the operator's accreditation
    endorsements, once the accreditation is withdrawn: anyone can see it in
    the signed list); `withdrawn` by its endorser since (on
    `issuer.endorsements`: shown, not counted on); else `active`."""
    if revoked:
        return "revoked"
    return "withdrawn" if endorsement_id in replica.withdrawn_endorsements else "active"


@dataclass(frozen=True)
class Verified:
    """An endorsement as verified: the document, why it fails (None: it
    verifies) and whether its own credentialStatus says revoked."""

    document: dict[str, Any]
    reason: str | None
    revoked: bool


async def _verified(
    item: dict[str, Any],
    resolver: DidResolver,
    lists: StatusListSource,
    options: VerifyOptions | None,
) -> Verified:
    report = await verify_credential(item, resolver=resolver, status_lists=lists, options=options)
    failed = next((c for c in report.checks if c.outcome != "ok"), None)
    status = report.check("status")
    return Verified(
        report.credential or item,
        None if failed is None else failed.reason or failed.code,
        status is not None and status.code == "revoked",
    )


class EndorsementMemo:
    """The endorsements verified during one batch (one moment, one replica):
    the operator's accreditation or an employer's endorsement embedded in
    hundreds of credentials is verified once, not once per credential.
    Keyed by the endorsement's exact content; at most `size` kept."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._seen: OrderedDict[bytes, Verified] = OrderedDict()

    async def verified(
        self,
        item: dict[str, Any],
        resolver: DidResolver,
        lists: StatusListSource,
        options: VerifyOptions | None,
    ) -> Verified:
        try:
            key = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).digest()
        except TypeError:  # not plain JSON (e.g. an integer orjson cannot write)
            return await _verified(item, resolver, lists, options)
        if key not in self._seen:
            self._seen[key] = await _verified(item, resolver, lists, options)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return self._seen[key]


async def _one(
    where: str,
    about: str | None,
    item: object,
    resolver: DidResolver,
    lists: StatusListSource,
    replica: Replica,
    options: VerifyOptions | None,
    memo: EndorsementMemo | None = None,
) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"on": where, "verified": False, "reason": "not an embedded credential"}
    if memo is not None:
        verified = await memo.verified(item, resolver, lists, options)
    else:
        verified = await _verified(item, resolver, lists, options)
    document, reason = verified.document, verified.reason
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    types = document.get("type")
    if reason is None and not (isinstance(types, list) and "EndorsementCredential" in types):
        reason = "not an EndorsementCredential"
    if reason is None and subject.get("id") != about:
        reason = f"it endorses {subject.get('id')!r}, not this {where}"
    return {
        "on": where,
        "id": document.get("id"),
        "endorser": _endorser(replica, document),
        "endorses": subject.get("id"),
        "comment": subject.get("endorsementComment"),
        "validUntil": document.get("validUntil"),
        "status": _status(verified.revoked, document.get("id"), replica),
        "verified": reason is None,
        "reason": reason,
    }


async def endorsements_check(
    credential: dict[str, Any],
    resolver: DidResolver,
    lists: StatusListSource,
    replica: Replica,
    *,
    options: VerifyOptions | None = None,
    memo: EndorsementMemo | None = None,
) -> CheckResult | None:
    """None when the credential embeds no endorsement. `options`: the
    verifier's (its work budget and canonicalisation pool); `memo`:
    endorsements already verified in the same batch."""
    attached = _attached(credential)
    if not attached:
        return None
    limit = MAX_EMBEDDED_ENDORSEMENTS  # each is a full verification: a bound on one request's work
    if len(attached) > limit:
        return CheckResult(
            ENDORSEMENTS,
            "failed",
            f"{len(attached)} embedded endorsements: more than the {limit} we check",
            "too_many_endorsements",
        )
    shown = [await _one(w, a, e, resolver, lists, replica, options, memo) for w, a, e in attached]
    bad = [s for s in shown if not s["verified"]]
    details = {"endorsements": shown}
    if bad:
        reasons = "; ".join(f"{s['on']}: {s['reason']}" for s in bad)
        return CheckResult(ENDORSEMENTS, "failed", reasons, "endorsement_invalid", details=details)
    by = sorted(
        {f"{s['endorser']['name'] or s['endorser']['id']} ({s['endorser']['role']})" for s in shown}
    )
    return CheckResult(
        ENDORSEMENTS,
        "ok",
        f"{len(shown)} endorsement(s) verified, by {', '.join(by)}",
        details=details,
    )
