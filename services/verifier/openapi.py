"""The verifier's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

from services.verifier.presentations import VerifyPresentationIn
from services.verifier.routes import VerifyCredentialIn
from shared.web.openapi import document, operation

OPENAPI = document(
    "microcred verifier",
    {
        "/credentials/verify": {
            "post": operation(
                "VC-API: verify a credential (JSON with a proof, a VC-JWT, or enveloped)",
                {
                    "200": "Verified: {verified: true, verdict, problemDetails, warnings, results}",
                    "400": "Not verified: the same body with verified: false",
                    "422": "Malformed request",
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
                    "422": "Malformed request, or more than 100 credentials",
                },
                body=VerifyPresentationIn,
            )
        },
    },
    bodies=(VerifyCredentialIn, VerifyPresentationIn),
)
