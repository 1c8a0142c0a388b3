"""Renewal: a re-assessment, before or after expiry, issues a new credential
that names the one it renews.

Where the reference goes (OB 3.0): the new credential's `evidence`
(OB 3.0 §B.1.10 Evidence; VC Data Model 2.0 §5.6 "Evidence": information
about the process by which the credential was issued) gets one Evidence
entry whose `id` is the renewed credential's id and whose `genre` is
`Renewal`. `related` is not it: OB 3.0 §B.1.15 Related links one
*Achievement* to another (language versions, equivalents), not one award
to another, and VC 2.0 `relatedResource` is for integrity-protecting
fetched resources. The old credential stays as it was (its own validity
period; the institution may revoke it with the reason `superseded`).
"""

from __future__ import annotations

from typing import Any

from shared.credentials.builders import build_evidence
from shared.errors import Conflict, NotFound
from shared.events import CredentialIssued

RENEWAL_GENRE = "Renewal"


class RenewedCredentialNotFound(NotFound):
    title = "Renewed credential not found"


class NotRenewable(Conflict):
    title = "Credential not renewable"
    problem = "not-renewable"


def check_renewable(
    previous: CredentialIssued | None,
    *,
    tenant: str,
    achievement_id: str,
    learner_key: str | None,
    revoked: bool,
    renewed_by: str | None,
) -> CredentialIssued:
    """The credential a renewal names, if this award may renew it: the
    tenant's own, of the same achievement (any revision), of the same
    learner, not revoked, and not renewed already (renewals form a chain:
    the newest credential is the one to renew)."""
    if previous is None or previous.tenant != tenant:
        raise RenewedCredentialNotFound("no such credential for this tenant")
    if previous.achievement_id != achievement_id:
        raise NotRenewable("a renewal is of the same achievement as the credential it renews")
    if previous.learner_key is None or previous.learner_key != learner_key:
        raise NotRenewable("a renewal is for the same learner as the credential it renews")
    if revoked:
        raise NotRenewable("a revoked credential cannot be renewed")
    if renewed_by is not None:
        raise NotRenewable(f"it was renewed already, by {renewed_by}: renew that credential")
    return previous


def renewal_evidence(previous: CredentialIssued) -> dict[str, Any]:
    """The Evidence entry that names the renewed credential (see above)."""
    return build_evidence(
        id=previous.credential_id,
        name="Renewed credential",
        genre=RENEWAL_GENRE,
        narrative=f"Renews {previous.credential_id}, issued {previous.occurred_at}, "
        f"after a new assessment.",
    )
