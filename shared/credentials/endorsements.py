"""OB 3.0 endorsements (§B.1.6 EndorsementCredential, §B.1.7
EndorsementSubject) and the Issuer Accreditation Extension 2.0
(`IssuerAccreditationProfile` listing `AccreditationProfile`s).

Pure builders: plain dicts, every term defined by a context they list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.credentials.vocab import OB_CONTEXT, VC_V2_CONTEXT

Json = dict[str, Any]
ENDORSEMENT_TYPES = ("VerifiableCredential", "EndorsementCredential")


def build_endorsement(
    *,
    id: str,
    issuer: Mapping[str, Any],
    subject_id: str,
    comment: str,
    valid_from: str,
    name: str,
    valid_until: str | None = None,
    credential_status: Json | None = None,
) -> Json:
    """An unsigned EndorsementCredential about `subject_id` (a Profile's or
    an Achievement's id), with its `credentialStatus` when given."""
    credential: Json = {
        "@context": [VC_V2_CONTEXT, OB_CONTEXT],
        "id": id,
        "type": list(ENDORSEMENT_TYPES),
        "name": name,
        "issuer": dict(issuer),
        "validFrom": valid_from,
        "credentialSubject": {
            "id": subject_id,
            "type": ["EndorsementSubject"],
            "endorsementComment": comment,
        },
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    if credential_status is not None:
        credential["credentialStatus"] = credential_status
    return credential


def build_accreditation_profile(
    *, id: str, name: str, url: str | None = None, accreditation_date: str | None = None
) -> Json:
    """One accreditor (`AccreditationProfile`, Issuer Accreditation Ext. 2.0,
    whose `contactInstructions` is required [1]: its web site when known)."""
    profile: Json = {"id": id, "type": ["Profile", "AccreditationProfile"], "name": name}
    if url is not None:
        profile["url"] = url
    profile["contactInstructions"] = f"See {url}" if url else f"Contact {name}."
    if accreditation_date is not None:
        profile["accreditationDate"] = accreditation_date
    return profile


def accredited_profile(
    profile: Mapping[str, Any],
    accreditations: Sequence[Json],
    endorsements: Sequence[Json],
    endorsement_jwts: Sequence[str] = (),
) -> Json:
    """The issuer `profile` with its accreditors and the signed endorsements
    that vouch for them; the profile unchanged when there are none."""
    out = dict(profile)
    if accreditations:
        types = out.get("type", ["Profile"])
        types = [types] if isinstance(types, str) else list(types)
        if "IssuerAccreditationProfile" not in types:
            types.append("IssuerAccreditationProfile")
        out["type"] = types
        out["accreditations"] = list(accreditations)
    if endorsements:
        out["endorsement"] = list(endorsements)
    if endorsement_jwts:
        out["endorsementJwt"] = list(endorsement_jwts)
    return out
