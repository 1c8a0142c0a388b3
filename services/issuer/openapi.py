"""The issuer's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.issuer.attempts import AttemptQuery
from services.issuer.domain.awarding import AwardIn
from services.issuer.domain.vc_input import IssueCredentialIn
from services.issuer.domain.webhook_events import WebhookIn
from services.issuer.endorsing import EndorsementIn
from services.issuer.identities import IssuerIn
from services.issuer.registry import SearchIn
from services.issuer.rotation import CompromiseIn
from services.issuer.stacking import StackedAwardIn
from shared.web.openapi import document, operation

IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}

_DOWNLOADS = {
    "credential.json": "The credential as JSON with its Data Integrity proof (application/vc)",
    "credential.jwt": "The credential as a VC-JWT (application/vc+jwt)",
    "badge.png": "The badge as a PNG with the VC-JWT baked in (iTXt openbadgecredential, "
    "OB 3.0 §5.3)",
    "badge.svg": "The badge as an SVG with the VC-JWT baked in (openbadges:credential, "
    "OB 3.0 §5.3)",
}
_ATTEMPT = (
    "{id, kind: formative|refused, source: api|bulk|kafka|vc-api, achievementId, score, "
    "maxScore, metThreshold, assessedAt, recordedAt, evidence, reason: {title, detail}|null}"
)
_BULK_FILE = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string", "description": "header row, then one row per award"}
        },
        "application/jsonl": {
            "schema": {"type": "string", "description": "one POST /awards body per line"}
        },
    },
}
_JOB = (
    "{id, state: queued|running|done|cancelled|failed, cancelRequested, format, rows, "
    "progress: {read, issued, refused: {reason: count}, failed}, createdAt, results}"
)
BULK_PATHS: dict[str, object] = {
    "/bulk-jobs": {
        "post": operation(
            "Upload a file of assessment results (CSV or JSON Lines, streamed) as a bulk "
            "award job; each row is awarded as POST /awards would",
            {
                "201": f"Queued: {_JOB}",
                "200": "A retry with the same Idempotency-Key and file: the first job",
                "413": "A line over 64 KiB, or more than 1,000,000 rows",
                "415": "Not text/csv or application/jsonl",
                "422": "Unknown or missing CSV columns, not UTF-8, no rows, or a reused key",
                "503": "Rebuilding state from Kafka; retry",
            },
            secured=True,
            parameters=[IDEMPOTENCY_KEY],
            requestBody=_BULK_FILE,
        )
    },
    "/bulk-jobs/{job_id}": {
        "get": operation(
            "A bulk job's state and progress (counters only grow)",
            {"200": _JOB, "404": "No such job for this tenant"},
            secured=True,
        )
    },
    "/bulk-jobs/{job_id}/results": {
        "get": operation(
            "The per-row results recorded so far, in row order (?format=csv|jsonl, or "
            "Accept: text/csv): row, status (issued|refused|failed), reason, credentialId, "
            "detail",
            {"200": "text/csv or application/jsonl", "400": "Another format", "404": "No such job"},
            secured=True,
        )
    },
    "/bulk-jobs/{job_id}/cancel": {
        "post": operation(
            "Cancel a job: it stops after the rows in flight; rows done keep their credentials",
            {"200": _JOB, "404": "No such job", "409": "The job is done or failed already"},
            secured=True,
        )
    },
}
LEARNER_PATHS: dict[str, object] = {
    **{
        f"/credentials/{{credential_id}}/{name}": {
            "get": operation(
                f"{text}, for the owning institution", {"200": text, "404": "Unknown"}, secured=True
            )
        }
        for name, text in _DOWNLOADS.items()
    },
    "/claims/{token}": {
        "get": operation(
            "The learner's page behind the private claim link (HTML for a browser, else JSON)",
            {
                "200": "{credentialId, title, provider, learner, validFrom, validUntil, "
                "downloads, share: {status, control, shareId?, url?}, linkedin?}",
                "404": "Unknown or forged claim link",
            },
        )
    },
    **{
        f"/claims/{{token}}/{name}": {
            "get": operation(f"{text}, for the learner", {"200": text, "404": "Unknown"})
        }
        for name, text in _DOWNLOADS.items()
    },
    "/claims/{token}/certificate.pdf": {
        "get": operation(
            "The printable certificate (PDF) with a QR code to the share link",
            {"200": "application/pdf", "404": "Unknown", "409": "Not shared yet (not-shared)"},
        )
    },
    "/claims/{token}/share": {
        "post": operation(
            "Publish the credential's public share link (stable, unguessable); a form post "
            "with action=publish|unpublish answers 303 to the claim page",
            {
                "201": "Published: the claim page's data",
                "200": "Already published",
                "303": "From the HTML form",
                "404": "Unknown",
            },
        ),
        "delete": operation(
            "Unpublish the share link (the verifier then answers 410)",
            {"200": "The claim page's data", "404": "Unknown"},
        ),
    },
}

OPENAPI = document(
    "microcred issuer",
    {
        "/issuers": {
            "post": operation(
                "Create an issuer identity (did:key, or did:web hosted here with "
                '`didMethod: "web"`) and publish its profile',
                {"201": "Created: {id, profile, didDocument}", "401": "No or unknown token"},
                body=IssuerIn,
                secured=True,
            )
        },
        "/issuers/{did}": {
            "get": operation(
                "The issuer's OB 3.0 Profile (with its accreditations in force and the "
                "operator's signed EndorsementCredentials)",
                {"200": "Profile", "404": "Unknown"},
            )
        },
        "/issuers/{did}/did.json": {
            "get": operation(
                "The issuer's DID document ({did} may be a did:web slug: did:web §3.2 path)",
                {"200": "DID document", "404": "Unknown"},
            )
        },
        "/issuers/{did}/did-configuration.json": {
            "get": operation(
                "The DID Configuration Resource (DIF Well Known DID Configuration, JWT"
                " Domain Linkage Credentials) for the web domain of the issuer's provider,"
                " to host at https://<webDomain>/.well-known/did-configuration.json",
                {
                    "200": "{@context, linked_dids}",
                    "404": "No such issuer for this tenant",
                    "409": "No provider with a webDomain lists this issuer",
                },
            )
        },
        "/issuers/{did}/self-hosting": {
            "get": operation(
                "For a did:web on the institution's own domain (registered with webDomain):"
                " the DID document to host at its did:web URL and the DID Configuration"
                " Resource for https://<domain>/.well-known/did-configuration.json",
                {
                    "200": "{id, domain, didDocument, didDocumentUrl, didConfiguration,"
                    " didConfigurationUrl}",
                    "404": "Unknown, or another tenant's",
                    "409": "Not a self-hosted identity",
                },
                secured=True,
            )
        },
        "/issuers/{did}/keys": {
            "post": operation(
                "Rotate a did:web issuer's signing key (old methods stay in the document)",
                {
                    "201": "Rotated: {id, verificationMethod, signingMethod, didDocument}",
                    "200": "A retry with the same Idempotency-Key: the first rotation",
                    "404": "No such issuer for this tenant",
                    "409": "A did:key identity cannot rotate",
                    "503": "Rebuilding state from Kafka; retry",
                },
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/issuers/{did}/keys/{method}/compromise": {
            "post": operation(
                "Mark a verification method compromised since compromisedAt (rotates "
                "first when it is the current key)",
                {
                    "200": "{id, verificationMethod, compromisedAt, signingMethod, didDocument}",
                    "404": "No such issuer or method for this tenant",
                    "409": "did:key identity, or the method is already marked compromised",
                    "422": "compromisedAt missing, without offset, or in the future",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=CompromiseIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/pathway-awards/find": {
            "post": operation(
                "The credential a learner's completed pathway was awarded with (stacked"
                " by the issuer itself, exactly once)",
                {
                    "200": "{credentialId, jwt, credential, claimUrl...} as GET /credentials/{id}",
                    "404": "No such pathway for this tenant, or not completed (yet): not-stacked",
                    "422": "Invalid recipient",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=StackedAwardIn,
                secured=True,
            )
        },
        "/awards": {
            "post": operation(
                "Award a micro-credential for a passed assessment",
                {
                    "201": "Issued: {credentialId, jwt, credential}",
                    "200": "A retry with the same Idempotency-Key: the first credential",
                    "404": "No such achievement for this tenant",
                    "409": "The achievement is retired or unusable, or its issuer cannot sign",
                    "422": "Score below the mastery threshold, invalid input (evidence too),"
                    " a reused key, or what the provider's policy profile needs at award"
                    " time (profile-requirements-unmet, e.g. evidence)",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=AwardIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/attempts": {
            "post": operation(
                "Record a formative assessment's result: never issued; says whether it "
                "would have met the mastery threshold (the body of POST /awards, no renews)",
                {
                    "201": _ATTEMPT,
                    "200": "A retry with the same Idempotency-Key: the first attempt",
                    "404": "No such achievement for this tenant",
                    "422": "Invalid input (score, recipient, assessedAt, evidence, renews)"
                    ", a reused key",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=AwardIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/attempts/search": {
            "post": operation(
                "The tenant's attempts, newest first: formative ones and refused awards "
                "(from POST /awards, bulk rows, issuer.assessments, the VC-API) with why; "
                "by learner (id, email or student number), achievement, kind; paginated",
                {"200": f"{{items: [{_ATTEMPT}], nextCursor}}", "422": "A field names it"},
                body=AttemptQuery,
                secured=True,
            )
        },
        "/endorsements": {
            "post": operation(
                "An endorser (MICROCRED_ENDORSER_TOKENS) endorses an achievement: an OB 3.0 "
                "EndorsementCredential signed by the endorser's DID, carried by the "
                "achievement and every credential awarding it from now on",
                {
                    "201": "Endorsed: {id, achievementId, endorser, credential, jwt}",
                    "200": "A retry with the same Idempotency-Key: the first endorsement",
                    "401": "No or unknown token",
                    "403": "Not an endorser's token (tenants and the operator cannot endorse)",
                    "404": "No such active achievement",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=EndorsementIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/endorsements/{endorsement_id}": {
            "delete": operation(
                "The endorser withdraws its own endorsement: no longer shown with the "
                "achievement nor put in new credentials (the verifier says `withdrawn`)",
                {
                    "200": "{id, status: withdrawn} (also for a repeated withdrawal)",
                    "403": "Not an endorser's token",
                    "404": "No such endorsement of this endorser",
                    "503": "Rebuilding state from Kafka; retry",
                },
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/credentials/issue": {
            "post": operation(
                "VC-API Issue Credential (VCALM): sign a VC 2.0 or 1.1 credential of one of "
                "the tenant's issuers; an Open Badge of one of our achievements is an award "
                "(options.assessment, the mastery gate), any other type needs the operator's "
                "generic-issuance flag on the issuer's provider",
                {
                    "201": "{verifiableCredential}",
                    "400": "Malformed body",
                    "403": "The issuer's provider is not enabled for generic issuance",
                    "404": "No such issuer for this tenant",
                    "409": "A credential with this id was issued already",
                    "422": "Not a conforming unsigned credential, or below the threshold",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=IssueCredentialIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/credentials/{credential_id}": {
            "get": operation(
                "An issued credential",
                {
                    "200": "{credentialId, jwt, credential, claimUrl, downloads}",
                    "404": "Unknown",
                },
                secured=True,
            )
        },
        "/trust-list": {
            "get": operation(
                "The registry as a trust list signed by the platform operator's DID: compact"
                " JWS (application/jwt) over a MicrocredTrustList v1 payload; ETag, Cache-Control",
                {"200": "The JWS", "304": "Not modified", "503": "Rebuilding"},
            )
        },
        "/trust-list.json": {
            "get": operation(
                "The trust list's payload, unsigned, for reading; ETag, Cache-Control",
                {"200": "MicrocredTrustList v1", "304": "Not modified"},
            )
        },
        **LEARNER_PATHS,
        "/registry/search": {
            "post": operation(
                "Registrar search: the tenant's credentials by learner (id, email or student"
                " number, matched through a keyed fingerprint), achievement, revision, issue"
                " dates, status; paginated",
                {"200": "{items: [...], nextCursor}", "422": "A field names what is wrong"},
                body=SearchIn,
                secured=True,
            )
        },
        "/registry/export": {
            "post": operation(
                "Every match of a registrar search, streamed as CSV or JSON Lines (`format`)",
                {"200": "text/csv or application/jsonl", "422": "A field names what is wrong"},
                body=SearchIn,
                secured=True,
            )
        },
        "/webhooks": {
            "post": operation(
                "Subscribe a URL to the tenant's events (signed with the secret answered once)",
                {
                    "201": "{id, url, events, status, createdAt, secret}",
                    "422": "Not an https URL, or an unknown event type",
                },
                body=WebhookIn,
                secured=True,
            ),
            "get": operation("The tenant's webhooks", {"200": "{items: [...]}"}, secured=True),
        },
        "/webhooks/{webhook_id}": {
            "delete": operation(
                "Unsubscribe", {"200": "The webhook, deleted", "404": "Unknown"}, secured=True
            )
        },
        "/webhook-deliveries": {
            "get": operation(
                "The tenant's delivery log (newest first)", {"200": "{items}"}, secured=True
            )
        },
        "/webhook-dead-letters": {
            "get": operation(
                "Deliveries that ran out of attempts, with their bodies",
                {"200": "{items}"},
                secured=True,
            )
        },
        "/reports/expiring": {
            "get": operation(
                "Credentials expiring in the next `days` days (query, 1-3660, default 30),"
                " per achievement",
                {"200": "{days, until, achievements: [{achievementId, count, credentials}]}"},
                secured=True,
            )
        },
        **BULK_PATHS,
    },
    bodies=(
        IssuerIn,
        AwardIn,
        CompromiseIn,
        EndorsementIn,
        IssueCredentialIn,
        StackedAwardIn,
        SearchIn,
        AttemptQuery,
        WebhookIn,
    ),
)
