"""The issuer's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.issuer.domain.awarding import AwardIn
from services.issuer.domain.webhook_events import WebhookIn
from services.issuer.endorsing import EndorsementIn
from services.issuer.identities import IssuerIn
from services.issuer.registry import SearchIn
from services.issuer.rotation import CompromiseIn
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
    },
    bodies=(IssuerIn, AwardIn, CompromiseIn, EndorsementIn, SearchIn, WebhookIn),
)
