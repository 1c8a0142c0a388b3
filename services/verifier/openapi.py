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
        "/s/{share_id}": {
            "get": operation(
                "A learner's published credential with a live verification report "
                "(re-verified on every view)",
                {
                    "200": "{shareId, url, credentialId, title, provider, learner, credential, "
                    "jwt, verification (as /credentials/verify answers), badge: {png, svg}, "
                    "linkedin, certificate}",
                    "404": "Unknown share link",
                    "410": "Unpublished by the learner (share-unpublished)",
                    "503": "The shares replica is rebuilding",
                },
            )
        },
        "/s/{share_id}/badge.png": {
            "get": operation(
                "The shared badge, PNG, VC-JWT baked in (OB 3.0 §5.3)",
                {"200": "image/png", "404": "Unknown", "410": "Unpublished"},
            )
        },
        "/s/{share_id}/badge.svg": {
            "get": operation(
                "The shared badge, SVG, VC-JWT baked in (OB 3.0 §5.3)",
                {"200": "image/svg+xml", "404": "Unknown", "410": "Unpublished"},
            )
        },
        "/s/{share_id}/certificate.pdf": {
            "get": operation(
                "The printable certificate with a QR code to the share link",
                {"200": "application/pdf", "404": "Unknown", "410": "Unpublished"},
            )
        },
    },
    bodies=(VerifyCredentialIn, VerifyPresentationIn),
)
