"""The verifier's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

from services.verifier.presentations import VerifyPresentationIn
from services.verifier.routes import VerifyCredentialIn
from shared.web.openapi import SCHEMA_REF, document, operation

_TEXT = {"schema": {"type": "string"}}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# POST /credentials/verify reads more than the VC-API body (intake.py).
VERIFY_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": SCHEMA_REF.format(name="VerifyCredentialIn")},
                    {
                        "type": "object",
                        "description": "The credential itself (with @context)",
                        "required": ["@context"],
                    },
                    {
                        "type": "object",
                        "description": "A credential URL, fetched behind the SSRF guard",
                        "required": ["url"],
                        "properties": {"url": {"type": "string"}, "options": {"type": "object"}},
                    },
                ]
            }
        },
        "application/vc": {"schema": {"type": "object"}},
        "application/vc+jwt": _TEXT,
        "application/jwt": _TEXT,
        "text/plain": {
            "schema": {"type": "string", "description": "A compact JWT or an https URL"}
        },
        "image/png": _BINARY,
        "image/svg+xml": _BINARY,
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "credential": {"type": "string"},
                    "recipient": {"type": "string"},
                },
            }
        },
    },
}
_LINES = {"schema": {"type": "string", "description": "JSON Lines"}}
BATCH_BODY = {
    "required": True,
    "content": {"application/x-ndjson": _LINES, "application/jsonl": _LINES},
}

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
                "VC-API: verify a credential: the VC-API body, the credential as JSON, "
                "a VC-JWT, a URL, or a baked PNG/SVG badge",
                {
                    "200": "Verified: {verified: true, verdict, state, stateDetails, credential"
                    " (summary), problemDetails, warnings, results}",
                    "400": "Not verified: the same body with verified: false",
                    "413": "Body over the size limit",
                    "415": "A media type not read here",
                    "422": "Unreadable content, a URL the SSRF guard refused or that failed,"
                    " or over a work limit (limit-exceeded, names it)",
                    **LIMIT_ANSWERS,
                },
                requestBody=VERIFY_BODY,
            )
        },
        "/credentials/verify/batch": {
            "post": operation(
                "Verify up to MICROCRED_BATCH_MAX_ITEMS items (JSON Lines: credentials, JWT "
                "or URL strings, {image: base64}, optionally {id, options, ...}); answers "
                "JSON Lines streamed as items complete",
                {
                    "200": "One line per item: {index, id?, report} or {index, id?, error}",
                    "413": "Over MICROCRED_BATCH_MAX_BYTES or MICROCRED_BATCH_MAX_ITEMS",
                    "415": "Not application/x-ndjson or application/jsonl",
                    "422": "No lines",
                },
                requestBody=BATCH_BODY,
            )
        },
        "/presentations/verify": {
            "post": operation(
                "VC-API: verify a presentation (Data Integrity, VP-JWT or enveloped VP-JWT) "
                "and every credential in it",
                {
                    "200": "Verified: {verified: true, problemDetails: [], results: {presentation:"
                    " {proof, challenge, domain, holder}, credentials: [each as"
                    " /credentials/verify answers], stacking: [{pathway, name, achievement,"
                    " learner, credentials}]: the pathways the verified credentials of one"
                    " learner complete (informational)}}",
                    "400": "Not verified: the same body with verified: false",
                    "422": "Malformed request, more than 100 credentials, or over a work limit",
                    **LIMIT_ANSWERS,
                },
                body=VerifyPresentationIn,
            )
        },
        "/": {
            "get": operation(
                "The verification page (HTML): paste, upload or link a credential",
                {"200": "text/html: the form, in English or French (Accept-Language, ?lang=)"},
            ),
            "post": operation(
                "The verification page's form (multipart/form-data or urlencoded: credential, "
                "file, url, recipient): the result page, or the report as JSON when "
                "Accept prefers application/json",
                {
                    "200": "text/html: the result page; or the report as /credentials/verify "
                    "answers it",
                    "413": "The form is over the body limit",
                    "422": "Nothing readable was sent, or the link was refused (the form again "
                    "with the reason, or problem+json)",
                },
            ),
        },
        "/static/{name}": {
            "get": operation(
                "The page's stylesheet and drag-and-drop script",
                {"200": "text/css or text/javascript", "404": "No such file"},
            )
        },
        "/s/{share_id}": {
            "get": operation(
                "A learner's published credential with a live verification report "
                "(re-verified on every view): the share page (HTML, with Open Graph and "
                "Twitter card tags) unless Accept prefers application/json",
                {
                    "200": "text/html: the share page; or JSON {shareId, url, credentialId, "
                    "title, provider, learner, credential, "
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
