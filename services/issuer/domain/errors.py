"""The issuer's domain errors (mapped once: `shared.errors`)."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, InvalidFields, NotFound, Unavailable


class BelowThreshold(DomainError):
    """The assessment does not prove mastery: no micro-credential."""

    title = "Assessment below the mastery threshold"
    problem = "assessment-below-threshold"


class ProfileRequirementsUnmet(InvalidFields):
    """The provider's policy profile needs what this award lacks (e.g. the
    TrustEd Credential profile's evidence): every element named."""

    title = "Policy profile requirements unmet"
    problem = "profile-requirements-unmet"


class Unsignable(DomainError):
    """The award's credential cannot be signed as built (JSON-LD safe mode
    refuses it: e.g. a relative IRI), which the checks before should have
    refused: the detail names the member."""

    title = "Credential cannot be signed"
    problem = "unsignable-credential"


class InvalidScore(DomainError):
    title = "Invalid score"


class InvalidRecipient(DomainError):
    title = "Invalid recipient"
    problem = "invalid-recipient"


class AchievementNotFound(NotFound):
    title = "Achievement not found"


class AchievementRetired(Conflict):
    title = "Achievement retired"


class IssuerUnavailable(Conflict):
    title = "Issuer unavailable"


class IssuerNotFound(NotFound):
    title = "Issuer not found"


class CredentialNotFound(NotFound):
    title = "Credential not found"


class InvalidAchievement(Conflict):
    """A stored definition the catalog refuses today (e.g. a validity period
    over the limit, stored before the limit existed)."""

    title = "Invalid achievement"


class KeyNotFound(NotFound):
    title = "Verification method not found"


class KeyAlreadyCompromised(Conflict):
    title = "Key already marked compromised"
    problem = "key-already-compromised"


class RotationUnsupported(Conflict):
    """did:key identities have one key for life: their DID is the key."""

    title = "Key rotation not supported for did:key"
    problem = "rotation-unsupported"


class NotInForce(Conflict):
    """What a credential offers only while it is in force (its certificate)."""

    title = "Credential not in force"
    problem = "credential-not-in-force"


class NotShared(Conflict):
    """What needs the public share link (the certificate's QR code) before it exists."""

    title = "Share link not published"
    problem = "not-shared"


class InvalidBulkFile(DomainError):
    """An upload that cannot be a bulk job (its header, its encoding, no rows)."""

    title = "Invalid bulk file"
    problem = "invalid-bulk-file"


class BulkFileTooLarge(DomainError):
    status = 413
    title = "Bulk file too large"
    problem = "bulk-file-too-large"


class BulkJobNotFound(NotFound):
    title = "Bulk job not found"


class BulkJobFinished(Conflict):
    title = "Bulk job finished"
    problem = "bulk-job-finished"


class SigningKeyChanged(Unavailable):
    """The issuer's key was rotated out or marked compromised while a
    credential was signed with it: refused for now, signed anew when retried."""

    problem = "signing-key-changed"
