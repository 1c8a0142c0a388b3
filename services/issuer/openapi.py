"""The issuer's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.issuer.domain.awarding import AwardIn
from services.issuer.domain.vc_input import IssueCredentialIn
from services.issuer.endorsing import EndorsementIn
from services.issuer.identities import IssuerIn
from services.issuer.rotation import CompromiseIn
from shared.web.openapi import document, operation

IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}

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
                    "422": "Score below the mastery threshold, invalid input, or a reused key",
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
                {"200": "{credentialId, jwt, credential}", "404": "Unknown"},
                secured=True,
            )
        },
    },
    bodies=(IssuerIn, AwardIn, CompromiseIn, EndorsementIn, IssueCredentialIn),
)
