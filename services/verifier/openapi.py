"""The verifier's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

from services.verifier.presentations import VerifyPresentationIn
from services.verifier.routes import VerifyCredentialIn
from shared.web.openapi import document, operation

# docs/api.md, "Limits of the public verifier"
LIMIT_ANSWERS = {
    "401": "Unknown X-API-Key",
    "429": "Over the rate limit: Retry-After, RateLimit-Policy, RateLimit",
    "503": "Over the request deadline (deadline-exceeded), or not ready",
}

OPENAPI = document(
    "microcred verifier",
    {
        "/credentials/verify": {
            "post": operation(
                "VC-API: verify a credential (JSON with a proof, a VC-JWT, or enveloped)",
                {
                    "200": "Verified: {verified: true, verdict, problemDetails, warnings, results}",
                    "400": "Not verified: the same body with verified: false",
                    "422": "Malformed request, or over a work limit (limit-exceeded, names it)",
                    **LIMIT_ANSWERS,
                },
                body=VerifyCredentialIn,
            )
        },
        "/presentations/verify": {
            "post": operation(
                "VC-API: verify a presentation (Data Integrity, VP-JWT or enveloped VP-JWT) "
                "and every credential in it",
                {
                    "200": "Verified: {verified: true, problemDetails: [], results: {presentation:"
                    " {proof, challenge, domain, holder}, credentials: [each as"
                    " /credentials/verify answers]}}",
                    "400": "Not verified: the same body with verified: false",
                    "422": "Malformed request, more than 100 credentials, or over a work limit",
                    **LIMIT_ANSWERS,
                },
                body=VerifyPresentationIn,
            )
        },
    },
    bodies=(VerifyCredentialIn, VerifyPresentationIn),
)
