"""LinkedIn "Add to profile" (Add License or Certification) URL.

LinkedIn documents the parameters on its "Add to Profile for
certifications" page: `startTask=CERTIFICATION_NAME`, `name`,
`organizationId` (a numeric LinkedIn company id) or `organizationName`,
`issueYear`, `issueMonth`, `expirationYear`, `expirationMonth`, `certUrl`,
`certId`. LinkedIn keeps only the link: `certUrl` is our share page, where a
recruiter checks the credential live.
"""

from __future__ import annotations

from urllib.parse import urlencode

from shared.sharing.facts import CredentialFacts

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def linkedin_add_url(
    facts: CredentialFacts, share_url: str, *, organization_id: str | None = None
) -> str:
    """The URL, percent-encoded as a form query (spaces as `+`, RFC 3986
    reserved characters escaped, so `certUrl` survives as one value)."""
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", facts.title)]
    if organization_id:
        params.append(("organizationId", organization_id))
    elif facts.provider:
        params.append(("organizationName", facts.provider))
    if facts.valid_from is not None:
        params += [
            ("issueYear", str(facts.valid_from.year)),
            ("issueMonth", str(facts.valid_from.month)),
        ]
    if facts.valid_until is not None:
        params += [
            ("expirationYear", str(facts.valid_until.year)),
            ("expirationMonth", str(facts.valid_until.month)),
        ]
    params.append(("certUrl", share_url))
    if facts.credential_id:
        params.append(("certId", facts.credential_id))
    return f"{ADD_TO_PROFILE}?{urlencode(params, safe='')}"
