"""Why a credential's status changed: the documented reason codes.

An institution revoking, suspending or reinstating a credential may say why:
a `code` from the enumeration below, a free `text`, and whether the reason
is `public` (shown to verifiers in a revoked or suspended report) or kept
for the institution's own audit trail. The choice is made per change.
Bitstring Status List v1.0 §2.1 leaves the reason out of the list itself
(one bit per entry); we carry it beside the list, on `status.changes`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

ReasonCode = Literal[
    "issued_in_error",  # wrong learner, achievement or result
    "assessment_revised",  # the result was re-marked below the threshold
    "academic_misconduct",  # plagiarism, cheating, impersonation
    "superseded",  # replaced by a renewed or corrected credential
    "expired_requirement",  # a condition of the award no longer holds
    "learner_request",  # the learner asked for it
    "investigation",  # on hold while a case is open (typically a suspension)
    "administrative",  # fees, records, paperwork
    "other",
]
REASON_CODES: tuple[str, ...] = ReasonCode.__args__  # type: ignore[attr-defined]
MAX_REASON_TEXT = 1000


class StatusReason(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The request body's `reason` of a status change."""

    code: ReasonCode
    text: Annotated[str, msgspec.Meta(max_length=MAX_REASON_TEXT)] = ""
    public: bool = False
